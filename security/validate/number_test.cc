#include "security/validate/number.h"

#include <cstdint>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace virtengine::validate {
namespace {

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

TEST(NumberTest, ParsesInt64) {
  EXPECT_EQ(*ParseInt64("height", "0"), 0);
  EXPECT_EQ(*ParseInt64("height", "42"), 42);
  EXPECT_EQ(*ParseInt64("height", "-42"), -42);
  EXPECT_EQ(*ParseInt64("height", "9223372036854775807"),
            std::numeric_limits<int64_t>::max());
  EXPECT_EQ(*ParseInt64("height", "-9223372036854775808"),
            std::numeric_limits<int64_t>::min());
}

TEST(NumberTest, ParsesUint64) {
  EXPECT_EQ(*ParseUint64("amount", "0"), 0u);
  EXPECT_EQ(*ParseUint64("amount", "18446744073709551615"),
            std::numeric_limits<uint64_t>::max());
}

TEST(NumberTest, RejectsOutOfTypeRange) {
  EXPECT_EQ(Msg(ParseInt64("height", "9223372036854775808").status()),
            "height: out of range for int64");
  EXPECT_EQ(Msg(ParseInt64("height", "-9223372036854775809").status()),
            "height: out of range for int64");
  EXPECT_EQ(Msg(ParseUint64("amount", "18446744073709551616").status()),
            "amount: out of range for uint64");
  EXPECT_EQ(Msg(ParseUint64("amount", "99999999999999999999").status()),
            "amount: out of range for uint64");
  EXPECT_EQ(Msg(ParseUint64("amount", "100000000000000000000").status()),
            "amount: 21 characters is too long for a 64-bit integer");
}

TEST(NumberTest, RejectsSloppySyntax) {
  struct Case {
    const char* in;
    const char* msg;
  };
  const Case kCases[] = {
      {"", "amount: empty; want a decimal integer"},
      {"-", "amount: empty; want a decimal integer"},
      {"+5", "amount: leading '+' not allowed"},
      {" 5", "amount: invalid character 0x20 at position 0"},
      {"5 ", "amount: invalid character 0x20 at position 1"},
      {"5\n", "amount: invalid character 0x0a at position 1"},
      {"1e3", "amount: invalid character 'e' at position 1"},
      {"0x10", "amount: invalid character 'x' at position 1"},
      {"1_000", "amount: invalid character '_' at position 1"},
      {"1.5", "amount: invalid character '.' at position 1"},
      {"007", "amount: leading zeros not allowed"},
      {"00", "amount: leading zeros not allowed"},
      {"-0", "amount: negative zero not allowed"},
      {"-01", "amount: leading zeros not allowed"},
      {"--1", "amount: invalid character '-' at position 1"},
      {"\xd9\xa3", "amount: invalid character 0xd9 at position 0"},  // ٣
  };
  for (const Case& c : kCases) {
    const absl::Status s = ParseInt64("amount", c.in).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.in;
    EXPECT_EQ(Msg(s), c.msg) << c.in;
  }
  EXPECT_EQ(Msg(ParseUint64("amount", "-1").status()),
            "amount: negative value not allowed");
  EXPECT_EQ(Msg(ParseUint64("amount", std::string("1\0", 2)).status()),
            "amount: invalid character 0x00 at position 1");
}

TEST(NumberTest, EnforcesCallerRange) {
  EXPECT_EQ(*ParseUint64("fee", "1000", 1, 1000), 1000u);
  EXPECT_EQ(Msg(ParseUint64("fee", "1001", 1, 1000).status()),
            "fee: 1001 is above maximum 1000");
  EXPECT_EQ(Msg(ParseUint64("fee", "0", 1, 1000).status()),
            "fee: 0 is below minimum 1");
  EXPECT_EQ(Msg(ParseInt64("offset", "-11", -10, 10).status()),
            "offset: -11 is below minimum -10");
}

TEST(NumberTest, CheckRange) {
  EXPECT_TRUE(CheckRange("n", 5, 0, 10).ok());
  EXPECT_TRUE(CheckRange("n", 0, 0, 10).ok());
  EXPECT_TRUE(CheckRange("n", 10, 0, 10).ok());
  EXPECT_EQ(Msg(CheckRange("n", 11, 0, 10)), "n: 11 is above maximum 10");
  EXPECT_EQ(Msg(CheckRange<int64_t>("n", -1, 0, 10)),
            "n: -1 is below minimum 0");
  EXPECT_EQ(Msg(CheckRange<uint64_t>("gas", 1ull << 63, 1, 1ull << 40)),
            "gas: 9223372036854775808 is above maximum 1099511627776");
}

}  // namespace
}  // namespace virtengine::validate
