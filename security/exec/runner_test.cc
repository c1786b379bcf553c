// The runner against real processes: the test allowlist in
// testdata/test.textproto (with @TMPDIR@ replaced by TEST_TMPDIR) and the
// real ve-exec-trampoline from this package.
#include "security/exec/runner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "security/exec/policy.h"

namespace virtengine::exec {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Cwd() {
  char buf[PATH_MAX];
  return getcwd(buf, sizeof(buf)) == nullptr ? "" : std::string(buf);
}

std::string TmpDir() {
  const char* t = std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  char real[PATH_MAX];
  if (t == nullptr || realpath(t, real) == nullptr) return "/tmp";
  return real;
}

// True once /proc/<pid> is gone or a zombie (dead, awaiting its new parent).
// Waits up to 10 s for the kernel to finish delivering SIGKILL.
bool ProcessGone(pid_t pid) {
  for (int i = 0; i < 1000; ++i) {
    std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
    std::string line;
    if (!stat || !std::getline(stat, line)) return true;
    const size_t paren = line.rfind(')');
    if (paren != std::string::npos && paren + 2 < line.size() &&
        (line[paren + 2] == 'Z' || line[paren + 2] == 'X')) {
      return true;
    }
    usleep(10 * 1000);
  }
  return false;
}

class RunnerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string text =
        absl::StrReplaceAll(ReadFile("security/exec/testdata/test.textproto"),
                            {{"@TMPDIR@", TmpDir()}});
    ASSERT_FALSE(text.empty());
    CommandPolicy::Options options;
    options.allow_interpreters = true;  // the test allowlist runs /bin/sh
    absl::StatusOr<CommandPolicy> policy =
        CommandPolicy::Parse(text, "testdata/test.textproto", options);
    ASSERT_TRUE(policy.ok()) << policy.status();
    auto list = std::make_shared<Allowlist>();
    ASSERT_TRUE(list->Add(*policy).ok());
    RunnerOptions ro;
    ro.trampoline_path = Cwd() + "/security/exec/ve-exec-trampoline";
    absl::StatusOr<std::unique_ptr<Runner>> r = Runner::Create(list, ro);
    ASSERT_TRUE(r.ok()) << r.status();
    runner_ = r->release();
  }
  static void TearDownTestSuite() {
    delete runner_;
    runner_ = nullptr;
  }

  static Result MustRun(const std::string& id,
                        const std::vector<std::string>& args = {},
                        const std::map<std::string, std::string>& env = {},
                        const std::optional<std::string>& in = std::nullopt) {
    absl::StatusOr<Result> r = runner_->Run(id, args, env, in);
    EXPECT_TRUE(r.ok()) << id << ": " << r.status();
    return r.ok() ? *std::move(r) : Result();
  }

  static Runner* runner_;
};

Runner* RunnerTest::runner_ = nullptr;

TEST_F(RunnerTest, RunsTheBinaryWithTheValidatedArgv) {
  const Result r = MustRun("test.echo", {"world"});
  EXPECT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.signal, 0);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.stdout_bytes, "hello world\n");
  EXPECT_EQ(r.stderr_bytes, "");
  EXPECT_FALSE(r.stdout_truncated);
  EXPECT_GT(r.duration, absl::ZeroDuration());

  const Result w = MustRun("test.echo_words", {"a", "b=c", "/x/y"});
  EXPECT_EQ(w.stdout_bytes, "a b=c /x/y\n");
}

TEST_F(RunnerTest, RefusedRequestsStartNothing) {
  const std::vector<std::vector<std::string>> attacks = {
      {"x; touch /tmp/pwned"},
      {"$(id)"},
      {"`id`"},
      {"a\nb"},
      {std::string("a\0b", 3)},
      {"a|b"},
      {"a&b"},
      {"--output=/etc/x"},
      {"-n"},
      {},
      {"a", "b"},
      {std::string(65, 'a')},
  };
  for (const auto& args : attacks) {
    absl::StatusOr<Result> r = runner_->Run("test.echo", args);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied)
        << r.status();
  }
  absl::StatusOr<Result> unknown = runner_->Run("test.nope", {});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(unknown.status().message(), "no allowlist entry \"test.nope\"");
  // Words are fixed: a metacharacter in an allowed string is refused here
  // because echo_words does not opt in.
  EXPECT_FALSE(runner_->Run("test.echo_words", {"a;b"}).ok());
}

