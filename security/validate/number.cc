#include "security/validate/number.h"

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/validate/field.h"

namespace virtengine::validate {
namespace {

// Checks the syntax shared by both parsers; `allow_minus` for signed.
absl::Status CheckDecimalSyntax(std::string_view field, std::string_view value,
                                bool allow_minus) {
  if (value.empty()) {
    return internal::FieldError(field, "empty; want a decimal integer");
  }
  if (value.size() > kMaxDecimalChars) {
    return internal::FieldError(field, std::to_string(value.size()) +
                                           " characters is too long for a "
                                           "64-bit integer");
  }
  size_t start = 0;
  if (value[0] == '-') {
    if (!allow_minus) {
      return internal::FieldError(field, "negative value not allowed");
    }
    start = 1;
  } else if (value[0] == '+') {
    return internal::FieldError(field, "leading '+' not allowed");
  }
  if (start == value.size()) {
    return internal::FieldError(field, "empty; want a decimal integer");
  }
  for (size_t i = start; i < value.size(); ++i) {
    if (value[i] < '0' || value[i] > '9') {
      return internal::FieldError(
          field,
          "invalid character " +
              internal::DescribeByte(static_cast<unsigned char>(value[i])) +
              " at position " + std::to_string(i));
    }
  }
  if (value[start] == '0' && value.size() > start + 1) {
    return internal::FieldError(field, "leading zeros not allowed");
  }
  if (start == 1 && value[1] == '0') {
    return internal::FieldError(field, "negative zero not allowed");
  }
  return absl::OkStatus();
}

template <typename T>
absl::StatusOr<T> ParseDecimal(std::string_view field, std::string_view value,
                               T min, T max, const char* type_name) {
  if (absl::Status s = CheckDecimalSyntax(field, value, std::is_signed_v<T>);
      !s.ok()) {
    return s;
  }
  T out = 0;
  const char* first = value.data();
  const char* last = value.data() + value.size();
  const std::from_chars_result r = std::from_chars(first, last, out, 10);
  if (r.ec == std::errc::result_out_of_range) {
    return internal::FieldError(field,
                                std::string("out of range for ") + type_name);
  }
  if (r.ec != std::errc() || r.ptr != last) {
    // Unreachable after CheckDecimalSyntax; kept so a future change to the
    // syntax cannot silently accept a partial parse.
    return internal::FieldError(field, "not a decimal integer");
  }
  if (absl::Status s = CheckRange<T>(field, out, min, max); !s.ok()) return s;
  return out;
}

}  // namespace

absl::StatusOr<int64_t> ParseInt64(std::string_view field,
                                   std::string_view value, int64_t min,
                                   int64_t max) {
  return ParseDecimal<int64_t>(field, value, min, max, "int64");
}

absl::StatusOr<uint64_t> ParseUint64(std::string_view field,
                                     std::string_view value, uint64_t min,
                                     uint64_t max) {
  return ParseDecimal<uint64_t>(field, value, min, max, "uint64");
}

}  // namespace virtengine::validate
