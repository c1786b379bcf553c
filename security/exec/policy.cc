// Loading, parsing and semantic validation of command policies (policy.h).
#include "security/exec/policy.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "security/crypto/hash.h"
#include "security/exec/command_policy.pb.h"
#include "security/path/path.h"
#include "src/common/encoding/hex.h"

namespace virtengine::exec {
namespace {

namespace pb = ::virtengine::security::exec::v1;

constexpr size_t kMaxRoots = 32;
constexpr size_t kMaxEntries = 256;
constexpr size_t kMaxArgSpecs = 128;
constexpr size_t kMaxEnv = 32;
constexpr size_t kMaxCount = 256;
constexpr size_t kMaxEnumValues = 256;
constexpr size_t kMaxPrefix = 256;
constexpr size_t kMaxDescription = 1024;
constexpr size_t kMaxIdLen = 64;
constexpr size_t kMaxPathLen = 4095;
constexpr size_t kMaxPolicyFiles = 64;
constexpr uint64_t kMiB = uint64_t{1024} * 1024;
constexpr uint64_t kTiB = kMiB * kMiB;

// Debian's abseil keeps its own string_view type.
absl::string_view AV(std::string_view s) { return {s.data(), s.size()}; }

// Binaries that run code given in their arguments or launch other programs:
// an allowlist entry for one of these would re-open everything the argv
// schema closes. Refused unless Options::allow_interpreters (tests).
constexpr std::string_view kInterpreters[] = {
    "sh",      "bash",   "dash",    "ash",    "zsh",    "ksh",    "ksh93",
    "mksh",    "pdksh",  "csh",     "tcsh",   "fish",   "rbash",  "busybox",
    "toybox",  "env",    "sudo",    "su",     "doas",   "pkexec", "runuser",
    "setpriv", "xargs",  "find",    "nohup",  "nice",   "ionice", "timeout",
    "setsid",  "stdbuf", "taskset", "chrt",   "flock",  "script", "expect",
    "awk",     "gawk",   "mawk",    "nawk",   "sed",    "perl",   "python",
    "ruby",    "node",   "nodejs",  "php",    "lua",    "luajit", "tclsh",
    "wish",    "guile",  "gdb",     "strace", "ltrace", "watch",  "time",
    "make",    "ssh",    "chroot",  "nsenter"};

// Environment variables that change how the dynamic loader, libc or a shell
// behaves. Never settable; PATH only as a fixed_env.
bool IsDangerousEnvName(std::string_view name) {
  constexpr std::string_view kPrefixes[] = {"LD_", "MALLOC_", "BASH_FUNC_"};
  constexpr std::string_view kNames[] = {"GCONV_PATH",
                                         "GLIBC_TUNABLES",
                                         "LOCPATH",
                                         "NLSPATH",
                                         "HOSTALIASES",
                                         "RES_OPTIONS",
                                         "LOCALDOMAIN",
                                         "BASH_ENV",
                                         "ENV",
                                         "IFS",
                                         "CDPATH",
                                         "SHELLOPTS",
                                         "BASHOPTS",
                                         "PS4",
                                         "PROMPT_COMMAND",
                                         "PYTHONPATH",
                                         "PYTHONSTARTUP",
                                         "PYTHONHOME",
                                         "PERL5LIB",
                                         "PERL5OPT",
                                         "RUBYOPT",
                                         "NODE_OPTIONS",
                                         "TMPDIR"};
  for (std::string_view p : kPrefixes) {
    if (absl::StartsWith(AV(name), AV(p))) return true;
  }
  for (std::string_view n : kNames) {
    if (name == n) return true;
  }
  return false;
}

bool IsInterpreter(std::string_view binary) {
  const size_t slash = binary.rfind('/');
  const std::string_view base =
      slash == std::string_view::npos ? binary : binary.substr(slash + 1);
  for (std::string_view name : kInterpreters) {
    if (!absl::StartsWith(AV(base), AV(name))) continue;
    const std::string_view rest = base.substr(name.size());
    // "python3", "python3.11", "perl5.36": a version suffix still counts.
    if (std::all_of(rest.begin(), rest.end(), [](char c) {
          return (c >= '0' && c <= '9') || c == '.';
        })) {
      return true;
    }
  }
  return false;
}

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }

// [a-z][a-z0-9_]{0,31}
bool IsLowerName(std::string_view s) {
  if (s.empty() || s.size() > 32 || !IsLower(s.front())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return IsLower(c) || IsDigit(c) || c == '_';
  });
}

