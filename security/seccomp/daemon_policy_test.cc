// Runs a realistic workload in a forked child under each daemon policy
// (policy/seccomp/*.textproto), first in report mode (a missing syscall is
// named) then as written (KILL_PROCESS): threads created after the filter
// (clone3 -> ENOSYS -> clone with thread flags), big allocations, file I/O
// with fsync and atomic rename, loopback TCP or Unix sockets with epoll,
// name resolution, and for ve-provider a posix_spawn of real programs.
// Then checks that what each daemon must not do kills it.
//
// This validates the policies against the libraries' and glibc's system
// calls as exercised here, not against the daemons, which do not exist yet.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "security/seccomp/filter.h"
#include "security/seccomp/policy.h"
#include "security/seccomp/test_support.h"

extern char** environ;

namespace virtengine::security::seccomp {
namespace {

using testing::ChildResult;
using testing::RunInChild;

// Writes "step failed: <what>: <errno>" to the report fd and returns `code`.
int Fail(int fd, int code, const char* what) {
  const int err = errno;
  char line[256];
  const int n = std::snprintf(line, sizeof(line), "step failed: %s: %s\n", what,
                              ErrnoText(err).c_str());
  if (n > 0) (void)!write(fd, line, static_cast<size_t>(n));
  return code;
}

#define STEP(cond, code, what) \
  if (!(cond)) return Fail(report_fd, code, what)

std::string TmpDir() {
  const char* d = std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  return d != nullptr ? d : "/tmp";
}

// ---- workload pieces
// ----------------------------------------------------------

// Threads started after the filter: mutex/condvar hand-offs, per-thread
// malloc arenas, sleeps, thread ids, join.
int Threads(int report_fd) {
  std::mutex mu;
  std::condition_variable cv;
  int turn = 0;
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<char> buf(1 << 20, static_cast<char>(t));  // arena + mmap
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      (void)syscall(SYS_gettid);
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return turn == t; });
      ++turn;
      cv.notify_all();
      done += buf[0] == static_cast<char>(t) ? 1 : 0;
    });
  }
  for (std::thread& t : threads) t.join();
  STEP(done == 4, 20, "threads");
  STEP(std::thread::hardware_concurrency() > 0, 21, "hardware_concurrency");
  return 0;
}

// Large allocations (mmap/munmap/mremap), randomness, clocks.
int MemoryAndMisc(int report_fd) {
  auto* big = static_cast<char*>(std::malloc(64 << 20));
  STEP(big != nullptr, 30, "malloc 64 MiB");
  std::memset(big, 1, 64 << 20);
  auto* bigger = static_cast<char*>(std::realloc(big, 128 << 20));  // mremap
  if (bigger == nullptr) std::free(big);
  STEP(bigger != nullptr, 31, "realloc 128 MiB");
  std::free(bigger);
  unsigned char rnd[32];
  STEP(getrandom(rnd, sizeof(rnd), 0) == sizeof(rnd), 32, "getrandom");
  timespec ts{};
  STEP(clock_gettime(CLOCK_MONOTONIC, &ts) == 0, 33, "clock_gettime");
  STEP(syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts) == 0, 34,
       "clock_gettime syscall");
  (void)isatty(STDERR_FILENO);  // ioctl(TCGETS)
  rlimit lim{};
  STEP(getrlimit(RLIMIT_NOFILE, &lim) == 0, 35, "getrlimit");
  return 0;
}

