#ifndef VIRTENGINE_SRC_NODE_SERVICE_H_
#define VIRTENGINE_SRC_NODE_SERVICE_H_

// The public gRPC API (virtengine.node.v1.Node) over a Node. Request sizes
// are bounded by the server's max receive size and per-field checks here;
// every wait is bounded by the client's deadline and the configured
// max_wait_ms.

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "security/ratelimit/rate_limiter.h"
#include "src/api/node/v1/config.pb.h"
#include "src/api/node/v1/node.grpc.pb.h"
#include "src/node/node.h"

namespace virtengine::node {

grpc::Status ToGrpc(const absl::Status& s);
// Fills one API response from a submit outcome: a refusal is result code
// 100 + its gRPC code, the reason in result.log.
void FillSubmit(const SubmitOutcome& o, v1::SubmitTxResponse* r);

// Sends a follower's write (and consistent reads) on to the leader, once:
// a request that was forwarded already is never forwarded again (metadata
// "x-ve-forwarded"), so a stale view of the leader cannot make a loop.
class LeaderForwarder {
 public:
  static constexpr char kForwardedKey[] = "x-ve-forwarded";
  // True when `ctx` carries the forwarded mark.
  static bool WasForwarded(const grpc::ServerContext* ctx);
  // A stub for the leader's API address (channels are cached, at most 16).
  std::shared_ptr<v1::Node::Stub> Stub(const std::string& address);
  // A client context for the hop: the mark, and the caller's deadline
  // capped at `bound`.
  static std::unique_ptr<grpc::ClientContext> HopContext(
      const grpc::ServerContext* in, absl::Time bound);

 private:
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<v1::Node::Stub>> stubs_
      ABSL_GUARDED_BY(mu_);
};

class NodeService final : public v1::Node::Service {
 public:
  NodeService(Node* node, const v1::ApiConfig& api);

  grpc::Status SubmitTx(grpc::ServerContext* ctx,
                        const v1::SubmitTxRequest* req,
                        v1::SubmitTxResponse* resp) override;
  grpc::Status SubmitTxBatch(grpc::ServerContext* ctx,
                             const v1::SubmitTxBatchRequest* req,
                             v1::SubmitTxBatchResponse* resp) override;
  grpc::Status GetTx(grpc::ServerContext* ctx, const v1::GetTxRequest* req,
                     v1::GetTxResponse* resp) override;
  grpc::Status GetBlock(grpc::ServerContext* ctx,
                        const v1::GetBlockRequest* req,
                        v1::GetBlockResponse* resp) override;
  grpc::Status GetReceipt(grpc::ServerContext* ctx,
                          const v1::GetReceiptRequest* req,
                          v1::GetReceiptResponse* resp) override;
  grpc::Status Status(grpc::ServerContext* ctx, const v1::StatusRequest* req,
                      v1::StatusResponse* resp) override;
  grpc::Status QueryBalance(grpc::ServerContext* ctx,
                            const bank::v1::QueryBalanceRequest* req,
                            bank::v1::QueryBalanceResponse* resp) override;
  grpc::Status Query(grpc::ServerContext* ctx, const v1::QueryRequest* req,
                     v1::QueryResponse* resp) override;
  grpc::Status StreamEvents(
      grpc::ServerContext* ctx, const v1::StreamEventsRequest* req,
      grpc::ServerWriter<ledger::v1::Event>* writer) override;
  grpc::Status FetchCheckpoint(
      grpc::ServerContext* ctx, const v1::FetchCheckpointRequest* req,
      grpc::ServerWriter<v1::CheckpointChunk>* writer) override;
  grpc::Status IssueChallenge(grpc::ServerContext* ctx,
                              const v1::IssueChallengeRequest* req,
                              v1::IssueChallengeResponse* resp) override;
  grpc::Status Quote(grpc::ServerContext* ctx, const v1::QuoteRequest* req,
                     attest::v1::Evidence* resp) override;

 private:
  absl::Time WaitDeadline(const grpc::ServerContext* ctx) const;
  // The deadline of a forwarded call (see service.cc).
  absl::Time HopDeadline(const grpc::ServerContext* ctx,
                         bool wait_for_commit) const;
  // When this node is not the leader and the request was not forwarded
  // yet: the leader's stub (UNAVAILABLE when no leader is known).
  // nullptr: handle the request here.
  absl::StatusOr<std::shared_ptr<v1::Node::Stub>> ForwardTarget(
      const grpc::ServerContext* ctx);

  Node* node_;
  v1::ApiConfig api_;
  std::atomic<uint32_t> streams_{0};
  std::atomic<bool> checkpoint_busy_{false};
  LeaderForwarder forwarder_;
  // Quotes and challenges cost TPM time and memory: 5 per second each,
  // bursts of 10, across all clients.
  std::unique_ptr<ratelimit::RateLimiter> attest_limiter_;
};

// Builds and starts the gRPC server on `address` with the Node service,
// grpc.health.v1 and server reflection.
absl::StatusOr<std::unique_ptr<grpc::Server>> StartGrpcServer(
    const std::string& address, const v1::ApiConfig& api, NodeService* service);

}  // namespace virtengine::node

#endif  // VIRTENGINE_SRC_NODE_SERVICE_H_
