#include "src/node/admin_service.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "security/crypto/random.h"
#include "security/path/path.h"
#include "src/common/encoding/hex.h"
#include "src/common/log/log.h"
#include "src/ledger/tx/tx.h"
#include "src/node/backup.h"

namespace virtengine::node {
namespace {

constexpr char kClusterTypePrefix[] = "/virtengine.cluster.v1.";
constexpr uint32_t kDefaultWaitMs = 60000;
constexpr uint32_t kMaxWaitMs = 600000;

bool ValidBackupName(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

}  // namespace

std::string AdminSocketPath(const v1::NodeConfig& config,
                            const std::string& home) {
  return config.admin_socket().empty() ? home + "/admin.sock"
                                       : config.admin_socket();
}

grpc::Status AdminService::ClusterStatus(grpc::ServerContext*,
                                         const v1::StatusRequest*,
                                         v1::StatusResponse* resp) {
  *resp = node_->Status();
  return grpc::Status::OK;
}

grpc::Status AdminService::ChangeMembership(
    grpc::ServerContext* ctx, const v1::ChangeMembershipRequest* req,
    v1::ChangeMembershipResponse* resp) {
  const uint32_t wait_ms = req->wait_ms() == 0
                               ? kDefaultWaitMs
                               : std::min(req->wait_ms(), kMaxWaitMs);
  const absl::Time deadline =
      std::min(absl::Now() + absl::Milliseconds(wait_ms),
               absl::FromChrono(ctx->deadline()));
  absl::StatusOr<ledger::DecodedTx> tx = ledger::DecodeTx(req->tx());
  if (!tx.ok()) return ToGrpc(tx.status());
  for (const google::protobuf::Any& m : tx->body.messages()) {
    if (!absl::StartsWith(m.type_url(), kClusterTypePrefix)) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          absl::StrCat("ChangeMembership takes only cluster "
                                       "messages, not ",
                                       m.type_url().substr(0, 128)));
    }
  }
  const Node::LeaderRoute route = node_->Route();
  v1::SubmitTxResponse* submit = resp->mutable_submit();
  if (route.is_leader) {
    std::vector<SubmitOutcome> out =
        node_->Submit({req->tx()}, /*wait=*/true, deadline);
    FillSubmit(out[0], submit);
    if (!out[0].status.ok()) return ToGrpc(out[0].status);
  } else {
    if (route.grpc_address.empty()) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          "no leader with an API address is known; retry");
    }
    v1::SubmitTxRequest fwd;
    fwd.set_tx(req->tx());
    fwd.set_wait_for_commit(true);
    auto hop = LeaderForwarder::HopContext(ctx, deadline);
    grpc::Status s =
        forwarder_.Stub(route.grpc_address)->SubmitTx(hop.get(), fwd, submit);
    if (!s.ok()) return s;
  }
  if (submit->result().code() != 0) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        absl::StrCat("the membership transaction failed: ",
                                     submit->result().log()));
  }
  // Committed: the ledger holds the new membership once this node applied
  // the block, then the leader reconciles Raft.
  node_->WaitForHeight(submit->height(), deadline);
  absl::Status settled = node_->WaitMembershipSettled(deadline);
  node_->Audit("cluster.change_membership",
               encoding::HexEncode(submit->tx_hash()), settled,
               {{"height", absl::StrCat(submit->height())}});
  *resp->mutable_status() = node_->Status();
  return ToGrpc(settled);
}

grpc::Status AdminService::Backup(grpc::ServerContext*,
                                  const v1::BackupRequest* req,
                                  v1::BackupResponse* resp) {
  if (backup_busy_.exchange(true)) {
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        "a backup is already running");
  }
  struct Release {
    std::atomic<bool>* busy;
    ~Release() { busy->store(false); }
  } release{&backup_busy_};
  std::string name = req->name();
  if (name.empty()) name = absl::StrCat("backup-", node_->height());
  if (!ValidBackupName(name)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "name: want [a-z0-9][a-z0-9._-]{0,63}");
  }
  const std::string rel = "backups/" + name;
  absl::StatusOr<security::path::PathRoot> root =
      security::path::PathRoot::Open(home_);
  if (!root.ok()) return ToGrpc(root.status());
  if (root->Sub(rel).ok()) {
    return grpc::Status(grpc::StatusCode::ALREADY_EXISTS,
                        absl::StrCat("backup ", name, " exists"));
  }
  absl::StatusOr<Node::Checkpoint> c = node_->MakeCheckpoint(rel, "ledger");
  if (!c.ok()) return ToGrpc(c.status());
  const std::string dir = home_ + "/" + rel;
  if (absl::Status s = WriteBackupFiles(dir, c->manifest, genesis_); !s.ok()) {
    return ToGrpc(s);
  }
  const std::string scratch = absl::StrCat(
      home_, "/data/verify-",
      encoding::HexEncode(crypto::ToString(crypto::RandomBytes(4))));
  absl::StatusOr<BackupReport> report = VerifyBackup(dir, scratch);
  node_->Audit("node.backup", dir, report.status(),
               {{"height", absl::StrCat(c->manifest.height())}});
  if (!report.ok()) {
    log::Error("backup_verify_failed",
               {{"path", dir}, {"error", report.status().ToString()}});
    return ToGrpc(report.status());
  }
  log::Info("backup_written", {{"path", dir},
                               {"height", c->manifest.height()},
                               {"replayed_blocks", report->replayed_blocks}});
  resp->set_path(dir);
  *resp->mutable_manifest() = c->manifest;
  resp->set_replayed_blocks(report->replayed_blocks);
  return grpc::Status::OK;
}

absl::StatusOr<std::unique_ptr<grpc::Server>> StartAdminServer(
    const std::string& path, AdminService* service) {
  const size_t slash = path.rfind('/');
  if (path.empty() || path[0] != '/' || slash == std::string::npos) {
    return absl::InvalidArgumentError("admin_socket: must be absolute");
  }
  absl::StatusOr<security::path::PathRoot> dir =
      security::path::PathRoot::Open(slash == 0 ? "/" : path.substr(0, slash));
  if (!dir.ok()) return dir.status();
  // A socket left by a process that is gone: bind would fail on it.
  if (absl::Status s = dir->Remove(path.substr(slash + 1));
      !s.ok() && !absl::IsNotFound(s)) {
    return s;
  }
  // sun_path holds 107 bytes: a longer path is bound through the
  // directory's descriptor (the socket still lands beneath `dir`).
  constexpr size_t kMaxSunPath = 107;
  const std::string target =
      path.size() <= kMaxSunPath
          ? "unix:" + path
          : absl::StrCat("unix:/proc/self/fd/", dir->dir_fd(), "/",
                         path.substr(slash + 1));
  grpc::ServerBuilder builder;
  builder.AddListeningPort(target, grpc::InsecureServerCredentials());
  builder.SetMaxReceiveMessageSize(1 << 20);
  builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) {
    return absl::UnavailableError("admin API: cannot listen on " + path);
  }
  return server;
}

}  // namespace virtengine::node
