#include "src/node/service.h"

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "src/attest/evidence.h"

namespace virtengine::node {
namespace {

constexpr size_t kMaxAddressBytes = 128;
constexpr size_t kMaxDenomBytes = 64;
constexpr size_t kMaxQueryField = 128;

}  // namespace

void FillSubmit(const SubmitOutcome& o, v1::SubmitTxResponse* r) {
  r->set_tx_hash(o.tx_hash);
  r->set_height(o.height);
  *r->mutable_result() = o.result;
  if (!o.status.ok()) {
    r->mutable_result()->set_tx_hash(o.tx_hash);
    r->mutable_result()->set_code(static_cast<uint32_t>(o.status.code()) + 100);
    r->mutable_result()->set_log(o.status.ToString());
  }
}

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()),
                      std::string(s.message()));
}

bool LeaderForwarder::WasForwarded(const grpc::ServerContext* ctx) {
  return ctx->client_metadata().count(kForwardedKey) != 0;
}

std::shared_ptr<v1::Node::Stub> LeaderForwarder::Stub(
    const std::string& address) {
  constexpr size_t kMaxChannels = 16;
  absl::MutexLock lock(&mu_);
  auto it = stubs_.find(address);
  if (it != stubs_.end()) return it->second;
  if (stubs_.size() >= kMaxChannels) stubs_.clear();
  // Plaintext like the API itself (mutual TLS between nodes is pending).
  auto stub = std::shared_ptr<v1::Node::Stub>(v1::Node::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials())));
  stubs_[address] = stub;
  return stub;
}

std::unique_ptr<grpc::ClientContext> LeaderForwarder::HopContext(
    const grpc::ServerContext* in, absl::Time bound) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata(kForwardedKey, "1");
  ctx->set_deadline(
      absl::ToChronoTime(std::min(bound, absl::FromChrono(in->deadline()))));
  return ctx;
}

absl::Time NodeService::HopDeadline(const grpc::ServerContext* ctx,
                                    bool wait_for_commit) const {
  // A leader that stopped answering (frozen, partitioned) must not hold a
  // client for the whole commit wait: without a wait, the hop is bounded
  // by kForwardTimeout; the client retries and finds the new leader.
  constexpr absl::Duration kForwardTimeout = absl::Seconds(5);
  const absl::Time bound = WaitDeadline(ctx);
  return wait_for_commit ? bound
                         : std::min(bound, absl::Now() + kForwardTimeout);
}

absl::StatusOr<std::shared_ptr<v1::Node::Stub>> NodeService::ForwardTarget(
    const grpc::ServerContext* ctx) {
  if (LeaderForwarder::WasForwarded(ctx)) return nullptr;
  const Node::LeaderRoute route = node_->Route();
  if (route.is_leader) return nullptr;
  if (route.leader_id == 0) {
    return absl::UnavailableError("no leader elected yet; retry");
  }
  if (route.grpc_address.empty()) {
    return absl::UnavailableError(
        absl::StrCat("not leader; the leader (raft id ", route.leader_id,
                     ") has no API address on record; submit to it directly"));
  }
  return forwarder_.Stub(route.grpc_address);
}

absl::Time NodeService::WaitDeadline(const grpc::ServerContext* ctx) const {
  const absl::Time bound = absl::Now() + absl::Milliseconds(api_.max_wait_ms());
  const absl::Time client = absl::FromChrono(ctx->deadline());
  return std::min(bound, client);
}

grpc::Status NodeService::SubmitTx(grpc::ServerContext* ctx,
                                   const v1::SubmitTxRequest* req,
                                   v1::SubmitTxResponse* resp) {
  absl::StatusOr<std::shared_ptr<v1::Node::Stub>> leader = ForwardTarget(ctx);
  if (!leader.ok()) return ToGrpc(leader.status());
  if (*leader != nullptr) {
    auto hop = LeaderForwarder::HopContext(
        ctx, HopDeadline(ctx, req->wait_for_commit()));
    return (*leader)->SubmitTx(hop.get(), *req, resp);
  }
  std::vector<SubmitOutcome> out =
      node_->Submit({req->tx()}, req->wait_for_commit(), WaitDeadline(ctx));
  FillSubmit(out[0], resp);
  // A single submission reports its refusal as the call's status, with the
  // tx hash in the response when it decoded.
  return ToGrpc(out[0].status);
}

