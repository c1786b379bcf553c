// The JSON-lines form of a record: one JSON object per line, in exactly one
// canonical spelling, so that parse(line) -> encode gives back the same bytes.
//
//   {"v":1,"seq":7,"time":"2026-11-25T14:10:06.123456789Z","actor":"node:a",
//    "action":"key.rotate","object":"keys/node.key","outcome":"success",
//    "reason":"","details":{"old":"ab12"},"prev":"<64 hex>","hash":"<64 hex>"}
//
// (shown wrapped; a real line has no whitespace at all). Keys appear in this
// order, every key is always present, details keys are sorted bytewise,
// numbers are plain decimal without leading zeros, hashes are lowercase hex,
// and strings escape exactly '"' -> \", '\' -> \\, LF -> \n, CR -> \r and
// TAB -> \t (no other escape, no \uXXXX, no '/' escape). Anything else is a
// parse error: the log is written only by AuditLog, so any other spelling
// means the line was edited.
#ifndef VIRTENGINE_SECURITY_AUDIT_JSON_LINE_H_
#define VIRTENGINE_SECURITY_AUDIT_JSON_LINE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "security/audit/record.h"

namespace virtengine::security::audit {

// The line for a record that passes ValidateRecord, without the trailing
// '\n'.
std::string EncodeLine(const Record& record);

// Parses one line (without its '\n'). The result passes ValidateRecord and
// EncodeLine(result) == line. The stored hash is returned as read, not
// checked. InvalidArgument on anything else, naming the byte offset:
//   "byte 12: expected '\"seq\":'"
//   "byte 40: escape \\u is not canonical (only \\\" \\\\ \\n \\r \\t)"
//   "byte 0: line is 70000 bytes, longer than the limit of 65536"
//   "actor: control character U+0007 at byte 3"   (field rules)
absl::StatusOr<Record> ParseLine(std::string_view line);

// Appends `s` as a JSON string (with quotes) for reports and CLI output:
// '"', '\' and every byte below 0x20 are escaped (\n, \r, \t, else \u00XX);
// bytes of invalid UTF-8 become \ufffd. Always valid JSON.
void AppendJsonQuoted(std::string* out, std::string_view s);

}  // namespace virtengine::security::audit

#endif  // VIRTENGINE_SECURITY_AUDIT_JSON_LINE_H_
