// Placeholder matching and request validation (see policy.h). Everything here
// is a hand-written, linear-time matcher over bounded input: no regular
// expression engine, no recursion.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "security/exec/policy.h"

namespace virtengine::exec {
namespace {

constexpr size_t kMaxQuoted = 80;

// Debian's abseil keeps its own string_view type.
absl::string_view AV(std::string_view s) { return {s.data(), s.size()}; }

// Characters allowed in path_beneath values besides '/'.
bool IsPathChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ',' ||
         c == '+' || c == '@' || c == '=' || c == ':' || c == '-';
}

std::string CharForMessage(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f && c != '\'') {
    return absl::StrCat("'", std::string(1, c), "'");
  }
  return absl::StrCat("0x", absl::Hex(u, absl::kZeroPad2));
}

// Control characters (including NUL, newline, DEL) and non-ASCII bytes are
// never accepted in any value, whatever the placeholder says.
absl::Status CheckPrintable(std::string_view value) {
  for (size_t i = 0; i < value.size(); ++i) {
    const auto u = static_cast<unsigned char>(value[i]);
    if (u < 0x20 || u >= 0x7f) {
      return absl::InvalidArgumentError(
          absl::StrCat("character ", CharForMessage(value[i]), " at offset ", i,
                       " is a control or non-ASCII byte"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckLength(std::string_view value, size_t min_len,
                         size_t max_len) {
  if (value.size() < min_len || value.size() > max_len) {
    return absl::InvalidArgumentError(absl::StrCat(
        "length ", value.size(), " is outside ", min_len, "..", max_len));
  }
  return absl::OkStatus();
}

absl::Status CheckCharset(std::string_view value, const std::bitset<128>& cs) {
  for (size_t i = 0; i < value.size(); ++i) {
    const auto u = static_cast<unsigned char>(value[i]);
    if (u >= 128 || !cs.test(u)) {
      return absl::InvalidArgumentError(
          absl::StrCat("character ", CharForMessage(value[i]), " at offset ", i,
                       " is not allowed"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckInt(std::string_view value, int64_t min, int64_t max) {
  // Canonical decimal only: optional '-', no leading zeros, no '+', no
  // spaces, no "-0".
  std::string_view digits = value;
  const bool negative = !digits.empty() && digits.front() == '-';
  if (negative) digits.remove_prefix(1);
  bool canonical = !digits.empty() && digits.size() <= 19;
  for (const char c : digits) {
    if (c < '0' || c > '9') canonical = false;
  }
  if (canonical && digits.size() > 1 && digits.front() == '0') {
    canonical = false;
  }
  if (canonical && negative && digits == "0") canonical = false;
  int64_t parsed = 0;
  if (!canonical || !absl::SimpleAtoi(AV(value), &parsed)) {
    return absl::InvalidArgumentError("is not a canonical decimal integer");
  }
  if (parsed < min || parsed > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(parsed, " is outside ", min, "..", max));
  }
  return absl::OkStatus();
}

absl::Status CheckPathBeneath(std::string_view value, std::string_view root) {
  if (value.size() <= root.size() + 1 || value.substr(0, root.size()) != root ||
      value[root.size()] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("is not a path strictly beneath ", AV(root), "/"));
  }
  std::string_view rest = value.substr(root.size() + 1);
  size_t offset = root.size() + 1;
  while (true) {
    const size_t slash = rest.find('/');
    const std::string_view comp = rest.substr(0, slash);
    if (comp.empty() || comp == "." || comp == "..") {
      return absl::InvalidArgumentError(absl::StrCat(
          "has an empty, \".\" or \"..\" component at offset ", offset));
    }
    if (comp.size() > 255) {
      return absl::InvalidArgumentError(
          absl::StrCat("has a component longer than 255 at offset ", offset));
    }
    for (size_t i = 0; i < comp.size(); ++i) {
      if (!IsPathChar(comp[i])) {
        return absl::InvalidArgumentError(
            absl::StrCat("character ", CharForMessage(comp[i]), " at offset ",
                         offset + i, " is not allowed in a path"));
      }
    }
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
    offset += slash + 1;
  }
  return absl::OkStatus();
}

std::string CountRange(size_t lo, size_t hi) {
  if (lo == hi) return absl::StrCat(lo);
  return absl::StrCat(lo, " to ", hi);
}

}  // namespace

bool IsShellMetachar(char c) {
  switch (c) {
    case ' ':
    case '\t':
    case '\n':
    case ';':
    case '&':
    case '|':
    case '$':
    case '`':
    case '\'':
    case '"':
    case '\\':
    case '<':
    case '>':
    case '(':
    case ')':
    case '{':
    case '}':
    case '[':
    case ']':
    case '*':
    case '?':
    case '!':
    case '~':
    case '#':
    case '^':
      return true;
    default:
      return false;
  }
}

std::string QuoteForMessage(std::string_view value) {
  if (value.size() <= kMaxQuoted) return absl::CHexEscape(AV(value));
  return absl::StrCat(absl::CHexEscape(AV(value.substr(0, kMaxQuoted))), "...(",
                      value.size(), " bytes)");
}

std::string Placeholder::Describe() const {
  switch (type) {
    case PlaceholderType::kInt:
      return absl::StrCat("int, ", int_min, "..", int_max);
    case PlaceholderType::kIdentifier:
      return absl::StrCat("identifier, ^[", charset_spec, "]{", min_len, ",",
                          max_len, "}$");
    case PlaceholderType::kString:
      return absl::StrCat("string, ^[", charset_spec, "]{", min_len, ",",
                          max_len, "}$");
    case PlaceholderType::kPathBeneath:
      return absl::StrCat("path_beneath, root \"", root_name,
                          "\" = ", root_path, ", length ", min_len, "..",
                          max_len);
    case PlaceholderType::kEnum: {
      std::vector<std::string> shown;
      for (size_t i = 0; i < enum_values.size() && i < 8; ++i) {
        shown.push_back(
            absl::StrCat("\"", QuoteForMessage(enum_values[i]), "\""));
      }
      if (enum_values.size() > 8) shown.emplace_back("...");
      return absl::StrCat("enum, one of ", absl::StrJoin(shown, ", "));
    }
  }
  return "unknown";
}

absl::Status Placeholder::Check(std::string_view value) const {
  if (absl::Status s = CheckPrintable(value); !s.ok()) return s;
  if (!allow_leading_dash && !value.empty() && value.front() == '-') {
    return absl::InvalidArgumentError(
        "starts with '-' (would be read as an option) and the placeholder "
        "does not allow a leading '-'");
  }
  switch (type) {
    case PlaceholderType::kInt:
      if (absl::Status s = CheckInt(value, int_min, int_max); !s.ok()) {
        return s;
      }
      break;
    case PlaceholderType::kIdentifier:
      if (absl::Status s = CheckLength(value, min_len, max_len); !s.ok()) {
        return s;
      }
      if (absl::Status s = CheckCharset(value, charset); !s.ok()) return s;
      if (value == "." || value == "..") {
        return absl::InvalidArgumentError("is \".\" or \"..\"");
      }
      break;
    case PlaceholderType::kString:
      if (absl::Status s = CheckLength(value, min_len, max_len); !s.ok()) {
        return s;
      }
      if (absl::Status s = CheckCharset(value, charset); !s.ok()) return s;
      break;
    case PlaceholderType::kPathBeneath:
      if (absl::Status s = CheckLength(value, min_len, max_len); !s.ok()) {
        return s;
      }
      if (absl::Status s = CheckPathBeneath(value, root_path); !s.ok()) {
        return s;
      }
      break;
    case PlaceholderType::kEnum:
      if (std::find(enum_values.begin(), enum_values.end(), value) ==
          enum_values.end()) {
        return absl::InvalidArgumentError("is not one of the allowed values");
      }
      break;
  }
  // Defence in depth: the load-time checks already keep metacharacters out
  // of every character set and enum value that does not opt in.
  if (!allow_shell_metachars) {
    for (size_t i = 0; i < value.size(); ++i) {
      if (IsShellMetachar(value[i])) {
        return absl::InvalidArgumentError(absl::StrCat("shell metacharacter ",
                                                       CharForMessage(value[i]),
                                                       " at offset ", i));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Invocation> ValidateInvocation(
    const Entry& entry, const std::vector<std::string>& args,
    const std::map<std::string, std::string>& env,
    std::optional<size_t> stdin_size) {
  const std::string id = QuoteForMessage(entry.id);

  if (stdin_size.has_value()) {
    if (entry.limits.stdin_max_bytes == 0) {
      return absl::PermissionDeniedError(
          absl::StrCat("entry \"", id, "\" does not accept stdin"));
    }
    if (*stdin_size > entry.limits.stdin_max_bytes) {
      return absl::PermissionDeniedError(absl::StrCat(
          "entry \"", id, "\": stdin of ", *stdin_size,
          " bytes exceeds the limit of ", entry.limits.stdin_max_bytes));
    }
  }

  if (args.size() < entry.min_args || args.size() > entry.max_args) {
    return absl::PermissionDeniedError(absl::StrCat(
        "entry \"", id, "\" takes ", CountRange(entry.min_args, entry.max_args),
        " argument(s), got ", args.size()));
  }
  // At most one placeholder has a variable count; it takes what the others
  // leave.
  size_t fixed_placeholders = 0;
  for (const ArgSpec& spec : entry.argv) {
    if (!spec.is_word && spec.placeholder.min_count == 1 &&
        spec.placeholder.max_count == 1) {
      ++fixed_placeholders;
    }
  }
  const size_t variable_count = args.size() - fixed_placeholders;

  Invocation inv;
  inv.entry = &entry;
  inv.argv.reserve(entry.argv.size() + args.size() + 1);
  inv.argv.push_back(entry.binary);
  size_t bytes = entry.binary.size() + 1;
  size_t next = 0;
  for (const ArgSpec& spec : entry.argv) {
    if (spec.is_word) {
      inv.argv.push_back(spec.word);
      bytes += spec.word.size() + 1;
      continue;
    }
    const Placeholder& ph = spec.placeholder;
    const size_t count =
        (ph.min_count == 1 && ph.max_count == 1) ? 1 : variable_count;
    for (size_t k = 0; k < count; ++k, ++next) {
      const std::string& value = args[next];
      if (absl::Status s = ph.Check(value); !s.ok()) {
        return absl::PermissionDeniedError(absl::StrCat(
            "entry \"", id, "\" arg ", next, " (\"", QuoteForMessage(value),
            "\") does not match placeholder \"", ph.name, "\" (", ph.Describe(),
            "): ", s.message()));
      }
      inv.argv.push_back(absl::StrCat(ph.prefix, value));
      bytes += inv.argv.back().size() + 1;
    }
  }

  for (const auto& [name, value] : env) {
    const EnvSpec* spec = nullptr;
    for (const EnvSpec& e : entry.env) {
      if (e.name == name) spec = &e;
    }
    if (spec == nullptr) {
      std::vector<std::string> allowed;
      allowed.reserve(entry.env.size());
      for (const EnvSpec& e : entry.env) allowed.push_back(e.name);
      return absl::PermissionDeniedError(absl::StrCat(
          "entry \"", id, "\" does not allow environment variable \"",
          QuoteForMessage(name), "\" (allowed: ",
          allowed.empty() ? "none" : absl::StrJoin(allowed, ", "), ")"));
    }
    if (absl::Status s = spec->value.Check(value); !s.ok()) {
      return absl::PermissionDeniedError(
          absl::StrCat("entry \"", id, "\" environment variable \"", name,
                       "\" (\"", QuoteForMessage(value), "\") does not match (",
                       spec->value.Describe(), "): ", s.message()));
    }
  }
  std::vector<std::pair<std::string, std::string>> vars(entry.fixed_env);
  vars.insert(vars.end(), env.begin(), env.end());
  std::sort(vars.begin(), vars.end());
  inv.envp.reserve(vars.size());
  for (const auto& [name, value] : vars) {
    inv.envp.push_back(absl::StrCat(name, "=", value));
    bytes += inv.envp.back().size() + 1;
  }

  if (inv.argv.size() > kMaxArgvElements || bytes > kMaxArgvBytes) {
    return absl::PermissionDeniedError(absl::StrCat(
        "entry \"", id, "\": argv and environment total ", inv.argv.size(),
        " elements and ", bytes, " bytes, over the limit of ", kMaxArgvElements,
        " elements or ", kMaxArgvBytes, " bytes"));
  }
  return inv;
}

}  // namespace virtengine::exec
