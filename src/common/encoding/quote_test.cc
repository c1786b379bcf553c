#include "src/common/encoding/quote.h"

#include "gtest/gtest.h"

namespace virtengine::encoding {
namespace {

TEST(QuoteUntrustedTest, EscapesAndCuts) {
  EXPECT_EQ(QuoteUntrusted("abc", 10), "'abc'");
  EXPECT_EQ(QuoteUntrusted("a\nb'\\", 10), "'a\\x0ab\\x27\\x5c'");
  EXPECT_EQ(QuoteUntrusted(std::string("\xff\x00", 2), 10), "'\\xff\\x00'");
  EXPECT_EQ(QuoteUntrusted("abcdef", 3), "'abc...'");
  EXPECT_EQ(QuoteUntrusted("", 3), "''");
}

}  // namespace
}  // namespace virtengine::encoding
