// vectl cluster status|add|remove|set-role and vectl admin backup: the
// node's Admin service on its local socket (src/api/node/v1/admin.proto).
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "security/keys/key_record.h"
#include "src/api/cluster/v1/cluster.pb.h"
#include "src/cli/command.h"
#include "src/cli/inputs.h"
#include "src/cli/json.h"
#include "src/cli/node_client.h"
#include "src/common/encoding/hex.h"

namespace virtengine::cli {

namespace clv1 = ::virtengine::cluster::v1;

namespace {

constexpr char kTypePrefix[] = "/virtengine.cluster.v1.";
// The node caps a membership wait at 10 minutes (admin_service.cc).
constexpr uint64_t kMaxWaitMs = 600000;

std::string Hex(std::string_view b) { return encoding::HexEncode(b); }

bool AdminSocketGiven(const Context& ctx) {
  return ctx.Has("admin-socket") ||
         ctx.env.vars.count("VECTL_ADMIN_SOCKET") != 0;
}

// Membership changes and backups may take minutes: 120s unless --timeout.
std::chrono::milliseconds AdminTimeout(const Context& ctx) {
  return ctx.Has("timeout") ? ctx.timeout : kAdminDefaultTimeout;
}

void WriteStatusJson(JsonWriter& w, const node::v1::StatusResponse& s) {
  w.BeginObject()
      .Key("chain_id")
      .String(s.chain_id())
      .Key("height")
      .Uint(s.height())
      .Key("raft_id")
      .Uint(s.raft_id())
      .Key("is_leader")
      .Bool(s.is_leader())
      .Key("leader_id")
      .Uint(s.leader_id())
      .Key("leader_grpc_address")
      .String(s.leader_grpc_address())
      .Key("term")
      .Uint(s.term())
      .Key("commit_index")
      .Uint(s.commit_index())
      .Key("halted")
      .Bool(s.halted())
      .Key("halt_reason")
      .String(s.halt_reason())
      .Key("state_digest")
      .String(Hex(s.state_digest()));
  w.Key("servers").BeginArray();
  for (const node::v1::ClusterServer& sv : s.servers()) {
    w.BeginObject()
        .Key("raft_id")
        .Uint(sv.raft_id())
        .Key("raft_address")
        .String(sv.raft_address())
        .Key("grpc_address")
        .String(sv.grpc_address())
        .Key("raft_role")
        .String(sv.raft_role())
        .Key("ledger_member")
        .Bool(sv.ledger_member())
        .Key("ledger_voter")
        .Bool(sv.ledger_voter())
        .EndObject();
  }
  w.EndArray().EndObject();
}

void PrintStatusText(std::ostream& out, const node::v1::StatusResponse& s) {
  out << "chain_id: " << TextSafe(s.chain_id()) << "\n"
      << "height: " << s.height() << "\n"
      << "raft_id: " << s.raft_id() << (s.is_leader() ? " (leader)" : "")
      << "\n"
      << "leader_id: " << s.leader_id()
      << (s.leader_id() == 0 ? " (unknown)" : "") << "\n"
      << "leader_grpc_address: "
      << (s.leader_grpc_address().empty() ? "(unknown)"
                                          : TextSafe(s.leader_grpc_address()))
      << "\n"
      << "term: " << s.term() << "\n"
      << "commit_index: " << s.commit_index() << "\n"
      << "halted: " << (s.halted() ? "true" : "false");
  if (s.halted()) out << " (" << TextSafe(s.halt_reason()) << ")";
  out << "\n"
      << "state_digest: " << Hex(s.state_digest()) << "\n"
      << "servers: " << s.servers_size() << "\n";
  std::vector<std::vector<std::string>> rows = {{"RAFT_ID", "RAFT_ADDRESS",
                                                 "API_ADDRESS", "RAFT_ROLE",
                                                 "MEMBER", "LEDGER_ROLE"}};
  for (const node::v1::ClusterServer& sv : s.servers()) {
    rows.push_back(
        {absl::StrCat(sv.raft_id(), sv.raft_id() == s.leader_id() ? "*" : ""),
         sv.raft_address().empty() ? "-" : TextSafe(sv.raft_address()),
         sv.grpc_address().empty() ? "-" : TextSafe(sv.grpc_address()),
         sv.raft_role().empty() ? "-" : TextSafe(sv.raft_role()),
         sv.ledger_member() ? "yes" : "no",
         !sv.ledger_member() ? "-"
         : sv.ledger_voter() ? "voter"
                             : "non-voter"});
  }
  out << TextTable(rows);
}

template <typename M>
google::protobuf::Any PackCluster(const M& m, std::string_view name) {
  google::protobuf::Any any;
  any.set_type_url(absl::StrCat(kTypePrefix, std::string(name)));
  any.set_value(m.SerializeAsString());
  return any;
}

// The common part of cluster add/remove/set-role once the positional
// arguments are valid: flags, socket, sign, ChangeMembership, print.
absl::Status ChangeMembership(Context& ctx, const std::string& from_key,
                              const google::protobuf::Any& msg) {
  absl::StatusOr<TxFlags> flags = ParseTxFlags(ctx);
  if (!flags.ok()) return flags.status();
  absl::StatusOr<std::string> socket = ResolveAdminSocket(ctx);
  if (!socket.ok()) return socket.status();

  absl::StatusOr<SignedTx> tx =
      BuildSignedTx(ctx, from_key, *flags,
                    [&msg](const std::string& /*signer*/)
                        -> absl::StatusOr<std::vector<google::protobuf::Any>> {
                      return std::vector<google::protobuf::Any>{msg};
                    });
  if (!tx.ok()) return tx.status();
  if (flags->dry_run) {
    PrintDryRun(ctx, *tx);
    return absl::OkStatus();
  }
  const std::chrono::milliseconds timeout = AdminTimeout(ctx);
  // The node waits up to 90% of the deadline so that its own reason (not
  // DEADLINE_EXCEEDED) comes back when the change does not settle.
  const uint64_t wait_ms = std::min<uint64_t>(
      std::max<uint64_t>(1, static_cast<uint64_t>(timeout.count()) / 10 * 9),
      kMaxWaitMs);
  AdminClient admin(*socket, timeout);
  absl::StatusOr<node::v1::ChangeMembershipResponse> resp =
      admin.ChangeMembership(tx->bytes, static_cast<uint32_t>(wait_ms));
  if (!resp.ok()) {
    return Prefixed(
        absl::StrCat("ChangeMembership ", tx->hash_hex, " via ", *socket),
        resp.status());
  }
  const node::v1::SubmitTxResponse& submit = resp->submit();
  const std::string node_hash =
      submit.tx_hash().empty() ? tx->hash_hex : Hex(submit.tx_hash());
  const uint32_t code = submit.result().code();
  if (ctx.json) {
    JsonWriter w;
    w.BeginObject().Key("tx_hash").String(node_hash);
    w.Key("code").Uint(code).Key("log").String(submit.result().log());
    w.Key("height").Uint(submit.height());
    w.Key("cluster");
    WriteStatusJson(w, resp->status());
    w.EndObject();
    ctx.out << w.str() << "\n";
  } else {
    ctx.out << "tx_hash: " << node_hash << "\n"
            << "code: " << code << (code == 0 ? " (ok)" : "") << "\n";
    if (!submit.result().log().empty()) {
      ctx.out << "log: " << TextSafe(submit.result().log()) << "\n";
    }
    ctx.out << "height: " << submit.height() << "\n"
            << "cluster after the change:\n";
    PrintStatusText(ctx.out, resp->status());
  }
  if (node_hash != tx->hash_hex) {
    return absl::DataLossError(absl::StrCat("the node reports tx hash ",
                                            node_hash, " but the tx is ",
                                            tx->hash_hex));
  }
  if (code != 0) {
    return absl::AbortedError(absl::StrCat("transaction ", node_hash,
                                           " failed with code ", code, ": ",
                                           submit.result().log()));
  }
  return absl::OkStatus();
}

absl::Status CheckFromKey(const std::string& from_key) {
  if (absl::Status s = keys::ValidateKeyName(from_key); !s.ok()) {
    return UsageError(Prefixed("FROM_KEY", s));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RunClusterStatus(Context& ctx) {
  absl::StatusOr<node::v1::StatusResponse> s;
  std::string from = ctx.node;
  if (AdminSocketGiven(ctx)) {
    absl::StatusOr<std::string> socket = ResolveAdminSocket(ctx);
    if (!socket.ok()) return socket.status();
    from = *socket;
    s = AdminClient(*socket, ctx.timeout).ClusterStatus();
    if (!s.ok()) {
      return Prefixed(absl::StrCat("ClusterStatus via ", from), s.status());
    }
  } else {
    s = NodeClient(ctx.node, ctx.timeout).Status();
    if (!s.ok()) {
      return Prefixed(absl::StrCat("Status from ", from), s.status());
    }
  }
  if (ctx.json) {
    JsonWriter w;
    WriteStatusJson(w, *s);
    ctx.out << w.str() << "\n";
  } else {
    PrintStatusText(ctx.out, *s);
  }
  return absl::OkStatus();
}

absl::Status RunClusterAdd(Context& ctx) {
  const std::string& from_key = ctx.args[0];
  if (absl::Status s = CheckFromKey(from_key); !s.ok()) return s;
  absl::StatusOr<uint64_t> raft_id = ParseRaftId("RAFT_ID", ctx.args[1]);
  if (!raft_id.ok()) return UsageError(raft_id.status());
  const std::string& raft_address = ctx.args[2];
  if (absl::Status s = ValidateIpv4Address("RAFT_ADDRESS", raft_address);
      !s.ok()) {
    return UsageError(s);
  }
  absl::StatusOr<std::string> node_key =
      ParseNodeKeyHex("NODE_KEY_HEX", ctx.args[3]);
  if (!node_key.ok()) return UsageError(node_key.status());
  const std::string grpc_address = ctx.Flag("grpc-address").value_or("");
  if (!grpc_address.empty()) {
    if (absl::Status s = ValidateNodeAddress("--grpc-address", grpc_address);
        !s.ok()) {
      return UsageError(s);
    }
  }
  clv1::MsgAddNode add;
  add.set_raft_id(*raft_id);
  add.set_raft_address(raft_address);
  add.set_grpc_address(grpc_address);
  add.set_node_public_key(*node_key);
  add.set_voter(!ctx.Has("non-voter"));
  if (ctx.Has("attest")) {
    if (grpc_address.empty()) {
      return UsageError(absl::InvalidArgumentError(
          "--attest needs --grpc-address (the new node's API, which quotes)"));
    }
    if (ctx.Has("dry-run")) {
      return UsageError(absl::InvalidArgumentError(
          "--attest and --dry-run exclude each other (a challenge is "
          "single-use)"));
    }
    // The cluster issues the challenge (the leader consumes it when it
    // admits the tx); the new node quotes it, bound to its node key.
    NodeClient cluster(ctx.node, ctx.timeout);
    absl::StatusOr<node::v1::IssueChallengeResponse> challenge =
        cluster.IssueChallenge();
    if (!challenge.ok()) return challenge.status();
    NodeClient joiner(grpc_address, ctx.timeout);
    absl::StatusOr<attest::v1::Evidence> evidence =
        joiner.Quote("join", challenge->nonce());
    if (!evidence.ok()) {
      return absl::Status(
          evidence.status().code(),
          absl::StrCat("the new node's quote: ", evidence.status().message()));
    }
    if (evidence->node_public_key() != *node_key) {
      return absl::FailedPreconditionError(
          "the node at --grpc-address quoted for another node key than "
          "NODE_KEY_HEX");
    }
    *add.mutable_attestation() = *std::move(evidence);
  }
  return ChangeMembership(ctx, from_key, PackCluster(add, "MsgAddNode"));
}

absl::Status RunClusterRemove(Context& ctx) {
  const std::string& from_key = ctx.args[0];
  if (absl::Status s = CheckFromKey(from_key); !s.ok()) return s;
  absl::StatusOr<uint64_t> raft_id = ParseRaftId("RAFT_ID", ctx.args[1]);
  if (!raft_id.ok()) return UsageError(raft_id.status());
  clv1::MsgRemoveNode rm;
  rm.set_raft_id(*raft_id);
  return ChangeMembership(ctx, from_key, PackCluster(rm, "MsgRemoveNode"));
}

absl::Status RunClusterSetRole(Context& ctx) {
  const std::string& from_key = ctx.args[0];
  if (absl::Status s = CheckFromKey(from_key); !s.ok()) return s;
  absl::StatusOr<uint64_t> raft_id = ParseRaftId("RAFT_ID", ctx.args[1]);
  if (!raft_id.ok()) return UsageError(raft_id.status());
  const std::string& role = ctx.args[2];
  if (role != "voter" && role != "non-voter") {
    return UsageError(absl::StrCat("ROLE: \"", TextSafe(role.substr(0, 32)),
                                   "\" is not voter or non-voter"));
  }
  clv1::MsgSetNodeRole set;
  set.set_raft_id(*raft_id);
  set.set_voter(role == "voter");
  return ChangeMembership(ctx, from_key, PackCluster(set, "MsgSetNodeRole"));
}

absl::Status RunAdminBackup(Context& ctx) {
  const std::string name = ctx.Flag("name").value_or("");
  if (ctx.Has("name")) {
    if (absl::Status s = ValidateBackupName("--name", name); !s.ok()) {
      return UsageError(s);
    }
  }
  absl::StatusOr<std::string> socket = ResolveAdminSocket(ctx);
  if (!socket.ok()) return socket.status();
  AdminClient admin(*socket, AdminTimeout(ctx));
  absl::StatusOr<node::v1::BackupResponse> r = admin.Backup(name);
  if (!r.ok()) {
    return Prefixed(absl::StrCat("Backup via ", *socket), r.status());
  }
  const node::v1::CheckpointManifest& m = r->manifest();
  if (ctx.json) {
    JsonWriter w;
    w.BeginObject()
        .Key("path")
        .String(r->path())
        .Key("chain_id")
        .String(m.chain_id())
        .Key("height")
        .Uint(m.height())
        .Key("applied_index")
        .Uint(m.applied_index())
        .Key("last_block_hash")
        .String(Hex(m.last_block_hash()))
        .Key("state_digest")
        .String(Hex(m.state_digest()))
        .Key("replayed_blocks")
        .Uint(r->replayed_blocks());
    w.Key("files").BeginArray();
    for (const node::v1::CheckpointFile& f : m.files()) {
      w.BeginObject()
          .Key("name")
          .String(f.name())
          .Key("size")
          .Uint(f.size())
          .Key("sha256")
          .String(Hex(f.sha256()))
          .EndObject();
    }
    w.EndArray().EndObject();
    ctx.out << w.str() << "\n";
    return absl::OkStatus();
  }
  ctx.out << "path: " << TextSafe(r->path()) << "\n"
          << "chain_id: " << TextSafe(m.chain_id()) << "\n"
          << "height: " << m.height() << "\n"
          << "applied_index: " << m.applied_index() << "\n"
          << "last_block_hash: " << Hex(m.last_block_hash()) << "\n"
          << "state_digest: " << Hex(m.state_digest()) << "\n"
          << "replayed_blocks: " << r->replayed_blocks()
          << " (re-executed by the verify step)\n"
          << "files: " << m.files_size() << "\n";
  std::vector<std::vector<std::string>> rows = {{"NAME", "SIZE", "SHA256"}};
  for (const node::v1::CheckpointFile& f : m.files()) {
    rows.push_back(
        {TextSafe(f.name()), absl::StrCat(f.size()), Hex(f.sha256())});
  }
  ctx.out << TextTable(rows)
          << "(check it again with 've-node backup verify PATH'; restore into "
             "the stopped node with 've-node restore --home HOME --from "
             "PATH')\n";
  return absl::OkStatus();
}

}  // namespace virtengine::cli
