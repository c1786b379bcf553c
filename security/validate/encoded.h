// Hex and base64 fields with limits, on top of src/common/encoding. Messages
// are the encoding library's, prefixed with the field name:
//   "pubkey: hex: invalid character 'z' at position 3"
#ifndef VIRTENGINE_SECURITY_VALIDATE_ENCODED_H_
#define VIRTENGINE_SECURITY_VALIDATE_ENCODED_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "src/common/encoding/base64.h"

namespace virtengine::validate {

// At most `max_bytes` decoded bytes.
absl::StatusOr<std::vector<uint8_t>> DecodeHex(std::string_view field,
                                               std::string_view value,
                                               size_t max_bytes);

// Exactly `size` decoded bytes (keys, hashes): adds
//   "<field>: decoded size N bytes, want exactly M"
absl::StatusOr<std::vector<uint8_t>> DecodeHexExact(std::string_view field,
                                                    std::string_view value,
                                                    size_t size);

// At most `max_bytes` decoded bytes, strict RFC 4648 (see base64.h).
absl::StatusOr<std::vector<uint8_t>> DecodeBase64(
    std::string_view field, std::string_view value, size_t max_bytes,
    encoding::Base64Variant variant = encoding::Base64Variant::kStandard);

}  // namespace virtengine::validate

#endif  // VIRTENGINE_SECURITY_VALIDATE_ENCODED_H_
