#include "src/common/log/log.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace virtengine::log {
namespace {

std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};

// Length of the valid UTF-8 sequence starting at s[i], or 0.
size_t Utf8Len(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = 0;
  uint32_t cp = 0;
  if (c < 0x80) return 1;
  if ((c & 0xe0) == 0xc0) {
    n = 2;
    cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    n = 3;
    cp = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3f);
  }
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
      (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
      (cp >= 0xd800 && cp <= 0xdfff)) {
    return 0;
  }
  return n;
}

}  // namespace

std::string JsonQuote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('"');
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (c == '\n') {
      out += "\\n";
      ++i;
    } else if (c == '\r') {
      out += "\\r";
      ++i;
    } else if (c == '\t') {
      out += "\\t";
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
      ++i;
    } else {
      const size_t n = Utf8Len(text, i);
      if (n == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(text.substr(i, n));
        i += n;
      }
    }
  }
  out.push_back('"');
  return out;
}

Field::Field(std::string_view key, std::string_view value)
    : key_(key), json_(JsonQuote(value)) {}
Field::Field(std::string_view key, const char* value)
    : Field(key, std::string_view(value == nullptr ? "" : value)) {}
Field::Field(std::string_view key, const std::string& value)
    : Field(key, std::string_view(value)) {}
Field::Field(std::string_view key, int64_t value)
    : key_(key), json_(absl::StrCat(value)) {}
Field::Field(std::string_view key, uint64_t value)
    : key_(key), json_(absl::StrCat(value)) {}
Field::Field(std::string_view key, int value)
    : key_(key), json_(absl::StrCat(value)) {}
Field::Field(std::string_view key, unsigned value)
    : key_(key), json_(absl::StrCat(value)) {}
Field::Field(std::string_view key, bool value)
    : key_(key), json_(value ? "true" : "false") {}

absl::StatusOr<Level> ParseLevel(std::string_view name) {
  if (name == "debug") return Level::kDebug;
  if (name == "info") return Level::kInfo;
  if (name == "warn") return Level::kWarn;
  if (name == "error") return Level::kError;
  return absl::InvalidArgumentError(absl::StrCat(
      "log level must be debug, info, warn or error, not ", JsonQuote(name)));
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

void SetMinLevel(Level level) { g_min_level.store(static_cast<int>(level)); }
Level MinLevel() { return static_cast<Level>(g_min_level.load()); }

std::string FormatLine(std::string_view timestamp, Level level,
                       std::string_view event,
                       std::initializer_list<Field> fields) {
  std::string line = absl::StrCat(
      "{\"ts\":", JsonQuote(timestamp), ",\"level\":\"",
      std::string(LevelName(level)), "\",\"event\":", JsonQuote(event));
  for (const Field& f : fields) {
    absl::StrAppend(&line, ",", JsonQuote(f.key()), ":", f.json());
  }
  line += "}\n";
  return line;
}

void Write(Level level, std::string_view event,
           std::initializer_list<Field> fields) {
  if (static_cast<int>(level) < g_min_level.load()) return;
  const std::string ts = absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(),
                                          absl::UTCTimeZone());
  const std::string line = FormatLine(ts, level, event, fields);
  size_t off = 0;
  while (off < line.size()) {
    const ssize_t n =
        ::write(STDERR_FILENO, line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to report a failing stderr
    off += static_cast<size_t>(n);
  }
}

}  // namespace virtengine::log
