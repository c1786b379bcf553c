// Internal: how every message of this library names its field.
#ifndef VIRTENGINE_SECURITY_VALIDATE_FIELD_H_
#define VIRTENGINE_SECURITY_VALIDATE_FIELD_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace virtengine::validate::internal {

// InvalidArgument "<field>: <what>" (just "<what>" for an empty field name).
absl::Status FieldError(std::string_view field, std::string_view what);

// Re-prefixes a status from a lower layer with the field name, keeping its
// code: "pubkey: hex: odd length 3".
absl::Status WithField(std::string_view field, const absl::Status& status);

// A byte as 'c' when printable ASCII, else 0xNN.
std::string DescribeByte(unsigned char byte);

}  // namespace virtengine::validate::internal

#endif  // VIRTENGINE_SECURITY_VALIDATE_FIELD_H_
