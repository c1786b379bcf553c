#include "security/seccomp/filter.h"

#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace virtengine::security::seccomp {
namespace {

struct CtxRelease {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxRelease>;

absl::Status ScmpError(absl::string_view what, int rc) {
  return absl::InternalError(absl::StrCat(
      "seccomp: ", what, " failed: ", ErrnoText(-rc), " (", rc, ")"));
}

uint32_t DefaultActionFor(const Policy& policy, Mode mode) {
  switch (mode) {
    case Mode::kLog:
      return SCMP_ACT_LOG;
    case Mode::kReport:
      return SCMP_ACT_TRAP;
    case Mode::kEnforce:
      break;
  }
  const v1::SeccompPolicy& p = policy.proto();
  switch (p.default_action()) {
    case v1::KILL_THREAD:
      return SCMP_ACT_KILL_THREAD;
    case v1::LOG:
      return SCMP_ACT_LOG;
    case v1::ERRNO:
      return SCMP_ACT_ERRNO(p.default_errno());
    case v1::TRAP:
      return SCMP_ACT_TRAP;
    case v1::KILL_PROCESS:
    default:  // validation admits nothing else
      return SCMP_ACT_KILL_PROCESS;
  }
}

scmp_arg_cmp ToCmp(const v1::ArgCondition& c) {
  scmp_arg_cmp cmp{};
  cmp.arg = c.index();
  if (c.op() == v1::MASKED_EQ) {
    cmp.op = SCMP_CMP_MASKED_EQ;
    cmp.datum_a = c.mask();
    cmp.datum_b = c.value();
  } else {
    cmp.op = SCMP_CMP_EQ;
    cmp.datum_a = c.value();
    cmp.datum_b = 0;
  }
  return cmp;
}

absl::StatusOr<Ctx> Compile(const Policy& policy, Mode mode, int report_fd) {
  // The policy is x86_64; refuse to build a filter for another native arch.
  if (seccomp_arch_native() != SCMP_ARCH_X86_64) {
    return absl::FailedPreconditionError(
        "seccomp: policies are written for x86_64; this is another "
        "architecture");
  }
  Ctx ctx(seccomp_init(DefaultActionFor(policy, mode)));
  if (ctx == nullptr) {
    return absl::InternalError("seccomp: seccomp_init failed");
  }
  int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH,
                            SCMP_ACT_KILL_PROCESS);
  if (rc != 0) return ScmpError("setting the bad-arch action", rc);
  rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 1);
  if (rc != 0) return ScmpError("setting NO_NEW_PRIVS", rc);
  rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_TSYNC, 1);
  if (rc != 0) return ScmpError("setting TSYNC", rc);
  // A binary tree of syscall numbers instead of a linear list: ~150
  // entries cost a handful of comparisons per call.
  rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);
  if (rc != 0) return ScmpError("setting the optimisation level", rc);

  const v1::SeccompPolicy& p = policy.proto();
  for (int i = 0; i < p.syscall_size(); ++i) {
    const v1::Syscall& s = p.syscall(i);
    const int nr = policy.syscall_numbers()[static_cast<size_t>(i)];
    const uint32_t action = s.action() == v1::DENY_ERRNO
                                ? SCMP_ACT_ERRNO(s.errno_value())
                                : SCMP_ACT_ALLOW;
    if (s.when_size() == 0) {
      rc = seccomp_rule_add_exact(ctx.get(), action, nr, 0);
      if (rc != 0) {
        return ScmpError(
            absl::StrCat("adding syscall[", i, "] \"", s.name(), "\""), rc);
      }
      continue;
    }
    for (int w = 0; w < s.when_size(); ++w) {
      std::vector<scmp_arg_cmp> cmps;
      cmps.reserve(static_cast<size_t>(s.when(w).arg_size()));
      for (const v1::ArgCondition& c : s.when(w).arg()) {
        cmps.push_back(ToCmp(c));
      }
      rc = seccomp_rule_add_exact_array(ctx.get(), action, nr,
                                        static_cast<unsigned>(cmps.size()),
                                        cmps.data());
      if (rc != 0) {
        return ScmpError(absl::StrCat("adding syscall[", i, "] \"", s.name(),
                                      "\" when[", w, "]"),
                         rc);
      }
    }
  }
  if (mode == Mode::kReport) {
    // The SIGSYS handler must be able to write its report even when the
    // policy does not allow write().
    scmp_arg_cmp fd_is_report{};
    fd_is_report.arg = 0;
    fd_is_report.op = SCMP_CMP_EQ;
    fd_is_report.datum_a = static_cast<scmp_datum_t>(report_fd);
    rc = seccomp_rule_add_exact_array(ctx.get(), SCMP_ACT_ALLOW,
                                      SCMP_SYS(write), 1, &fd_is_report);
    if (rc != 0) return ScmpError("adding the report write() rule", rc);
  }
  return ctx;
}