// [A-Za-z_][A-Za-z0-9_]{0,63}
bool IsEnvName(std::string_view s) {
  if (s.empty() || s.size() > 64 || IsDigit(s.front())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return IsLower(c) || IsUpper(c) || IsDigit(c) || c == '_';
  });
}

bool IsPrintableAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f;
  });
}

// Absolute, normalized: "/a/b", no "//", no trailing '/', no "." or ".."
// component, components from [A-Za-z0-9_.,+@=:-]. "/" itself is refused.
bool IsNormalizedAbsolutePath(std::string_view p) {
  if (p.size() < 2 || p.size() > kMaxPathLen || p.front() != '/' ||
      p.back() == '/') {
    return false;
  }
  std::string_view rest = p.substr(1);
  while (true) {
    const size_t slash = rest.find('/');
    const std::string_view comp = rest.substr(0, slash);
    if (comp.empty() || comp == "." || comp == ".." || comp.size() > 255) {
      return false;
    }
    for (const char c : comp) {
      if (!(IsLower(c) || IsUpper(c) || IsDigit(c) || c == '_' || c == '.' ||
            c == ',' || c == '+' || c == '@' || c == '=' || c == ':' ||
            c == '-')) {
        return false;
      }
    }
    if (slash == std::string_view::npos) return true;
    rest.remove_prefix(slash + 1);
  }
}

// Parses a character-class body: ranges "a-z" and single printable ASCII
// characters; '-' is literal when first or last.
absl::Status ParseCharset(std::string_view spec, std::bitset<128>* out) {
  out->reset();
  if (spec.empty()) return absl::InvalidArgumentError("charset is empty");
  if (spec.size() > 256) {
    return absl::InvalidArgumentError("charset is longer than 256");
  }
  if (!IsPrintableAscii(spec)) {
    return absl::InvalidArgumentError(
        "charset holds a control or non-ASCII character");
  }
  size_t i = 0;
  while (i < spec.size()) {
    const auto lo = static_cast<unsigned char>(spec[i]);
    if (i + 2 < spec.size() && spec[i + 1] == '-') {
      const auto hi = static_cast<unsigned char>(spec[i + 2]);
      if (hi < lo) {
        return absl::InvalidArgumentError(
            absl::StrCat("charset range ", std::string(1, spec[i]), "-",
                         std::string(1, spec[i + 2]), " is reversed"));
      }
      for (unsigned c = lo; c <= hi; ++c) out->set(c);
      i += 3;
    } else {
      out->set(lo);
      i += 1;
    }
  }
  return absl::OkStatus();
}

std::string Err(absl::string_view where, absl::string_view what) {
  return absl::StrCat(where, ": ", what);
}

absl::Status Invalid(absl::string_view where, absl::string_view what) {
  return absl::InvalidArgumentError(Err(where, what));
}

using RootMap = std::map<std::string, std::string, std::less<>>;

