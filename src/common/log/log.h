#ifndef VIRTENGINE_SRC_COMMON_LOG_LOG_H_
#define VIRTENGINE_SRC_COMMON_LOG_LOG_H_

// Structured logs: one JSON object per line (DESIGN §3), e.g.
//   {"ts":"2026-11-25T16:40:00.123456Z","level":"info","event":"block",
//    "height":12,"txs":3000}
// Field values are escaped; callers never log secrets (keys, passphrases,
// personal data): log identifiers, hashes and counts instead.
//
//   log::Info("block_committed", {{"height", h}, {"txs", n}});

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace virtengine::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// One key/value pair. Numbers and booleans are written bare, text quoted.
class Field {
 public:
  Field(std::string_view key, std::string_view value);
  Field(std::string_view key, const char* value);
  Field(std::string_view key, const std::string& value);
  Field(std::string_view key, int64_t value);
  Field(std::string_view key, uint64_t value);
  Field(std::string_view key, int value);
  Field(std::string_view key, unsigned value);
  Field(std::string_view key, bool value);

  const std::string& key() const { return key_; }
  // The JSON value text (already quoted and escaped when a string).
  const std::string& json() const { return json_; }

 private:
  std::string key_;
  std::string json_;
};

// "debug", "info", "warn", "error"; INVALID_ARGUMENT otherwise.
absl::StatusOr<Level> ParseLevel(std::string_view name);
std::string_view LevelName(Level level);

// Process-wide minimum level (default info). Thread-safe.
void SetMinLevel(Level level);
Level MinLevel();

// Formats one line (with the trailing newline). Exposed for tests.
std::string FormatLine(std::string_view timestamp, Level level,
                       std::string_view event,
                       std::initializer_list<Field> fields);

// Writes one line to stderr with a single write(2) so lines from several
// threads never interleave.
void Write(Level level, std::string_view event,
           std::initializer_list<Field> fields = {});

inline void Debug(std::string_view event, std::initializer_list<Field> f = {}) {
  Write(Level::kDebug, event, f);
}
inline void Info(std::string_view event, std::initializer_list<Field> f = {}) {
  Write(Level::kInfo, event, f);
}
inline void Warn(std::string_view event, std::initializer_list<Field> f = {}) {
  Write(Level::kWarn, event, f);
}
inline void Error(std::string_view event, std::initializer_list<Field> f = {}) {
  Write(Level::kError, event, f);
}

// JSON string escaping (RFC 8259): quotes, backslash, control characters;
// bytes that are not valid UTF-8 become U+FFFD so a line always parses.
std::string JsonQuote(std::string_view text);

}  // namespace virtengine::log

#endif  // VIRTENGINE_SRC_COMMON_LOG_LOG_H_
