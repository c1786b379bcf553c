// Real libraft 0.15 over real TCP on 127.0.0.1 (ports from binding port 0),
// data dirs under TEST_TMPDIR. No timing assertions: every wait polls with a
// generous deadline and fails the test only when the deadline passes.
#include "src/consensus/raft_node.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/consensus/raft_test_util.h"

namespace virtengine::consensus::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// One voter with a small snapshot threshold and small segments, so that
// ~1 KB entries make libraft snapshot and truncate within a few hundred.
RaftOptions SnapshottingVoter(const std::string& name) {
  RaftOptions o = SingleVoter(TestDir(name), PickPorts(1)[0]);
  o.snapshot_threshold = 64;
  o.snapshot_trailing = 16;
  o.segment_size_bytes = 64 << 10;
  return o;
}

// Proposes n entries "<prefix><i>" padded to ~1 KB and waits for all of
// their results; true when every one was applied.
bool ProposeFilled(RaftNode* node, const std::string& prefix, int n) {
  const std::string filler(1000, 'x');
  Results r;
  for (int i = 0; i < n; ++i) {
    node->Propose(absl::StrCat(prefix, i, filler), r.Cb(i));
  }
  if (!r.WaitTotal(static_cast<size_t>(n))) return false;
  for (int i = 0; i < n; ++i) {
    if (!r.Only(i).ok()) return false;
  }
  return true;
}

bool HasSnapshot(const std::vector<std::string>& names) {
  for (const std::string& n : names) {
    if (n.rfind("snapshot-", 0) == 0) return true;
  }
  return false;
}
// (1) One voter is leader as soon as Start returns (libraft self-elects in
// raft_start) and applies 2,000 proposals in order, contiguous indexes,
// each `done` called exactly once with the index the state machine saw.
TEST(RaftNodeTest, SingleVoterAppliesInOrder) {
  RecordingSm sm;
  RaftOptions o = SingleVoter(TestDir("single"), PickPorts(1)[0]);
  auto node = StartFresh(&o, &sm);
  ASSERT_TRUE(node.ok()) << node.status();
  RaftStatus st = (*node)->Status();
  EXPECT_TRUE(st.is_leader);
  EXPECT_EQ(st.leader_id, 1u);
  EXPECT_FALSE(st.halted);

  constexpr int kN = 2000;
  Results results;
  for (int i = 0; i < kN; ++i) {
    (*node)->Propose(absl::StrCat("entry-", i), results.Cb(i));
  }
  ASSERT_TRUE(results.WaitTotal(kN));
  const std::vector<Entry> applied = sm.Entries();
  ASSERT_EQ(applied.size(), static_cast<size_t>(kN));
  const auto calls = results.Calls();
  ASSERT_EQ(calls.size(), static_cast<size_t>(kN));
  for (int i = 0; i < kN; ++i) {
    ASSERT_EQ(calls.at(i).size(), 1u) << "done of proposal " << i;
    ASSERT_TRUE(calls.at(i)[0].ok()) << calls.at(i)[0].status();
    EXPECT_EQ(*calls.at(i)[0], applied[i].index);
    EXPECT_EQ(applied[i].payload, absl::StrCat("entry-", i));
    if (i > 0) {
      EXPECT_EQ(applied[i].index, applied[i - 1].index + 1);
    }
  }
  EXPECT_TRUE(WaitUntil(
      [&] { return (*node)->Status().last_applied >= applied.back().index; }));
  EXPECT_TRUE((*node)->Stop().ok());
  EXPECT_TRUE((*node)->Stop().ok());  // idempotent
  // Nothing was delivered twice (a late extra call would show here).
  EXPECT_EQ(results.Calls().size(), static_cast<size_t>(kN));
  for (const auto& [n, v] : results.Calls()) EXPECT_EQ(v.size(), 1u) << n;
}

// (2) Restart on the same data dir: nothing already applied is applied
// again; a store that lags (crash between raft commit and the store's
// commit) gets exactly the missing entries again, in order.
TEST(RaftNodeTest, RestartReplaysOnlyWhatTheStoreLacks) {
  RaftOptions o = SingleVoter(TestDir("restart"), PickPorts(1)[0]);
  RecordingSm sm1;
  {
    auto node = StartFresh(&o, &sm1);
    ASSERT_TRUE(node.ok()) << node.status();
    Results r;
    for (int i = 0; i < 100; ++i)
      (*node)->Propose(absl::StrCat("a", i), r.Cb(i));
    ASSERT_TRUE(r.WaitTotal(100));
    ASSERT_TRUE((*node)->Stop().ok());
  }
  ASSERT_EQ(sm1.Entries().size(), 100u);

  // Up-to-date store: no re-application, leader again, continues.
  RecordingSm sm2(sm1.Entries());
  {
    auto node = RaftNode::Start(o, &sm2);
    ASSERT_TRUE(node.ok()) << node.status();
    ASSERT_TRUE(WaitUntil([&] { return (*node)->Status().is_leader; }));
    Results r;
    for (int i = 0; i < 10; ++i)
      (*node)->Propose(absl::StrCat("b", i), r.Cb(i));
    ASSERT_TRUE(r.WaitTotal(10));
    for (int i = 0; i < 10; ++i)
      ASSERT_TRUE(r.Only(i).ok()) << r.Only(i).status();
    EXPECT_EQ(sm2.ApplyCalls(), 10u);  // only the new ones
    ASSERT_TRUE((*node)->Stop().ok());
  }
  const std::vector<Entry> history = sm2.Entries();
  ASSERT_EQ(history.size(), 110u);
  EXPECT_GT(history[100].index, history[99].index);

  // Lagging store: durable only up to the 60th entry.
  std::vector<Entry> prefix(history.begin(), history.begin() + 60);
  RecordingSm sm3(prefix);
  {
    auto node = RaftNode::Start(o, &sm3);
    ASSERT_TRUE(node.ok()) << node.status();
    ASSERT_TRUE(
        WaitUntil([&] { return sm3.AppliedIndex() >= history.back().index; }));
    EXPECT_EQ(sm3.Entries(), history);  // exactly the missing 50, once each
    EXPECT_EQ(sm3.ApplyCalls(), 50u);
    absl::StatusOr<uint64_t> idx = ProposeSync(node->get(), "c0");
    ASSERT_TRUE(idx.ok()) << idx.status();
    EXPECT_GT(*idx, history.back().index);
    EXPECT_EQ(sm3.Entries().back().payload, "c0");
    ASSERT_TRUE((*node)->Stop().ok());
  }
}

