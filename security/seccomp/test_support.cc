#include "security/seccomp/test_support.h"

#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace virtengine::security::seccomp::testing {
namespace {

constexpr char kMarker[] = "ve-seccomp: blocked syscall=";
constexpr size_t kMarkerLen = sizeof(kMarker) - 1;

}  // namespace

bool ChildResult::KilledBySigsys() const {
  return signaled && signal == SIGSYS;
}

std::optional<int> ChildResult::ReportedSyscall() const {
  const size_t at = report.find(kMarker);
  if (at == std::string::npos) return std::nullopt;
  size_t end = at + kMarkerLen;
  while (end < report.size() && report[end] >= '0' && report[end] <= '9') {
    ++end;
  }
  int nr = 0;
  if (!absl::SimpleAtoi(absl::string_view(report).substr(at + kMarkerLen,
                                                         end - at - kMarkerLen),
                        &nr)) {
    return std::nullopt;
  }
  return nr;
}

std::string ChildResult::ReportedArgs() const {
  const size_t at = report.find(kMarker);
  if (at == std::string::npos) return "";
  const size_t args = report.find(" args=", at);
  if (args == std::string::npos) return "";
  const size_t end = report.find('\n', args);
  return report.substr(
      args + 6, end == std::string::npos ? std::string::npos : end - args - 6);
}

std::string ChildResult::Describe() const {
  std::string out;
  if (exited) absl::StrAppend(&out, "exited with ", exit_code);
  if (signaled) {
    absl::StrAppend(
        &out, "killed by signal ", signal, " (",
        sigabbrev_np(signal) != nullptr ? sigabbrev_np(signal) : "?", ")");
  }
  if (const std::optional<int> nr = ReportedSyscall()) {
    absl::StrAppend(&out, "; reported syscall ", *nr, " (", SyscallName(*nr),
                    ") args ", ReportedArgs());
  }
  absl::StrAppend(&out, "; report: \"", report, "\"");
  return out;
}

ChildResult RunInChild(const std::function<int(int report_fd)>& body,
                       unsigned timeout_seconds) {
  ChildResult result;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    result.report = absl::StrCat("pipe2 failed: ", ErrnoText(errno));
    return result;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    result.report = absl::StrCat("fork failed: ", ErrnoText(errno));
    (void)close(fds[0]);
    (void)close(fds[1]);
    return result;
  }
  if (pid == 0) {
    (void)close(fds[0]);
    (void)alarm(timeout_seconds);
    const int rc = body(fds[1]);
    _exit(rc);
  }
  (void)close(fds[1]);
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.report.append(buf, static_cast<size_t>(n));
  }
  (void)close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    result.exited = true;
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signaled = true;
    result.signal = WTERMSIG(status);
  }
  return result;
}

absl::StatusOr<Policy> ReadDaemonPolicy(const std::string& daemon) {
  return ReadPolicyFile(absl::StrCat("policy/seccomp/", daemon, ".textproto"));
}

std::string SyscallName(int nr) {
  char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
  if (name == nullptr) return absl::StrCat("#", nr);
  std::string out(name);
  free(name);  // NOLINT(cppcoreguidelines-no-malloc): libseccomp allocates
  return out;
}

}  // namespace virtengine::security::seccomp::testing
