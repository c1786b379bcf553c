#ifndef VIRTENGINE_SECURITY_CRYPTO_HASH_H_
#define VIRTENGINE_SECURITY_CRYPTO_HASH_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/crypto/bytes.h"
#include "security/crypto/policy.h"
#include "security/crypto/secret_bytes.h"

namespace virtengine::crypto {

using Digest32 = std::array<uint8_t, 32>;
using Digest64 = std::array<uint8_t, 64>;
using Digest20 = std::array<uint8_t, 20>;

// Hashes. Each call names its purpose and is refused (PermissionDenied) when
// the active crypto policy does not allow the algorithm for it.
absl::StatusOr<Digest32> Sha256(Purpose purpose, ByteView data);
absl::StatusOr<Digest64> Sha512(Purpose purpose, ByteView data);
// BLAKE2b with an output of 16..64 bytes, optionally keyed (key 16..64).
absl::StatusOr<Bytes> Blake2b(Purpose purpose, ByteView data, size_t out_len,
                              ByteView key = {});

// Incremental SHA-256 for streams (files, audit chains).
class Sha256Stream {
 public:
  static absl::StatusOr<Sha256Stream> Create(Purpose purpose);
  void Update(ByteView data);
  Digest32 Finish();

 private:
  Sha256Stream();
  struct State;
  std::shared_ptr<State> state_;
};

// HKDF-SHA256 (RFC 5869) extract-and-expand; out_len <= 255 * 32.
absl::StatusOr<SecretBytes> HkdfSha256(Purpose purpose, const SecretBytes& ikm,
                                       ByteView salt, ByteView info,
                                       size_t out_len);

// HMAC-SHA256 / HMAC-SHA1 (RFC 2104). Keys shorter than the policy minimum
// are refused. HMAC-SHA1 exists for RFC 6238 TOTP and the policy allows it
// for nothing else.
absl::StatusOr<Digest32> HmacSha256(Purpose purpose, const SecretBytes& key,
                                    ByteView message);
absl::StatusOr<Digest20> HmacSha1(Purpose purpose, const SecretBytes& key,
                                  ByteView message);
// Recomputes the tag and compares in constant time; Unauthenticated when it
// differs.
absl::Status VerifyHmacSha256(Purpose purpose, const SecretBytes& key,
                              ByteView message, ByteView tag);

}  // namespace virtengine::crypto

#endif  // VIRTENGINE_SECURITY_CRYPTO_HASH_H_
