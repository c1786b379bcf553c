// Differential fuzzing of validate::FindUtf8Error / ValidateUtf8 against a
// plain reference decoder written here: it decodes by bit patterns and then
// judges the value (overlong, surrogate, above U+10FFFF), where the library
// uses Unicode Table 3-7 byte ranges. Both must agree on validity, on the
// offset of the first ill-formed sequence, and on the first control
// character in each ControlChars mode.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "security/validate/utf8.h"

#define FUZZ_CHECK(cond)                                                \
  do {                                                                  \
    if (!(cond)) {                                                      \
      (void)std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
                         __LINE__, #cond);                              \
      std::abort();                                                     \
    }                                                                   \
  } while (0)

namespace {

namespace val = virtengine::validate;

struct Decoded {
  bool ok = true;
  size_t error_offset = 0;
  std::vector<std::pair<size_t, uint32_t>> code_points;  // (offset, value)
};

Decoded Reference(std::string_view s) {
  Decoded d;
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
    }
    bool good = len != 0 && i + len <= s.size();
    for (size_t k = 1; good && k < len; ++k) {
      const auto b = static_cast<uint8_t>(s[i + k]);
      good = (b & 0xC0) == 0x80;
      cp = (cp << 6) | (b & 0x3F);
    }
    static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    good = good && cp >= kMin[len] && !(cp >= 0xD800 && cp <= 0xDFFF) &&
           cp <= 0x10FFFF;
    if (!good) {
      d.ok = false;
      d.error_offset = i;
      return d;
    }
    d.code_points.emplace_back(i, cp);
    i += len;
  }
  return d;
}

bool IsControl(uint32_t cp, val::ControlChars mode) {
  if (mode == val::ControlChars::kAllow) return false;
  const bool cc = cp <= 0x1F || (cp >= 0x7F && cp <= 0x9F);
  if (mode == val::ControlChars::kRejectExceptWhitespace &&
      (cp == 0x09 || cp == 0x0A || cp == 0x0D)) {
    return false;
  }
  return cc;
}

std::string Hex4(uint32_t cp) {
  char buf[8];
  (void)std::snprintf(buf, sizeof(buf), "%04X", static_cast<unsigned>(cp));
  return buf;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const Decoded ref = Reference(in);
  const std::optional<val::Utf8Error> err = val::FindUtf8Error(in);
  FUZZ_CHECK(err.has_value() == !ref.ok);
  if (err) FUZZ_CHECK(err->offset == ref.error_offset);

  for (auto mode : {val::ControlChars::kAllow, val::ControlChars::kReject,
                    val::ControlChars::kRejectExceptWhitespace}) {
    const absl::Status s = val::ValidateUtf8("f", in, mode);
    std::string want;  // empty: expect OK
    if (!ref.ok) {
      want = "f: not valid UTF-8 at byte " + std::to_string(ref.error_offset) +
             ": ";
    } else {
      for (const auto& [offset, cp] : ref.code_points) {
        if (IsControl(cp, mode)) {
          want = "f: control character U+" + Hex4(cp) + " at byte " +
                 std::to_string(offset);
          break;
        }
      }
    }
    if (want.empty()) {
      FUZZ_CHECK(s.ok());
    } else {
      FUZZ_CHECK(s.code() == absl::StatusCode::kInvalidArgument);
      const absl::string_view m = s.message();
      // Ill-formedness messages end with a reason; compare the prefix.
      FUZZ_CHECK(m.size() >= want.size());
      FUZZ_CHECK(std::string_view(m.data(), want.size()) == want);
      if (ref.ok) FUZZ_CHECK(m.size() == want.size());
    }
  }
  return 0;
}
