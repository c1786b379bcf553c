// Loads small policies into forked children and observes, through waitpid
// and the report pipe, what the kernel did: kills (SIGSYS), the reported
// syscall (report mode), log mode, TSYNC, errno entries, bad-arch calls.
#include "security/seccomp/filter.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "security/seccomp/policy.h"
#include "security/seccomp/test_support.h"

namespace virtengine::security::seccomp {
namespace {

using testing::ChildResult;
using testing::RunInChild;

// Enough for the test bodies: memory, exit, write to the report pipe, read
// /proc/self/status, futex for thread joins.
constexpr char kBase[] =
    R"pb(
  version: 1
  name: "test"
  arch: "x86_64"
  syscall { name: "read" }
  syscall { name: "openat" }
  syscall { name: "close" }
  syscall { name: "fstat" }
  syscall { name: "newfstatat" }
  syscall { name: "lseek" }
  syscall { name: "brk" }
  syscall { name: "mmap" }
  syscall { name: "munmap" }
  syscall { name: "mprotect" }
  syscall { name: "madvise" }
  syscall { name: "futex" }
  syscall { name: "exit" }
  syscall { name: "exit_group" }
  syscall { name: "getpid" }
  syscall { name: "rt_sigprocmask" }
    )pb"
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    // Sanitizer runtimes make their own calls (alternate signal stacks,
    // thread registration, reports): allowed so the tests observe only the
    // calls they make on purpose.
    R"pb(
  syscall { name: "sigaltstack" }
  syscall { name: "rt_sigaction" }
  syscall { name: "prctl" }
  syscall { name: "readlink" }
  syscall { name: "prlimit64" }
  syscall { name: "sched_yield" }
  syscall { name: "sched_getaffinity" }
  syscall { name: "gettid" }
  syscall { name: "tgkill" }
  syscall { name: "clock_gettime" }
  syscall { name: "nanosleep" }
  syscall { name: "getrusage" }
    )pb"
#endif
    ;

// With a sanitizer the runtime's own calls would fail under a default ERRNO.
constexpr bool kSanitizer =
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    true;
#else
    false;
#endif

// A thread that is fully started (glibc's start-up system calls done)
// and then blocks until Release(). A thread still in glibc's start-up when
// the filter arrives runs those calls under the filter, with every signal
// blocked: a violation there cannot be reported, only killed.
class ParkedThread {
 public:
  template <typename F>
  explicit ParkedThread(F body) {
    if (pipe(ready_) != 0 || pipe(go_) != 0) std::abort();
    thread_ = std::thread([this, body] {
      Say(ready_[1], "r");
      char c;
      (void)!read(go_[0], &c, 1);
      body();
    });
    char c;
    (void)!read(ready_[0], &c, 1);
  }
  void Release() { Say(go_[1], "g"); }
  void Join() { thread_.join(); }

 private:
  static void Say(int fd, const char* what) {
    (void)!write(fd, what, std::strlen(what));
  }
  int ready_[2] = {-1, -1};
  int go_[2] = {-1, -1};
  std::thread thread_;
};

Policy MustParse(const std::string& text) {
  absl::StatusOr<Policy> p = ParsePolicy(text);
  if (!p.ok()) {
    ADD_FAILURE() << p.status();
    std::abort();
  }
  return *std::move(p);
}

// The base policy plus write(), default KILL_PROCESS.
Policy KillPolicy(const std::string& extra = "") {
  return MustParse(std::string(kBase) + "default_action: KILL_PROCESS\n" +
                   "syscall { name: \"write\" }\n" + extra);
}

void Say(int fd, const char* what) {
  (void)!write(fd, what, std::strlen(what));
}

