#include "security/tpm/tpm.h"

#include <tss2_esys.h>
#include <tss2_mu.h>
#include <tss2_rc.h>
#include <tss2_tctildr.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "security/attest/wire.h"
#include "security/crypto/random.h"
#include "security/crypto/secret_bytes.h"

namespace virtengine::tpm {

namespace {

constexpr size_t kMaxTctiConfig = 256;
constexpr size_t kNvChunk = 512;

// TPM2_PolicySecret(TPM_RH_ENDORSEMENT) digest: the authPolicy of the TCG
// default EK templates.
constexpr uint8_t kEkPolicy[32] = {
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc,
    0x8d, 0x46, 0xa5, 0xd7, 0x24, 0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52,
    0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa};

absl::Status TssError(const char* op, TSS2_RC rc) {
  const std::string msg =
      absl::StrFormat("%s failed: %s (0x%08x)", op, Tss2_RC_Decode(rc), rc);
  // TCTI layer: the TPM could not be reached.
  if ((rc & TSS2_RC_LAYER_MASK) == TSS2_TCTI_RC_LAYER) {
    return absl::UnavailableError(msg);
  }
  return absl::InternalError(msg);
}

template <typename T>
struct EsysFreeDeleter {
  void operator()(T* p) const { Esys_Free(p); }
};
template <typename T>
using EsysPtr = std::unique_ptr<T, EsysFreeDeleter<T>>;

// An ECC P-256 restricted storage (decryption) key: AES-128-CFB for its
// children, no signing scheme, no KDF; the unique field sized for the
// TCG default templates (EK, SRK).
void SetEccStorageKey(TPMT_PUBLIC* p) {
  p->type = TPM2_ALG_ECC;
  p->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
  p->parameters.eccDetail.symmetric.keyBits.aes = 128;
  p->parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
  p->parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
  p->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
  p->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  p->unique.ecc.x.size = 32;
  p->unique.ecc.y.size = 32;
}

TPM2B_PUBLIC EkTemplate(EkType type) {
  TPM2B_PUBLIC t;
  std::memset(&t, 0, sizeof(t));
  TPMT_PUBLIC& p = t.publicArea;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                       TPMA_OBJECT_SENSITIVEDATAORIGIN |
                       TPMA_OBJECT_ADMINWITHPOLICY | TPMA_OBJECT_RESTRICTED |
                       TPMA_OBJECT_DECRYPT;
  p.authPolicy.size = sizeof(kEkPolicy);
  std::memcpy(p.authPolicy.buffer, kEkPolicy, sizeof(kEkPolicy));
  if (type == EkType::kRsa2048) {
    p.type = TPM2_ALG_RSA;
    p.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
    p.parameters.rsaDetail.symmetric.keyBits.aes = 128;
    p.parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
    p.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
    p.parameters.rsaDetail.keyBits = 2048;
    p.parameters.rsaDetail.exponent = 0;
    p.unique.rsa.size = 256;
  } else {
    SetEccStorageKey(&p);
  }
  return t;
}

TPM2B_PUBLIC SrkTemplate() {
  TPM2B_PUBLIC t;
  std::memset(&t, 0, sizeof(t));
  TPMT_PUBLIC& p = t.publicArea;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                       TPMA_OBJECT_SENSITIVEDATAORIGIN |
                       TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA |
                       TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
  SetEccStorageKey(&p);
  return t;
}

TPM2B_PUBLIC AkTemplate() {
  TPM2B_PUBLIC t;
  std::memset(&t, 0, sizeof(t));
  TPMT_PUBLIC& p = t.publicArea;
  p.type = TPM2_ALG_ECC;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                       TPMA_OBJECT_SENSITIVEDATAORIGIN |
                       TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED |
                       TPMA_OBJECT_SIGN_ENCRYPT;
  p.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
  p.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
  p.parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
  p.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
  p.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  return t;
}

absl::StatusOr<TPML_PCR_SELECTION> Selection(
    const std::vector<uint32_t>& pcrs) {
  if (pcrs.empty()) return absl::InvalidArgumentError("no PCRs selected");
  TPML_PCR_SELECTION sel;
  std::memset(&sel, 0, sizeof(sel));
  sel.count = 1;
  sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
  sel.pcrSelections[0].sizeofSelect = 3;
  for (size_t i = 0; i < pcrs.size(); ++i) {
    if (pcrs[i] >= attest::kNumPcrs) {
      return absl::InvalidArgumentError(
          absl::StrCat("PCR ", pcrs[i], " is outside 0..23"));
    }
    if (i > 0 && pcrs[i] <= pcrs[i - 1]) {
      return absl::InvalidArgumentError(
          "PCR numbers must be ascending without duplicates");
    }
    sel.pcrSelections[0].pcrSelect[pcrs[i] / 8] |=
        static_cast<uint8_t>(1u << (pcrs[i] % 8));
  }
  return sel;
}

template <typename T, TSS2_RC (*Marshal)(const T*, uint8_t*, size_t, size_t*)>
absl::StatusOr<Bytes> MarshalTo(const T& value, const char* what) {
  Bytes buf(sizeof(T) + 16);
  size_t offset = 0;
  TSS2_RC rc = Marshal(&value, buf.data(), buf.size(), &offset);
  if (rc != TSS2_RC_SUCCESS) return TssError(what, rc);
  buf.resize(offset);
  return buf;
}

template <typename T, TSS2_RC (*Unmarshal)(const uint8_t*, size_t, size_t*, T*)>
absl::StatusOr<T> UnmarshalFrom(ByteView bytes, const char* what) {
  T value;
  std::memset(&value, 0, sizeof(value));
  size_t offset = 0;
  TSS2_RC rc = Unmarshal(bytes.data(), bytes.size(), &offset, &value);
  if (rc != TSS2_RC_SUCCESS || offset != bytes.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": not a valid marshalled structure"));
  }
  return value;
}