// What security/path does: openat2 beneath a root, write, fchmod, fsync,
// renameat into place, fsync the directory, list, read back, unlinkat.
int FileIo(int report_fd, const std::string& root) {
  const int dir = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  STEP(dir >= 0, 40, "open root");
  STEP(mkdirat(dir, "sub", 0700) == 0 || errno == EEXIST, 41, "mkdirat");
  struct {
    uint64_t flags, mode, resolve;
  } how{O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600,
        0x08 /*RESOLVE_BENEATH*/ | 0x04 /*RESOLVE_NO_SYMLINKS*/};
  const int fd = static_cast<int>(
      syscall(SYS_openat2, dir, "sub/file.tmp", &how, sizeof(how)));
  STEP(fd >= 0, 42, "openat2");
  std::string data(1 << 20, 'x');
  STEP(write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()),
       43, "write");
  STEP(pwrite(fd, "head", 4, 0) == 4, 44, "pwrite");
  STEP(fchmod(fd, 0600) == 0, 45, "fchmod");
  STEP(fsync(fd) == 0, 46, "fsync");
  STEP(fdatasync(fd) == 0, 47, "fdatasync");
  struct stat st {};
  STEP(fstat(fd, &st) == 0 && st.st_size == (1 << 20), 48, "fstat");
  STEP(close(fd) == 0, 49, "close");
  STEP(renameat(dir, "sub/file.tmp", dir, "sub/file") == 0, 50, "renameat");
  STEP(fsync(dir) == 0, 51, "fsync dir");
  const int sub = openat(dir, "sub", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  STEP(sub >= 0, 52, "openat sub");
  DIR* d = fdopendir(sub);
  STEP(d != nullptr, 53, "fdopendir");
  int entries = 0;
  // Only this thread reads this DIR stream.
  while (readdir(d) != nullptr) ++entries;  // NOLINT(concurrency-mt-unsafe)
  closedir(d);
  STEP(entries == 3, 54, "readdir");
  const int rd = openat(dir, "sub/file", O_RDONLY | O_CLOEXEC);
  STEP(rd >= 0, 55, "openat read");
  char head[4];
  STEP(pread(rd, head, 4, 0) == 4 && std::memcmp(head, "head", 4) == 0, 56,
       "pread");
  STEP(lseek(rd, 0, SEEK_END) == (1 << 20), 57, "lseek");
  (void)close(rd);
  STEP(fstatat(dir, "sub/file", &st, 0) == 0, 58, "fstatat");
  STEP(unlinkat(dir, "sub/file", 0) == 0, 59, "unlinkat");
  STEP(unlinkat(dir, "sub", AT_REMOVEDIR) == 0, 60, "unlinkat dir");
  (void)close(dir);
  return 0;
}

// RocksDB- and libraft-style storage calls (ve-node, ve-provider).
int Storage(int report_fd, const std::string& root, bool raft_aio) {
  const std::string db = root + "/db";
  STEP(mkdir(db.c_str(), 0700) == 0 || errno == EEXIST, 70, "mkdir");
  const std::string wal = db + "/000001.log";
  const int fd = open(wal.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  STEP(fd >= 0, 71, "open");
  STEP(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 1 << 20) == 0, 72, "fallocate");
  STEP(write(fd, "record", 6) == 6, 73, "write");
  STEP(sync_file_range(fd, 0, 6, SYNC_FILE_RANGE_WRITE) == 0, 74,
       "sync_file_range");
  STEP(fdatasync(fd) == 0, 75, "fdatasync");
  STEP(posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL) == 0, 76, "fadvise");
  STEP(readahead(fd, 0, 4096) == 0, 77, "readahead");
  STEP(ftruncate(fd, 6) == 0, 78, "ftruncate");
  flock lk{};
  lk.l_type = F_WRLCK;
  lk.l_whence = SEEK_SET;
  STEP(fcntl(fd, F_SETLK, &lk) == 0, 79, "fcntl F_SETLK");
  (void)close(fd);
  STEP(access(wal.c_str(), F_OK) == 0, 80, "access");
  STEP(link(wal.c_str(), (db + "/backup.log").c_str()) == 0, 81, "link");
  STEP(rename((db + "/backup.log").c_str(), (db + "/CURRENT").c_str()) == 0, 82,
       "rename");
  struct statfs sfs {};
  STEP(statfs(db.c_str(), &sfs) == 0, 83, "statfs");
  char cwd[4096];
  STEP(getcwd(cwd, sizeof(cwd)) != nullptr, 84, "getcwd");
  char real[PATH_MAX];
  STEP(realpath(db.c_str(), real) != nullptr, 85, "realpath");
  STEP(unlink((db + "/CURRENT").c_str()) == 0, 86, "unlink");
  STEP(unlink(wal.c_str()) == 0, 87, "unlink wal");
  STEP(rmdir(db.c_str()) == 0, 88, "rmdir");
  if (!raft_aio) return 0;
  // libraft writes its log with Linux AIO.
  aio_context_t ctx = 0;
  STEP(syscall(SYS_io_setup, 8, &ctx) == 0, 89, "io_setup");
  STEP(syscall(SYS_io_destroy, ctx) == 0, 90, "io_destroy");
  return 0;
}

