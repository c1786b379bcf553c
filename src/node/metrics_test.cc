#include "src/node/metrics.h"

#include <sstream>

#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"

namespace virtengine::node {
namespace {

std::string Scrape(NodeMetrics& m) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, m.registry().Collect());
  return out.str();
}

TEST(MetricsTest, ExportsNamedFigures) {
  absl::StatusOr<std::unique_ptr<NodeMetrics>> m = NodeMetrics::Create("");
  ASSERT_TRUE(m.ok());
  (*m)->SetHeight(42);
  (*m)->AddCommittedTxs(7);
  (*m)->AddRejection("sequence");
  (*m)->AddRejection("no-such-label");
  (*m)->ObserveCommitLatency(0.003);
  (*m)->SetStoreFigure("rocksdb.total-sst-files-size", 1234);
  (*m)->SetRaft(5, 99, 3, 1);
  (*m)->AddStateTransfer(true);
  (*m)->AddStateTransfer(false);
  (*m)->AddStateTransfer(false);
  const std::string text = Scrape(**m);
  EXPECT_NE(text.find("virtengine_consensus_term 5"), std::string::npos);
  EXPECT_NE(text.find("virtengine_consensus_commit_index 99"),
            std::string::npos);
  EXPECT_NE(text.find("virtengine_consensus_servers{role=\"voter\"} 3"),
            std::string::npos);
  EXPECT_NE(text.find("virtengine_consensus_servers{role=\"non_voter\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("virtengine_consensus_state_transfers_total{result="
                      "\"failed\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("virtengine_ledger_height_blocks 42"), std::string::npos);
  EXPECT_NE(text.find("virtengine_ledger_txs_committed_total 7"),
            std::string::npos);
  EXPECT_NE(
      text.find("virtengine_checktx_rejections_total{reason=\"sequence\"} 1"),
      std::string::npos);
  EXPECT_NE(
      text.find("virtengine_checktx_rejections_total{reason=\"other\"} 1"),
      std::string::npos);
  EXPECT_NE(text.find("virtengine_ledger_commit_latency_seconds_count 1"),
            std::string::npos);
  EXPECT_NE(text.find("property=\"rocksdb.total-sst-files-size\"} 1234"),
            std::string::npos);
}

TEST(MetricsTest, ClassifiesRejections) {
  EXPECT_EQ(RejectionReason(absl::UnauthenticatedError(
                "tx: signature does not verify for chain x")),
            "signature");
  EXPECT_EQ(RejectionReason(absl::FailedPreconditionError(
                "bank: sequence mismatch for ve1x: expected 1, got 3")),
            "sequence");
  EXPECT_EQ(RejectionReason(absl::FailedPreconditionError(
                "bank: insufficient funds: ve1x has 1uve, needs 5uve")),
            "insufficient_funds");
  EXPECT_EQ(RejectionReason(
                absl::InvalidArgumentError("tx: unknown message type /x")),
            "unknown_message");
  EXPECT_EQ(
      RejectionReason(absl::InvalidArgumentError("tx: memo is not UTF-8")),
      "decode");
  EXPECT_EQ(RejectionReason(absl::AlreadyExistsError("tx already in mempool")),
            "duplicate");
  EXPECT_EQ(RejectionReason(absl::PermissionDeniedError("gate: needs tier 2")),
            "gate");
}

TEST(MetricsTest, BindFailureIsAStatus) {
  absl::StatusOr<std::unique_ptr<NodeMetrics>> m =
      NodeMetrics::Create("256.0.0.1:1");
  EXPECT_FALSE(m.ok());
}

}  // namespace
}  // namespace virtengine::node
