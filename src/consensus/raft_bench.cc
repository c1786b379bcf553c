// Proposals/s of a one-voter RaftNode (real libraft + raft_uv, fsync on:
// libraft makes every append durable before acknowledging it),
// 256-byte and 256 KiB payloads, with 1 proposal in flight (latency-bound)
// and a window of several (libraft batches them into one write).
//
//   bazel run -c opt //src/consensus:raft_bench --
//       --out=$PWD/tests/load/results/raft-single.md [--data_dir=/var/tmp]
// (one command line)
//
// --data_dir is the parent of a fresh directory (default $TEST_TMPDIR or
// /var/tmp; it must be on the disk being measured, not a tmpfs). Other
// flags go to Google Benchmark (e.g. --benchmark_min_time=1).
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/consensus/raft_node.h"

namespace {

using virtengine::consensus::RaftNode;
using virtengine::consensus::RaftOptions;
using virtengine::consensus::StateMachine;

// A free loopback port (bound to port 0, then released).
int PickPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

// Applies nothing; every entry is "durable" once seen.
class SinkSm : public StateMachine {
 public:
  absl::Status Apply(uint64_t index, std::string_view /*payload*/) override {
    applied_.store(index, std::memory_order_relaxed);
    return absl::OkStatus();
  }
  uint64_t AppliedIndex() const override {
    return applied_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<uint64_t> applied_{0};
};

struct Fixture {
  std::string dir;
  SinkSm sm;
  std::unique_ptr<RaftNode> node;
  std::string error;
};

Fixture& F() {
  static Fixture f;
  return f;
}

// Waits for `n` completions; counts failures.
class Latch {
 public:
  explicit Latch(int n) : left_(n) {}
  void Done(bool ok) {
    std::lock_guard<std::mutex> g(mu_);
    if (!ok) ++failed_;
    if (--left_ == 0) cv_.notify_all();
  }
  int Wait() {
    std::unique_lock<std::mutex> g(mu_);
    cv_.wait(g, [this] { return left_ == 0; });
    return failed_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int left_;
  int failed_ = 0;
};

void BM_Propose(benchmark::State& state) {
  if (!F().node) {
    state.SkipWithError(F().error.c_str());
    return;
  }
  const size_t size = static_cast<size_t>(state.range(0));
  const int window = static_cast<int>(state.range(1));
  const std::string payload(size, 'p');
  int64_t failed = 0;
  for (auto _ : state) {
    Latch latch(window);
    for (int i = 0; i < window; ++i) {
      F().node->Propose(payload, [&latch](const absl::StatusOr<uint64_t>& r) {
        latch.Done(r.ok());
      });
    }
    failed += latch.Wait();
  }
  if (failed > 0) state.SkipWithError("some proposals failed");
  const int64_t n = state.iterations() * window;
  state.SetItemsProcessed(n);
  state.SetBytesProcessed(n * static_cast<int64_t>(size));
  state.counters["proposals_per_s"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsRate);
  state.counters["payload_bytes"] = static_cast<double>(size);
  state.counters["window"] = window;
}
BENCHMARK(BM_Propose)
    ->ArgNames({"bytes", "window"})
    ->Args({256, 1})
    ->Args({256, 64})
    ->Args({256 << 10, 1})
    ->Args({256 << 10, 16})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond)
    ->MinTime(2.0);

struct Row {
  int64_t bytes;
  int64_t window;
  double proposals_per_s;
  double mib_per_s;
  double us_per_batch;
};

class CaptureReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.run_type != Run::RT_Iteration || r.error_occurred) continue;
      Row row{};
      auto counter = [&r](const char* name) {
        auto it = r.counters.find(name);
        return it == r.counters.end() ? 0.0 : it->second.value;
      };
      row.bytes = static_cast<int64_t>(counter("payload_bytes"));
      row.window = static_cast<int64_t>(counter("window"));
      row.proposals_per_s = counter("proposals_per_s");
      row.mib_per_s = row.proposals_per_s * static_cast<double>(row.bytes) /
                      (1024.0 * 1024.0);
      row.us_per_batch = r.GetAdjustedRealTime();
      rows.push_back(row);
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::vector<Row> rows;
};

std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// Commit of the checkout `bazel run` was started from, read from .git
// (no git command is run); "unknown" if not found.
std::string Commit() {
  // NOLINTNEXTLINE(concurrency-mt-unsafe)
  const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  if (ws == nullptr) return "unknown";
  const std::string git = std::string(ws) + "/.git/";
  const std::string head = ReadFirstLine(git + "HEAD");
  if (head.rfind("ref: ", 0) != 0) return head.empty() ? "unknown" : head;
  const std::string ref = head.substr(5);
  std::string sha = ReadFirstLine(git + ref);
  if (!sha.empty()) return sha;
  std::ifstream packed(git + "packed-refs");
  std::string line;
  while (std::getline(packed, line)) {
    if (line.size() > 41 && line.substr(41) == ref) return line.substr(0, 40);
  }
  return "unknown";
}

