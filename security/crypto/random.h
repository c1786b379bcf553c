#ifndef VIRTENGINE_SECURITY_CRYPTO_RANDOM_H_
#define VIRTENGINE_SECURITY_CRYPTO_RANDOM_H_

#include <cstddef>
#include <cstdint>

#include "absl/types/span.h"
#include "security/crypto/bytes.h"
#include "security/crypto/secret_bytes.h"

namespace virtengine::crypto {

// The project's only source of randomness: libsodium's CSPRNG (getrandom(2)
// on Linux). No other generator (C library or <random> engines) may be used.

void RandomFill(absl::Span<uint8_t> out);
Bytes RandomBytes(size_t n);
SecretBytes RandomSecret(size_t n);
uint64_t RandomUint64();
// Uniform in [0, upper_bound) without modulo bias; upper_bound > 0.
uint32_t RandomUniform(uint32_t upper_bound);

}  // namespace virtengine::crypto

#endif  // VIRTENGINE_SECURITY_CRYPTO_RANDOM_H_
