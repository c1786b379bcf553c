// Spawn latency of /bin/true through the runner (validation, posix_spawn of
// the trampoline, rlimits, execve, poll loop, group kill, reap), next to a
// bare posix_spawn + waitpid of /bin/true for reference.
//
//   bazel run //security/exec:exec_bench -- --benchmark_min_time=0.05
//   (--trampoline=/abs/path overrides the trampoline location; by default
//   the one in this binary's runfiles is used)
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "benchmark/benchmark.h"
#include "security/exec/policy.h"
#include "security/exec/runner.h"

namespace virtengine::exec {
namespace {

constexpr char kPolicy[] = R"pb(
  schema_version: 1
  adapter: "bench"
  entry {
    id: "bench.true"
    binary: "/bin/true"
    limits {
      cpu_seconds: 5
      address_space_bytes: 1073741824
      open_files: 64
      processes: 65536
      file_size_bytes: 0
      timeout_ms: 10000
      stdout_max_bytes: 4096
      stderr_max_bytes: 4096
      stdin_max_bytes: 0
    }
  }
  entry {
    id: "bench.cat"
    binary: "/bin/cat"
    limits {
      cpu_seconds: 5
      address_space_bytes: 1073741824
      open_files: 64
      processes: 65536
      file_size_bytes: 0
      timeout_ms: 10000
      stdout_max_bytes: 1048576
      stderr_max_bytes: 4096
      stdin_max_bytes: 1048576
    }
  }
)pb";

std::string g_trampoline;

std::unique_ptr<Runner> MakeRunner() {
  absl::StatusOr<CommandPolicy> p = CommandPolicy::Parse(kPolicy, "bench");
  if (!p.ok()) return nullptr;
  auto list = std::make_shared<Allowlist>();
  if (!list->Add(*p).ok()) return nullptr;
  RunnerOptions options;
  options.trampoline_path = g_trampoline;
  absl::StatusOr<std::unique_ptr<Runner>> r = Runner::Create(list, options);
  if (!r.ok()) {
    (void)std::fprintf(stderr, "exec_bench: %s\n",
                       r.status().ToString().c_str());
    return nullptr;
  }
  return *std::move(r);
}

void BM_RunnerTrue(benchmark::State& state) {
  const std::unique_ptr<Runner> runner = MakeRunner();
  if (runner == nullptr) {
    state.SkipWithError("cannot create runner");
    return;
  }
  for (auto _ : state) {
    absl::StatusOr<Result> r = runner->Run("bench.true", {});
    if (!r.ok() || !r->exited || r->exit_code != 0) {
      state.SkipWithError("run failed");
      return;
    }
  }
}
BENCHMARK(BM_RunnerTrue)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_RunnerCat64KiB(benchmark::State& state) {
  const std::unique_ptr<Runner> runner = MakeRunner();
  if (runner == nullptr) {
    state.SkipWithError("cannot create runner");
    return;
  }
  const std::string input(size_t{64} * 1024, 'x');
  for (auto _ : state) {
    absl::StatusOr<Result> r = runner->Run("bench.cat", {}, {}, input);
    if (!r.ok() || r->stdout_bytes.size() != input.size()) {
      state.SkipWithError("run failed");
      return;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(input.size()));
}
BENCHMARK(BM_RunnerCat64KiB)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Reference: what the trampoline, validation and capture cost on top.
void BM_BarePosixSpawnTrue(benchmark::State& state) {
  char path[] = "/bin/true";
  char* argv[] = {path, nullptr};
  char* envp[] = {nullptr};
  for (auto _ : state) {
    pid_t pid = -1;
    if (posix_spawn(&pid, path, nullptr, nullptr, argv, envp) != 0) {
      state.SkipWithError("posix_spawn failed");
      return;
    }
    int status = 0;
    (void)waitpid(pid, &status, 0);
  }
}
BENCHMARK(BM_BarePosixSpawnTrue)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace virtengine::exec

int main(int argc, char** argv) {
  // Default: the trampoline in this binary's runfiles (bazel run's working
  // directory), or next to argv[0] in the runfiles tree.
  char cwd[PATH_MAX];
  std::string trampoline;
  if (getcwd(cwd, sizeof(cwd)) != nullptr) {
    trampoline = std::string(cwd) + "/security/exec/ve-exec-trampoline";
  }
  if (access(trampoline.c_str(), X_OK) != 0 && argc > 0) {
    char self[PATH_MAX];
    if (realpath(argv[0], self) != nullptr) {
      trampoline = std::string(self) +
                   ".runfiles/virtengine/security/exec/ve-exec-trampoline";
    }
  }
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (absl::StartsWith(argv[i], "--trampoline=")) {
      trampoline = argv[i] + std::strlen("--trampoline=");
    } else {
      rest.push_back(argv[i]);
    }
  }
  virtengine::exec::g_trampoline = trampoline;
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  if (benchmark::ReportUnrecognizedArguments(n, rest.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
