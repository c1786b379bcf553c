#include "src/ledger/merkle/hasher.h"

#include <algorithm>
#include <array>
#include <vector>

#include "absl/strings/str_cat.h"
#include "src/common/encoding/hex.h"

namespace virtengine::ledger::merkle {

namespace {

namespace v1 = ::virtengine::security::crypto::v1;

constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;

}  // namespace

absl::StatusOr<Hash> EmptyRoot() {
  return crypto::Sha256(v1::MERKLE, crypto::ByteView());
}

absl::StatusOr<Hash> HashLeaf(crypto::ByteView leaf) {
  if (leaf.size() > kMaxLeafBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("merkle: leaf of ", leaf.size(),
                     " bytes exceeds the limit of ", kMaxLeafBytes));
  }
  // One buffer so the hash is a single call through the policy check. The
  // common case (32-byte tx hash) stays on the stack.
  std::array<uint8_t, 1 + 64> small;
  if (leaf.size() <= 64) {
    small[0] = kLeafPrefix;
    std::copy(leaf.begin(), leaf.end(), small.begin() + 1);
    return crypto::Sha256(v1::MERKLE,
                          crypto::ByteView(small.data(), 1 + leaf.size()));
  }
  std::vector<uint8_t> buf;
  buf.reserve(1 + leaf.size());
  buf.push_back(kLeafPrefix);
  buf.insert(buf.end(), leaf.begin(), leaf.end());
  return crypto::Sha256(v1::MERKLE, buf);
}

absl::StatusOr<Hash> HashChildren(const Hash& left, const Hash& right) {
  std::array<uint8_t, 1 + 2 * kHashSize> buf;
  buf[0] = kNodePrefix;
  std::copy(left.begin(), left.end(), buf.begin() + 1);
  std::copy(right.begin(), right.end(), buf.begin() + 1 + kHashSize);
  return crypto::Sha256(v1::MERKLE, buf);
}

absl::StatusOr<Hash> HashFromBytes(crypto::ByteView bytes) {
  if (bytes.size() != kHashSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "merkle: hash must be ", kHashSize, " bytes, got ", bytes.size()));
  }
  Hash h;
  std::copy(bytes.begin(), bytes.end(), h.begin());
  return h;
}

absl::StatusOr<Hash> HashFromHex(std::string_view hex) {
  if (hex.size() != 2 * kHashSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("merkle: hex hash must be ", 2 * kHashSize,
                     " characters, got ", hex.size()));
  }
  absl::StatusOr<std::vector<uint8_t>> raw =
      encoding::HexDecode(hex, kHashSize);
  if (!raw.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("merkle: bad hex hash: ", raw.status().message()));
  }
  return HashFromBytes(*raw);
}

std::string HashToHex(const Hash& hash) {
  return encoding::HexEncode(absl::Span<const uint8_t>(hash));
}

}  // namespace virtengine::ledger::merkle
