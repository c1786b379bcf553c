#include "src/common/encoding/hex.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace virtengine::encoding {
namespace {

using ::testing::ElementsAre;

TEST(HexTest, EncodesLowercase) {
  EXPECT_EQ(HexEncode(std::vector<uint8_t>{}), "");
  EXPECT_EQ(HexEncode(std::vector<uint8_t>{0x00, 0x01, 0xab, 0xff}),
            "0001abff");
  EXPECT_EQ(HexEncode(std::string_view("VE\n")), "56450a");
}

TEST(HexTest, DecodesUpperLowerAndMixedCase) {
  auto lower = HexDecode("deadbeef", 16);
  ASSERT_TRUE(lower.ok()) << lower.status();
  EXPECT_THAT(*lower, ElementsAre(0xde, 0xad, 0xbe, 0xef));
  auto upper = HexDecode("DEADBEEF", 16);
  ASSERT_TRUE(upper.ok()) << upper.status();
  EXPECT_EQ(*upper, *lower);
  auto mixed = HexDecode("DeAdBeEf", 16);
  ASSERT_TRUE(mixed.ok()) << mixed.status();
  EXPECT_EQ(*mixed, *lower);
}

TEST(HexTest, EmptyDecodesToEmpty) {
  auto r = HexDecode("", 0);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->empty());
}

TEST(HexTest, RoundTripsEveryByteValue) {
  std::vector<uint8_t> all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<uint8_t>(i);
  const std::string hex = HexEncode(all);
  ASSERT_EQ(hex.size(), 512u);
  auto back = HexDecode(hex, 256);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, all);
}

TEST(HexTest, RejectsOddLength) {
  auto r = HexDecode("abc", 16);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "hex: odd length 3");
}

TEST(HexTest, RejectsNonHexWithPosition) {
  EXPECT_EQ(HexDecode("0g", 16).status().message(),
            "hex: invalid character 'g' at position 1");
  EXPECT_EQ(HexDecode("00x0", 16).status().message(),
            "hex: invalid character 'x' at position 2");
  // Non-printable bytes are shown as 0xNN, never raw.
  EXPECT_EQ(HexDecode(std::string("00\n0", 4), 16).status().message(),
            "hex: invalid character 0x0a at position 2");
  EXPECT_EQ(HexDecode(std::string("0\0", 2), 16).status().message(),
            "hex: invalid character 0x00 at position 1");
  EXPECT_EQ(HexDecode(" 0", 16).status().message(),
            "hex: invalid character 0x20 at position 0");
  EXPECT_EQ(HexDecode("0x00", 16).status().message(),
            "hex: invalid character 'x' at position 1");
}

TEST(HexTest, EnforcesOutputLimitBeforeDecoding) {
  EXPECT_TRUE(HexDecode("00112233", 4).ok());
  auto r = HexDecode("0011223344", 4);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "hex: decoded size 5 bytes exceeds limit 4");
  // The limit is checked before the characters: an oversized string of
  // garbage reports its size.
  EXPECT_EQ(HexDecode(std::string(1 << 20, 'z'), 1024).status().message(),
            "hex: decoded size 524288 bytes exceeds limit 1024");
}

}  // namespace
}  // namespace virtengine::encoding
