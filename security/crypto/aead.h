#ifndef VIRTENGINE_SECURITY_CRYPTO_AEAD_H_
#define VIRTENGINE_SECURITY_CRYPTO_AEAD_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/crypto/bytes.h"
#include "security/crypto/policy.h"
#include "security/crypto/secret_bytes.h"

namespace virtengine::crypto {

// XChaCha20-Poly1305 (IETF) authenticated encryption with associated data,
// for wrapping keys at rest (purpose KEY_WRAP). The nonce is 24 random bytes
// chosen here, never by the caller, and travels in front of the ciphertext:
//   sealed = nonce (24) || ciphertext || tag (16)
class Aead {
 public:
  static constexpr size_t kKeySize = 32;
  static constexpr size_t kNonceSize = 24;
  static constexpr size_t kTagSize = 16;
  static constexpr size_t kOverhead = kNonceSize + kTagSize;
  static constexpr size_t kMaxPlaintext = 64 * 1024 * 1024;

  static absl::StatusOr<Aead> Create(Purpose purpose, SecretBytes key);
  static SecretBytes GenerateKey();

  absl::StatusOr<Bytes> Seal(ByteView plaintext, ByteView associated) const;
  // Unauthenticated when the ciphertext, nonce, tag or associated data was
  // altered or the key is wrong.
  absl::StatusOr<SecretBytes> Open(ByteView sealed, ByteView associated) const;

 private:
  Aead(Purpose purpose, SecretBytes key)
      : purpose_(purpose), key_(std::move(key)) {}
  Purpose purpose_;
  SecretBytes key_;
};

}  // namespace virtengine::crypto

#endif  // VIRTENGINE_SECURITY_CRYPTO_AEAD_H_
