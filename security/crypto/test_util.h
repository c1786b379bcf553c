#ifndef VIRTENGINE_SECURITY_CRYPTO_TEST_UTIL_H_
#define VIRTENGINE_SECURITY_CRYPTO_TEST_UTIL_H_

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "security/crypto/bytes.h"

namespace virtengine::crypto::testing {

// Test-vector helpers (tests only; production code uses src/common/encoding).
inline Bytes H(std::string_view hex) {
  Bytes out;
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    std::abort();
  };
  if (hex.size() % 2 != 0) std::abort();
  for (size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(nib(hex[i]) * 16 + nib(hex[i + 1])));
  }
  return out;
}

template <typename C>
std::string Hex(const C& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (uint8_t b : bytes) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 0xf]);
  }
  return s;
}

}  // namespace virtengine::crypto::testing

#endif  // VIRTENGINE_SECURITY_CRYPTO_TEST_UTIL_H_
