// A small JSON writer (for vectl's --output json) and a strict JSON parser
// (for receipt files).
//
// Writer: compact output, strings escaped as RFC 8259 requires ('"', '\\'
// and every byte below 0x20; \n \r \t by name, others as \u00XX); text that
// is not valid UTF-8 is refused by the callers that need a round trip and
// otherwise has each invalid byte replaced by U+FFFD, so the output is
// always valid JSON.
//
// Parser: RFC 8259 with limits. The whole input is at most `max_bytes`,
// nesting at most `max_depth`, strings must be valid UTF-8 (raw and after
// \u unescaping, surrogate pairs combined, lone surrogates refused), no
// control characters inside strings, no duplicate object keys, nothing but
// whitespace after the value. Numbers are kept as their literal text (the
// caller parses them with the range it wants). InvalidArgument
// "json: byte N: <what>" otherwise.
#ifndef VIRTENGINE_SRC_CLI_JSON_H_
#define VIRTENGINE_SRC_CLI_JSON_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "src/common/encoding/json_string.h"

namespace virtengine::cli {

class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // A member name inside an object; the next value belongs to it.
  JsonWriter& Key(std::string_view name);
  JsonWriter& String(std::string_view value);
  JsonWriter& Uint(uint64_t value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();

  const std::string& str() const { return out_; }

 private:
  void Separate();
  std::string out_;
  bool need_comma_ = false;
};

// Appends `s` as a quoted JSON string (see the file comment).
using encoding::AppendJsonString;

// `s` escaped as inside a JSON string, without the quotes: what text output
// shows of strings that come from a node, so that control characters never
// reach the terminal.
std::string TextSafe(std::string_view s);

}  // namespace virtengine::cli

#endif  // VIRTENGINE_SRC_CLI_JSON_H_