// Sealed-blob format (docs/security/tpm.md):
//   "VESL" | version u8 (=1) | count u8 | count x (pcr u8 | value[32]) |
//   u16 BE len | TPM2B_PUBLIC | u16 BE len | TPM2B_PRIVATE
struct SealedBlob {
  attest::PcrValues pcrs;
  Bytes public_area;
  Bytes private_area;
};

Bytes SerializeSealed(const SealedBlob& b) {
  Bytes out = {'V', 'E', 'S', 'L', 1, static_cast<uint8_t>(b.pcrs.size())};
  for (const auto& [pcr, value] : b.pcrs) {
    out.push_back(static_cast<uint8_t>(pcr));
    out.insert(out.end(), value.begin(), value.end());
  }
  attest::PutSized(&out, b.public_area);
  attest::PutSized(&out, b.private_area);
  return out;
}

absl::StatusOr<SealedBlob> ParseSealed(ByteView bytes) {
  if (bytes.size() > 4096) {
    return absl::InvalidArgumentError("sealed blob: larger than 4096 bytes");
  }
  attest::WireReader r(bytes);
  Bytes magic;
  uint8_t version = 0, count = 0;
  absl::Status s = r.Raw("sealed blob: magic", 4, &magic);
  if (!s.ok()) return s;
  if (crypto::AsChars(magic) != "VESL") {
    return absl::InvalidArgumentError("sealed blob: bad magic (not VESL)");
  }
  if (s = r.U8("sealed blob: version", &version); !s.ok()) return s;
  if (version != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("sealed blob: unsupported version ", version));
  }
  if (s = r.U8("sealed blob: count", &count); !s.ok()) return s;
  if (count == 0 || count > attest::kNumPcrs) {
    return absl::InvalidArgumentError(
        absl::StrCat("sealed blob: PCR count ", count, " is outside 1..24"));
  }
  SealedBlob b;
  for (uint8_t i = 0; i < count; ++i) {
    uint8_t pcr = 0;
    Bytes value;
    if (s = r.U8("sealed blob: pcr", &pcr); !s.ok()) return s;
    if (s = r.Raw("sealed blob: pcr value", 32, &value); !s.ok()) return s;
    if (pcr >= attest::kNumPcrs ||
        (!b.pcrs.empty() && pcr <= b.pcrs.rbegin()->first)) {
      return absl::InvalidArgumentError(
          "sealed blob: PCR numbers out of range or not ascending");
    }
    std::copy(value.begin(), value.end(), b.pcrs[pcr].begin());
  }
  if (s = r.Sized("sealed blob: public", 1024, &b.public_area); !s.ok()) {
    return s;
  }
  if (s = r.Sized("sealed blob: private", 1024, &b.private_area); !s.ok()) {
    return s;
  }
  if (!r.done()) {
    return absl::InvalidArgumentError("sealed blob: trailing bytes");
  }
  return b;
}

std::vector<uint32_t> Keys(const attest::PcrValues& values) {
  std::vector<uint32_t> out;
  out.reserve(values.size());
  for (const auto& [pcr, value] : values) out.push_back(pcr);
  return out;
}

}  // namespace

absl::Status ValidateTctiConfig(std::string_view config) {
  if (config.empty() || config.size() > kMaxTctiConfig) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tcti config of ", config.size(), " bytes is outside 1..", 256));
  }
  for (char c : config) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    (c >= '0' && c <= '9') || c == '/' || c == '.' ||
                    c == '_' || c == ':' || c == '=' || c == ',' || c == '-';
    if (!ok) {
      return absl::InvalidArgumentError(
          "tcti config has a character outside [A-Za-z0-9/._:=,-]");
    }
  }
  const std::string_view name = config.substr(0, config.find(':'));
  if (name != "device" && name != "swtpm" && name != "mssim") {
    return absl::InvalidArgumentError(
        "tcti config must start with device:, swtpm: or mssim:");
  }
  return absl::OkStatus();
}

Bytes AkBlob::Serialize() const {
  Bytes out = {'V', 'E', 'A', 'K', 1};
  attest::PutSized(&out, public_area);
  attest::PutSized(&out, private_area);
  return out;
}

