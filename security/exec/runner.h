// The only way the product starts a process.
//
//   auto list = Allowlist::LoadDirectory("/etc/virtengine/policy/commands");
//   auto runner = Runner::Create(
//       std::make_shared<const Allowlist>(*std::move(list)), RunnerOptions());
//   absl::StatusOr<Result> r =
//       (*runner)->Run("slurm.scancel", {"4242"}, {}, std::nullopt);
//
// Run validates the request against the entry (policy.h), then posix_spawns
// ve-exec-trampoline (never a shell) with an empty environment plus the
// entry's variables, stdin from the given bytes or /dev/null, stdout/stderr
// into pipes, every other descriptor closed, signal mask and dispositions
// reset, in a new process group. The trampoline applies the entry's rlimits
// and PR_SET_NO_NEW_PRIVS to itself and execve()s the absolute binary path.
// Output is captured with poll() while stdin is written, so neither side can
// deadlock; each stream is capped (the excess is read and dropped). On
// timeout the whole process group gets SIGKILL; when the direct child exits,
// whatever is left of its process group is killed too, so nothing outlives
// Run() (except a process that left the group with setsid/setpgid: see
// docs/security/exec.md).
//
// Requirements on the calling process: SIGCHLD must not be ignored, and no
// other thread may reap children it did not start (waitpid(-1, ...)).
// Run is thread-safe; concurrent runs share nothing.
#ifndef VIRTENGINE_SECURITY_EXEC_RUNNER_H_
#define VIRTENGINE_SECURITY_EXEC_RUNNER_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "security/exec/policy.h"

namespace virtengine::exec {

// Where the appliance image installs the trampoline.
inline constexpr char kDefaultTrampolinePath[] =
    "/usr/libexec/virtengine/ve-exec-trampoline";

struct RunnerOptions {
  // Absolute path of ve-exec-trampoline; must be a regular, executable file
  // that neither group nor others can write.
  std::string trampoline_path = kDefaultTrampolinePath;
  // After the direct child exits (or is killed on timeout), how long to keep
  // draining output held open by processes that escaped the group.
  absl::Duration drain_grace = absl::Seconds(2);
};

struct Result {
  // Exactly one of: exited normally with exit_code, or killed by signal.
  bool exited = false;
  int exit_code = -1;
  int signal = 0;
  // The entry's timeout expired and the process group was killed.
  bool timed_out = false;
  std::string stdout_bytes;
  std::string stderr_bytes;
  // The stream produced more than the entry's cap; the excess was dropped.
  bool stdout_truncated = false;
  bool stderr_truncated = false;
  // The child stopped reading stdin before all bytes were written.
  bool stdin_incomplete = false;
  absl::Duration duration;
};

class Runner {
 public:
  // FailedPrecondition when the trampoline path is not absolute, not a
  // regular executable file, or group/other-writable.
  static absl::StatusOr<std::unique_ptr<Runner>> Create(
      std::shared_ptr<const Allowlist> allowlist, RunnerOptions options);

  // PermissionDenied for any request the allowlist refuses (nothing is
  // started); NotFound/PermissionDenied/FailedPrecondition when the binary
  // cannot be executed or a limit cannot be applied; Internal when a system
  // call of the runner itself fails. A timeout is not an error: the Result
  // says timed_out and carries the output captured so far.
  absl::StatusOr<Result> Run(
      std::string_view entry_id, const std::vector<std::string>& args,
      const std::map<std::string, std::string>& env,
      const std::optional<std::string>& stdin_bytes) const;
  absl::StatusOr<Result> Run(std::string_view entry_id,
                             const std::vector<std::string>& args) const {
    return Run(entry_id, args, {}, std::nullopt);
  }

  const Allowlist& allowlist() const { return *allowlist_; }

 private:
  Runner(std::shared_ptr<const Allowlist> allowlist, RunnerOptions options)
      : allowlist_(std::move(allowlist)), options_(std::move(options)) {}

  absl::StatusOr<Result> Spawn(
      const Invocation& inv,
      const std::optional<std::string>& stdin_bytes) const;

  std::shared_ptr<const Allowlist> allowlist_;
  RunnerOptions options_;
};

}  // namespace virtengine::exec

#endif  // VIRTENGINE_SECURITY_EXEC_RUNNER_H_
