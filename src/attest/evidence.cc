#include "src/attest/evidence.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "security/attest/wire.h"
#include "security/crypto/secret_bytes.h"

namespace virtengine::attestation {
namespace {

constexpr std::string_view kDomain = "virtengine/attest/v1";

absl::Status Invalid(std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("evidence: ", std::string(what)));
}

bool KnownPurpose(std::string_view p) {
  return p == kPurposeJoin || p == kPurposeQuote || p == kPurposeEvidence;
}

crypto::ByteView View(const std::string& s) { return crypto::AsBytes(s); }

}  // namespace

absl::StatusOr<crypto::Digest32> BindingDigest(
    std::string_view purpose, crypto::ByteView nonce,
    crypto::ByteView node_public_key, crypto::ByteView ek_certificate) {
  if (!KnownPurpose(purpose)) {
    return Invalid(
        absl::StrCat("unknown purpose \"", std::string(purpose), "\""));
  }
  if (nonce.empty() || nonce.size() > kMaxNonceBytes) {
    return Invalid(absl::StrCat("nonce is ", nonce.size(), " bytes, not 1..",
                                kMaxNonceBytes));
  }
  absl::StatusOr<crypto::Digest32> key_hash = crypto::Sha256(
      ::virtengine::security::crypto::v1::CONTENT_HASH, node_public_key);
  if (!key_hash.ok()) return key_hash.status();
  absl::StatusOr<crypto::Digest32> cert_hash = crypto::Sha256(
      ::virtengine::security::crypto::v1::CONTENT_HASH, ek_certificate);
  if (!cert_hash.ok()) return cert_hash.status();
  crypto::Bytes buf(kDomain.begin(), kDomain.end());
  buf.push_back(0);
  buf.push_back(static_cast<uint8_t>(purpose.size()));
  buf.insert(buf.end(), purpose.begin(), purpose.end());
  buf.push_back(static_cast<uint8_t>(nonce.size()));
  buf.insert(buf.end(), nonce.begin(), nonce.end());
  buf.insert(buf.end(), key_hash->begin(), key_hash->end());
  buf.insert(buf.end(), cert_hash->begin(), cert_hash->end());
  return crypto::Sha256(::virtengine::security::crypto::v1::CONTENT_HASH, buf);
}

absl::Status ValidateEvidence(const v1::Evidence& e) {
  if (!KnownPurpose(e.purpose())) return Invalid("unknown purpose");
  if (e.nonce().empty() || e.nonce().size() > kMaxNonceBytes) {
    return Invalid(absl::StrCat("nonce is ", e.nonce().size(),
                                " bytes, not 1..", kMaxNonceBytes));
  }
  if (e.node_public_key().size() != 32) {
    return Invalid("node_public_key is not 32 bytes");
  }
  if (e.ak_public().empty() || e.ak_public().size() > attest::kMaxPublicBytes) {
    return Invalid("ak_public is empty or too large");
  }
  if (e.quote_attest().empty() ||
      e.quote_attest().size() > attest::kMaxAttestBytes) {
    return Invalid("quote_attest is empty or too large");
  }
  if (e.quote_signature().empty() ||
      e.quote_signature().size() > attest::kMaxSignatureBytes) {
    return Invalid("quote_signature is empty or too large");
  }
  if (e.pcrs().empty() ||
      static_cast<size_t>(e.pcrs_size()) > attest::kNumPcrs) {
    return Invalid("pcrs must hold 1..24 values");
  }
  for (int i = 0; i < e.pcrs_size(); ++i) {
    const v1::PcrValue& p = e.pcrs(i);
    if (p.pcr() >= attest::kNumPcrs ||
        (i > 0 && p.pcr() <= e.pcrs(i - 1).pcr())) {
      return Invalid(absl::StrCat("pcrs[", i, "]: PCR ", p.pcr(),
                                  " out of range or order"));
    }
    if (p.sha256().size() != 32) {
      return Invalid(absl::StrCat("pcrs[", i, "]: value is not 32 bytes"));
    }
  }
  if (e.ek_certificate().size() > kMaxEkCertificateBytes) {
    return Invalid("ek_certificate too large");
  }
  if (e.event_log().size() > kMaxEventLogBytes) {
    return Invalid("event_log too large");
  }
  return absl::OkStatus();
}

absl::StatusOr<VerifiedEvidence> VerifyEvidence(
    const v1::Evidence& e, std::string_view purpose,
    crypto::ByteView expected_nonce,
    const std::vector<attest::Measurement>& allowlist) {
  if (absl::Status s = ValidateEvidence(e); !s.ok()) return s;
  if (e.purpose() != purpose) {
    return absl::UnauthenticatedError(
        absl::StrCat("evidence: purpose \"", e.purpose(), "\", expected \"",
                     std::string(purpose), "\""));
  }
  if (!crypto::ConstantTimeEquals(View(e.nonce()), expected_nonce)) {
    return absl::UnauthenticatedError("evidence: nonce mismatch");
  }
  absl::StatusOr<crypto::Digest32> binding =
      BindingDigest(e.purpose(), View(e.nonce()), View(e.node_public_key()),
                    View(e.ek_certificate()));
  if (!binding.ok()) return binding.status();
  absl::StatusOr<attest::AkPublic> ak =
      attest::ParseAkPublic(View(e.ak_public()));
  if (!ak.ok()) return ak.status();
  attest::QuoteEvidence q;
  q.attest.assign(e.quote_attest().begin(), e.quote_attest().end());
  q.signature.assign(e.quote_signature().begin(), e.quote_signature().end());
  for (const v1::PcrValue& p : e.pcrs()) {
    crypto::Digest32 d{};
    std::copy(p.sha256().begin(), p.sha256().end(), d.begin());
    q.pcr_values[p.pcr()] = d;
  }
  if (!e.event_log().empty()) {
    q.event_log.emplace(e.event_log().begin(), e.event_log().end());
  }
  absl::StatusOr<attest::VerifiedQuote> v =
      attest::VerifyQuote(*ak, q, *binding, allowlist);
  if (!v.ok()) return v.status();
  VerifiedEvidence out;
  out.quote = *std::move(v);
  absl::StatusOr<crypto::Digest32> name = crypto::Sha256(
      ::virtengine::security::crypto::v1::CONTENT_HASH, ak->name);
  if (!name.ok()) return name.status();
  out.ak_name_digest = *name;
  return out;
}

}  // namespace virtengine::attestation
