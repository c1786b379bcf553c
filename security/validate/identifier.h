// Identifier patterns: length bounds and an ASCII character set for the first
// and for the following characters. Covers the regular expressions
//   [first][rest]{min-1,max-1}
// that names, denominations and chain ids use, without a regex engine.
#ifndef VIRTENGINE_SECURITY_VALIDATE_IDENTIFIER_H_
#define VIRTENGINE_SECURITY_VALIDATE_IDENTIFIER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace virtengine::validate {

// Character classes, combined with |.
enum CharClass : uint32_t {
  kLower = 1u << 0,  // a-z
  kUpper = 1u << 1,  // A-Z
  kDigit = 1u << 2,  // 0-9
};

struct IdentifierPattern {
  size_t min_length;
  size_t max_length;
  uint32_t first_classes;        // classes allowed as the first character
  std::string_view first_extra;  // other ASCII characters allowed first
  uint32_t rest_classes;         // classes allowed after the first
  std::string_view rest_extra;   // other ASCII characters allowed after it
};

// [a-z][a-z0-9_]{0,63}: module, parameter and message-type names.
inline constexpr IdentifierPattern kLowerIdentifier = {
    1, 64, kLower, "", kLower | kDigit, "_"};
// [a-z0-9][a-z0-9-]{0,47}: chain ids (48 characters, as Cosmos-SDK).
inline constexpr IdentifierPattern kChainId = {
    1, 48, kLower | kDigit, "", kLower | kDigit, "-"};
// [a-zA-Z][a-zA-Z0-9/:._-]{2,127}: coin denominations (Cosmos-SDK's rule).
inline constexpr IdentifierPattern kDenom = {
    3, 128, kLower | kUpper, "", kLower | kUpper | kDigit, "/:._-"};

// The set a pattern allows, as a regex class, e.g. "[a-z0-9_]".
std::string DescribeCharSet(uint32_t classes, std::string_view extra);

// InvalidArgument, in this order:
//   "<field>: length N is below minimum M"
//   "<field>: length N exceeds maximum M"
//   "<field>: invalid character '$' at position P; allowed: [a-z0-9_]"
absl::Status ValidateIdentifier(std::string_view field, std::string_view value,
                                const IdentifierPattern& pattern);

}  // namespace virtengine::validate

#endif  // VIRTENGINE_SECURITY_VALIDATE_IDENTIFIER_H_