// (3) A small snapshot threshold: libraft takes marker snapshots, truncates
// its log (whole segments), and a restart restores the marker and goes on.
// A store behind the marker is refused with the state-transfer error.
TEST(RaftNodeTest, SnapshotTruncatesLogAndRestartWorks) {
  RaftOptions o = SnapshottingVoter("snapshot");
  RecordingSm sm;
  {
    auto node = StartFresh(&o, &sm);
    ASSERT_TRUE(node.ok()) << node.status();
    ASSERT_TRUE(ProposeFilled(node->get(), "", 600));
    ASSERT_TRUE((*node)->Stop().ok());
  }
  const std::vector<std::string> names = ListDir(o.data_dir);
  EXPECT_TRUE(HasSnapshot(names)) << ::testing::PrintToString(names);
  const uint64_t first = FirstSegmentIndex(names);
  ASSERT_NE(first, UINT64_MAX) << ::testing::PrintToString(names);
  EXPECT_GT(first, 1u) << "log was not truncated: "
                       << ::testing::PrintToString(names);

  RecordingSm sm2(sm.Entries());
  {
    auto node = RaftNode::Start(o, &sm2);
    ASSERT_TRUE(node.ok()) << node.status();
    EXPECT_EQ(sm2.ApplyCalls(), 0u);
    absl::StatusOr<uint64_t> idx = ProposeSync(node->get(), "after-restart");
    ASSERT_TRUE(idx.ok()) << idx.status();
    EXPECT_GT(*idx, sm.Entries().back().index);
    EXPECT_EQ(sm2.ApplyCalls(), 1u);
    ASSERT_TRUE((*node)->Stop().ok());
  }

  RecordingSm empty;  // AppliedIndex 0: behind every snapshot marker
  auto refused = RaftNode::Start(o, &empty);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()),
              StartsWith("snapshot install needs a state transfer (cluster "
                         "issue)"));
  EXPECT_EQ(empty.ApplyCalls(), 0u);
}

// A state machine that commits without fsync is synced before libraft
// truncates its log: while MakeDurable fails no snapshot is taken and the
// log keeps every entry; once it succeeds the snapshot covers only what was
// made durable.
TEST(RaftNodeTest, SnapshotWaitsUntilTheStoreIsDurable) {
  RaftOptions o = SnapshottingVoter("durable");
  RecordingSm sm;
  sm.FailDurable(true);
  auto node = StartFresh(&o, &sm);
  ASSERT_TRUE(node.ok()) << node.status();
  ASSERT_TRUE(ProposeFilled(node->get(), "a", 300));
  EXPECT_GT(sm.DurableCalls(), 0u);  // libraft asked, was refused
  std::vector<std::string> names = ListDir(o.data_dir);
  EXPECT_FALSE(HasSnapshot(names))
      << "snapshot while not durable: " << ::testing::PrintToString(names);
  EXPECT_EQ(FirstSegmentIndex(names), 1u) << ::testing::PrintToString(names);

  sm.FailDurable(false);
  ASSERT_TRUE(ProposeFilled(node->get(), "b", 300));
  ASSERT_TRUE((*node)->Stop().ok());
  names = ListDir(o.data_dir);
  EXPECT_TRUE(HasSnapshot(names)) << ::testing::PrintToString(names);
  EXPECT_GT(sm.Durable(), 0u);
}

