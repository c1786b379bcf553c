#ifndef VIRTENGINE_SECURITY_CRYPTO_ED25519_H_
#define VIRTENGINE_SECURITY_CRYPTO_ED25519_H_

#include <array>
#include <cstdint>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/crypto/bytes.h"
#include "security/crypto/policy.h"
#include "security/crypto/secret_bytes.h"

namespace virtengine::crypto {

using Ed25519Signature = std::array<uint8_t, 64>;

class Ed25519PublicKey {
 public:
  static constexpr size_t kSize = 32;
  static absl::StatusOr<Ed25519PublicKey> FromBytes(ByteView bytes);

  // OK only for a valid signature by this key over `message`; a policy that
  // does not allow Ed25519 for `purpose` refuses (PermissionDenied), a bad
  // signature is Unauthenticated. Non-canonical signatures and small-order
  // keys are rejected (libsodium's strict verification).
  absl::Status Verify(Purpose purpose, ByteView message,
                      ByteView signature) const;

  const std::array<uint8_t, kSize>& bytes() const { return key_; }
  ByteView view() const { return ByteView(key_.data(), key_.size()); }
  bool operator==(const Ed25519PublicKey& o) const { return key_ == o.key_; }

 private:
  friend class Ed25519PrivateKey;
  explicit Ed25519PublicKey(const std::array<uint8_t, kSize>& k) : key_(k) {}
  std::array<uint8_t, kSize> key_;
};

// An Ed25519 signing key bound to one purpose when made. The 32-byte seed
// is the secret (RFC 8032's private key); it lives in SecretBytes.
class Ed25519PrivateKey {
 public:
  static constexpr size_t kSeedSize = 32;

  static absl::StatusOr<Ed25519PrivateKey> Generate(Purpose purpose);
  static absl::StatusOr<Ed25519PrivateKey> FromSeed(Purpose purpose,
                                                    const SecretBytes& seed);

  absl::StatusOr<Ed25519Signature> Sign(ByteView message) const;
  const Ed25519PublicKey& public_key() const { return public_key_; }
  Purpose purpose() const { return purpose_; }
  // For the key store only (sealing, backup).
  const SecretBytes& seed() const { return seed_; }

 private:
  Ed25519PrivateKey(Purpose purpose, SecretBytes seed, SecretBytes expanded,
                    Ed25519PublicKey pub)
      : purpose_(purpose),
        seed_(std::move(seed)),
        expanded_(std::move(expanded)),
        public_key_(pub) {}

  Purpose purpose_;
  SecretBytes seed_;
  SecretBytes expanded_;  // libsodium's 64-byte secret key (seed || pk)
  Ed25519PublicKey public_key_;
};

}  // namespace virtengine::crypto

#endif  // VIRTENGINE_SECURITY_CRYPTO_ED25519_H_
