#include "security/keys/shamir.h"

#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "security/crypto/hash.h"
#include "security/crypto/random.h"
#include "security/keys/internal_util.h"
#include "security/keys/shamir_internal.h"

namespace virtengine::keys {

namespace v1 = ::virtengine::security::crypto::v1;

namespace internal {

uint8_t GfMul(uint8_t a, uint8_t b) {
  uint8_t product = 0;
  for (int i = 0; i < 8; ++i) {
    // Add a when the low bit of b is set, without branching on it.
    product ^= static_cast<uint8_t>(-static_cast<int>(b & 1U)) & a;
    // a *= x modulo 0x11b, again without a branch.
    const auto carry = static_cast<uint8_t>(-static_cast<int>(a >> 7U));
    a = static_cast<uint8_t>((a << 1U) ^ (carry & 0x1bU));
    b = static_cast<uint8_t>(b >> 1U);
  }
  return product;
}

uint8_t GfInv(uint8_t a) {
  // a^254 = a^-1 for a != 0 (the multiplicative group has order 255). The
  // exponent is public, so the square-and-multiply chain is fixed.
  uint8_t result = 1;
  uint8_t power = a;  // a^(2^i)
  for (int bit = 0; bit < 8; ++bit) {
    if (((254U >> bit) & 1U) != 0) result = GfMul(result, power);
    power = GfMul(power, power);
  }
  return result;
}

uint8_t GfEvalPolynomial(absl::Span<const uint8_t> coeffs, uint8_t x) {
  uint8_t y = 0;
  for (size_t i = coeffs.size(); i > 0; --i) {
    y = static_cast<uint8_t>(GfMul(y, x) ^ coeffs[i - 1]);
  }
  return y;
}

uint8_t GfInterpolateAt(absl::Span<const uint8_t> xs,
                        absl::Span<const uint8_t> ys, uint8_t x) {
  // Lagrange: sum_i y_i * prod_{j != i} (x - x_j) / (x_i - x_j); in
  // characteristic 2, minus is XOR. The x values are public.
  uint8_t y = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    uint8_t num = 1;
    uint8_t den = 1;
    for (size_t j = 0; j < xs.size(); ++j) {
      if (j == i) continue;
      num = GfMul(num, static_cast<uint8_t>(x ^ xs[j]));
      den = GfMul(den, static_cast<uint8_t>(xs[i] ^ xs[j]));
    }
    y ^= GfMul(ys[i], GfMul(num, GfInv(den)));
  }
  return y;
}

absl::StatusOr<std::vector<ShamirShare>> SplitWithCoefficients(
    const crypto::SecretBytes& secret, const crypto::SecretBytes& coefficients,
    int threshold, int count, const std::array<uint8_t, kShareSetIdSize>& id) {
  if (threshold < 2) {
    return absl::InvalidArgumentError(internal::Cat(
        "shamir: threshold ", threshold, " is below 2 (one share would be ",
        "the secret itself)"));
  }
  if (threshold > count) {
    return absl::InvalidArgumentError(internal::Cat(
        "shamir: threshold ", threshold, " exceeds the share count ", count));
  }
  if (count > kMaxShareCount) {
    return absl::InvalidArgumentError(internal::Cat(
        "shamir: share count ", count, " exceeds ", kMaxShareCount));
  }
  if (secret.empty() || secret.size() > kMaxShamirSecretBytes) {
    return absl::InvalidArgumentError(
        internal::Cat("shamir: secret is ", secret.size(), " bytes, want 1..",
                      kMaxShamirSecretBytes));
  }
  const size_t len = secret.size();
  const auto k = static_cast<size_t>(threshold);
  if (coefficients.size() != (k - 1) * len) {
    return absl::InvalidArgumentError("shamir: wrong number of coefficients");
  }
  std::vector<ShamirShare> shares;
  shares.reserve(static_cast<size_t>(count));
  crypto::SecretBytes poly(k);
  for (int x = 1; x <= count; ++x) {
    ShamirShare share;
    share.threshold = static_cast<uint8_t>(threshold);
    share.count = static_cast<uint8_t>(count);
    share.index = static_cast<uint8_t>(x);
    share.set_id = id;
    share.value = crypto::SecretBytes(len);
    for (size_t b = 0; b < len; ++b) {
      poly.mutable_data()[0] = secret.data()[b];
      for (size_t j = 1; j < k; ++j) {
        poly.mutable_data()[j] = coefficients.data()[(j - 1) * len + b];
      }
      share.value.mutable_data()[b] =
          GfEvalPolynomial(poly.view(), static_cast<uint8_t>(x));
    }
    shares.push_back(std::move(share));
  }
  return shares;
}

}  // namespace internal

