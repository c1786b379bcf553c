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

}  // namespace
}  // namespace virtengine::compliance::json
