// Command allowlists (policy/commands/*.textproto, schema
// command_policy.proto, documented in docs/security/exec.md) and the argv
// validator of the one process launcher.
//
// A policy file is size-checked, parsed with protobuf's text-format parser
// and then validated semantically; what survives is compiled into the
// immutable types below. Validation of a caller's request (entry id,
// placeholder values, environment, stdin size) happens here too, so it can be
// fuzzed without starting processes. Refusals are PermissionDenied and name
// the entry, the zero-based argument index, the escaped value and the rule.
#ifndef VIRTENGINE_SECURITY_EXEC_POLICY_H_
#define VIRTENGINE_SECURITY_EXEC_POLICY_H_

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace virtengine::exec {

// Largest policy file accepted (checked before parsing).
inline constexpr size_t kMaxPolicyBytes = 256 * 1024;
// Largest value any placeholder may accept.
inline constexpr size_t kMaxValueLen = 4096;
// Largest argv (all elements) and environment (all "NAME=value") in bytes.
inline constexpr size_t kMaxArgvBytes = 256 * 1024;
inline constexpr size_t kMaxArgvElements = 512;

// Space, tab, newline and ; & | $ ` ' " \ < > ( ) { } [ ] * ? ! ~ # ^.
bool IsShellMetachar(char c);

enum class PlaceholderType { kInt, kIdentifier, kEnum, kPathBeneath, kString };

// A compiled, validated placeholder.
struct Placeholder {
  std::string name;
  PlaceholderType type = PlaceholderType::kString;
  std::string prefix;
  size_t min_len = 1;
  size_t max_len = 0;
  size_t min_count = 1;
  size_t max_count = 1;
  bool allow_leading_dash = false;
  bool allow_shell_metachars = false;
  int64_t int_min = 0;  // kInt
  int64_t int_max = 0;
  std::vector<std::string> enum_values;  // kEnum
  std::string root_name;                 // kPathBeneath
  std::string root_path;
  std::bitset<128> charset;  // kIdentifier, kString (ASCII)
  std::string charset_spec;

  // "identifier, ^[A-Za-z0-9_.-]{1,64}$", "int, 1..1024", ...
  std::string Describe() const;
  // OK, or InvalidArgument whose message says why `value` does not match
  // (without naming the entry: callers add that).
  absl::Status Check(std::string_view value) const;
};

struct ArgSpec {
  bool is_word = false;
  std::string word;         // is_word
  Placeholder placeholder;  // !is_word
};

struct EnvSpec {
  std::string name;
  Placeholder value;
};

struct Limits {
  uint64_t cpu_seconds = 0;
  uint64_t address_space_bytes = 0;
  uint64_t open_files = 0;
  uint64_t processes = 0;
  uint64_t file_size_bytes = 0;
  uint64_t timeout_ms = 0;
  uint64_t stdout_max_bytes = 0;
  uint64_t stderr_max_bytes = 0;
  uint64_t stdin_max_bytes = 0;
};

// One compiled allowlist entry.
struct Entry {
  std::string id;
  std::string description;
  std::string binary;
  std::vector<ArgSpec> argv;
  std::vector<EnvSpec> env;
  std::vector<std::pair<std::string, std::string>> fixed_env;
  Limits limits;
  bool no_new_privs = true;
  // Derived: how many caller arguments the entry takes.
  size_t min_args = 0;
  size_t max_args = 0;
};

// A validated request, ready to spawn.
struct Invocation {
  const Entry* entry = nullptr;
  std::vector<std::string> argv;  // argv[0] == entry->binary
  std::vector<std::string> envp;  // "NAME=value", sorted by name
};

// Checks the caller's arguments, environment and stdin size against one
// entry. PermissionDenied on any mismatch, e.g.
//   entry "slurm.sbatch" arg 2 ("--output=/etc/x") does not match
//   placeholder "job_name" (identifier, ^[A-Za-z0-9_.-]{1,64}$): character
//   '=' at offset 8 is not allowed
absl::StatusOr<Invocation> ValidateInvocation(
    const Entry& entry, const std::vector<std::string>& args,
    const std::map<std::string, std::string>& env,
    std::optional<size_t> stdin_size);

// One validated policy file.
class CommandPolicy {
 public:
  struct Options {
    // Shells, `env`, interpreters and other command launchers are refused as
    // binaries unless this is set. Only tests set it (their allowlists in
    // security/exec/testdata/ run /bin/sh to exercise timeouts and limits).
    bool allow_interpreters = false;
  };

  // `source` names the text in error messages (usually the file path).
  static absl::StatusOr<CommandPolicy> Parse(std::string_view text,
                                             std::string_view source,
                                             const Options& options);
  static absl::StatusOr<CommandPolicy> Parse(std::string_view text,
                                             std::string_view source) {
    return Parse(text, source, Options());
  }
  // Reads a regular file of at most kMaxPolicyBytes and parses it.
  static absl::StatusOr<CommandPolicy> LoadFile(const std::string& path,
                                                const Options& options);
  static absl::StatusOr<CommandPolicy> LoadFile(const std::string& path) {
    return LoadFile(path, Options());
  }

  const std::string& source() const { return source_; }
  const std::string& adapter() const { return adapter_; }
  // Lowercase hex SHA-256 of the exact file bytes (compliance evidence).
  const std::string& sha256_hex() const { return sha256_hex_; }
  const std::vector<std::shared_ptr<const Entry>>& entries() const {
    return entries_;
  }
  const Entry* Find(std::string_view id) const;

 private:
  CommandPolicy() = default;

  std::string source_;
  std::string adapter_;
  std::string sha256_hex_;
  std::vector<std::shared_ptr<const Entry>> entries_;
};

// The set of policies a daemon runs with (usually every file of
// policy/commands/).
class Allowlist {
 public:
  struct Source {
    std::string source;
    std::string adapter;
    std::string sha256_hex;
    size_t entries = 0;
  };

  Allowlist() = default;

  // Loads every "*.textproto" regular file of `dir` (sorted by name, at most
  // 64 files); other names are ignored. Fails on the first bad file.
  static absl::StatusOr<Allowlist> LoadDirectory(
      const std::string& dir, const CommandPolicy::Options& options);
  static absl::StatusOr<Allowlist> LoadDirectory(const std::string& dir) {
    return LoadDirectory(dir, CommandPolicy::Options());
  }

  // AlreadyExists when the adapter or an entry id is already present.
  absl::Status Add(const CommandPolicy& policy);

  const Entry* Find(std::string_view id) const;
  const std::vector<Source>& sources() const { return sources_; }
  size_t size() const { return by_id_.size(); }

  // Finds the entry (PermissionDenied: no allowlist entry "x") and runs
  // ValidateInvocation.
  absl::StatusOr<Invocation> Validate(
      std::string_view id, const std::vector<std::string>& args,
      const std::map<std::string, std::string>& env,
      std::optional<size_t> stdin_size) const;

 private:
  std::map<std::string, std::shared_ptr<const Entry>, std::less<>> by_id_;
  std::vector<Source> sources_;
};

// A value shown in a message: C-escaped, at most 80 bytes of it.
std::string QuoteForMessage(std::string_view value);

}  // namespace virtengine::exec

#endif  // VIRTENGINE_SECURITY_EXEC_POLICY_H_
