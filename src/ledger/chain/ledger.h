#ifndef VIRTENGINE_SRC_LEDGER_CHAIN_LEDGER_H_
#define VIRTENGINE_SRC_LEDGER_CHAIN_LEDGER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/crypto/ed25519.h"
#include "src/api/audit/v1/audit.pb.h"
#include "src/api/bank/v1/bank.pb.h"
#include "src/api/ledger/v1/ledger.pb.h"
#include "src/ledger/merkle/tree.h"
#include "src/ledger/module/module.h"
#include "src/ledger/module/registry.h"
#include "src/ledger/store/read_cache.h"
#include "src/ledger/store/state_view.h"
#include "src/ledger/store/store.h"
#include "src/ledger/tx/tx.h"

namespace virtengine::ledger {

inline constexpr std::string_view kBlockSignDomain = "virtengine/block/v1";

// Signs block headers: the ledger passes "virtengine/block/v1" 0x00 ||
// header_bytes. Implementations may hold the key in a TPM or a key store.
class BlockSigner {
 public:
  virtual ~BlockSigner() = default;
  virtual const crypto::Ed25519PublicKey& public_key() const = 0;
  virtual absl::StatusOr<crypto::Ed25519Signature> Sign(
      crypto::ByteView message) const = 0;
};

// A BlockSigner over an in-memory Ed25519 key bound to purpose
// NODE_SIGNATURE; Sign refuses (PERMISSION_DENIED) a key made for another
// purpose.
class KeyBlockSigner final : public BlockSigner {
 public:
  explicit KeyBlockSigner(crypto::Ed25519PrivateKey key);
  const crypto::Ed25519PublicKey& public_key() const override;
  absl::StatusOr<crypto::Ed25519Signature> Sign(
      crypto::ByteView message) const override;

 private:
  crypto::Ed25519PrivateKey key_;
};

struct LedgerOptions {
  StoreOptions store;
  TxLimits limits;
  // Followers re-verify every client signature of a block they apply (audit
  // replay). Off by default: the leader verified them (DESIGN.md).
  bool reverify_signatures = false;
  // Largest block ProposeBlock builds and ApplyBlock accepts.
  size_t max_block_txs = 10000;
  size_t max_block_bytes = size_t{32} << 20;
  // Called for every block ApplyBlock verifies (not the node's own pending
  // block) after its header signature checked out: may refuse the proposer
  // key (e.g. not a cluster member at the committed state), which halts the
  // node like any other invalid block. Unset: any key.
  std::function<absl::Status(std::string_view proposer_key)> accept_proposer;
  // Modules beyond the built-in bank and audit (registered with them).
  std::vector<std::shared_ptr<const Module>> extra_modules;
  // Gate requirements replacing the ones modules declare (type URL ->
  // requirement). Every node of a chain must use the same.
  std::vector<std::pair<std::string, GateRequirement>> gate_requirements;
};

struct Genesis {
  std::string chain_id;  // [a-z0-9][a-z0-9-]{0,47}
  int64_t genesis_time_unix_nano = 0;
  bank::v1::GenesisState bank;
  audit::v1::GenesisState audit;
  // Serialised genesis states of LedgerOptions::extra_modules, by name.
  std::map<std::string, std::string> modules;
};

// Transaction result codes (TxResult.code).
enum TxCode : uint32_t {
  kTxOk = 0,
  kTxRejected = 1,        // ante step (sequence, fee) failed: nothing written
  kTxUnknownMessage = 2,  // no module handles a message type
  kTxMessageFailed = 3,   // a message failed; its writes were discarded
  kTxExpired = 4,         // timeout_height passed: nothing written
  kTxGateRefused = 5,     // the gate refused a message (sequence and fee
                          // stay consumed, like code 3)
};

// The ledger state machine over one RocksDB store, split for consensus:
// the leader proposes a block (executed, signed, not committed), consensus
// orders it, and every node applies it at its Raft log index.
//
// Thread safety: PreCheckTx (and the trivial getters height(),
// applied_index(), chain_id() once a chain exists) may run on any thread
// concurrently with everything. Every other method is a mutator or reads
// state a mutator changes: the caller serialises them.
class Ledger {
 public:
  static absl::StatusOr<std::unique_ptr<Ledger>> Open(
      const std::string& db_dir, LedgerOptions options = {});
  ~Ledger();

  // Writes the genesis state at height 0 (applied index 0).
  // FAILED_PRECONDITION when the store already holds a chain,
  // INVALID_ARGUMENT for a bad chain id, a negative time, an invalid module
  // genesis or a genesis for an unknown module.
  absl::Status InitGenesis(const Genesis& genesis);