// (4) An Apply error halts the node: pending and later proposals fail with
// FAILED_PRECONDITION "halted: ...", nothing after it is applied, the
// process keeps running. A restart with the same failing store comes up
// halted; with a healthy one it applies the entry and goes on.
TEST(RaftNodeTest, ApplyErrorHalts) {
  RaftOptions o = SingleVoter(TestDir("halt"), PickPorts(1)[0]);
  RecordingSm sm;
  sm.FailOn("poison");
  {
    auto node = StartFresh(&o, &sm);
    ASSERT_TRUE(node.ok()) << node.status();
    Results r;
    for (int i = 0; i < 10; ++i)
      (*node)->Propose(absl::StrCat("ok", i), r.Cb(i));
    (*node)->Propose("poison", r.Cb(10));
    for (int i = 11; i < 16; ++i)
      (*node)->Propose(absl::StrCat("late", i), r.Cb(i));
    ASSERT_TRUE(r.WaitTotal(16));
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(r.Only(i).ok()) << i;
    for (int i = 10; i < 16; ++i) {
      absl::StatusOr<uint64_t> res = r.Only(i);
      ASSERT_FALSE(res.ok()) << i;
      EXPECT_EQ(res.status().code(), absl::StatusCode::kFailedPrecondition);
      EXPECT_THAT(std::string(res.status().message()), StartsWith("halted: "));
    }
    const RaftStatus st = (*node)->Status();
    EXPECT_TRUE(st.halted);
    EXPECT_THAT(st.halt_reason, HasSubstr("injected failure"));
    absl::StatusOr<uint64_t> later = ProposeSync(node->get(), "later");
    ASSERT_FALSE(later.ok());
    EXPECT_EQ(later.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(std::string(later.status().message()),
                HasSubstr("halted: apply of entry"));
    EXPECT_EQ(sm.Entries().size(), 10u);
    ASSERT_TRUE((*node)->Stop().ok());
  }
  {
    auto node = RaftNode::Start(o, &sm);
    ASSERT_TRUE(node.ok()) << node.status();
    EXPECT_TRUE(WaitUntil([&] { return (*node)->Status().halted; }));
    EXPECT_EQ(sm.Entries().size(), 10u);
    ASSERT_TRUE((*node)->Stop().ok());
  }
  RecordingSm healthy(sm.Entries());
  {
    auto node = RaftNode::Start(o, &healthy);
    ASSERT_TRUE(node.ok()) << node.status();
    EXPECT_FALSE((*node)->Status().halted);
    absl::StatusOr<uint64_t> idx = ProposeSync(node->get(), "recovered");
    ASSERT_TRUE(idx.ok()) << idx.status();
    const std::vector<Entry> e = healthy.Entries();
    ASSERT_GE(e.size(), 12u);
    EXPECT_EQ(e[10].payload, "poison");
    EXPECT_EQ(e.back().payload, "recovered");
    ASSERT_TRUE((*node)->Stop().ok());
  }
}

struct Cluster {
  std::vector<int> ports;
  std::vector<std::unique_ptr<RecordingSm>> sms;
  std::vector<std::unique_ptr<RaftNode>> nodes;  // null once stopped
  unsigned heartbeat_ms = 100;
  unsigned election_timeout_ms = 1000;

  // Retries with new ports (and dirs) if another process took one of them
  // between PickPorts and libraft's bind.
  bool StartAll() {
    for (int attempt = 0; attempt < 5; ++attempt) {
      absl::Status st = TryStartAll();
      if (st.ok()) return true;
      for (auto& n : nodes) {
        if (n) (void)n->Stop();
      }
      nodes.clear();
      sms.clear();
      if (!PortTaken(st)) {
        ADD_FAILURE() << st;
        return false;
      }
    }
    ADD_FAILURE() << "no free ports";
    return false;
  }
  absl::Status TryStartAll() {
    ports = PickPorts(3);
    std::vector<RaftPeer> voters;
    voters.reserve(3);
    for (int i = 0; i < 3; ++i) {
      voters.push_back({static_cast<uint64_t>(i) + 1, Addr(ports[i])});
    }
    const std::string base = TestDir("cluster");
    for (int i = 0; i < 3; ++i) {
      sms.push_back(std::make_unique<RecordingSm>());
      RaftOptions o;
      o.id = static_cast<uint64_t>(i) + 1;
      o.address = Addr(ports[i]);
      o.data_dir = absl::StrCat(base, "_n", i + 1);
      o.initial_voters = voters;
      o.heartbeat_ms = heartbeat_ms;
      o.election_timeout_ms = election_timeout_ms;
      auto node = RaftNode::Start(o, sms.back().get());
      if (!node.ok()) return node.status();
      nodes.push_back(*std::move(node));
    }
    return absl::OkStatus();
  }
  // Index of the node every live node agrees is leader, or -1.
  int AgreedLeader() const {
    int leader = -1;
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (nodes[i] && nodes[i]->Status().is_leader)
        leader = static_cast<int>(i);
    }
    if (leader < 0) return -1;
    for (const auto& n : nodes) {
      if (n && n->Status().leader_id != static_cast<uint64_t>(leader) + 1) {
        return -1;
      }
    }
    return leader;
  }
  int WaitLeader() const {
    int leader = -1;
    WaitUntil([&] { return (leader = AgreedLeader()) >= 0; });
    return leader;
  }
  // Index of a node other than `other` that is leader (and leader_ready
  // when `ready`), or -1 when none is by the deadline.
  int WaitOtherLeader(int other, bool ready) const {
    int found = -1;
    WaitUntil([&] {
      for (int i = 0; i < static_cast<int>(nodes.size()); ++i) {
        if (i == other || !nodes[i]) continue;
        const RaftStatus st = nodes[i]->Status();
        if (ready ? st.leader_ready : st.is_leader) found = i;
      }
      return found >= 0;
    });
    return found;
  }
  // Proposes until the payload is applied (re-proposing on leadership
  // changes; a retried payload may then be applied twice, which the
  // callers allow for).
  bool ProposeUntilApplied(const std::string& payload) {
    const auto end = std::chrono::steady_clock::now() + kDeadline;
    while (std::chrono::steady_clock::now() < end) {
      const int l = WaitLeader();
      if (l < 0) return false;
      absl::StatusOr<uint64_t> r = ProposeSync(nodes[l].get(), payload);
      if (r.ok()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  void StopAll() {
    for (auto& n : nodes) {
      if (n) {
        EXPECT_TRUE(n->Stop().ok());
      }
    }
  }
};

// Every TCP connection in this process whose local or peer port is one of
// `ports`, with its TCP_NODELAY flag (fd -> flag).
std::map<int, bool> RaftConnections(const std::vector<int>& ports) {
  std::map<int, bool> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    int fd = -1;
    if (!absl::SimpleAtoi(e.path().filename().string(), &fd)) continue;
    sockaddr_in local{}, peer{};
    socklen_t ll = sizeof local, pl = sizeof peer;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &ll) != 0 ||
        getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &pl) != 0 ||
        local.sin_family != AF_INET) {
      continue;  // not a connected IPv4 socket (listeners have no peer)
    }
    const int lp = ntohs(local.sin_port), pp = ntohs(peer.sin_port);
    if (std::find(ports.begin(), ports.end(), lp) == ports.end() &&
        std::find(ports.begin(), ports.end(), pp) == ports.end()) {
      continue;
    }
    int on = 0;
    socklen_t len = sizeof on;
    if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &len) != 0) continue;
    out[fd] = on != 0;
  }
  return out;
}

