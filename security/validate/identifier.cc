#include "security/validate/identifier.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "security/validate/field.h"

namespace virtengine::validate {
namespace {

bool Allowed(char c, uint32_t classes, std::string_view extra) {
  if ((classes & kLower) != 0 && c >= 'a' && c <= 'z') return true;
  if ((classes & kUpper) != 0 && c >= 'A' && c <= 'Z') return true;
  if ((classes & kDigit) != 0 && c >= '0' && c <= '9') return true;
  // Only ASCII extras count; a UTF-8 byte can never match one.
  return static_cast<unsigned char>(c) < 0x80 &&
         extra.find(c) != std::string_view::npos;
}

}  // namespace

std::string DescribeCharSet(uint32_t classes, std::string_view extra) {
  std::string out = "[";
  if ((classes & kLower) != 0) out += "a-z";
  if ((classes & kUpper) != 0) out += "A-Z";
  if ((classes & kDigit) != 0) out += "0-9";
  // '-' goes last so that it reads as a literal.
  bool dash = false;
  for (const char c : extra) {
    if (c == '-') {
      dash = true;
    } else {
      out.push_back(c);
    }
  }
  if (dash) out.push_back('-');
  out.push_back(']');
  return out;
}

absl::Status ValidateIdentifier(std::string_view field, std::string_view value,
                                const IdentifierPattern& pattern) {
  if (value.size() < pattern.min_length) {
    return internal::FieldError(
        field, "length " + std::to_string(value.size()) + " is below minimum " +
                   std::to_string(pattern.min_length));
  }
  if (value.size() > pattern.max_length) {
    return internal::FieldError(
        field, "length " + std::to_string(value.size()) + " exceeds maximum " +
                   std::to_string(pattern.max_length));
  }
  for (size_t i = 0; i < value.size(); ++i) {
    const uint32_t classes =
        i == 0 ? pattern.first_classes : pattern.rest_classes;
    const std::string_view extra =
        i == 0 ? pattern.first_extra : pattern.rest_extra;
    if (!Allowed(value[i], classes, extra)) {
      return internal::FieldError(
          field,
          "invalid character " +
              internal::DescribeByte(static_cast<unsigned char>(value[i])) +
              " at position " + std::to_string(i) +
              "; allowed: " + DescribeCharSet(classes, extra));
    }
  }
  return absl::OkStatus();
}

}  // namespace virtengine::validate