std::string FsType(const std::string& dir) {
  struct statfs s {};
  if (::statfs(dir.c_str(), &s) != 0) return "unknown";
  switch (static_cast<uint64_t>(s.f_type)) {
    case 0xEF53:
      return "ext4";
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    case 0x01021994:
      return "tmpfs (fsync is a no-op: figures are not disk-bound)";
    case 0x794C7630:
      return "overlayfs";
    default:
      return absl::StrCat("0x", absl::Hex(static_cast<uint64_t>(s.f_type)));
  }
}

std::string KeyFor(const Row& r, const char* what) {
  const std::string size = r.bytes >= 1024 ? absl::StrCat(r.bytes / 1024, "kib")
                                           : absl::StrCat(r.bytes, "b");
  return absl::StrCat(what, "_", size, "_window", r.window);
}

bool WriteResults(const std::string& out, const std::string& command,
                  const std::string& fs, const std::vector<Row>& rows) {
  std::ostringstream md;
  char date[64] = {0};
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  (void)std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", &tm);
  md << "# Raft: one-voter proposals/s (`src/consensus/raft_bench`)\n\n"
     << "One `RaftNode` (libraft 0.15 + raft_uv + TCP transport on "
        "127.0.0.1), a state machine that applies nothing. A proposal "
        "counts when its `done` reported the applied index. libraft makes "
        "every append durable before acknowledging it (fsync on, not "
        "configurable). "
        "`window` = proposals in flight per batch; the time column is per "
        "batch.\n\n"
     << "- command: `" << command << "`\n"
     << "- commit: " << Commit()
     << " (plus the uncommitted tree it was run from)\n"
     << "- cores: " << std::thread::hardware_concurrency() << "\n"
     << "- date: " << date << "\n"
     << "- data dir filesystem: " << fs << "\n\n"
     << "| payload | window | proposals/s | MiB/s | time per batch (us) |\n"
     << "|---:|---:|---:|---:|---:|\n";
  for (const Row& r : rows) {
    md << "| "
       << (r.bytes >= 1024 ? absl::StrCat(r.bytes / 1024, " KiB")
                           : absl::StrCat(r.bytes, " B"))
       << " | " << r.window << " | " << static_cast<int64_t>(r.proposals_per_s)
       << " | " << absl::StrFormat("%.2f", r.mib_per_s) << " | "
       << absl::StrFormat("%.0f", r.us_per_batch) << " |\n";
  }
  md << "\n```json\n{\n";
  std::vector<std::string> kv;
  for (const Row& r : rows) {
    kv.push_back(absl::StrFormat("  \"%s\": %.1f", KeyFor(r, "proposals_per_s"),
                                 r.proposals_per_s));
    kv.push_back(
        absl::StrFormat("  \"%s\": %.3f", KeyFor(r, "mib_per_s"), r.mib_per_s));
    kv.push_back(absl::StrFormat("  \"%s\": %.1f", KeyFor(r, "batch_us"),
                                 r.us_per_batch));
  }
  for (size_t i = 0; i < kv.size(); ++i) {
    md << kv[i] << (i + 1 < kv.size() ? ",\n" : "\n");
  }
  md << "}\n```\n";
  std::ofstream f(out, std::ios::trunc);
  f << md.str();
  return static_cast<bool>(f);
}

}  // namespace

int main(int argc, char** argv) {
  std::string out;
  const char* tmp =
      std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  std::string parent = tmp != nullptr ? tmp : "/var/tmp";
  std::string command =
      std::getenv("BUILD_WORKSPACE_DIRECTORY") != nullptr  // NOLINT
          ? "bazel run -c opt //src/consensus:raft_bench --"
          : "raft_bench";
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    command += " " + a;
    if (a.rfind("--out=", 0) == 0) {
      out = a.substr(6);
    } else if (a.rfind("--data_dir=", 0) == 0) {
      parent = a.substr(11);
    } else {
      rest.push_back(argv[i]);
    }
  }
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());

  std::string tmpl = parent + "/raft_bench.XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    (void)std::fprintf(stderr, "raft_bench: cannot create a directory in %s\n",
                       parent.c_str());
    return 1;
  }
  F().dir = tmpl + "/raft";
  RaftOptions o;
  o.id = 1;
  o.address = absl::StrCat("127.0.0.1:", PickPort());
  o.data_dir = F().dir;
  o.initial_voters = {{1, o.address}};
  auto node = RaftNode::Start(o, &F().sm);
  if (node.ok()) {
    F().node = *std::move(node);
  } else {
    F().error = node.status().ToString();
    (void)std::fprintf(stderr, "raft_bench: %s\n", F().error.c_str());
  }
  CaptureReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  const std::string fs = FsType(tmpl);
  if (F().node) (void)F().node->Stop();
  F().node.reset();
  std::error_code ec;
  std::filesystem::remove_all(tmpl, ec);
  if (!out.empty() && !reporter.rows.empty()) {
    if (!WriteResults(out, command, fs, reporter.rows)) {
      (void)std::fprintf(stderr, "raft_bench: cannot write %s\n", out.c_str());
      return 1;
    }
    std::printf("raft_bench: wrote %s\n", out.c_str());
  }
  return F().error.empty() ? 0 : 1;
}
