// Bech32 (BIP-173), the checksummed base32 format of Cosmos-SDK addresses.
//
// This is the original BIP-173 "bech32" checksum (constant 1), not BIP-350
// "bech32m". A string is  hrp '1' data checksum  where hrp is 1..83
// characters in 33..126, data and the 6-character checksum use the alphabet
// "qpzry9x8gf2tvdw0s3jn54khce6mua7l", and the whole string is at most 90
// characters. Decoding accepts all-lowercase or all-uppercase strings and
// rejects mixed case; encoding always produces lowercase.
//
// Two levels:
//   Bech32Encode / Bech32Decode          bytes <-> string; the 8-bit payload
//                                        is regrouped into 5-bit words with
//                                        zero padding (as Cosmos-SDK does), and
//                                        decoding rejects non-zero padding or
//                                        a whole spare group.
//   Bech32EncodeWords / Bech32DecodeWords  5-bit words <-> string, for
//                                        formats that put other words in front
//                                        (e.g. a segwit version) and for the
//                                        BIP-173 test vectors.
#ifndef VIRTENGINE_SRC_COMMON_ENCODING_BECH32_H_
#define VIRTENGINE_SRC_COMMON_ENCODING_BECH32_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace virtengine::encoding {

inline constexpr size_t kBech32MaxLength = 90;
inline constexpr size_t kBech32MaxHrpLength = 83;
inline constexpr size_t kBech32ChecksumLength = 6;

struct Bech32Decoded {
  std::string hrp;            // always lowercase
  std::vector<uint8_t> data;  // bytes (Bech32Decode) or 5-bit words
};

// Encodes `data` (8-bit bytes) under `hrp`. InvalidArgument:
//   "bech32: empty human-readable part"
//   "bech32: human-readable part length N exceeds maximum 83"
//   "bech32: human-readable part character 0xNN at position P out of range
//    (33..126)"
//   "bech32: human-readable part must be lowercase ('A' at position P)"
//   "bech32: encoded length N exceeds maximum 90"
absl::StatusOr<std::string> Bech32Encode(std::string_view hrp,
                                         absl::Span<const uint8_t> data);

// Decodes `text` whose payload is at most `max_bytes` bytes. InvalidArgument,
// checked in this order (positions are zero-based):
//   "bech32: length N exceeds maximum 90"
//   "bech32: character 0xNN at position P out of range (33..126)"
//   "bech32: mixed case ('a' at position P, 'B' at position Q)"
//   "bech32: no separator '1'"
//   "bech32: empty human-readable part"
//   "bech32: human-readable part length N exceeds maximum 83"
//   "bech32: data part too short (N characters, at least 6 needed for the
//    checksum)"
//   "bech32: invalid data character 'b' at position P"
//   "bech32: checksum mismatch"
//   "bech32: decoded size N bytes exceeds limit M"
//   "bech32: invalid padding: ..." (payload is not a whole number of bytes)
absl::StatusOr<Bech32Decoded> Bech32Decode(std::string_view text,
                                           size_t max_bytes);

// As above on 5-bit words (each < 32); no 8/5 regrouping. EncodeWords adds
//   "bech32: data word N at index I out of range (0..31)";
// DecodeWords reports "bech32: N data words exceed limit M" instead of the
// byte limit and has no padding check.
absl::StatusOr<std::string> Bech32EncodeWords(std::string_view hrp,
                                              absl::Span<const uint8_t> words);
absl::StatusOr<Bech32Decoded> Bech32DecodeWords(std::string_view text,
                                                size_t max_words);

// Regroups bytes into 5-bit words, zero-padding the last word.
std::vector<uint8_t> ConvertBits8To5(absl::Span<const uint8_t> bytes);
// Regroups 5-bit words into bytes. InvalidArgument when a word is >= 32, when
// 5 or more bits are left over, or when the left-over bits are not zero.
absl::StatusOr<std::vector<uint8_t>> ConvertBits5To8(
    absl::Span<const uint8_t> words);

}  // namespace virtengine::encoding

#endif  // VIRTENGINE_SRC_COMMON_ENCODING_BECH32_H_
