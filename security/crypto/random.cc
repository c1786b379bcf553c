#include "security/crypto/random.h"

#include <sodium.h>

#include "security/crypto/sodium_init.h"

namespace virtengine::crypto {

void RandomFill(absl::Span<uint8_t> out) {
  internal::EnsureSodium();
  if (!out.empty()) randombytes_buf(out.data(), out.size());
}

Bytes RandomBytes(size_t n) {
  Bytes b(n);
  RandomFill(absl::MakeSpan(b));
  return b;
}

SecretBytes RandomSecret(size_t n) {
  SecretBytes s(n);
  RandomFill(absl::Span<uint8_t>(s.mutable_data(), s.size()));
  return s;
}

uint64_t RandomUint64() {
  uint64_t v = 0;
  RandomFill(absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(&v), sizeof v));
  return v;
}

uint32_t RandomUniform(uint32_t upper_bound) {
  internal::EnsureSodium();
  return randombytes_uniform(upper_bound);
}

}  // namespace virtengine::crypto
