#include "src/common/encoding/bech32.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "src/common/encoding/describe.h"

namespace virtengine::encoding {
namespace {

constexpr char kCharset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

// Word value of a lowercase data character, or -1.
int CharValue(char c) {
  for (int i = 0; i < 32; ++i) {
    if (kCharset[i] == c) return i;
  }
  return -1;
}

uint32_t PolymodStep(uint32_t chk, uint8_t value) {
  static constexpr uint32_t kGen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa,
                                       0x3d4233dd, 0x2a1462b3};
  const uint32_t top = chk >> 25;
  chk = ((chk & 0x1ffffff) << 5) ^ value;
  for (int i = 0; i < 5; ++i) {
    if (((top >> i) & 1) != 0) chk ^= kGen[i];
  }
  return chk;
}

// Polymod over the expanded hrp followed by `words` (BIP-173). `hrp` must be
// lowercase.
uint32_t Polymod(std::string_view hrp, absl::Span<const uint8_t> words) {
  uint32_t chk = 1;
  for (const char c : hrp) {
    chk = PolymodStep(chk, static_cast<uint8_t>(static_cast<uint8_t>(c) >> 5));
  }
  chk = PolymodStep(chk, 0);
  for (const char c : hrp) {
    chk = PolymodStep(chk, static_cast<uint8_t>(c) & 0x1f);
  }
  for (const uint8_t w : words) chk = PolymodStep(chk, w);
  return chk;
}

absl::Status Error(const std::string& what) {
  return absl::InvalidArgumentError("bech32: " + what);
}

absl::Status CheckEncodeHrp(std::string_view hrp) {
  if (hrp.empty()) return Error("empty human-readable part");
  if (hrp.size() > kBech32MaxHrpLength) {
    return Error("human-readable part length " + std::to_string(hrp.size()) +
                 " exceeds maximum " + std::to_string(kBech32MaxHrpLength));
  }
  for (size_t i = 0; i < hrp.size(); ++i) {
    const auto c = static_cast<uint8_t>(hrp[i]);
    if (c < 33 || c > 126) {
      return Error("human-readable part character " +
                   internal::DescribeByte(c) + " at position " +
                   std::to_string(i) + " out of range (33..126)");
    }
    if (c >= 'A' && c <= 'Z') {
      return Error("human-readable part must be lowercase (" +
                   internal::DescribeByte(c) + " at position " +
                   std::to_string(i) + ")");
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<uint8_t> ConvertBits8To5(absl::Span<const uint8_t> bytes) {
  std::vector<uint8_t> words;
  words.reserve((bytes.size() * 8 + 4) / 5);
  uint32_t acc = 0;
  int bits = 0;
  for (const uint8_t b : bytes) {
    acc = ((acc << 8) | b) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      words.push_back(static_cast<uint8_t>((acc >> bits) & 0x1f));
    }
  }
  if (bits > 0) {
    words.push_back(static_cast<uint8_t>((acc << (5 - bits)) & 0x1f));
  }
  return words;
}

absl::StatusOr<std::vector<uint8_t>> ConvertBits5To8(
    absl::Span<const uint8_t> words) {
  std::vector<uint8_t> bytes;
  bytes.reserve(words.size() * 5 / 8);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < words.size(); ++i) {
    if (words[i] > 31) {
      return Error("data word " + std::to_string(words[i]) + " at index " +
                   std::to_string(i) + " out of range (0..31)");
    }
    acc = ((acc << 5) | words[i]) & 0x1fff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push_back(static_cast<uint8_t>((acc >> bits) & 0xff));
    }
  }
  if (bits >= 5) {
    return Error("invalid padding: " + std::to_string(bits) +
                 " spare bits (a whole unused word)");
  }
  if ((acc & ((1u << bits) - 1)) != 0) {
    return Error("invalid padding: the " + std::to_string(bits) +
                 " spare bits are not zero");
  }
  return bytes;
}

absl::StatusOr<std::string> Bech32EncodeWords(std::string_view hrp,
                                              absl::Span<const uint8_t> words) {
  if (absl::Status s = CheckEncodeHrp(hrp); !s.ok()) return s;
  for (size_t i = 0; i < words.size(); ++i) {
    if (words[i] > 31) {
      return Error("data word " + std::to_string(words[i]) + " at index " +
                   std::to_string(i) + " out of range (0..31)");
    }
  }
  const size_t total = hrp.size() + 1 + words.size() + kBech32ChecksumLength;
  if (total > kBech32MaxLength) {
    return Error("encoded length " + std::to_string(total) +
                 " exceeds maximum " + std::to_string(kBech32MaxLength));
  }
  std::vector<uint8_t> all(words.begin(), words.end());
  all.resize(words.size() + kBech32ChecksumLength, 0);
  const uint32_t mod = Polymod(hrp, all) ^ 1;
  std::string out;
  out.reserve(total);
  out.append(hrp);
  out.push_back('1');
  for (const uint8_t w : words) out.push_back(kCharset[w]);
  for (size_t i = 0; i < kBech32ChecksumLength; ++i) {
    out.push_back(kCharset[(mod >> (5 * (5 - i))) & 0x1f]);
  }
  return out;
}

absl::StatusOr<std::string> Bech32Encode(std::string_view hrp,
                                         absl::Span<const uint8_t> data) {
  return Bech32EncodeWords(hrp, ConvertBits8To5(data));
}

absl::StatusOr<Bech32Decoded> Bech32DecodeWords(std::string_view text,
                                                size_t max_words) {
  if (text.size() > kBech32MaxLength) {
    return Error("length " + std::to_string(text.size()) + " exceeds maximum " +
                 std::to_string(kBech32MaxLength));
  }
  size_t lower_at = text.size();
  size_t upper_at = text.size();
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<uint8_t>(text[i]);
    if (c < 33 || c > 126) {
      return Error("character " + internal::DescribeByte(c) + " at position " +
                   std::to_string(i) + " out of range (33..126)");
    }
    if (c >= 'a' && c <= 'z' && lower_at == text.size()) lower_at = i;
    if (c >= 'A' && c <= 'Z' && upper_at == text.size()) upper_at = i;
  }
  if (lower_at != text.size() && upper_at != text.size()) {
    return Error("mixed case (" +
                 internal::DescribeByte(static_cast<uint8_t>(text[lower_at])) +
                 " at position " + std::to_string(lower_at) + ", " +
                 internal::DescribeByte(static_cast<uint8_t>(text[upper_at])) +
                 " at position " + std::to_string(upper_at) + ")");
  }
  const size_t sep = text.rfind('1');
  if (sep == std::string_view::npos) return Error("no separator '1'");
  if (sep == 0) return Error("empty human-readable part");
  if (sep > kBech32MaxHrpLength) {
    return Error("human-readable part length " + std::to_string(sep) +
                 " exceeds maximum " + std::to_string(kBech32MaxHrpLength));
  }
  const size_t data_chars = text.size() - sep - 1;
  if (data_chars < kBech32ChecksumLength) {
    return Error("data part too short (" + std::to_string(data_chars) +
                 " characters, at least 6 needed for the checksum)");
  }

