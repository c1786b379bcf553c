// Shamir secret sharing over GF(2^8), for splitting a key-store backup key
// among operators so that any `threshold` of `count` shares recover it and
// fewer reveal nothing about it (docs/security/keys.md, "Shares").
//
// Field: GF(2^8) with the AES reduction polynomial x^8 + x^4 + x^3 + x + 1
// (0x11b). Each secret byte s is the constant term of its own random
// polynomial f(x) = s + a1 x + ... + a(k-1) x^(k-1) with uniform coefficients
// from the CSPRNG; share i holds f(i) for i = 1..n. Field arithmetic is
// constant time (no table look-ups indexed by secret bytes).
//
// Text form of a share (canonical, what EncodeShare produces):
//   "vkshare:" followed by the lowercase hex of
//     version (1, = 1) | threshold k (1) | count n (1) | index x (1)
//     | set id (4) | y (L bytes, L = secret length) | checksum (4)
//   checksum = first 4 bytes of SHA-256("virtengine/keys/v1/share" ||
//   every preceding payload byte). The checksum catches a mistyped share
//   (one wrong digit is always caught; random damage slips through with
//   probability 2^-32); the set id ties shares of one split together.
//
//   auto shares = SplitSecret(backup_key, /*threshold=*/3, /*count=*/5);
//   auto text = EncodeShare((*shares)[0]);     // give to operator 1
//   ...
//   auto s1 = DecodeShare(NormalizeShareText(typed_by_operator_1).view());
//   auto key = CombineShares({*s1, *s3, *s5});
#ifndef VIRTENGINE_SECURITY_KEYS_SHAMIR_H_
#define VIRTENGINE_SECURITY_KEYS_SHAMIR_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "security/crypto/secret_bytes.h"

namespace virtengine::keys {

inline constexpr uint8_t kShareVersion = 1;
inline constexpr size_t kMaxShamirSecretBytes = 64;
inline constexpr int kMaxShareCount = 255;
inline constexpr std::string_view kShareTextPrefix = "vkshare:";
inline constexpr size_t kShareSetIdSize = 4;
inline constexpr size_t kShareChecksumSize = 4;
// Payload bytes around y: version, k, n, x, set id; then the checksum.
inline constexpr size_t kShareHeaderSize = 4 + kShareSetIdSize;
inline constexpr size_t kMaxShareTextBytes =
    kShareTextPrefix.size() +
    2 * (kShareHeaderSize + kMaxShamirSecretBytes + kShareChecksumSize);

struct ShamirShare {
  uint8_t threshold = 0;  // k: shares needed
  uint8_t count = 0;      // n: shares made
  uint8_t index = 0;      // x: 1..n
  std::array<uint8_t, kShareSetIdSize> set_id{};
  crypto::SecretBytes value;  // f(x), one byte per secret byte
};

// Splits `secret` (1..64 bytes) into `count` shares of which any `threshold`
// recover it. InvalidArgument unless 2 <= threshold <= count <= 255 and the
// secret size is in range. Every call draws a fresh random set id.
absl::StatusOr<std::vector<ShamirShare>> SplitSecret(
    const crypto::SecretBytes& secret, int threshold, int count);

// Recovers the secret from at least `threshold` shares of one split. Errors:
//   InvalidArgument  no shares; shares of different splits (set id,
//                    threshold, count or length differ); an index outside
//                    1..count; a duplicate index.
//   FailedPrecondition  fewer shares than the threshold.
//   DataLoss         more than `threshold` shares were given and they do not
//                    lie on one polynomial (one is wrong).
absl::StatusOr<crypto::SecretBytes> CombineShares(
    absl::Span<const ShamirShare> shares);

// The canonical text form above ("vkshare:" + lowercase hex). The text is
// as secret as the share, so it is returned as SecretBytes. InvalidArgument
// for a share whose fields are out of range (as DecodeShare would refuse).
absl::StatusOr<crypto::SecretBytes> EncodeShare(const ShamirShare& share);

// Parses the canonical text form strictly: exact prefix, lowercase hex only,
// no whitespace, at most kMaxShareTextBytes. InvalidArgument for a malformed
// string or field (version, k, n, index, length), DataLoss when the checksum
// does not match (a mistyped or damaged share). An accepted string
// re-encodes to exactly itself.
absl::StatusOr<ShamirShare> DecodeShare(std::string_view text);

// What an operator types may be grouped, wrapped or in capitals: this
// lowercases ASCII letters and drops spaces, tabs, line breaks and '-'
// (input longer than 4 * kMaxShareTextBytes is truncated to that much, which
// then fails to decode). Pass the result to DecodeShare.
crypto::SecretBytes NormalizeShareText(std::string_view typed);

}  // namespace virtengine::keys

#endif  // VIRTENGINE_SECURITY_KEYS_SHAMIR_H_
