#include "src/common/encoding/base64.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace virtengine::encoding {
namespace {

std::vector<uint8_t> Bytes(std::string_view s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

std::string DecodeError(std::string_view text, Base64Variant v,
                        size_t max = 1024) {
  auto r = Base64Decode(text, max, v);
  EXPECT_FALSE(r.ok()) << "accepted: " << text;
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(r.status().message());
}

// RFC 4648 section 10.
struct Vector {
  const char* plain;
  const char* standard;
  const char* url;
};
constexpr Vector kRfc4648[] = {
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
};

TEST(Base64Test, Rfc4648Vectors) {
  for (const Vector& v : kRfc4648) {
    EXPECT_EQ(Base64Encode(std::string_view(v.plain)), v.standard);
    EXPECT_EQ(Base64Encode(std::string_view(v.plain), Base64Variant::kUrlSafe),
              v.url);
    auto std_dec = Base64Decode(v.standard, 16);
    ASSERT_TRUE(std_dec.ok()) << v.standard << ": " << std_dec.status();
    EXPECT_EQ(*std_dec, Bytes(v.plain));
    auto url_dec = Base64Decode(v.url, 16, Base64Variant::kUrlSafe);
    ASSERT_TRUE(url_dec.ok()) << v.url << ": " << url_dec.status();
    EXPECT_EQ(*url_dec, Bytes(v.plain));
  }
}

TEST(Base64Test, AlphabetsDifferInTheLastTwoCharacters) {
  const std::vector<uint8_t> bytes = {0xfb, 0xff, 0xbf};
  EXPECT_EQ(Base64Encode(bytes), "+/+/");
  EXPECT_EQ(Base64Encode(bytes, Base64Variant::kUrlSafe), "-_-_");
  EXPECT_EQ(DecodeError("-_-_", Base64Variant::kStandard),
            "base64: invalid character '-' at position 0");
  EXPECT_EQ(DecodeError("+/+/", Base64Variant::kUrlSafe),
            "base64url: invalid character '+' at position 0");
}

TEST(Base64Test, RoundTripsAllLengths) {
  for (size_t n = 0; n <= 67; ++n) {
    std::vector<uint8_t> data(n);
    for (size_t i = 0; i < n; ++i) data[i] = static_cast<uint8_t>(i * 37 + n);
    for (auto v : {Base64Variant::kStandard, Base64Variant::kUrlSafe}) {
      const std::string text = Base64Encode(data, v);
      auto back = Base64Decode(text, n, v);
      ASSERT_TRUE(back.ok()) << text << ": " << back.status();
      EXPECT_EQ(*back, data);
    }
  }
}

TEST(Base64Test, StandardRequiresPadding) {
  EXPECT_EQ(DecodeError("Zg", Base64Variant::kStandard),
            "base64: length 2 is not a multiple of 4 (padding is required)");
  EXPECT_EQ(DecodeError("Zm9vYmE", Base64Variant::kStandard),
            "base64: length 7 is not a multiple of 4 (padding is required)");
  EXPECT_EQ(DecodeError("Zg=", Base64Variant::kStandard),
            "base64: length 3 is not a multiple of 4 (padding is required)");
}

TEST(Base64Test, StandardRejectsMisplacedPadding) {
  EXPECT_EQ(DecodeError("Z===", Base64Variant::kStandard),
            "base64: unexpected padding '=' at position 1");
  EXPECT_EQ(DecodeError("====", Base64Variant::kStandard),
            "base64: unexpected padding '=' at position 0");
  EXPECT_EQ(DecodeError("Zm=v", Base64Variant::kStandard),
            "base64: unexpected padding '=' at position 2");
  EXPECT_EQ(DecodeError("Zg==Zm9v", Base64Variant::kStandard),
            "base64: unexpected padding '=' at position 2");
}

TEST(Base64Test, RejectsNonCanonicalTrailingBits) {
  // 'f' = 0x66 is "Zg=="; "Zh==" carries the same byte with a set spare bit.
  EXPECT_EQ(DecodeError("Zh==", Base64Variant::kStandard),
            "base64: non-canonical encoding: unused bits of the character at "
            "position 1 are not zero");
  EXPECT_EQ(DecodeError("Zm9=", Base64Variant::kStandard),
            "base64: non-canonical encoding: unused bits of the character at "
            "position 2 are not zero");
  EXPECT_EQ(DecodeError("Zh", Base64Variant::kUrlSafe),
            "base64url: non-canonical encoding: unused bits of the character "
            "at position 1 are not zero");
  EXPECT_EQ(DecodeError("Zm9", Base64Variant::kUrlSafe),
            "base64url: non-canonical encoding: unused bits of the character "
            "at position 2 are not zero");
}

TEST(Base64Test, RejectsWhitespaceAndJunk) {
  EXPECT_EQ(DecodeError("Zm9v\nYmF", Base64Variant::kUrlSafe),
            "base64url: invalid character 0x0a at position 4");
  EXPECT_EQ(DecodeError("Zm9 ", Base64Variant::kStandard),
            "base64: invalid character 0x20 at position 3");
  EXPECT_EQ(DecodeError("Zm9v\xff\xff\xff\xff", Base64Variant::kStandard),
            "base64: invalid character 0xff at position 4");
  EXPECT_EQ(DecodeError(std::string("Zm\0v", 4), Base64Variant::kStandard),
            "base64: invalid character 0x00 at position 2");
}

TEST(Base64Test, UrlSafeRejectsPaddingAndImpossibleLength) {
  EXPECT_EQ(DecodeError("Zg==", Base64Variant::kUrlSafe),
            "base64url: padding '=' not allowed at position 2");
  EXPECT_EQ(DecodeError("Zm9vY", Base64Variant::kUrlSafe),
            "base64url: length 5 is invalid (a final group of 1 character)");
}

TEST(Base64Test, EnforcesOutputLimitBeforeDecoding) {
  EXPECT_TRUE(Base64Decode("Zm9vYmFy", 6).ok());
  EXPECT_EQ(DecodeError("Zm9vYmFy", Base64Variant::kStandard, 5),
            "base64: decoded size 6 bytes exceeds limit 5");
  EXPECT_EQ(DecodeError("Zm9vYmE=", Base64Variant::kStandard, 4),
            "base64: decoded size 5 bytes exceeds limit 4");
  EXPECT_EQ(DecodeError("Zm9vYmE", Base64Variant::kUrlSafe, 4),
            "base64url: decoded size 5 bytes exceeds limit 4");
  EXPECT_EQ(DecodeError(std::string(4000, '!'), Base64Variant::kStandard, 16),
            "base64: decoded size 3000 bytes exceeds limit 16");
}

}  // namespace
}  // namespace virtengine::encoding