// One echo round trip over a connected stream socket, driven by epoll.
int EchoThroughEpoll(int report_fd, int client, int server_side) {
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  STEP(ep >= 0, 100, "epoll_create1");
  const int ev = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  STEP(ev >= 0, 101, "eventfd");
  epoll_event e{};
  e.events = EPOLLIN;
  e.data.fd = server_side;
  STEP(epoll_ctl(ep, EPOLL_CTL_ADD, server_side, &e) == 0, 102, "epoll_ctl");
  e.data.fd = ev;
  STEP(epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e) == 0, 103, "epoll_ctl eventfd");
  std::thread writer([&] {
    const char msg[] = "ping";
    iovec iov{const_cast<char*>(msg), 4};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    (void)sendmsg(client, &mh, MSG_NOSIGNAL);
    const uint64_t one = 1;
    (void)!write(ev, &one, sizeof(one));
  });
  int got_data = 0;
  int got_event = 0;
  for (int i = 0; i < 10 && (got_data == 0 || got_event == 0); ++i) {
    epoll_event out[4];
    const int n = epoll_wait(ep, out, 4, 10000);
    STEP(n > 0, 104, "epoll_wait");
    for (int k = 0; k < n; ++k) {
      if (out[k].data.fd == ev) {
        uint64_t v;
        (void)!read(ev, &v, sizeof(v));
        got_event = 1;
      } else {
        char buf[8];
        iovec iov{buf, sizeof(buf)};
        msghdr mh{};
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        const ssize_t r = recvmsg(server_side, &mh, 0);
        STEP(r == 4 && std::memcmp(buf, "ping", 4) == 0, 105, "recvmsg");
        STEP(write(server_side, "pong", 4) == 4, 106, "write reply");
        got_data = 1;
      }
    }
  }
  writer.join();
  char reply[4];
  STEP(read(client, reply, 4) == 4 && std::memcmp(reply, "pong", 4) == 0, 107,
       "read reply");
  pollfd pfd{client, POLLOUT, 0};
  STEP(poll(&pfd, 1, 1000) == 1, 108, "poll");
  STEP(shutdown(client, SHUT_RDWR) == 0, 109, "shutdown");
  (void)close(ev);
  (void)close(ep);
  return 0;
}