// libraft's own TCP transport leaves Nagle's algorithm on (small
// AppendEntries then wait for the peer's delayed ACK, up to 40 ms): the
// adapter sets TCP_NODELAY on every connection it makes or accepts.
TEST(RaftNodeTest, RaftConnectionsSetNoDelay) {
  Cluster c;
  ASSERT_TRUE(c.StartAll());
  const int leader = c.WaitLeader();
  ASSERT_GE(leader, 0) << "no leader elected";
  ASSERT_TRUE(ProposeSync(c.nodes[leader].get(), "x").ok());
  // The leader has connected to both followers; once every node has sent
  // to every other (votes, appends, results) each pair has 2 connections,
  // both ends in this process.
  std::map<int, bool> conns;
  ASSERT_TRUE(WaitUntil([&] {
    conns = RaftConnections(c.ports);
    return conns.size() >= 4;
  })) << conns.size()
      << " raft connections";
  for (const auto& [fd, nodelay] : conns) {
    EXPECT_TRUE(nodelay) << "fd " << fd << " has Nagle's algorithm on";
  }
  c.StopAll();
}

// A new leader may hold entries an earlier leader committed without knowing
// they are committed (followers learn the commit index only with the next
// message). It applies them once its election barrier commits; until then
// it is leader but not leader_ready, so the node does not cut a block on
// the older state. Heartbeats are slow here so the followers do not learn
// that "x" committed before its leader stops.
TEST(RaftNodeTest, NewLeaderIsReadyOnlyAfterEarlierEntriesApply) {
  Cluster c;
  c.heartbeat_ms = 500;
  c.election_timeout_ms = 1500;
  ASSERT_TRUE(c.StartAll());
  const int old_leader = c.WaitLeader();
  ASSERT_GE(old_leader, 0) << "no leader elected";
  ASSERT_TRUE(
      WaitUntil([&] { return c.nodes[old_leader]->Status().leader_ready; }));
  struct Seen {
    bool is_leader = false;
    bool leader_ready = false;
  };
  std::mutex mu;
  std::map<int, Seen> seen;  // node -> its status while applying "x"
  for (int i = 0; i < 3; ++i) {
    if (i == old_leader) continue;
    c.sms[i]->SetProbe([&, i](std::string_view payload) {
      if (payload != "x") return;
      const RaftStatus st = c.nodes[i]->Status();
      std::lock_guard<std::mutex> g(mu);
      seen[i] = {st.is_leader, st.leader_ready};
    });
  }
  ASSERT_TRUE(ProposeSync(c.nodes[old_leader].get(), "x").ok());
  ASSERT_TRUE(c.nodes[old_leader]->Stop().ok());
  const int leader = c.WaitOtherLeader(old_leader, /*ready=*/true);
  ASSERT_GE(leader, 0) << "no new leader became ready";
  std::lock_guard<std::mutex> g(mu);
  ASSERT_EQ(seen.count(leader), 1u) << "the new leader never applied x";
  // The case under test: x was applied after this node became leader.
  ASSERT_TRUE(seen[leader].is_leader)
      << "the followers learned the commit before the leader stopped";
  EXPECT_FALSE(seen[leader].leader_ready)
      << "leader_ready while an earlier term's entry was not applied";
  c.nodes[old_leader].reset();
  c.StopAll();
}

