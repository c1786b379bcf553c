#ifndef VIRTENGINE_SECURITY_CRYPTO_PASSWORD_H_
#define VIRTENGINE_SECURITY_CRYPTO_PASSWORD_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/crypto/bytes.h"
#include "security/crypto/secret_bytes.h"

namespace virtengine::crypto {

// Argon2id cost. The policy sets minimums; Default() is the policy minimum.
struct Argon2Cost {
  uint64_t ops_limit = 0;
  uint64_t mem_limit_bytes = 0;
  static Argon2Cost Default();
};

// Argon2id (purpose PASSWORD_HASH) for passphrases and MFA backup codes: a
// self-describing `$argon2id$v=19$m=...` string with a random salt.
absl::StatusOr<std::string> HashPassword(
    const SecretBytes& password, Argon2Cost cost = Argon2Cost::Default());
// Unauthenticated when the password does not match; InvalidArgument when
// `stored` is not an Argon2id string.
absl::Status VerifyPassword(std::string_view stored,
                            const SecretBytes& password);

// Derives a key from a passphrase (key-store backups). `salt` is 16 bytes.
absl::StatusOr<SecretBytes> DeriveKeyFromPassword(
    const SecretBytes& password, ByteView salt, size_t key_len,
    Argon2Cost cost = Argon2Cost::Default());

}  // namespace virtengine::crypto

#endif  // VIRTENGINE_SECURITY_CRYPTO_PASSWORD_H_
