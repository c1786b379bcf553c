#include "compliance/json/json.h"

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "security/validate/utf8.h"
#include "src/common/encoding/json_string.h"

namespace virtengine::compliance::json {

Value Value::Bool(bool b) {
  Value v;
  v.type_ = Type::kBool;
  v.bool_ = b;
  return v;
}

Value Value::Int(int64_t n) {
  Value v;
  v.type_ = Type::kNumber;
  v.text_ = absl::StrCat(n);
  return v;
}

Value Value::NumberText(std::string text) {
  Value v;
  v.type_ = Type::kNumber;
  v.text_ = std::move(text);
  return v;
}

Value Value::Str(std::string s) {
  Value v;
  v.type_ = Type::kString;
  v.text_ = std::move(s);
  return v;
}

Value Value::Array() {
  Value v;
  v.type_ = Type::kArray;
  return v;
}

Value Value::Object() {
  Value v;
  v.type_ = Type::kObject;
  return v;
}

Value& Value::Set(std::string key, Value v) {
  members_.emplace_back(std::move(key), std::move(v));
  return members_.back().second;
}

Value& Value::Push(Value v) {
  items_.push_back(std::move(v));
  return items_.back();
}

const Value* Value::Find(std::string_view key) const {
  if (type_ != Type::kObject) return nullptr;
  for (const auto& m : members_) {
    if (m.first == key) return &m.second;
  }
  return nullptr;
}

const std::string* Value::FindString(std::string_view key) const {
  const Value* v = Find(key);
  if (v == nullptr || v->type_ != Type::kString) return nullptr;
  return &v->text_;
}

std::string_view TypeName(Value::Type type) {
  switch (type) {
    case Value::Type::kNull:
      return "null";
    case Value::Type::kBool:
      return "a boolean";
    case Value::Type::kNumber:
      return "a number";
    case Value::Type::kString:
      return "a string";
    case Value::Type::kArray:
      return "an array";
    case Value::Type::kObject:
      return "an object";
  }
  return "?";
}

namespace {

void Write(const Value& v, bool pretty, int indent, std::string* out) {
  const auto newline = [&](int level) {
    if (!pretty) return;
    out->push_back('\n');
    out->append(static_cast<size_t>(level) * 2, ' ');
  };
  switch (v.type()) {
    case Value::Type::kNull:
      out->append("null");
      return;
    case Value::Type::kBool:
      out->append(v.boolean() ? "true" : "false");
      return;
    case Value::Type::kNumber:
      out->append(v.str());
      return;
    case Value::Type::kString:
      encoding::AppendJsonString(out, v.str());
      return;
    case Value::Type::kArray: {
      if (v.items().empty()) {
        out->append("[]");
        return;
      }
      out->push_back('[');
      bool first = true;
      for (const Value& item : v.items()) {
        if (!first) out->push_back(',');
        first = false;
        newline(indent + 1);
        Write(item, pretty, indent + 1, out);
      }
      newline(indent);
      out->push_back(']');
      return;
    }
    case Value::Type::kObject: {
      if (v.members().empty()) {
        out->append("{}");
        return;
      }
      out->push_back('{');
      bool first = true;
      for (const auto& m : v.members()) {
        if (!first) out->push_back(',');
        first = false;
        newline(indent + 1);
        encoding::AppendJsonString(out, m.first);
        out->append(pretty ? ": " : ":");
        Write(m.second, pretty, indent + 1, out);
      }
      newline(indent);
      out->push_back('}');
      return;
    }
  }
}

}  // namespace

std::string Pretty(const Value& v) {
  std::string out;
  Write(v, true, 0, &out);
  out.push_back('\n');
  return out;
}

std::string Compact(const Value& v) {
  std::string out;
  Write(v, false, 0, &out);
  return out;
}

class Parser {
 public:
  Parser(std::string_view text, const Limits& limits)
      : s_(text), limits_(limits) {}

  absl::StatusOr<Value> ParseDocument() {
    if (s_.size() > limits_.max_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("json: input of ", s_.size(),
                       " bytes exceeds the limit of ", limits_.max_bytes));
    }
    Value v;
    if (absl::Status st = ParseValue(&v, 0); !st.ok()) return st;
    SkipSpace();
    if (pos_ != s_.size()) return Error("unexpected data after the value");
    return v;
  }

