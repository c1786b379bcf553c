// Compiling a validated Policy into a seccomp BPF filter with libseccomp, and
// loading it into the calling process. See docs/security/seccomp.md.
#ifndef VE_SECURITY_SECCOMP_FILTER_H_
#define VE_SECURITY_SECCOMP_FILTER_H_

#include <unistd.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/seccomp/policy.h"

namespace virtengine::security::seccomp {

// How the policy's default action is applied.
enum class Mode {
  // The policy as written (production: KILL_PROCESS).
  kEnforce,
  // Development: default action SCMP_ACT_LOG. A call outside the allowlist
  // runs and the kernel logs it (audit / kernel log); nothing is killed.
  kLog,
  // Development and tests: default action SCMP_ACT_TRAP and a SIGSYS
  // handler that writes one line
  //   "ve-seccomp: blocked syscall=<nr> arch=0x<arch> args=0x..,...\n"
  // to LoadOptions::report_fd, then makes the process die of SIGSYS.
  kReport,
};

// "enforce", "log", "report".
std::string ModeName(Mode mode);

// The kernel refuses filters longer than this (BPF_MAXINSNS).
inline constexpr size_t kMaxBpfInstructions = 4096;
// The syscall number the report handler uses to make its own thread die of
// SIGSYS: no x86_64 syscall has it, so no validated policy allows it.
inline constexpr int kReportKillSyscall = 1023;

// Compiles `policy` in `mode` and returns the BPF program
// (seccomp_export_bpf into a memfd, read back; sizeof(sock_filter) bytes per
// instruction). Never loads anything. `report_fd` matters only in kReport:
// the filter then also allows write() on that descriptor so the handler can
// report. Fails if the program is longer than kMaxBpfInstructions.
absl::StatusOr<std::string> ExportBpf(const Policy& policy,
                                      Mode mode = Mode::kEnforce,
                                      int report_fd = STDERR_FILENO);

struct LoadOptions {
  Mode mode = Mode::kEnforce;
  int report_fd = STDERR_FILENO;  // kReport only
};

// Loads `policy` into the calling process once start-up is done: sets
// PR_SET_NO_NEW_PRIVS, then loads the filter with SECCOMP_FILTER_FLAG_TSYNC
// so every thread of the process gets it (threads started before the call
// included); non-x86_64 system calls (int 0x80, x32) kill the process. In
// kReport mode it first installs the SIGSYS reporting handler. Allowed once
// per process: a second call fails with FailedPrecondition.
absl::Status LoadPolicy(const Policy& policy, const LoadOptions& options = {});

// SHA-256 (lowercase hex) of the policy LoadPolicy loaded in this process,
// empty before. Compliance evidence compares it with the policy file's hash.
std::string LoadedPolicySha256();

}  // namespace virtengine::security::seccomp

#endif  // VE_SECURITY_SECCOMP_FILTER_H_
