// Arbitrary requests against a fixed allowlist (security/exec). Invariants:
//  - validation never crashes;
//  - a refusal is PermissionDenied and its message carries no raw control
//    byte (values are escaped);
//  - an accepted request's argv is exactly the schema filled in (fixed words
//    in place, prefix + the caller's value, in order): the round trip is
//    exact, and validating again gives the same result;
//  - no accepted value holds a control/non-ASCII byte, or a shell
//    metacharacter unless its placeholder explicitly allows them, or starts
//    with '-' unless allowed, or breaks its type (checked here with an
//    independent oracle, not the library's own helpers);
//  - the environment is exactly the fixed variables plus the allowed ones.
//
// Input: byte 0 picks the entry, byte 1 the argument count (mod 16), byte 2
// the number of environment variables (mod 4), byte 3 stdin presence and
// size; then length-prefixed (1 byte) arguments and env names/values; the
// rest is also checked as a single value against every placeholder.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/exec/policy.h"

namespace {

using virtengine::exec::Allowlist;
using virtengine::exec::CommandPolicy;
using virtengine::exec::Entry;
using virtengine::exec::Invocation;
using virtengine::exec::Placeholder;
using virtengine::exec::PlaceholderType;

constexpr char kPolicy[] = R"pb(
  schema_version: 1
  adapter: "f"
  root { name: "jobs" path: "/srv/jobs" }
  entry {
    id: "f.all"
    binary: "/usr/bin/tool"
    argv { word: "--fixed" }
    argv {
      placeholder {
        name: "ident"
        prefix: "--name="
        identifier {}
      }
    }
    argv {
      placeholder {
        name: "num"
        allow_leading_dash: true
        int { min: -100 max: 100000 }
      }
    }
    argv {
      placeholder {
        name: "mode"
        allow_leading_dash: true
        enum { values: "a" values: "bb" values: "--c" }
      }
    }
    argv {
      placeholder {
        name: "file"
        max_len: 64
        path_beneath { root: "jobs" }
      }
    }
    argv {
      placeholder {
        name: "rest"
        min_count: 0
        max_count: 4
        max_len: 32
        string { charset: "A-Za-z0-9_.,:=+@/%-" }
      }
    }
    env {
      name: "E1"
      value {
        max_len: 16
        string { charset: "a-z" }
      }
    }
    env {
      name: "E2"
      value { int { min: 0 max: 9 } }
    }
    fixed_env { name: "LC_ALL" value: "C" }
    limits {
      cpu_seconds: 1
      address_space_bytes: 16777216
      open_files: 4
      processes: 1
      file_size_bytes: 0
      timeout_ms: 1
      stdout_max_bytes: 0
      stderr_max_bytes: 0
      stdin_max_bytes: 64
    }
  }
  entry {
    id: "f.meta"
    binary: "/usr/bin/tool"
    argv {
      placeholder {
        name: "expr"
        max_len: 64
        allow_shell_metachars: true
        allow_leading_dash: true
        string { charset: " -~" }
      }
    }
    argv { word: "--" }
    argv {
      placeholder {
        name: "tail"
        min_count: 0
        max_count: 3
        max_len: 8
        identifier { charset: "a-z0-9" }
      }
    }
    limits {
      cpu_seconds: 1
      address_space_bytes: 16777216
      open_files: 4
      processes: 1
      file_size_bytes: 0
      timeout_ms: 1
      stdout_max_bytes: 0
      stderr_max_bytes: 0
      stdin_max_bytes: 0
    }
  }
  entry {
    id: "f.words"
    binary: "/bin/tool2"
    argv { word: "a b;c" }
    argv {
      placeholder {
        name: "n"
        min_count: 1
        max_count: 2
        int { min: 0 max: 9 }
      }
    }
    argv { word: "end" }
    limits {
      cpu_seconds: 1
      address_space_bytes: 16777216
      open_files: 4
      processes: 1
      file_size_bytes: 0
      timeout_ms: 1
      stdout_max_bytes: 0
      stderr_max_bytes: 0
      stdin_max_bytes: 0
    }
  }
)pb";

constexpr const char* kIds[] = {"f.all", "f.meta", "f.words", "f.none"};

const Allowlist& List() {
  static const Allowlist* list = [] {
    auto* l = new Allowlist();
    absl::StatusOr<CommandPolicy> p = CommandPolicy::Parse(kPolicy, "fuzz");
    if (!p.ok() || !l->Add(*p).ok()) std::abort();
    return l;
  }();
  return *list;
}

void Check(bool ok) {
  if (!ok) std::abort();
}

// Independent oracle: the shell metacharacters of the documentation.
bool Meta(char c) {
  return std::string_view(" \t\n;&|$`'\"\\<>(){}[]*?!~#^").find(c) !=
         std::string_view::npos;
}

bool PathOk(const std::string& v, const std::string& root) {
  if (v.size() <= root.size() + 1 || v.compare(0, root.size(), root) != 0 ||
      v[root.size()] != '/') {
    return false;
  }
  size_t start = root.size() + 1;
  while (start <= v.size()) {
    size_t end = v.find('/', start);
    if (end == std::string::npos) end = v.size();
    const std::string comp = v.substr(start, end - start);
    if (comp.empty() || comp == "." || comp == "..") return false;
    start = end + 1;
  }
  return v.back() != '/';
}

bool IntOk(const std::string& v, int64_t lo, int64_t hi) {
  if (v.empty() || v.size() > 20) return false;
  char* end = nullptr;
  const long long n = std::strtoll(v.c_str(), &end, 10);
  if (end != v.c_str() + v.size()) return false;
  // Canonical: printing the number gives the text back.
  if (std::to_string(n) != v) return false;
  return n >= lo && n <= hi;
}