// ---- report mode ------------------------------------------------------------

// si_code of a SIGSYS raised by SECCOMP_RET_TRAP (asm-generic/siginfo.h;
// glibc's <signal.h> does not name it).
constexpr int kSysSeccomp = 1;

std::atomic<int> g_report_fd{STDERR_FILENO};
std::atomic<bool> g_loaded{false};
std::mutex g_loaded_mu;
std::string* g_loaded_sha = nullptr;  // guarded by g_loaded_mu, leaked

// Async-signal-safe formatting into a fixed buffer.
class SignalSafeLine {
 public:
  void Add(const char* s) {
    while (*s != '\0' && len_ < buf_.size()) buf_[len_++] = *s++;
  }
  void AddDec(int64_t v) {
    if (v < 0) {
      Add("-");
      v = -v;
    }
    char tmp[24];
    size_t n = 0;
    do {
      tmp[n++] = static_cast<char>('0' + (v % 10));
      v /= 10;
    } while (v != 0 && n < sizeof(tmp));
    while (n > 0 && len_ < buf_.size()) buf_[len_++] = tmp[--n];
  }
  void AddHex(uint64_t v) {
    Add("0x");
    char tmp[16];
    size_t n = 0;
    do {
      tmp[n++] = "0123456789abcdef"[v & 0xf];
      v >>= 4;
    } while (v != 0 && n < sizeof(tmp));
    while (n > 0 && len_ < buf_.size()) buf_[len_++] = tmp[--n];
  }
  const char* data() const { return buf_.data(); }
  size_t size() const { return len_; }

 private:
  std::array<char, 256> buf_{};
  size_t len_ = 0;
};

