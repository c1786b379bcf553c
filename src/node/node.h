#ifndef VIRTENGINE_SRC_NODE_NODE_H_
#define VIRTENGINE_SRC_NODE_NODE_H_

// The ledger node's core: the ledger behind one mutex, the mempool, the
// block producer (leader only) and the Raft state machine that commits
// blocks. gRPC (service.h), metrics (metrics.h) and the command line
// (main.cc) are thin wiring around it.
//
// Threads: gRPC handler threads run PreCheckTx (decode + signature) in
// parallel without any lock, then admit under the ledger mutex; the
// producer thread cuts and proposes blocks; the Raft thread applies
// committed blocks. State logic never reads the wall clock: the producer
// stamps the block time, which the ledger clamps to be monotonic.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "security/attest/challenge.h"
#include "security/audit/audit_log.h"
#include "src/api/cluster/v1/cluster.pb.h"
#include "src/api/ledger/v1/ledger.pb.h"
#include "src/api/node/v1/config.pb.h"
#include "src/api/node/v1/node.pb.h"
#include "src/consensus/raft_node.h"
#include "src/ledger/chain/ledger.h"
#include "src/node/attestor.h"
#include "src/node/mempool.h"
#include "src/node/metrics.h"
#include "src/node/verify_pool.h"

namespace virtengine::node {

inline constexpr char kVersion[] = "0.4.0";

// The outcome of one submitted tx, as the API reports it.
struct SubmitOutcome {
  absl::Status status;          // admission (CheckTx) or commit failure
  std::string tx_hash;          // 32 bytes, set when the tx decoded
  uint64_t height = 0;          // set when committed and waited for
  ledger::v1::TxResult result;  // set when committed and waited for
};

class Node final : public consensus::StateMachine {
 public:
  // Opens the ledger under <home>/data/ledger (writing genesis on first
  // start), starts Raft under <home>/data/raft and the block producer.
  static absl::StatusOr<std::unique_ptr<Node>> Start(
      const v1::NodeConfig& config, const v1::GenesisDoc& genesis,
      const std::string& home, std::unique_ptr<ledger::BlockSigner> signer,
      NodeMetrics* metrics, std::unique_ptr<Attestor> attestor = nullptr);
  ~Node() override;

  // Admits txs (PreCheckTx in parallel on the verify pool, then AdmitTx in
  // order). With `wait`, blocks until each admitted tx is committed or
  // `deadline` passes (DEADLINE_EXCEEDED; the tx may still commit later).
  std::vector<SubmitOutcome> Submit(const std::vector<std::string>& raws,
                                    bool wait, absl::Time deadline);

  absl::StatusOr<ledger::v1::Block> GetBlock(uint64_t height) const;
  absl::StatusOr<v1::GetTxResponse> GetTx(std::string_view tx_hash) const;
  absl::StatusOr<ledger::v1::Receipt> GetReceipt(
      std::string_view tx_hash) const;
  absl::StatusOr<bank::v1::QueryBalanceResponse> QueryBalance(
      std::string_view address, std::string_view denom) const;
  absl::StatusOr<v1::QueryResponse> Query(const v1::QueryRequest& req) const;
  v1::StatusResponse Status() const;
  uint64_t height() const;

  // Appends to the node's local audit log (<home>/audit, hash-chained,
  // security/audit); a failure to record is logged, never fatal.
  void Audit(std::string_view action, std::string_view object,
             const absl::Status& outcome,
             security::audit::Details details = {}) const;

  // Where writes go: this node when it leads, else the leader's API
  // address as the ledger's cluster records know it ("" = unknown).
  struct LeaderRoute {
    bool is_leader = false;
    uint64_t leader_id = 0;
    std::string grpc_address;
  };
  LeaderRoute Route() const;

  // On the leader: returns once every entry committed before the call is
  // applied here (a Raft barrier), so a read after it is linearizable.
  // FAILED_PRECONDITION on a follower, DEADLINE_EXCEEDED past `deadline`.
  absl::Status Barrier(absl::Time deadline);

