// Internal helpers shared by the decoders: how an offending input byte is
// shown in an error message. Not part of the public API.
#ifndef VIRTENGINE_SRC_COMMON_ENCODING_DESCRIBE_H_
#define VIRTENGINE_SRC_COMMON_ENCODING_DESCRIBE_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace virtengine::encoding::internal {

// A printable ASCII byte other than quote and backslash as 'c', every other
// byte as 0xNN, so that untrusted input never puts control characters or
// unbounded text into a message.
std::string DescribeByte(uint8_t byte);

// "<size> bytes exceeds limit <max>", used by every decoder's size check.
std::string SizeExceeds(const char* prefix, size_t size, size_t max);

}  // namespace virtengine::encoding::internal

#endif  // VIRTENGINE_SRC_COMMON_ENCODING_DESCRIBE_H_
