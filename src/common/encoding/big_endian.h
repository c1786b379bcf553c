// Fixed-width big-endian integers, as state keys and records store them
// (byte order = numeric order, so RocksDB iterates keys by number).
#ifndef VIRTENGINE_SRC_COMMON_ENCODING_BIG_ENDIAN_H_
#define VIRTENGINE_SRC_COMMON_ENCODING_BIG_ENDIAN_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace virtengine::encoding {

// The 8 bytes of `v`, most significant first.
inline std::string BigEndian64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

// The number in bytes [at, at + 8) of `b`; the caller checks the size.
inline uint64_t ReadBigEndian64(std::string_view b, size_t at = 0) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) {
    v = (v << 8) | static_cast<uint8_t>(b[at + i]);
  }
  return v;
}

}  // namespace virtengine::encoding

#endif  // VIRTENGINE_SRC_COMMON_ENCODING_BIG_ENDIAN_H_
