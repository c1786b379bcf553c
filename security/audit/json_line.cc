#include "security/audit/json_line.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "security/audit/quote.h"
#include "security/audit/record.h"
#include "security/validate/utf8.h"

namespace virtengine::security::audit {
namespace {

// The canonical string escape (the writer's side): only the five escapes.
void AppendCanonicalString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (const char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        out->push_back(c);
    }
  }
  out->push_back('"');
}

// A cursor over one line. Every error names the byte offset where the line
// stopped matching the canonical form.
class Reader {
 public:
  explicit Reader(std::string_view line) : s_(line) {}

  absl::Status Error(std::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("byte ", pos_, ": ", Sv(what)));
  }

  absl::Status Expect(std::string_view literal) {
    if (s_.substr(pos_, literal.size()) != literal) {
      return Error(absl::StrCat("expected ", Quote(literal)));
    }
    pos_ += literal.size();
    return absl::OkStatus();
  }

  bool Peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }

  // A JSON string in canonical spelling, raw bytes (UTF-8 is checked by the
  // field rules afterwards). At most `max_bytes` decoded bytes.
  absl::StatusOr<std::string> String(size_t max_bytes) {
    if (!Peek('"')) return Error("expected '\"' (a string)");
    ++pos_;
    std::string out;
    for (;;) {
      if (pos_ >= s_.size()) return Error("unterminated string");
      const char c = s_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        return Error(absl::StrCat("raw control byte ",
                                  Quote(std::string_view(&s_[pos_], 1)),
                                  " inside a string"));
      }
      if (c == '\\') {
        if (pos_ + 1 >= s_.size()) return Error("unterminated escape");
        const char e = s_[pos_ + 1];
        char decoded = 0;
        switch (e) {
          case '"':
            decoded = '"';
            break;
          case '\\':
            decoded = '\\';
            break;
          case 'n':
            decoded = '\n';
            break;
          case 'r':
            decoded = '\r';
            break;
          case 't':
            decoded = '\t';
            break;
          default:
            return Error(absl::StrCat("escape \\",
                                      Quote(std::string_view(&e, 1)),
                                      " is not canonical (only \\\" \\\\ \\n "
                                      "\\r \\t are written)"));
        }
        out.push_back(decoded);
        pos_ += 2;
      } else {
        out.push_back(c);
        ++pos_;
      }
      if (out.size() > max_bytes) {
        return Error(absl::StrCat("string longer than ", max_bytes, " bytes"));
      }
    }
  }

  // A decimal integer in 1..max without sign, leading zeros or exponent.
  absl::StatusOr<uint64_t> Unsigned(uint64_t max) {
    const size_t start = pos_;
    uint64_t v = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      const auto digit = static_cast<uint64_t>(s_[pos_] - '0');
      if (v > (max - digit) / 10) {
        pos_ = start;
        return Error(absl::StrCat("number is larger than ", max));
      }
      v = v * 10 + digit;
      ++pos_;
    }
    if (pos_ == start) return Error("expected a decimal number");
    if (s_[start] == '0') {
      pos_ = start;
      return Error("number is zero or has a leading zero");
    }
    return v;
  }

  bool AtEnd() const { return pos_ == s_.size(); }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

// Wraps a field-rule failure so the message also says which JSON value.
absl::Status FieldError(const absl::Status& s) {
  return absl::InvalidArgumentError(s.message());
}

}  // namespace

std::string EncodeLine(const Record& record) {
  const Entry& e = record.entry;
  std::string out;
  out.reserve(320 + e.actor.size() + e.object.size() + e.reason.size());
  absl::StrAppend(&out, "{\"v\":1,\"seq\":", record.seq, ",\"time\":\"",
                  FormatTime(record.time_unix_nanos), "\",\"actor\":");
  AppendCanonicalString(&out, e.actor);
  out.append(",\"action\":");
  AppendCanonicalString(&out, e.action);
  out.append(",\"object\":");
  AppendCanonicalString(&out, e.object);
  absl::StrAppend(&out, ",\"outcome\":\"", Sv(OutcomeName(e.outcome)),
                  "\",\"reason\":");
  AppendCanonicalString(&out, e.reason);
  out.append(",\"details\":{");
  bool first = true;
  for (const auto& [key, value] : e.details) {
    if (!first) out.push_back(',');
    first = false;
    AppendCanonicalString(&out, key);
    out.push_back(':');
    AppendCanonicalString(&out, value);
  }
  absl::StrAppend(&out, "},\"prev\":\"", HashHex(record.prev), "\",\"hash\":\"",
                  HashHex(record.hash), "\"}");
  return out;
}

