#ifndef VIRTENGINE_SECURITY_CRYPTO_BYTES_H_
#define VIRTENGINE_SECURITY_CRYPTO_BYTES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"

namespace virtengine::crypto {

// Read-only view of bytes, the input type of every primitive.
using ByteView = absl::Span<const uint8_t>;
using Bytes = std::vector<uint8_t>;

inline ByteView AsBytes(std::string_view s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

inline std::string_view AsChars(ByteView b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

inline std::string ToString(ByteView b) { return std::string(AsChars(b)); }

}  // namespace virtengine::crypto

#endif  // VIRTENGINE_SECURITY_CRYPTO_BYTES_H_