namespace {

constexpr std::string_view kChecksumDomain = "virtengine/keys/v1/share";
constexpr char kHexDigits[] = "0123456789abcdef";

// -1 unless c is a lowercase hex digit.
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

absl::Status CheckShareFields(int threshold, int count, int index,
                              size_t value_len) {
  if (threshold < 2) {
    return absl::InvalidArgumentError(
        internal::Cat("shamir: share threshold ", threshold, " is below 2"));
  }
  if (count < threshold) {
    return absl::InvalidArgumentError(internal::Cat(
        "shamir: share count ", count, " is below threshold ", threshold));
  }
  if (index < 1 || index > count) {
    return absl::InvalidArgumentError(
        internal::Cat("shamir: share index ", index, " is outside 1..", count));
  }
  if (value_len < 1 || value_len > kMaxShamirSecretBytes) {
    return absl::InvalidArgumentError(
        internal::Cat("shamir: share value is ", value_len, " bytes, want 1..",
                      kMaxShamirSecretBytes));
  }
  return absl::OkStatus();
}

// The checksum over payload[0, len): SHA-256(domain || payload)[0, 4).
absl::StatusOr<std::array<uint8_t, kShareChecksumSize>> Checksum(
    const uint8_t* payload, size_t len) {
  crypto::SecretBytes input(kChecksumDomain.size() + len);
  std::memcpy(input.mutable_data(), kChecksumDomain.data(),
              kChecksumDomain.size());
  if (len > 0) {
    std::memcpy(input.mutable_data() + kChecksumDomain.size(), payload, len);
  }
  auto digest = crypto::Sha256(v1::CONTENT_HASH, input.view());
  if (!digest.ok()) return digest.status();
  std::array<uint8_t, kShareChecksumSize> out;
  std::memcpy(out.data(), digest->data(), out.size());
  return out;
}

}  // namespace

absl::StatusOr<std::vector<ShamirShare>> SplitSecret(
    const crypto::SecretBytes& secret, int threshold, int count) {
  if (threshold < 2 || threshold > count || count > kMaxShareCount ||
      secret.empty() || secret.size() > kMaxShamirSecretBytes) {
    // Let SplitWithCoefficients produce the precise message.
    return internal::SplitWithCoefficients(secret, crypto::SecretBytes(),
                                           threshold, count, {});
  }
  const crypto::SecretBytes coefficients =
      crypto::RandomSecret(static_cast<size_t>(threshold - 1) * secret.size());
  std::array<uint8_t, kShareSetIdSize> id;
  crypto::RandomFill(absl::MakeSpan(id));
  return internal::SplitWithCoefficients(secret, coefficients, threshold, count,
                                         id);
}

absl::StatusOr<crypto::SecretBytes> CombineShares(
    absl::Span<const ShamirShare> shares) {
  if (shares.empty()) return absl::InvalidArgumentError("shamir: no shares");
  const ShamirShare& first = shares[0];
  for (const ShamirShare& s : shares) {
    if (absl::Status st =
            CheckShareFields(s.threshold, s.count, s.index, s.value.size());
        !st.ok()) {
      return st;
    }
    if (s.set_id != first.set_id || s.threshold != first.threshold ||
        s.count != first.count || s.value.size() != first.value.size()) {
      return absl::InvalidArgumentError(internal::Cat(
          "shamir: share ", s.index,
          " belongs to a different split than share ", first.index,
          " (set id, threshold, count or length differ)"));
    }
  }
  std::array<bool, 256> seen{};
  for (const ShamirShare& s : shares) {
    if (seen[s.index]) {
      return absl::InvalidArgumentError(
          internal::Cat("shamir: duplicate share index ", s.index));
    }
    seen[s.index] = true;
  }
  const size_t k = first.threshold;
  if (shares.size() < k) {
    return absl::FailedPreconditionError(internal::Cat(
        "shamir: ", shares.size(), " share(s) given, ", k, " needed"));
  }
  const size_t len = first.value.size();
  std::vector<uint8_t> xs(k);
  for (size_t i = 0; i < k; ++i) xs[i] = shares[i].index;
  crypto::SecretBytes ys(k);
  crypto::SecretBytes secret(len);
  bool consistent = true;
  for (size_t b = 0; b < len; ++b) {
    for (size_t i = 0; i < k; ++i) {
      ys.mutable_data()[i] = shares[i].value.data()[b];
    }
    secret.mutable_data()[b] = internal::GfInterpolateAt(xs, ys.view(), 0);
    for (size_t e = k; e < shares.size(); ++e) {
      const uint8_t expect =
          internal::GfInterpolateAt(xs, ys.view(), shares[e].index);
      consistent &= expect == shares[e].value.data()[b];
    }
  }
  if (!consistent) {
    return absl::DataLossError(
        "shamir: the shares do not lie on one polynomial (at least one share "
        "is wrong although its checksum matched)");
  }
  return secret;
}