// (5) Three voters in one process: proposals on the leader are applied on
// all three in the same order; a follower refuses with the leader hint;
// after Stop() of the leader a new leader is elected and accepts proposals.
TEST(RaftNodeTest, ThreeVotersReplicateAndFailOver) {
  Cluster c;
  ASSERT_TRUE(c.StartAll());
  const int leader = c.WaitLeader();
  ASSERT_GE(leader, 0) << "no leader elected";

  Results r;
  constexpr int kN = 200;
  for (int i = 0; i < kN; ++i) {
    c.nodes[leader]->Propose(absl::StrCat("p", i), r.Cb(i));
  }
  ASSERT_TRUE(r.WaitTotal(kN));
  std::set<std::string> acknowledged;
  for (int i = 0; i < kN; ++i) {
    if (r.Only(i).ok()) acknowledged.insert(absl::StrCat("p", i));
  }
  // An election under load may fail some (UNAVAILABLE / not leader):
  // propose those again on whoever leads now.
  for (int i = 0; i < kN; ++i) {
    const std::string p = absl::StrCat("p", i);
    if (acknowledged.count(p) == 0) {
      ASSERT_TRUE(c.ProposeUntilApplied(p)) << p;
    }
  }
  ASSERT_TRUE(WaitUntil([&] {
    for (const auto& sm : c.sms) {
      if (sm->Entries().size() < kN) return false;
    }
    const auto e0 = c.sms[0]->Entries();
    return c.sms[1]->Entries() == e0 && c.sms[2]->Entries() == e0;
  })) << "logs differ";
  std::set<std::string> seen;
  for (const Entry& e : c.sms[0]->Entries()) seen.insert(e.payload);
  for (int i = 0; i < kN; ++i) EXPECT_EQ(seen.count(absl::StrCat("p", i)), 1u);

  // A follower refuses with the leader's id and address.
  const int follower = (leader + 1) % 3;
  ASSERT_TRUE(
      WaitUntil([&] { return c.nodes[follower]->Status().leader_id != 0; }));
  absl::StatusOr<uint64_t> refused =
      ProposeSync(c.nodes[follower].get(), "on-follower");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  const std::string msg(refused.status().message());
  EXPECT_THAT(msg, StartsWith("not leader; leader is "));
  bool names_a_peer = false;
  for (int i = 0; i < 3; ++i) {
    if (msg ==
        absl::StrCat("not leader; leader is ", i + 1, "@", Addr(c.ports[i]))) {
      names_a_peer = true;
    }
  }
  EXPECT_TRUE(names_a_peer) << msg;

  // Fail over.
  const int old_leader = c.WaitLeader();
  ASSERT_GE(old_leader, 0);
  ASSERT_TRUE(c.nodes[old_leader]->Stop().ok());
  c.nodes[old_leader].reset();
  const int new_leader = c.WaitLeader();
  ASSERT_GE(new_leader, 0) << "no new leader after the leader stopped";
  EXPECT_NE(new_leader, old_leader);
  ASSERT_TRUE(c.ProposeUntilApplied("after-failover"));
  ASSERT_TRUE(WaitUntil([&] {
    for (int i = 0; i < 3; ++i) {
      if (i == old_leader) continue;
      const auto e = c.sms[i]->Entries();
      if (e.empty() || e.back().payload != "after-failover") return false;
    }
    return true;
  }));
  const int a = (old_leader + 1) % 3;
  const int b = (old_leader + 2) % 3;
  EXPECT_EQ(c.sms[a]->Entries(), c.sms[b]->Entries());
  // The stopped node's log is a prefix of the survivors'.
  const auto survivors = c.sms[a]->Entries();
  const auto old = c.sms[old_leader]->Entries();
  ASSERT_LE(old.size(), survivors.size());
  EXPECT_TRUE(std::equal(old.begin(), old.end(), survivors.begin()));
  c.StopAll();
}

// Membership at run time: a joining node is added as a spare, replicates as
// a standby, is promoted to voter (after libraft's catch-up rounds), gets
// every entry; removing a voter shrinks the configuration; a barrier on the
// leader completes; followers refuse every leader operation.
absl::Status SyncOp(
    const std::function<void(std::function<void(absl::Status)>)>& op) {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  absl::Status result;
  op([&](absl::Status s) {
    std::lock_guard<std::mutex> g(mu);
    result = std::move(s);
    done = true;
    cv.notify_all();
  });
  std::unique_lock<std::mutex> g(mu);
  if (!cv.wait_for(g, kDeadline, [&] { return done; })) {
    return absl::DeadlineExceededError("no done");
  }
  return result;
}