absl::StatusOr<Placeholder> CompilePlaceholder(const pb::Placeholder& p,
                                               const RootMap& roots,
                                               bool for_env,
                                               const std::string& where) {
  Placeholder ph;
  if (for_env) {
    if (!p.name().empty() || !p.prefix().empty() || p.has_min_count() ||
        p.has_max_count()) {
      return Invalid(where,
                     "an environment value sets no name, prefix or counts");
    }
  } else {
    if (!IsLowerName(p.name())) {
      return Invalid(where, "placeholder name must match [a-z][a-z0-9_]{0,31}");
    }
    ph.name = p.name();
    if (p.prefix().size() > kMaxPrefix || !IsPrintableAscii(p.prefix())) {
      return Invalid(where,
                     "prefix must be printable ASCII of at most 256 bytes");
    }
    ph.prefix = p.prefix();
    ph.min_count = p.has_min_count() ? p.min_count() : 1;
    if (p.has_max_count()) {
      ph.max_count = p.max_count();
    } else if (ph.min_count > 1) {
      return Invalid(where, "min_count > 1 needs max_count");
    } else {
      ph.max_count = 1;
    }
    if (ph.max_count < 1 || ph.max_count > kMaxCount ||
        ph.min_count > ph.max_count) {
      return Invalid(where,
                     "counts must satisfy 0 <= min_count <= max_count, "
                     "1 <= max_count <= 256");
    }
  }
  ph.allow_leading_dash = p.allow_leading_dash();
  ph.allow_shell_metachars = p.allow_shell_metachars();

  const bool has_len = p.has_min_len() || p.has_max_len();
  auto lengths = [&](size_t def_min, size_t def_max, size_t cap,
                     bool max_required) -> absl::Status {
    if (max_required && !p.has_max_len()) {
      return Invalid(where, "max_len is required");
    }
    ph.min_len = p.has_min_len() ? p.min_len() : def_min;
    ph.max_len = p.has_max_len() ? p.max_len() : def_max;
    if (ph.max_len < 1 || ph.max_len > cap || ph.min_len > ph.max_len) {
      return Invalid(where, absl::StrCat("lengths must satisfy min_len <= "
                                         "max_len, 1 <= max_len <= ",
                                         cap));
    }
    return absl::OkStatus();
  };
  auto metachars_ok = [&](const std::bitset<128>& cs) -> absl::Status {
    if (ph.allow_shell_metachars) return absl::OkStatus();
    for (size_t c = 0; c < cs.size(); ++c) {
      if (cs.test(c) && IsShellMetachar(static_cast<char>(c))) {
        return Invalid(where,
                       absl::StrCat("charset holds shell metacharacter '",
                                    std::string(1, static_cast<char>(c)),
                                    "' but allow_shell_metachars is false"));
      }
    }
    return absl::OkStatus();
  };

  switch (p.type_case()) {
    case pb::Placeholder::kInt: {
      ph.type = PlaceholderType::kInt;
      if (has_len) return Invalid(where, "int takes no min_len/max_len");
      ph.int_min = p.int_().min();
      ph.int_max = p.int_().max();
      if (ph.int_min > ph.int_max) {
        return Invalid(where, "int min is greater than max");
      }
      if (ph.int_min < 0 && !ph.allow_leading_dash) {
        return Invalid(where, "a negative int range needs allow_leading_dash");
      }
      break;
    }
    case pb::Placeholder::kIdentifier: {
      ph.type = PlaceholderType::kIdentifier;
      if (absl::Status s = lengths(1, 64, 255, false); !s.ok()) return s;
      std::bitset<128> ident;
      if (absl::Status s = ParseCharset("A-Za-z0-9_.-", &ident); !s.ok()) {
        return s;
      }
      ph.charset_spec = "A-Za-z0-9_.-";
      ph.charset = ident;
      if (!p.identifier().charset().empty()) {
        if (absl::Status s =
                ParseCharset(p.identifier().charset(), &ph.charset);
            !s.ok()) {
          return Invalid(where, s.message());
        }
        if ((ph.charset & ~ident).any()) {
          return Invalid(where,
                         "identifier charset must be a subset of "
                         "A-Za-z0-9_.-");
        }
        ph.charset_spec = p.identifier().charset();
      }
      break;
    }
    case pb::Placeholder::kString: {
      ph.type = PlaceholderType::kString;
      if (absl::Status s = lengths(1, 0, kMaxValueLen, true); !s.ok()) {
        return s;
      }
      if (absl::Status s = ParseCharset(p.string().charset(), &ph.charset);
          !s.ok()) {
        return Invalid(where, s.message());
      }
      ph.charset_spec = p.string().charset();
      if (absl::Status s = metachars_ok(ph.charset); !s.ok()) return s;
      break;
    }
    case pb::Placeholder::kPathBeneath: {
      ph.type = PlaceholderType::kPathBeneath;
      if (absl::Status s = lengths(1, kMaxValueLen, kMaxValueLen, false);
          !s.ok()) {
        return s;
      }
      const auto it = roots.find(p.path_beneath().root());
      if (it == roots.end()) {
        return Invalid(
            where,
            absl::StrCat("unknown root \"",
                         QuoteForMessage(p.path_beneath().root()), "\""));
      }
      ph.root_name = it->first;
      ph.root_path = it->second;
      break;
    }
    case pb::Placeholder::kEnum: {
      ph.type = PlaceholderType::kEnum;
      if (has_len) return Invalid(where, "enum takes no min_len/max_len");
      const auto& values = p.enum_().values();
      if (values.empty() ||
          static_cast<size_t>(values.size()) > kMaxEnumValues) {
        return Invalid(where, "enum needs 1 to 256 values");
      }
      std::set<std::string_view> seen;
      for (const std::string& v : values) {
        if (v.empty() || v.size() > kMaxValueLen || !IsPrintableAscii(v)) {
          return Invalid(where,
                         absl::StrCat("enum value \"", QuoteForMessage(v),
                                      "\" must be 1..4096 printable "
                                      "ASCII characters"));
        }
        if (!seen.insert(v).second) {
          return Invalid(where, absl::StrCat("duplicate enum value \"",
                                             QuoteForMessage(v), "\""));
        }
        if (v.front() == '-' && !ph.allow_leading_dash) {
          return Invalid(where, absl::StrCat("enum value \"", v,
                                             "\" starts with '-' but "
                                             "allow_leading_dash is false"));
        }
        if (!ph.allow_shell_metachars &&
            std::any_of(v.begin(), v.end(), IsShellMetachar)) {
          return Invalid(where, absl::StrCat("enum value \"", v,
                                             "\" holds a shell "
                                             "metacharacter but "
                                             "allow_shell_metachars is "
                                             "false"));
        }
        ph.enum_values.push_back(v);
      }
      break;
    }
    case pb::Placeholder::TYPE_NOT_SET:
      return Invalid(where,
                     "no type (int, identifier, enum, path_beneath, string)");
  }
  return ph;
}