// A TCP server on 127.0.0.1 (bind, listen, accept4) and its own client.
int TcpLoopback(int report_fd) {
  const int lst = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  STEP(lst >= 0, 110, "socket");
  const int one = 1;
  STEP(setsockopt(lst, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0, 111,
       "setsockopt");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  STEP(bind(lst, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0, 112,
       "bind");
  STEP(listen(lst, 16) == 0, 113, "listen");
  socklen_t len = sizeof(addr);
  STEP(getsockname(lst, reinterpret_cast<sockaddr*>(&addr), &len) == 0, 114,
       "getsockname");
  const int cli = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  STEP(cli >= 0, 115, "socket client");
  STEP(setsockopt(cli, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0, 116,
       "TCP_NODELAY");
  STEP(connect(cli, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0, 117,
       "connect");
  const int srv = accept4(lst, nullptr, nullptr, SOCK_CLOEXEC);
  STEP(srv >= 0, 118, "accept4");
  sockaddr_in peer{};
  len = sizeof(peer);
  STEP(getpeername(srv, reinterpret_cast<sockaddr*>(&peer), &len) == 0, 119,
       "getpeername");
  int err = 0;
  len = sizeof(err);
  STEP(getsockopt(cli, SOL_SOCKET, SO_ERROR, &err, &len) == 0, 120,
       "getsockopt");
  int nb = 1;
  STEP(ioctl(cli, FIONBIO, &nb) == 0, 121, "ioctl FIONBIO");  // libuv
  nb = 0;
  STEP(ioctl(cli, FIONBIO, &nb) == 0, 122, "ioctl FIONBIO off");
  const int rc = EchoThroughEpoll(report_fd, cli, srv);
  if (rc != 0) return rc;
  (void)close(srv);
  (void)close(cli);
  (void)close(lst);
  return 0;
}

// A client of a TCP server that runs in the test process (vectl).
int TcpClient(int report_fd, uint16_t port) {
  const int cli = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  STEP(cli >= 0, 130, "socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  STEP(connect(cli, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0, 131,
       "connect");
  const char msg[] = "ping";
  STEP(send(cli, msg, 4, MSG_NOSIGNAL) == 4, 132, "send");
  char reply[4];
  STEP(recv(cli, reply, 4, MSG_WAITALL) == 4 &&
           std::memcmp(reply, "ping", 4) == 0,
       133, "recv");
  (void)close(cli);
  return 0;
}

// Name resolution through glibc (files, netlink for AI_ADDRCONFIG).
int Resolve(int report_fd) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  const int rc = getaddrinfo("localhost", "9090", &hints, &res);
  // Resolution may legitimately fail in a bare sandbox; being killed may not.
  if (rc == 0) freeaddrinfo(res);
  (void)report_fd;
  return 0;
}

// ve-enclave: the Unix socket is bound during start-up (before the filter);
// afterwards connections are accepted and made.
struct UnixServer {
  int fd = -1;
  sockaddr_un addr{};
};

// An abstract-namespace name: TEST_TMPDIR paths can exceed sun_path.
UnixServer BindUnix() {
  UnixServer s;
  s.addr.sun_family = AF_UNIX;
  (void)std::snprintf(s.addr.sun_path + 1, sizeof(s.addr.sun_path) - 1,
                      "ve-enclave-test-%d", static_cast<int>(getpid()));
  s.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s.fd < 0 ||
      bind(s.fd, reinterpret_cast<sockaddr*>(&s.addr), sizeof(s.addr)) != 0 ||
      listen(s.fd, 8) != 0) {
    s.fd = -1;
  }
  return s;
}

int UnixSockets(int report_fd, const UnixServer& server) {
  STEP(server.fd >= 0, 140, "unix server from start-up");
  const int cli = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  STEP(cli >= 0, 141, "socket AF_UNIX");
  STEP(connect(cli, reinterpret_cast<const sockaddr*>(&server.addr),
               sizeof(server.addr)) == 0,
       142, "connect");
  const int srv = accept4(server.fd, nullptr, nullptr, SOCK_CLOEXEC);
  STEP(srv >= 0, 143, "accept4");
  const int rc = EchoThroughEpoll(report_fd, cli, srv);
  if (rc != 0) return rc;
  (void)close(srv);
  (void)close(cli);
  int pair[2];
  STEP(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0, 144,
       "socketpair");
  (void)close(pair[0]);
  (void)close(pair[1]);
  return 0;
}

// ve-provider: what security/exec does. posix_spawn (CLONE_VM|CLONE_VFORK
// via clone after clone3's ENOSYS), the program runs under the inherited
// filter, waitpid; a child past its timeout gets SIGTERM.
int Spawn(int report_fd) {
  posix_spawnattr_t attr;
  STEP(posix_spawnattr_init(&attr) == 0, 150, "spawnattr");
  sigset_t none;
  sigemptyset(&none);
  sigset_t all;
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
                                      POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
  char* envp[] = {nullptr};
  char true_path[] = "/bin/true";
  char* true_argv[] = {true_path, nullptr};
  pid_t pid = -1;
  STEP(posix_spawn(&pid, true_path, nullptr, &attr, true_argv, envp) == 0, 151,
       "posix_spawn /bin/true");
  int status = 0;
  STEP(waitpid(pid, &status, 0) == pid, 152, "waitpid");
  if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
    char line[128];
    const int n = std::snprintf(line, sizeof(line),
                                "step failed: /bin/true status 0x%x\n", status);
    (void)!write(report_fd, line, static_cast<size_t>(n));
    return 153;
  }
  // As security/exec's runner: stdio through dup2 file actions, every other
  // descriptor closed (closefrom -> close_range), a pidfd to wait on, the
  // exit noticed with waitid(WNOWAIT), then the group killed and reaped.
  int out[2];
  STEP(pipe2(out, O_CLOEXEC) == 0, 154, "pipe2");
  posix_spawn_file_actions_t fa;
  STEP(posix_spawn_file_actions_init(&fa) == 0, 155, "file actions");
  posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  char echo_path[] = "/bin/echo";
  char word[] = "spawned";
  char* echo_argv[] = {echo_path, word, nullptr};
  STEP(posix_spawn(&pid, echo_path, &fa, &attr, echo_argv, envp) == 0, 156,
       "posix_spawn /bin/echo");
  (void)close(out[1]);
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  STEP(pidfd >= 0, 157, "pidfd_open");
  pollfd pfd{pidfd, POLLIN, 0};
  STEP(poll(&pfd, 1, 30000) == 1, 158, "poll pidfd");
  char buf[16] = {};
  STEP(read(out[0], buf, sizeof(buf)) == 8 &&
           std::memcmp(buf, "spawned\n", 8) == 0,
       159, "child output");
  siginfo_t info{};
  STEP(waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) == 0,
       160, "waitid WNOWAIT");
  (void)kill(-pid, SIGKILL);  // the group: nothing the child left behind
  STEP(waitpid(pid, &status, 0) == pid && WIFEXITED(status), 161, "reap echo");
  (void)close(pidfd);
  (void)close(out[0]);
  posix_spawn_file_actions_destroy(&fa);

  // A child past its timeout.
  char sleep_path[] = "/bin/sleep";
  char arg[] = "30";
  char* sleep_argv[] = {sleep_path, arg, nullptr};
  STEP(posix_spawn(&pid, sleep_path, nullptr, &attr, sleep_argv, envp) == 0,
       162, "posix_spawn /bin/sleep");
  STEP(kill(pid, 0) == 0, 163, "kill 0");
  STEP(kill(pid, SIGTERM) == 0, 164, "kill SIGTERM");
  STEP(waitpid(pid, &status, 0) == pid, 165, "waitpid sleep");
  STEP(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, 166,
       "sleep ended by SIGTERM");

  // What ve-exec-trampoline does to itself before execve.
  STEP(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, 167, "PR_SET_NO_NEW_PRIVS");
  rlimit core{0, 0};
  STEP(setrlimit(RLIMIT_CORE, &core) == 0, 168, "setrlimit RLIMIT_CORE");
  posix_spawnattr_destroy(&attr);
  return 0;
}

