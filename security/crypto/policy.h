#ifndef VIRTENGINE_SECURITY_CRYPTO_POLICY_H_
#define VIRTENGINE_SECURITY_CRYPTO_POLICY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/crypto/crypto_policy.pb.h"

namespace virtengine::crypto {

using Algorithm = ::virtengine::security::crypto::v1::Algorithm;
using Purpose = ::virtengine::security::crypto::v1::Purpose;

std::string AlgorithmName(Algorithm a);
std::string PurposeName(Purpose p);

// A validated crypto policy (policy/crypto/*.textproto, schema
// crypto_policy.proto, documented in docs/security/crypto.md).
class CryptoPolicy {
 public:
  static constexpr size_t kMaxPolicyBytes = 64 * 1024;

  // Parses and validates policy text. Refuses: oversize input, syntax errors,
  // unknown names, version != 1, duplicate or unspecified purposes, an
  // algorithm of the wrong kind for its purpose, an allowed algorithm that
  // is also forbidden or not implemented, HMAC-SHA1 outside MFA_TOTP, weak
  // minimums.
  static absl::StatusOr<CryptoPolicy> Parse(std::string_view text);

  // The policy shipped in policy/crypto/crypto_policy.textproto, compiled in.
  static const CryptoPolicy& Embedded();

  // OK when `algorithm` may be used for `purpose`; otherwise
  // PermissionDenied naming both.
  absl::Status Check(Purpose purpose, Algorithm algorithm) const;

  uint32_t min_hmac_key_bytes() const { return min_hmac_key_bytes_; }
  uint32_t min_hkdf_ikm_bytes() const { return min_hkdf_ikm_bytes_; }
  uint64_t argon2_min_ops() const { return argon2_min_ops_; }
  uint64_t argon2_min_mem_bytes() const { return argon2_min_mem_; }

  // Lowercase hex SHA-256 of the exact policy text (compliance evidence).
  const std::string& sha256_hex() const { return sha256_hex_; }

 private:
  CryptoPolicy() = default;

  std::map<int, std::set<int>> allowed_;  // purpose -> algorithms
  std::set<int> forbidden_;
  uint32_t min_hmac_key_bytes_ = 0;
  uint32_t min_hkdf_ikm_bytes_ = 0;
  uint64_t argon2_min_ops_ = 0;
  uint64_t argon2_min_mem_ = 0;
  std::string sha256_hex_;
};

// The policy every primitive checks against. Until InstallPolicy is called it
// is CryptoPolicy::Embedded().
std::shared_ptr<const CryptoPolicy> ActivePolicy();

// Replaces the active policy (daemons call this once at start-up with the
// policy file read through security/path).
void InstallPolicy(const CryptoPolicy& policy);

// ActivePolicy()->Check(purpose, algorithm).
absl::Status CheckAllowed(Purpose purpose, Algorithm algorithm);

}  // namespace virtengine::crypto

#endif  // VIRTENGINE_SECURITY_CRYPTO_POLICY_H_