struct LimitSpec {
  const char* name;
  bool (pb::Limits::*has)() const;
  uint64_t (pb::Limits::*get)() const;
  uint64_t Limits::*field;
  uint64_t min;
  uint64_t max;
};

constexpr LimitSpec kLimitSpecs[] = {
    {"cpu_seconds", &pb::Limits::has_cpu_seconds, &pb::Limits::cpu_seconds,
     &Limits::cpu_seconds, 1, 604800},
    {"address_space_bytes", &pb::Limits::has_address_space_bytes,
     &pb::Limits::address_space_bytes, &Limits::address_space_bytes, 16 * kMiB,
     kTiB},
    {"open_files", &pb::Limits::has_open_files, &pb::Limits::open_files,
     &Limits::open_files, 4, 1048576},
    {"processes", &pb::Limits::has_processes, &pb::Limits::processes,
     &Limits::processes, 1, 1048576},
    {"file_size_bytes", &pb::Limits::has_file_size_bytes,
     &pb::Limits::file_size_bytes, &Limits::file_size_bytes, 0, kTiB},
    {"timeout_ms", &pb::Limits::has_timeout_ms, &pb::Limits::timeout_ms,
     &Limits::timeout_ms, 1, 604800000},
    {"stdout_max_bytes", &pb::Limits::has_stdout_max_bytes,
     &pb::Limits::stdout_max_bytes, &Limits::stdout_max_bytes, 0, 64 * kMiB},
    {"stderr_max_bytes", &pb::Limits::has_stderr_max_bytes,
     &pb::Limits::stderr_max_bytes, &Limits::stderr_max_bytes, 0, 64 * kMiB},
    {"stdin_max_bytes", &pb::Limits::has_stdin_max_bytes,
     &pb::Limits::stdin_max_bytes, &Limits::stdin_max_bytes, 0, 64 * kMiB},
};