#undef STEP

// ---- the runs
// -----------------------------------------------------------------

enum class Net { kTcpServer, kTcpClient, kUnix };

struct Daemon {
  const char* name;
  Net net;
  bool storage;
  bool raft_aio;
  bool spawn;
  bool resolve;
};

constexpr Daemon kDaemons[] = {
    {"ve-node", Net::kTcpServer, true, true, false, true},
    {"ve-provider", Net::kTcpServer, true, false, true, true},
    {"ve-enclave", Net::kUnix, false, false, false, false},
    {"vectl", Net::kTcpClient, false, false, false, true},
};

// A TCP echo server in the test process for the client-only daemon.
class EchoServer {
 public:
  EchoServer() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd_ < 0 ||
        bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        listen(fd_, 4) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      for (;;) {
        const int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) return;
        char buf[64];
        const ssize_t n = read(c, buf, sizeof(buf));
        if (n > 0) (void)!write(c, buf, static_cast<size_t>(n));
        (void)close(c);
      }
    });
  }
  ~EchoServer() {
    if (fd_ >= 0) (void)shutdown(fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) (void)close(fd_);
  }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

class DaemonWorkloadTest : public ::testing::TestWithParam<Daemon> {};

TEST_P(DaemonWorkloadTest, RealisticWorkloadRunsUnderThePolicy) {
  const Daemon& d = GetParam();
  absl::StatusOr<Policy> policy = testing::ReadDaemonPolicy(d.name);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EchoServer echo;
  ASSERT_NE(echo.port(), 0);
  for (Mode mode : {Mode::kReport, Mode::kEnforce}) {
    SCOPED_TRACE(std::string(d.name) + " in " + ModeName(mode) + " mode");
    const std::string root = TmpDir() + "/" + d.name + "-" + ModeName(mode);
    ASSERT_EQ(mkdir(root.c_str(), 0700), 0) << ErrnoText(errno);
    const ChildResult r = RunInChild([&](int report_fd) {
      // Start-up: what a daemon does before it drops to its allowlist.
      const UnixServer unix_server =
          d.net == Net::kUnix ? BindUnix() : UnixServer{};
      const absl::Status st = LoadPolicy(*policy, {mode, report_fd});
      if (!st.ok()) {
        const std::string msg = std::string(st.message()) + "\n";
        (void)!write(report_fd, msg.data(), msg.size());
        return 2;
      }
      int rc = Threads(report_fd);
      if (rc == 0) rc = MemoryAndMisc(report_fd);
      if (rc == 0) rc = FileIo(report_fd, root);
      if (rc == 0 && d.storage) rc = Storage(report_fd, root, d.raft_aio);
      if (rc == 0 && d.net == Net::kTcpServer) rc = TcpLoopback(report_fd);
      if (rc == 0 && d.net == Net::kTcpClient) {
        rc = TcpClient(report_fd, echo.port());
      }
      if (rc == 0 && d.net == Net::kUnix)
        rc = UnixSockets(report_fd, unix_server);
      if (rc == 0 && d.resolve) rc = Resolve(report_fd);
      if (rc == 0 && d.spawn) rc = Spawn(report_fd);
      if (rc == 0) rc = Threads(report_fd);  // again, after everything else
      return rc;
    });
    EXPECT_TRUE(r.exited && r.exit_code == 0) << r.Describe();
    EXPECT_FALSE(r.ReportedSyscall().has_value()) << r.Describe();
  }
}