absl::StatusOr<AkBlob> AkBlob::Parse(ByteView bytes) {
  if (bytes.size() > 4096) {
    return absl::InvalidArgumentError("ak blob: larger than 4096 bytes");
  }
  attest::WireReader r(bytes);
  Bytes magic;
  uint8_t version = 0;
  absl::Status s = r.Raw("ak blob: magic", 4, &magic);
  if (!s.ok()) return s;
  if (crypto::AsChars(magic) != "VEAK") {
    return absl::InvalidArgumentError("ak blob: bad magic (not VEAK)");
  }
  if (s = r.U8("ak blob: version", &version); !s.ok()) return s;
  if (version != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("ak blob: unsupported version ", version));
  }
  AkBlob ak;
  if (s = r.Sized("ak blob: public", 1024, &ak.public_area); !s.ok()) return s;
  if (s = r.Sized("ak blob: private", 1024, &ak.private_area); !s.ok()) {
    return s;
  }
  if (!r.done()) return absl::InvalidArgumentError("ak blob: trailing bytes");
  if (absl::StatusOr<attest::AkPublic> p =
          attest::ParseAkPublic(ak.public_area);
      !p.ok()) {
    return p.status();
  }
  return ak;
}

struct Tpm::Impl {
  TSS2_TCTI_CONTEXT* tcti = nullptr;
  ESYS_CONTEXT* ctx = nullptr;

  ~Impl() {
    if (ctx != nullptr) Esys_Finalize(&ctx);
    if (tcti != nullptr) Tss2_TctiLdr_Finalize(&tcti);
  }

  // Flushes a transient object or session when it goes out of scope.
  class Flush {
   public:
    Flush(ESYS_CONTEXT* ctx, ESYS_TR h) : ctx_(ctx), h_(h) {}
    ~Flush() {
      if (h_ != ESYS_TR_NONE) (void)Esys_FlushContext(ctx_, h_);
    }
    Flush(const Flush&) = delete;
    Flush& operator=(const Flush&) = delete;

   private:
    ESYS_CONTEXT* ctx_;
    ESYS_TR h_;
  };

  absl::StatusOr<ESYS_TR> CreatePrimary(ESYS_TR hierarchy,
                                        const TPM2B_PUBLIC& tmpl,
                                        EsysPtr<TPM2B_PUBLIC>* out_public) {
    TPM2B_SENSITIVE_CREATE sensitive;
    std::memset(&sensitive, 0, sizeof(sensitive));
    TPM2B_DATA outside;
    std::memset(&outside, 0, sizeof(outside));
    TPML_PCR_SELECTION creation_pcr;
    std::memset(&creation_pcr, 0, sizeof(creation_pcr));
    ESYS_TR handle = ESYS_TR_NONE;
    TPM2B_PUBLIC* pub = nullptr;
    TSS2_RC rc = Esys_CreatePrimary(ctx, hierarchy, ESYS_TR_PASSWORD,
                                    ESYS_TR_NONE, ESYS_TR_NONE, &sensitive,
                                    &tmpl, &outside, &creation_pcr, &handle,
                                    &pub, nullptr, nullptr, nullptr);
    if (rc != TSS2_RC_SUCCESS) return TssError("Esys_CreatePrimary", rc);
    if (out_public != nullptr) {
      out_public->reset(pub);
    } else {
      Esys_Free(pub);
    }
    return handle;
  }

  absl::StatusOr<ESYS_TR> StartSession(TPM2_SE type) {
    TPMT_SYM_DEF sym;
    std::memset(&sym, 0, sizeof(sym));
    sym.algorithm = TPM2_ALG_NULL;
    // The caller nonce comes from the project's CSPRNG, not the TSS's.
    TPM2B_NONCE nonce_caller;
    std::memset(&nonce_caller, 0, sizeof(nonce_caller));
    nonce_caller.size = 32;
    crypto::RandomFill(absl::MakeSpan(nonce_caller.buffer, 32));
    ESYS_TR session = ESYS_TR_NONE;
    TSS2_RC rc = Esys_StartAuthSession(
        ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
        ESYS_TR_NONE, &nonce_caller, type, &sym, TPM2_ALG_SHA256, &session);
    if (rc != TSS2_RC_SUCCESS) return TssError("Esys_StartAuthSession", rc);
    return session;
  }

  // A policy session satisfying the EK's policy (PolicySecret endorsement).
  absl::StatusOr<ESYS_TR> EkSession() {
    absl::StatusOr<ESYS_TR> session = StartSession(TPM2_SE_POLICY);
    if (!session.ok()) return session;
    TPM2B_NONCE nonce_tpm;
    std::memset(&nonce_tpm, 0, sizeof(nonce_tpm));
    TPM2B_DIGEST cp_hash;
    std::memset(&cp_hash, 0, sizeof(cp_hash));
    TPM2B_NONCE policy_ref;
    std::memset(&policy_ref, 0, sizeof(policy_ref));
    TSS2_RC rc = Esys_PolicySecret(
        ctx, ESYS_TR_RH_ENDORSEMENT, *session, ESYS_TR_PASSWORD, ESYS_TR_NONE,
        ESYS_TR_NONE, &nonce_tpm, &cp_hash, &policy_ref, 0, nullptr, nullptr);
    if (rc != TSS2_RC_SUCCESS) {
      (void)Esys_FlushContext(ctx, *session);
      return TssError("Esys_PolicySecret", rc);
    }
    return session;
  }

