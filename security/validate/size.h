// Size limits: every external input is bounded before it is parsed.
#ifndef VIRTENGINE_SECURITY_VALIDATE_SIZE_H_
#define VIRTENGINE_SECURITY_VALIDATE_SIZE_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace virtengine::validate {

// OK when `value` is at most `max_bytes` bytes, else InvalidArgument
// "<field>: size N bytes exceeds limit M".
absl::Status CheckSize(std::string_view field, std::string_view value,
                       size_t max_bytes);
absl::Status CheckSize(std::string_view field, absl::Span<const uint8_t> value,
                       size_t max_bytes);

// OK when `count` (elements of a repeated field) is at most `max_count`, else
// InvalidArgument "<field>: N items exceeds limit M".
absl::Status CheckCount(std::string_view field, size_t count, size_t max_count);

}  // namespace virtengine::validate

#endif  // VIRTENGINE_SECURITY_VALIDATE_SIZE_H_
