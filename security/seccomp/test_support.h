// Test helpers: run a function in a forked child (which may load a seccomp
// policy and die of it) and collect how it ended and what it reported.
#ifndef VE_SECURITY_SECCOMP_TEST_SUPPORT_H_
#define VE_SECURITY_SECCOMP_TEST_SUPPORT_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "security/seccomp/policy.h"

namespace virtengine::security::seccomp::testing {

struct ChildResult {
  bool exited = false;
  int exit_code = -1;
  bool signaled = false;
  int signal = 0;
  // Everything the child wrote to its report descriptor (report-mode lines
  // and whatever the body wrote there itself).
  std::string report;

  bool KilledBySigsys() const;
  // The syscall number of the first "ve-seccomp: blocked syscall=N" line.
  std::optional<int> ReportedSyscall() const;
  // The argument list of that line ("0x2,0x1,...").
  std::string ReportedArgs() const;
  std::string Describe() const;
};

// Forks; the child runs `body(report_fd)` and _exits with its return value.
// The child gets SIGALRM after `timeout_seconds` (armed before the body
// runs, so a hang cannot stall the test).
ChildResult RunInChild(const std::function<int(int report_fd)>& body,
                       unsigned timeout_seconds = 120);

// "policy/seccomp/<daemon>.textproto", read from the test's runfiles.
absl::StatusOr<Policy> ReadDaemonPolicy(const std::string& daemon);

// x86_64 number -> name ("socket"), or "#<nr>".
std::string SyscallName(int nr);

}  // namespace virtengine::security::seccomp::testing

#endif  // VE_SECURITY_SECCOMP_TEST_SUPPORT_H_