TEST(RaftNodeTest, MembershipAddPromoteRemoveAndBarrier) {
  Cluster c;
  ASSERT_TRUE(c.StartAll());
  int leader = c.WaitLeader();
  ASSERT_GE(leader, 0);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(c.ProposeUntilApplied(absl::StrCat("before-", i)));
  }
  // Barrier on the leader; followers refuse it with the leader's address.
  leader = c.WaitLeader();
  EXPECT_TRUE(SyncOp([&](auto d) { c.nodes[leader]->Barrier(d); }).ok());
  const int follower = (leader + 1) % 3;
  absl::Status refused = SyncOp([&](auto d) { c.nodes[follower]->Barrier(d); });
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_THAT(std::string(refused.message()), StartsWith("not leader"));
  refused = SyncOp([&](auto d) {
    c.nodes[follower]->AddMember({9, "127.0.0.1:1"}, d);
  });
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;

  // A fourth node joins with an empty data dir and no voters.
  auto joiner = std::make_unique<RecordingSm>();
  RaftOptions o;
  o.id = 4;
  o.address = Addr(PickPorts(1)[0]);
  o.data_dir = TestDir("joiner");
  o.join = true;
  absl::StatusOr<std::unique_ptr<RaftNode>> j =
      RaftNode::Start(o, joiner.get());
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_FALSE((*j)->Status().is_leader);
  EXPECT_TRUE((*j)->Status().configuration.empty());

  leader = c.WaitLeader();
  ASSERT_TRUE(SyncOp([&](auto d) {
                c.nodes[leader]->AddMember({4, o.address}, d);
              }).ok());
  // The same id again is refused with libraft's reason.
  absl::Status dup = SyncOp([&](auto d) {
    c.nodes[leader]->AddMember({4, o.address}, d);
  });
  EXPECT_FALSE(dup.ok());
  ASSERT_TRUE(SyncOp([&](auto d) {
                c.nodes[leader]->AssignRole(4, RaftRole::kStandby, d);
              }).ok());
  ASSERT_TRUE(SyncOp([&](auto d) {
                c.nodes[leader]->AssignRole(4, RaftRole::kVoter, d);
              }).ok());
  ASSERT_TRUE(WaitUntil([&] {
    for (const RaftMember& m : c.nodes[leader]->Status().configuration) {
      if (m.id == 4) return m.role == RaftRole::kVoter;
    }
    return false;
  }));
  ASSERT_TRUE(c.ProposeUntilApplied("after-join"));
  ASSERT_TRUE(WaitUntil([&] {
    const auto e = joiner->Entries();
    return !e.empty() && e.back().payload == "after-join";
  }));
  // The joiner holds every entry the leader applied, in the same order.
  EXPECT_EQ(joiner->Entries(), c.sms[leader]->Entries());
  EXPECT_EQ((*j)->Status().configuration.size(), 4u);

  // Remove a follower (not the leader): the configuration shrinks to 3.
  leader = c.WaitLeader();
  const int victim = (leader + 1) % 3;
  ASSERT_TRUE(SyncOp([&](auto d) {
                c.nodes[leader]->RemoveMember(static_cast<uint64_t>(victim) + 1,
                                              d);
              }).ok());
  ASSERT_TRUE(WaitUntil(
      [&] { return c.nodes[leader]->Status().configuration.size() == 3; }));
  absl::Status missing = SyncOp(
      [&](auto d) { c.nodes[leader]->AssignRole(77, RaftRole::kVoter, d); });
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound) << missing;
  ASSERT_TRUE(c.nodes[victim]->Stop().ok());
  c.nodes[victim].reset();
  ASSERT_TRUE(c.ProposeUntilApplied("after-remove"));
  ASSERT_TRUE(WaitUntil([&] {
    const auto e = joiner->Entries();
    return !e.empty() && e.back().payload == "after-remove";
  }));
  ASSERT_TRUE((*j)->Stop().ok());
  c.StopAll();
}

