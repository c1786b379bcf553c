#include "security/crypto/hash.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <sodium.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "security/crypto/sodium_init.h"

namespace virtengine::crypto {

namespace v1 = ::virtengine::security::crypto::v1;

absl::StatusOr<Digest32> Sha256(Purpose purpose, ByteView data) {
  if (absl::Status s = CheckAllowed(purpose, v1::SHA256); !s.ok()) return s;
  internal::EnsureSodium();
  Digest32 d;
  crypto_hash_sha256(d.data(), data.data(), data.size());
  return d;
}

absl::StatusOr<Digest64> Sha512(Purpose purpose, ByteView data) {
  if (absl::Status s = CheckAllowed(purpose, v1::SHA512); !s.ok()) return s;
  internal::EnsureSodium();
  Digest64 d;
  crypto_hash_sha512(d.data(), data.data(), data.size());
  return d;
}

absl::StatusOr<Bytes> Blake2b(Purpose purpose, ByteView data, size_t out_len,
                              ByteView key) {
  if (absl::Status s = CheckAllowed(purpose, v1::BLAKE2B); !s.ok()) return s;
  if (out_len < crypto_generichash_BYTES_MIN ||
      out_len > crypto_generichash_BYTES_MAX) {
    return absl::InvalidArgumentError(absl::StrCat(
        "blake2b: output length ", out_len, " not in [",
        crypto_generichash_BYTES_MIN, ", ", crypto_generichash_BYTES_MAX, "]"));
  }
  if (!key.empty() && (key.size() < crypto_generichash_KEYBYTES_MIN ||
                       key.size() > crypto_generichash_KEYBYTES_MAX)) {
    return absl::InvalidArgumentError(
        absl::StrCat("blake2b: key length ", key.size(), " not in [",
                     crypto_generichash_KEYBYTES_MIN, ", ",
                     crypto_generichash_KEYBYTES_MAX, "]"));
  }
  internal::EnsureSodium();
  Bytes out(out_len);
  crypto_generichash(out.data(), out.size(), data.data(), data.size(),
                     key.empty() ? nullptr : key.data(), key.size());
  return out;
}

struct Sha256Stream::State {
  crypto_hash_sha256_state st;
};

Sha256Stream::Sha256Stream() : state_(std::make_shared<State>()) {
  crypto_hash_sha256_init(&state_->st);
}

absl::StatusOr<Sha256Stream> Sha256Stream::Create(Purpose purpose) {
  if (absl::Status s = CheckAllowed(purpose, v1::SHA256); !s.ok()) return s;
  internal::EnsureSodium();
  return Sha256Stream();
}

void Sha256Stream::Update(ByteView data) {
  crypto_hash_sha256_update(&state_->st, data.data(), data.size());
}

Digest32 Sha256Stream::Finish() {
  Digest32 d;
  crypto_hash_sha256_final(&state_->st, d.data());
  crypto_hash_sha256_init(&state_->st);
  return d;
}

namespace {

struct KdfDeleter {
  void operator()(EVP_KDF* k) const { EVP_KDF_free(k); }
};
struct KdfCtxDeleter {
  void operator()(EVP_KDF_CTX* c) const { EVP_KDF_CTX_free(c); }
};

absl::Status CheckMacKey(const SecretBytes& key) {
  const uint32_t min = ActivePolicy()->min_hmac_key_bytes();
  if (key.size() < min) {
    return absl::InvalidArgumentError(
        absl::StrCat("hmac: key of ", key.size(),
                     " bytes is below the policy minimum of ", min));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SecretBytes> HkdfSha256(Purpose purpose, const SecretBytes& ikm,
                                       ByteView salt, ByteView info,
                                       size_t out_len) {
  if (absl::Status s = CheckAllowed(purpose, v1::HKDF_SHA256); !s.ok()) {
    return s;
  }
  const uint32_t min = ActivePolicy()->min_hkdf_ikm_bytes();
  if (ikm.size() < min) {
    return absl::InvalidArgumentError(
        absl::StrCat("hkdf: input key material of ", ikm.size(),
                     " bytes is below the policy minimum of ", min));
  }
  if (out_len == 0 || out_len > size_t{255} * 32) {
    return absl::InvalidArgumentError(
        absl::StrCat("hkdf: output length ", out_len, " not in [1, 8160]"));
  }
  std::unique_ptr<EVP_KDF, KdfDeleter> kdf(
      EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  if (!kdf) return absl::InternalError("hkdf: OpenSSL HKDF unavailable");
  std::unique_ptr<EVP_KDF_CTX, KdfCtxDeleter> ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx) return absl::InternalError("hkdf: cannot allocate context");
  char digest[] = "SHA256";
  // OSSL_PARAM takes non-const pointers; OpenSSL only reads them. An empty
  // salt or info is left out: OpenSSL refuses a zero-length octet string
  // with a null pointer, and RFC 5869 defines an absent salt as HashLen
  // zero bytes, which is what OpenSSL then uses.
  OSSL_PARAM params[5];
  size_t n = 0;
  params[n++] =
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[n++] = OSSL_PARAM_construct_octet_string(
      OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(ikm.data()), ikm.size());
  if (!salt.empty()) {
    params[n++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_SALT, const_cast<uint8_t*>(salt.data()), salt.size());
  }
  if (!info.empty()) {
    params[n++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_INFO, const_cast<uint8_t*>(info.data()), info.size());
  }
  params[n] = OSSL_PARAM_construct_end();
  SecretBytes out(out_len);
  if (EVP_KDF_derive(ctx.get(), out.mutable_data(), out.size(), params) != 1) {
    return absl::InternalError("hkdf: derivation failed");
  }
  return out;
}

absl::StatusOr<Digest32> HmacSha256(Purpose purpose, const SecretBytes& key,
                                    ByteView message) {
  if (absl::Status s = CheckAllowed(purpose, v1::HMAC_SHA256); !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckMacKey(key); !s.ok()) return s;
  internal::EnsureSodium();
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key.data(), key.size());
  crypto_auth_hmacsha256_update(&st, message.data(), message.size());
  Digest32 tag;
  crypto_auth_hmacsha256_final(&st, tag.data());
  SecureWipe(&st, sizeof st);
  return tag;
}

absl::StatusOr<Digest20> HmacSha1(Purpose purpose, const SecretBytes& key,
                                  ByteView message) {
  if (absl::Status s = CheckAllowed(purpose, v1::HMAC_SHA1); !s.ok()) return s;
  if (absl::Status s = CheckMacKey(key); !s.ok()) return s;
  Digest20 tag;
  unsigned int len = 0;
  if (HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), message.data(),
           message.size(), tag.data(), &len) == nullptr ||
      len != tag.size()) {
    return absl::InternalError("hmac-sha1: OpenSSL HMAC failed");
  }
  return tag;
}

absl::Status VerifyHmacSha256(Purpose purpose, const SecretBytes& key,
                              ByteView message, ByteView tag) {
  absl::StatusOr<Digest32> want = HmacSha256(purpose, key, message);
  if (!want.ok()) return want.status();
  if (!ConstantTimeEquals(ByteView(want->data(), want->size()), tag)) {
    return absl::UnauthenticatedError("hmac-sha256: tag mismatch");
  }
  return absl::OkStatus();
}

}  // namespace virtengine::crypto
