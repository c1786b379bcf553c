#include "src/cli/json.h"

#include <gtest/gtest.h>

#include <string>

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
  auto back = ParseJson(w.str());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->members[0].second.text, "a\"b\\c\n\t\x01/\xc3\xa9");
}

TEST(JsonWriter, InvalidUtf8BecomesReplacementCharacter) {
  std::string out;
  AppendJsonString(&out,
                   "a\xff"
                   "b\xc3");
  EXPECT_EQ(out, "\"a\\ufffdb\\ufffd\"");
  ASSERT_TRUE(ParseJson(out).ok());
}

TEST(TextSafe, EscapesControlsForTheTerminal) {
  EXPECT_EQ(TextSafe("plain ve1abc"), "plain ve1abc");
  EXPECT_EQ(TextSafe("a\x1b[31mred\nb"), "a\\u001b[31mred\\nb");
}

TEST(ParseJson, Values) {
  auto v = ParseJson(
      " {\"a\" : [1, -2.5e+3, \"x\\u00e9\\ud83d\\ude00\"], "
      "\"b\": {\"c\": null}, \"d\": true} \n");
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_EQ(v->type, JsonValue::Type::kObject);
  ASSERT_EQ(v->members.size(), 3u);
  const JsonValue& a = v->members[0].second;
  ASSERT_EQ(a.items.size(), 3u);
  EXPECT_EQ(a.items[0].text, "1");
  EXPECT_EQ(a.items[1].text, "-2.5e+3");
  EXPECT_EQ(a.items[2].text, "x\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(v->members[1].second.members[0].second.type,
            JsonValue::Type::kNull);
  EXPECT_TRUE(v->members[2].second.boolean);
}

TEST(ParseJson, RefusesWithPosition) {
  struct Case {
    std::string in;
    const char* msg;
  } cases[] = {
      {"", "byte 0: unexpected end of input"},
      {"{\"a\":1,}", "byte 7: expected a member name"},
      {"{\"a\":1 \"b\":2}", "byte 7: expected ',' or '}'"},
      {"{\"a\":1,\"a\":2}", "byte 7: duplicate member name"},
      {"[1,]", "byte 3: expected a JSON value"},
      {"01", "leading zero"},
      {"1.", "expected a digit after '.'"},
      {"1e", "expected a digit in the exponent"},
      {"-", "expected a digit"},
      {"\"abc", "unterminated string"},
      {"\"a\nb\"", "control character in a string"},
      {"\"\\x\"", "invalid escape"},
      {"\"\\u12zz\"", "invalid hex digit"},
      {"\"\\u12\"", "truncated \\u escape"},
      {"\"\\ud800\"", "high surrogate not followed by a low surrogate"},
      {"\"\\udc00\"", "lone low surrogate"},
      {"\"\xff\"", "not valid UTF-8"},
      {"tru", "expected a JSON value"},
      {"{} {}", "unexpected data after the value"},
      {std::string(17, '[') + std::string(17, ']'), "nesting deeper than 16"},
  };
  for (const Case& c : cases) {
    auto v = ParseJson(c.in);
    ASSERT_FALSE(v.ok()) << c.in;
    EXPECT_NE(v.status().message().find(c.msg), absl::string_view::npos)
        << c.in << " -> " << v.status();
  }
  JsonLimits small;
  small.max_bytes = 4;
  EXPECT_FALSE(ParseJson("12345", small).ok());
  EXPECT_TRUE(ParseJson(std::string(16, '[') + std::string(16, ']')).ok());
}

}  // namespace
}  // namespace virtengine::cli