INSTANTIATE_TEST_SUITE_P(Daemons, DaemonWorkloadTest,
                         ::testing::ValuesIn(kDaemons),
                         [](const ::testing::TestParamInfo<Daemon>& info) {
                           std::string n = info.param.name;
                           for (char& c : n) {
                             if (c == '-') c = '_';
                           }
                           return n;
                         });

// ---- what each daemon must not do
// ---------------------------------------------

struct Forbidden {
  const char* daemon;
  const char* what;
  int syscall_nr;  // the syscall the report must name
  int (*call)();
};

int DoSocketInet() { return socket(AF_INET, SOCK_STREAM, 0); }
int DoSocketInet6() { return socket(AF_INET6, SOCK_DGRAM, 0); }
int DoSocketPacket() { return socket(AF_PACKET, SOCK_RAW, 0); }
int DoExecve() {
  char path[] = "/bin/true";
  char* argv[] = {path, nullptr};
  return execve(path, argv, environ);
}
int DoFork() {
  const pid_t pid = fork();
  if (pid == 0) _exit(0);
  return pid;
}
int DoVfork() { return static_cast<int>(syscall(SYS_vfork)); }
int DoExecMemory() {
  void* p = mmap(nullptr, 4096, PROT_READ | PROT_EXEC,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? -1 : 0;
}
int DoMprotectExec() {
  static char page[4096] __attribute__((aligned(4096)));
  return mprotect(page, sizeof(page), PROT_READ | PROT_WRITE | PROT_EXEC);
}
int DoBind() {
  const int s = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  return bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(sa_family_t));
}
int DoListen() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  return listen(s, 1);
}
int DoIoUring() {
  char params[120] = {};
  return static_cast<int>(syscall(SYS_io_uring_setup, 8, params));
}
int DoPtrace() { return static_cast<int>(syscall(SYS_ptrace, 0, 0, 0, 0)); }
int DoTiocsti() {
  char c = 'x';
  return ioctl(STDIN_FILENO, TIOCSTI, &c);
}
int DoUnshare() { return unshare(CLONE_NEWUSER); }
int DoKillOther() { return kill(getppid(), SIGUSR1); }
int DoSetrlimitOther() {
  rlimit lim{1024, 1024};
  return prlimit(1, RLIMIT_NOFILE, &lim, nullptr);
}

