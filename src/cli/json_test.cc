#include "src/cli/json.h"

#include <gtest/gtest.h>

#include <string>

#include "compliance/json/json.h"

namespace virtengine::cli {
namespace {

TEST(JsonWriter, CompactAndEscaped) {
  JsonWriter w;
  w.BeginObject()
      .Key("s")
      .String("a\"b\\c\n\t\x01/\xc3\xa9")
      .Key("n")
      .Uint(18446744073709551615u)
      .Key("i")
      .Int(-9223372036854775807 - 1)
      .Key("a")
      .BeginArray()
      .Bool(true)
      .Bool(false)
      .Null()
      .BeginObject()
      .EndObject()
      .EndArray()
      .Key("e")
      .BeginArray()
      .EndArray()
      .EndObject();
  EXPECT_EQ(w.str(),
            "{\"s\":\"a\\\"b\\\\c\\n\\t\\u0001/\xc3\xa9\","
            "\"n\":18446744073709551615,\"i\":-9223372036854775808,"
            "\"a\":[true,false,null,{}],\"e\":[]}");
  // What vectl writes, the project's parser reads back.
  auto back = compliance::json::Parse(w.str());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->members()[0].second.str(), "a\"b\\c\n\t\x01/\xc3\xa9");
}

TEST(JsonWriter, InvalidUtf8BecomesReplacementCharacter) {
  std::string out;
  AppendJsonString(&out,
                   "a\xff"
                   "b\xc3");
  EXPECT_EQ(out, "\"a\\ufffdb\\ufffd\"");
  ASSERT_TRUE(compliance::json::Parse(out).ok());
}

TEST(TextSafe, EscapesControlsForTheTerminal) {
  EXPECT_EQ(TextSafe("plain ve1abc"), "plain ve1abc");
  EXPECT_EQ(TextSafe("a\x1b[31mred\nb"), "a\\u001b[31mred\\nb");
}

}  // namespace
}  // namespace virtengine::cli