  absl::StatusOr<ESYS_TR> LoadAk(ESYS_TR ek, const AkBlob& ak) {
    absl::StatusOr<TPM2B_PUBLIC> pub =
        UnmarshalFrom<TPM2B_PUBLIC, Tss2_MU_TPM2B_PUBLIC_Unmarshal>(
            ak.public_area, "ak blob: public");
    if (!pub.ok()) return pub.status();
    absl::StatusOr<TPM2B_PRIVATE> priv =
        UnmarshalFrom<TPM2B_PRIVATE, Tss2_MU_TPM2B_PRIVATE_Unmarshal>(
            ak.private_area, "ak blob: private");
    if (!priv.ok()) return priv.status();
    absl::StatusOr<ESYS_TR> session = EkSession();
    if (!session.ok()) return session.status();
    Flush flush_session(ctx, *session);
    ESYS_TR handle = ESYS_TR_NONE;
    TSS2_RC rc = Esys_Load(ctx, ek, *session, ESYS_TR_NONE, ESYS_TR_NONE,
                           &*priv, &*pub, &handle);
    if (rc != TSS2_RC_SUCCESS) return TssError("Esys_Load (AK)", rc);
    return handle;
  }

  // One PCR at a time (a TPM returns at most 8 digests per call; callers
  // that need atomicity check a quote's pcrDigest, as QuotePcrs does).
  absl::StatusOr<attest::PcrValues> ReadPcrs(
      const std::vector<uint32_t>& pcrs) {
    if (absl::StatusOr<TPML_PCR_SELECTION> all = Selection(pcrs); !all.ok()) {
      return all.status();
    }
    attest::PcrValues out;
    for (uint32_t pcr : pcrs) {
      absl::StatusOr<TPML_PCR_SELECTION> sel = Selection({pcr});
      if (!sel.ok()) return sel.status();
      UINT32 counter = 0;
      TPML_PCR_SELECTION* sel_out = nullptr;
      TPML_DIGEST* values = nullptr;
      TSS2_RC rc = Esys_PCR_Read(ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                 &*sel, &counter, &sel_out, &values);
      if (rc != TSS2_RC_SUCCESS) return TssError("Esys_PCR_Read", rc);
      EsysPtr<TPML_PCR_SELECTION> free_sel(sel_out);
      EsysPtr<TPML_DIGEST> free_values(values);
      if (values->count != 1 || values->digests[0].size != 32) {
        return absl::FailedPreconditionError(
            absl::StrCat("TPM returned no SHA-256 value for PCR ", pcr,
                         " (is the SHA-256 bank allocated?)"));
      }
      std::copy(values->digests[0].buffer, values->digests[0].buffer + 32,
                out[pcr].begin());
    }
    return out;
  }

  static absl::StatusOr<crypto::Digest32> Composite(
      const attest::PcrValues& values) {
    return attest::PcrCompositeDigest(values);
  }
};

