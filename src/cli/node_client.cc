#include "src/cli/node_client.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"

namespace virtengine::cli {

absl::Status FromGrpc(const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat(std::string(GrpcCodeName(s.error_code())),
                                   ": ", s.error_message()));
}

std::string_view GrpcCodeName(int code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN_CODE";
  }
}

NodeClient::NodeClient(const std::string& target,
                       std::chrono::milliseconds timeout)
    : timeout_(timeout) {
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(kMaxSendMessageBytes);
  args.SetMaxReceiveMessageSize(kMaxReceiveMessageBytes);
  // TODO(cluster issue): mutual TLS with node certificates.
  stub_ = node::v1::Node::NewStub(grpc::CreateCustomChannel(
      target, grpc::InsecureChannelCredentials(), args));
}

void NodeClient::Prepare(grpc::ClientContext* ctx) const {
  ctx->set_deadline(std::chrono::system_clock::now() + timeout_);
}

absl::StatusOr<node::v1::StatusResponse> NodeClient::Status() {
  grpc::ClientContext ctx;
  Prepare(&ctx);
  node::v1::StatusResponse resp;
  grpc::Status s = stub_->Status(&ctx, node::v1::StatusRequest(), &resp);
  if (!s.ok()) return FromGrpc(s);
  return resp;
}

absl::StatusOr<bank::v1::QueryBalanceResponse> NodeClient::QueryBalance(
    std::string_view address, std::string_view denom) {
  grpc::ClientContext ctx;
  Prepare(&ctx);
  bank::v1::QueryBalanceRequest req;
  req.set_address(std::string(address));
  req.set_denom(std::string(denom));
  bank::v1::QueryBalanceResponse resp;
  grpc::Status s = stub_->QueryBalance(&ctx, req, &resp);
  if (!s.ok()) return FromGrpc(s);
  return resp;
}

absl::StatusOr<node::v1::SubmitTxResponse> NodeClient::SubmitTx(
    std::string_view tx, bool wait_for_commit) {
  grpc::ClientContext ctx;
  Prepare(&ctx);
  node::v1::SubmitTxRequest req;
  req.set_tx(std::string(tx));
  req.set_wait_for_commit(wait_for_commit);
  node::v1::SubmitTxResponse resp;
  grpc::Status s = stub_->SubmitTx(&ctx, req, &resp);
  if (!s.ok()) return FromGrpc(s);
  return resp;
}

absl::StatusOr<node::v1::GetTxResponse> NodeClient::GetTx(
    std::string_view hash) {
  grpc::ClientContext ctx;
  Prepare(&ctx);
  node::v1::GetTxRequest req;
  req.set_tx_hash(std::string(hash));
  node::v1::GetTxResponse resp;
  grpc::Status s = stub_->GetTx(&ctx, req, &resp);
  if (!s.ok()) return FromGrpc(s);
  return resp;
}

absl::StatusOr<node::v1::GetReceiptResponse> NodeClient::GetReceipt(
    std::string_view hash) {
  grpc::ClientContext ctx;
  Prepare(&ctx);
  node::v1::GetReceiptRequest req;
  req.set_tx_hash(std::string(hash));
  node::v1::GetReceiptResponse resp;
  grpc::Status s = stub_->GetReceipt(&ctx, req, &resp);
  if (!s.ok()) return FromGrpc(s);
  return resp;
}

absl::StatusOr<node::v1::QueryResponse> NodeClient::Query(
    std::string_view module, std::string_view path, std::string_view request,
    bool consistent) {
  grpc::ClientContext ctx;
  Prepare(&ctx);
  node::v1::QueryRequest req;
  req.set_module(std::string(module));
  req.set_path(std::string(path));
  req.set_request(std::string(request));
  req.set_consistent(consistent);
  node::v1::QueryResponse resp;
  grpc::Status s = stub_->Query(&ctx, req, &resp);
  if (!s.ok()) return FromGrpc(s);
  return resp;
}

absl::StatusOr<node::v1::IssueChallengeResponse> NodeClient::IssueChallenge() {
  grpc::ClientContext ctx;
  Prepare(&ctx);
  node::v1::IssueChallengeResponse resp;
  grpc::Status s =
      stub_->IssueChallenge(&ctx, node::v1::IssueChallengeRequest(), &resp);
  if (!s.ok()) return FromGrpc(s);
  return resp;
}

absl::StatusOr<attest::v1::Evidence> NodeClient::Quote(std::string_view purpose,
                                                       std::string_view nonce) {
  grpc::ClientContext ctx;
  Prepare(&ctx);
  node::v1::QuoteRequest req;
  req.set_purpose(std::string(purpose));
  req.set_nonce(std::string(nonce));
  attest::v1::Evidence resp;
  grpc::Status s = stub_->Quote(&ctx, req, &resp);
  if (!s.ok()) return FromGrpc(s);
  return resp;
}

AdminClient::AdminClient(const std::string& socket_path,
                         std::chrono::milliseconds timeout)
    : timeout_(timeout) {
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(kMaxSendMessageBytes);
  args.SetMaxReceiveMessageSize(kMaxReceiveMessageBytes);
  // A local socket guarded by its file mode: no transport security needed.
  stub_ = node::v1::Admin::NewStub(grpc::CreateCustomChannel(
      "unix:" + socket_path, grpc::InsecureChannelCredentials(), args));
}

void AdminClient::Prepare(grpc::ClientContext* ctx) const {
  ctx->set_deadline(std::chrono::system_clock::now() + timeout_);
}

absl::StatusOr<node::v1::StatusResponse> AdminClient::ClusterStatus() {
  grpc::ClientContext ctx;
  Prepare(&ctx);
  node::v1::StatusResponse resp;
  grpc::Status s = stub_->ClusterStatus(&ctx, node::v1::StatusRequest(), &resp);
  if (!s.ok()) return FromGrpc(s);
  return resp;
}

absl::StatusOr<node::v1::ChangeMembershipResponse>
AdminClient::ChangeMembership(std::string_view tx, uint32_t wait_ms) {
  grpc::ClientContext ctx;
  Prepare(&ctx);
  node::v1::ChangeMembershipRequest req;
  req.set_tx(std::string(tx));
  req.set_wait_ms(wait_ms);
  node::v1::ChangeMembershipResponse resp;
  grpc::Status s = stub_->ChangeMembership(&ctx, req, &resp);
  if (!s.ok()) return FromGrpc(s);
  return resp;
}

absl::StatusOr<node::v1::BackupResponse> AdminClient::Backup(
    std::string_view name) {
  grpc::ClientContext ctx;
  Prepare(&ctx);
  node::v1::BackupRequest req;
  req.set_name(std::string(name));
  node::v1::BackupResponse resp;
  grpc::Status s = stub_->Backup(&ctx, req, &resp);
  if (!s.ok()) return FromGrpc(s);
  return resp;
}

}  // namespace virtengine::cli