TEST(LoadPolicyTest, EnforceAllowsListedCallsAndKillsTheProcessOnOthers) {
  const Policy policy = KillPolicy();
  const ChildResult r = RunInChild([&](int fd) {
    if (!LoadPolicy(policy).ok()) return 10;
    if (getpid() <= 0) return 11;  // allowed
    Say(fd, "allowed-ok\n");       // allowed
    (void)syscall(SYS_getppid);    // not listed: the process dies here
    Say(fd, "survived\n");
    return 0;
  });
  EXPECT_TRUE(r.KilledBySigsys()) << r.Describe();
  EXPECT_NE(r.report.find("allowed-ok"), std::string::npos) << r.Describe();
  EXPECT_EQ(r.report.find("survived"), std::string::npos) << r.Describe();
  // Enforce mode reports nothing itself: the kernel kills at once.
  EXPECT_FALSE(r.ReportedSyscall().has_value()) << r.Describe();
}

TEST(LoadPolicyTest, ReportModeNamesTheForbiddenSyscallAndItsArguments) {
  const Policy policy = KillPolicy();
  const ChildResult r = RunInChild([&](int fd) {
    if (!LoadPolicy(policy, {Mode::kReport, fd}).ok()) return 10;
    Say(fd, "allowed-ok\n");
    (void)syscall(SYS_kill, 0, 0);  // not listed
    Say(fd, "survived\n");
    return 0;
  });
  EXPECT_TRUE(r.KilledBySigsys()) << r.Describe();
  EXPECT_NE(r.report.find("allowed-ok"), std::string::npos) << r.Describe();
  EXPECT_EQ(r.report.find("survived"), std::string::npos) << r.Describe();
  ASSERT_TRUE(r.ReportedSyscall().has_value()) << r.Describe();
  EXPECT_EQ(*r.ReportedSyscall(), SYS_kill) << r.Describe();
  EXPECT_EQ(testing::SyscallName(*r.ReportedSyscall()), "kill");
  EXPECT_EQ(r.ReportedArgs().rfind("0x0,0x0,", 0), 0u) << r.Describe();
  EXPECT_NE(r.report.find("arch=0xc000003e"), std::string::npos)
      << r.Describe();
}

TEST(LoadPolicyTest, ReportModeCanReportEvenWhenThePolicyHasNoWrite) {
  // Without write(): report mode adds write() on the report descriptor only.
  const Policy policy =
      MustParse(std::string(kBase) + "default_action: KILL_PROCESS\n");
  const ChildResult r = RunInChild([&](int fd) {
    if (!LoadPolicy(policy, {Mode::kReport, fd}).ok()) return 10;
    (void)syscall(SYS_getppid);
    return 0;
  });
  EXPECT_TRUE(r.KilledBySigsys()) << r.Describe();
  ASSERT_TRUE(r.ReportedSyscall().has_value()) << r.Describe();
  EXPECT_EQ(*r.ReportedSyscall(), SYS_getppid);
}

TEST(LoadPolicyTest, ReportModeWriteRuleDoesNotOpenOtherDescriptors) {
  const Policy policy =
      MustParse(std::string(kBase) + "default_action: KILL_PROCESS\n");
  const ChildResult r = RunInChild([&](int fd) {
    if (!LoadPolicy(policy, {Mode::kReport, fd}).ok()) return 10;
    Say(STDOUT_FILENO, "x");  // write() on another descriptor: blocked
    return 0;
  });
  EXPECT_TRUE(r.KilledBySigsys()) << r.Describe();
  ASSERT_TRUE(r.ReportedSyscall().has_value()) << r.Describe();
  EXPECT_EQ(*r.ReportedSyscall(), SYS_write);
  EXPECT_EQ(r.ReportedArgs().rfind("0x1,", 0), 0u) << r.Describe();
}

TEST(LoadPolicyTest, LogModeLetsTheForbiddenCallRun) {
  const Policy policy = KillPolicy();
  const pid_t parent = getpid();
  const ChildResult r = RunInChild([&](int fd) {
    if (!LoadPolicy(policy, {Mode::kLog, fd}).ok()) return 10;
    // Not listed, but log mode only logs: the call runs and returns.
    if (syscall(SYS_getppid) != parent) return 11;
    Say(fd, "survived\n");
    return 0;
  });
  EXPECT_TRUE(r.exited) << r.Describe();
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_NE(r.report.find("survived"), std::string::npos) << r.Describe();
}

