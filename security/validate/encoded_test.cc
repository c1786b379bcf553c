#include "security/validate/encoded.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace virtengine::validate {
namespace {

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

TEST(EncodedTest, HexWithLimit) {
  auto ok = DecodeHex("pubkey", "00ff", 2);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(*ok, (std::vector<uint8_t>{0x00, 0xff}));
  const absl::Status bad = DecodeHex("pubkey", "00zz", 2).status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Msg(bad), "pubkey: hex: invalid character 'z' at position 2");
  EXPECT_EQ(Msg(DecodeHex("pubkey", "001122", 2).status()),
            "pubkey: hex: decoded size 3 bytes exceeds limit 2");
  EXPECT_EQ(Msg(DecodeHex("pubkey", "001", 2).status()),
            "pubkey: hex: odd length 3");
}

TEST(EncodedTest, HexExact) {
  const std::string key32(64, 'a');
  auto ok = DecodeHexExact("tx_hash", key32, 32);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->size(), 32u);
  EXPECT_EQ(Msg(DecodeHexExact("tx_hash", std::string(62, 'a'), 32).status()),
            "tx_hash: decoded size 31 bytes, want exactly 32");
  EXPECT_EQ(Msg(DecodeHexExact("tx_hash", std::string(66, 'a'), 32).status()),
            "tx_hash: decoded size 33 bytes, want exactly 32");
  EXPECT_EQ(Msg(DecodeHexExact("tx_hash", std::string(63, 'a'), 32).status()),
            "tx_hash: hex: odd length 63");
}

TEST(EncodedTest, Base64WithLimit) {
  auto ok = DecodeBase64("sig", "Zm9vYmFy", 6);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(std::string(ok->begin(), ok->end()), "foobar");
  EXPECT_EQ(Msg(DecodeBase64("sig", "Zm9vYmFy", 5).status()),
            "sig: base64: decoded size 6 bytes exceeds limit 5");
  EXPECT_EQ(Msg(DecodeBase64("sig", "Zh==", 5).status()),
            "sig: base64: non-canonical encoding: unused bits of the "
            "character at position 1 are not zero");
  auto url =
      DecodeBase64("token", "-_-_", 3, encoding::Base64Variant::kUrlSafe);
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(
      Msg(DecodeBase64("token", "Zg==", 3, encoding::Base64Variant::kUrlSafe)
              .status()),
      "token: base64url: padding '=' not allowed at position 2");
}

}  // namespace
}  // namespace virtengine::validate