  // Thread-safe. Decode and limits (INVALID_ARGUMENT "tx: ..."), every
  // message type known to the registry (INVALID_ARGUMENT "tx: unknown
  // message type <url>"), the signature for this chain (UNAUTHENTICATED).
  // FAILED_PRECONDITION before genesis.
  absl::StatusOr<DecodedTx> PreCheckTx(std::string_view raw) const;

  // Not thread-safe. Against the check state (committed state + txs admitted
  // since): timeout height vs the next height (DEADLINE_EXCEEDED), sequence
  // and fee (FAILED_PRECONDITION), the gate (PERMISSION_DENIED "gate: ..."),
  // then the messages dry-run (FAILED_PRECONDITION "message i: ..."). On
  // success the tx's writes join the check state. Nothing goes to the store.
  absl::Status AdmitTx(const DecodedTx& tx);

  // PreCheckTx + AdmitTx.
  absl::StatusOr<DecodedTx> CheckTx(std::string_view raw);

  // Check state := committed state (the node then re-admits its mempool).
  void ResetCheckState();

  // Executes `txs` as block height()+1 at max(time_unix_nano, previous
  // block time) WITHOUT committing, signs the header with `signer` and keeps
  // the block as the one pending block (a second call replaces it).
  // INVALID_ARGUMENT when the block would exceed max_block_txs or
  // max_block_bytes.
  absl::StatusOr<v1::Block> ProposeBlock(const std::vector<DecodedTx>& txs,
                                         int64_t time_unix_nano,
                                         const BlockSigner& signer);

  // Commits the block consensus delivered at Raft log index `index`.
  //  - index <= applied_index(): OK, nothing done (replay).
  //  - block_bytes equal to the pending block's serialisation: its writes
  //    are committed.
  //  - otherwise the block is verified and re-executed: INVALID_ARGUMENT
  //    when over max_block_bytes; DATA_LOSS "block: ..." for bytes that do
  //    not decode, a wrong chain id, height or previous hash, a time before
  //    the previous block's, an undecodable tx, and any difference between
  //    the header (tx_root, ledger_root, ledger_size, state_digest,
  //    audit_head), the results or the canonical encoding and what
  //    re-execution computes; UNAUTHENTICATED for a bad proposer signature
  //    (or, with reverify_signatures, a bad client signature). On any error
  //    nothing is written and the ledger is unchanged: the node must halt.
  // Module writes, indexes, tree nodes, block, metadata and the applied
  // index go to the store in ONE write batch.
  // The check state is reset, except when the block was the pending one and
  // every tx in it succeeded: the check state then already equals the new
  // state plus the txs admitted after the block's. That holds only when the
  // proposer took the block's txs from the front of the admission order
  // (the node's mempool does); check_state_reset() tells which happened.
  absl::Status ApplyBlock(std::string_view block_bytes, uint64_t index);
  // The serialised pending block (what ProposeBlock returned, as
  // ApplyBlock expects it), or empty when none is pending.
  std::string_view pending_block_bytes() const;

  // Whether the last successful ApplyBlock reset the check state (the
  // caller then re-admits what it still holds).
  bool check_state_reset() const { return check_state_reset_; }
  // Whether the last successful ApplyBlock wrote or deleted a state key of
  // `module` (under "module/"): a caller that caches module state (the
  // node's cluster members) reloads it only then.
  bool LastBlockTouched(std::string_view module) const;

  // RocksDB size figures for metrics (thread-safe): live data, SST files and
  // memtables in bytes, by RocksDB property name.
  std::vector<std::pair<std::string, uint64_t>> StoreFigures() const;

  // ProposeBlock + ApplyBlock(applied_index() + 1): tests and tools.
  absl::StatusOr<v1::Block> ExecuteBlock(const std::vector<DecodedTx>& txs,
                                         int64_t time_unix_nano,
                                         const BlockSigner& signer);

  uint64_t applied_index() const { return applied_index_.load(); }
  uint64_t height() const { return height_.load(); }
  const std::string& chain_id() const { return chain_id_; }
  const crypto::Digest32& state_digest() const { return state_digest_; }
  // SHA-256 of the last block's header bytes (32 bytes; empty at genesis).
  std::string last_block_hash() const { return last_header_hash_; }