grpc::Status NodeService::SubmitTxBatch(grpc::ServerContext* ctx,
                                        const v1::SubmitTxBatchRequest* req,
                                        v1::SubmitTxBatchResponse* resp) {
  if (req->txs_size() == 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "batch is empty");
  }
  if (static_cast<uint32_t>(req->txs_size()) > api_.max_batch_txs()) {
    return grpc::Status(
        grpc::StatusCode::INVALID_ARGUMENT,
        absl::StrCat("batch holds ", req->txs_size(), " txs; the limit is ",
                     api_.max_batch_txs()));
  }
  absl::StatusOr<std::shared_ptr<v1::Node::Stub>> leader = ForwardTarget(ctx);
  if (!leader.ok()) return ToGrpc(leader.status());
  if (*leader != nullptr) {
    auto hop = LeaderForwarder::HopContext(
        ctx, HopDeadline(ctx, req->wait_for_commit()));
    return (*leader)->SubmitTxBatch(hop.get(), *req, resp);
  }
  const std::vector<std::string> raws(req->txs().begin(), req->txs().end());
  std::vector<SubmitOutcome> out =
      node_->Submit(raws, req->wait_for_commit(), WaitDeadline(ctx));
  // Each tx has its own outcome: result.code 0 = admitted (or committed
  // when waited for); 100 + gRPC code = refused, reason in result.log.
  for (const SubmitOutcome& o : out) FillSubmit(o, resp->add_results());
  return grpc::Status::OK;
}

grpc::Status NodeService::GetTx(grpc::ServerContext*,
                                const v1::GetTxRequest* req,
                                v1::GetTxResponse* resp) {
  absl::StatusOr<v1::GetTxResponse> r = node_->GetTx(req->tx_hash());
  if (!r.ok()) return ToGrpc(r.status());
  *resp = *std::move(r);
  return grpc::Status::OK;
}

grpc::Status NodeService::GetBlock(grpc::ServerContext*,
                                   const v1::GetBlockRequest* req,
                                   v1::GetBlockResponse* resp) {
  absl::StatusOr<ledger::v1::Block> b = node_->GetBlock(req->height());
  if (!b.ok()) return ToGrpc(b.status());
  *resp->mutable_block() = *std::move(b);
  return grpc::Status::OK;
}

grpc::Status NodeService::GetReceipt(grpc::ServerContext*,
                                     const v1::GetReceiptRequest* req,
                                     v1::GetReceiptResponse* resp) {
  absl::StatusOr<ledger::v1::Receipt> r = node_->GetReceipt(req->tx_hash());
  if (!r.ok()) return ToGrpc(r.status());
  *resp->mutable_receipt() = *std::move(r);
  return grpc::Status::OK;
}

grpc::Status NodeService::Status(grpc::ServerContext*, const v1::StatusRequest*,
                                 v1::StatusResponse* resp) {
  *resp = node_->Status();
  return grpc::Status::OK;
}

grpc::Status NodeService::QueryBalance(grpc::ServerContext*,
                                       const bank::v1::QueryBalanceRequest* req,
                                       bank::v1::QueryBalanceResponse* resp) {
  if (req->address().size() > kMaxAddressBytes ||
      req->denom().size() > kMaxDenomBytes) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "address or denom too long");
  }
  absl::StatusOr<bank::v1::QueryBalanceResponse> r =
      node_->QueryBalance(req->address(), req->denom());
  if (!r.ok()) return ToGrpc(r.status());
  *resp = *std::move(r);
  return grpc::Status::OK;
}

NodeService::NodeService(Node* node, const v1::ApiConfig& api)
    : node_(node), api_(api) {
  ratelimit::RateLimiterOptions o;
  o.capacity = 10;
  o.refill_tokens = 5;
  o.refill_period = absl::Seconds(1);
  o.max_keys = 4;
  attest_limiter_ = *ratelimit::RateLimiter::Create(o);
}

