#include "src/node/metrics.h"

#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"

namespace virtengine::node {

NodeMetrics::NodeMetrics()
    : registry_(std::make_shared<prometheus::Registry>()) {
  auto& r = *registry_;
  height_ = &prometheus::BuildGauge()
                 .Name("virtengine_ledger_height_blocks")
                 .Help("Height of the last committed block")
                 .Register(r)
                 .Add({});
  txs_committed_ = &prometheus::BuildCounter()
                        .Name("virtengine_ledger_txs_committed_total")
                        .Help("Transactions committed in blocks")
                        .Register(r)
                        .Add({});
  blocks_ = &prometheus::BuildCounter()
                 .Name("virtengine_ledger_blocks_committed_total")
                 .Help("Blocks committed")
                 .Register(r)
                 .Add({});
  mempool_txs_ = &prometheus::BuildGauge()
                      .Name("virtengine_mempool_size_txs")
                      .Help("Admitted transactions waiting for a block")
                      .Register(r)
                      .Add({});
  mempool_bytes_ = &prometheus::BuildGauge()
                        .Name("virtengine_mempool_size_bytes")
                        .Help("Bytes of admitted transactions waiting")
                        .Register(r)
                        .Add({});
  rejections_ = &prometheus::BuildCounter()
                     .Name("virtengine_checktx_rejections_total")
                     .Help("Transactions refused at submission, by reason")
                     .Register(r);
  for (const char* reason :
       {"decode", "signature", "unknown_message", "sequence", "fee",
        "insufficient_funds", "gate", "timeout", "duplicate", "mempool_full",
        "not_leader", "other"}) {
    rejection_by_reason_[reason] = &rejections_->Add({{"reason", reason}});
  }
  const prometheus::Histogram::BucketBoundaries latency = {
      0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5};
  commit_latency_ = &prometheus::BuildHistogram()
                         .Name("virtengine_ledger_commit_latency_seconds")
                         .Help("Submit-to-commit latency of transactions")
                         .Register(r)
                         .Add({}, latency);
  block_apply_ = &prometheus::BuildHistogram()
                      .Name("virtengine_ledger_block_apply_seconds")
                      .Help("Time to apply and commit one block")
                      .Register(r)
                      .Add({}, latency);
  halted_ = &prometheus::BuildGauge()
                 .Name("virtengine_node_halted_bool")
                 .Help("1 when the node stopped applying blocks (alarm)")
                 .Register(r)
                 .Add({});
  leader_ = &prometheus::BuildGauge()
                 .Name("virtengine_consensus_leader_bool")
                 .Help("1 while this node is the Raft leader")
                 .Register(r)
                 .Add({});
  term_ = &prometheus::BuildGauge()
               .Name("virtengine_consensus_term")
               .Help("Current Raft term as this node knows it")
               .Register(r)
               .Add({});
  commit_index_ = &prometheus::BuildGauge()
                       .Name("virtengine_consensus_commit_index")
                       .Help("Raft commit index as this node knows it")
                       .Register(r)
                       .Add({});
  auto& servers = prometheus::BuildGauge()
                      .Name("virtengine_consensus_servers")
                      .Help("Servers in the Raft configuration, by role")
                      .Register(r);
  voters_ = &servers.Add({{"role", "voter"}});
  non_voters_ = &servers.Add({{"role", "non_voter"}});
  auto& transfers = prometheus::BuildCounter()
                        .Name("virtengine_consensus_state_transfers_total")
                        .Help("Snapshot installs by state transfer, by result")
                        .Register(r);
  transfers_ok_ = &transfers.Add({{"result", "ok"}});
  transfers_failed_ = &transfers.Add({{"result", "failed"}});
  attested_ = &prometheus::BuildGauge()
                   .Name("virtengine_node_attested_bool")
                   .Help("1 when the node runs with TPM attestation")
                   .Register(r)
                   .Add({});
  insecure_no_tpm_ =
      &prometheus::BuildGauge()
           .Name("virtengine_node_insecure_no_tpm_bool")
           .Help("1 when the node was started with --insecure-no-tpm")
           .Register(r)
           .Add({});
  store_ = &prometheus::BuildGauge()
                .Name("virtengine_store_rocksdb_bytes")
                .Help("RocksDB size figures, by property")
                .Register(r);
}

absl::StatusOr<std::unique_ptr<NodeMetrics>> NodeMetrics::Create(
    const std::string& address) {
  std::unique_ptr<NodeMetrics> m(new NodeMetrics());
  if (!address.empty()) {
    // prometheus-cpp (civetweb) reports a bind failure by throwing; keep it
    // inside this boundary.
    try {
      m->exposer_ = std::make_unique<prometheus::Exposer>(address);
    } catch (const std::exception& e) {
      return absl::UnavailableError(
          absl::StrCat("metrics: cannot listen on ", address, ": ", e.what()));
    }
    m->exposer_->RegisterCollectable(m->registry_);
  }
  return m;
}

void NodeMetrics::AddRejection(std::string_view reason) {
  auto it = rejection_by_reason_.find(reason);
  if (it == rejection_by_reason_.end()) it = rejection_by_reason_.find("other");
  it->second->Increment();
}

void NodeMetrics::SetStoreFigure(std::string_view property, uint64_t value) {
  auto it = store_by_property_.find(property);
  if (it == store_by_property_.end()) {
    it = store_by_property_
             .emplace(std::string(property),
                      &store_->Add({{"property", std::string(property)}}))
             .first;
  }
  it->second->Set(static_cast<double>(value));
}

namespace {
bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}
}  // namespace

std::string_view RejectionReason(const absl::Status& s) {
  const std::string_view m(s.message().data(), s.message().size());
  switch (s.code()) {
    case absl::StatusCode::kAlreadyExists:
      return "duplicate";
    case absl::StatusCode::kResourceExhausted:
      return "mempool_full";
    case absl::StatusCode::kPermissionDenied:
      return "gate";
    case absl::StatusCode::kDeadlineExceeded:
      return "timeout";
    case absl::StatusCode::kUnauthenticated:
      // A wrong chain id and a forged signature look the same here: the
      // signature covers the chain id.
      return "signature";
    case absl::StatusCode::kUnavailable:
      return "not_leader";
    default:
      break;
  }
  if (Contains(m, "unknown message type")) return "unknown_message";
  if (Contains(m, "sequence")) return "sequence";
  if (Contains(m, "insufficient funds")) return "insufficient_funds";
  if (Contains(m, "fee")) return "fee";
  if (Contains(m, "not leader")) return "not_leader";
  if (s.code() == absl::StatusCode::kInvalidArgument) return "decode";
  return "other";
}

}  // namespace virtengine::node
