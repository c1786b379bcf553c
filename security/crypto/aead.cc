#include "security/crypto/aead.h"

#include <sodium.h>

#include "absl/strings/str_cat.h"
#include "security/crypto/random.h"
#include "security/crypto/sodium_init.h"

namespace virtengine::crypto {

namespace v1 = ::virtengine::security::crypto::v1;

static_assert(Aead::kNonceSize == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
static_assert(Aead::kTagSize == crypto_aead_xchacha20poly1305_ietf_ABYTES);
static_assert(Aead::kKeySize == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);

absl::StatusOr<Aead> Aead::Create(Purpose purpose, SecretBytes key) {
  if (absl::Status s = CheckAllowed(purpose, v1::XCHACHA20_POLY1305); !s.ok()) {
    return s;
  }
  if (key.size() != kKeySize) {
    return absl::InvalidArgumentError(
        absl::StrCat("aead: key is ", key.size(), " bytes, want ", kKeySize));
  }
  internal::EnsureSodium();
  return Aead(purpose, std::move(key));
}

SecretBytes Aead::GenerateKey() { return RandomSecret(kKeySize); }

absl::StatusOr<Bytes> Aead::Seal(ByteView plaintext,
                                 ByteView associated) const {
  if (absl::Status s = CheckAllowed(purpose_, v1::XCHACHA20_POLY1305);
      !s.ok()) {
    return s;
  }
  if (plaintext.size() > kMaxPlaintext) {
    return absl::InvalidArgumentError(
        absl::StrCat("aead: plaintext of ", plaintext.size(), " bytes exceeds ",
                     kMaxPlaintext));
  }
  Bytes out(kNonceSize + plaintext.size() + kTagSize);
  RandomFill(absl::MakeSpan(out.data(), kNonceSize));
  unsigned long long clen = 0;  // NOLINT(google-runtime-int): libsodium API
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      out.data() + kNonceSize, &clen, plaintext.data(), plaintext.size(),
      associated.data(), associated.size(), nullptr, out.data(), key_.data());
  out.resize(kNonceSize + clen);
  return out;
}

absl::StatusOr<SecretBytes> Aead::Open(ByteView sealed,
                                       ByteView associated) const {
  if (absl::Status s = CheckAllowed(purpose_, v1::XCHACHA20_POLY1305);
      !s.ok()) {
    return s;
  }
  if (sealed.size() < kOverhead || sealed.size() > kMaxPlaintext + kOverhead) {
    return absl::InvalidArgumentError(absl::StrCat(
        "aead: sealed data of ", sealed.size(), " bytes has an invalid size"));
  }
  SecretBytes plain(sealed.size() - kOverhead);
  unsigned long long plen = 0;  // NOLINT(google-runtime-int): libsodium API
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          plain.mutable_data(), &plen, nullptr, sealed.data() + kNonceSize,
          sealed.size() - kNonceSize, associated.data(), associated.size(),
          sealed.data(), key_.data()) != 0) {
    return absl::UnauthenticatedError(
        "aead: authentication failed (wrong key, or data altered)");
  }
  return plain;
}

}  // namespace virtengine::crypto