Tpm::Tpm(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tpm::~Tpm() = default;

absl::StatusOr<std::unique_ptr<Tpm>> Tpm::Open(std::string_view config) {
  if (absl::Status s = ValidateTctiConfig(config); !s.ok()) return s;
  auto impl = std::make_unique<Impl>();
  const std::string conf(config);
  TSS2_RC rc = Tss2_TctiLdr_Initialize(conf.c_str(), &impl->tcti);
  if (rc != TSS2_RC_SUCCESS) {
    impl->tcti = nullptr;
    return absl::UnavailableError(
        absl::StrFormat("cannot open TPM via tcti \"%s\": %s (0x%08x)", conf,
                        Tss2_RC_Decode(rc), rc));
  }
  rc = Esys_Initialize(&impl->ctx, impl->tcti, nullptr);
  if (rc != TSS2_RC_SUCCESS) {
    impl->ctx = nullptr;
    return TssError("Esys_Initialize", rc);
  }
  return std::unique_ptr<Tpm>(new Tpm(std::move(impl)));
}

absl::StatusOr<Bytes> Tpm::EkPublic(EkType type) {
  EsysPtr<TPM2B_PUBLIC> pub;
  absl::StatusOr<ESYS_TR> ek =
      impl_->CreatePrimary(ESYS_TR_RH_ENDORSEMENT, EkTemplate(type), &pub);
  if (!ek.ok()) return ek.status();
  Impl::Flush flush(impl_->ctx, *ek);
  return MarshalTo<TPM2B_PUBLIC, Tss2_MU_TPM2B_PUBLIC_Marshal>(
      *pub, "Tss2_MU_TPM2B_PUBLIC_Marshal");
}

absl::StatusOr<Bytes> Tpm::EkCertificate(EkType type) {
  const uint32_t index =
      type == EkType::kRsa2048 ? kEkCertNvRsa2048 : kEkCertNvEccP256;
  const std::string where = absl::StrFormat("NV index 0x%08x", index);
  TPMS_CAPABILITY_DATA* cap = nullptr;
  TPMI_YES_NO more = 0;
  TSS2_RC rc =
      Esys_GetCapability(impl_->ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                         TPM2_CAP_HANDLES, index, 1, &more, &cap);
  if (rc != TSS2_RC_SUCCESS) return TssError("Esys_GetCapability", rc);
  EsysPtr<TPMS_CAPABILITY_DATA> free_cap(cap);
  if (cap->data.handles.count == 0 || cap->data.handles.handle[0] != index) {
    return absl::NotFoundError(
        absl::StrCat("no EK certificate (", where, " is not defined)"));
  }
  ESYS_TR nv = ESYS_TR_NONE;
  rc = Esys_TR_FromTPMPublic(impl_->ctx, index, ESYS_TR_NONE, ESYS_TR_NONE,
                             ESYS_TR_NONE, &nv);
  if (rc != TSS2_RC_SUCCESS) return TssError("Esys_TR_FromTPMPublic", rc);
  struct Close {
    ESYS_CONTEXT* ctx;
    ESYS_TR* nv;
    ~Close() { (void)Esys_TR_Close(ctx, nv); }
  } close{impl_->ctx, &nv};
  TPM2B_NV_PUBLIC* nv_public = nullptr;
  rc = Esys_NV_ReadPublic(impl_->ctx, nv, ESYS_TR_NONE, ESYS_TR_NONE,
                          ESYS_TR_NONE, &nv_public, nullptr);
  if (rc != TSS2_RC_SUCCESS) return TssError("Esys_NV_ReadPublic", rc);
  EsysPtr<TPM2B_NV_PUBLIC> free_pub(nv_public);
  const size_t size = nv_public->nvPublic.dataSize;
  if (size == 0 || size > kMaxEkCertBytes) {
    return absl::FailedPreconditionError(absl::StrCat(
        where, " holds ", size, " bytes, outside 1..", kMaxEkCertBytes));
  }
  const TPMA_NV attrs = nv_public->nvPublic.attributes;
  ESYS_TR auth = nv;
  if ((attrs & TPMA_NV_AUTHREAD) == 0) {
    if ((attrs & TPMA_NV_OWNERREAD) == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(where, " is readable neither by auth nor by owner"));
    }
    auth = ESYS_TR_RH_OWNER;
  }
  Bytes out;
  while (out.size() < size) {
    const auto chunk =
        static_cast<UINT16>(std::min(kNvChunk, size - out.size()));
    TPM2B_MAX_NV_BUFFER* data = nullptr;
    rc = Esys_NV_Read(impl_->ctx, auth, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                      ESYS_TR_NONE, chunk, static_cast<UINT16>(out.size()),
                      &data);
    if (rc != TSS2_RC_SUCCESS) return TssError("Esys_NV_Read", rc);
    EsysPtr<TPM2B_MAX_NV_BUFFER> free_data(data);
    if (data->size != chunk) {
      return absl::InternalError("Esys_NV_Read returned a short read");
    }
    out.insert(out.end(), data->buffer, data->buffer + data->size);
  }
  // Some provisioning tools pad the index; keep only the DER certificate.
  if (out.size() >= 4 && out[0] == 0x30 && out[1] == 0x82) {
    const size_t der = 4 + ((static_cast<size_t>(out[2]) << 8) | out[3]);
    if (der <= out.size()) out.resize(der);
  }
  return out;
}

absl::StatusOr<AkBlob> Tpm::CreateAk() {
  absl::StatusOr<ESYS_TR> ek = impl_->CreatePrimary(
      ESYS_TR_RH_ENDORSEMENT, EkTemplate(EkType::kEccP256), nullptr);
  if (!ek.ok()) return ek.status();
  Impl::Flush flush_ek(impl_->ctx, *ek);
  absl::StatusOr<ESYS_TR> session = impl_->EkSession();
  if (!session.ok()) return session.status();
  Impl::Flush flush_session(impl_->ctx, *session);
  TPM2B_SENSITIVE_CREATE sensitive;
  std::memset(&sensitive, 0, sizeof(sensitive));
  TPM2B_DATA outside;
  std::memset(&outside, 0, sizeof(outside));
  TPML_PCR_SELECTION creation_pcr;
  std::memset(&creation_pcr, 0, sizeof(creation_pcr));
  const TPM2B_PUBLIC tmpl = AkTemplate();
  TPM2B_PRIVATE* priv = nullptr;
  TPM2B_PUBLIC* pub = nullptr;
  TSS2_RC rc = Esys_Create(
      impl_->ctx, *ek, *session, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive, &tmpl,
      &outside, &creation_pcr, &priv, &pub, nullptr, nullptr, nullptr);
  if (rc != TSS2_RC_SUCCESS) return TssError("Esys_Create (AK)", rc);
  EsysPtr<TPM2B_PRIVATE> free_priv(priv);
  EsysPtr<TPM2B_PUBLIC> free_pub(pub);
  AkBlob ak;
  absl::StatusOr<Bytes> p =
      MarshalTo<TPM2B_PUBLIC, Tss2_MU_TPM2B_PUBLIC_Marshal>(
          *pub, "Tss2_MU_TPM2B_PUBLIC_Marshal");
  if (!p.ok()) return p.status();
  absl::StatusOr<Bytes> s =
      MarshalTo<TPM2B_PRIVATE, Tss2_MU_TPM2B_PRIVATE_Marshal>(
          *priv, "Tss2_MU_TPM2B_PRIVATE_Marshal");
  if (!s.ok()) return s.status();
  ak.public_area = *std::move(p);
  ak.private_area = *std::move(s);
  return ak;
}

