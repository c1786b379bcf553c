// The pure quote verifier: no TPM, no TSS. Given an attestation key's public
// area, a quote (TPMS_ATTEST + TPMT_SIGNATURE bytes), the PCR values read
// with it, optionally the VirtEngine event log, the nonce the verifier
// expects and the measurement allowlist, it decides whether the quote proves
// an allowlisted appliance state. Every refusal has its own message (the
// table is in docs/security/tpm.md):
//
//   InvalidArgument     "quote: ..." / "signature: ..." (malformed input),
//                       "event log: ..." (malformed log),
//                       "quote selects no SHA-256 PCRs" / "... other banks",
//                       "pcr values do not match the quoted selection: ..."
//   Unauthenticated     "signature invalid", "nonce mismatch",
//                       "pcr digest mismatch",
//                       "event log does not replay to PCR N",
//                       "event log covers PCR N, which the quote does not
//                        select"
//   PermissionDenied    "measurement not allowlisted",
//                       "measurement retired: NAME VERSION"
//
// VerifyChallengedQuote first consumes the challenge (ChallengeRegistry:
// "unknown challenge", "challenge replayed", "challenge expired"), then
// verifies the quote against that nonce.
#ifndef VIRTENGINE_SECURITY_ATTEST_VERIFIER_H_
#define VIRTENGINE_SECURITY_ATTEST_VERIFIER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/attest/challenge.h"
#include "security/attest/wire.h"
#include "security/crypto/bytes.h"
#include "security/crypto/hash.h"

namespace virtengine::attest {

using PcrValues = std::map<uint32_t, crypto::Digest32>;

// One allowlisted (governance-approved) appliance measurement: the SHA-256
// PCR values a genuine appliance of this version reports.
struct Measurement {
  std::string name;
  std::string version;
  PcrValues pcrs;  // at least one PCR, indices < 24
  bool retired = false;
};

// OK when every entry has a name, a version and 1..24 PCRs below 24.
absl::Status ValidateAllowlist(const std::vector<Measurement>& allowlist);

struct QuoteEvidence {
  crypto::Bytes attest;     // TPMS_ATTEST
  crypto::Bytes signature;  // TPMT_SIGNATURE
  PcrValues pcr_values;     // the quoted SHA-256 PCRs, as read with the quote
  std::optional<crypto::Bytes> event_log;
};

struct VerifiedQuote {
  QuoteAttest attest;
  PcrValues pcrs;
  std::string measurement_name;
  std::string measurement_version;
  size_t event_count = 0;  // records in the event log (0 without one)
};

// The SHA-256 over the PCR values in ascending PCR order (the TPM's
// pcrDigest for a single SHA-256 bank).
absl::StatusOr<crypto::Digest32> PcrCompositeDigest(const PcrValues& values);

absl::StatusOr<VerifiedQuote> VerifyQuote(
    const AkPublic& ak, const QuoteEvidence& evidence,
    crypto::ByteView expected_nonce, const std::vector<Measurement>& allowlist);

absl::StatusOr<VerifiedQuote> VerifyChallengedQuote(
    ChallengeRegistry& registry, crypto::ByteView challenge_nonce,
    const AkPublic& ak, const QuoteEvidence& evidence,
    const std::vector<Measurement>& allowlist);

}  // namespace virtengine::attest

#endif  // VIRTENGINE_SECURITY_ATTEST_VERIFIER_H_
