#include "src/node/backup.h"

#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "security/audit/audit_log.h"
#include "security/path/path.h"
#include "src/api/cluster/v1/cluster.pb.h"
#include "src/modules/cluster/cluster.h"
#include "src/modules/gov/gov.h"
#include "src/modules/profile/profile.h"
#include "src/node/files.h"
#include "src/node/home.h"

namespace virtengine::node {
namespace {

using security::path::PathRoot;

constexpr size_t kMaxManifestBytes = 64 << 20;

std::string Parent(const std::string& abs) {
  const size_t slash = abs.rfind('/');
  return slash == 0 ? "/" : abs.substr(0, slash);
}
std::string Leaf(const std::string& abs) {
  return abs.substr(abs.rfind('/') + 1);
}

// A proposer check reading the cluster members of `holder->ledger`'s
// committed state (a replaying ledger checks each block against the
// membership of the height before it, as the cluster did).
struct LedgerHolder {
  const ledger::Ledger* ledger = nullptr;
};

absl::Status AcceptMemberOf(const LedgerHolder& h, std::string_view key) {
  absl::StatusOr<std::string> raw =
      h.ledger->Query(cluster::kModuleName, "members", "");
  if (!raw.ok()) return raw.status();
  cluster::v1::QueryMembersResponse resp;
  if (!resp.ParseFromString(*raw)) {
    return absl::DataLossError("cluster members do not parse");
  }
  for (const cluster::v1::Member& m : resp.members()) {
    if (m.node_public_key() == key) return absl::OkStatus();
  }
  return absl::PermissionDeniedError("not a cluster member's node key");
}

struct LoadedBackup {
  v1::CheckpointManifest manifest;
  v1::GenesisDoc genesis;
};

absl::StatusOr<LoadedBackup> LoadAndCheckFiles(const PathRoot& dir) {
  LoadedBackup b;
  absl::StatusOr<std::string> m =
      dir.ReadFile("manifest.json", kMaxManifestBytes);
  if (!m.ok()) return m.status();
  google::protobuf::util::JsonParseOptions opts;
  if (!google::protobuf::util::JsonStringToMessage(*m, &b.manifest, opts)
           .ok()) {
    return absl::DataLossError("backup: manifest.json does not parse");
  }
  absl::StatusOr<std::string> g =
      dir.ReadFile("genesis.json", kMaxGenesisBytes);
  if (!g.ok()) return g.status();
  absl::StatusOr<v1::GenesisDoc> genesis = ParseGenesis(*g);
  if (!genesis.ok()) return genesis.status();
  b.genesis = *std::move(genesis);
  if (b.genesis.chain_id() != b.manifest.chain_id()) {
    return absl::DataLossError(
        "backup: genesis and manifest name other chains");
  }
  absl::StatusOr<PathRoot> ledger_dir = dir.Sub("ledger");
  if (!ledger_dir.ok()) return ledger_dir.status();
  if (b.manifest.files_size() == 0) {
    return absl::DataLossError("backup: the manifest lists no ledger file");
  }
  for (const v1::CheckpointFile& f : b.manifest.files()) {
    absl::StatusOr<FileDigest> d = HashFile(*ledger_dir, f.name());
    if (!d.ok()) {
      return absl::DataLossError(absl::StrCat("backup: ledger/", f.name(), ": ",
                                              d.status().message()));
    }
    if (d->size != f.size() || d->sha256 != f.sha256()) {
      return absl::DataLossError(absl::StrCat("backup: ledger/", f.name(),
                                              " does not match the manifest"));
    }
  }
  return b;
}

}  // namespace

ledger::LedgerOptions BaseLedgerOptions() {
  ledger::LedgerOptions o;
  o.extra_modules.push_back(std::make_shared<cluster::ClusterModule>());
  o.extra_modules.push_back(std::make_shared<profile::ProfileModule>());
  o.extra_modules.push_back(std::make_shared<gov::GovModule>());
  return o;
}

ledger::Genesis LedgerGenesisFrom(const v1::GenesisDoc& genesis) {
  ledger::Genesis g;
  g.chain_id = genesis.chain_id();
  g.genesis_time_unix_nano = genesis.genesis_time_unix_nano();
  g.bank = genesis.bank();
  cluster::v1::GenesisState cg;
  *cg.mutable_operators() = genesis.operators();
  for (const v1::GenesisVoter& v : genesis.voters()) {
    cluster::v1::Member* m = cg.add_members();
    m->set_raft_id(v.raft_id());
    m->set_raft_address(v.raft_address());
    m->set_grpc_address(v.grpc_address());
    m->set_node_public_key(v.node_public_key());
    m->set_voter(true);
  }
  g.modules[std::string(cluster::kModuleName)] = cg.SerializeAsString();
  // Governance: the operators are its first members.
  gov::v1::GenesisState gg;
  *gg.mutable_members() = genesis.operators();
  *gg.mutable_measurements() = genesis.measurements();
  gg.mutable_params()->set_attestation_required(genesis.attestation_required());
  g.modules[std::string(gov::kModuleName)] = gg.SerializeAsString();
  return g;
}

absl::Status WriteBackupFiles(const std::string& dir,
                              const v1::CheckpointManifest& manifest,
                              const v1::GenesisDoc& genesis) {
  absl::StatusOr<PathRoot> root = PathRoot::Open(dir);
  if (!root.ok()) return root.status();
  std::string json;
  google::protobuf::util::JsonPrintOptions po;
  po.add_whitespace = true;
  if (!google::protobuf::util::MessageToJsonString(manifest, &json, po).ok()) {
    return absl::InternalError("manifest: JSON encoding failed");
  }
  if (absl::Status s = root->WriteFileAtomic("manifest.json", json, 0600);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> g = GenesisToJson(genesis);
  if (!g.ok()) return g.status();
  return root->WriteFileAtomic("genesis.json", *g, 0600);
}

absl::StatusOr<BackupReport> VerifyBackup(const std::string& dir,
                                          const std::string& scratch) {
  absl::StatusOr<PathRoot> root = PathRoot::Open(dir);
  if (!root.ok()) return root.status();
  absl::StatusOr<LoadedBackup> b = LoadAndCheckFiles(*root);
  if (!b.ok()) return b.status();
  BackupReport report;
  report.manifest = b->manifest;

  ledger::LedgerOptions ro = BaseLedgerOptions();
  ro.store.read_only = true;
  absl::StatusOr<std::unique_ptr<ledger::Ledger>> backup =
      ledger::Ledger::Open(dir + "/ledger", ro);
  if (!backup.ok()) return backup.status();
  const ledger::Ledger& bl = **backup;
  if (bl.chain_id() != b->manifest.chain_id() ||
      bl.height() != b->manifest.height() ||
      bl.applied_index() != b->manifest.applied_index() ||
      bl.last_block_hash() != b->manifest.last_block_hash()) {
    return absl::DataLossError(
        "backup: the ledger's metadata is not the manifest's");
  }
  if (absl::Status s = bl.VerifyStoredChain(0, ""); !s.ok()) return s;

  // Recompute: re-execute every block from genesis.
  absl::StatusOr<PathRoot> parent = PathRoot::Open(Parent(scratch));
  if (!parent.ok()) return parent.status();
  const std::string leaf = Leaf(scratch);
  if (parent->Sub(leaf).ok()) {
    return absl::AlreadyExistsError(scratch + " exists");
  }
  if (absl::Status s = parent->MakeDirs(leaf, 0700); !s.ok()) return s;
  absl::Status result;
  {
    auto holder = std::make_shared<LedgerHolder>();
    ledger::LedgerOptions so = BaseLedgerOptions();
    so.store.sync_writes = false;  // scratch: thrown away afterwards
    so.accept_proposer = [holder](std::string_view key) {
      return AcceptMemberOf(*holder, key);
    };
    absl::StatusOr<std::unique_ptr<ledger::Ledger>> replay =
        ledger::Ledger::Open(scratch, so);
    result = replay.status();
    if (result.ok()) {
      holder->ledger = replay->get();
      result = (*replay)->InitGenesis(LedgerGenesisFrom(b->genesis));
    }
    for (uint64_t h = 1; result.ok() && h <= bl.height(); ++h) {
      absl::StatusOr<std::string> bytes = bl.GetBlockBytes(h);
      result = bytes.status();
      if (result.ok()) result = (*replay)->ApplyBlock(*bytes, h);
      if (!result.ok()) {
        result = absl::DataLossError(absl::StrCat(
            "backup: re-executing block ", h, " failed: ", result.ToString()));
      }
      ++report.replayed_blocks;
    }
    if (result.ok() && ((*replay)->state_digest() != bl.state_digest() ||
                        (*replay)->last_block_hash() != bl.last_block_hash())) {
      result = absl::DataLossError(
          "backup: the recomputed state digest differs from the backup's");
    }
  }
  if (absl::Status s = parent->RemoveTree(leaf); !s.ok() && result.ok()) {
    result = s;
  }
  if (!result.ok()) return result;
  return report;
}

absl::StatusOr<BackupReport> RestoreBackup(const std::string& dir,
                                           const std::string& home,
                                           bool rejoin) {
  absl::StatusOr<PathRoot> home_root = PathRoot::Open(home);
  if (!home_root.ok()) return home_root.status();
  absl::StatusOr<std::string> ctext =
      home_root->ReadFile("config/node.conf", kMaxConfigBytes);
  if (!ctext.ok()) return ctext.status();
  absl::StatusOr<v1::NodeConfig> config = ParseConfig(*ctext);
  if (!config.ok()) return config.status();
  absl::StatusOr<std::string> gtext =
      home_root->ReadFile("config/genesis.json", kMaxGenesisBytes);
  if (!gtext.ok()) return gtext.status();
  absl::StatusOr<v1::GenesisDoc> genesis = ParseGenesis(*gtext);
  if (!genesis.ok()) return genesis.status();
  if (rejoin && !config->join()) {
    return absl::FailedPreconditionError(
        "--rejoin restores into a node that joins the cluster again: set "
        "join: true in its config (and a raft id the cluster does not use)");
  }
  if (!rejoin && genesis->voters_size() > 1) {
    return absl::FailedPreconditionError(
        "this chain has several voters: restore with --rejoin into a node "
        "initialised with --join true (see docs/operator/backup.md)");
  }
  // A running node holds the RocksDB lock: opening the ledger fails.
  if (home_root->Sub("data/ledger").ok()) {
    absl::StatusOr<std::unique_ptr<ledger::Ledger>> running =
        ledger::Ledger::Open(home + "/data/ledger", BaseLedgerOptions());
    if (!running.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the node's ledger cannot be opened (is ve-node running?): ",
          running.status().message()));
    }
  }
  if (absl::Status s = home_root->MakeDirs("data", 0700); !s.ok()) return s;
  absl::StatusOr<BackupReport> report =
      VerifyBackup(dir, home + "/data/restore-verify");
  if (!report.ok()) return report.status();
  absl::StatusOr<PathRoot> backup_root = PathRoot::Open(dir);
  if (!backup_root.ok()) return backup_root.status();
  absl::StatusOr<LoadedBackup> b = LoadAndCheckFiles(*backup_root);
  if (!b.ok()) return b.status();
  if (b->genesis.SerializeAsString() != genesis->SerializeAsString()) {
    return absl::FailedPreconditionError(
        "the backup's genesis is not this node's genesis");
  }
  // Copy (and re-check) every file into data/incoming.
  if (absl::Status s = home_root->RemoveTree("data/incoming");
      !s.ok() && !absl::IsNotFound(s)) {
    return s;
  }
  if (absl::Status s = home_root->MakeDirs("data/incoming", 0700); !s.ok()) {
    return s;
  }
  absl::StatusOr<PathRoot> from = backup_root->Sub("ledger");
  absl::StatusOr<PathRoot> to = home_root->Sub("data/incoming");
  if (!from.ok()) return from.status();
  if (!to.ok()) return to.status();
  for (const v1::CheckpointFile& f : b->manifest.files()) {
    absl::StatusOr<FileDigest> d = CopyFile(*from, f.name(), *to);
    if (!d.ok()) return d.status();
    if (d->sha256 != f.sha256()) {
      return absl::DataLossError(
          absl::StrCat("backup: ledger/", f.name(), " changed while copied"));
    }
  }
  if (!rejoin) {
    absl::StatusOr<std::unique_ptr<ledger::Ledger>> l =
        ledger::Ledger::Open(home + "/data/incoming", BaseLedgerOptions());
    if (!l.ok()) return l.status();
    if (absl::Status s = (*l)->ResetAppliedIndex(); !s.ok()) return s;
  }
  if (home_root->Sub("data/ledger").ok()) {
    const std::string kept =
        absl::StrCat("data/ledger.pre-restore-", b->manifest.height());
    (void)home_root->RemoveTree(kept);
    if (absl::Status s = home_root->Rename("data/ledger", kept); !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = home_root->Rename("data/incoming", "data/ledger");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = home_root->RemoveTree("data/raft");
      !s.ok() && !absl::IsNotFound(s)) {
    return s;
  }
  // The node's audit log records the restore (the node is stopped, so its
  // lock is free).
  absl::StatusOr<std::unique_ptr<security::audit::AuditLog>> audit =
      security::audit::AuditLog::Open(*home_root);
  if (!audit.ok()) return audit.status();
  security::audit::Entry e;
  e.actor = "operator:ve-node-restore";
  e.action = "node.restore";
  e.object = dir.substr(0, 1000);
  e.details = {{"height", absl::StrCat(b->manifest.height())},
               {"rejoin", rejoin ? "true" : "false"}};
  if (absl::StatusOr<security::audit::Head> h = (*audit)->Append(e); !h.ok()) {
    return h.status();
  }
  return report;
}

}  // namespace virtengine::node