grpc::Status NodeService::IssueChallenge(grpc::ServerContext* ctx,
                                         const v1::IssueChallengeRequest* req,
                                         v1::IssueChallengeResponse* resp) {
  absl::StatusOr<std::shared_ptr<v1::Node::Stub>> leader = ForwardTarget(ctx);
  if (!leader.ok()) return ToGrpc(leader.status());
  if (*leader != nullptr) {
    auto hop = LeaderForwarder::HopContext(ctx, HopDeadline(ctx, false));
    return (*leader)->IssueChallenge(hop.get(), *req, resp);
  }
  if (!attest_limiter_->Allow("challenge")) {
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        "challenge rate limit exceeded; retry in a second");
  }
  absl::StatusOr<attest::Challenge> c = node_->IssueChallenge();
  if (!c.ok()) return ToGrpc(c.status());
  resp->set_nonce(std::string(c->nonce.begin(), c->nonce.end()));
  resp->set_expires_in_ms(absl::ToInt64Milliseconds(absl::Minutes(5)));
  resp->set_issuer_raft_id(node_->Status().raft_id());
  return grpc::Status::OK;
}

grpc::Status NodeService::Quote(grpc::ServerContext* /*ctx*/,
                                const v1::QuoteRequest* req,
                                attest::v1::Evidence* resp) {
  if (req->purpose().size() > 16 || req->nonce().empty() ||
      req->nonce().size() > attestation::kMaxNonceBytes) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "purpose longer than 16 bytes, or nonce not 1..64 "
                        "bytes");
  }
  if (!attest_limiter_->Allow("quote")) {
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        "quote rate limit exceeded; retry in a second");
  }
  absl::StatusOr<attest::v1::Evidence> e =
      node_->Quote(req->purpose(), crypto::AsBytes(req->nonce()));
  if (!e.ok()) return ToGrpc(e.status());
  *resp = *std::move(e);
  return grpc::Status::OK;
}

grpc::Status NodeService::Query(grpc::ServerContext* ctx,
                                const v1::QueryRequest* req,
                                v1::QueryResponse* resp) {
  if (req->module().size() > kMaxQueryField ||
      req->path().size() > kMaxQueryField) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "module or path too long");
  }
  if (req->consistent()) {
    // Linearizable: on the leader, after a barrier.
    absl::StatusOr<std::shared_ptr<v1::Node::Stub>> leader = ForwardTarget(ctx);
    if (!leader.ok()) return ToGrpc(leader.status());
    if (*leader != nullptr) {
      auto hop = LeaderForwarder::HopContext(ctx, HopDeadline(ctx, false));
      return (*leader)->Query(hop.get(), *req, resp);
    }
    if (absl::Status s = node_->Barrier(WaitDeadline(ctx)); !s.ok()) {
      return ToGrpc(s);
    }
  }
  absl::StatusOr<v1::QueryResponse> r = node_->Query(*req);
  if (!r.ok()) return ToGrpc(r.status());
  *resp = *std::move(r);
  return grpc::Status::OK;
}

