// Integers: strict decimal parsing (std::from_chars, no exceptions, no
// locale) and range checks.
//
// Accepted syntax: an optional '-' (signed only), then 1..20 ASCII digits with
// no leading zero unless the number is exactly "0". Rejected: empty strings,
// '+', whitespace, "-0", leading zeros, anything after the digits, values
// outside the type.
#ifndef VIRTENGINE_SECURITY_VALIDATE_NUMBER_H_
#define VIRTENGINE_SECURITY_VALIDATE_NUMBER_H_

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace virtengine::validate {

// Longest accepted input: "18446744073709551615" and "-9223372036854775808".
inline constexpr size_t kMaxDecimalChars = 20;

// InvalidArgument, in this order:
//   "<field>: empty; want a decimal integer"
//   "<field>: N characters is too long for a 64-bit integer"
//   "<field>: negative value not allowed"          (unsigned only)
//   "<field>: leading '+' not allowed"
//   "<field>: invalid character 'x' at position P"
//   "<field>: leading zeros not allowed"
//   "<field>: negative zero not allowed"
//   "<field>: out of range for int64" / "... for uint64"
//   "<field>: V is below minimum MIN" / "<field>: V is above maximum MAX"
absl::StatusOr<int64_t> ParseInt64(
    std::string_view field, std::string_view value,
    int64_t min = std::numeric_limits<int64_t>::min(),
    int64_t max = std::numeric_limits<int64_t>::max());
absl::StatusOr<uint64_t> ParseUint64(
    std::string_view field, std::string_view value, uint64_t min = 0,
    uint64_t max = std::numeric_limits<uint64_t>::max());

// OK when min <= value <= max, else the below/above message above.
template <typename T>
absl::Status CheckRange(std::string_view field, T value, T min, T max) {
  static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>,
                "CheckRange takes integers");
  const char* what = nullptr;
  T bound = value;
  if (value < min) {
    what = " is below minimum ";
    bound = min;
  } else if (value > max) {
    what = " is above maximum ";
    bound = max;
  } else {
    return absl::OkStatus();
  }
  std::string msg(field);
  if (!msg.empty()) msg += ": ";
  msg += std::to_string(value) + what + std::to_string(bound);
  return absl::InvalidArgumentError(msg);
}

}  // namespace virtengine::validate

#endif  // VIRTENGINE_SECURITY_VALIDATE_NUMBER_H_
