#include "src/common/encoding/hex.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "src/common/encoding/describe.h"

namespace virtengine::encoding {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

// Value of a hex digit, or -1.
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string HexEncode(absl::Span<const uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const uint8_t b : bytes) {
    out.push_back(kHexDigits[b >> 4]);
    out.push_back(kHexDigits[b & 0x0f]);
  }
  return out;
}

std::string HexEncode(std::string_view bytes) {
  return HexEncode(absl::Span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

absl::StatusOr<std::vector<uint8_t>> HexDecode(std::string_view hex,
                                               size_t max_bytes) {
  if (hex.size() % 2 != 0) {
    return absl::InvalidArgumentError("hex: odd length " +
                                      std::to_string(hex.size()));
  }
  const size_t out_size = hex.size() / 2;
  if (out_size > max_bytes) {
    return absl::InvalidArgumentError(
        internal::SizeExceeds("hex", out_size, max_bytes));
  }
  std::vector<uint8_t> out(out_size);
  for (size_t i = 0; i < out_size; ++i) {
    const int hi = HexValue(hex[2 * i]);
    const int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      const size_t pos = hi < 0 ? 2 * i : 2 * i + 1;
      return absl::InvalidArgumentError(
          "hex: invalid character " +
          internal::DescribeByte(static_cast<uint8_t>(hex[pos])) +
          " at position " + std::to_string(pos));
    }
    out[i] = static_cast<uint8_t>((hi << 4) | lo);
  }
  return out;
}

}  // namespace virtengine::encoding
