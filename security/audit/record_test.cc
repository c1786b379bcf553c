// Record fields, limits, time format and the canonical hash encoding. The
// golden vectors below were computed independently (Python hashlib and
// struct.pack, the recipe in docs/security/audit.md), not by this code.
#include "security/audit/record.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace virtengine::security::audit {
namespace {

using ::testing::HasSubstr;

std::string Hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

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
  return r;
}

TEST(TimeTest, FormatsFixedWidthUtc) {
  EXPECT_EQ(FormatTime(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(FormatTime(1795615806123456789), "2026-11-25T14:10:06.123456789Z");
  EXPECT_EQ(FormatTime(1709251199999999999), "2024-02-29T23:59:59.999999999Z");
  EXPECT_EQ(FormatTime(INT64_MAX), "2262-04-11T23:47:16.854775807Z");
}

TEST(TimeTest, ParseIsTheExactInverse) {
  for (const int64_t ns :
       {int64_t{0}, int64_t{1}, int64_t{951782400000000000},  // 2000-02-29
        int64_t{1709251199999999999}, int64_t{1795615806123456789},
        int64_t{4102444800000000000}, INT64_MAX}) {
    const std::string text = FormatTime(ns);
    absl::StatusOr<int64_t> back = ParseTime(text);
    ASSERT_TRUE(back.ok()) << text << ": " << back.status();
    EXPECT_EQ(*back, ns) << text;
  }
}

TEST(TimeTest, RefusesEveryOtherSpelling) {
  for (const char* bad : {
           "2026-11-25T14:10:06.123456789z",       // lowercase z
           "2026-11-25t14:10:06.123456789Z",       // lowercase t
           "2026-11-25T14:10:06.12345678Z",        // 8 digits
           "2026-11-25T14:10:06Z",                 // no fraction
           "2026-11-25T14:10:06.123456789+00:00",  // offset
           "2026-11-25 14:10:06.123456789Z",       // space
           "2023-02-29T00:00:00.000000000Z",       // not a leap year
           "1900-02-29T00:00:00.000000000Z",       // before 1970 anyway
           "2026-13-01T00:00:00.000000000Z",       // month 13
           "2026-04-31T00:00:00.000000000Z",       // April 31
           "2026-11-25T24:00:00.000000000Z",       // hour 24
           "2016-12-31T23:59:60.000000000Z",       // leap second
           "1969-12-31T23:59:59.999999999Z",       // before the epoch
           "2262-04-11T23:47:16.854775808Z",       // past int64 ns
           "+026-11-25T14:10:06.123456789Z",       // sign
           "",
       }) {
    EXPECT_FALSE(ParseTime(bad).ok()) << bad;
  }
}

TEST(CanonicalEncodingTest, MatchesTheIndependentlyComputedVector) {
  const Record r = Example1();
  EXPECT_EQ(
      Hex(CanonicalEncoding(r)),
      "0000001376697274656e67696e652e61756469742e7631"  // str(domain tag)
      "0000000000000001"                                // u64be(seq)
      "0000001e323032362d31312d32355431343a31303a30362e3132333435363738395a"
      "0000000e6f70657261746f723a616c696365"            // actor
      "0000000a6b65792e726f74617465"                    // action
      "0000000d6b6579732f6e6f64652e6b6579"              // object
      "0000000664656e696564"                            // outcome
      "000000136d66612073657373696f6e2065787069726564"  // reason
      "00000002"                                        // two details
      "00000007617474656d7074"
      "0000000132"  // attempt=2
      "000000036d6661"
      "00000004746f7470"  // mfa=totp
      "0000000000000000000000000000000000000000000000000000000000000000");
  absl::StatusOr<Hash> h = ComputeHash(r);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(HashHex(*h),
            "350626db5b4283c43c5777c1cb0b1040eb440cf622e810df3f1f8d426733e9ef");

  Record r2;
  r2.seq = 2;
  r2.time_unix_nanos = 1795615807000000000;
  r2.entry.actor = "node:ve1qxyz";
  r2.entry.action = "tx.submit";
  r2.prev = *h;
  absl::StatusOr<Hash> h2 = ComputeHash(r2);
  ASSERT_TRUE(h2.ok());
  EXPECT_EQ(HashHex(*h2),
            "e530ec54d10e67a0b7b70d0dac6d261718305c034bb1776f0d067f21dc01312c");
}

TEST(CanonicalEncodingTest, EveryFieldChangesTheHash) {
  const Record base = Example1();
  const Hash h = *ComputeHash(base);
  std::vector<Record> variants(9, base);
  variants[0].seq = 2;
  variants[1].time_unix_nanos += 1;
  variants[2].entry.actor += "x";
  variants[3].entry.action = "key.rotatf";
  variants[4].entry.object = "";
  variants[5].entry.outcome = Outcome::kFailure;
  variants[6].entry.reason += ".";
  variants[7].entry.details["mfa"] = "fido2";
  variants[8].prev[31] = 1;
  for (size_t i = 0; i < variants.size(); ++i) {
    EXPECT_NE(*ComputeHash(variants[i]), h) << "variant " << i;
  }
  // Length prefixes keep field boundaries: moving bytes between adjacent
  // fields changes the encoding.
  Record a = base;
  Record b = base;
  a.entry.actor = "ab";
  a.entry.action = "c";
  b.entry.actor = "a";
  b.entry.action = "bc";
  EXPECT_NE(CanonicalEncoding(a), CanonicalEncoding(b));
  Record c = base;
  Record d = base;
  c.entry.details = {{"a", "bc"}};
  d.entry.details = {{"ab", "c"}};
  EXPECT_NE(CanonicalEncoding(c), CanonicalEncoding(d));
}

TEST(ValidateEntryTest, AcceptsFieldsAtTheirLimits) {
  Entry e;
  e.actor = std::string(kMaxActorBytes, 'a');
  e.action = std::string(kMaxActionBytes, 'b');
  e.object = std::string(kMaxObjectBytes, 'c');
  e.reason = std::string(kMaxReasonBytes, 'd');
  for (size_t i = 0; i < kMaxDetails; ++i) {
    e.details[absl::StrCat("k", i)] = std::string(200, 'v');
  }
  EXPECT_TRUE(ValidateEntry(e).ok()) << ValidateEntry(e);
  Entry u;
  u.actor = "Opérateur Zoë 運用者";
  u.action = "a";
  u.details["note"] = "line one\nline two\ttabbed\r";
  EXPECT_TRUE(ValidateEntry(u).ok()) << ValidateEntry(u);
}

struct BadCase {
  const char* name;
  Entry entry;
  const char* message;
};

TEST(ValidateEntryTest, RefusesBadFieldsWithPreciseMessages) {
  const Entry ok = [] {
    Entry e;
    e.actor = "operator:alice";
    e.action = "key.rotate";
    return e;
  }();
  std::vector<BadCase> cases;
  auto add = [&](const char* name, auto mutate, const char* message) {
    Entry e = ok;
    mutate(e);
    cases.push_back({name, e, message});
  };
  add(
      "empty actor", [](Entry& e) { e.actor.clear(); }, "actor: is empty");
  add(
      "oversize actor", [](Entry& e) { e.actor = std::string(257, 'a'); },
      "actor: size 257 bytes exceeds limit 256");
  add(
      "newline in actor", [](Entry& e) { e.actor = "alice\nforged"; },
      "actor: control character U+000A at byte 5");
  add(
      "bad utf8 object", [](Entry& e) { e.object = "ab\xc0\xafz"; },
      "object: not valid UTF-8 at byte 2");
  add(
      "C1 control", [](Entry& e) { e.object = "x\xc2\x85y"; },
      "object: control character U+0085 at byte 1");
  add(
      "DEL in reason", [](Entry& e) { e.reason = "a\x7f"; },
      "reason: control character U+007F at byte 1");
  add(
      "oversize object",
      [](Entry& e) { e.object = std::string(kMaxObjectBytes + 1, 'o'); },
      "object: size 1025 bytes exceeds limit 1024");
  add(
      "action with space", [](Entry& e) { e.action = "key rotate"; },
      "action: 'key rotate' does not match [a-z0-9][a-z0-9_.-]* (byte 3)");
  add(
      "action uppercase", [](Entry& e) { e.action = "Key"; },
      "action: 'Key' does not match");
  add(
      "action leading dot", [](Entry& e) { e.action = ".x"; }, "(byte 0)");
  add(
      "empty action", [](Entry& e) { e.action.clear(); }, "action: is empty");
  add(
      "denied without reason", [](Entry& e) { e.outcome = Outcome::kDenied; },
      "reason: required when the outcome is denied");
  add(
      "failure without reason", [](Entry& e) { e.outcome = Outcome::kFailure; },
      "reason: required when the outcome is failure");
  add(
      "tab in reason", [](Entry& e) { e.reason = "a\tb"; },
      "reason: control character U+0009");
  add(
      "too many details",
      [](Entry& e) {
        for (int i = 0; i < 33; ++i) e.details[absl::StrCat("k", i)] = "";
      },
      "details: 33 items exceeds limit 32");
  add(
      "bad key", [](Entry& e) { e.details["a b"] = "x"; },
      "details key 'a b': 'a b' does not match [a-z0-9_][a-z0-9_.-]* (byte 1)");
  add(
      "empty key", [](Entry& e) { e.details[""] = "x"; }, "is empty");
  add(
      "oversize value",
      [](Entry& e) { e.details["k"] = std::string(1025, 'v'); },
      "details['k']: size 1025 bytes exceeds limit 1024");
  add(
      "NUL in value", [](Entry& e) { e.details["k"] = std::string(1, '\0'); },
      "details['k']: control character U+0000 at byte 0");
  add(
      "details total",
      [](Entry& e) {
        for (int i = 0; i < 9; ++i) {
          e.details[absl::StrCat("k", i)] = std::string(1000, 'v');
        }
      },
      "details: total size 9018 bytes exceeds limit 8192");
  for (const BadCase& c : cases) {
    const absl::Status s = ValidateEntry(c.entry);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.message)) << c.name;
  }
}

TEST(ValidateRecordTest, ChecksSeqAndTime) {
  Record r = Example1();
  EXPECT_TRUE(ValidateRecord(r).ok());
  r.seq = 0;
  EXPECT_THAT(std::string(ValidateRecord(r).message()),
              HasSubstr("seq: 0 is outside"));
  r.seq = kMaxSeq + 1;
  EXPECT_FALSE(ValidateRecord(r).ok());
  r.seq = 1;
  r.time_unix_nanos = -1;
  EXPECT_THAT(std::string(ValidateRecord(r).message()),
              HasSubstr("before 1970"));
}

TEST(HashHexTest, RoundTripsAndIsStrict) {
  Hash h{};
  for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<uint8_t>(i * 7);
  EXPECT_EQ(*ParseHashHex(HashHex(h)), h);
  std::string upper = HashHex(h);
  upper[1] = 'E';
  EXPECT_FALSE(ParseHashHex(upper).ok());
  EXPECT_FALSE(ParseHashHex(HashHex(h).substr(1)).ok());
  EXPECT_EQ(OutcomeName(*ParseOutcome("denied")), "denied");
  EXPECT_FALSE(ParseOutcome("Denied").has_value());
}

}  // namespace
}  // namespace virtengine::security::audit