absl::StatusOr<Record> ParseLine(std::string_view line) {
  if (line.size() > kMaxLineBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("byte 0: line is ", line.size(),
                     " bytes, longer than the limit of ", kMaxLineBytes));
  }
  Reader r(line);
  Record rec;
  absl::Status s = r.Expect("{\"v\":1,\"seq\":");
  if (!s.ok()) return s;
  absl::StatusOr<uint64_t> seq = r.Unsigned(kMaxSeq);
  if (!seq.ok()) return seq.status();
  rec.seq = *seq;

  if (s = r.Expect(",\"time\":"); !s.ok()) return s;
  absl::StatusOr<std::string> time = r.String(64);
  if (!time.ok()) return time.status();
  absl::StatusOr<int64_t> nanos = ParseTime(*time);
  if (!nanos.ok()) return FieldError(nanos.status());
  rec.time_unix_nanos = *nanos;

  struct TextField {
    const char* prefix;
    std::string* target;
    size_t max;
  };
  Entry& e = rec.entry;
  const TextField head_fields[] = {
      {",\"actor\":", &e.actor, kMaxActorBytes},
      {",\"action\":", &e.action, kMaxActionBytes},
      {",\"object\":", &e.object, kMaxObjectBytes},
  };
  for (const TextField& f : head_fields) {
    if (s = r.Expect(f.prefix); !s.ok()) return s;
    absl::StatusOr<std::string> v = r.String(f.max);
    if (!v.ok()) return v.status();
    *f.target = *std::move(v);
  }

  if (s = r.Expect(",\"outcome\":"); !s.ok()) return s;
  absl::StatusOr<std::string> outcome = r.String(16);
  if (!outcome.ok()) return outcome.status();
  const std::optional<Outcome> parsed_outcome = ParseOutcome(*outcome);
  if (!parsed_outcome.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "outcome: ", Quote(*outcome), " is not success, failure or denied"));
  }
  e.outcome = *parsed_outcome;

  if (s = r.Expect(",\"reason\":"); !s.ok()) return s;
  absl::StatusOr<std::string> reason = r.String(kMaxReasonBytes);
  if (!reason.ok()) return reason.status();
  e.reason = *std::move(reason);

  if (s = r.Expect(",\"details\":{"); !s.ok()) return s;
  std::string last_key;
  while (!r.Peek('}')) {
    if (!e.details.empty()) {
      if (s = r.Expect(","); !s.ok()) return s;
    }
    if (e.details.size() == kMaxDetails) {
      return r.Error(absl::StrCat("more than ", kMaxDetails, " details"));
    }
    absl::StatusOr<std::string> key = r.String(kMaxDetailKeyBytes);
    if (!key.ok()) return key.status();
    if (!e.details.empty() && !(last_key < *key)) {
      return r.Error(absl::StrCat("details key ", Quote(*key), " is not after ",
                                  Quote(last_key),
                                  " (keys are unique and sorted bytewise)"));
    }
    if (s = r.Expect(":"); !s.ok()) return s;
    absl::StatusOr<std::string> value = r.String(kMaxDetailValueBytes);
    if (!value.ok()) return value.status();
    last_key = *key;
    e.details.emplace(*std::move(key), *std::move(value));
  }

  if (s = r.Expect("},\"prev\":"); !s.ok()) return s;
  absl::StatusOr<std::string> prev = r.String(64);
  if (!prev.ok()) return prev.status();
  absl::StatusOr<Hash> prev_hash = ParseHashHex(*prev);
  if (!prev_hash.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("prev: ", prev_hash.status().message()));
  }
  rec.prev = *prev_hash;

  if (s = r.Expect(",\"hash\":"); !s.ok()) return s;
  absl::StatusOr<std::string> hash = r.String(64);
  if (!hash.ok()) return hash.status();
  absl::StatusOr<Hash> own_hash = ParseHashHex(*hash);
  if (!own_hash.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("hash: ", own_hash.status().message()));
  }
  rec.hash = *own_hash;

  if (s = r.Expect("}"); !s.ok()) return s;
  if (!r.AtEnd()) return r.Error("unexpected bytes after the record");

  s = ValidateRecord(rec);
  if (!s.ok()) return FieldError(s);
  return rec;
}

void AppendJsonQuoted(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  while (!s.empty()) {
    const std::optional<validate::Utf8Error> err = validate::FindUtf8Error(s);
    const size_t good = err.has_value() ? err->offset : s.size();
    for (const char ch : s.substr(0, good)) {
      const auto c = static_cast<unsigned char>(ch);
      if (ch == '"') {
        out->append("\\\"");
      } else if (ch == '\\') {
        out->append("\\\\");
      } else if (ch == '\n') {
        out->append("\\n");
      } else if (ch == '\r') {
        out->append("\\r");
      } else if (ch == '\t') {
        out->append("\\t");
      } else if (c < 0x20) {
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xf]);
      } else {
        out->push_back(ch);
      }
    }
    if (!err.has_value()) break;
    out->append("\\ufffd");
    s.remove_prefix(good + 1);
  }
  out->push_back('"');
}

}  // namespace virtengine::security::audit
