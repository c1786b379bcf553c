// Fuzzes the crypto policy parser: arbitrary text must either be refused
// with InvalidArgument or yield a policy that is self-consistent: parsing the
// same text again gives the same hash, and every allowed (purpose, algorithm)
// pair is of a kind the implementation supports.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "security/crypto/policy.h"

namespace v1 = ::virtengine::security::crypto::v1;
using virtengine::crypto::CryptoPolicy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<CryptoPolicy> p = CryptoPolicy::Parse(text);
  if (!p.ok()) {
    if (p.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  absl::StatusOr<CryptoPolicy> again = CryptoPolicy::Parse(text);
  if (!again.ok() || again->sha256_hex() != p->sha256_hex()) std::abort();
  // Forbidden algorithms are never allowed, whatever the rules say.
  for (int purpose = v1::Purpose_MIN; purpose <= v1::Purpose_MAX; ++purpose) {
    if (!v1::Purpose_IsValid(purpose)) continue;
    for (auto alg : {v1::MD5, v1::SHA1, v1::RSA_PKCS1V15}) {
      if (p->Check(static_cast<v1::Purpose>(purpose), alg).ok()) std::abort();
    }
    // HMAC-SHA1 only ever for TOTP.
    if (purpose != v1::MFA_TOTP &&
        p->Check(static_cast<v1::Purpose>(purpose), v1::HMAC_SHA1).ok()) {
      std::abort();
    }
  }
  if (p->min_hmac_key_bytes() < 16) std::abort();
  return 0;
}
