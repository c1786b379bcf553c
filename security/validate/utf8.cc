#include "security/validate/utf8.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "security/validate/field.h"
#include "security/validate/size.h"

namespace virtengine::validate {
namespace {

bool IsCont(uint8_t b) { return (b & 0xC0) == 0x80; }

bool IsControl(uint32_t cp, ControlChars control) {
  const bool cc = cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
  if (!cc) return false;
  if (control == ControlChars::kRejectExceptWhitespace) {
    return cp != '\t' && cp != '\n' && cp != '\r';
  }
  return true;
}

std::string CodePoint(uint32_t cp) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out = "U+";
  for (int shift = 12; shift >= 0; shift -= 4) {
    out.push_back(kDigits[(cp >> shift) & 0xF]);
  }
  return out;
}

}  // namespace

std::optional<Utf8Error> FindUtf8Error(std::string_view text) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const uint8_t b0 = s[i];
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint8_t lo = 0x80;  // allowed range of the second byte (Table 3-7)
    uint8_t hi = 0xBF;
    const char* low_reason = "invalid continuation byte";
    const char* high_reason = "invalid continuation byte";
    if (b0 < 0xC0) return Utf8Error{i, "unexpected continuation byte"};
    if (b0 < 0xC2) return Utf8Error{i, "overlong encoding"};
    if (b0 >= 0xF5) {
      return Utf8Error{
          i, b0 < 0xF8 ? "code point above U+10FFFF" : "invalid lead byte"};
    }
    if (b0 < 0xE0) {
      len = 2;
    } else if (b0 < 0xF0) {
      len = 3;
      if (b0 == 0xE0) {
        lo = 0xA0;
        low_reason = "overlong encoding";
      } else if (b0 == 0xED) {
        hi = 0x9F;
        high_reason = "surrogate code point";
      }
    } else {
      len = 4;
      if (b0 == 0xF0) {
        lo = 0x90;
        low_reason = "overlong encoding";
      } else if (b0 == 0xF4) {
        hi = 0x8F;
        high_reason = "code point above U+10FFFF";
      }
    }
    // Each following byte is checked in order; running out of input first
    // is truncation, a byte outside its range first is the reason given.
    for (size_t k = 1; k < len; ++k) {
      if (i + k >= n) return Utf8Error{i, "truncated sequence"};
      const uint8_t b = s[i + k];
      if (k == 1 && IsCont(b)) {
        if (b < lo) return Utf8Error{i, low_reason};
        if (b > hi) return Utf8Error{i, high_reason};
      } else if (!IsCont(b)) {
        return Utf8Error{i, "invalid continuation byte"};
      }
    }
    i += len;
  }
  return std::nullopt;
}

absl::Status ValidateUtf8(std::string_view field, std::string_view value,
                          ControlChars control) {
  if (const std::optional<Utf8Error> err = FindUtf8Error(value)) {
    return internal::FieldError(field, "not valid UTF-8 at byte " +
                                           std::to_string(err->offset) + ": " +
                                           err->reason);
  }
  if (control == ControlChars::kAllow) return absl::OkStatus();
  // Control characters are U+0000..U+009F: one byte, or 0xC2 0x80..0x9F.
  const auto* s = reinterpret_cast<const uint8_t*>(value.data());
  for (size_t i = 0; i < value.size(); ++i) {
    uint32_t cp = 0xFFFFFFFF;
    if (s[i] < 0x80) {
      cp = s[i];
    } else if (s[i] == 0xC2 && i + 1 < value.size()) {
      cp = s[i + 1] & 0x3F;
      cp |= 0x80;
    }
    if (cp != 0xFFFFFFFF && IsControl(cp, control)) {
      return internal::FieldError(field, "control character " + CodePoint(cp) +
                                             " at byte " + std::to_string(i));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateText(std::string_view field, std::string_view value,
                          size_t max_bytes, ControlChars control) {
  if (absl::Status s = CheckSize(field, value, max_bytes); !s.ok()) return s;
  return ValidateUtf8(field, value, control);
}

}  // namespace virtengine::validate