absl::StatusOr<crypto::SecretBytes> EncodeShare(const ShamirShare& share) {
  if (absl::Status st = CheckShareFields(share.threshold, share.count,
                                         share.index, share.value.size());
      !st.ok()) {
    return st;
  }
  const size_t payload_len =
      kShareHeaderSize + share.value.size() + kShareChecksumSize;
  crypto::SecretBytes payload(payload_len);
  uint8_t* p = payload.mutable_data();
  p[0] = kShareVersion;
  p[1] = share.threshold;
  p[2] = share.count;
  p[3] = share.index;
  std::memcpy(p + 4, share.set_id.data(), kShareSetIdSize);
  std::memcpy(p + kShareHeaderSize, share.value.data(), share.value.size());
  auto sum = Checksum(p, payload_len - kShareChecksumSize);
  if (!sum.ok()) return sum.status();
  std::memcpy(p + payload_len - kShareChecksumSize, sum->data(),
              kShareChecksumSize);

  crypto::SecretBytes text(kShareTextPrefix.size() + 2 * payload_len);
  uint8_t* t = text.mutable_data();
  std::memcpy(t, kShareTextPrefix.data(), kShareTextPrefix.size());
  t += kShareTextPrefix.size();
  for (size_t i = 0; i < payload_len; ++i) {
    t[2 * i] = static_cast<uint8_t>(kHexDigits[p[i] >> 4U]);
    t[2 * i + 1] = static_cast<uint8_t>(kHexDigits[p[i] & 0x0fU]);
  }
  return text;
}

absl::StatusOr<ShamirShare> DecodeShare(std::string_view text) {
  if (text.size() > kMaxShareTextBytes) {
    return absl::InvalidArgumentError(
        internal::Cat("shamir: share text is ", text.size(),
                      " bytes, longer than ", kMaxShareTextBytes));
  }
  if (text.substr(0, kShareTextPrefix.size()) != kShareTextPrefix) {
    return absl::InvalidArgumentError(internal::Cat(
        "shamir: share text does not start with \"", kShareTextPrefix, "\""));
  }
  const std::string_view hex = text.substr(kShareTextPrefix.size());
  if (hex.size() % 2 != 0) {
    return absl::InvalidArgumentError(
        "shamir: share text has an odd number of hex digits");
  }
  crypto::SecretBytes payload(hex.size() / 2);
  for (size_t i = 0; i < payload.size(); ++i) {
    const int hi = HexValue(hex[2 * i]);
    const int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return absl::InvalidArgumentError(internal::Cat(
          "shamir: share text has a character other than a lowercase hex "
          "digit at position ",
          kShareTextPrefix.size() + 2 * i + (hi < 0 ? 0 : 1)));
    }
    payload.mutable_data()[i] = static_cast<uint8_t>((hi << 4) | lo);
  }
  if (payload.size() < kShareHeaderSize + 1 + kShareChecksumSize) {
    return absl::InvalidArgumentError(internal::Cat(
        "shamir: share payload is ", payload.size(), " bytes, too short"));
  }
  const uint8_t* p = payload.data();
  const size_t value_len =
      payload.size() - kShareHeaderSize - kShareChecksumSize;
  // The checksum first: a typo anywhere is reported as such, not as
  // whatever field it happened to land in.
  auto sum = Checksum(p, payload.size() - kShareChecksumSize);
  if (!sum.ok()) return sum.status();
  if (!crypto::ConstantTimeEquals(
          crypto::ByteView(sum->data(), sum->size()),
          crypto::ByteView(p + payload.size() - kShareChecksumSize,
                           kShareChecksumSize))) {
    return absl::DataLossError(
        "shamir: share checksum mismatch (the share was mistyped or damaged)");
  }
  if (p[0] != kShareVersion) {
    return absl::InvalidArgumentError(
        internal::Cat("shamir: unsupported share version ", p[0]));
  }
  if (absl::Status st = CheckShareFields(p[1], p[2], p[3], value_len);
      !st.ok()) {
    return st;
  }
  ShamirShare share;
  share.threshold = p[1];
  share.count = p[2];
  share.index = p[3];
  std::memcpy(share.set_id.data(), p + 4, kShareSetIdSize);
  share.value = crypto::SecretBytes::CopyFrom(
      crypto::ByteView(p + kShareHeaderSize, value_len));
  return share;
}

crypto::SecretBytes NormalizeShareText(std::string_view typed) {
  const size_t cap = 4 * kMaxShareTextBytes;
  if (typed.size() > cap) typed = typed.substr(0, cap);
  crypto::SecretBytes buf(typed.size());
  size_t n = 0;
  for (char c : typed) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '-') continue;
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    buf.mutable_data()[n++] = static_cast<uint8_t>(c);
  }
  return crypto::SecretBytes::CopyFrom(crypto::ByteView(buf.data(), n));
}

}  // namespace virtengine::keys
