// The fault-injection suite (issue 5): real 3-node ve-node clusters under
// continuous load, with (1) SIGKILL of a random node, leader-biased,
// (2) network partitions in network namespaces (isolated leader, isolated
// minority, flapping links), (3) SIGSTOP/SIGCONT of the leader and (4) a
// full disk on one node. After each: harness.h's checks (acknowledged txs
// exactly once everywhere, equal headers, supply, linearizable register).
// The time until the cluster serves again goes to the results file
// (harness.h: WriteResults). Short form by default; VE_CHAOS_LONG=1 runs
// the long form (100 kill cycles, more partitions and stops).
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "security/crypto/random.h"
#include "tests/chaos/harness.h"

namespace virtengine::chaos {
namespace {

std::vector<RecoveryRow>& Rows() {
  static auto* rows = new std::vector<RecoveryRow>();
  return *rows;
}

class ResultsEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    if (!Rows().empty()) WriteResults(Rows());
  }
};

[[maybe_unused]] ::testing::Environment* const kResultsEnv =
    ::testing::AddGlobalTestEnvironment(new ResultsEnvironment);

std::string Base(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  return absl::StrCat(t != nullptr ? t : "/tmp", "/", name);
}

void SleepMs(int64_t ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

int Cycles(int short_form, int long_form) {
  return LongForm() ? long_form : short_form;
}

// Waits until node i answers Status and names a leader.
bool WaitNodeServing(ChaosCluster& c, int i, int seconds) {
  const auto until = Clock::now() + std::chrono::seconds(seconds);
  while (Clock::now() < until) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(1));
    node::v1::StatusResponse r;
    if (c.stub(i).Status(&ctx, {}, &r).ok() && r.leader_id() != 0) {
      return true;
    }
    SleepMs(100);
  }
  return false;
}

RecoveryRow Row(const std::string& fault) {
  RecoveryRow r;
  r.fault = fault;
  return r;
}

// Records one measured recovery into `row`.
void Record(RecoveryRow& row, std::optional<double> ms) {
  ++row.cycles;
  if (ms) {
    row.recovery_ms.push_back(*ms);
  } else {
    ++row.not_served;
  }
}

// Stops the load, runs the checks, fills in the row's stats and verdict.
void Finish(ChaosCluster& c, Workload& w, Verifier& v,
            const std::vector<RecoveryRow*>& rows) {
  w.Stop();
  std::string summary;
  absl::Status s = v.Check(c, w, &summary);
  EXPECT_TRUE(s.ok()) << s;
  std::cerr << "checks: " << (s.ok() ? summary : s.ToString()) << "\n";
  for (RecoveryRow* r : rows) {
    r->stats = w.stats();
    r->verdict = s.ok() ? "ok" : std::string(s.message().substr(0, 120));
    Rows().push_back(*r);
  }
}

TEST(ChaosTest, SigkillRandomNodeLeaderBiasedUnderLoad) {
  auto c = ChaosCluster::Create(Base("kill"), {});
  ASSERT_TRUE(c.ok()) << c.status();
  ChaosCluster& cl = **c;
  Workload w(&cl, 3, 2);
  Verifier v;
  w.Start();
  ASSERT_TRUE(w.WaitServed(NowNs() - 1, 30).has_value()) << "no commit";
  RecoveryRow row;
  row.fault = "sigkill";
  const int cycles = Cycles(10, 100);
  for (int k = 0; k < cycles; ++k) {
    const int leader = cl.Leader(30);
    ASSERT_GE(leader, 0) << "no leader before cycle " << k;
    // Two times in three the leader, else any node.
    const int victim = crypto::RandomUniform(3) < 2
                           ? leader
                           : static_cast<int>(crypto::RandomUniform(
                                 static_cast<uint32_t>(cl.size())));
    const int64_t t = NowNs();
    cl.Kill(victim);
    Record(row, w.WaitServed(t, 30));
    SleepMs(crypto::RandomUniform(1000));
    ASSERT_TRUE(cl.Start(victim).ok());
    ASSERT_TRUE(WaitNodeServing(cl, victim, 60))
        << "node " << victim + 1 << " did not come back; log "
        << cl.log_path(victim);
  }
  Finish(cl, w, v, {&row});
}

