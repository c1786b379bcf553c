// Helpers shared by the consensus tests (testonly): free ports, test dirs,
// a recording state machine, `done` collectors, fresh single-voter starts.
#ifndef VIRTENGINE_SRC_CONSENSUS_RAFT_TEST_UTIL_H_
#define VIRTENGINE_SRC_CONSENSUS_RAFT_TEST_UTIL_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "src/consensus/raft_node.h"

namespace virtengine::consensus::test {

inline constexpr auto kDeadline = std::chrono::seconds(120);

inline std::string TestDir(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  static std::atomic<int> counter{0};
  return absl::StrCat(t != nullptr ? t : "/tmp", "/raft_", name, "_",
                      counter.fetch_add(1), "_", ::getpid());
}

// Free loopback ports: all bound at once (so they differ), then released.
inline std::vector<int> PickPorts(int n) {
  std::vector<int> fds;
  std::vector<int> ports;
  for (int i = 0; i < n; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_GE(fd, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
    ports.push_back(ntohs(a.sin_port));
    fds.push_back(fd);
  }
  for (int fd : fds) ::close(fd);
  return ports;
}

inline std::string Addr(int port) { return absl::StrCat("127.0.0.1:", port); }

template <typename Pred>
inline bool WaitUntil(Pred pred) {
  const auto end = std::chrono::steady_clock::now() + kDeadline;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

struct Entry {
  uint64_t index;
  std::string payload;
  bool operator==(const Entry& o) const {
    return index == o.index && payload == o.payload;
  }
};

// Records every applied entry; durable immediately unless told otherwise.
class RecordingSm : public StateMachine {
 public:
  RecordingSm() = default;
  explicit RecordingSm(std::vector<Entry> history)
      : entries_(std::move(history)),
        applied_(entries_.empty() ? 0 : entries_.back().index) {}

  absl::Status Apply(uint64_t index, std::string_view payload) override {
    if (probe_) probe_(payload);
    std::unique_lock<std::mutex> g(mu_);
    cv_.wait(g, [this] { return !blocked_; });
    if (!fail_on_.empty() && payload == fail_on_) {
      return absl::InternalError("injected failure");
    }
    ++apply_calls_;
    entries_.push_back({index, std::string(payload)});
    applied_ = index;
    return absl::OkStatus();
  }
  uint64_t AppliedIndex() const override {
    std::lock_guard<std::mutex> g(mu_);
    return applied_;
  }
  // Records what was made durable (the applied index at the call).
  absl::Status MakeDurable() override {
    std::lock_guard<std::mutex> g(mu_);
    ++durable_calls_;
    if (fail_durable_) return absl::UnavailableError("injected: no fsync");
    durable_ = applied_;
    return absl::OkStatus();
  }
  size_t DurableCalls() const {
    std::lock_guard<std::mutex> g(mu_);
    return durable_calls_;
  }
  uint64_t Durable() const {
    std::lock_guard<std::mutex> g(mu_);
    return durable_;
  }
  void FailDurable(bool fail) {
    std::lock_guard<std::mutex> g(mu_);
    fail_durable_ = fail;
  }

  std::vector<Entry> Entries() const {
    std::lock_guard<std::mutex> g(mu_);
    return entries_;
  }
  size_t ApplyCalls() const {
    std::lock_guard<std::mutex> g(mu_);
    return apply_calls_;
  }
  void FailOn(std::string payload) {
    std::lock_guard<std::mutex> g(mu_);
    fail_on_ = std::move(payload);
  }
  // Called on the raft thread at the start of every Apply (set before the
  // entries of interest are proposed).
  void SetProbe(std::function<void(std::string_view)> probe) {
    probe_ = std::move(probe);
  }
  void SetBlocked(bool b) {
    {
      std::lock_guard<std::mutex> g(mu_);
      blocked_ = b;
    }
    cv_.notify_all();
  }

 private:
  size_t durable_calls_ = 0;
  uint64_t durable_ = 0;
  bool fail_durable_ = false;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Entry> entries_;
  uint64_t applied_ = 0;
  size_t apply_calls_ = 0;
  std::string fail_on_;
  bool blocked_ = false;
  std::function<void(std::string_view)> probe_;
};

// Collects `done` results per proposal number, counting calls.
class Results {
 public:
  std::function<void(absl::StatusOr<uint64_t>)> Cb(int n) {
    return [this, n](absl::StatusOr<uint64_t> r) {
      std::lock_guard<std::mutex> g(mu_);
      calls_[n].push_back(std::move(r));
      ++total_;
      cv_.notify_all();
    };
  }
  bool WaitTotal(size_t n) {
    std::unique_lock<std::mutex> g(mu_);
    return cv_.wait_for(g, kDeadline, [&] { return total_ >= n; });
  }
  std::map<int, std::vector<absl::StatusOr<uint64_t>>> Calls() const {
    std::lock_guard<std::mutex> g(mu_);
    return calls_;
  }
  absl::StatusOr<uint64_t> Only(int n) const {
    std::lock_guard<std::mutex> g(mu_);
    auto it = calls_.find(n);
    if (it == calls_.end() || it->second.size() != 1) {
      return absl::InternalError("not exactly one call");
    }
    return it->second[0];
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<int, std::vector<absl::StatusOr<uint64_t>>> calls_;
  size_t total_ = 0;
};

// Proposes one payload and waits for its result.
inline absl::StatusOr<uint64_t> ProposeSync(RaftNode* node,
                                            std::string payload) {
  Results r;
  node->Propose(std::move(payload), r.Cb(0));
  if (!r.WaitTotal(1)) return absl::DeadlineExceededError("no done");
  return r.Only(0);
}

inline RaftOptions SingleVoter(const std::string& dir, int port) {
  RaftOptions o;
  o.id = 1;
  o.address = Addr(port);
  o.data_dir = dir;
  o.initial_voters = {{1, o.address}};
  return o;
}

inline bool PortTaken(const absl::Status& s) {
  return absl::StrContains(s.message(), "cannot bind");
}

// Starts a node on a fresh data dir. If another process took the picked
// port before libraft bound it, retries with a new port and a new dir
// (bootstrap recorded the old address); `o` ends up with what was used.
inline absl::StatusOr<std::unique_ptr<RaftNode>> StartFresh(RaftOptions* o,
                                                            StateMachine* sm) {
  absl::StatusOr<std::unique_ptr<RaftNode>> node = RaftNode::Start(*o, sm);
  for (int attempt = 0; attempt < 5 && !node.ok() && PortTaken(node.status());
       ++attempt) {
    o->address = Addr(PickPorts(1)[0]);
    o->data_dir += "_retry";
    for (RaftPeer& p : o->initial_voters) {
      if (p.id == o->id) p.address = o->address;
    }
    node = RaftNode::Start(*o, sm);
  }
  return node;
}

inline std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  return names;
}

// Smallest start index among closed segments ("%016llu-%016llu").
inline uint64_t FirstSegmentIndex(const std::vector<std::string>& names) {
  uint64_t first = UINT64_MAX;
  for (const std::string& n : names) {
    if (n.size() == 33 && n[16] == '-') {
      first = std::min<uint64_t>(first, std::stoull(n.substr(0, 16)));
    }
  }
  return first;
}

}  // namespace virtengine::consensus::test

#endif  // VIRTENGINE_SRC_CONSENSUS_RAFT_TEST_UTIL_H_