absl::StatusOr<Entry> CompileEntry(const pb::Entry& e,
                                   const std::string& adapter,
                                   const RootMap& roots,
                                   const CommandPolicy::Options& options,
                                   const std::string& source) {
  const std::string where =
      absl::StrCat(source, ": entry \"", QuoteForMessage(e.id()), "\"");
  Entry out;
  // Id: "<adapter>.<name>" with [a-z0-9_.-].
  const std::string want = adapter + ".";
  if (e.id().size() > kMaxIdLen || e.id().size() <= want.size() ||
      !absl::StartsWith(e.id(), want) ||
      !std::all_of(e.id().begin(), e.id().end(), [](char c) {
        return IsLower(c) || IsDigit(c) || c == '_' || c == '.' || c == '-';
      })) {
    return Invalid(where, absl::StrCat("id must be \"", adapter,
                                       ".<name>\" with [a-z0-9_.-], at most ",
                                       kMaxIdLen, " characters"));
  }
  out.id = e.id();
  if (e.description().size() > kMaxDescription ||
      std::any_of(e.description().begin(), e.description().end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20;
      })) {
    return Invalid(where,
                   "description must be at most 1024 bytes without control "
                   "characters");
  }
  out.description = e.description();

  if (!IsNormalizedAbsolutePath(e.binary())) {
    return Invalid(where, absl::StrCat("binary \"", QuoteForMessage(e.binary()),
                                       "\" is not an absolute, normalized "
                                       "path"));
  }
  if (!options.allow_interpreters && IsInterpreter(e.binary())) {
    return Invalid(where, absl::StrCat("binary \"", e.binary(),
                                       "\" is a shell, interpreter or command "
                                       "launcher"));
  }
  out.binary = e.binary();

  if (static_cast<size_t>(e.argv_size()) > kMaxArgSpecs) {
    return Invalid(where, "more than 128 argv items");
  }
  std::set<std::string> names;
  bool have_variable = false;
  for (int i = 0; i < e.argv_size(); ++i) {
    const pb::Arg& a = e.argv(i);
    const std::string at = absl::StrCat(where, " argv ", i);
    ArgSpec spec;
    switch (a.kind_case()) {
      case pb::Arg::kWord:
        if (a.word().empty() || a.word().size() > kMaxValueLen ||
            !IsPrintableAscii(a.word())) {
          return Invalid(at, "a word must be 1..4096 printable ASCII bytes");
        }
        spec.is_word = true;
        spec.word = a.word();
        break;
      case pb::Arg::kPlaceholder: {
        absl::StatusOr<Placeholder> ph =
            CompilePlaceholder(a.placeholder(), roots, false, at);
        if (!ph.ok()) return ph.status();
        if (!names.insert(ph->name).second) {
          return Invalid(at, absl::StrCat("duplicate placeholder name \"",
                                          ph->name, "\""));
        }
        if (ph->min_count != 1 || ph->max_count != 1) {
          if (have_variable) {
            return Invalid(at,
                           "only one placeholder per entry may take a "
                           "variable number of arguments");
          }
          have_variable = true;
        }
        out.min_args += ph->min_count;
        out.max_args += ph->max_count;
        spec.placeholder = *std::move(ph);
        break;
      }
      case pb::Arg::KIND_NOT_SET:
        return Invalid(at, "needs word or placeholder");
    }
    out.argv.push_back(std::move(spec));
  }

  if (static_cast<size_t>(e.env_size()) +
          static_cast<size_t>(e.fixed_env_size()) >
      kMaxEnv) {
    return Invalid(where, "more than 32 environment variables");
  }
  std::set<std::string> env_names;
  for (const pb::EnvVar& v : e.env()) {
    const std::string at =
        absl::StrCat(where, " env \"", QuoteForMessage(v.name()), "\"");
    if (!IsEnvName(v.name())) {
      return Invalid(at, "name must match [A-Za-z_][A-Za-z0-9_]{0,63}");
    }
    if (IsDangerousEnvName(v.name()) || v.name() == "PATH") {
      return Invalid(at,
                     "this variable changes how the loader, libc or a shell "
                     "behaves and may not be set by callers");
    }
    if (!env_names.insert(v.name()).second) {
      return Invalid(at, "duplicate environment variable");
    }
    if (!v.has_value()) return Invalid(at, "needs a value type");
    absl::StatusOr<Placeholder> ph =
        CompilePlaceholder(v.value(), roots, true, at);
    if (!ph.ok()) return ph.status();
    ph->name = v.name();
    out.env.push_back(EnvSpec{v.name(), *std::move(ph)});
  }
  for (const pb::FixedEnv& v : e.fixed_env()) {
    const std::string at =
        absl::StrCat(where, " fixed_env \"", QuoteForMessage(v.name()), "\"");
    if (!IsEnvName(v.name())) {
      return Invalid(at, "name must match [A-Za-z_][A-Za-z0-9_]{0,63}");
    }
    if (IsDangerousEnvName(v.name())) {
      return Invalid(at,
                     "this variable changes how the loader, libc or a shell "
                     "behaves");
    }
    if (!env_names.insert(v.name()).second) {
      return Invalid(at, "duplicate environment variable");
    }
    if (v.value().size() > kMaxValueLen || !IsPrintableAscii(v.value())) {
      return Invalid(at, "value must be at most 4096 printable ASCII bytes");
    }
    out.fixed_env.emplace_back(v.name(), v.value());
  }
  std::sort(out.fixed_env.begin(), out.fixed_env.end());

  if (!e.has_limits()) return Invalid(where, "limits are required");
  for (const LimitSpec& l : kLimitSpecs) {
    if (!(e.limits().*l.has)()) {
      return Invalid(where, absl::StrCat("limits.", l.name, " is required (",
                                         l.min, "..", l.max, ")"));
    }
    const uint64_t v = (e.limits().*l.get)();
    if (v < l.min || v > l.max) {
      return Invalid(where, absl::StrCat("limits.", l.name, " = ", v,
                                         " is outside ", l.min, "..", l.max));
    }
    out.limits.*l.field = v;
  }
  out.no_new_privs = !e.allow_new_privs();
  return out;
}

class FirstErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (!error_.empty()) return;
    error_ = absl::StrCat(line + 1, ":", column + 1, ": ", message);
  }
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

std::string Sha256Hex(std::string_view bytes) {
  absl::StatusOr<crypto::Digest32> d = crypto::Sha256(
      ::virtengine::security::crypto::v1::CONTENT_HASH, crypto::AsBytes(bytes));
  // The policy hash is compliance evidence: a policy that refuses SHA-256
  // for content hashes is a build misconfiguration, not an input error.
  if (!d.ok()) std::abort();
  return encoding::HexEncode(absl::Span<const uint8_t>(d->data(), d->size()));
}

}  // namespace

absl::StatusOr<CommandPolicy> CommandPolicy::Parse(std::string_view text,
                                                   std::string_view source,
                                                   const Options& options) {
  const std::string src(source);
  if (text.size() > kMaxPolicyBytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat(src, ": policy is ", text.size(),
                     " bytes, over the limit of ", kMaxPolicyBytes));
  }
  pb::CommandPolicy proto;
  google::protobuf::TextFormat::Parser parser;
  FirstErrorCollector errors;
  parser.RecordErrorsTo(&errors);
  parser.AllowUnknownField(false);
  parser.SetRecursionLimit(16);
  const std::string copy(text);
  if (!parser.ParseFromString(copy, &proto)) {
    return absl::InvalidArgumentError(absl::StrCat(
        src, ":", errors.error().empty() ? "parse error" : errors.error()));
  }

  if (proto.schema_version() != 1) {
    return Invalid(src, absl::StrCat("schema_version must be 1, got ",
                                     proto.schema_version()));
  }
  if (!IsLowerName(proto.adapter())) {
    return Invalid(src, "adapter must match [a-z][a-z0-9_]{0,31}");
  }
  if (static_cast<size_t>(proto.root_size()) > kMaxRoots) {
    return Invalid(src, "more than 32 roots");
  }
  RootMap roots;
  for (const pb::Root& r : proto.root()) {
    const std::string at =
        absl::StrCat(src, ": root \"", QuoteForMessage(r.name()), "\"");
    if (!IsLowerName(r.name())) {
      return Invalid(at, "name must match [a-z][a-z0-9_]{0,31}");
    }
    if (!IsNormalizedAbsolutePath(r.path())) {
      return Invalid(at, absl::StrCat("path \"", QuoteForMessage(r.path()),
                                      "\" is not an absolute, normalized "
                                      "path other than /"));
    }
    if (!roots.emplace(r.name(), r.path()).second) {
      return Invalid(at, "duplicate root name");
    }
  }
  if (proto.entry().empty() ||
      static_cast<size_t>(proto.entry_size()) > kMaxEntries) {
    return Invalid(src, "needs 1 to 256 entries");
  }

  CommandPolicy policy;
  policy.source_ = src;
  policy.adapter_ = proto.adapter();
  std::set<std::string> ids;
  for (const pb::Entry& e : proto.entry()) {
    absl::StatusOr<Entry> entry =
        CompileEntry(e, proto.adapter(), roots, options, src);
    if (!entry.ok()) return entry.status();
    if (!ids.insert(entry->id).second) {
      return Invalid(src,
                     absl::StrCat("duplicate entry id \"", entry->id, "\""));
    }
    policy.entries_.push_back(std::make_shared<const Entry>(*std::move(entry)));
  }
  policy.sha256_hex_ = Sha256Hex(text);
  return policy;
}

