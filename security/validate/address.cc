#include "security/validate/address.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/validate/field.h"
#include "src/common/encoding/bech32.h"

namespace virtengine::validate {

absl::StatusOr<std::vector<uint8_t>> ValidateAddress(
    std::string_view field, std::string_view value,
    std::string_view expected_hrp, size_t payload_bytes) {
  if (value.empty()) return internal::FieldError(field, "empty address");
  // The bech32 decoder bounds the length (90); check case first so the
  // message for an upper-case address is about case, not a decode detail.
  if (value.size() <= encoding::kBech32MaxLength) {
    for (size_t i = 0; i < value.size(); ++i) {
      if (value[i] >= 'A' && value[i] <= 'Z') {
        return internal::FieldError(
            field,
            "address must be lowercase (" +
                internal::DescribeByte(static_cast<unsigned char>(value[i])) +
                " at position " + std::to_string(i) + ")");
      }
    }
  }
  // The payload limit passed down is generous (the string is at most 90
  // characters anyway) so that a wrong length gets the precise message below.
  absl::StatusOr<encoding::Bech32Decoded> decoded =
      encoding::Bech32Decode(value, encoding::kBech32MaxLength);
  if (!decoded.ok()) {
    const absl::string_view m = decoded.status().message();
    return internal::FieldError(
        field, "invalid address: " + std::string(m.data(), m.size()));
  }
  if (decoded->hrp != expected_hrp) {
    return internal::FieldError(field, "address prefix \"" + decoded->hrp +
                                           "\" is not the expected \"" +
                                           std::string(expected_hrp) + "\"");
  }
  if (decoded->data.size() != payload_bytes) {
    return internal::FieldError(
        field, "address payload is " + std::to_string(decoded->data.size()) +
                   " bytes, want " + std::to_string(payload_bytes));
  }
  return std::move(decoded->data);
}

}  // namespace virtengine::validate