TEST(ChaosTest, PartitionsInNetworkNamespaces) {
  if (!CanUseNetns()) GTEST_SKIP() << "needs root for network namespaces";
  ClusterOptions o;
  o.netns = true;
  auto c = ChaosCluster::Create(Base("part"), o);
  ASSERT_TRUE(c.ok()) << c.status();
  ChaosCluster& cl = **c;
  NetTopology& net = *cl.net();
  Workload w(&cl, 3, 2);
  Verifier v;
  w.Start();
  ASSERT_TRUE(w.WaitServed(NowNs() - 1, 30).has_value()) << "no commit";
  const int64_t hold_ms = 3000;
  RecoveryRow iso = Row("partition_leader");
  RecoveryRow minority = Row("partition_minority");
  RecoveryRow flap = Row("flapping_links");
  for (int k = 0; k < Cycles(2, 10); ++k) {
    // The leader alone on one side: the majority elects another.
    const int leader = cl.Leader(30);
    ASSERT_GE(leader, 0);
    int64_t t = NowNs();
    ASSERT_TRUE(net.Isolate(leader).ok());
    Record(iso, w.WaitServed(t, 30));
    SleepMs(std::max<int64_t>(0, hold_ms - (NowNs() - t) / 1000000));
    ASSERT_TRUE(net.HealAll().ok());
    ASSERT_GE(cl.Leader(30), 0) << "no leader after healing";

    // A minority (one follower) cut off: the others keep serving.
    const int l2 = cl.Leader(30);
    ASSERT_GE(l2, 0);
    const int follower = (l2 + 1 +
                          static_cast<int>(crypto::RandomUniform(
                              static_cast<uint32_t>(cl.size() - 1)))) %
                         cl.size();
    t = NowNs();
    ASSERT_TRUE(net.Isolate(follower).ok());
    Record(minority, w.WaitServed(t, 30));
    SleepMs(hold_ms);
    ASSERT_TRUE(net.HealAll().ok());
    ASSERT_GE(cl.Leader(30), 0);

    // Flapping: a random link toggles every 100..400 ms; measured from the
    // final heal.
    const auto until = Clock::now() + std::chrono::milliseconds(6000);
    while (Clock::now() < until) {
      const int a = static_cast<int>(crypto::RandomUniform(3));
      const int b = (a + 1 + static_cast<int>(crypto::RandomUniform(2))) % 3;
      ASSERT_TRUE((net.IsCut(a, b) ? net.Heal(a, b) : net.Cut(a, b)).ok());
      SleepMs(100 + crypto::RandomUniform(300));
    }
    ASSERT_TRUE(net.HealAll().ok());
    t = NowNs();
    Record(flap, w.WaitServed(t, 30));
    ASSERT_GE(cl.Leader(30), 0);
  }
  Finish(cl, w, v, {&iso, &minority, &flap});
}

TEST(ChaosTest, SigstopSigcontOfTheLeader) {
  auto c = ChaosCluster::Create(Base("stop"), {});
  ASSERT_TRUE(c.ok()) << c.status();
  ChaosCluster& cl = **c;
  Workload w(&cl, 3, 2);
  Verifier v;
  w.Start();
  ASSERT_TRUE(w.WaitServed(NowNs() - 1, 30).has_value()) << "no commit";
  RecoveryRow row = Row("sigstop_leader");
  for (int k = 0; k < Cycles(3, 20); ++k) {
    const int leader = cl.Leader(30);
    ASSERT_GE(leader, 0);
    const int64_t t = NowNs();
    cl.Stop(leader);
    Record(row, w.WaitServed(t, 30));
    SleepMs(std::max<int64_t>(0, 3000 - (NowNs() - t) / 1000000));
    cl.Cont(leader);
    ASSERT_TRUE(WaitNodeServing(cl, leader, 60));
  }
  Finish(cl, w, v, {&row});
}

TEST(ChaosTest, FullDiskOnOneNode) {
  if (!CanUseNetns()) GTEST_SKIP() << "needs root to mount a tmpfs";
  ClusterOptions o;
  o.tmpfs_node = 0;
  o.tmpfs_mb = 256;
  auto c = ChaosCluster::Create(Base("disk"), o);
  ASSERT_TRUE(c.ok()) << c.status();
  ChaosCluster& cl = **c;
  Workload w(&cl, 3, 2);
  Verifier v;
  w.Start();
  ASSERT_TRUE(w.WaitServed(NowNs() - 1, 30).has_value()) << "no commit";
  RecoveryRow row = Row("full_disk");
  int crashed = 0, was_leader = 0, halted = 0;
  const int64_t hold_ms = LongForm() ? 60000 : 15000;
  for (int k = 0; k < Cycles(1, 5); ++k) {
    was_leader += cl.Leader(30) == 0 ? 1 : 0;
    const int64_t t = NowNs();
    ASSERT_TRUE(cl.tmpfs()->Fill(0).ok());
    Record(row, w.WaitServed(t, 30));
    bool saw_halt = false;
    while ((NowNs() - t) / 1000000 < hold_ms) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(1));
      node::v1::StatusResponse r;
      if (cl.stub(0).Status(&ctx, {}, &r).ok() && r.halted()) saw_halt = true;
      SleepMs(500);
    }
    halted += saw_halt ? 1 : 0;
    ASSERT_TRUE(cl.tmpfs()->Drain().ok());
    if (cl.Exited(0)) {
      ++crashed;
      ASSERT_TRUE(cl.Start(0).ok());
    }
    ASSERT_TRUE(WaitNodeServing(cl, 0, 60))
        << "node 1 did not recover from the full disk; log " << cl.log_path(0);
  }
  row.note = absl::StrCat(
      "node 1 (home on a 256 MiB tmpfs, filled to 0 bytes free for ",
      hold_ms / 1000, " s per cycle) led when the disk filled in ", was_leader,
      " of ", row.cycles, " cycles; it reported halted in ", halted,
      " and exited in ", crashed, " cycles");
  std::cerr << "full disk: " << row.note << "\n";
  Finish(cl, w, v, {&row});
}

}  // namespace
}  // namespace virtengine::chaos
