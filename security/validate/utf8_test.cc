#include "security/validate/utf8.h"

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace virtengine::validate {
namespace {

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

// Plain encoder for any value up to 0x10FFFF (surrogates included, so tests
// can build them).
std::string Encode(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return s;
}

// Reference: decode by bit patterns, then judge the value (a different
// method from the table-driven validator). Returns the offset of the first
// ill-formed sequence, or -1.
long ReferenceErrorOffset(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<uint8_t>(s[i]);
    size_t len = 0;
    uint32_t cp = 0;
    if (b0 < 0x80) {
      len = 1;
      cp = b0;
    } else if ((b0 & 0xE0) == 0xC0) {
      len = 2;
      cp = b0 & 0x1F;
    } else if ((b0 & 0xF0) == 0xE0) {
      len = 3;
      cp = b0 & 0x0F;
    } else if ((b0 & 0xF8) == 0xF0) {
      len = 4;
      cp = b0 & 0x07;
    } else {
      return static_cast<long>(i);
    }
    if (i + len > s.size()) return static_cast<long>(i);
    for (size_t k = 1; k < len; ++k) {
      const auto b = static_cast<uint8_t>(s[i + k]);
      if ((b & 0xC0) != 0x80) return static_cast<long>(i);
      cp = (cp << 6) | (b & 0x3F);
    }
    static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return static_cast<long>(i);
    }
    i += len;
  }
  return -1;
}

long ErrorOffset(const std::string& s) {
  const std::optional<Utf8Error> e = FindUtf8Error(s);
  return e ? static_cast<long>(e->offset) : -1;
}

TEST(Utf8Test, AcceptsWellFormedText) {
  for (const char* s :
       {"", "plain ascii", "h\xc3\xa9llo",
        "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "\xf0\x9f\x98\x80 emoji"}) {
    EXPECT_TRUE(ValidateUtf8("memo", s).ok()) << s;
  }
}

TEST(Utf8Test, AcceptsEveryScalarValue) {
  for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    ASSERT_FALSE(FindUtf8Error(Encode(cp)).has_value()) << std::hex << cp;
  }
}

TEST(Utf8Test, BoundaryCodePoints) {
  for (uint32_t cp : {0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xD7FFu, 0xE000u, 0xFFFDu,
                      0xFFFFu, 0x10000u, 0x10FFFFu}) {
    EXPECT_TRUE(ValidateUtf8("f", Encode(cp)).ok()) << std::hex << cp;
  }
}

struct Bad {
  std::string text;
  size_t offset;
  const char* reason;
};

TEST(Utf8Test, RejectsIllFormedSequencesWithOffsetAndReason) {
  const Bad kBad[] = {
      {"\x80", 0, "unexpected continuation byte"},
      {"ab\xbf", 2, "unexpected continuation byte"},
      {"\xc0\xaf", 0, "overlong encoding"},  // '/' in two bytes
      {"\xc1\xbf", 0, "overlong encoding"},
      {"x\xe0\x80\xaf", 1, "overlong encoding"},
      {"\xe0\x9f\xbf", 0, "overlong encoding"},  // U+07FF in three bytes
      {"\xf0\x80\x80\xaf", 0, "overlong encoding"},
      {"\xf0\x8f\xbf\xbf", 0, "overlong encoding"},  // U+FFFF in four bytes
      {"\xed\xa0\x80", 0, "surrogate code point"},   // U+D800
      {"\xed\xbf\xbf", 0, "surrogate code point"},   // U+DFFF
      {"\xf4\x90\x80\x80", 0, "code point above U+10FFFF"},
      {"\xf5\x80\x80\x80", 0, "code point above U+10FFFF"},
      {"\xf7\xbf\xbf\xbf", 0, "code point above U+10FFFF"},
      {"\xf8\x88\x80\x80\x80", 0, "invalid lead byte"},
      {"\xff", 0, "invalid lead byte"},
      {"\xfe", 0, "invalid lead byte"},
      {"\xc3", 0, "truncated sequence"},
      {"a\xe6\x97", 1, "truncated sequence"},
      {"\xf0\x9f\x98", 0, "truncated sequence"},
      {"\xc3\x28", 0, "invalid continuation byte"},
      {"\xe6\x97\x41", 0, "invalid continuation byte"},
      {"\xe6\x41\x97", 0, "invalid continuation byte"},
      {"\xf0\x9f\x98\xc3", 0, "invalid continuation byte"},
  };
  for (const Bad& b : kBad) {
    const std::optional<Utf8Error> e = FindUtf8Error(b.text);
    ASSERT_TRUE(e.has_value()) << b.reason;
    EXPECT_EQ(e->offset, b.offset) << b.reason;
    EXPECT_STREQ(e->reason, b.reason);
    EXPECT_EQ(ReferenceErrorOffset(b.text), static_cast<long>(b.offset));
  }
}