TEST(LoadPolicyTest, PolicyWithDefaultLogActionIsNotKilledEither) {
  const Policy policy = MustParse(std::string(kBase) +
                                  "default_action: LOG\n"
                                  "syscall { name: \"write\" }\n");
  const ChildResult r = RunInChild([&](int) {
    if (!LoadPolicy(policy).ok()) return 10;
    return syscall(SYS_getppid) > 0 ? 0 : 11;
  });
  EXPECT_TRUE(r.exited && r.exit_code == 0) << r.Describe();
}

TEST(LoadPolicyTest, DefaultErrnoAndDenyErrnoEntriesFailTheCall) {
  if (kSanitizer) GTEST_SKIP() << "sanitizer runtime calls would fail too";
  const Policy policy = MustParse(std::string(kBase) +
                                  "default_action: ERRNO\n"
                                  "default_errno: 13\n"  // EACCES
                                  "syscall { name: \"write\" }\n"
                                  "syscall { name: \"getppid\" "
                                  "action: DENY_ERRNO errno_value: 1 }\n");
  const ChildResult r = RunInChild([&](int) {
    if (!LoadPolicy(policy).ok()) return 10;
    errno = 0;
    if (syscall(SYS_getppid) != -1 || errno != EPERM) return 11;
    errno = 0;
    if (syscall(SYS_getuid) != -1 || errno != EACCES) return 12;
    return 0;
  });
  EXPECT_TRUE(r.exited && r.exit_code == 0) << r.Describe();
}

TEST(LoadPolicyTest, KillThreadKillsOnlyTheCallingThread) {
  const Policy policy = MustParse(std::string(kBase) +
                                  "default_action: KILL_THREAD\n"
                                  "syscall { name: \"write\" }\n");
  const ChildResult r = RunInChild([&](int fd) {
    ParkedThread t([&] {
      (void)syscall(SYS_getppid);  // this thread dies
      Say(fd, "thread-survived\n");
    });
    if (!LoadPolicy(policy).ok()) return 10;
    t.Release();
    // The kernel clears the dead thread's tid and wakes the futex, so
    // join() returns once the thread was killed.
    t.Join();
    Say(fd, "main-survived\n");
    return 0;
  });
  EXPECT_TRUE(r.exited && r.exit_code == 0) << r.Describe();
  EXPECT_NE(r.report.find("main-survived"), std::string::npos) << r.Describe();
  EXPECT_EQ(r.report.find("thread-survived"), std::string::npos)
      << r.Describe();
}

TEST(LoadPolicyTest, TsyncFiltersAThreadStartedBeforeLoading) {
  for (Mode mode : {Mode::kEnforce, Mode::kReport}) {
    const Policy policy = KillPolicy();
    const ChildResult r = RunInChild([&](int fd) {
      // Started before the filter exists; parked until it is loaded.
      ParkedThread t([&] {
        (void)syscall(SYS_getppid);  // TSYNC: filtered here too
        Say(fd, "thread-survived\n");
      });
      if (!LoadPolicy(policy, {mode, fd}).ok()) return 10;
      Say(fd, "loaded\n");
      t.Release();
      t.Join();
      return 0;
    });
    SCOPED_TRACE(ModeName(mode));
    EXPECT_TRUE(r.KilledBySigsys()) << r.Describe();
    EXPECT_NE(r.report.find("loaded"), std::string::npos) << r.Describe();
    EXPECT_EQ(r.report.find("thread-survived"), std::string::npos)
        << r.Describe();
    if (mode == Mode::kReport) {
      ASSERT_TRUE(r.ReportedSyscall().has_value()) << r.Describe();
      EXPECT_EQ(*r.ReportedSyscall(), SYS_getppid);
    }
  }
}

