// compliance/json: an ordered JSON value, a deterministic pretty writer and a
// strict parser with limits, for the evidence documents (OSCAL, SPDX,
// CycloneDX, in-toto, DSSE) and for reading bundles back.
//
// Members of an object keep their insertion order, so a document built in
// the same order from the same inputs serializes to the same bytes.
// The parser follows RFC 8259 with the limits of JsonLimits: the input size,
// the nesting depth, valid UTF-8 in strings (lone surrogates refused), no
// duplicate member names, nothing but whitespace after the value. Numbers
// keep their literal text. Errors are InvalidArgument "json: byte N: what".
// (The parser is the same algorithm as src/cli/json.cc, which compliance
// cannot depend on: vectl depends on compliance.)
#ifndef VIRTENGINE_COMPLIANCE_JSON_JSON_H_
#define VIRTENGINE_COMPLIANCE_JSON_JSON_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace virtengine::compliance::json {

class Parser;  // json.cc

class Value {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  Value() = default;
  static Value Null() { return Value(); }
  static Value Bool(bool b);
  static Value Int(int64_t n);
  // A number given by its literal text (must be a valid JSON number).
  static Value NumberText(std::string text);
  static Value Str(std::string s);
  static Value Array();
  static Value Object();

  Type type() const { return type_; }
  bool is_object() const { return type_ == Type::kObject; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_string() const { return type_ == Type::kString; }

  // Objects: appends a member (the caller keeps names unique) and returns it.
  Value& Set(std::string key, Value v);
  // Arrays: appends an item and returns it.
  Value& Push(Value v);

  // Objects: the member or nullptr.
  const Value* Find(std::string_view key) const;
  // Objects: the string member or nullptr when absent or not a string.
  const std::string* FindString(std::string_view key) const;

  const std::string& str() const { return text_; }  // string or number text
  bool boolean() const { return bool_; }
  const std::vector<Value>& items() const { return items_; }
  std::vector<Value>& mutable_items() { return items_; }
  const std::vector<std::pair<std::string, Value>>& members() const {
    return members_;
  }
  std::vector<std::pair<std::string, Value>>& mutable_members() {
    return members_;
  }

  friend class Parser;

 private:
  Type type_ = Type::kNull;
  bool bool_ = false;
  std::string text_;
  std::vector<Value> items_;
  std::vector<std::pair<std::string, Value>> members_;
};

// Two-space indented, '\n' after the closing brace; deterministic.
std::string Pretty(const Value& v);
// No whitespace at all.
std::string Compact(const Value& v);

struct Limits {
  size_t max_bytes = 16 * 1024 * 1024;
  size_t max_depth = 64;
};

absl::StatusOr<Value> Parse(std::string_view text,
                            const Limits& limits = Limits());

std::string_view TypeName(Value::Type type);

}  // namespace virtengine::compliance::json

#endif  // VIRTENGINE_COMPLIANCE_JSON_JSON_H_
