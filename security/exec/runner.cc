// The process launcher (runner.h). The rlimit approach and the kill/reap
// rules are explained in docs/security/exec.md.
#include "security/exec/runner.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "security/exec/trampoline_protocol.h"

namespace virtengine::exec {
namespace {

namespace tp = ::virtengine::exec::trampoline;
using Clock = std::chrono::steady_clock;

constexpr size_t kChunk = size_t{64} * 1024;
// Descriptors the runner hands to the child are moved at or above this, so
// the dup2() file actions onto 0..3 can never clobber one another.
constexpr int kHighFd = 10;

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      Close();
      fd_ = other.fd_;
      other.fd_ = -1;
    }
    return *this;
  }
  ~Fd() { Close(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Close() {
    if (fd_ >= 0) (void)close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

absl::Status SysError(int err, absl::string_view what) {
  return absl::InternalError(
      absl::StrCat("exec: ", absl::ErrnoToStatus(err, what).message()));
}

// A close-on-exec descriptor at or above kHighFd.
absl::StatusOr<Fd> High(int fd) {
  if (fd >= kHighFd) return Fd(fd);
  const int moved = fcntl(fd, F_DUPFD_CLOEXEC, kHighFd);
  const int err = errno;
  (void)close(fd);
  if (moved < 0) return SysError(err, "fcntl(F_DUPFD_CLOEXEC)");
  return Fd(moved);
}

struct Pipe {
  Fd read;
  Fd write;
};

absl::StatusOr<Pipe> MakePipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return SysError(errno, "pipe2");
  absl::StatusOr<Fd> r = High(fds[0]);
  if (!r.ok()) {
    (void)close(fds[1]);
    return r.status();
  }
  absl::StatusOr<Fd> w = High(fds[1]);
  if (!w.ok()) return w.status();
  return Pipe{*std::move(r), *std::move(w)};
}

absl::Status SetNonBlocking(const Fd& fd) {
  const int flags = fcntl(fd.get(), F_GETFL);
  if (flags < 0 || fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    return SysError(errno, "fcntl(O_NONBLOCK)");
  }
  return absl::OkStatus();
}

// Blocks SIGPIPE in this thread while stdin is written, so a child that
// closes its stdin early yields EPIPE instead of killing the daemon. A
// SIGPIPE our own writes left pending is consumed before unblocking.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    (void)sigemptyset(&set_);
    (void)sigaddset(&set_, SIGPIPE);
    sigset_t pending;
    (void)sigemptyset(&pending);
    (void)sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    active_ = pthread_sigmask(SIG_BLOCK, &set_, &old_) == 0;
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;
  ~SigpipeBlock() {
    if (!active_) return;
    if (!was_pending_) {
      sigset_t pending;
      (void)sigemptyset(&pending);
      if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
        const timespec zero{};
        (void)sigtimedwait(&set_, nullptr, &zero);
      }
    }
    (void)pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t set_{};
  sigset_t old_{};
  bool was_pending_ = false;
  bool active_ = false;
};

class FileActions {
 public:
  FileActions() { ok_ = posix_spawn_file_actions_init(&fa_) == 0; }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  ~FileActions() {
    if (ok_) (void)posix_spawn_file_actions_destroy(&fa_);
  }
  bool ok() const { return ok_; }
  posix_spawn_file_actions_t* get() { return &fa_; }

 private:
  posix_spawn_file_actions_t fa_{};
  bool ok_ = false;
};

class SpawnAttr {
 public:
  SpawnAttr() { ok_ = posix_spawnattr_init(&attr_) == 0; }
  SpawnAttr(const SpawnAttr&) = delete;
  SpawnAttr& operator=(const SpawnAttr&) = delete;
  ~SpawnAttr() {
    if (ok_) (void)posix_spawnattr_destroy(&attr_);
  }
  bool ok() const { return ok_; }
  posix_spawnattr_t* get() { return &attr_; }

 private:
  posix_spawnattr_t attr_{};
  bool ok_ = false;
};

std::vector<char*> CArgv(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Appends what fits under `cap` and reports whether anything was dropped.
void Capture(std::string* buf, uint64_t cap, const char* data, size_t n,
             bool* truncated) {
  const uint64_t room = cap > buf->size() ? cap - buf->size() : 0;
  const size_t take = static_cast<size_t>(std::min<uint64_t>(room, n));
  buf->append(data, take);
  if (take < n) *truncated = true;
}

// glibc 2.36's <sys/pidfd.h> lacks extern "C", so call the kernel directly.
// -1 on kernels before 5.3 (the poll loop then falls back to short ticks).
int PidfdOpen(pid_t pid) {
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0U));
}