TEST(LoadPolicyTest, SetsNoNewPrivsAndFilterModeForEveryThread) {
  const Policy policy = KillPolicy();
  const ChildResult r = RunInChild([&](int fd) {
    std::string thread_status;
    ParkedThread t([&] {
      std::ifstream in("/proc/thread-self/status");
      std::stringstream ss;
      ss << in.rdbuf();
      thread_status = ss.str();
    });
    if (!LoadPolicy(policy).ok()) return 10;
    t.Release();
    t.Join();
    std::ifstream in("/proc/self/status");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string status = ss.str();
    for (const std::string& s : {status, thread_status}) {
      if (s.find("NoNewPrivs:\t1") == std::string::npos) return 11;
      if (s.find("Seccomp:\t2") == std::string::npos) return 12;
    }
    Say(fd, "ok\n");
    return 0;
  });
  EXPECT_TRUE(r.exited && r.exit_code == 0) << r.Describe();
}

TEST(LoadPolicyTest, SecondLoadIsRefused) {
  const Policy policy = KillPolicy();
  const ChildResult r = RunInChild([&](int fd) {
    if (!LoadPolicy(policy).ok()) return 10;
    const absl::Status again = LoadPolicy(policy);
    if (again.code() != absl::StatusCode::kFailedPrecondition) return 11;
    if (LoadedPolicySha256() != policy.sha256_hex()) return 12;
    Say(fd, "ok\n");
    return 0;
  });
  EXPECT_TRUE(r.exited && r.exit_code == 0) << r.Describe();
}

TEST(LoadPolicyTest, LoadedPolicySha256IsEmptyBeforeLoading) {
  EXPECT_EQ(LoadedPolicySha256(), "");
}

TEST(LoadPolicyTest, ArgumentConditionsAreEnforced) {
  // socket() only for AF_UNIX; ioctl() only for TCGETS.
  const Policy policy = KillPolicy(R"pb(
    syscall {
      name: "socket"
      when { arg { index: 0 op: EQ value: 1 } }
    }
    syscall {
      name: "ioctl"
      when { arg { index: 1 op: EQ value: 0x5401 } }
    }
  )pb");
  const ChildResult ok = RunInChild([&](int fd) {
    if (!LoadPolicy(policy, {Mode::kReport, fd}).ok()) return 10;
    const int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return 11;
    (void)ioctl(s, TCGETS, nullptr);  // allowed (fails with ENOTTY)
    return 0;
  });
  EXPECT_TRUE(ok.exited && ok.exit_code == 0) << ok.Describe();

  const ChildResult inet = RunInChild([&](int fd) {
    if (!LoadPolicy(policy, {Mode::kReport, fd}).ok()) return 10;
    (void)socket(AF_INET, SOCK_STREAM, 0);
    return 0;
  });
  EXPECT_TRUE(inet.KilledBySigsys()) << inet.Describe();
  EXPECT_EQ(inet.ReportedSyscall(), SYS_socket) << inet.Describe();
  EXPECT_EQ(inet.ReportedArgs().rfind("0x2,0x1,0x0", 0), 0u) << inet.Describe();

  const ChildResult high_bits = RunInChild([&](int fd) {
    if (!LoadPolicy(policy, {Mode::kReport, fd}).ok()) return 10;
    // AF_UNIX with garbage in the upper half: not an exact match, killed.
    (void)syscall(SYS_socket, 0x100000001UL, SOCK_STREAM, 0);
    return 0;
  });
  EXPECT_TRUE(high_bits.KilledBySigsys()) << high_bits.Describe();

  const ChildResult ioctl_other = RunInChild([&](int fd) {
    if (!LoadPolicy(policy, {Mode::kReport, fd}).ok()) return 10;
    int on = 1;
    (void)ioctl(fd, FIONBIO, &on);
    return 0;
  });
  EXPECT_TRUE(ioctl_other.KilledBySigsys()) << ioctl_other.Describe();
  EXPECT_EQ(ioctl_other.ReportedSyscall(), SYS_ioctl);
}