  Bech32Decoded out;
  out.hrp.reserve(sep);
  for (size_t i = 0; i < sep; ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    out.hrp.push_back(c);
  }
  std::vector<uint8_t> words;
  words.reserve(data_chars);
  for (size_t i = sep + 1; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    const int v = CharValue(c);
    if (v < 0) {
      return Error("invalid data character " +
                   internal::DescribeByte(static_cast<uint8_t>(text[i])) +
                   " at position " + std::to_string(i));
    }
    words.push_back(static_cast<uint8_t>(v));
  }
  if (Polymod(out.hrp, words) != 1) return Error("checksum mismatch");
  words.resize(words.size() - kBech32ChecksumLength);
  if (words.size() > max_words) {
    return Error(std::to_string(words.size()) + " data words exceed limit " +
                 std::to_string(max_words));
  }
  out.data = std::move(words);
  return out;
}

absl::StatusOr<Bech32Decoded> Bech32Decode(std::string_view text,
                                           size_t max_bytes) {
  // The string is bounded (90 characters), so the word-level decode needs no
  // limit of its own; the byte limit is checked before regrouping.
  absl::StatusOr<Bech32Decoded> words =
      Bech32DecodeWords(text, kBech32MaxLength);
  if (!words.ok()) return words.status();
  const size_t out_size = words->data.size() * 5 / 8;
  if (out_size > max_bytes) {
    return absl::InvalidArgumentError(
        internal::SizeExceeds("bech32", out_size, max_bytes));
  }
  absl::StatusOr<std::vector<uint8_t>> bytes = ConvertBits5To8(words->data);
  if (!bytes.ok()) return bytes.status();
  words->data = *std::move(bytes);
  return words;
}

}  // namespace virtengine::encoding