int MillisUntil(Clock::time_point when, Clock::time_point now) {
  if (when <= now) return 0;
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(when - now)
          .count() +
      1;
  return static_cast<int>(std::min<int64_t>(ms, int64_t{60} * 1000));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Runner>> Runner::Create(
    std::shared_ptr<const Allowlist> allowlist, RunnerOptions options) {
  if (allowlist == nullptr) {
    return absl::InvalidArgumentError("exec: no allowlist");
  }
  const std::string& t = options.trampoline_path;
  if (t.empty() || t.front() != '/') {
    return absl::FailedPreconditionError(absl::StrCat(
        "exec: trampoline path \"", QuoteForMessage(t), "\" is not absolute"));
  }
  struct stat st {};
  if (stat(t.c_str(), &st) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "exec: trampoline ", absl::ErrnoToStatus(errno, t).message()));
  }
  if (!S_ISREG(st.st_mode) || (st.st_mode & S_IXUSR) == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "exec: trampoline ", t, " is not a regular executable file"));
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "exec: trampoline ", t, " is writable by group or others"));
  }
  if (options.drain_grace < absl::ZeroDuration()) {
    options.drain_grace = absl::ZeroDuration();
  }
  return std::unique_ptr<Runner>(
      new Runner(std::move(allowlist), std::move(options)));
}

absl::StatusOr<Result> Runner::Run(
    std::string_view entry_id, const std::vector<std::string>& args,
    const std::map<std::string, std::string>& env,
    const std::optional<std::string>& stdin_bytes) const {
  std::optional<size_t> stdin_size;
  if (stdin_bytes.has_value()) stdin_size = stdin_bytes->size();
  absl::StatusOr<Invocation> inv =
      allowlist_->Validate(entry_id, args, env, stdin_size);
  if (!inv.ok()) return inv.status();
  return Spawn(*inv, stdin_bytes);
}

