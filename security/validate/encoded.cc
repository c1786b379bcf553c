#include "security/validate/encoded.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/validate/field.h"
#include "src/common/encoding/base64.h"
#include "src/common/encoding/hex.h"

namespace virtengine::validate {

absl::StatusOr<std::vector<uint8_t>> DecodeHex(std::string_view field,
                                               std::string_view value,
                                               size_t max_bytes) {
  absl::StatusOr<std::vector<uint8_t>> out =
      encoding::HexDecode(value, max_bytes);
  if (!out.ok()) return internal::WithField(field, out.status());
  return out;
}

absl::StatusOr<std::vector<uint8_t>> DecodeHexExact(std::string_view field,
                                                    std::string_view value,
                                                    size_t size) {
  // A string of the wrong length is reported as such before its characters
  // are looked at (odd lengths still get the hex message).
  if (value.size() % 2 == 0 && value.size() / 2 != size) {
    return internal::FieldError(
        field, "decoded size " + std::to_string(value.size() / 2) +
                   " bytes, want exactly " + std::to_string(size));
  }
  return DecodeHex(field, value, size);
}

absl::StatusOr<std::vector<uint8_t>> DecodeBase64(
    std::string_view field, std::string_view value, size_t max_bytes,
    encoding::Base64Variant variant) {
  absl::StatusOr<std::vector<uint8_t>> out =
      encoding::Base64Decode(value, max_bytes, variant);
  if (!out.ok()) return internal::WithField(field, out.status());
  return out;
}

}  // namespace virtengine::validate