absl::StatusOr<Bytes> Tpm::LoadAkPublic(const AkBlob& ak) {
  absl::StatusOr<ESYS_TR> ek = impl_->CreatePrimary(
      ESYS_TR_RH_ENDORSEMENT, EkTemplate(EkType::kEccP256), nullptr);
  if (!ek.ok()) return ek.status();
  Impl::Flush flush_ek(impl_->ctx, *ek);
  absl::StatusOr<ESYS_TR> handle = impl_->LoadAk(*ek, ak);
  if (!handle.ok()) return handle.status();
  Impl::Flush flush_ak(impl_->ctx, *handle);
  TPM2B_PUBLIC* pub = nullptr;
  TSS2_RC rc = Esys_ReadPublic(impl_->ctx, *handle, ESYS_TR_NONE, ESYS_TR_NONE,
                               ESYS_TR_NONE, &pub, nullptr, nullptr);
  if (rc != TSS2_RC_SUCCESS) return TssError("Esys_ReadPublic", rc);
  EsysPtr<TPM2B_PUBLIC> free_pub(pub);
  return MarshalTo<TPM2B_PUBLIC, Tss2_MU_TPM2B_PUBLIC_Marshal>(
      *pub, "Tss2_MU_TPM2B_PUBLIC_Marshal");
}

absl::StatusOr<attest::PcrValues> Tpm::PcrRead(
    const std::vector<uint32_t>& pcrs) {
  return impl_->ReadPcrs(pcrs);
}

absl::Status Tpm::PcrExtend(uint32_t pcr, const crypto::Digest32& digest) {
  if (pcr >= attest::kNumPcrs) {
    return absl::InvalidArgumentError(
        absl::StrCat("PCR ", pcr, " is outside 0..23"));
  }
  TPML_DIGEST_VALUES values;
  std::memset(&values, 0, sizeof(values));
  values.count = 1;
  values.digests[0].hashAlg = TPM2_ALG_SHA256;
  std::copy(digest.begin(), digest.end(), values.digests[0].digest.sha256);
  TSS2_RC rc = Esys_PCR_Extend(impl_->ctx, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD,
                               ESYS_TR_NONE, ESYS_TR_NONE, &values);
  if (rc != TSS2_RC_SUCCESS) return TssError("Esys_PCR_Extend", rc);
  return absl::OkStatus();
}

absl::StatusOr<Quote> Tpm::QuotePcrs(const AkBlob& ak, ByteView nonce,
                                     const std::vector<uint32_t>& pcrs) {
  if (nonce.empty() || nonce.size() > kMaxQualifyingDataBytes) {
    return absl::InvalidArgumentError(absl::StrCat("nonce of ", nonce.size(),
                                                   " bytes is outside 1..",
                                                   kMaxQualifyingDataBytes));
  }
  absl::StatusOr<TPML_PCR_SELECTION> sel = Selection(pcrs);
  if (!sel.ok()) return sel.status();
  absl::StatusOr<ESYS_TR> ek = impl_->CreatePrimary(
      ESYS_TR_RH_ENDORSEMENT, EkTemplate(EkType::kEccP256), nullptr);
  if (!ek.ok()) return ek.status();
  Impl::Flush flush_ek(impl_->ctx, *ek);
  absl::StatusOr<ESYS_TR> handle = impl_->LoadAk(*ek, ak);
  if (!handle.ok()) return handle.status();
  Impl::Flush flush_ak(impl_->ctx, *handle);

  TPM2B_DATA qualifying;
  std::memset(&qualifying, 0, sizeof(qualifying));
  qualifying.size = static_cast<UINT16>(nonce.size());
  std::copy(nonce.begin(), nonce.end(), qualifying.buffer);
  TPMT_SIG_SCHEME scheme;
  std::memset(&scheme, 0, sizeof(scheme));
  scheme.scheme = TPM2_ALG_NULL;  // the AK's own scheme (ECDSA-SHA256)
  for (int attempt = 0; attempt < 3; ++attempt) {
    TPM2B_ATTEST* quoted = nullptr;
    TPMT_SIGNATURE* signature = nullptr;
    TSS2_RC rc = Esys_Quote(impl_->ctx, *handle, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                            ESYS_TR_NONE, &qualifying, &scheme, &*sel, &quoted,
                            &signature);
    if (rc != TSS2_RC_SUCCESS) return TssError("Esys_Quote", rc);
    EsysPtr<TPM2B_ATTEST> free_quoted(quoted);
    EsysPtr<TPMT_SIGNATURE> free_sig(signature);
    Quote q;
    q.attest.assign(quoted->attestationData,
                    quoted->attestationData + quoted->size);
    absl::StatusOr<Bytes> sig =
        MarshalTo<TPMT_SIGNATURE, Tss2_MU_TPMT_SIGNATURE_Marshal>(
            *signature, "Tss2_MU_TPMT_SIGNATURE_Marshal");
    if (!sig.ok()) return sig.status();
    q.signature = *std::move(sig);
    absl::StatusOr<attest::PcrValues> values = impl_->ReadPcrs(pcrs);
    if (!values.ok()) return values.status();
    q.pcr_values = *std::move(values);
    absl::StatusOr<attest::QuoteAttest> parsed =
        attest::ParseQuoteAttest(q.attest);
    if (!parsed.ok()) return parsed.status();
    absl::StatusOr<crypto::Digest32> composite = Impl::Composite(q.pcr_values);
    if (!composite.ok()) return composite.status();
    if (crypto::ConstantTimeEquals(*composite, parsed->pcr_digest)) return q;
  }
  return absl::AbortedError(
      "PCRs changed between the quote and the read-back three times");
}

