// The strict JSON-lines codec: exact output, exact round trip, and refusal of
// every non-canonical spelling.
#include "security/audit/json_line.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "security/audit/record.h"

namespace virtengine::security::audit {
namespace {

using ::testing::HasSubstr;

const char kZero[] =
    "0000000000000000000000000000000000000000000000000000000000000000";
const char kHash1[] =
    "350626db5b4283c43c5777c1cb0b1040eb440cf622e810df3f1f8d426733e9ef";

Record Example1() {
  Record r;
  r.seq = 1;
  r.time_unix_nanos = 1795615806123456789;
  r.entry.actor = "operator:alice";
  r.entry.action = "key.rotate";
  r.entry.object = "keys/node.key";
  r.entry.outcome = Outcome::kDenied;
  r.entry.reason = "mfa session expired";
  r.entry.details = {{"mfa", "totp"}, {"attempt", "2"}};
  r.hash = *ComputeHash(r);
  return r;
}

std::string ExampleLine() {
  return absl::StrCat(
      "{\"v\":1,\"seq\":1,\"time\":\"2026-11-25T14:10:06.123456789Z\","
      "\"actor\":\"operator:alice\",\"action\":\"key.rotate\","
      "\"object\":\"keys/node.key\",\"outcome\":\"denied\","
      "\"reason\":\"mfa session expired\","
      "\"details\":{\"attempt\":\"2\",\"mfa\":\"totp\"},\"prev\":\"",
      kZero, "\",\"hash\":\"", kHash1, "\"}");
}

TEST(JsonLineTest, EncodesTheDocumentedLine) {
  EXPECT_EQ(EncodeLine(Example1()), ExampleLine());
}

TEST(JsonLineTest, ParsesBackToTheSameRecord) {
  absl::StatusOr<Record> r = ParseLine(ExampleLine());
  ASSERT_TRUE(r.ok()) << r.status();
  const Record want = Example1();
  EXPECT_EQ(r->seq, want.seq);
  EXPECT_EQ(r->time_unix_nanos, want.time_unix_nanos);
  EXPECT_EQ(r->entry.actor, want.entry.actor);
  EXPECT_EQ(r->entry.outcome, want.entry.outcome);
  EXPECT_EQ(r->entry.details, want.entry.details);
  EXPECT_EQ(r->hash, want.hash);
  EXPECT_EQ(EncodeLine(*r), ExampleLine());
}

TEST(JsonLineTest, EscapesAndRoundTripsAwkwardStrings) {
  Record r = Example1();
  r.seq = 18446744073709551;
  r.entry.actor = "a \"quoted\" \\ actor / ünïcödé 🔐";
  r.entry.object = "</script>\u2028";
  r.entry.reason = "";
  r.entry.outcome = Outcome::kSuccess;
  r.entry.details = {{"multi", "line 1\nline 2\r\n\tindented"},
                     {"empty", ""},
                     {"_x.y-z", "\\n is not a newline"}};
  r.hash = *ComputeHash(r);
  const std::string line = EncodeLine(r);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_THAT(line,
              HasSubstr(R"("actor":"a \"quoted\" \\ actor / ünïcödé 🔐")"));
  EXPECT_THAT(line, HasSubstr(R"("multi":"line 1\nline 2\r\n\tindented")"));
  EXPECT_THAT(line, HasSubstr(R"("_x.y-z":"\\n is not a newline")"));
  absl::StatusOr<Record> back = ParseLine(line);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->entry.actor, r.entry.actor);
  EXPECT_EQ(back->entry.details, r.entry.details);
  EXPECT_EQ(EncodeLine(*back), line);
}

TEST(JsonLineTest, RefusesNonCanonicalSpellings) {
  const std::string good = ExampleLine();
  struct Case {
    std::string line;
    const char* message;
  };
  const auto replace = [&](const char* from, const char* to) {
    return absl::StrReplaceAll(good, {{from, to}});
  };
  const std::vector<Case> cases = {
      {replace(",\"seq\":", ", \"seq\":"), "byte 0: expected"},
      {replace("{\"v\":1,", "{\"v\":2,"), "byte 0: expected"},
      {replace("\"seq\":1,", "\"seq\":01,"), "leading zero"},
      {replace("\"seq\":1,", "\"seq\":0,"), "zero or has a leading zero"},
      {replace("\"seq\":1,", "\"seq\":9223372036854775808,"),
       "larger than 9223372036854775807"},
      {replace("\"seq\":1,", "\"seq\":1.0,"), "expected ',\"time\":'"},
      {replace("operator:alice", "operator\\u003aalice"),
       "escape \\'u' is not canonical"},
      {replace("keys/node.key", "keys\\/node.key"),
       "escape \\'/' is not canonical"},
      {replace("operator:alice", "operator\talice"), "raw control byte"},
      {replace("operator:alice", "operator\\talice"),
       "actor: control character U+0009"},
      {replace("operator:alice", "operator\xff"), "actor: not valid UTF-8"},
      {replace("\"denied\"", "\"DENIED\""), "outcome: 'DENIED' is not"},
      {replace("{\"attempt\":\"2\",\"mfa\":\"totp\"}",
               "{\"mfa\":\"totp\",\"attempt\":\"2\"}"),
       "details key 'attempt' is not after 'mfa'"},
      {replace("{\"attempt\":\"2\",\"mfa\":\"totp\"}",
               "{\"mfa\":\"totp\",\"mfa\":\"totp\"}"),
       "details key 'mfa' is not after 'mfa'"},
      {replace(kHash1,
               "350626DB5B4283C43C5777C1CB0B1040EB440CF622E810DF3F1F8D"
               "426733E9EF"),
       "not a lowercase hex digit"},
      {replace(kZero, "00"), "prev: 2 characters"},
      {replace("\"reason\":\"mfa session expired\",", ""),
       "expected ',\"reason\":'"},
      {good + " ", "unexpected bytes after the record"},
      {good + "\n", "unexpected bytes after the record"},
      {good.substr(0, good.size() - 1), "expected '}'"},
      {replace("\"mfa session expired\"", "\"mfa session expired"),
       "expected ',\"details\":{'"},
      {replace("T14:10:06", "T14:10:6"), "time: "},
      {"", "byte 0: expected"},
      {"{}", "byte 0: expected"},
      {std::string(kMaxLineBytes + 1, 'x'), "longer than the limit of 65536"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Record> r = ParseLine(c.line);
    ASSERT_FALSE(r.ok()) << c.line;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.message))
        << c.line.substr(0, 300);
  }
}

TEST(JsonLineTest, ParseDoesNotCheckTheHashButReturnsIt) {
  std::string line = ExampleLine();
  line.replace(line.size() - 3, 1, "0");  // last hex digit of the hash
  absl::StatusOr<Record> r = ParseLine(line);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NE(r->hash, Example1().hash);
}

TEST(JsonQuotedTest, AlwaysValidJson) {
  std::string out;
  AppendJsonQuoted(&out, std::string("a\"b\\c\nd\x01\xff\xc3\xa9", 11));
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\nd\\u0001\\ufffd\xc3\xa9\"");
}

}  // namespace
}  // namespace virtengine::security::audit
