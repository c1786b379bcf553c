// What the path validator costs: PathRoot::OpenRead (name validation,
// openat2 with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS,
// fstat type check, O_NONBLOCK cleared) against a plain openat of the same
// file, plus the pieces in between and the whole-file helpers.
//
//   bazel run //security/path:path_bench -- --benchmark_min_time=0.05
//
// The fixture lives in a fresh directory under $TEST_TMPDIR (or /tmp) and is
// removed at exit. Figures go to stdout; the lead collects them.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "security/path/path.h"

namespace {

using virtengine::security::path::PathRoot;
using virtengine::security::path::UniqueFd;
using virtengine::security::path::ValidateRelativePath;

constexpr char kRel[] = "a/b/c/file.txt";
constexpr size_t kFileBytes = 4096;

struct Fixture {
  std::string base;
  std::optional<PathRoot> root;
  int dirfd = -1;  // O_RDONLY|O_DIRECTORY of the same root, for plain openat
};

Fixture& F() {
  static Fixture f;
  return f;
}

bool SetUpFixture() {
  const char* tmp =
      std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  std::string tmpl =
      std::string(tmp != nullptr ? tmp : "/tmp") + "/path_bench.XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return false;
  F().base = tmpl;
  absl::StatusOr<PathRoot> root = PathRoot::Open(tmpl);
  if (!root.ok()) return false;
  if (!root->MakeDirs("a/b/c").ok()) return false;
  if (!root->WriteFileAtomic(kRel, std::string(kFileBytes, 'x')).ok()) {
    return false;
  }
  F().root.emplace(*std::move(root));
  F().dirfd = ::open(tmpl.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return F().dirfd >= 0;
}

void TearDownFixture() {
  if (F().dirfd >= 0) (void)::close(F().dirfd);
  F().root.reset();
  std::error_code ec;
  std::filesystem::remove_all(F().base, ec);
}

void BM_PathRootOpenRead(benchmark::State& state) {
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
    absl::StatusOr<UniqueFd> fd = F().root->OpenRead(kRel);
    if (!fd.ok()) {
      state.SkipWithError("OpenRead failed");
      break;
    }
    benchmark::DoNotOptimize(fd->get());
  }
}
BENCHMARK(BM_PathRootOpenRead);

void BM_PlainOpenat(benchmark::State& state) {
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
    const int fd = ::openat(F().dirfd, kRel, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      state.SkipWithError("openat failed");
      break;
    }
    benchmark::DoNotOptimize(fd);
    (void)::close(fd);
  }
}
BENCHMARK(BM_PlainOpenat);

// The kernel's share: openat2 with the same resolve flags, no validation.
void BM_RawOpenat2Beneath(benchmark::State& state) {
  struct open_how how {};
  how.flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
    const long fd = syscall(SYS_openat2, F().dirfd, kRel, &how, sizeof(how));
    if (fd < 0) {
      state.SkipWithError("openat2 failed");
      break;
    }
    benchmark::DoNotOptimize(fd);
    (void)::close(static_cast<int>(fd));
  }
}
BENCHMARK(BM_RawOpenat2Beneath);

void BM_ValidateRelativePath(benchmark::State& state) {
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
    absl::Status s = ValidateRelativePath(kRel);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_ValidateRelativePath);

void BM_PathRootReadFile4KiB(benchmark::State& state) {
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
    absl::StatusOr<std::string> data = F().root->ReadFile(kRel, 1 << 20);
    if (!data.ok()) {
      state.SkipWithError("ReadFile failed");
      break;
    }
    benchmark::DoNotOptimize(data->data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(kFileBytes));
}
BENCHMARK(BM_PathRootReadFile4KiB);

void BM_PlainOpenatRead4KiB(benchmark::State& state) {
  std::string buf(kFileBytes, '\0');
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
    const int fd = ::openat(F().dirfd, kRel, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      state.SkipWithError("openat failed");
      break;
    }
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    benchmark::DoNotOptimize(n);
    (void)::close(fd);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(kFileBytes));
}
BENCHMARK(BM_PlainOpenatRead4KiB);

// Dominated by the two fsyncs (file, then directory); what durability costs.
void BM_WriteFileAtomic4KiB(benchmark::State& state) {
  const std::string data(kFileBytes, 'w');
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
    if (!F().root->WriteFileAtomic("a/b/c/written", data).ok()) {
      state.SkipWithError("WriteFileAtomic failed");
      break;
    }
  }
}
BENCHMARK(BM_WriteFileAtomic4KiB)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (!SetUpFixture()) {
    (void)std::fprintf(stderr, "path_bench: fixture setup failed\n");
    TearDownFixture();
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  TearDownFixture();
  return 0;
}