  // OK once the Raft configuration matches the ledger's cluster records
  // (same ids and roles), DEADLINE_EXCEEDED otherwise.
  absl::Status WaitMembershipSettled(absl::Time deadline) const;

  // Blocks until the committed height is at least `height`, the deadline
  // passes or the node stops; returns the committed height.
  uint64_t WaitForHeight(uint64_t height, absl::Time deadline) const;

  // A consistent checkpoint of the committed ledger in <home>/<parent>/NAME
  // (NAME = "ckpt-<applied index>-<random>" when empty), with its manifest
  // (every file's size and SHA-256). Remove it with DropCheckpoint.
  struct Checkpoint {
    std::string rel;  // beneath --home
    v1::CheckpointManifest manifest;
  };
  absl::StatusOr<Checkpoint> MakeCheckpoint(std::string_view parent,
                                            std::string_view name = "") const;
  void DropCheckpoint(const Checkpoint& checkpoint) const;
  // Reads `size` bytes at `offset` of a checkpoint file (for streaming).
  absl::StatusOr<std::string> ReadCheckpointFile(const Checkpoint& checkpoint,
                                                 std::string_view file,
                                                 uint64_t offset,
                                                 size_t size) const;

  // consensus::StateMachine (Raft thread only).
  absl::Status Apply(uint64_t index, std::string_view payload) override;
  uint64_t AppliedIndex() const override;
  // Syncs the ledger's RocksDB WAL (commits are not fsynced one by one
  // unless sync_ledger_writes: the Raft log is the durable record).
  absl::Status MakeDurable() override;
  // State transfer: fetches a checkpoint at or beyond the snapshot from a
  // member (the leader first), verifies it (file hashes, chain id, the
  // stored chain links to this node's last block, signatures, tip digest,
  // invariants) and swaps it in for the ledger; the old ledger is kept
  // until the new one verified.
  absl::Status InstallSnapshot(
      const consensus::SnapshotInfo& snapshot) override;

  // Attestation. A single-use join challenge (leader only:
  // FAILED_PRECONDITION on a follower, which forwards instead).
  absl::StatusOr<attest::Challenge> IssueChallenge();
  // This node's quote; FAILED_PRECONDITION without a TPM
  // (--insecure-no-tpm).
  absl::StatusOr<attest::v1::Evidence> Quote(std::string_view purpose,
                                             crypto::ByteView nonce);
  // Whether the committed governance parameters require attestation.
  absl::StatusOr<bool> AttestationRequired() const;

  // Stops the producer and Raft; pending waiters get UNAVAILABLE.
  void Stop();
  bool halted() const;

 private:
  struct Waiter;
  // Takes mu_ ahead of waiting submitters (block production and commits
  // must not starve behind admission).
  class PriorityLock {
   public:
    explicit PriorityLock(Node* n) ABSL_EXCLUSIVE_LOCK_FUNCTION(n->mu_)
        : n_(n) {
      n_->priority_.fetch_add(1, std::memory_order_acq_rel);
      n_->mu_.Lock();
      n_->priority_.fetch_sub(1, std::memory_order_acq_rel);
    }
    ~PriorityLock() ABSL_UNLOCK_FUNCTION() { n_->mu_.Unlock(); }
    PriorityLock(const PriorityLock&) = delete;
    PriorityLock& operator=(const PriorityLock&) = delete;