TEST_F(RunnerTest, EnvironmentIsEmptyExceptNamedVariables) {
  // This test process has PATH, HOME, TEST_TMPDIR, ... none may leak.
  ASSERT_NE(std::getenv("PATH"), nullptr);  // NOLINT(concurrency-mt-unsafe)
  const Result bare = MustRun("test.env");
  EXPECT_EQ(bare.stdout_bytes, "LC_ALL=C\n");
  const Result named =
      MustRun("test.env", {}, {{"FOO", "bar_1"}, {"BAR", "7"}});
  EXPECT_EQ(named.stdout_bytes, "BAR=7\nFOO=bar_1\nLC_ALL=C\n");
  absl::StatusOr<Result> path =
      runner_->Run("test.env", {}, {{"PATH", "/tmp"}}, std::nullopt);
  EXPECT_EQ(path.status().code(), absl::StatusCode::kPermissionDenied);
  absl::StatusOr<Result> bad =
      runner_->Run("test.env", {}, {{"FOO", "a b"}}, std::nullopt);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(RunnerTest, StdinIsDeliveredAndBinarySafe) {
  const std::string bytes("abc\0def\n\xff", 9);
  const Result r = MustRun("test.cat", {}, {}, bytes);
  EXPECT_EQ(r.stdout_bytes, bytes);
  EXPECT_FALSE(r.stdin_incomplete);
  // Without stdin bytes, stdin is /dev/null.
  EXPECT_EQ(MustRun("test.cat").stdout_bytes, "");
  // Empty stdin: EOF at once.
  EXPECT_EQ(MustRun("test.cat", {}, {}, std::string()).stdout_bytes, "");
  // Refused: an entry without stdin, or too much of it.
  EXPECT_EQ(
      runner_->Run("test.echo", {"x"}, {}, std::string("x")).status().code(),
      absl::StatusCode::kPermissionDenied);
  std::string too_much;
  too_much.resize(8388609, 'x');  // one byte over test.cat's stdin limit
  EXPECT_EQ(runner_->Run("test.cat", {}, {}, too_much).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(RunnerTest, LargeStdinAndStdoutAtOnceDoNotDeadlock) {
  // 8 MiB through cat: far beyond the pipe buffers in both directions.
  std::string big;
  big.resize(size_t{8} * 1024 * 1024);
  for (size_t i = 0; i < big.size(); ++i) {
    big[i] = static_cast<char>((i * 131) % 251);
  }
  const Result r = MustRun("test.cat", {}, {}, big);
  EXPECT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_FALSE(r.stdout_truncated);
  EXPECT_TRUE(r.stdout_bytes == big) << "size " << r.stdout_bytes.size();
}

TEST_F(RunnerTest, OutputIsCappedAndTheRestDrained) {
  const Result flood = MustRun("test.sh_flood");
  EXPECT_TRUE(flood.exited);
  EXPECT_EQ(flood.exit_code, 0);  // the writer was never blocked
  EXPECT_EQ(flood.stdout_bytes, std::string(1000, '\0'));
  EXPECT_TRUE(flood.stdout_truncated);
  EXPECT_EQ(flood.stderr_bytes.size(), 10U);
  EXPECT_TRUE(flood.stderr_truncated);

  const Result capped =
      MustRun("test.cat_capped", {}, {}, std::string(999, 'a'));
  EXPECT_EQ(capped.stdout_bytes.size(), 999U);
  EXPECT_FALSE(capped.stdout_truncated);
  const Result exact =
      MustRun("test.cat_capped", {}, {}, std::string(1000, 'a'));
  EXPECT_FALSE(exact.stdout_truncated);
  const Result over =
      MustRun("test.cat_capped", {}, {}, std::string(1001, 'a'));
  EXPECT_EQ(over.stdout_bytes.size(), 1000U);
  EXPECT_TRUE(over.stdout_truncated);
}

TEST_F(RunnerTest, ChildClosingStdinEarlyIsNotFatal) {
  // /bin/true never reads: the runner gets EPIPE (SIGPIPE is blocked for the
  // write and consumed), and this process survives.
  const Result r =
      MustRun("test.true_stdin", {}, {}, std::string(4194304, 'x'));
  EXPECT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(r.stdin_incomplete);
  sigset_t pending;
  sigemptyset(&pending);
  ASSERT_EQ(sigpending(&pending), 0);
  EXPECT_EQ(sigismember(&pending, SIGPIPE), 0);
}

TEST_F(RunnerTest, ExitCodesSignalsAndStderr) {
  const Result r = MustRun("test.sh_exit", {"3"});
  EXPECT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.stdout_bytes, "out\n");
  EXPECT_EQ(r.stderr_bytes, "err\n");
  const Result s = MustRun("test.sh_signal");
  EXPECT_FALSE(s.exited);
  EXPECT_EQ(s.signal, SIGTERM);
  EXPECT_FALSE(s.timed_out);
}

TEST_F(RunnerTest, OnlyStdioReachesTheChild) {
  const std::string leak = TmpDir() + "/leaked-fd-marker";
  // Descriptors this process leaves open without O_CLOEXEC: the lowest free
  // one (likely 3, which the runner's own dup2 would hide) and a high one.
  const int fd = open(leak.c_str(), O_CREAT | O_RDWR, 0600);  // no O_CLOEXEC
  ASSERT_GE(fd, 0);
  const int high = fcntl(fd, F_DUPFD, 40);  // F_DUPFD: no close-on-exec
  ASSERT_GE(high, 40);
  const Result r = MustRun("test.ls_fd");
  (void)close(high);
  (void)close(fd);
  EXPECT_EQ(r.exit_code, 0) << r.stderr_bytes;
  EXPECT_FALSE(absl::StrContains(r.stdout_bytes, "leaked-fd-marker"))
      << r.stdout_bytes;
  // Every entry other than 0, 1, 2 is ls's own directory handle.
  int listed = 0;
  for (absl::string_view line : absl::StrSplit(r.stdout_bytes, '\n')) {
    if (!absl::StrContains(line, " -> ")) continue;
    ++listed;
    const std::vector<std::string> parts = absl::StrSplit(line, ' ');
    ASSERT_GE(parts.size(), 3U);
    const std::string& name = parts[parts.size() - 3];
    const std::string& target = parts.back();
    if (name == "0") {
      EXPECT_EQ(target, "/dev/null");
    } else if (name == "1" || name == "2") {
      EXPECT_TRUE(absl::StartsWith(target, "pipe:")) << line;
    } else {
      EXPECT_TRUE(absl::StartsWith(target, "/proc/")) << "leaked: " << line;
    }
  }
  EXPECT_GE(listed, 3);
  EXPECT_LE(listed, 4);
}

// Reads "Max <name>   <soft>   <hard>   <unit>" from /proc/<pid>/limits text.
std::pair<std::string, std::string> Limit(const std::string& limits,
                                          const std::string& name) {
  for (absl::string_view line : absl::StrSplit(limits, '\n')) {
    if (!absl::StartsWith(line, name)) continue;
    std::vector<std::string> f =
        absl::StrSplit(line.substr(name.size()), ' ', absl::SkipEmpty());
    if (f.size() >= 2) return {f[0], f[1]};
  }
  return {"?", "?"};
}

TEST_F(RunnerTest, RlimitsAreInForceInTheTarget) {
  const Result r = MustRun("test.limits");
  ASSERT_EQ(r.exit_code, 0) << r.stderr_bytes;
  const std::string& l = r.stdout_bytes;
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(Limit(l, "Max cpu time"), P("7", "7")) << l;
  EXPECT_EQ(Limit(l, "Max address space"), P("1073741824", "1073741824"));
  EXPECT_EQ(Limit(l, "Max open files"), P("37", "37"));
  EXPECT_EQ(Limit(l, "Max processes"), P("4099", "4099"));
  EXPECT_EQ(Limit(l, "Max file size"), P("123456", "123456"));
  EXPECT_EQ(Limit(l, "Max core file size"), P("0", "0"));
}

TEST_F(RunnerTest, NoNewPrivsIsSetByDefault) {
  const Result r = MustRun("test.no_new_privs");
  EXPECT_TRUE(absl::StrContains(r.stdout_bytes, "NoNewPrivs:\t1"))
      << r.stdout_bytes;
}

TEST_F(RunnerTest, FileSizeLimitIsEnforced) {
  const std::string file = TmpDir() + "/fsize-out";
  const Result r = MustRun("test.sh_fsize", {file});
  EXPECT_FALSE(r.exited);
  EXPECT_EQ(r.signal, SIGXFSZ);
  struct stat st {};
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 4096);
}

TEST_F(RunnerTest, CpuLimitIsEnforced) {
  const Result r = MustRun("test.sh_cpu");
  EXPECT_FALSE(r.exited);
  EXPECT_TRUE(r.signal == SIGXCPU || r.signal == SIGKILL) << r.signal;
  EXPECT_FALSE(r.timed_out);
}

TEST_F(RunnerTest, TimeoutKillsTheWholeProcessGroup) {
  // sh starts "sleep 1000" in the background, prints its pid and waits; the
  // 1.5 s timeout must kill sh and the grandchild.
  const Result r = MustRun("test.sh_grandchild");
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.exited);
  EXPECT_EQ(r.signal, SIGKILL);
  int grandchild = 0;
  ASSERT_TRUE(
      absl::SimpleAtoi(absl::StripAsciiWhitespace(r.stdout_bytes), &grandchild))
      << "stdout: " << r.stdout_bytes;
  ASSERT_GT(grandchild, 1);
  EXPECT_TRUE(ProcessGone(grandchild)) << "grandchild " << grandchild;
}