const Forbidden kForbidden[] = {
    {"ve-enclave", "socket(AF_INET)", SYS_socket, DoSocketInet},
    {"ve-enclave", "socket(AF_INET6)", SYS_socket, DoSocketInet6},
    {"ve-enclave", "execve", SYS_execve, DoExecve},
    {"ve-enclave", "fork", SYS_clone, DoFork},
    {"ve-enclave", "vfork", SYS_vfork, DoVfork},
    {"ve-enclave", "mmap(PROT_EXEC)", SYS_mmap, DoExecMemory},
    {"ve-enclave", "mprotect(PROT_EXEC)", SYS_mprotect, DoMprotectExec},
    {"ve-enclave", "bind after start-up", SYS_bind, DoBind},
    {"ve-enclave", "io_uring_setup", SYS_io_uring_setup, DoIoUring},
    {"ve-node", "execve", SYS_execve, DoExecve},
    {"ve-node", "fork", SYS_clone, DoFork},
    {"ve-node", "socket(AF_PACKET)", SYS_socket, DoSocketPacket},
    {"ve-node", "io_uring_setup", SYS_io_uring_setup, DoIoUring},
    {"ve-node", "ptrace", SYS_ptrace, DoPtrace},
    {"ve-node", "ioctl(TIOCSTI)", SYS_ioctl, DoTiocsti},
    {"ve-node", "unshare", SYS_unshare, DoUnshare},
    {"ve-node", "prlimit64 on another process", SYS_prlimit64,
     DoSetrlimitOther},
    {"ve-provider", "fork", SYS_clone, DoFork},
    {"ve-provider", "vfork", SYS_vfork, DoVfork},
    {"ve-provider", "kill(SIGUSR1)", SYS_kill, DoKillOther},
    {"ve-provider", "io_uring_setup", SYS_io_uring_setup, DoIoUring},
    {"ve-provider", "socket(AF_PACKET)", SYS_socket, DoSocketPacket},
    {"vectl", "listen", SYS_listen, DoListen},
    {"vectl", "execve", SYS_execve, DoExecve},
    {"vectl", "fork", SYS_clone, DoFork},
};

class ForbiddenTest : public ::testing::TestWithParam<Forbidden> {};

TEST_P(ForbiddenTest, KillsAndReportsTheSyscall) {
  const Forbidden& f = GetParam();
  absl::StatusOr<Policy> policy = testing::ReadDaemonPolicy(f.daemon);
  ASSERT_TRUE(policy.ok()) << policy.status();
  for (Mode mode : {Mode::kEnforce, Mode::kReport}) {
    SCOPED_TRACE(std::string(f.daemon) + " " + f.what + " in " +
                 ModeName(mode) + " mode");
    const ChildResult r = RunInChild([&](int report_fd) {
      if (!LoadPolicy(*policy, {mode, report_fd}).ok()) return 2;
      (void)!write(report_fd, "loaded\n", 7);
      (void)f.call();
      (void)!write(report_fd, "survived\n", 9);
      return 0;
    });
    EXPECT_TRUE(r.KilledBySigsys()) << r.Describe();
    EXPECT_NE(r.report.find("loaded"), std::string::npos) << r.Describe();
    EXPECT_EQ(r.report.find("survived"), std::string::npos) << r.Describe();
    if (mode == Mode::kReport) {
      EXPECT_EQ(r.ReportedSyscall(), f.syscall_nr)
          << "want " << testing::SyscallName(f.syscall_nr) << ": "
          << r.Describe();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Daemons, ForbiddenTest,
                         ::testing::ValuesIn(kForbidden),
                         [](const ::testing::TestParamInfo<Forbidden>& info) {
                           std::string n = std::string(info.param.daemon) +
                                           "_" + info.param.what;
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c)))
                               c = '_';
                           }
                           return n + "_" + std::to_string(info.index);
                         });

TEST(EnclaveTest, Clone3FailsWithEnosysAndThreadsStillStart) {
  absl::StatusOr<Policy> policy = testing::ReadDaemonPolicy("ve-enclave");
  ASSERT_TRUE(policy.ok()) << policy.status();
  const ChildResult r = RunInChild([&](int report_fd) {
    if (!LoadPolicy(*policy, {Mode::kReport, report_fd}).ok()) return 2;
    errno = 0;
    if (syscall(SYS_clone3, nullptr, 0) != -1 || errno != ENOSYS) return 3;
    int x = 0;
    std::thread t([&] { x = 1; });
    t.join();
    return x == 1 ? 0 : 4;
  });
  EXPECT_TRUE(r.exited && r.exit_code == 0) << r.Describe();
}

}  // namespace
}  // namespace virtengine::security::seccomp
