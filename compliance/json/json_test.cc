#include "compliance/json/json.h"

#include <string>

#include "gtest/gtest.h"

namespace virtengine::compliance::json {
namespace {

TEST(JsonTest, KeepsOrderAndRoundTrips) {
  Value v = Value::Object();
  v.Set("z", Value::Int(-3));
  v.Set("a", Value::Str("line\n\"q\"\x01"));
  Value& arr = v.Set("list", Value::Array());
  arr.Push(Value::Bool(true));
  arr.Push(Value::Null());
  arr.Push(Value::Object());
  const std::string pretty = Pretty(v);
  EXPECT_EQ(pretty,
            "{\n  \"z\": -3,\n  \"a\": \"line\\n\\\"q\\\"\\u0001\",\n"
            "  \"list\": [\n    true,\n    null,\n    {}\n  ]\n}\n");
  absl::StatusOr<Value> back = Parse(pretty);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(Pretty(*back), pretty);
  EXPECT_EQ(Compact(*back),
            "{\"z\":-3,\"a\":\"line\\n\\\"q\\\"\\u0001\","
            "\"list\":[true,null,{}]}");
  EXPECT_EQ(*back->FindString("a"), "line\n\"q\"\x01");
  EXPECT_EQ(back->FindString("z"), nullptr);
}

TEST(JsonTest, RefusesBadInput) {
  EXPECT_FALSE(Parse("{\"a\":1,\"a\":2}").ok());  // duplicate name
  EXPECT_FALSE(Parse("[1,]").ok());
  EXPECT_FALSE(Parse("\"\\ud800\"").ok());  // lone surrogate
  EXPECT_FALSE(Parse("\"\xff\"").ok());     // invalid UTF-8
  EXPECT_FALSE(Parse("01").ok());
  EXPECT_FALSE(Parse("{} x").ok());
  Limits l;
  l.max_depth = 3;
  EXPECT_TRUE(Parse("[[[1]]]", l).ok());
  EXPECT_FALSE(Parse("[[[[1]]]]", l).ok());
  l.max_bytes = 4;
  absl::StatusOr<Value> big = Parse("[1,2]", l);
  EXPECT_FALSE(big.ok());
  EXPECT_NE(std::string(big.status().message()).find("exceeds the limit"),
            std::string::npos);
}

TEST(JsonParseTest, Values) {
  auto v = Parse(
      " {\"a\" : [1, -2.5e+3, \"x\\u00e9\\ud83d\\ude00\"], "
      "\"b\": {\"c\": null}, \"d\": true} \n");
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_EQ(v->type(), Value::Type::kObject);
  ASSERT_EQ(v->members().size(), 3u);
  const Value& a = v->members()[0].second;
  ASSERT_EQ(a.items().size(), 3u);
  EXPECT_EQ(a.items()[0].str(), "1");
  EXPECT_EQ(a.items()[1].str(), "-2.5e+3");
  EXPECT_EQ(a.items()[2].str(), "x\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(v->members()[1].second.members()[0].second.type(),
            Value::Type::kNull);
  EXPECT_TRUE(v->members()[2].second.boolean());
}

TEST(JsonParseTest, RefusesWithPosition) {
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
  Limits depth16;
  depth16.max_depth = 16;
  for (const Case& c : cases) {
    auto v = Parse(c.in, depth16);
    ASSERT_FALSE(v.ok()) << c.in;
    EXPECT_NE(v.status().message().find(c.msg), absl::string_view::npos)
        << c.in << " -> " << v.status();
  }
  Limits small;
  small.max_bytes = 4;
  EXPECT_FALSE(Parse("12345", small).ok());
  EXPECT_TRUE(Parse(std::string(16, '[') + std::string(16, ']'), depth16).ok());
}

}  // namespace
}  // namespace virtengine::compliance::json