   private:
    Node* n_;
  };
  Node(const v1::NodeConfig& config,
       std::unique_ptr<ledger::BlockSigner> signer, NodeMetrics* metrics);
  void ProducerLoop();
  // Re-admits every mempool tx on a fresh check state (after a block).
  void Readmit() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Complete(const std::string& hash, const absl::Status& status,
                uint64_t height, const ledger::v1::TxResult* result);
  void CountRejection(const absl::Status& status);
  // Copies ledger_ to check_ledger_ after every assignment of ledger_.
  void PublishCheckLedger() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Reloads the cluster members from committed state (genesis voters when
  // the ledger predates the cluster module).
  void RefreshMembers() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status AcceptProposer(std::string_view key) const;
  // Consumes the join challenges of attested MsgAddNode messages in `tx`
  // (direct, or as a governance proposal's action).
  absl::Status ConsumeChallenges(const ledger::DecodedTx& tx);
  // The Raft hook before a member is added: its ledger record must carry an
  // approved measurement in force when the chain requires attestation.
  absl::Status AttestMember(uint64_t raft_id) const;
  // The leader's loop bringing the Raft configuration to the members the
  // ledger records, one change at a time.
  void ReconcileLoop();
  // The next change, run synchronously: OK(true) when one was made.
  absl::StatusOr<bool> ReconcileOnce();
  absl::Status RunRaftOp(
      const std::function<void(std::function<void(absl::Status)>)>& op,
      absl::Duration timeout);

  // Fetches a peer's checkpoint into <home>/data/incoming.
  absl::StatusOr<v1::CheckpointManifest> FetchCheckpoint(
      const std::string& address, uint64_t min_applied_index);
  // Replaces the ledger with <home>/data/incoming after verifying it.
  absl::Status SwapInIncoming(uint64_t min_applied_index);

  const v1::NodeConfig config_;
  std::string home_;
  ledger::LedgerOptions ledger_options_;  // set once in Start
  std::unique_ptr<ledger::BlockSigner> signer_;
  NodeMetrics* metrics_;  // may be null
  VerifyPool verify_pool_;

  mutable absl::Mutex mu_;
  std::atomic<int> priority_{0};  // PriorityLock holders waiting for mu_
  // shared: Submit keeps the ledger it started PreCheckTx on alive across a
  // state transfer that swaps in another.
  std::shared_ptr<ledger::Ledger> ledger_ ABSL_GUARDED_BY(mu_);
  // ledger_ as Submit's signature checks read it, under its own mutex
  // (never held for more than a pointer copy); empty while a state
  // transfer swaps the store. Lock order: mu_ before check_mu_.
  mutable absl::Mutex check_mu_ ABSL_ACQUIRED_AFTER(mu_);
  std::shared_ptr<const ledger::Ledger> check_ledger_
      ABSL_GUARDED_BY(check_mu_);
  Mempool mempool_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool halted_ ABSL_GUARDED_BY(mu_) = false;
  std::string halt_reason_ ABSL_GUARDED_BY(mu_);
  uint64_t height_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t applied_index_ ABSL_GUARDED_BY(mu_) = 0;
  // The serialised block this node proposed and awaits in Apply.
  std::string pending_bytes_ ABSL_GUARDED_BY(mu_);
  ledger::v1::Block pending_block_ ABSL_GUARDED_BY(mu_);
  absl::Time oldest_waiting_ ABSL_GUARDED_BY(mu_);

  mutable absl::Mutex waiters_mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Waiter>> waiters_
      ABSL_GUARDED_BY(waiters_mu_);
  absl::flat_hash_map<std::string, absl::Time> submitted_at_
      ABSL_GUARDED_BY(waiters_mu_);

  std::vector<v1::GenesisVoter> genesis_voters_;      // set once in Start
  std::unique_ptr<security::audit::AuditLog> audit_;  // set once in Start
  mutable absl::Mutex members_mu_;  // never held while taking mu_
  std::map<uint64_t, cluster::v1::Member> members_ ABSL_GUARDED_BY(members_mu_);
  uint64_t members_version_ ABSL_GUARDED_BY(members_mu_) = 0;

  std::unique_ptr<Attestor> attestor_;  // null: --insecure-no-tpm
  attest::ChallengeRegistry challenges_;

  std::unique_ptr<consensus::RaftNode> raft_;
  std::thread producer_;
  std::thread reconciler_;
};

}  // namespace virtengine::node

#endif  // VIRTENGINE_SRC_NODE_NODE_H_