void CheckAccepted(const Placeholder& ph, const std::string& v) {
  for (const char c : v) {
    const auto u = static_cast<unsigned char>(c);
    Check(u >= 0x20 && u < 0x7f);
    if (!ph.allow_shell_metachars) Check(!Meta(c));
  }
  if (!ph.allow_leading_dash) Check(v.empty() || v.front() != '-');
  switch (ph.type) {
    case PlaceholderType::kInt:
      Check(IntOk(v, ph.int_min, ph.int_max));
      break;
    case PlaceholderType::kEnum:
      Check(std::find(ph.enum_values.begin(), ph.enum_values.end(), v) !=
            ph.enum_values.end());
      break;
    case PlaceholderType::kPathBeneath:
      Check(PathOk(v, ph.root_path));
      Check(v.size() >= ph.min_len && v.size() <= ph.max_len);
      break;
    case PlaceholderType::kIdentifier:
      Check(v != "." && v != "..");
      for (const char c : v) {
        Check((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-');
      }
      [[fallthrough]];
    case PlaceholderType::kString:
      Check(v.size() >= ph.min_len && v.size() <= ph.max_len);
      for (const char c : v) {
        Check(ph.charset.test(static_cast<unsigned char>(c)));
      }
      break;
  }
}

void CheckRefusal(const absl::Status& s) {
  Check(s.code() == absl::StatusCode::kPermissionDenied);
  for (const char c : s.message()) {
    const auto u = static_cast<unsigned char>(c);
    Check(u >= 0x20 && u != 0x7f);
  }
}

struct Reader {
  const uint8_t* data;
  size_t size;
  size_t pos = 0;
  uint8_t Byte() { return pos < size ? data[pos++] : 0; }
  std::string Chunk() {
    const size_t n = std::min<size_t>(Byte(), size - pos);
    std::string s(reinterpret_cast<const char*>(data + pos), n);
    pos += n;
    return s;
  }
  std::string Rest() {
    std::string s(reinterpret_cast<const char*>(data + pos), size - pos);
    pos = size;
    return s;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Allowlist& list = List();
  Reader in{data, size};
  const std::string id = kIds[in.Byte() % 4];
  const size_t nargs = in.Byte() % 16;
  const size_t nenv = in.Byte() % 4;
  const uint8_t stdin_byte = in.Byte();
  std::optional<size_t> stdin_size;
  if ((stdin_byte & 0x80) != 0) stdin_size = stdin_byte & 0x7f;
  std::vector<std::string> args;
  for (size_t i = 0; i < nargs; ++i) args.push_back(in.Chunk());
  std::map<std::string, std::string> env;
  for (size_t i = 0; i < nenv; ++i) {
    std::string name = in.Chunk();
    env[name] = in.Chunk();
  }
  const std::string rest = in.Rest();

  absl::StatusOr<Invocation> inv = list.Validate(id, args, env, stdin_size);
  const Entry* entry = list.Find(id);
  if (!inv.ok()) {
    CheckRefusal(inv.status());
  } else {
    Check(entry != nullptr && inv->entry == entry);
    // Rebuild the argv from the schema and compare: the round trip.
    size_t fixed = 0;
    for (const auto& spec : entry->argv) {
      if (!spec.is_word && spec.placeholder.min_count == 1 &&
          spec.placeholder.max_count == 1) {
        ++fixed;
      }
    }
    Check(args.size() >= fixed);
    std::vector<std::string> want = {entry->binary};
    size_t next = 0;
    for (const auto& spec : entry->argv) {
      if (spec.is_word) {
        want.push_back(spec.word);
        continue;
      }
      const Placeholder& ph = spec.placeholder;
      const size_t count =
          (ph.min_count == 1 && ph.max_count == 1) ? 1 : args.size() - fixed;
      Check(count >= ph.min_count && count <= ph.max_count);
      for (size_t k = 0; k < count; ++k, ++next) {
        Check(next < args.size());
        CheckAccepted(ph, args[next]);
        want.push_back(ph.prefix + args[next]);
      }
    }
    Check(next == args.size());
    Check(inv->argv == want);
    // Environment: fixed ones plus exactly the allowed caller variables.
    std::vector<std::string> want_env;
    for (const auto& [name, value] : entry->fixed_env) {
      std::string var = name;
      var += '=';
      var += value;
      want_env.push_back(std::move(var));
    }
    for (const auto& var : env) {
      const auto spec =
          std::find_if(entry->env.begin(), entry->env.end(),
                       [&var](const auto& e) { return e.name == var.first; });
      Check(spec != entry->env.end());
      CheckAccepted(spec->value, var.second);
      std::string assignment = var.first;
      assignment += '=';
      assignment += var.second;
      want_env.push_back(std::move(assignment));
    }
    std::sort(want_env.begin(), want_env.end());
    Check(inv->envp == want_env);
    if (stdin_size.has_value()) {
      Check(*stdin_size <= entry->limits.stdin_max_bytes);
    }
    // Deterministic.
    absl::StatusOr<Invocation> again = list.Validate(id, args, env, stdin_size);
    Check(again.ok() && again->argv == inv->argv && again->envp == inv->envp);
  }

  // The tail as one value against every placeholder of every entry.
  for (const char* eid : kIds) {
    const Entry* e = list.Find(eid);
    if (e == nullptr) continue;
    for (const auto& spec : e->argv) {
      if (spec.is_word) continue;
      if (spec.placeholder.Check(rest).ok()) {
        CheckAccepted(spec.placeholder, rest);
      }
    }
    for (const auto& spec : e->env) {
      if (spec.value.Check(rest).ok()) CheckAccepted(spec.value, rest);
    }
  }
  return 0;
}
