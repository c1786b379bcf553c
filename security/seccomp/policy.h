// Seccomp policy files: parse (protobuf text format, schema
// seccomp_policy.proto), validate and hash. Format and rules:
// docs/security/seccomp.md.
#ifndef VE_SECURITY_SECCOMP_POLICY_H_
#define VE_SECURITY_SECCOMP_POLICY_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "security/seccomp/seccomp_policy.pb.h"

namespace virtengine::security::seccomp {

// Policy files larger than this are refused before parsing.
inline constexpr size_t kMaxPolicyBytes = 64 * 1024;
// Structural limits checked by validation.
inline constexpr int kMaxSyscalls = 512;
inline constexpr int kMaxRulesPerSyscall = 16;
inline constexpr size_t kMaxNameBytes = 64;
inline constexpr size_t kMaxReasonBytes = 512;
inline constexpr unsigned kMaxErrno = 4095;
// The only architecture the policies are written for.
inline constexpr absl::string_view kArchX86_64 = "x86_64";

// A parsed and validated policy. Immutable; cheap to copy.
class Policy {
 public:
  const v1::SeccompPolicy& proto() const { return proto_; }
  // Lowercase hex SHA-256 of the exact policy bytes that were parsed.
  const std::string& sha256_hex() const { return sha256_hex_; }
  // The x86_64 number of proto().syscall(i), same order.
  const std::vector<int>& syscall_numbers() const { return numbers_; }

 private:
  friend absl::StatusOr<Policy> ParsePolicy(absl::string_view text);
  Policy() = default;
  v1::SeccompPolicy proto_;
  std::string sha256_hex_;
  std::vector<int> numbers_;
};

// Parses `text` (at most kMaxPolicyBytes) and validates it:
// - text format errors are reported with line and column;
// - version must be 1, name non-empty, arch "x86_64";
// - default_action must be one of KILL_PROCESS, KILL_THREAD, LOG, ERRNO,
//   TRAP; default_errno 1..4095 exactly when it is ERRNO;
// - every syscall name must resolve on x86_64
// (seccomp_syscall_resolve_name_arch)
//   and appear once; conditions use argument 0..5 at most once per `when`,
//   a known operator, and a value that can match;
// - an entry's action may not equal the default action.
// Errors are InvalidArgument with a message naming the offending entry.
absl::StatusOr<Policy> ParsePolicy(absl::string_view text);

// Reads a policy file (regular file, at most kMaxPolicyBytes) and parses it.
// The path is operator configuration: it is resolved once (realpath), then
// the file is read beneath its directory through security/path. Messages
// are prefixed with the path.
absl::StatusOr<Policy> ReadPolicyFile(const std::string& path);

// OK only for a policy fit to run in production: default_action
// KILL_PROCESS. (KILL_THREAD leaves a half-dead process, LOG and ERRNO let
// the call through or let the caller retry, TRAP can be caught by the
// process itself.)
absl::Status CheckProductionReady(const Policy& policy);

// Upper-case names of the enum values, as written in policy files.
std::string DefaultActionName(v1::DefaultAction action);
std::string SyscallActionName(v1::SyscallAction action);
std::string ArgOpName(v1::ArgOp op);

// Lowercase hex SHA-256 (libsodium crypto_hash_sha256) of `bytes`.
std::string Sha256Hex(absl::string_view bytes);

// "ENOENT: No such file or directory" (thread-safe strerror).
std::string ErrnoText(int err);

}  // namespace virtengine::security::seccomp

#endif  // VE_SECURITY_SECCOMP_POLICY_H_
