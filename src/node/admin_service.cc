#include "src/node/admin_service.h"

#include <unistd.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "compliance/bundle/bundle.h"
#include "security/audit/verifier.h"
#include "security/crypto/hash.h"
#include "security/crypto/policy.h"
#include "security/crypto/random.h"
#include "security/path/path.h"
#include "security/seccomp/filter.h"
#include "src/common/encoding/hex.h"
#include "src/common/log/log.h"
#include "src/ledger/tx/tx.h"
#include "src/node/backup.h"

namespace virtengine::node {
namespace {

constexpr char kClusterTypePrefix[] = "/virtengine.cluster.v1.";
constexpr uint32_t kDefaultWaitMs = 60000;
constexpr uint32_t kMaxWaitMs = 600000;

constexpr size_t kMaxProcStatusBytes = size_t{64} * 1024;

// The "Seccomp:" field of this process's /proc/<pid>/status.
absl::StatusOr<int> OwnSeccompMode() {
  absl::StatusOr<security::path::PathRoot> proc =
      security::path::PathRoot::Open("/proc");
  if (!proc.ok()) return proc.status();
  absl::StatusOr<std::string> status =
      proc->ReadFile(absl::StrCat(::getpid(), "/status"), kMaxProcStatusBytes);
  if (!status.ok()) return status.status();
  for (absl::string_view line : absl::StrSplit(*status, '\n')) {
    if (!absl::ConsumePrefix(&line, "Seccomp:")) continue;
    int mode = -1;
    if (absl::SimpleAtoi(line, &mode)) return mode;
    return absl::DataLossError("unparsable Seccomp line in /proc status");
  }
  return absl::NotFoundError("no Seccomp line in /proc status");
}

std::string DigestHex(const std::string& d) {
  return encoding::HexEncode(absl::Span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(d.data()), d.size()));
}

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

grpc::Status AdminService::EvidenceFacts(grpc::ServerContext*,
                                         const v1::EvidenceFactsRequest*,
                                         v1::EvidenceFactsResponse* resp) {
  // Recorded first, so the head reported below includes this call.
  node_->Audit("node.evidence_facts", "compliance evidence", absl::OkStatus());
  const v1::StatusResponse status = node_->Status();
  resp->set_pid(static_cast<uint32_t>(::getpid()));
  if (evidence_.signer != nullptr) {
    resp->set_node_public_key(
        std::string(crypto::AsChars(evidence_.signer->public_key().view())));
  }
  resp->set_chain_id(genesis_.chain_id());
  resp->set_moniker(evidence_.moniker);
  resp->set_version(kVersion);
  resp->set_height(node_->height());
  resp->set_time_unix_nano(absl::ToUnixNanos(absl::Now()));

  v1::SeccompFacts* sc = resp->mutable_seccomp();
  sc->set_mode(evidence_.seccomp_mode);
  absl::StatusOr<int> mode = OwnSeccompMode();
  if (mode.ok()) {
    sc->set_proc_status_seccomp(*mode);
  } else {
    sc->set_proc_status_seccomp(-1);
    sc->set_proc_status_error(std::string(mode.status().message()));
  }
  sc->set_loaded_policy_sha256(security::seccomp::LoadedPolicySha256());
  resp->set_crypto_policy_sha256(crypto::ActivePolicy()->sha256_hex());

  // The transports this build serves: no listener has TLS yet, and the
  // node says so (a not-satisfied finding, never a pass).
  const auto listener =
      [resp](const std::string& name, const std::string& address,
             const std::string& transport, const std::string& note) {
        v1::ListenerFacts* l = resp->add_listeners();
        l->set_name(name);
        l->set_address(address);
        l->set_transport(transport);
        l->set_note(note);
      };
  listener("api", evidence_.grpc_address, "plaintext",
           "gRPC with insecure server credentials: no TLS");
  listener("raft", evidence_.raft_address, "plaintext",
           "Raft peer traffic over libraft's TCP transport: no TLS");
  if (!evidence_.metrics_address.empty()) {
    listener("metrics", evidence_.metrics_address, "plaintext",
             "Prometheus HTTP exposition: no TLS");
  }
  listener("admin", evidence_.admin_socket, "unix-socket",
           "local Unix socket, mode 0600");

  v1::AuditLogFacts* al = resp->mutable_audit_log();
  absl::StatusOr<security::path::PathRoot> home =
      security::path::PathRoot::Open(home_);
  absl::StatusOr<security::path::PathRoot> dir =
      home.ok() ? home->Sub("audit")
                : absl::StatusOr<security::path::PathRoot>(home.status());
  absl::StatusOr<security::audit::VerifyResult> r =
      dir.ok() ? security::audit::VerifyLogDir(*dir)
               : absl::StatusOr<security::audit::VerifyResult>(dir.status());
  if (!r.ok()) {
    al->set_verified(false);
    al->set_finding("unreadable");
    al->set_error(std::string(r.status().message()));
  } else {
    al->set_verified(r->ok());
    al->set_records(r->count);
    al->set_head_seq(r->head_seq);
    al->set_head_hash(
        std::string(reinterpret_cast<const char*>(r->head_hash.data()),
                    r->head_hash.size()));
    al->set_finding(r->ok() ? "ok"
                            : std::string(security::audit::FindingKindName(
                                  r->finding.kind)));
    if (!r->ok()) {
      al->set_error(absl::StrCat(r->finding.segment, " line ", r->finding.line,
                                 ": ", r->finding.message));
    }
  }
  resp->set_tpm(!status.insecure_no_tpm());
  if (status.insecure_no_tpm()) {
    resp->set_tpm_absent_reason(
        "the node runs with --insecure-no-tpm: it has no TPM and cannot "
        "quote (not attested)");
  }
  for (uint32_t pcr : evidence_.pcrs) resp->add_quoted_pcrs(pcr);
  return grpc::Status::OK;
}

grpc::Status AdminService::EvidenceQuote(grpc::ServerContext*,
                                         const v1::EvidenceQuoteRequest* req,
                                         v1::EvidenceQuoteResponse* resp) {
  if (req->bundle_digest().size() != 32) {
    return grpc::Status(
        grpc::StatusCode::INVALID_ARGUMENT,
        absl::StrCat("bundle_digest: ", req->bundle_digest().size(),
                     " bytes, want 32 (a SHA-256)"));
  }
  absl::StatusOr<attest::v1::Evidence> e =
      node_->Quote("evidence", crypto::AsBytes(req->bundle_digest()));
  node_->Audit("node.evidence_quote", DigestHex(req->bundle_digest()),
               e.status());
  if (!e.ok()) return ToGrpc(e.status());
  *resp->mutable_evidence() = *std::move(e);
  return grpc::Status::OK;
}

grpc::Status AdminService::EvidenceSign(grpc::ServerContext*,
                                        const v1::EvidenceSignRequest* req,
                                        v1::EvidenceSignResponse* resp) {
  if (req->bundle_digest().size() != 32) {
    return grpc::Status(
        grpc::StatusCode::INVALID_ARGUMENT,
        absl::StrCat("bundle_digest: ", req->bundle_digest().size(),
                     " bytes, want 32 (a SHA-256)"));
  }
  if (evidence_.signer == nullptr) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "the node key is not available for evidence");
  }
  compliance::bundle::Digest digest{};
  std::copy(req->bundle_digest().begin(), req->bundle_digest().end(),
            digest.begin());
  // Only a well-formed evidence statement for this digest is signed, and
  // always through the DSSE encoding ("DSSEv1 ..."), which no block header
  // message (domain-tagged) can equal.
  if (absl::Status s = compliance::bundle::CheckStatementForSigning(
          req->statement(), digest);
      !s.ok()) {
    node_->Audit("node.evidence_sign", DigestHex(req->bundle_digest()), s);
    return ToGrpc(s);
  }
  const std::string pae = compliance::bundle::Pae(
      compliance::bundle::kPayloadType, req->statement());
  absl::StatusOr<crypto::Ed25519Signature> sig =
      evidence_.signer->Sign(crypto::AsBytes(pae));
  node_->Audit("node.evidence_sign", DigestHex(req->bundle_digest()),
               sig.status());
  if (!sig.ok()) return ToGrpc(sig.status());
  const crypto::Ed25519PublicKey& pub = evidence_.signer->public_key();
  absl::StatusOr<crypto::Digest32> keyid =
      crypto::Sha256(security::crypto::v1::CONTENT_HASH, pub.view());
  if (!keyid.ok()) return ToGrpc(keyid.status());
  resp->set_signature(
      std::string(reinterpret_cast<const char*>(sig->data()), sig->size()));
  resp->set_public_key(std::string(crypto::AsChars(pub.view())));
  resp->set_keyid(encoding::HexEncode(
      absl::Span<const uint8_t>(keyid->data(), keyid->size())));
  resp->set_payload_type(compliance::bundle::kPayloadType);
  return grpc::Status::OK;
}

absl::StatusOr<std::unique_ptr<grpc::Server>> StartAdminServer(
    const std::string& path, const std::vector<grpc::Service*>& services) {
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
  for (grpc::Service* service : services) builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) {
    return absl::UnavailableError("admin API: cannot listen on " + path);
  }
  return server;
}

}  // namespace virtengine::node
