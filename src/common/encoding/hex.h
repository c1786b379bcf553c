// Hexadecimal (base16) encoding.
//
// Encoding always produces lowercase digits. Decoding accepts upper- and
// lowercase digits (mixed case too: hex carries no checksum and case has no
// meaning), and rejects odd lengths and any other character, naming the
// zero-based position of the first offending character.
#ifndef VIRTENGINE_SRC_COMMON_ENCODING_HEX_H_
#define VIRTENGINE_SRC_COMMON_ENCODING_HEX_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace virtengine::encoding {

// Lowercase hex of `bytes`; the result is twice as long as the input.
std::string HexEncode(absl::Span<const uint8_t> bytes);
std::string HexEncode(std::string_view bytes);

// Decodes `hex` into at most `max_bytes` bytes. InvalidArgument, checked in
// this order (the first failing check is reported):
//   "hex: odd length N"
//   "hex: decoded size N bytes exceeds limit M"   (checked before allocating)
//   "hex: invalid character 'g' at position P"    (0xNN for non-printables)
absl::StatusOr<std::vector<uint8_t>> HexDecode(std::string_view hex,
                                               size_t max_bytes);

}  // namespace virtengine::encoding

#endif  // VIRTENGINE_SRC_COMMON_ENCODING_HEX_H_
