#ifndef VIRTENGINE_SRC_NODE_METRICS_H_
#define VIRTENGINE_SRC_NODE_METRICS_H_

// ve-node's Prometheus metrics (prometheus-cpp), served on /metrics of the
// metrics address (default 127.0.0.1:26660). Names follow
// virtengine_<subsystem>_<name>_<unit> (docs/operator/metrics.md).

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "prometheus/counter.h"
#include "prometheus/exposer.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace virtengine::node {

class NodeMetrics {
 public:
  // Registers every metric; serves them when `address` is not empty
  // (UNAVAILABLE when the port cannot be bound).
  static absl::StatusOr<std::unique_ptr<NodeMetrics>> Create(
      const std::string& address);

  void SetHeight(uint64_t h) { height_->Set(static_cast<double>(h)); }
  void AddCommittedTxs(uint64_t n) {
    txs_committed_->Increment(static_cast<double>(n));
  }
  void AddBlock() { blocks_->Increment(); }
  void SetMempool(size_t txs, size_t bytes) {
    mempool_txs_->Set(static_cast<double>(txs));
    mempool_bytes_->Set(static_cast<double>(bytes));
  }
  // `reason` is one of the fixed labels of RejectionReason().
  void AddRejection(std::string_view reason);
  void ObserveCommitLatency(double seconds) {
    commit_latency_->Observe(seconds);
  }
  void ObserveBlockApply(double seconds) { block_apply_->Observe(seconds); }
  void SetHalted(bool halted) { halted_->Set(halted ? 1 : 0); }
  void SetLeader(bool leader) { leader_->Set(leader ? 1 : 0); }
  void SetAttested(bool attested) { attested_->Set(attested ? 1 : 0); }
  void SetInsecureNoTpm(bool on) { insecure_no_tpm_->Set(on ? 1 : 0); }
  void SetRaft(uint64_t term, uint64_t commit_index, size_t voters,
               size_t non_voters) {
    term_->Set(static_cast<double>(term));
    commit_index_->Set(static_cast<double>(commit_index));
    voters_->Set(static_cast<double>(voters));
    non_voters_->Set(static_cast<double>(non_voters));
  }
  void AddStateTransfer(bool ok) {
    (ok ? transfers_ok_ : transfers_failed_)->Increment();
  }
  void SetStoreFigure(std::string_view property, uint64_t value);

  prometheus::Registry& registry() { return *registry_; }

 private:
  NodeMetrics();
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  prometheus::Gauge* height_;
  prometheus::Counter* txs_committed_;
  prometheus::Counter* blocks_;
  prometheus::Gauge* mempool_txs_;
  prometheus::Gauge* mempool_bytes_;
  prometheus::Family<prometheus::Counter>* rejections_;
  std::map<std::string, prometheus::Counter*, std::less<>> rejection_by_reason_;
  prometheus::Histogram* commit_latency_;
  prometheus::Histogram* block_apply_;
  prometheus::Gauge* halted_;
  prometheus::Gauge* leader_;
  prometheus::Gauge* attested_;
  prometheus::Gauge* insecure_no_tpm_;
  prometheus::Gauge* term_;
  prometheus::Gauge* commit_index_;
  prometheus::Gauge* voters_;
  prometheus::Gauge* non_voters_;
  prometheus::Counter* transfers_ok_;
  prometheus::Counter* transfers_failed_;
  prometheus::Family<prometheus::Gauge>* store_;
  std::map<std::string, prometheus::Gauge*, std::less<>> store_by_property_;
};

// Maps a CheckTx refusal to a fixed, bounded label: "decode", "signature",
// "chain_id", "unknown_message", "sequence", "fee", "insufficient_funds",
// "gate", "timeout", "duplicate", "mempool_full", "not_leader", "other".
std::string_view RejectionReason(const absl::Status& status);

}  // namespace virtengine::node

#endif  // VIRTENGINE_SRC_NODE_METRICS_H_