absl::StatusOr<Bytes> Tpm::Seal(const crypto::SecretBytes& secret,
                                const attest::PcrValues& pcrs) {
  if (secret.empty() || secret.size() > kMaxSealedSecretBytes) {
    return absl::InvalidArgumentError(absl::StrCat("secret of ", secret.size(),
                                                   " bytes is outside 1..",
                                                   kMaxSealedSecretBytes));
  }
  absl::StatusOr<TPML_PCR_SELECTION> sel = Selection(Keys(pcrs));
  if (!sel.ok()) return sel.status();
  absl::StatusOr<crypto::Digest32> composite = Impl::Composite(pcrs);
  if (!composite.ok()) return composite.status();
  TPM2B_DIGEST pcr_digest;
  std::memset(&pcr_digest, 0, sizeof(pcr_digest));
  pcr_digest.size = 32;
  std::copy(composite->begin(), composite->end(), pcr_digest.buffer);

  // The policy digest, from a trial session.
  absl::StatusOr<ESYS_TR> trial = impl_->StartSession(TPM2_SE_TRIAL);
  if (!trial.ok()) return trial.status();
  TPM2B_DIGEST* policy = nullptr;
  {
    Impl::Flush flush_trial(impl_->ctx, *trial);
    TSS2_RC rc = Esys_PolicyPCR(impl_->ctx, *trial, ESYS_TR_NONE, ESYS_TR_NONE,
                                ESYS_TR_NONE, &pcr_digest, &*sel);
    if (rc != TSS2_RC_SUCCESS) return TssError("Esys_PolicyPCR (trial)", rc);
    rc = Esys_PolicyGetDigest(impl_->ctx, *trial, ESYS_TR_NONE, ESYS_TR_NONE,
                              ESYS_TR_NONE, &policy);
    if (rc != TSS2_RC_SUCCESS) return TssError("Esys_PolicyGetDigest", rc);
  }
  EsysPtr<TPM2B_DIGEST> free_policy(policy);

  absl::StatusOr<ESYS_TR> srk =
      impl_->CreatePrimary(ESYS_TR_RH_OWNER, SrkTemplate(), nullptr);
  if (!srk.ok()) return srk.status();
  Impl::Flush flush_srk(impl_->ctx, *srk);

  TPM2B_PUBLIC tmpl;
  std::memset(&tmpl, 0, sizeof(tmpl));
  tmpl.publicArea.type = TPM2_ALG_KEYEDHASH;
  tmpl.publicArea.nameAlg = TPM2_ALG_SHA256;
  tmpl.publicArea.objectAttributes =
      TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_NODA;
  tmpl.publicArea.authPolicy = *policy;
  tmpl.publicArea.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL;
  TPM2B_SENSITIVE_CREATE sensitive;
  std::memset(&sensitive, 0, sizeof(sensitive));
  sensitive.sensitive.data.size = static_cast<UINT16>(secret.size());
  std::copy(secret.data(), secret.data() + secret.size(),
            sensitive.sensitive.data.buffer);
  TPM2B_DATA outside;
  std::memset(&outside, 0, sizeof(outside));
  TPML_PCR_SELECTION creation_pcr;
  std::memset(&creation_pcr, 0, sizeof(creation_pcr));
  TPM2B_PRIVATE* priv = nullptr;
  TPM2B_PUBLIC* pub = nullptr;
  TSS2_RC rc =
      Esys_Create(impl_->ctx, *srk, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                  ESYS_TR_NONE, &sensitive, &tmpl, &outside, &creation_pcr,
                  &priv, &pub, nullptr, nullptr, nullptr);
  crypto::SecureWipe(&sensitive, sizeof(sensitive));
  if (rc != TSS2_RC_SUCCESS) return TssError("Esys_Create (sealed)", rc);
  EsysPtr<TPM2B_PRIVATE> free_priv(priv);
  EsysPtr<TPM2B_PUBLIC> free_pub(pub);
  SealedBlob blob;
  blob.pcrs = pcrs;
  absl::StatusOr<Bytes> p =
      MarshalTo<TPM2B_PUBLIC, Tss2_MU_TPM2B_PUBLIC_Marshal>(
          *pub, "Tss2_MU_TPM2B_PUBLIC_Marshal");
  if (!p.ok()) return p.status();
  absl::StatusOr<Bytes> s =
      MarshalTo<TPM2B_PRIVATE, Tss2_MU_TPM2B_PRIVATE_Marshal>(
          *priv, "Tss2_MU_TPM2B_PRIVATE_Marshal");
  if (!s.ok()) return s.status();
  blob.public_area = *std::move(p);
  blob.private_area = *std::move(s);
  return SerializeSealed(blob);
}

