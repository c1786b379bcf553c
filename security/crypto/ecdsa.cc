#include "security/crypto/ecdsa.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace virtengine::crypto {

namespace v1 = ::virtengine::security::crypto::v1;

namespace {
struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
constexpr size_t kMaxDerSignature = 72;  // 2 + 2 * (2 + 33)
}  // namespace

absl::Status VerifyEcdsaP256Sha256(Purpose purpose, ByteView public_key,
                                   ByteView message, ByteView der_signature) {
  if (absl::Status s = CheckAllowed(purpose, v1::ECDSA_P256_SHA256); !s.ok()) {
    return s;
  }
  if (!((public_key.size() == 65 && public_key[0] == 0x04) ||
        (public_key.size() == 33 &&
         (public_key[0] == 0x02 || public_key[0] == 0x03)))) {
    return absl::InvalidArgumentError(
        absl::StrCat("ecdsa-p256: public key of ", public_key.size(),
                     " bytes is not a SEC1 P-256 point"));
  }
  if (der_signature.empty() || der_signature.size() > kMaxDerSignature) {
    return absl::InvalidArgumentError(
        absl::StrCat("ecdsa-p256: signature of ", der_signature.size(),
                     " bytes is not a DER P-256 signature"));
  }
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> fctx(
      EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  if (!fctx || EVP_PKEY_fromdata_init(fctx.get()) != 1) {
    return absl::InternalError("ecdsa-p256: OpenSSL EC unavailable");
  }
  char group[] = "prime256v1";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                        const_cast<uint8_t*>(public_key.data()),
                                        public_key.size()),
      OSSL_PARAM_construct_end(),
  };
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(fctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params) != 1 ||
      raw == nullptr) {
    return absl::InvalidArgumentError(
        "ecdsa-p256: public key is not a point on P-256");
  }
  std::unique_ptr<EVP_PKEY, PkeyDeleter> pkey(raw);
  // fromdata does not check the point is on the curve; do it explicitly.
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> cctx(
      EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!cctx || EVP_PKEY_public_check(cctx.get()) != 1) {
    return absl::InvalidArgumentError(
        "ecdsa-p256: public key is not a valid P-256 point");
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> md(EVP_MD_CTX_new());
  if (!md || EVP_DigestVerifyInit_ex(md.get(), nullptr, "SHA256", nullptr,
                                     nullptr, pkey.get(), nullptr) != 1) {
    return absl::InternalError("ecdsa-p256: cannot initialise verification");
  }
  const int rc =
      EVP_DigestVerify(md.get(), der_signature.data(), der_signature.size(),
                       message.data(), message.size());
  if (rc != 1) {
    return absl::UnauthenticatedError("ecdsa-p256: signature does not verify");
  }
  return absl::OkStatus();
}

}  // namespace virtengine::crypto