absl::StatusOr<Result> Runner::Spawn(
    const Invocation& inv,
    const std::optional<std::string>& stdin_bytes) const {
  const Entry& entry = *inv.entry;
  const Limits& lim = entry.limits;

  std::optional<Pipe> in;
  if (stdin_bytes.has_value()) {
    absl::StatusOr<Pipe> p = MakePipe();
    if (!p.ok()) return p.status();
    in = *std::move(p);
  }
  absl::StatusOr<Pipe> out = MakePipe();
  if (!out.ok()) return out.status();
  absl::StatusOr<Pipe> err = MakePipe();
  if (!err.ok()) return err.status();
  absl::StatusOr<Pipe> status = MakePipe();
  if (!status.ok()) return status.status();

  FileActions fa;
  SpawnAttr attr;
  if (!fa.ok() || !attr.ok()) return SysError(ENOMEM, "posix_spawn init");
  int rc = 0;
  if (in.has_value()) {
    rc |= posix_spawn_file_actions_adddup2(fa.get(), in->read.get(), 0);
  } else {
    rc |=
        posix_spawn_file_actions_addopen(fa.get(), 0, "/dev/null", O_RDONLY, 0);
  }
  rc |= posix_spawn_file_actions_adddup2(fa.get(), out->write.get(), 1);
  rc |= posix_spawn_file_actions_adddup2(fa.get(), err->write.get(), 2);
  rc |= posix_spawn_file_actions_adddup2(fa.get(), status->write.get(),
                                         tp::kStatusFd);
  rc |= posix_spawn_file_actions_addclosefrom_np(fa.get(), tp::kStatusFd + 1);
  sigset_t empty;
  sigset_t all;
  (void)sigemptyset(&empty);
  (void)sigfillset(&all);
  rc |= posix_spawnattr_setflags(attr.get(), POSIX_SPAWN_SETPGROUP |
                                                 POSIX_SPAWN_SETSIGMASK |
                                                 POSIX_SPAWN_SETSIGDEF);
  rc |= posix_spawnattr_setpgroup(attr.get(), 0);
  rc |= posix_spawnattr_setsigmask(attr.get(), &empty);
  rc |= posix_spawnattr_setsigdefault(attr.get(), &all);
  if (rc != 0) return SysError(EINVAL, "posix_spawn attributes");

  std::vector<std::string> targv = {options_.trampoline_path,
                                    tp::kProtocolTag,
                                    absl::StrCat(lim.cpu_seconds),
                                    absl::StrCat(lim.address_space_bytes),
                                    absl::StrCat(lim.open_files),
                                    absl::StrCat(lim.processes),
                                    absl::StrCat(lim.file_size_bytes),
                                    entry.no_new_privs ? "1" : "0",
                                    "--",
                                    entry.binary};
  targv.insert(targv.end(), inv.argv.begin(), inv.argv.end());
  std::vector<std::string> envp = inv.envp;
  std::vector<char*> c_argv = CArgv(targv);
  std::vector<char*> c_envp = CArgv(envp);

  const Clock::time_point start = Clock::now();
  pid_t pid = -1;
  const int spawn_err =
      posix_spawn(&pid, options_.trampoline_path.c_str(), fa.get(), attr.get(),
                  c_argv.data(), c_envp.data());
  if (spawn_err != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "exec: cannot start trampoline for entry \"", entry.id, "\": ",
        absl::ErrnoToStatus(spawn_err, options_.trampoline_path).message()));
  }
  // From here on the child exists: every path below kills and reaps it.
  if (in.has_value()) in->read.Close();
  out->write.Close();
  err->write.Close();
  status->write.Close();

  Fd stdin_fd = in.has_value() ? std::move(in->write) : Fd();
  Fd stdout_fd = std::move(out->read);
  Fd stderr_fd = std::move(err->read);
  Fd status_fd = std::move(status->read);
  Fd pidfd(PidfdOpen(pid));
  absl::Status setup = absl::OkStatus();
  for (const Fd* f : {&stdin_fd, &stdout_fd, &stderr_fd, &status_fd}) {
    if (f->valid() && setup.ok()) setup = SetNonBlocking(*f);
  }

  Result result;
  tp::StatusRecord record{};
  size_t record_bytes = 0;
  size_t stdin_off = 0;
  if (stdin_fd.valid() && stdin_bytes->empty()) stdin_fd.Close();
  std::optional<SigpipeBlock> sigpipe;
  if (stdin_fd.valid()) sigpipe.emplace();

  const Clock::duration grace =
      std::chrono::nanoseconds(absl::ToInt64Nanoseconds(options_.drain_grace));
  const Clock::time_point deadline =
      start + std::chrono::milliseconds(lim.timeout_ms);
  Clock::time_point drain_deadline{};
  bool exited = false;  // the child has exited (not yet reaped)
  bool killed = false;  // SIGKILL sent to the group before the child exited
  Clock::time_point kill_limit{};  // give up waiting for the child after this
  if (!setup.ok()) {
    (void)kill(-pid, SIGKILL);
    killed = true;
    kill_limit = Clock::now() + grace;
  }
  const std::unique_ptr<char[]> chunk(new char[kChunk]);

  while (true) {
    Clock::time_point now = Clock::now();
    if (!exited && !killed && now >= deadline) {
      (void)kill(-pid, SIGKILL);
      killed = true;
      kill_limit = now + grace;
      result.timed_out = true;
    }
    if (exited && !stdout_fd.valid() && !stderr_fd.valid() &&
        !status_fd.valid()) {
      break;
    }
    Clock::time_point wake = deadline;
    if (exited) {
      if (now >= drain_deadline) break;
      wake = drain_deadline;
    } else if (killed) {
      // The group was killed; wait for the child to die, bounded (the
      // blocking waitpid below still reaps it).
      if (now >= kill_limit) break;
      wake = kill_limit;
    }

    pollfd fds[5];
    Fd* owners[5];
    nfds_t n = 0;
    auto add = [&](Fd& fd, short events) {
      if (!fd.valid()) return;
      fds[n] = pollfd{fd.get(), events, 0};
      owners[n] = &fd;
      ++n;
    };
    add(stdin_fd, POLLOUT);
    add(stdout_fd, POLLIN);
    add(stderr_fd, POLLIN);
    add(status_fd, POLLIN);
    if (!exited) add(pidfd, POLLIN);
    int timeout = MillisUntil(wake, now);
    if (!exited && !pidfd.valid()) timeout = std::min(timeout, 10);
    const int ready = poll(fds, n, timeout);
    if (ready < 0 && errno != EINTR) {
      setup = SysError(errno, "poll");
      break;
    }

    for (nfds_t i = 0; ready > 0 && i < n; ++i) {
      if (fds[i].revents == 0) continue;
      Fd& fd = *owners[i];
      if (&fd == &stdin_fd) {
        const size_t left = stdin_bytes->size() - stdin_off;
        const ssize_t w = write(fd.get(), stdin_bytes->data() + stdin_off,
                                std::min(left, kChunk));
        if (w > 0) {
          stdin_off += static_cast<size_t>(w);
          if (stdin_off == stdin_bytes->size()) fd.Close();
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
          fd.Close();  // EPIPE: the child closed its stdin
          result.stdin_incomplete = true;
        }
      } else if (&fd == &stdout_fd || &fd == &stderr_fd) {
        const ssize_t r = read(fd.get(), chunk.get(), kChunk);
        if (r > 0) {
          if (&fd == &stdout_fd) {
            Capture(&result.stdout_bytes, lim.stdout_max_bytes, chunk.get(),
                    static_cast<size_t>(r), &result.stdout_truncated);
          } else {
            Capture(&result.stderr_bytes, lim.stderr_max_bytes, chunk.get(),
                    static_cast<size_t>(r), &result.stderr_truncated);
          }
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
          fd.Close();
        }
      } else if (&fd == &status_fd) {
        char* dst = reinterpret_cast<char*>(&record) + record_bytes;
        const size_t room = sizeof(record) - record_bytes;
        const ssize_t r = room > 0 ? read(fd.get(), dst, room)
                                   : read(fd.get(), chunk.get(), kChunk);
        if (r > 0) {
          if (room > 0) record_bytes += static_cast<size_t>(r);
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
          fd.Close();
        }
      }
      // pidfd readiness is handled by the waitid below.
    }

    if (!exited) {
      siginfo_t si{};
      if (waitid(P_PID, static_cast<id_t>(pid), &si,
                 WEXITED | WNOHANG | WNOWAIT) == 0 &&
          si.si_pid == pid) {
        exited = true;
        // The child is a zombie, so its pid (= the process group id) cannot
        // be reused yet: kill whatever it left behind in its group.
        (void)kill(-pid, SIGKILL);
        stdin_fd.Close();
        if (stdin_off < (stdin_bytes.has_value() ? stdin_bytes->size() : 0)) {
          result.stdin_incomplete = true;
        }
        drain_deadline = Clock::now() + grace;
      }
    }
  }

  stdin_fd.Close();
  stdout_fd.Close();
  stderr_fd.Close();
  status_fd.Close();
  if (!exited) (void)kill(-pid, SIGKILL);
  int wstatus = 0;
  pid_t reaped = -1;
  do {
    reaped = waitpid(pid, &wstatus, 0);
  } while (reaped < 0 && errno == EINTR);
  result.duration = absl::FromChrono(Clock::now() - start);
  if (reaped != pid) {
    return absl::InternalError(absl::StrCat(
        "exec: entry \"", entry.id,
        "\": the child was reaped elsewhere (is SIGCHLD ignored, or does "
        "another thread call waitpid(-1)?)"));
  }
  if (!setup.ok()) return setup;

  if (record_bytes == sizeof(record) && record.magic == tp::kStatusMagic) {
    const std::string what = absl::StrCat("exec: entry \"", entry.id,
                                          "\": ", tp::StageName(record.stage),
                                          " for \"", entry.binary, "\" failed");
    const absl::Status s = absl::ErrnoToStatus(record.error, what);
    if (record.stage == tp::kStageExec) return s;
    return absl::FailedPreconditionError(s.message());
  }

  if (WIFEXITED(wstatus)) {
    result.exited = true;
    result.exit_code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    result.signal = WTERMSIG(wstatus);
  }
  return result;
}

}  // namespace virtengine::exec