absl::StatusOr<crypto::SecretBytes> Tpm::Unseal(ByteView sealed) {
  absl::StatusOr<SealedBlob> blob = ParseSealed(sealed);
  if (!blob.ok()) return blob.status();
  absl::StatusOr<TPM2B_PUBLIC> pub =
      UnmarshalFrom<TPM2B_PUBLIC, Tss2_MU_TPM2B_PUBLIC_Unmarshal>(
          blob->public_area, "sealed blob: public");
  if (!pub.ok()) return pub.status();
  absl::StatusOr<TPM2B_PRIVATE> priv =
      UnmarshalFrom<TPM2B_PRIVATE, Tss2_MU_TPM2B_PRIVATE_Unmarshal>(
          blob->private_area, "sealed blob: private");
  if (!priv.ok()) return priv.status();

  // A precise reason first; the TPM enforces the same below.
  const std::vector<uint32_t> pcrs = Keys(blob->pcrs);
  absl::StatusOr<attest::PcrValues> now = impl_->ReadPcrs(pcrs);
  if (!now.ok()) return now.status();
  for (const auto& [pcr, value] : blob->pcrs) {
    if (now->at(pcr) != value) {
      return absl::FailedPreconditionError(
          absl::StrCat("PCR ", pcr, " differs from the sealed policy"));
    }
  }
  absl::StatusOr<TPML_PCR_SELECTION> sel = Selection(pcrs);
  if (!sel.ok()) return sel.status();
  absl::StatusOr<crypto::Digest32> composite = Impl::Composite(blob->pcrs);
  if (!composite.ok()) return composite.status();
  TPM2B_DIGEST pcr_digest;
  std::memset(&pcr_digest, 0, sizeof(pcr_digest));
  pcr_digest.size = 32;
  std::copy(composite->begin(), composite->end(), pcr_digest.buffer);

  absl::StatusOr<ESYS_TR> srk =
      impl_->CreatePrimary(ESYS_TR_RH_OWNER, SrkTemplate(), nullptr);
  if (!srk.ok()) return srk.status();
  Impl::Flush flush_srk(impl_->ctx, *srk);
  ESYS_TR object = ESYS_TR_NONE;
  TSS2_RC rc = Esys_Load(impl_->ctx, *srk, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                         ESYS_TR_NONE, &*priv, &*pub, &object);
  if (rc != TSS2_RC_SUCCESS) return TssError("Esys_Load (sealed)", rc);
  Impl::Flush flush_object(impl_->ctx, object);
  absl::StatusOr<ESYS_TR> session = impl_->StartSession(TPM2_SE_POLICY);
  if (!session.ok()) return session.status();
  Impl::Flush flush_session(impl_->ctx, *session);
  rc = Esys_PolicyPCR(impl_->ctx, *session, ESYS_TR_NONE, ESYS_TR_NONE,
                      ESYS_TR_NONE, &pcr_digest, &*sel);
  if (rc != TSS2_RC_SUCCESS) {
    // TPM_RC_VALUE: the PCRs changed after the check above.
    return absl::FailedPreconditionError(
        absl::StrCat("PCR policy not satisfied: ", Tss2_RC_Decode(rc)));
  }
  TPM2B_SENSITIVE_DATA* out = nullptr;
  rc = Esys_Unseal(impl_->ctx, object, *session, ESYS_TR_NONE, ESYS_TR_NONE,
                   &out);
  if (rc != TSS2_RC_SUCCESS) return TssError("Esys_Unseal", rc);
  crypto::SecretBytes secret =
      crypto::SecretBytes::CopyFrom(ByteView(out->buffer, out->size));
  crypto::SecureWipe(out, sizeof(*out));
  Esys_Free(out);
  return secret;
}

}  // namespace virtengine::tpm
