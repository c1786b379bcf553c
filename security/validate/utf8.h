// Strict UTF-8 (RFC 3629, Unicode Table 3-7 "well-formed byte sequences").
//
// Rejected: stray continuation bytes, lead bytes 0xC0, 0xC1 and 0xF5..0xFF,
// truncated sequences, overlong encodings, surrogates (U+D800..U+DFFF) and
// code points above U+10FFFF. Offsets in messages are zero-based byte offsets
// of the first byte of the offending sequence.
#ifndef VIRTENGINE_SECURITY_VALIDATE_UTF8_H_
#define VIRTENGINE_SECURITY_VALIDATE_UTF8_H_

#include <cstddef>
#include <optional>
#include <string_view>

#include "absl/status/status.h"

namespace virtengine::validate {

// What ValidateUtf8 does with control characters (general category Cc:
// U+0000..U+001F, U+007F, U+0080..U+009F).
enum class ControlChars {
  kAllow,
  kReject,
  kRejectExceptWhitespace,  // allows only TAB, LF and CR
};

struct Utf8Error {
  size_t offset;       // first byte of the ill-formed sequence
  const char* reason;  // static string, e.g. "overlong encoding"
};

// The first ill-formedness in `text`, or nullopt when it is valid UTF-8.
std::optional<Utf8Error> FindUtf8Error(std::string_view text);

// OK when `value` is valid UTF-8 (and obeys `control`), else InvalidArgument:
//   "<field>: not valid UTF-8 at byte N: <reason>"
//   "<field>: control character U+XXXX at byte N"
absl::Status ValidateUtf8(std::string_view field, std::string_view value,
                          ControlChars control = ControlChars::kAllow);

// CheckSize then ValidateUtf8: the usual check of a free-text field.
absl::Status ValidateText(std::string_view field, std::string_view value,
                          size_t max_bytes,
                          ControlChars control = ControlChars::kReject);

}  // namespace virtengine::validate

#endif  // VIRTENGINE_SECURITY_VALIDATE_UTF8_H_
