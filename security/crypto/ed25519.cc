#include "security/crypto/ed25519.h"

#include <sodium.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "security/crypto/random.h"
#include "security/crypto/sodium_init.h"

namespace virtengine::crypto {

namespace v1 = ::virtengine::security::crypto::v1;

absl::StatusOr<Ed25519PublicKey> Ed25519PublicKey::FromBytes(ByteView bytes) {
  if (bytes.size() != kSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ed25519: public key is ", bytes.size(), " bytes, want ", kSize));
  }
  std::array<uint8_t, kSize> k;
  std::memcpy(k.data(), bytes.data(), kSize);
  return Ed25519PublicKey(k);
}

absl::Status Ed25519PublicKey::Verify(Purpose purpose, ByteView message,
                                      ByteView signature) const {
  if (absl::Status s = CheckAllowed(purpose, v1::ED25519); !s.ok()) return s;
  if (signature.size() != crypto_sign_BYTES) {
    return absl::InvalidArgumentError(
        absl::StrCat("ed25519: signature is ", signature.size(),
                     " bytes, want ", crypto_sign_BYTES));
  }
  internal::EnsureSodium();
  if (crypto_sign_verify_detached(signature.data(), message.data(),
                                  message.size(), key_.data()) != 0) {
    return absl::UnauthenticatedError("ed25519: signature does not verify");
  }
  return absl::OkStatus();
}

absl::StatusOr<Ed25519PrivateKey> Ed25519PrivateKey::FromSeed(
    Purpose purpose, const SecretBytes& seed) {
  if (absl::Status s = CheckAllowed(purpose, v1::ED25519); !s.ok()) return s;
  if (seed.size() != kSeedSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ed25519: seed is ", seed.size(), " bytes, want ", kSeedSize));
  }
  internal::EnsureSodium();
  std::array<uint8_t, crypto_sign_PUBLICKEYBYTES> pk;
  SecretBytes sk(crypto_sign_SECRETKEYBYTES);
  crypto_sign_seed_keypair(pk.data(), sk.mutable_data(), seed.data());
  return Ed25519PrivateKey(purpose, seed.Clone(), std::move(sk),
                           Ed25519PublicKey(pk));
}

absl::StatusOr<Ed25519PrivateKey> Ed25519PrivateKey::Generate(Purpose purpose) {
  return FromSeed(purpose, RandomSecret(kSeedSize));
}

absl::StatusOr<Ed25519Signature> Ed25519PrivateKey::Sign(
    ByteView message) const {
  if (absl::Status s = CheckAllowed(purpose_, v1::ED25519); !s.ok()) return s;
  Ed25519Signature sig;
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(),
                       expanded_.data());
  return sig;
}

}  // namespace virtengine::crypto