TEST(LoadPolicyTest, MaskedEqualConditions) {
  // getpriority(which, who) only with `which` having bit 1 set: 2 and 3 pass.
  const Policy policy = KillPolicy(R"pb(
    syscall {
      name: "getpriority"
      when { arg { index: 0 op: MASKED_EQ mask: 0x2 value: 0x2 } }
    }
  )pb");
  const ChildResult ok = RunInChild([&](int) {
    if (!LoadPolicy(policy).ok()) return 10;
    (void)syscall(SYS_getpriority, 2, 0);  // PRIO_USER
    return 0;
  });
  EXPECT_TRUE(ok.exited && ok.exit_code == 0) << ok.Describe();
  const ChildResult bad = RunInChild([&](int) {
    if (!LoadPolicy(policy).ok()) return 10;
    (void)syscall(SYS_getpriority, 0, 0);  // PRIO_PROCESS: bit 1 clear
    return 0;
  });
  EXPECT_TRUE(bad.KilledBySigsys()) << bad.Describe();
}

// i386 system calls (int 0x80) from an x86_64 process are another
// architecture: the filter kills them even when the call is allowed.
TEST(LoadPolicyTest, ForeignArchitectureCallsKillTheProcess) {
  const ChildResult probe = RunInChild([](int) {
    long ret = 0;
    asm volatile("int $0x80" : "=a"(ret) : "a"(20) : "memory");  // getpid
    return ret == getpid() ? 0 : 1;
  });
  if (!(probe.exited && probe.exit_code == 0)) {
    GTEST_SKIP() << "kernel has no i386 emulation: " << probe.Describe();
  }
  const Policy policy = KillPolicy();
  const ChildResult r = RunInChild([&](int fd) {
    if (!LoadPolicy(policy, {Mode::kReport, fd}).ok()) return 10;
    long ret = 0;
    asm volatile("int $0x80" : "=a"(ret) : "a"(20) : "memory");
    return 0;
  });
  EXPECT_TRUE(r.KilledBySigsys()) << r.Describe();
  // Killed by the bad-arch action, not trapped: nothing reported.
  EXPECT_FALSE(r.ReportedSyscall().has_value()) << r.Describe();
}

TEST(ExportBpfTest, ProgramsAreDeterministicAndModeDependent) {
  const Policy policy = KillPolicy();
  absl::StatusOr<std::string> a = ExportBpf(policy);
  absl::StatusOr<std::string> b = ExportBpf(policy);
  absl::StatusOr<std::string> log = ExportBpf(policy, Mode::kLog);
  absl::StatusOr<std::string> report = ExportBpf(policy, Mode::kReport, 7);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok() && log.ok() && report.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *log);
  EXPECT_NE(*a, *report);
  EXPECT_EQ(a->size() % 8, 0u);
  EXPECT_GT(a->size(), 0u);
}

TEST(ExportBpfTest, DaemonPoliciesFitTheKernelLimit) {
  for (const char* d : {"ve-node", "ve-provider", "ve-enclave", "vectl"}) {
    absl::StatusOr<Policy> p = testing::ReadDaemonPolicy(d);
    ASSERT_TRUE(p.ok()) << p.status();
    for (Mode m : {Mode::kEnforce, Mode::kLog, Mode::kReport}) {
      absl::StatusOr<std::string> bpf = ExportBpf(*p, m);
      ASSERT_TRUE(bpf.ok()) << d << " " << ModeName(m) << ": " << bpf.status();
      EXPECT_LE(bpf->size() / 8, kMaxBpfInstructions) << d;
    }
  }
}

}  // namespace
}  // namespace virtengine::security::seccomp