  // Queries read committed state.
  absl::StatusOr<v1::Block> GetBlock(uint64_t height) const;  // 0 = latest
  // The committed tx's block and its index in it; NOT_FOUND when unknown.
  absl::StatusOr<std::pair<v1::Block, uint32_t>> GetTx(
      const crypto::Digest32& tx_hash) const;
  absl::StatusOr<v1::Receipt> GetReceipt(const crypto::Digest32& tx_hash) const;
  absl::StatusOr<bank::v1::QueryBalanceResponse> QueryBalance(
      std::string_view address, std::string_view denom) const;
  // Every module's invariants on committed state, modules in name order.
  absl::Status CheckInvariants() const;
  // A module query: NOT_FOUND for an unknown module or path,
  // INVALID_ARGUMENT for an oversize path (> 128 bytes) or request
  // (> 64 KiB) or a malformed request.
  absl::StatusOr<std::string> Query(std::string_view module,
                                    std::string_view path,
                                    std::string_view request_bytes) const;
  // A consistent RocksDB checkpoint of the committed state (blocks,
  // indexes, module state, metadata) in `dir` (must not exist). Not
  // thread-safe against mutators: the caller serialises.
  absl::Status Checkpoint(const std::string& dir) const;
  // Makes every committed block durable (Store::Sync). Not thread-safe
  // against mutators: the caller serialises.
  absl::Status Sync();

  // Checks a ledger opened from a checkpoint or backup: the last block's
  // header carries the stored state digest, ledger root and size; its
  // signature verifies; every stored header from 1 to the tip links to its
  // predecessor by previous_hash (from `trusted_height` on, whose header hash
  // must equal `trusted_hash` when trusted_height > 0); module invariants
  // hold. DATA_LOSS naming the first inconsistency.
  absl::Status VerifyStoredChain(uint64_t trusted_height,
                                 std::string_view trusted_hash) const;

  // The stored bytes of block `height` (exactly as applied).
  absl::StatusOr<std::string> GetBlockBytes(uint64_t height) const;

  // Starts a new Raft log under this state (a restore into a single-node
  // cluster): the applied index becomes 0, height and state stay.
  absl::Status ResetAppliedIndex();

  // The committed state as a genesis (time = last block time).
  absl::StatusOr<Genesis> ExportGenesis() const;

  const Registry& registry() const { return *registry_; }

 private:
  struct Executed;
  struct Pending;
  class StoreNodes;

  Ledger(std::unique_ptr<Store> store, LedgerOptions options,
         std::unique_ptr<const Registry> registry);
  absl::Status Load();
  absl::Status Ante(StateView* view, const DecodedTx& tx) const;
  v1::TxResult Deliver(StateView* block, const DecodedTx& tx,
                       const BlockInfo& info, uint32_t* event_index) const;
  absl::StatusOr<Executed> Execute(const std::vector<const DecodedTx*>& txs,
                                   uint64_t height, int64_t time) const;
  absl::StatusOr<std::unique_ptr<Pending>> Seal(
      Executed executed, const std::string& header_bytes,
      const std::string& block_bytes) const;
  absl::StatusOr<std::unique_ptr<Pending>> VerifyBlock(
      std::string_view block_bytes) const;
  absl::Status Commit(const Pending& pending, uint64_t index,
                      bool keep_check_state);

  std::unique_ptr<Store> store_;
  LedgerOptions options_;
  std::unique_ptr<const Registry> registry_;
  std::unique_ptr<StoreNodes> nodes_;
  std::unique_ptr<merkle::MerkleTree> tree_;
  std::unique_ptr<StateView> check_state_;  // committed state + admitted txs
  bool check_state_reset_ = true;
  // Modules (key prefixes before the first '/') the last commit wrote.
  std::set<std::string, std::less<>> last_touched_;
  // Committed values the mutators read (check state, execution); queries
  // read the store directly, so concurrent readers never touch it.
  std::unique_ptr<ReadCache> cache_;
  std::deque<crypto::Digest32>
      admitted_;                      // hashes in the check state, in order
  std::unique_ptr<Pending> pending_;  // the proposed, uncommitted block
  // Written only by Open and InitGenesis, before has_chain_ is published.
  std::string chain_id_;
  std::atomic<bool> has_chain_{false};
  std::atomic<uint64_t> height_{0};
  std::atomic<uint64_t> applied_index_{0};
  int64_t last_time_ = 0;
  std::string last_header_hash_;
  crypto::Digest32 state_digest_{};
};

// Verifies a receipt offline: the header signature by `node_key` (or by the
// key named in the header when `node_key` is empty), that the header's
// ledger root and size match, and the RFC 6962 inclusion of the tx hash.
absl::Status VerifyReceipt(const v1::Receipt& receipt,
                           std::string_view node_key);

}  // namespace virtengine::ledger

#endif  // VIRTENGINE_SRC_LEDGER_CHAIN_LEDGER_H_