TEST(Utf8Test, RejectsEncodedSurrogates) {
  for (uint32_t cp = 0xD800; cp <= 0xDFFF; ++cp) {
    ASSERT_EQ(ErrorOffset("ok" + Encode(cp)), 2) << std::hex << cp;
  }
}

TEST(Utf8Test, MessageNamesFieldAndByte) {
  // 17 valid bytes, then an overlong NUL.
  const std::string memo = std::string("rent for 3 nodes ") + "\xc0\x80";
  ASSERT_EQ(memo.size(), 19u);
  const absl::Status s = ValidateUtf8("memo", memo);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Msg(s), "memo: not valid UTF-8 at byte 17: overlong encoding");
}

// Every string of one, two and three bytes, compared with the reference.
TEST(Utf8Test, MatchesReferenceOnAllShortStrings) {
  std::string s;
  for (uint32_t v = 0; v < (1u << 24); ++v) {
    s.assign({static_cast<char>(v >> 16), static_cast<char>(v >> 8),
              static_cast<char>(v)});
    ASSERT_EQ(ErrorOffset(s), ReferenceErrorOffset(s)) << std::hex << v;
    if ((v & 0xFFFF) == 0) {
      s.assign(1, static_cast<char>(v >> 16));
      ASSERT_EQ(ErrorOffset(s), ReferenceErrorOffset(s));
    }
    if ((v & 0xFF) == 0) {
      s.assign({static_cast<char>(v >> 16), static_cast<char>(v >> 8)});
      ASSERT_EQ(ErrorOffset(s), ReferenceErrorOffset(s));
    }
  }
}

// Four-byte strings: every lead byte from 0xE0, with continuation candidates
// at every range boundary.
TEST(Utf8Test, MatchesReferenceOnFourByteBoundaries) {
  const uint8_t kBytes[] = {0x00, 0x41, 0x7F, 0x80, 0x81, 0x8F, 0x90,
                            0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xF4, 0xFF};
  for (uint32_t lead = 0xE0; lead <= 0xFF; ++lead) {
    for (uint8_t b1 : kBytes) {
      for (uint8_t b2 : kBytes) {
        for (uint8_t b3 : kBytes) {
          const std::string s = {static_cast<char>(lead), static_cast<char>(b1),
                                 static_cast<char>(b2), static_cast<char>(b3)};
          ASSERT_EQ(ErrorOffset(s), ReferenceErrorOffset(s));
        }
      }
    }
  }
}

TEST(Utf8Test, ControlCharacters) {
  EXPECT_TRUE(ValidateUtf8("memo", "a\tb\x01", ControlChars::kAllow).ok());
  EXPECT_EQ(Msg(ValidateUtf8("memo", "a\tb", ControlChars::kReject)),
            "memo: control character U+0009 at byte 1");
  EXPECT_TRUE(ValidateUtf8("memo", "line 1\r\nline\t2",
                           ControlChars::kRejectExceptWhitespace)
                  .ok());
  EXPECT_EQ(Msg(ValidateUtf8("memo", std::string("ab\0", 3),
                             ControlChars::kRejectExceptWhitespace)),
            "memo: control character U+0000 at byte 2");
  EXPECT_EQ(Msg(ValidateUtf8("memo", "x\x7f", ControlChars::kReject)),
            "memo: control character U+007F at byte 1");
  EXPECT_EQ(Msg(ValidateUtf8("memo", "\xc3\xa9\xc2\x85",
                             ControlChars::kRejectExceptWhitespace)),
            "memo: control character U+0085 at byte 2");  // NEL (C1)
  EXPECT_EQ(Msg(ValidateUtf8("memo", "\x1b[31m", ControlChars::kReject)),
            "memo: control character U+001B at byte 0");  // ANSI escape
  // U+00A0 (no-break space) and U+00BF are not controls.
  EXPECT_TRUE(
      ValidateUtf8("memo", "\xc2\xa0\xc2\xbf", ControlChars::kReject).ok());
  // Ill-formedness is reported before control characters.
  EXPECT_EQ(Msg(ValidateUtf8("memo", "\x01\xff", ControlChars::kReject)),
            "memo: not valid UTF-8 at byte 1: invalid lead byte");
}

TEST(Utf8Test, ValidateTextChecksSizeFirst) {
  EXPECT_TRUE(ValidateText("memo", "hello", 5).ok());
  EXPECT_EQ(Msg(ValidateText("memo", "hello\xff", 5)),
            "memo: size 6 bytes exceeds limit 5");
  EXPECT_EQ(Msg(ValidateText("memo", "hell\xff", 5)),
            "memo: not valid UTF-8 at byte 4: invalid lead byte");
  // Controls are rejected by default in free text.
  EXPECT_EQ(Msg(ValidateText("memo", "a\nb", 5)),
            "memo: control character U+000A at byte 1");
}

}  // namespace
}  // namespace virtengine::validate
