// One load phase against ve-node (shared by node_load and cluster_load):
// many concurrent clients submit pre-signed bank transfers over gRPC; a
// StreamEvents subscriber timestamps each commit. Accounts are
// loadgen::AccountKey(0..N-1), funded at genesis.
#ifndef VIRTENGINE_TESTS_LOAD_NODE_PHASE_H_
#define VIRTENGINE_TESTS_LOAD_NODE_PHASE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/api/node/v1/node.grpc.pb.h"

namespace virtengine::loadgen {

struct Options {
  std::string node = "127.0.0.1:9090";
  // When set, client c submits to nodes[c % size] (a cluster: followers
  // forward to the leader) and the commit stream is read from nodes[0];
  // otherwise everything goes to `node`.
  std::vector<std::string> nodes;
  uint32_t accounts = 64;
  uint32_t txs = 40000;
  uint32_t clients = 32;
  uint32_t batch = 500;
  uint64_t fee = 1;
  uint64_t rate = 0;   // offered tx/s, 0 = as fast as possible
  uint64_t paced = 0;  // also run single submission at this offered rate
  std::string denom = "uve";
  std::vector<std::string> modes = {"single", "batch"};
  std::string out;
  std::string commit = "unknown";
  std::string command;
};

// The whole machine's CPU over a phase, from /proc/stat: busy (user,
// nice, system, irq, softirq) and steal (time the hypervisor gave another
// guest while this one wanted to run), as % of all CPU time. Steal makes
// latency figures of a shared VM worse than the software is: reported
// beside them.
struct CpuShare {
  double busy_pct = 0, steal_pct = 0;
};
class CpuMeter {
 public:
  CpuMeter();             // starts measuring
  CpuShare Read() const;  // since construction

 private:
  std::vector<uint64_t> start_;
};

struct PhaseResult {
  std::string mode;
  CpuShare cpu;
  uint64_t offered_rate = 0;
  uint64_t submitted = 0, rejected = 0, committed = 0;
  double seconds = 0, tx_per_s = 0, p50_ms = 0, p99_ms = 0, max_ms = 0;
  std::string first_error;
};

std::unique_ptr<node::v1::Node::Stub> Connect(const std::string& target);

// Open-loop pacing at `rate` requests/s spread over `clients` threads:
// client c sends its k-th request at start + (k * clients + c) / rate, so
// arrivals are evenly spaced (1 ms apart at 1,000/s). (Until 2026-12-03
// every client sent its k-th request at k * clients / rate: bursts of
// `clients` requests at once, which measured the burst, not the rate.)
std::chrono::steady_clock::time_point PacedAt(
    std::chrono::steady_clock::time_point start, uint64_t k, uint32_t c,
    uint32_t clients, uint64_t rate);

// The load generator shares the cores with the nodes it measures: in a
// release build it skips abseil's per-lock deadlock detection (Debian's
// abseil enables it), as ve-node does.
void SkipMutexDeadlockDetection();

// The p-quantile (0..1) of `v` (reordered).
double Percentile(std::vector<double>& v, double p);

// Pre-signs o.txs transfers (not measured), submits them in `mode`
// ("single": one tx per SubmitTx; "batch": o.batch per SubmitTxBatch) at
// `rate` tx/s (0 = as fast as possible) and times each commit.
absl::StatusOr<PhaseResult> RunPhase(const Options& o, const std::string& mode,
                                     uint64_t rate);

}  // namespace virtengine::loadgen

#endif  // VIRTENGINE_TESTS_LOAD_NODE_PHASE_H_
