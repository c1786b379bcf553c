#include "security/attest/verifier.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "security/attest/event_log.h"
#include "security/crypto/ecdsa.h"
#include "security/crypto/secret_bytes.h"

namespace virtengine::attest {

namespace v1 = ::virtengine::security::crypto::v1;

namespace {

absl::Status Prefixed(const char* prefix, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat(prefix, s.message()));
}

}  // namespace

absl::Status ValidateAllowlist(const std::vector<Measurement>& allowlist) {
  for (size_t i = 0; i < allowlist.size(); ++i) {
    const Measurement& m = allowlist[i];
    if (m.name.empty() || m.version.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("allowlist entry ", i, " has no name or version"));
    }
    if (m.pcrs.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("allowlist entry ", i, " (", m.name, " ", m.version,
                       ") lists no PCRs"));
    }
    if (m.pcrs.rbegin()->first >= kNumPcrs) {
      return absl::InvalidArgumentError(
          absl::StrCat("allowlist entry ", i, " (", m.name, " ", m.version,
                       ") names PCR ", m.pcrs.rbegin()->first));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<crypto::Digest32> PcrCompositeDigest(const PcrValues& values) {
  crypto::Bytes buf;
  for (const auto& [index, value] : values) {
    buf.insert(buf.end(), value.begin(), value.end());
  }
  return crypto::Sha256(v1::CONTENT_HASH, buf);
}

absl::StatusOr<VerifiedQuote> VerifyQuote(
    const AkPublic& ak, const QuoteEvidence& evidence,
    crypto::ByteView expected_nonce,
    const std::vector<Measurement>& allowlist) {
  if (absl::Status s = ValidateAllowlist(allowlist); !s.ok()) return s;
  absl::StatusOr<QuoteAttest> attest = ParseQuoteAttest(evidence.attest);
  if (!attest.ok()) return Prefixed("quote: ", attest.status());
  absl::StatusOr<EcdsaSignature> sig = ParseSignature(evidence.signature);
  if (!sig.ok()) return Prefixed("signature: ", sig.status());
  absl::StatusOr<crypto::Bytes> der = SignatureToDer(*sig);
  if (!der.ok()) return Prefixed("signature: ", der.status());

  // 1. The AK signed exactly these attest bytes.
  absl::Status verified = crypto::VerifyEcdsaP256Sha256(
      v1::TPM_ATTESTATION, ak.sec1_point, evidence.attest, *der);
  if (verified.code() == absl::StatusCode::kPermissionDenied) return verified;
  if (!verified.ok()) return absl::UnauthenticatedError("signature invalid");

  // 2. Freshness: the qualifying data is the verifier's nonce.
  if (!crypto::ConstantTimeEquals(attest->extra_data, expected_nonce)) {
    return absl::UnauthenticatedError("nonce mismatch");
  }

  // 3. The quoted selection is one SHA-256 bank, and the supplied values
  // are exactly those PCRs.
  if (attest->pcr_select.size() != 1 ||
      attest->pcr_select[0].hash != kTpmAlgSha256) {
    return absl::InvalidArgumentError(
        "quote must select exactly one bank, SHA-256 (0x000b)");
  }
  const std::vector<uint32_t> selected = attest->pcr_select[0].Pcrs();
  if (selected.empty()) {
    return absl::InvalidArgumentError("quote selects no SHA-256 PCRs");
  }
  for (uint32_t p : selected) {
    if (evidence.pcr_values.count(p) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "pcr values do not match the quoted selection: PCR ", p, " missing"));
    }
  }
  if (evidence.pcr_values.size() != selected.size()) {
    for (const auto& [p, v] : evidence.pcr_values) {
      if (std::find(selected.begin(), selected.end(), p) == selected.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat("pcr values do not match the quoted selection: PCR ",
                         p, " not quoted"));
      }
    }
  }

  // 4. The values are the ones the TPM digested.
  absl::StatusOr<crypto::Digest32> composite =
      PcrCompositeDigest(evidence.pcr_values);
  if (!composite.ok()) return composite.status();
  if (!crypto::ConstantTimeEquals(*composite, attest->pcr_digest)) {
    return absl::UnauthenticatedError("pcr digest mismatch");
  }

  VerifiedQuote out;
  // 5. The event log, when given, replays exactly to the quoted PCRs.
  if (evidence.event_log.has_value()) {
    absl::StatusOr<std::vector<MeasurementEvent>> events =
        ParseEventLog(*evidence.event_log);
    if (!events.ok()) return events.status();
    absl::StatusOr<std::map<uint32_t, crypto::Digest32>> replay =
        ReplayEventLog(*events);
    if (!replay.ok()) return replay.status();
    std::set<uint32_t> touched;
    for (const MeasurementEvent& e : *events) touched.insert(e.pcr);
    for (const auto& [pcr, value] : *replay) {
      auto it = evidence.pcr_values.find(pcr);
      if (it == evidence.pcr_values.end()) {
        if (touched.count(pcr) != 0) {
          return absl::UnauthenticatedError(
              absl::StrCat("event log covers PCR ", pcr,
                           ", which the quote does not select"));
        }
        continue;
      }
      if (it->second != value) {
        return absl::UnauthenticatedError(
            absl::StrCat("event log does not replay to PCR ", pcr));
      }
    }
    out.event_count = events->size();
  }

  // 6. The values are an allowlisted, current measurement.
  const Measurement* retired = nullptr;
  const Measurement* match = nullptr;
  for (const Measurement& m : allowlist) {
    bool all = true;
    for (const auto& [pcr, value] : m.pcrs) {
      auto it = evidence.pcr_values.find(pcr);
      if (it == evidence.pcr_values.end() || it->second != value) {
        all = false;
        break;
      }
    }
    if (!all) continue;
    if (m.retired) {
      if (retired == nullptr) retired = &m;
      continue;
    }
    match = &m;
    break;
  }
  if (match == nullptr) {
    if (retired != nullptr) {
      return absl::PermissionDeniedError(absl::StrCat(
          "measurement retired: ", retired->name, " ", retired->version));
    }
    return absl::PermissionDeniedError("measurement not allowlisted");
  }
  out.measurement_name = match->name;
  out.measurement_version = match->version;
  out.pcrs = evidence.pcr_values;
  out.attest = *std::move(attest);
  return out;
}

absl::StatusOr<VerifiedQuote> VerifyChallengedQuote(
    ChallengeRegistry& registry, crypto::ByteView challenge_nonce,
    const AkPublic& ak, const QuoteEvidence& evidence,
    const std::vector<Measurement>& allowlist) {
  if (absl::Status s = registry.Consume(challenge_nonce); !s.ok()) return s;
  return VerifyQuote(ak, evidence, challenge_nonce, allowlist);
}

}  // namespace virtengine::attest