absl::StatusOr<CommandPolicy> CommandPolicy::LoadFile(const std::string& path,
                                                      const Options& options) {
  // Through the path validator: the directory is the root, the file name
  // must be a plain name beneath it (no symlink, no "..").
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash + 1 == path.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": policy path must be absolute and name a file"));
  }
  absl::StatusOr<security::path::PathRoot> root =
      security::path::PathRoot::Open(slash == 0 ? "/" : path.substr(0, slash));
  if (!root.ok()) return root.status();
  absl::StatusOr<std::string> bytes =
      root->ReadFile(path.substr(slash + 1), kMaxPolicyBytes);
  if (!bytes.ok()) {
    return absl::Status(bytes.status().code(),
                        absl::StrCat(path, ": ", bytes.status().message()));
  }
  return Parse(*bytes, path, options);
}

const Entry* CommandPolicy::Find(std::string_view id) const {
  for (const auto& e : entries_) {
    if (e->id == id) return e.get();
  }
  return nullptr;
}

absl::StatusOr<Allowlist> Allowlist::LoadDirectory(
    const std::string& dir, const CommandPolicy::Options& options) {
  absl::StatusOr<security::path::PathRoot> root =
      security::path::PathRoot::Open(dir);
  if (!root.ok()) return root.status();
  absl::StatusOr<std::vector<std::string>> all = root->List(".");
  if (!all.ok()) return all.status();
  std::vector<std::string> names;
  for (const std::string& name : *all) {
    if (name.size() > 10 && absl::EndsWith(name, ".textproto") &&
        name.front() != '.') {
      names.push_back(name);
    }
  }
  if (names.size() > kMaxPolicyFiles) {
    return absl::ResourceExhaustedError(
        absl::StrCat(dir, ": more than ", kMaxPolicyFiles, " policy files"));
  }
  Allowlist list;  // List() returns names sorted bytewise
  for (const std::string& name : names) {
    absl::StatusOr<std::string> bytes = root->ReadFile(name, kMaxPolicyBytes);
    if (!bytes.ok()) {
      return absl::Status(
          bytes.status().code(),
          absl::StrCat(dir, "/", name, ": ", bytes.status().message()));
    }
    absl::StatusOr<CommandPolicy> p =
        CommandPolicy::Parse(*bytes, absl::StrCat(dir, "/", name), options);
    if (!p.ok()) return p.status();
    if (absl::Status s = list.Add(*p); !s.ok()) return s;
  }
  return list;
}

absl::Status Allowlist::Add(const CommandPolicy& policy) {
  for (const Source& s : sources_) {
    if (s.adapter == policy.adapter()) {
      return absl::AlreadyExistsError(
          absl::StrCat(policy.source(), ": adapter \"", policy.adapter(),
                       "\" is already loaded from ", s.source));
    }
  }
  for (const auto& e : policy.entries()) {
    if (by_id_.count(e->id) != 0) {
      return absl::AlreadyExistsError(absl::StrCat(
          policy.source(), ": entry \"", e->id, "\" is already loaded"));
    }
  }
  for (const auto& e : policy.entries()) by_id_.emplace(e->id, e);
  sources_.push_back(Source{policy.source(), policy.adapter(),
                            policy.sha256_hex(), policy.entries().size()});
  return absl::OkStatus();
}

const Entry* Allowlist::Find(std::string_view id) const {
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second.get();
}

absl::StatusOr<Invocation> Allowlist::Validate(
    std::string_view id, const std::vector<std::string>& args,
    const std::map<std::string, std::string>& env,
    std::optional<size_t> stdin_size) const {
  const Entry* entry = Find(id);
  if (entry == nullptr) {
    return absl::PermissionDeniedError(
        absl::StrCat("no allowlist entry \"", QuoteForMessage(id), "\""));
  }
  return ValidateInvocation(*entry, args, env, stdin_size);
}

}  // namespace virtengine::exec
