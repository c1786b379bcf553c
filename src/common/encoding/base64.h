// Base64 (RFC 4648), strict.
//
// Two variants, each with exactly one accepted spelling per byte string, so
// that decode(s) succeeding implies encode(decode(s)) == s:
//   kStandard  RFC 4648 section 4, alphabet A-Z a-z 0-9 + /, padded with '='
//              to a multiple of 4 characters; padding is required.
//   kUrlSafe   RFC 4648 section 5, alphabet A-Z a-z 0-9 - _, unpadded
//              (section 3.2: the length is known); '=' is rejected.
// Both reject whitespace, line breaks, characters of the other alphabet and
// non-canonical encodings (a final character whose unused low bits are not
// zero, e.g. "QR==" for the byte 'A', whose canonical form is "QQ==").
#ifndef VIRTENGINE_SRC_COMMON_ENCODING_BASE64_H_
#define VIRTENGINE_SRC_COMMON_ENCODING_BASE64_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace virtengine::encoding {

enum class Base64Variant {
  kStandard,  // "+/", padded; messages start with "base64:"
  kUrlSafe,   // "-_", unpadded; messages start with "base64url:"
};

std::string Base64Encode(absl::Span<const uint8_t> bytes,
                         Base64Variant variant = Base64Variant::kStandard);
std::string Base64Encode(std::string_view bytes,
                         Base64Variant variant = Base64Variant::kStandard);

// Decodes `text` into at most `max_bytes` bytes. InvalidArgument, checked in
// this order (the first failing check is reported; positions are zero-based):
//   kStandard: "base64: length N is not a multiple of 4 (padding is required)"
//   kUrlSafe:  "base64url: length N is invalid (a final group of 1 character)"
//   "<p>: decoded size N bytes exceeds limit M"     (before allocating)
//   kStandard: "base64: unexpected padding '=' at position P"
//   kUrlSafe:  "base64url: padding '=' not allowed at position P"
//   "<p>: invalid character '-' at position P"      (0xNN for non-printables)
//   "<p>: non-canonical encoding: unused bits of the character at position P
//    are not zero"
absl::StatusOr<std::vector<uint8_t>> Base64Decode(
    std::string_view text, size_t max_bytes,
    Base64Variant variant = Base64Variant::kStandard);

}  // namespace virtengine::encoding

#endif  // VIRTENGINE_SRC_COMMON_ENCODING_BASE64_H_
