#include "src/common/log/log.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "src/common/encoding/json_string.h"

namespace virtengine::log {
namespace {

std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};

}  // namespace

std::string JsonQuote(std::string_view text) {
  std::string out;
  encoding::AppendJsonString(&out, text);
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
