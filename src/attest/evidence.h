// Attestation evidence as the product exchanges it (src/api/attest/v1):
// a TPM quote whose qualifying data binds the prover's Ed25519 node key, a
// purpose and the verifier's nonce. Verification is pure (security/attest);
// collecting needs a TPM (collect.h). Format and refusal reasons:
// docs/security/attestation.md.
#ifndef VIRTENGINE_SRC_ATTEST_EVIDENCE_H_
#define VIRTENGINE_SRC_ATTEST_EVIDENCE_H_

#include <cstddef>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/attest/verifier.h"
#include "security/crypto/bytes.h"
#include "security/crypto/hash.h"
#include "src/api/attest/v1/attest.pb.h"

namespace virtengine::attestation {

namespace v1 = ::virtengine::attest::v1;

// Purposes: a node joining a cluster; an ad-hoc quote (vectl attest quote);
// a compliance evidence bundle (nonce = the bundle digest).
inline constexpr std::string_view kPurposeJoin = "join";
inline constexpr std::string_view kPurposeQuote = "quote";
inline constexpr std::string_view kPurposeEvidence = "evidence";

inline constexpr size_t kMaxNonceBytes = 64;
inline constexpr size_t kMaxEkCertificateBytes = 4096;
inline constexpr size_t kMaxEventLogBytes = size_t{64} * 1024;

// SHA-256("virtengine/attest/v1" 0x00 | u8 len | purpose | u8 len | nonce |
// SHA-256(node_public_key) | SHA-256(ek_certificate)): the quote's
// qualifying data. INVALID_ARGUMENT for an unknown purpose or a nonce that
// is empty or over 64 bytes.
absl::StatusOr<crypto::Digest32> BindingDigest(std::string_view purpose,
                                               crypto::ByteView nonce,
                                               crypto::ByteView node_public_key,
                                               crypto::ByteView ek_certificate);

// Sizes and shapes only (INVALID_ARGUMENT "evidence: <field> ..."): a known
// purpose, nonce 1..64 bytes, a 32-byte node key, AK/quote/signature within
// the wire limits, 1..24 PCRs ascending below 24 with 32-byte values, EK
// certificate and event log within their limits.
absl::Status ValidateEvidence(const v1::Evidence& evidence);

struct VerifiedEvidence {
  attest::VerifiedQuote quote;
  crypto::Digest32 ak_name_digest{};  // SHA-256 of the AK's TPM name
};

// Everything: shape, purpose == `purpose`, nonce == `expected_nonce`
// (UNAUTHENTICATED "evidence: nonce mismatch" / "evidence: purpose ..."),
// the AK public area, then attest::VerifyQuote with the binding digest as
// the expected qualifying data (so a quote for another node key, purpose or
// EK certificate fails as "nonce mismatch") against `allowlist`.
absl::StatusOr<VerifiedEvidence> VerifyEvidence(
    const v1::Evidence& evidence, std::string_view purpose,
    crypto::ByteView expected_nonce,
    const std::vector<attest::Measurement>& allowlist);

}  // namespace virtengine::attestation

#endif  // VIRTENGINE_SRC_ATTEST_EVIDENCE_H_
