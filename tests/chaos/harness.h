// The chaos suite's cluster harness: a ve-node cluster (loopback, or one
// network namespace per node), a continuous client workload (signed bank
// transfers, and a read/write register: the profile key "reg" of loadgen
// account 0, written by one client and read linearizably by others), and
// the checks run after every fault:
//   - every tx acknowledged as committed is in exactly one block on every
//     node (no tx hash twice anywhere);
//   - block headers (so ledger roots and state digests) are byte-equal at
//     equal heights on every node;
//   - the supply invariant: the balances of every account sum to genesis;
//   - the register history is linearizable (linearizability.h).
// Timings ("time until the cluster serves again") are collected into a
// ResultsTable written as DESIGN §3's benchmark results (table + json).
#ifndef VIRTENGINE_TESTS_CHAOS_HARNESS_H_
#define VIRTENGINE_TESTS_CHAOS_HARNESS_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "src/api/node/v1/node.grpc.pb.h"
#include "tests/chaos/linearizability.h"
#include "tests/chaos/netns.h"
#include "tests/integration/node_process.h"

namespace virtengine::chaos {

using Clock = std::chrono::steady_clock;
int64_t NowNs();  // steady clock, ns

// VE_CHAOS_LONG=1 (bazel test --test_env=VE_CHAOS_LONG=1) selects the long
// form of each fault.
bool LongForm();

struct ClusterOptions {
  int nodes = 3;
  uint32_t accounts = 8;  // loadgen accounts funded at genesis
  uint64_t amount = 1'000'000'000;
  bool netns = false;   // one network namespace per node
  int tmpfs_node = -1;  // this node's home is on a tmpfs of tmpfs_mb
  int tmpfs_mb = 64;
};

class ChaosCluster {
 public:
  // Inits the homes under `base` (created) and starts every node.
  static absl::StatusOr<std::unique_ptr<ChaosCluster>> Create(
      const std::string& base, const ClusterOptions& options);
  ~ChaosCluster();

  int size() const { return static_cast<int>(homes_.size()); }
  const ClusterOptions& options() const { return options_; }
  const std::string& chain_id() const { return homes_[0].chain_id; }
  NetTopology* net() { return net_.get(); }
  Tmpfs* tmpfs() { return tmpfs_.get(); }

  absl::Status Start(int i);
  void Kill(int i);  // SIGKILL, reaped
  void Stop(int i);  // SIGSTOP
  void Cont(int i);  // SIGCONT
  bool Running(int i) const;
  // True when node i's process has exited (reaps it).
  bool Exited(int i);
  // A fresh stub for node i (the process may be down).
  node::v1::Node::Stub& stub(int i) { return *stubs_[i]; }
  std::string log_path(int i) const { return homes_[i].dir + ".log"; }

  // Index of the node that says it leads and that every other running
  // node naming a leader names; -1 after `seconds`.
  int Leader(int seconds);
  // Waits until every running node is at the same height with the same
  // last block hash and state digest, and none is halted.
  absl::StatusOr<uint64_t> WaitConverged(int seconds);

 private:
  ChaosCluster() = default;
  ClusterOptions options_;
  std::unique_ptr<exec::Runner> runner_;
  std::unique_ptr<NetTopology> net_;
  std::unique_ptr<Tmpfs> tmpfs_;
  std::vector<testing::NodeHome> homes_;
  std::vector<std::unique_ptr<testing::NodeProcess>> procs_;
  std::vector<std::unique_ptr<node::v1::Node::Stub>> stubs_;
  std::vector<bool> stopped_;
};

struct WorkloadStats {
  uint64_t tx_acked = 0, tx_failed = 0, tx_unknown = 0;
  uint64_t writes_ok = 0, writes_failed = 0, writes_unknown = 0;
  uint64_t reads_ok = 0, reads_unknown = 0;
};

// Continuous load: `transfer_clients` clients (loadgen accounts 1..n) send
// transfers and wait for commit; one writer sets "reg" of account 0 to a
// fresh value; `readers` clients read it with consistent queries. Each
// request goes to the next node in turn.
class Workload {
 public:
  Workload(ChaosCluster* cluster, int transfer_clients, int readers);
  ~Workload();
  void Start();
  void Stop();  // joins the clients

  WorkloadStats stats() const;
  std::vector<std::string> acked_hashes() const;
  std::vector<RegisterOp> history() const;
  // Completion time of the first acknowledged write (transfer or register)
  // invoked at or after `t_ns`; nullopt when none yet.
  std::optional<int64_t> FirstAckAfter(int64_t t_ns) const;
  // Waits (up to `seconds`) for FirstAckAfter(t_ns); returns the delay in
  // ms, or nullopt.
  std::optional<double> WaitServed(int64_t t_ns, int seconds) const;

 private:
  void TransferClient(int c);
  void Writer();
  void Reader(int r);
  int NextNode();
  std::optional<uint64_t> SyncSequence(uint32_t account);

  ChaosCluster* cluster_;
  int transfer_clients_, readers_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> rr_{0};
  std::vector<std::thread> threads_;
  mutable absl::Mutex mu_;
  WorkloadStats stats_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> acked_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<int64_t, int64_t>> ack_times_ ABSL_GUARDED_BY(mu_);
  std::vector<RegisterOp> history_ ABSL_GUARDED_BY(mu_);
  uint64_t next_value_ = 0;
};

// The post-fault checks (see the file comment). `verified_height` is where
// the previous check stopped (blocks up to it are not fetched again, their
// tx hashes are kept in `seen`).
struct Verifier {
  uint64_t verified_height = 0;
  std::map<std::string, uint64_t> tx_height;  // hash -> height on node 0
  absl::Status Check(ChaosCluster& cluster, const Workload& workload,
                     std::string* summary);
};

// One row per measured recovery.
struct RecoveryRow {
  std::string fault;
  int cycles = 0;
  std::vector<double> recovery_ms;  // one per cycle (missing = not served)
  int not_served = 0;
  WorkloadStats stats;
  std::string verdict;  // "ok" or the first failed check
  std::string note;     // what else was observed (printed under the table)
};

// Writes tests/chaos results as DESIGN §3 (command, date, cores, table,
// fenced json), to $VE_CHAOS_RESULTS when set, else to
// $TEST_UNDECLARED_OUTPUTS_DIR/results.md.
void WriteResults(const std::vector<RecoveryRow>& rows);

}  // namespace virtengine::chaos

#endif  // VIRTENGINE_TESTS_CHAOS_HARNESS_H_
