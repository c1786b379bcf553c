#include "src/common/encoding/base64.h"

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

constexpr char kStandardAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrlAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const char* Alphabet(Base64Variant variant) {
  return variant == Base64Variant::kStandard ? kStandardAlphabet : kUrlAlphabet;
}

const char* Prefix(Base64Variant variant) {
  return variant == Base64Variant::kStandard ? "base64" : "base64url";
}

// Value of a character in the variant's alphabet, or -1.
int Value(char c, Base64Variant variant) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (variant == Base64Variant::kStandard) {
    if (c == '+') return 62;
    if (c == '/') return 63;
  } else {
    if (c == '-') return 62;
    if (c == '_') return 63;
  }
  return -1;
}

absl::Status Error(Base64Variant variant, const std::string& what) {
  return absl::InvalidArgumentError(std::string(Prefix(variant)) + ": " + what);
}

}  // namespace

std::string Base64Encode(absl::Span<const uint8_t> bytes,
                         Base64Variant variant) {
  const char* alphabet = Alphabet(variant);
  const bool pad = variant == Base64Variant::kStandard;
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t n = (uint32_t{bytes[i]} << 16) |
                       (uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    out.push_back(alphabet[(n >> 18) & 0x3f]);
    out.push_back(alphabet[(n >> 12) & 0x3f]);
    out.push_back(alphabet[(n >> 6) & 0x3f]);
    out.push_back(alphabet[n & 0x3f]);
  }
  const size_t rest = bytes.size() - i;
  if (rest == 1) {
    const uint32_t n = uint32_t{bytes[i]} << 16;
    out.push_back(alphabet[(n >> 18) & 0x3f]);
    out.push_back(alphabet[(n >> 12) & 0x3f]);
    if (pad) out.append("==");
  } else if (rest == 2) {
    const uint32_t n =
        (uint32_t{bytes[i]} << 16) | (uint32_t{bytes[i + 1]} << 8);
    out.push_back(alphabet[(n >> 18) & 0x3f]);
    out.push_back(alphabet[(n >> 12) & 0x3f]);
    out.push_back(alphabet[(n >> 6) & 0x3f]);
    if (pad) out.push_back('=');
  }
  return out;
}

std::string Base64Encode(std::string_view bytes, Base64Variant variant) {
  return Base64Encode(
      absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()),
                                bytes.size()),
      variant);
}

absl::StatusOr<std::vector<uint8_t>> Base64Decode(std::string_view text,
                                                  size_t max_bytes,
                                                  Base64Variant variant) {
  const size_t len = text.size();
  size_t data_chars = len;  // characters that carry bits (padding excluded)
  size_t out_size = 0;
  if (variant == Base64Variant::kStandard) {
    if (len % 4 != 0) {
      return Error(variant, "length " + std::to_string(len) +
                                " is not a multiple of 4 (padding is "
                                "required)");
    }
    if (len >= 1 && text[len - 1] == '=') --data_chars;
    if (len >= 2 && text[len - 2] == '=') --data_chars;
    out_size = len / 4 * 3 - (len - data_chars);
  } else {
    if (len % 4 == 1) {
      return Error(variant, "length " + std::to_string(len) +
                                " is invalid (a final group of 1 character)");
    }
    out_size = len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1);
  }
  if (out_size > max_bytes) {
    return absl::InvalidArgumentError(
        internal::SizeExceeds(Prefix(variant), out_size, max_bytes));
  }

  std::vector<uint8_t> out;
  out.reserve(out_size);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < data_chars; ++i) {
    const int v = Value(text[i], variant);
    if (v < 0) {
      if (text[i] == '=') {
        return Error(
            variant,
            variant == Base64Variant::kStandard
                ? "unexpected padding '=' at position " + std::to_string(i)
                : "padding '=' not allowed at position " + std::to_string(i));
      }
      return Error(variant,
                   "invalid character " +
                       internal::DescribeByte(static_cast<uint8_t>(text[i])) +
                       " at position " + std::to_string(i));
    }
    acc = ((acc << 6) | static_cast<uint32_t>(v)) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>(acc >> bits));
    }
  }
  // 0, 2 or 4 bits are left over; a canonical encoding leaves them zero.
  if ((acc & ((1u << bits) - 1)) != 0) {
    return Error(variant,
                 "non-canonical encoding: unused bits of the character at "
                 "position " +
                     std::to_string(data_chars - 1) + " are not zero");
  }
  return out;
}

}  // namespace virtengine::encoding