grpc::Status NodeService::StreamEvents(
    grpc::ServerContext* ctx, const v1::StreamEventsRequest* req,
    grpc::ServerWriter<ledger::v1::Event>* writer) {
  if (streams_.fetch_add(1) >= api_.max_streams()) {
    streams_.fetch_sub(1);
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        absl::StrCat("too many event streams (limit ",
                                     api_.max_streams(), "); retry later"));
  }
  struct Release {
    std::atomic<uint32_t>* n;
    ~Release() { n->fetch_sub(1); }
  } release{&streams_};
  // Resumable: a client that saw events up to height H asks from H+1.
  uint64_t next = std::max<uint64_t>(req->from_height(), 1);
  while (!ctx->IsCancelled()) {
    const uint64_t height =
        node_->WaitForHeight(next, absl::Now() + absl::Seconds(1));
    if (height < next) {
      if (node_->halted()) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "node halted");
      }
      continue;
    }
    for (; next <= height && !ctx->IsCancelled(); ++next) {
      absl::StatusOr<ledger::v1::Block> block = node_->GetBlock(next);
      if (!block.ok()) return ToGrpc(block.status());
      // A block's events go out in one flush: every write but the block's
      // last is buffered (one syscall per block, not per event).
      const ledger::v1::Event* pending = nullptr;
      for (const ledger::v1::TxResult& r : block->results()) {
        for (const ledger::v1::Event& e : r.events()) {
          if (pending != nullptr &&
              !writer->Write(*pending,
                             grpc::WriteOptions().set_buffer_hint())) {
            return grpc::Status::CANCELLED;
          }
          pending = &e;
        }
      }
      if (pending != nullptr && !writer->Write(*pending)) {
        return grpc::Status::CANCELLED;
      }
    }
  }
  return grpc::Status::CANCELLED;
}

grpc::Status NodeService::FetchCheckpoint(
    grpc::ServerContext* ctx, const v1::FetchCheckpointRequest* req,
    grpc::ServerWriter<v1::CheckpointChunk>* writer) {
  if (checkpoint_busy_.exchange(true)) {
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        "a checkpoint transfer is already running; retry");
  }
  struct Release {
    std::atomic<bool>* busy;
    ~Release() { busy->store(false); }
  } release{&checkpoint_busy_};
  absl::StatusOr<Node::Checkpoint> c =
      node_->MakeCheckpoint("data/checkpoints");
  if (!c.ok()) return ToGrpc(c.status());
  struct Drop {
    Node* node;
    const Node::Checkpoint* c;
    ~Drop() { node->DropCheckpoint(*c); }
  } drop{node_, &*c};
  if (c->manifest.applied_index() < req->min_applied_index()) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        absl::StrCat("this node is at applied index ",
                                     c->manifest.applied_index(), ", below ",
                                     req->min_applied_index()));
  }
  v1::CheckpointChunk first;
  *first.mutable_manifest() = c->manifest;
  if (!writer->Write(first)) return grpc::Status::CANCELLED;
  constexpr size_t kChunk = size_t{1} << 20;
  for (const v1::CheckpointFile& f : c->manifest.files()) {
    for (uint64_t off = 0; off < f.size(); off += kChunk) {
      if (ctx->IsCancelled()) return grpc::Status::CANCELLED;
      absl::StatusOr<std::string> data = node_->ReadCheckpointFile(
          *c, f.name(), off,
          static_cast<size_t>(std::min<uint64_t>(kChunk, f.size() - off)));
      if (!data.ok()) return ToGrpc(data.status());
      v1::CheckpointChunk chunk;
      chunk.set_file(f.name());
      chunk.set_offset(off);
      chunk.set_data(*std::move(data));
      if (!writer->Write(chunk)) return grpc::Status::CANCELLED;
    }
  }
  return grpc::Status::OK;
}

// Idle gRPC server threads kept for the next calls (see StartGrpcServer).
constexpr int kIdleServerThreads = 32;

absl::StatusOr<std::unique_ptr<grpc::Server>> StartGrpcServer(
    const std::string& address, const v1::ApiConfig& api,
    NodeService* service) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  // Plaintext on the configured address (loopback by default); mutual TLS
  // with attested node certificates comes with the cluster issue.
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(static_cast<int>(api.max_request_bytes()));
  builder.SetMaxSendMessageSize(64 << 20);
  // gRPC's sync server keeps only MAX_POLLERS (default 2) idle threads and
  // ends any other thread when its call returns, so concurrent clients made
  // it create and end hundreds of threads a second (perf under 1,000 tx/s
  // on a 3-node cluster: 480 clone() calls/s). Idle threads only wait on
  // the completion queue: keep enough of them for the usual concurrency.
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 2);
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, kIdleServerThreads);
  builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError(
        absl::StrCat("gRPC: cannot listen on ", address));
  }
  return server;
}

}  // namespace virtengine::node
