// ve-exec-trampoline: applies resource limits to itself, then execve()s the
// target. Spawned only by the runner (runner.cc) through posix_spawn; the
// argument layout is in trampoline_protocol.h. It validates every argument
// before acting on it, uses only raw system calls (no allocation, no locale,
// no stdio), and never searches PATH: the target must be an absolute path.
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "security/exec/trampoline_protocol.h"

namespace {

namespace tp = ::virtengine::exec::trampoline;

bool g_status_pipe = false;

void WriteAll(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    size -= static_cast<size_t>(n);
  }
}

[[noreturn]] void Fail(int32_t stage, int error) {
  if (g_status_pipe) {
    const tp::StatusRecord record{tp::kStatusMagic, stage, error};
    WriteAll(tp::kStatusFd, &record, sizeof(record));
  } else {
    // Run by hand: say what went wrong on stderr.
    char digits[16];
    size_t n = 0;
    unsigned value = error < 0 ? 0U : static_cast<unsigned>(error);
    do {
      digits[n++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0 && n < sizeof(digits));
    const char* name = tp::StageName(stage);
    WriteAll(2, "ve-exec-trampoline: ", 20);
    WriteAll(2, name, std::strlen(name));
    WriteAll(2, " failed, errno ", 15);
    while (n > 0) WriteAll(2, &digits[--n], 1);
    WriteAll(2, "\n", 1);
  }
  _exit(tp::kExitFailure);
}

// Canonical decimal (no sign, no leading zero unless "0"), no overflow.
bool ParseU64(const char* s, uint64_t* out) {
  if (s == nullptr || *s == '\0') return false;
  if (s[0] == '0' && s[1] != '\0') return false;
  uint64_t v = 0;
  for (const char* p = s; *p != '\0'; ++p) {
    if (*p < '0' || *p > '9') return false;
    const auto digit = static_cast<uint64_t>(*p - '0');
    if (v > (UINT64_MAX - digit) / 10) return false;
    v = v * 10 + digit;
  }
  *out = v;
  return true;
}

// "/a/b": absolute, no empty, "." or ".." component, no trailing '/'.
bool IsAbsoluteNormalized(const char* p) {
  if (p == nullptr || p[0] != '/' || p[1] == '\0') return false;
  const char* comp = p + 1;
  while (true) {
    const char* end = std::strchr(comp, '/');
    const size_t len =
        end == nullptr ? std::strlen(comp) : static_cast<size_t>(end - comp);
    if (len == 0) return false;
    if (len == 1 && comp[0] == '.') return false;
    if (len == 2 && comp[0] == '.' && comp[1] == '.') return false;
    if (end == nullptr) return true;
    comp = end + 1;
  }
}

void Limit(int resource, uint64_t value, int32_t stage) {
  const rlimit limit{static_cast<rlim_t>(value), static_cast<rlim_t>(value)};
  if (setrlimit(resource, &limit) != 0) Fail(stage, errno);
}

}  // namespace

int main(int argc, char** argv, char** envp) {
  // The status pipe, if the runner gave us one, must not reach the target.
  struct stat st {};
  if (fstat(tp::kStatusFd, &st) == 0 && S_ISFIFO(st.st_mode)) {
    const int flags = fcntl(tp::kStatusFd, F_GETFD);
    if (flags >= 0 && fcntl(tp::kStatusFd, F_SETFD, flags | FD_CLOEXEC) == 0) {
      g_status_pipe = true;
    }
  }
  // posix_spawn already closed every other descriptor; make sure.
  (void)close_range(tp::kStatusFd + 1, ~0U, 0);

  if (argc < tp::kFirstTargetArg + 2 ||
      std::strcmp(argv[1], tp::kProtocolTag) != 0 ||
      std::strcmp(argv[8], "--") != 0) {
    Fail(tp::kStageArguments, EINVAL);
  }
  uint64_t cpu = 0;
  uint64_t as = 0;
  uint64_t nofile = 0;
  uint64_t nproc = 0;
  uint64_t fsize = 0;
  if (!ParseU64(argv[2], &cpu) || !ParseU64(argv[3], &as) ||
      !ParseU64(argv[4], &nofile) || !ParseU64(argv[5], &nproc) ||
      !ParseU64(argv[6], &fsize) || cpu == 0 || as == 0 || nofile == 0 ||
      nproc == 0) {
    Fail(tp::kStageArguments, EINVAL);
  }
  const bool no_new_privs = std::strcmp(argv[7], "1") == 0;
  if (!no_new_privs && std::strcmp(argv[7], "0") != 0) {
    Fail(tp::kStageArguments, EINVAL);
  }
  const char* target = argv[tp::kFirstTargetArg];
  char** target_argv = &argv[tp::kFirstTargetArg + 1];
  if (!IsAbsoluteNormalized(target) || target_argv[0][0] == '\0') {
    Fail(tp::kStageArguments, EINVAL);
  }

  if (no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    Fail(tp::kStageNoNewPrivs, errno);
  }
  Limit(RLIMIT_CPU, cpu, tp::kStageRlimitCpu);
  Limit(RLIMIT_AS, as, tp::kStageRlimitAs);
  Limit(RLIMIT_NOFILE, nofile, tp::kStageRlimitNofile);
  Limit(RLIMIT_NPROC, nproc, tp::kStageRlimitNproc);
  Limit(RLIMIT_FSIZE, fsize, tp::kStageRlimitFsize);
  Limit(RLIMIT_CORE, 0, tp::kStageRlimitCore);

  execve(target, target_argv, envp);
  Fail(tp::kStageExec, errno);
}
