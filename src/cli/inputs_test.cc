#include "src/cli/inputs.h"

#include <gtest/gtest.h>

#include "src/cli/files.h"

namespace virtengine::cli {
namespace {

TEST(ParseCoin, AcceptsAmountAndDenom) {
  auto c = ParseCoin("AMOUNT", "1000uve");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->amount(), 1000u);
  EXPECT_EQ(c->denom(), "uve");
  c = ParseCoin("AMOUNT", "18446744073709551615ibc/ABC.x-1");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->amount(), 18446744073709551615u);
  EXPECT_EQ(c->denom(), "ibc/ABC.x-1");
  EXPECT_TRUE(ParseCoin("--fee", "0uve").ok());
}

TEST(ParseCoin, RefusesPrecisely) {
  struct Case {
    const char* in;
    const char* msg;
  } cases[] = {
      {"", "is not <amount><denom>"},
      {"uve", "is not <amount><denom>"},
      {"12", "is not <amount><denom>"},
      {"-1uve", "is not <amount><denom>"},
      {"18446744073709551616uve", "out of range for uint64"},
      {"99999999999999999999999uve", "too long"},
      {"01uve", "leading zeros"},
      {"1 uve", "invalid character 0x20 at position 0"},
      {"1uv", "length 2 is below minimum 3"},
      {"1u$e", "invalid character '$'"},
  };
  for (const Case& c : cases) {
    auto r = ParseCoin("AMOUNT", c.in);
    ASSERT_FALSE(r.ok()) << c.in;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.msg), absl::string_view::npos)
        << c.in << ": " << r.status();
    EXPECT_EQ(r.status().message().find("AMOUNT"), 0u) << r.status();
  }
  EXPECT_FALSE(ParseCoin("AMOUNT", "0uve", 1).ok());
}

TEST(ParseTimeout, Units) {
  EXPECT_EQ(*ParseTimeout("t", "500ms"), std::chrono::milliseconds(500));
  EXPECT_EQ(*ParseTimeout("t", "10s"), std::chrono::milliseconds(10000));
  EXPECT_EQ(*ParseTimeout("t", "2m"), std::chrono::milliseconds(120000));
  EXPECT_EQ(*ParseTimeout("t", "60m"), std::chrono::milliseconds(3600000));
  for (const char* bad : {"", "10", "s", "1h", "61m", "0ms", "1.5s", "-1s",
                          "99999999999999999999s", "10S"}) {
    EXPECT_FALSE(ParseTimeout("t", bad).ok()) << bad;
  }
}

TEST(ValidateNodeAddress, HostPort) {
  for (const char* ok : {"127.0.0.1:9090", "node-1.example.org:1",
                         "[::1]:65535", "localhost:9090"}) {
    EXPECT_TRUE(ValidateNodeAddress("--node", ok).ok()) << ok;
  }
  for (const char* bad :
       {"", "host", ":9090", "host:", "host:0", "host:65536", "host:09",
        "ho_st:1", "[::1:1", "[]:1", "a b:1", "host:1x", "[::g]:1"}) {
    auto s = ValidateNodeAddress("--node", bad);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.message().find("--node:"), 0u) << s;
  }
}

TEST(ParseHash32, ExactlySixtyFourHex) {
  const std::string h(64, 'a');
  auto b = ParseHash32("HASH", h);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->size(), 32u);
  EXPECT_TRUE(ParseHash32("HASH", std::string(64, 'A')).ok());
  EXPECT_FALSE(ParseHash32("HASH", std::string(62, 'a')).ok());
  EXPECT_FALSE(ParseHash32("HASH", std::string(66, 'a')).ok());
  EXPECT_FALSE(ParseHash32("HASH", std::string(63, 'a') + "x").ok());
}

TEST(Validate, AddressMemoChainId) {
  EXPECT_TRUE(
      ValidateAccountAddress("A", "ve1y8lrrhap2j3xzcntlp2qgm7jyudhhm2tyrvzn3")
          .ok());
  // One character changed: the checksum fails.
  EXPECT_FALSE(
      ValidateAccountAddress("A", "ve1y8lrrhap2j3xzcntlp2qgm7jyudhhm2tyrvzn4")
          .ok());
  EXPECT_TRUE(ValidateMemo("--memo", std::string(256, 'x')).ok());
  EXPECT_FALSE(ValidateMemo("--memo", std::string(257, 'x')).ok());
  EXPECT_TRUE(ValidateMemo("--memo", "caf\xc3\xa9").ok());
  EXPECT_FALSE(ValidateMemo("--memo", "\xed\xa0\x80").ok());  // surrogate
  EXPECT_TRUE(ValidateChainId("c", "virtengine-test-1").ok());
  EXPECT_FALSE(ValidateChainId("c", "Virtengine").ok());
  EXPECT_FALSE(ValidateChainId("c", std::string(49, 'a')).ok());
}

TEST(AbsolutePath, Normalises) {
  EXPECT_EQ(*AbsolutePath("f", "/work", "a/./b//c"), "/work/a/b/c");
  EXPECT_EQ(*AbsolutePath("f", "/work", "/x/y/"), "/x/y");
  EXPECT_EQ(*AbsolutePath("f", "/", "x"), "/x");
  EXPECT_EQ(*AbsolutePath("f", "/w", "/"), "/");
  EXPECT_FALSE(AbsolutePath("f", "/work", "").ok());
  EXPECT_FALSE(AbsolutePath("f", "/work", "a/../b").ok());
  EXPECT_FALSE(AbsolutePath("f", "", "rel").ok());
}

}  // namespace
}  // namespace virtengine::cli