// A halted leader hands leadership to a healthy voter; the cluster goes on.
TEST(RaftNodeTest, HaltedLeaderTransfersLeadership) {
  Cluster c;
  ASSERT_TRUE(c.StartAll());
  const int leader = c.WaitLeader();
  ASSERT_GE(leader, 0);
  c.sms[leader]->FailOn("poison");
  absl::StatusOr<uint64_t> r = ProposeSync(c.nodes[leader].get(), "poison");
  // Unless an election intervened, the leader halted on it.
  if (!r.ok() && r.status().code() == absl::StatusCode::kUnavailable) {
    ASSERT_TRUE(c.ProposeUntilApplied("poison"));
  }
  ASSERT_TRUE(WaitUntil([&] { return c.nodes[leader]->Status().halted; }));
  EXPECT_THAT(c.nodes[leader]->Status().halt_reason,
              HasSubstr("injected failure"));
  const int new_leader = c.WaitOtherLeader(leader, /*ready=*/false);
  ASSERT_GE(new_leader, 0)
      << "leadership was not transferred away from the halted leader";
  absl::StatusOr<uint64_t> refused = ProposeSync(c.nodes[leader].get(), "x");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  // The healthy pair accepts and applies new entries.
  const auto end = std::chrono::steady_clock::now() + kDeadline;
  bool applied = false;
  while (!applied && std::chrono::steady_clock::now() < end) {
    for (int i = 0; i < 3 && !applied; ++i) {
      if (i == leader || !c.nodes[i]->Status().is_leader) continue;
      applied = ProposeSync(c.nodes[i].get(), "after-halt").ok();
    }
    if (!applied) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(applied);
  for (int i = 0; i < 3; ++i) {
    if (i == leader) continue;
    EXPECT_TRUE(WaitUntil([&] {
      const auto e = c.sms[i]->Entries();
      return !e.empty() && e.back().payload == "after-halt";
    }));
  }
  for (const Entry& e : c.sms[leader]->Entries()) {
    EXPECT_NE(e.payload, "poison");
  }
  c.StopAll();
}

// (6) Option validation: INVALID_ARGUMENT naming the field.
TEST(RaftNodeTest, OptionValidation) {
  const std::string dir = TestDir("options");
  const int port = PickPorts(1)[0];
  RecordingSm sm;
  struct Case {
    std::string name;
    std::function<void(RaftOptions*)> mutate;
    absl::StatusCode code;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"id", [](RaftOptions* o) { o->id = 0; },
       absl::StatusCode::kInvalidArgument, "id: must be > 0"},
      {"address empty", [](RaftOptions* o) { o->address = ""; },
       absl::StatusCode::kInvalidArgument, "address: empty"},
      {"hostname", [](RaftOptions* o) { o->address = "localhost:26656"; },
       absl::StatusCode::kInvalidArgument, "address: host 'localhost'"},
      {"ipv6", [](RaftOptions* o) { o->address = "[::1]:26656"; },
       absl::StatusCode::kInvalidArgument, "address: "},
      {"no port", [](RaftOptions* o) { o->address = "127.0.0.1"; },
       absl::StatusCode::kInvalidArgument, "address: '127.0.0.1' is not"},
      {"port 0", [](RaftOptions* o) { o->address = "127.0.0.1:0"; },
       absl::StatusCode::kInvalidArgument, "address port: "},
      {"port big", [](RaftOptions* o) { o->address = "127.0.0.1:65536"; },
       absl::StatusCode::kInvalidArgument, "address port: "},
      {"any", [](RaftOptions* o) { o->address = "0.0.0.0:26656"; },
       absl::StatusCode::kInvalidArgument, "address: unspecified host"},
      {"long", [](RaftOptions* o) { o->address = std::string(100, '1'); },
       absl::StatusCode::kInvalidArgument, "address: 100 bytes"},
      {"relative dir", [](RaftOptions* o) { o->data_dir = "raft"; },
       absl::StatusCode::kInvalidArgument, "data_dir: must be an absolute"},
      {"dotdot dir", [&](RaftOptions* o) { o->data_dir = dir + "/../x"; },
       absl::StatusCode::kInvalidArgument, "data_dir: "},
      {"trailing slash", [&](RaftOptions* o) { o->data_dir = dir + "/"; },
       absl::StatusCode::kInvalidArgument, "data_dir: must name"},
      {"missing parent",
       [&](RaftOptions* o) { o->data_dir = dir + "/no/such/raft"; },
       absl::StatusCode::kNotFound, "data_dir: parent directory"},
      {"long dir",
       [](RaftOptions* o) { o->data_dir = "/" + std::string(600, 'a'); },
       absl::StatusCode::kInvalidArgument, "data_dir: 601 bytes"},
      {"heartbeat", [](RaftOptions* o) { o->heartbeat_ms = 5; },
       absl::StatusCode::kInvalidArgument, "heartbeat_ms: 5 is outside"},
      {"election",
       [](RaftOptions* o) {
         o->heartbeat_ms = 100;
         o->election_timeout_ms = 150;
       },
       absl::StatusCode::kInvalidArgument,
       "election_timeout_ms: 150 is outside 200..60000"},
      {"threshold", [](RaftOptions* o) { o->snapshot_threshold = 4; },
       absl::StatusCode::kInvalidArgument, "snapshot_threshold: 4"},
      {"trailing", [](RaftOptions* o) { o->snapshot_trailing = 0; },
       absl::StatusCode::kInvalidArgument, "snapshot_trailing: 0"},
      {"entry size", [](RaftOptions* o) { o->max_entry_bytes = 0; },
       absl::StatusCode::kInvalidArgument, "max_entry_bytes: 0"},
      {"inflight", [](RaftOptions* o) { o->max_inflight_proposals = 0; },
       absl::StatusCode::kInvalidArgument, "max_inflight_proposals: 0"},
      {"inflight bytes",
       [](RaftOptions* o) { o->max_inflight_bytes = o->max_entry_bytes - 1; },
       absl::StatusCode::kInvalidArgument, "max_inflight_bytes: "},
      {"segment", [](RaftOptions* o) { o->segment_size_bytes = 4096; },
       absl::StatusCode::kInvalidArgument, "segment_size_bytes: 4096"},
      {"voter id",
       [](RaftOptions* o) {
         o->initial_voters.push_back({0, "127.0.0.1:9"});
       },
       absl::StatusCode::kInvalidArgument, "initial_voters[1].id: must be"},
      {"voter address",
       [](RaftOptions* o) {
         o->initial_voters.push_back({2, "a:9"});
       },
       absl::StatusCode::kInvalidArgument, "initial_voters[1].address: host"},
      {"duplicate id",
       [](RaftOptions* o) {
         o->initial_voters.push_back({1, "127.0.0.1:9"});
       },
       absl::StatusCode::kInvalidArgument,
       "initial_voters[1].id: duplicate id 1"},
      {"duplicate address",
       [](RaftOptions* o) {
         o->initial_voters.push_back({2, "127.0.0.2:9"});
         o->initial_voters.push_back({3, "127.0.0.2:9"});
       },
       absl::StatusCode::kInvalidArgument,
       "initial_voters[2].address: duplicate address"},
      {"self missing",
       [](RaftOptions* o) {
         o->initial_voters = {{2, "127.0.0.2:9"}};
       },
       absl::StatusCode::kInvalidArgument,
       "initial_voters: does not contain this node"},
      {"self address",
       [](RaftOptions* o) { o->initial_voters[0].address = "127.0.0.2:9"; },
       absl::StatusCode::kInvalidArgument,
       "initial_voters[0].address: 127.0.0.2:9 differs"},
      {"too many voters",
       [](RaftOptions* o) {
         for (uint64_t i = 2; i <= 17; ++i) {
           o->initial_voters.push_back({i, absl::StrCat("127.0.0.3:", i)});
         }
       },
       absl::StatusCode::kInvalidArgument, "initial_voters: 17 voters"},
      {"no voters on a fresh dir",
       [](RaftOptions* o) { o->initial_voters.clear(); },
       absl::StatusCode::kInvalidArgument,
       "initial_voters: empty but data_dir holds no raft state"},
  };
  for (const Case& c : cases) {
    RaftOptions o = SingleVoter(dir + "_x", port);
    c.mutate(&o);
    auto node = RaftNode::Start(o, &sm);
    ASSERT_FALSE(node.ok()) << c.name;
    EXPECT_EQ(node.status().code(), c.code) << c.name << ": " << node.status();
    EXPECT_THAT(std::string(node.status().message()), StartsWith(c.want))
        << c.name;
  }
  auto null_sm = RaftNode::Start(SingleVoter(dir, port), nullptr);
  ASSERT_FALSE(null_sm.ok());
  EXPECT_EQ(std::string(null_sm.status().message()), "state_machine: null");
  EXPECT_EQ(sm.ApplyCalls(), 0u);
}

