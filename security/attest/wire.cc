#include "security/attest/wire.h"

#include <algorithm>
#include <iterator>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "security/crypto/hash.h"

namespace virtengine::attest {

namespace v1 = ::virtengine::security::crypto::v1;

namespace {

constexpr size_t kMaxNameBytes = 2 + 64;      // sizeof(TPMU_NAME)
constexpr size_t kMaxDataBytes = 64;          // sizeof(TPMU_HA)
constexpr size_t kMaxDigestBytes = 64;        // sizeof(TPMU_HA)
constexpr uint32_t kMaxHashCount = 16;        // HASH_COUNT bound
constexpr size_t kMaxEccParameterBytes = 32;  // P-256

// TPMA_OBJECT bits.
constexpr uint32_t kFixedTpm = 1u << 1;
constexpr uint32_t kFixedParent = 1u << 4;
constexpr uint32_t kSensitiveDataOrigin = 1u << 5;
constexpr uint32_t kRestricted = 1u << 16;
constexpr uint32_t kDecrypt = 1u << 17;
constexpr uint32_t kSign = 1u << 18;

std::string Hex16(uint16_t v) { return absl::StrFormat("0x%04x", v); }

absl::Status Invalid(const std::string& msg) {
  return absl::InvalidArgumentError(msg);
}

// Minimal DER INTEGER of an unsigned big-endian value.
Bytes DerInteger(ByteView v) {
  size_t i = 0;
  while (i < v.size() && v[i] == 0) ++i;
  Bytes out = {0x02};
  Bytes body;
  if (i < v.size() && (v[i] & 0x80) != 0) body.push_back(0);
  body.insert(body.end(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  out.push_back(static_cast<uint8_t>(body.size()));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

bool AllZero(ByteView v) {
  for (uint8_t b : v) {
    if (b != 0) return false;
  }
  return true;
}

}  // namespace

std::vector<uint32_t> PcrSelectionBank::Pcrs() const {
  std::vector<uint32_t> out;
  for (size_t j = 0; j < select.size(); ++j) {
    for (uint32_t bit = 0; bit < 8; ++bit) {
      if ((select[j] & (1u << bit)) != 0) {
        out.push_back(static_cast<uint32_t>(j) * 8 + bit);
      }
    }
  }
  return out;
}

absl::Status WireReader::Need(const char* what, size_t n) const {
  if (remaining() < n) {
    return Invalid(absl::StrCat(what, ": truncated (need ", n,
                                " bytes at offset ", pos_, ", ", remaining(),
                                " left)"));
  }
  return absl::OkStatus();
}

absl::Status WireReader::U8(const char* what, uint8_t* out) {
  if (absl::Status s = Need(what, 1); !s.ok()) return s;
  *out = data_[pos_++];
  return absl::OkStatus();
}

absl::Status WireReader::U16(const char* what, uint16_t* out) {
  if (absl::Status s = Need(what, 2); !s.ok()) return s;
  *out = static_cast<uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
  pos_ += 2;
  return absl::OkStatus();
}

absl::Status WireReader::U32(const char* what, uint32_t* out) {
  if (absl::Status s = Need(what, 4); !s.ok()) return s;
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | data_[pos_++];
  *out = v;
  return absl::OkStatus();
}

absl::Status WireReader::U64(const char* what, uint64_t* out) {
  if (absl::Status s = Need(what, 8); !s.ok()) return s;
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | data_[pos_++];
  *out = v;
  return absl::OkStatus();
}

absl::Status WireReader::Raw(const char* what, size_t n, Bytes* out) {
  if (absl::Status s = Need(what, n); !s.ok()) return s;
  out->assign(data_.begin() + static_cast<std::ptrdiff_t>(pos_),
              data_.begin() + static_cast<std::ptrdiff_t>(pos_ + n));
  pos_ += n;
  return absl::OkStatus();
}

absl::Status WireReader::Sized(const char* what, size_t max, Bytes* out) {
  uint16_t size = 0;
  if (absl::Status s = U16(what, &size); !s.ok()) return s;
  if (size > max) {
    return Invalid(absl::StrCat(what, ": size ", size, " exceeds ", max));
  }
  return Raw(what, size, out);
}

void PutU8(Bytes* out, uint8_t v) { out->push_back(v); }
void PutU16(Bytes* out, uint16_t v) {
  out->push_back(static_cast<uint8_t>(v >> 8));
  out->push_back(static_cast<uint8_t>(v));
}
void PutU32(Bytes* out, uint32_t v) {
  for (int i = 3; i >= 0; --i)
    out->push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void PutU64(Bytes* out, uint64_t v) {
  for (int i = 7; i >= 0; --i)
    out->push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void PutSized(Bytes* out, ByteView v) {
  PutU16(out, static_cast<uint16_t>(v.size()));
  out->insert(out->end(), v.begin(), v.end());
}

absl::StatusOr<QuoteAttest> ParseQuoteAttest(ByteView bytes) {
  if (bytes.size() > kMaxAttestBytes) {
    return Invalid(absl::StrCat("tpms_attest: ", bytes.size(),
                                " bytes exceeds the limit of ",
                                kMaxAttestBytes));
  }
  WireReader r(bytes);
  QuoteAttest q;
  uint32_t magic = 0;
  uint16_t type = 0;
  if (absl::Status s = r.U32("tpms_attest: magic", &magic); !s.ok()) return s;
  if (magic != kTpmGeneratedValue) {
    return Invalid(absl::StrFormat(
        "tpms_attest: magic 0x%08x is not TPM_GENERATED_VALUE", magic));
  }
  if (absl::Status s = r.U16("tpms_attest: type", &type); !s.ok()) return s;
  if (type != kTpmStAttestQuote) {
    return Invalid(absl::StrCat("tpms_attest: type ", Hex16(type),
                                " is not TPM_ST_ATTEST_QUOTE"));
  }
  if (absl::Status s = r.Sized("tpms_attest: qualifiedSigner", kMaxNameBytes,
                               &q.qualified_signer);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          r.Sized("tpms_attest: extraData", kMaxDataBytes, &q.extra_data);
      !s.ok()) {
    return s;
  }
  uint8_t safe = 0;
  absl::Status s = r.U64("tpms_attest: clock", &q.clock_info.clock);
  if (s.ok()) s = r.U32("tpms_attest: resetCount", &q.clock_info.reset_count);
  if (s.ok()) {
    s = r.U32("tpms_attest: restartCount", &q.clock_info.restart_count);
  }
  if (s.ok()) s = r.U8("tpms_attest: safe", &safe);
  if (!s.ok()) return s;
  if (safe > 1) {
    return Invalid(
        absl::StrCat("tpms_attest: safe is ", safe, ", not a TPMI_YES_NO"));
  }
  q.clock_info.safe = safe == 1;
  if (s = r.U64("tpms_attest: firmwareVersion", &q.firmware_version); !s.ok()) {
    return s;
  }
  uint32_t count = 0;
  if (s = r.U32("tpms_attest: pcrSelect.count", &count); !s.ok()) return s;
  if (count > kMaxHashCount) {
    return Invalid(absl::StrCat("tpms_attest: pcrSelect.count ", count,
                                " exceeds ", kMaxHashCount));
  }
  for (uint32_t i = 0; i < count; ++i) {
    PcrSelectionBank bank;
    uint8_t size = 0;
    if (s = r.U16("tpms_attest: pcrSelect.hash", &bank.hash); !s.ok()) {
      return s;
    }
    if (s = r.U8("tpms_attest: pcrSelect.sizeofSelect", &size); !s.ok()) {
      return s;
    }
    if (size < 3 || size > 4) {
      return Invalid(absl::StrCat("tpms_attest: pcrSelect.sizeofSelect ", size,
                                  " is outside 3..4"));
    }
    if (s = r.Raw("tpms_attest: pcrSelect.pcrSelect", size, &bank.select);
        !s.ok()) {
      return s;
    }
    if (size == 4 && bank.select[3] != 0) {
      return Invalid("tpms_attest: pcrSelect selects a PCR above 23");
    }
    q.pcr_select.push_back(std::move(bank));
  }
  if (s = r.Sized("tpms_attest: pcrDigest", kMaxDigestBytes, &q.pcr_digest);
      !s.ok()) {
    return s;
  }
  if (!r.done()) {
    return Invalid(absl::StrCat("tpms_attest: ", r.remaining(),
                                " trailing bytes after the quote"));
  }
  return q;
}

Bytes SerializeQuoteAttest(const QuoteAttest& q) {
  Bytes out;
  PutU32(&out, kTpmGeneratedValue);
  PutU16(&out, kTpmStAttestQuote);
  PutSized(&out, q.qualified_signer);
  PutSized(&out, q.extra_data);
  PutU64(&out, q.clock_info.clock);
  PutU32(&out, q.clock_info.reset_count);
  PutU32(&out, q.clock_info.restart_count);
  PutU8(&out, q.clock_info.safe ? 1 : 0);
  PutU64(&out, q.firmware_version);
  PutU32(&out, static_cast<uint32_t>(q.pcr_select.size()));
  for (const PcrSelectionBank& b : q.pcr_select) {
    PutU16(&out, b.hash);
    PutU8(&out, static_cast<uint8_t>(b.select.size()));
    out.insert(out.end(), b.select.begin(), b.select.end());
  }
  PutSized(&out, q.pcr_digest);
  return out;
}

absl::StatusOr<EcdsaSignature> ParseSignature(ByteView bytes) {
  if (bytes.size() > kMaxSignatureBytes) {
    return Invalid(absl::StrCat("tpmt_signature: ", bytes.size(),
                                " bytes exceeds the limit of ",
                                kMaxSignatureBytes));
  }
  WireReader r(bytes);
  uint16_t alg = 0;
  if (absl::Status s = r.U16("tpmt_signature: sigAlg", &alg); !s.ok()) {
    return s;
  }
  if (alg != kTpmAlgEcdsa) {
    return Invalid(
        absl::StrCat("tpmt_signature: unsupported signature "
                     "algorithm ",
                     Hex16(alg), " (only ECDSA 0x0018)"));
  }
  EcdsaSignature sig;
  if (absl::Status s = r.U16("tpmt_signature: hash", &sig.hash); !s.ok()) {
    return s;
  }
  if (sig.hash != kTpmAlgSha256) {
    return Invalid(absl::StrCat("tpmt_signature: hash ", Hex16(sig.hash),
                                " is not SHA-256"));
  }
  if (absl::Status s =
          r.Sized("tpmt_signature: signatureR", kMaxEccParameterBytes, &sig.r);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          r.Sized("tpmt_signature: signatureS", kMaxEccParameterBytes, &sig.s);
      !s.ok()) {
    return s;
  }
  if (sig.r.empty() || sig.s.empty()) {
    return Invalid("tpmt_signature: empty signatureR or signatureS");
  }
  if (!r.done()) {
    return Invalid(absl::StrCat("tpmt_signature: ", r.remaining(),
                                " trailing bytes after the signature"));
  }
  return sig;
}

Bytes SerializeSignature(const EcdsaSignature& sig) {
  Bytes out;
  PutU16(&out, kTpmAlgEcdsa);
  PutU16(&out, sig.hash);
  PutSized(&out, sig.r);
  PutSized(&out, sig.s);
  return out;
}

absl::StatusOr<Bytes> SignatureToDer(const EcdsaSignature& sig) {
  if (AllZero(sig.r) || AllZero(sig.s)) {
    return Invalid("tpmt_signature: signatureR or signatureS is zero");
  }
  Bytes r = DerInteger(sig.r);
  Bytes s = DerInteger(sig.s);
  Bytes out = {0x30, static_cast<uint8_t>(r.size() + s.size())};
  out.insert(out.end(), r.begin(), r.end());
  out.insert(out.end(), s.begin(), s.end());
  return out;
}

Bytes AkPublic::SubjectPublicKeyInfo() const {
  static constexpr uint8_t kPrefix[] = {
      0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
      0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
      0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};
  Bytes out(std::begin(kPrefix), std::end(kPrefix));
  out.insert(out.end(), sec1_point.begin(), sec1_point.end());
  return out;
}

absl::StatusOr<AkPublic> ParseAkPublic(ByteView bytes) {
  if (bytes.size() > kMaxPublicBytes) {
    return Invalid(absl::StrCat("ak public: ", bytes.size(),
                                " bytes exceeds the limit of ",
                                kMaxPublicBytes));
  }
  WireReader outer(bytes);
  Bytes area;
  if (absl::Status s = outer.Sized("ak public: size", kMaxPublicBytes, &area);
      !s.ok()) {
    return s;
  }
  if (!outer.done()) {
    return Invalid(absl::StrCat("ak public: ", outer.remaining(),
                                " trailing bytes after TPM2B_PUBLIC"));
  }
  WireReader r(area);
  AkPublic ak;
  uint16_t type = 0, name_alg = 0;
  absl::Status s = r.U16("ak public: type", &type);
  if (!s.ok()) return s;
  if (type != kTpmAlgEcc) {
    return Invalid(
        absl::StrCat("ak public: type ", Hex16(type), " is not ECC"));
  }
  if (s = r.U16("ak public: nameAlg", &name_alg); !s.ok()) return s;
  if (name_alg != kTpmAlgSha256) {
    return Invalid(absl::StrCat("ak public: nameAlg ", Hex16(name_alg),
                                " is not SHA-256"));
  }
  if (s = r.U32("ak public: objectAttributes", &ak.object_attributes);
      !s.ok()) {
    return s;
  }
  const uint32_t a = ak.object_attributes;
  if ((a & kRestricted) == 0)
    return Invalid("ak public: key is not restricted");
  if ((a & kSign) == 0) return Invalid("ak public: key is not a signing key");
  if ((a & kDecrypt) != 0) return Invalid("ak public: key can also decrypt");
  if ((a & kFixedTpm) == 0 || (a & kFixedParent) == 0) {
    return Invalid("ak public: key is not fixedTPM and fixedParent");
  }
  if ((a & kSensitiveDataOrigin) == 0) {
    return Invalid("ak public: key was not generated by the TPM");
  }
  Bytes policy;
  if (s = r.Sized("ak public: authPolicy", kMaxDigestBytes, &policy); !s.ok()) {
    return s;
  }
  uint16_t sym = 0, scheme = 0, scheme_hash = 0, curve = 0, kdf = 0;
  if (s = r.U16("ak public: symmetric", &sym); !s.ok()) return s;
  if (sym != kTpmAlgNull) {
    return Invalid(
        absl::StrCat("ak public: symmetric ", Hex16(sym), " is not NULL"));
  }
  if (s = r.U16("ak public: scheme", &scheme); !s.ok()) return s;
  if (scheme != kTpmAlgEcdsa) {
    return Invalid(
        absl::StrCat("ak public: scheme ", Hex16(scheme), " is not ECDSA"));
  }
  if (s = r.U16("ak public: scheme hash", &scheme_hash); !s.ok()) return s;
  if (scheme_hash != kTpmAlgSha256) {
    return Invalid(absl::StrCat("ak public: scheme hash ", Hex16(scheme_hash),
                                " is not SHA-256"));
  }
  if (s = r.U16("ak public: curveID", &curve); !s.ok()) return s;
  if (curve != kTpmEccNistP256) {
    return Invalid(
        absl::StrCat("ak public: curve ", Hex16(curve), " is not NIST P-256"));
  }
  if (s = r.U16("ak public: kdf", &kdf); !s.ok()) return s;
  if (kdf != kTpmAlgNull) {
    return Invalid(absl::StrCat("ak public: kdf ", Hex16(kdf), " is not NULL"));
  }
  Bytes x, y;
  if (s = r.Sized("ak public: unique.x", kMaxEccParameterBytes, &x); !s.ok()) {
    return s;
  }
  if (s = r.Sized("ak public: unique.y", kMaxEccParameterBytes, &y); !s.ok()) {
    return s;
  }
  if (x.empty() || y.empty()) return Invalid("ak public: empty point");
  if (!r.done()) {
    return Invalid(absl::StrCat("ak public: ", r.remaining(),
                                " trailing bytes after TPMT_PUBLIC"));
  }
  ak.sec1_point[0] = 0x04;
  std::copy(x.begin(), x.end(), ak.sec1_point.begin() + 1 + (32 - x.size()));
  std::copy(y.begin(), y.end(), ak.sec1_point.begin() + 33 + (32 - y.size()));
  ak.tpmt_public = std::move(area);
  absl::StatusOr<crypto::Digest32> h =
      crypto::Sha256(v1::CONTENT_HASH, ak.tpmt_public);
  if (!h.ok()) return h.status();
  PutU16(&ak.name, kTpmAlgSha256);
  ak.name.insert(ak.name.end(), h->begin(), h->end());
  return ak;
}

}  // namespace virtengine::attest
