#include "compliance/common/common.h"

#include <array>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "security/crypto/hash.h"
#include "security/crypto/random.h"
#include "src/common/encoding/hex.h"

namespace virtengine::compliance {
namespace {

using ::virtengine::security::crypto::v1::CONTENT_HASH;

std::string FormatUuid(std::array<uint8_t, 16> b) {
  b[6] = static_cast<uint8_t>((b[6] & 0x0fU) | 0x40U);
  b[8] = static_cast<uint8_t>((b[8] & 0x3fU) | 0x80U);
  const std::string hex =
      encoding::HexEncode(absl::Span<const uint8_t>(b.data(), b.size()));
  return absl::StrCat(hex.substr(0, 8), "-", hex.substr(8, 4), "-",
                      hex.substr(12, 4), "-", hex.substr(16, 4), "-",
                      hex.substr(20, 12));
}

}  // namespace

absl::StatusOr<std::string> Sha256Hex(std::string_view data) {
  absl::StatusOr<crypto::Digest32> d =
      crypto::Sha256(CONTENT_HASH, crypto::AsBytes(data));
  if (!d.ok()) return d.status();
  return encoding::HexEncode(absl::Span<const uint8_t>(d->data(), d->size()));
}

std::string DerivedUuid(std::string_view seed, std::string_view name) {
  std::string input("virtengine.compliance.uuid.v1");
  input.push_back('\0');
  input.append(seed);
  input.push_back('\0');
  input.append(name);
  absl::StatusOr<crypto::Digest32> d =
      crypto::Sha256(CONTENT_HASH, crypto::AsBytes(input));
  std::array<uint8_t, 16> b{};
  if (d.ok()) {
    for (size_t i = 0; i < b.size(); ++i) b[i] = (*d)[i];
  } else {
    // The crypto policy refused SHA-256: fall back to a random UUID so that
    // documents stay valid; determinism is lost and export fails elsewhere
    // on the same policy.
    crypto::RandomFill(absl::Span<uint8_t>(b.data(), b.size()));
  }
  return FormatUuid(b);
}

std::string RandomUuid() {
  std::array<uint8_t, 16> b{};
  crypto::RandomFill(absl::Span<uint8_t>(b.data(), b.size()));
  return FormatUuid(b);
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

}  // namespace virtengine::compliance
