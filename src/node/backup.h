// Backups of a node's ledger and their verification and restore
// (docs/operator/backup.md). A backup directory holds:
//   ledger/         a RocksDB checkpoint of the committed ledger
//   genesis.json    the chain's genesis document
//   manifest.json   v1.CheckpointManifest as JSON: chain id, height, Raft
//                   applied index, last block hash, state digest and every
//                   ledger file with its size and SHA-256
#ifndef VIRTENGINE_SRC_NODE_BACKUP_H_
#define VIRTENGINE_SRC_NODE_BACKUP_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/api/node/v1/config.pb.h"
#include "src/api/node/v1/node.pb.h"
#include "src/ledger/chain/ledger.h"

namespace virtengine::node {

// The modules every node of a chain registers beyond bank and audit.
ledger::LedgerOptions BaseLedgerOptions();
// The ledger genesis a GenesisDoc stands for (bank, cluster members and
// operators).
ledger::Genesis LedgerGenesisFrom(const v1::GenesisDoc& genesis);

// Writes manifest.json and genesis.json into the backup directory `dir`
// (absolute; its ledger/ checkpoint already written).
absl::Status WriteBackupFiles(const std::string& dir,
                              const v1::CheckpointManifest& manifest,
                              const v1::GenesisDoc& genesis);

struct BackupReport {
  v1::CheckpointManifest manifest;
  uint64_t replayed_blocks = 0;
  uint64_t replayed_txs = 0;
};

// Verifies a backup without changing it: every ledger file matches the
// manifest; the ledger opens read-only and its stored chain verifies
// (links, signatures, tip digest, invariants); then every block is
// re-executed from genesis into a scratch ledger under `scratch` (absolute,
// must not exist; removed afterwards), and the recomputed state digest and
// last block hash must equal the backup's. DATA_LOSS names the first
// difference.
absl::StatusOr<BackupReport> VerifyBackup(const std::string& dir,
                                          const std::string& scratch);

// Restores a verified backup into the stopped node `home` (absolute).
// The home's genesis must be the backup's. The current ledger is kept as
// data/ledger.pre-restore-<height>; the Raft log is cleared. Without
// `rejoin` (a single-voter chain) a new Raft log starts at index 1 over the
// restored state; with `rejoin` (the node's config has join: true) the
// applied index is kept and the node catches up from the cluster.
// FAILED_PRECONDITION when the node is running (its ledger is locked).
absl::StatusOr<BackupReport> RestoreBackup(const std::string& dir,
                                           const std::string& home,
                                           bool rejoin);

}  // namespace virtengine::node

#endif  // VIRTENGINE_SRC_NODE_BACKUP_H_
