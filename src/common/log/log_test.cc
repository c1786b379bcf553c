#include "src/common/log/log.h"

#include "gtest/gtest.h"

namespace virtengine::log {
namespace {

TEST(LogTest, FormatsOneObjectPerLine) {
  const std::string line =
      FormatLine("2026-01-01T00:00:00.000000Z", Level::kWarn, "block",
                 {{"height", uint64_t{12}}, {"ok", true}, {"who", "a\"b"}});
  EXPECT_EQ(line,
            "{\"ts\":\"2026-01-01T00:00:00.000000Z\",\"level\":\"warn\","
            "\"event\":\"block\",\"height\":12,\"ok\":true,\"who\":"
            "\"a\\\"b\"}\n");
}

TEST(LogTest, EscapesControlAndInvalidUtf8) {
  EXPECT_EQ(JsonQuote(std::string("a\nb\x01\\", 5)), "\"a\\nb\\u0001\\\\\"");
  EXPECT_EQ(JsonQuote("\xff"), "\"\\ufffd\"");
  EXPECT_EQ(JsonQuote("\xc3\xa9"), "\"\xc3\xa9\"");  // é stays
  EXPECT_EQ(JsonQuote("\xed\xa0\x80"),
            "\"\\ufffd\\ufffd\\ufffd\"");                  // surrogate
  EXPECT_EQ(JsonQuote("\xc0\xaf"), "\"\\ufffd\\ufffd\"");  // overlong
}

TEST(LogTest, NoNewlineInsideALine) {
  const std::string line =
      FormatLine("t", Level::kInfo, "e\n", {{"k\n", "v\r\n"}});
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

TEST(LogTest, ParsesLevels) {
  EXPECT_EQ(*ParseLevel("debug"), Level::kDebug);
  EXPECT_EQ(*ParseLevel("error"), Level::kError);
  EXPECT_EQ(ParseLevel("loud").status().code(),
            absl::StatusCode::kInvalidArgument);
  SetMinLevel(Level::kError);
  EXPECT_EQ(MinLevel(), Level::kError);
  SetMinLevel(Level::kInfo);
}

}  // namespace
}  // namespace virtengine::log