void ReportHandler(int /*sig*/, siginfo_t* info, void* uctx) {
  if (info == nullptr || info->si_code != kSysSeccomp) return;
  const int saved_errno = errno;
  SignalSafeLine line;
  line.Add("ve-seccomp: blocked syscall=");
  line.AddDec(info->si_syscall);
  line.Add(" arch=");
  line.AddHex(info->si_arch);
#if defined(__x86_64__)
  if (uctx != nullptr) {
    const auto* uc = static_cast<const ucontext_t*>(uctx);
    const greg_t* g = uc->uc_mcontext.gregs;
    const int regs[6] = {REG_RDI, REG_RSI, REG_RDX, REG_R10, REG_R8, REG_R9};
    line.Add(" args=");
    for (int i = 0; i < 6; ++i) {
      if (i > 0) line.Add(",");
      line.AddHex(static_cast<uint64_t>(g[regs[i]]));
    }
  }
#else
  (void)uctx;
#endif
  line.Add("\n");
  const int fd = g_report_fd.load(std::memory_order_relaxed);
  size_t off = 0;
  while (off < line.size()) {
    const ssize_t n = write(fd, line.data() + off, line.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  // SIGSYS is blocked while this handler runs. A system call no policy
  // allows traps again; the kernel then cannot deliver SIGSYS to the handler,
  // resets it to the default action and the process dies of SIGSYS with a
  // core-dump status, like SECCOMP_RET_KILL_PROCESS.
  (void)syscall(kReportKillSyscall);
  errno = saved_errno;
  _exit(128 + SIGSYS);  // not reached
}

absl::Status InstallReportHandler(int report_fd) {
  g_report_fd.store(report_fd, std::memory_order_relaxed);
  struct sigaction sa {};
  sa.sa_sigaction = &ReportHandler;
  sa.sa_flags = SA_SIGINFO;
  sigfillset(&sa.sa_mask);
  if (sigaction(SIGSYS, &sa, nullptr) != 0) {
    const int err = errno;
    return absl::InternalError(
        absl::StrCat("seccomp: installing the SIGSYS report handler failed: ",
                     ErrnoText(err)));
  }
  // The handler only runs if SIGSYS is not blocked in the offending thread.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGSYS);
  const int rc = pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  if (rc != 0) {
    return absl::InternalError(
        absl::StrCat("seccomp: unblocking SIGSYS failed: ", ErrnoText(rc)));
  }
  return absl::OkStatus();
}

// seccomp_export_bpf into a memfd, read back, with the kernel's size limit.
absl::StatusOr<std::string> ExportCtx(void* ctx, const Policy& policy) {
  const int fd = memfd_create("ve-seccomp-bpf", MFD_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return absl::InternalError(
        absl::StrCat("seccomp: memfd_create failed: ", ErrnoText(err)));
  }
  const int rc = seccomp_export_bpf(ctx, fd);
  if (rc != 0) {
    (void)close(fd);
    return ScmpError("seccomp_export_bpf", rc);
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || st.st_size < 0) {
    (void)close(fd);
    return absl::InternalError("seccomp: fstat of the exported filter failed");
  }
  std::string bpf(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < bpf.size()) {
    const ssize_t n =
        pread(fd, bpf.data() + got, bpf.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  (void)close(fd);
  if (got != bpf.size()) {
    return absl::InternalError("seccomp: short read of the exported filter");
  }
  constexpr size_t kInsn = 8;  // sizeof(struct sock_filter)
  if (bpf.empty() || bpf.size() % kInsn != 0) {
    return absl::InternalError(
        absl::StrCat("seccomp: exported filter has odd size ", bpf.size()));
  }
  if (bpf.size() / kInsn > kMaxBpfInstructions) {
    return absl::InvalidArgumentError(absl::StrCat(
        "seccomp policy \"", policy.proto().name(), "\": compiles to ",
        bpf.size() / kInsn, " BPF instructions, the kernel limit is ",
        kMaxBpfInstructions));
  }
  return bpf;
}

}  // namespace

std::string ModeName(Mode mode) {
  switch (mode) {
    case Mode::kEnforce:
      return "enforce";
    case Mode::kLog:
      return "log";
    case Mode::kReport:
      return "report";
  }
  return "unknown";
}

absl::StatusOr<std::string> ExportBpf(const Policy& policy, Mode mode,
                                      int report_fd) {
  absl::StatusOr<Ctx> ctx = Compile(policy, mode, report_fd);
  if (!ctx.ok()) return ctx.status();
  return ExportCtx(ctx->get(), policy);
}

absl::Status LoadPolicy(const Policy& policy, const LoadOptions& options) {
  std::lock_guard<std::mutex> lock(g_loaded_mu);
  if (g_loaded.load()) {
    return absl::FailedPreconditionError(
        "seccomp: a policy is already loaded in this process");
  }
  // 3: SCMP_ACT_KILL_PROCESS and SCMP_ACT_LOG; 2: TSYNC.
  const unsigned api = seccomp_api_get();
  if (api < 3) {
    return absl::FailedPreconditionError(
        absl::StrCat("seccomp: kernel/libseccomp API level ", api,
                     " lacks KILL_PROCESS, LOG or TSYNC (level 3 needed)"));
  }
  // Check the size limit and build the context before touching the process.
  absl::StatusOr<Ctx> ctx = Compile(policy, options.mode, options.report_fd);
  if (!ctx.ok()) return ctx.status();
  absl::StatusOr<std::string> bpf = ExportCtx(ctx->get(), policy);
  if (!bpf.ok()) return bpf.status();
  if (options.mode == Mode::kReport) {
    absl::Status st = InstallReportHandler(options.report_fd);
    if (!st.ok()) return st;
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    const int err = errno;
    return absl::InternalError(absl::StrCat(
        "seccomp: prctl(PR_SET_NO_NEW_PRIVS) failed: ", ErrnoText(err)));
  }
  if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
    return absl::InternalError("seccomp: NO_NEW_PRIVS did not stick");
  }
  // Allocate before loading: after the filter the only system calls left are
  // the ones the policy allows.
  auto* sha = new std::string(policy.sha256_hex());
  const int rc = seccomp_load(ctx->get());
  if (rc != 0) {
    delete sha;
    if (rc == -ESRCH) {
      return absl::InternalError(
          "seccomp: TSYNC failed: another thread of this process has an "
          "incompatible seccomp filter; nothing was loaded");
    }
    return ScmpError("seccomp_load", rc);
  }
  g_loaded_sha = sha;
  g_loaded.store(true);
  return absl::OkStatus();
}

std::string LoadedPolicySha256() {
  std::lock_guard<std::mutex> lock(g_loaded_mu);
  return g_loaded_sha == nullptr ? std::string() : *g_loaded_sha;
}

}  // namespace virtengine::security::seccomp
