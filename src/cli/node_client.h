// vectl's gRPC client of ve-node's Node service (src/api/node/v1/node.proto).
//
// Plain-text channel for now (insecure credentials): mutual TLS with node
// certificates arrives with the cluster issue; until then use vectl only on
// loopback or a trusted network. Every call carries a deadline; message
// sizes are capped both ways.
#ifndef VIRTENGINE_SRC_CLI_NODE_CLIENT_H_
#define VIRTENGINE_SRC_CLI_NODE_CLIENT_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/api/node/v1/node.grpc.pb.h"

namespace virtengine::cli {

// Caps on one message: transactions are at most 64 KiB; blocks and receipts
// stay well below the receive cap.
inline constexpr int kMaxSendMessageBytes = 1 << 20;
inline constexpr int kMaxReceiveMessageBytes = 16 << 20;

// The canonical name of a gRPC status code, e.g. "FAILED_PRECONDITION".
std::string_view GrpcCodeName(int code);

class NodeClient {
 public:
  NodeClient(const std::string& target, std::chrono::milliseconds timeout);

  // Errors keep the gRPC code (its numeric value equals absl's) and read
  // "<CODE_NAME>: <message>", e.g.
  //   "FAILED_PRECONDITION: bank: insufficient funds: ..."
  absl::StatusOr<node::v1::StatusResponse> Status();
  absl::StatusOr<bank::v1::QueryBalanceResponse> QueryBalance(
      std::string_view address, std::string_view denom);
  absl::StatusOr<node::v1::SubmitTxResponse> SubmitTx(std::string_view tx,
                                                      bool wait_for_commit);
  absl::StatusOr<node::v1::GetTxResponse> GetTx(std::string_view hash);
  absl::StatusOr<node::v1::GetReceiptResponse> GetReceipt(
      std::string_view hash);

 private:
  void Prepare(grpc::ClientContext* ctx) const;

  std::unique_ptr<node::v1::Node::Stub> stub_;
  std::chrono::milliseconds timeout_;
};

}  // namespace virtengine::cli

#endif  // VIRTENGINE_SRC_CLI_NODE_CLIENT_H_
