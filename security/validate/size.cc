#include "security/validate/size.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "security/validate/field.h"

namespace virtengine::validate {

absl::Status CheckSize(std::string_view field, std::string_view value,
                       size_t max_bytes) {
  if (value.size() <= max_bytes) return absl::OkStatus();
  return internal::FieldError(field, "size " + std::to_string(value.size()) +
                                         " bytes exceeds limit " +
                                         std::to_string(max_bytes));
}

absl::Status CheckSize(std::string_view field, absl::Span<const uint8_t> value,
                       size_t max_bytes) {
  return CheckSize(field,
                   std::string_view(reinterpret_cast<const char*>(value.data()),
                                    value.size()),
                   max_bytes);
}

absl::Status CheckCount(std::string_view field, size_t count,
                        size_t max_count) {
  if (count <= max_count) return absl::OkStatus();
  return internal::FieldError(field, std::to_string(count) +
                                         " items exceeds limit " +
                                         std::to_string(max_count));
}

}  // namespace virtengine::validate
