#include "src/common/encoding/describe.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace virtengine::encoding::internal {

std::string DescribeByte(uint8_t byte) {
  if (byte > 0x20 && byte < 0x7f && byte != '\'' && byte != '\\') {
    return std::string("'") + static_cast<char>(byte) + "'";
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "0x";
  out.push_back(kDigits[byte >> 4]);
  out.push_back(kDigits[byte & 0x0f]);
  return out;
}

std::string SizeExceeds(const char* prefix, size_t size, size_t max) {
  return std::string(prefix) + ": decoded size " + std::to_string(size) +
         " bytes exceeds limit " + std::to_string(max);
}

}  // namespace virtengine::encoding::internal