TEST_F(RunnerTest, NothingOutlivesANormalExit) {
  // sh leaves "sleep 1000" behind (stdio detached) and exits at once: the
  // runner kills the rest of the group before reaping sh.
  const Result r = MustRun("test.sh_orphan");
  EXPECT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_FALSE(r.timed_out);
  int grandchild = 0;
  ASSERT_TRUE(
      absl::SimpleAtoi(absl::StripAsciiWhitespace(r.stdout_bytes), &grandchild))
      << "stdout: " << r.stdout_bytes;
  EXPECT_TRUE(ProcessGone(grandchild)) << "grandchild " << grandchild;
}

TEST_F(RunnerTest, MissingBinaryIsReportedNotRun) {
  absl::StatusOr<Result> r = runner_->Run("test.missing", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound) << r.status();
  EXPECT_TRUE(absl::StrContains(
      r.status().message(),
      "entry \"test.missing\": execve for \"/nonexistent/bin/tool\" failed"))
      << r.status();
}

TEST_F(RunnerTest, ConcurrentRunsDoNotMix) {
  std::vector<std::thread> threads;
  threads.reserve(8);
  std::vector<std::string> outputs(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([t, &outputs] {
      std::string all;
      for (int i = 0; i < 5; ++i) {
        absl::StatusOr<Result> r =
            runner_->Run("test.echo", {absl::StrCat("t", t, "_", i)});
        all += r.ok() ? r->stdout_bytes : r.status().ToString();
      }
      outputs[t] = all;
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < 8; ++t) {
    std::string want;
    for (int i = 0; i < 5; ++i)
      absl::StrAppend(&want, "hello t", t, "_", i, "\n");
    EXPECT_EQ(outputs[t], want);
  }
}

TEST(RunnerCreateTest, TrampolineMustBeSafe) {
  auto list = std::make_shared<Allowlist>();
  RunnerOptions relative;
  relative.trampoline_path = "security/exec/ve-exec-trampoline";
  EXPECT_EQ(Runner::Create(list, relative).status().code(),
            absl::StatusCode::kFailedPrecondition);
  RunnerOptions missing;
  missing.trampoline_path = "/nonexistent/ve-exec-trampoline";
  EXPECT_EQ(Runner::Create(list, missing).status().code(),
            absl::StatusCode::kFailedPrecondition);
  const std::string writable = TmpDir() + "/writable-trampoline";
  const int fd = open(writable.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0777);
  ASSERT_GE(fd, 0);
  (void)close(fd);
  ASSERT_EQ(chmod(writable.c_str(), 0777), 0);
  RunnerOptions world;
  world.trampoline_path = writable;
  const absl::Status s = Runner::Create(list, world).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(s.message(), "writable by group or others"));
  EXPECT_EQ(Runner::Create(nullptr, RunnerOptions()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace virtengine::exec
