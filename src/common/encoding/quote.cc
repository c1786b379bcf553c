#include "src/common/encoding/quote.h"

namespace virtengine::encoding {

std::string QuoteUntrusted(std::string_view text, size_t max) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "'";
  size_t n = 0;
  for (const char ch : text) {
    if (n++ == max) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out.push_back(ch);
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  out += "'";
  return out;
}

}  // namespace virtengine::encoding
