// vectl's gRPC clients of ve-node's Node service (src/api/node/v1/node.proto)
// and of its Admin service on the local admin socket (admin.proto).
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
#include "src/api/node/v1/admin.grpc.pb.h"
#include "src/api/node/v1/node.grpc.pb.h"

namespace virtengine::cli {

// Caps on one message: transactions are at most 64 KiB; blocks and receipts
// stay well below the receive cap.
inline constexpr int kMaxSendMessageBytes = 1 << 20;
inline constexpr int kMaxReceiveMessageBytes = 16 << 20;

// The canonical name of a gRPC status code, e.g. "FAILED_PRECONDITION".
std::string_view GrpcCodeName(int code);
// A gRPC status as an absl::Status with the same code (the numeric values
// agree) and the message "<CODE NAME>: <message>".
absl::Status FromGrpc(const grpc::Status& s);

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
  // A module query (e.g. module "gov", path "proposals"): `request` and the
  // response's bytes are the module's own messages. `consistent` reads on
  // the leader after a Raft barrier (a follower forwards it).
  absl::StatusOr<node::v1::QueryResponse> Query(std::string_view module,
                                                std::string_view path,
                                                std::string_view request,
                                                bool consistent);
  // Attestation: a join challenge from the leader; this node's quote.
  absl::StatusOr<node::v1::IssueChallengeResponse> IssueChallenge();
  absl::StatusOr<attest::v1::Evidence> Quote(std::string_view purpose,
                                             std::string_view nonce);

 private:
  void Prepare(grpc::ClientContext* ctx) const;

  std::unique_ptr<node::v1::Node::Stub> stub_;
  std::chrono::milliseconds timeout_;
};

// The node's Admin service on its local Unix socket (channel "unix:PATH";
// whoever can open the socket is the node's operator). Same deadlines, size
// caps and error formatting as NodeClient; the caller validates the path
// (ValidateAdminSocketPath).
class AdminClient {
 public:
  AdminClient(const std::string& socket_path,
              std::chrono::milliseconds timeout);

  absl::StatusOr<node::v1::StatusResponse> ClusterStatus();
  // `wait_ms` bounds the node's wait for commit + reconciliation; the call's
  // deadline is the client timeout.
  absl::StatusOr<node::v1::ChangeMembershipResponse> ChangeMembership(
      std::string_view tx, uint32_t wait_ms);
  absl::StatusOr<node::v1::BackupResponse> Backup(std::string_view name);

 private:
  void Prepare(grpc::ClientContext* ctx) const;

  std::unique_ptr<node::v1::Admin::Stub> stub_;
  std::chrono::milliseconds timeout_;
};

}  // namespace virtengine::cli

#endif  // VIRTENGINE_SRC_CLI_NODE_CLIENT_H_