 private:
  absl::Status Error(std::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("json: byte ", pos_, ": ", std::string(what)));
  }

  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' ||
                                s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool Literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  absl::Status ParseValue(Value* v, size_t depth) {
    SkipSpace();
    if (pos_ >= s_.size()) return Error("unexpected end of input");
    const char c = s_[pos_];
    if (c == '{' || c == '[') {
      if (depth + 1 > limits_.max_depth) {
        return Error(absl::StrCat("nesting deeper than ", limits_.max_depth));
      }
      return c == '{' ? Object(v, depth + 1) : Array(v, depth + 1);
    }
    if (c == '"') {
      v->type_ = Value::Type::kString;
      return String(&v->text_);
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      v->type_ = Value::Type::kNumber;
      return Number(&v->text_);
    }
    if (Literal("true")) {
      v->type_ = Value::Type::kBool;
      v->bool_ = true;
      return absl::OkStatus();
    }
    if (Literal("false")) {
      v->type_ = Value::Type::kBool;
      v->bool_ = false;
      return absl::OkStatus();
    }
    if (Literal("null")) {
      v->type_ = Value::Type::kNull;
      return absl::OkStatus();
    }
    return Error("expected a JSON value");
  }

  absl::Status Object(Value* v, size_t depth) {
    v->type_ = Value::Type::kObject;
    ++pos_;  // '{'
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return absl::OkStatus();
    }
    while (true) {
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '"') {
        return Error("expected a member name (a string)");
      }
      const size_t key_at = pos_;
      std::string key;
      if (absl::Status st = String(&key); !st.ok()) return st;
      for (const auto& m : v->members_) {
        if (m.first == key) {
          pos_ = key_at;
          return Error("duplicate member name");
        }
      }
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != ':') return Error("expected ':'");
      ++pos_;
      Value member;
      if (absl::Status st = ParseValue(&member, depth); !st.ok()) return st;
      v->members_.emplace_back(std::move(key), std::move(member));
      SkipSpace();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        return absl::OkStatus();
      }
      return Error("expected ',' or '}'");
    }
  }

  absl::Status Array(Value* v, size_t depth) {
    v->type_ = Value::Type::kArray;
    ++pos_;  // '['
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return absl::OkStatus();
    }
    while (true) {
      Value item;
      if (absl::Status st = ParseValue(&item, depth); !st.ok()) return st;
      v->items_.push_back(std::move(item));
      SkipSpace();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == ']') {
        ++pos_;
        return absl::OkStatus();
      }
      return Error("expected ',' or ']'");
    }
  }

  bool Digit() const {
    return pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9';
  }

  absl::Status Number(std::string* out) {
    const size_t start = pos_;
    if (s_[pos_] == '-') ++pos_;
    if (!Digit()) return Error("expected a digit");
    if (s_[pos_] == '0') {
      ++pos_;
      if (Digit()) return Error("leading zero in a number");
    } else {
      while (Digit()) ++pos_;
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (!Digit()) return Error("expected a digit after '.'");
      while (Digit()) ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (!Digit()) return Error("expected a digit in the exponent");
      while (Digit()) ++pos_;
    }
    *out = std::string(s_.substr(start, pos_ - start));
    return absl::OkStatus();
  }

  absl::StatusOr<uint32_t> Hex4() {
    if (pos_ + 4 > s_.size()) return Error("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_];
      uint32_t d = 0;
      if (c >= '0' && c <= '9') {
        d = static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        d = static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        d = static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return Error("invalid hex digit in a \\u escape");
      }
      v = (v << 4U) | d;
      ++pos_;
    }
    return v;
  }

  static void AppendUtf8(std::string* out, uint32_t cp) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6U)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3FU)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12U)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6U) & 0x3FU)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3FU)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18U)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12U) & 0x3FU)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6U) & 0x3FU)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3FU)));
    }
  }

  absl::Status String(std::string* out) {
    const size_t start = pos_;
    ++pos_;  // '"'
    out->clear();
    while (true) {
      if (pos_ >= s_.size()) return Error("unterminated string");
      const char c = s_[pos_];
      if (c == '"') {
        ++pos_;
        break;
      }
      if (static_cast<uint8_t>(c) < 0x20) {
        return Error("control character in a string (escape it)");
      }
      if (c != '\\') {
        out->push_back(c);
        ++pos_;
        continue;
      }
      ++pos_;
      if (pos_ >= s_.size()) return Error("unterminated escape");
      const char e = s_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out->push_back(e);
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          absl::StatusOr<uint32_t> cp = Hex4();
          if (!cp.ok()) return cp.status();
          uint32_t code = *cp;
          if (code >= 0xDC00 && code <= 0xDFFF) {
            return Error("lone low surrogate in a \\u escape");
          }
          if (code >= 0xD800 && code <= 0xDBFF) {
            if (!Literal("\\u")) {
              return Error("high surrogate not followed by a low surrogate");
            }
            absl::StatusOr<uint32_t> low = Hex4();
            if (!low.ok()) return low.status();
            if (*low < 0xDC00 || *low > 0xDFFF) {
              return Error("high surrogate not followed by a low surrogate");
            }
            code = 0x10000 + ((code - 0xD800) << 10U) + (*low - 0xDC00);
          }
          AppendUtf8(out, code);
          break;
        }
        default:
          --pos_;
          return Error("invalid escape");
      }
    }
    if (std::optional<validate::Utf8Error> bad = validate::FindUtf8Error(*out);
        bad.has_value()) {
      pos_ = start;
      return Error(absl::StrCat("string is not valid UTF-8: ", bad->reason));
    }
    return absl::OkStatus();
  }

  std::string_view s_;
  Limits limits_;
  size_t pos_ = 0;
};

absl::StatusOr<Value> Parse(std::string_view text, const Limits& limits) {
  return Parser(text, limits).ParseDocument();
}

}  // namespace virtengine::compliance::json