// A store that already holds state must not be bootstrapped under a new
// (empty) raft log, and the attestation hook can refuse a peer.
TEST(RaftNodeTest, RefusesMismatchedStoreAndUnattestedPeer) {
  const int port = PickPorts(1)[0];
  RecordingSm ahead({{5, "x"}});
  auto mismatched =
      RaftNode::Start(SingleVoter(TestDir("mismatch"), port), &ahead);
  ASSERT_FALSE(mismatched.ok());
  EXPECT_EQ(mismatched.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(mismatched.status().message()),
              HasSubstr("refusing to bootstrap"));

  RecordingSm sm;
  RaftOptions o = SingleVoter(TestDir("attest"), port);
  o.initial_voters.push_back({2, "127.0.0.2:26656"});
  std::vector<uint64_t> asked;
  o.attest_member = [&](const RaftPeer& p) {
    asked.push_back(p.id);
    return absl::PermissionDeniedError("no TPM quote");
  };
  auto refused = RaftNode::Start(o, &sm);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("initial_voters[1]: attestation refused for raft peer "
                        "2@127.0.0.2:26656: no TPM quote"));
  EXPECT_EQ(asked, std::vector<uint64_t>{2});
}

// An address already taken by another socket: Start fails, saying why.
TEST(RaftNodeTest, AddressInUse) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  RecordingSm sm;
  auto node =
      RaftNode::Start(SingleVoter(TestDir("inuse"), ntohs(a.sin_port)), &sm);
  ::close(fd);
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(node.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(node.status().message()),
              StartsWith("raft_start: I/O error: "));
  EXPECT_THAT(std::string(node.status().message()), HasSubstr("in use"));
}

// Payload limits, the in-flight bound, Stop semantics.
TEST(RaftNodeTest, ProposeLimitsAndStop) {
  RecordingSm sm;
  RaftOptions o = SingleVoter(TestDir("limits"), PickPorts(1)[0]);
  o.max_entry_bytes = 1024;
  o.max_inflight_proposals = 2;
  o.max_inflight_bytes = 4096;
  auto node = StartFresh(&o, &sm);
  ASSERT_TRUE(node.ok()) << node.status();

  absl::StatusOr<uint64_t> big =
      ProposeSync(node->get(), std::string(1025, 'b'));
  EXPECT_EQ(big.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(big.status().message()),
              StartsWith("payload: 1025 bytes, over the limit of 1024"));
  absl::StatusOr<uint64_t> empty = ProposeSync(node->get(), "");
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);

  // Apply blocks: the first two stay in flight, the third is refused.
  sm.SetBlocked(true);
  Results r;
  (*node)->Propose("one", r.Cb(0));
  (*node)->Propose("two", r.Cb(1));
  (*node)->Propose("three", r.Cb(2));
  ASSERT_TRUE(r.WaitTotal(1));
  absl::StatusOr<uint64_t> third = r.Only(2);
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(third.status().message()),
              HasSubstr("too many proposals in flight"));
  sm.SetBlocked(false);
  ASSERT_TRUE(r.WaitTotal(3));
  EXPECT_TRUE(r.Only(0).ok());
  EXPECT_TRUE(r.Only(1).ok());

  // Stop from inside `done` is refused (it would join its own thread).
  absl::Status inner;
  Results r2;
  (*node)->Propose("four", [&](absl::StatusOr<uint64_t> res) {
    inner = (*node)->Stop();
    r2.Cb(0)(std::move(res));
  });
  ASSERT_TRUE(r2.WaitTotal(1));
  EXPECT_EQ(inner.code(), absl::StatusCode::kFailedPrecondition);

  ASSERT_TRUE((*node)->Stop().ok());
  EXPECT_FALSE((*node)->Status().is_leader);
  absl::StatusOr<uint64_t> after = ProposeSync(node->get(), "five");
  EXPECT_EQ(after.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(after.status().message()), "raft node is stopped");
  EXPECT_TRUE((*node)->Stop().ok());
}

TEST(RaftNodeTest, SnapshotMarkerCodec) {
  SnapshotInfo in{41, 57};
  const std::string m = EncodeSnapshotMarker(in);
  ASSERT_EQ(m.size(), kSnapshotMarkerBytes);
  EXPECT_EQ(m.substr(0, 8), "VERAFTSN");
  absl::StatusOr<SnapshotInfo> out = DecodeSnapshotMarker(m);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->applied_index, 41u);
  EXPECT_EQ(out->raft_index, 57u);

  EXPECT_THAT(std::string(DecodeSnapshotMarker(m.substr(1)).status().message()),
              HasSubstr("31 bytes, want 32"));
  std::string bad = m;
  bad[0] = 'X';
  EXPECT_THAT(std::string(DecodeSnapshotMarker(bad).status().message()),
              HasSubstr("bad magic"));
  bad = m;
  bad[8] = 2;
  EXPECT_THAT(std::string(DecodeSnapshotMarker(bad).status().message()),
              HasSubstr("version 2 not supported"));
  bad = m;
  bad[12] = 1;
  EXPECT_THAT(std::string(DecodeSnapshotMarker(bad).status().message()),
              HasSubstr("reserved"));
  EXPECT_THAT(
      std::string(DecodeSnapshotMarker(EncodeSnapshotMarker(SnapshotInfo{9, 8}))
                      .status()
                      .message()),
      HasSubstr("beyond its raft index"));
}

}  // namespace
}  // namespace virtengine::consensus::test
