// src/consensus: the Raft engine adapter over libraft 0.15 (canonical/raft,
// Debian's libraft-dev) with its libuv disk I/O (raft_uv_init) and its TCP
// transport (raft_uv_tcp_init). Raft itself is libraft's; this adapter only
// owns the thread, the proposal queue, the apply path, the snapshot marker and
// the safety rules around them. See docs/ledger/consensus.md.
//
//   RaftOptions o;
//   o.id = 1; o.address = "127.0.0.1:26656"; o.data_dir = "/var/lib/ve/raft";
//   o.initial_voters = {{1, "127.0.0.1:26656"}};
//   auto node = RaftNode::Start(o, &state_machine);
//   (*node)->Propose(block_bytes, [](absl::StatusOr<uint64_t> index) {...});
//
// Threads: libraft and libuv run on ONE thread owned by RaftNode. Propose(),
// Status() and Stop() may be called from any other thread. StateMachine
// methods and `done` callbacks run on the raft thread (see Propose for the
// exceptions); they must not block for long, and must not call Stop() or
// destroy the node.
#ifndef VIRTENGINE_SRC_CONSENSUS_RAFT_NODE_H_
#define VIRTENGINE_SRC_CONSENSUS_RAFT_NODE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace virtengine::consensus {

// Limits on options (checked by RaftNode::Start, INVALID_ARGUMENT naming the
// field otherwise).
inline constexpr size_t kMaxVoters = 16;
inline constexpr size_t kMaxDataDirBytes = 512;
inline constexpr uint64_t kDefaultMaxEntryBytes = uint64_t{64} << 20;  // 64 MiB
inline constexpr uint64_t kMaxMaxEntryBytes = uint64_t{256} << 20;

struct RaftPeer {
  uint64_t id = 0;      // raft server id, > 0
  std::string address;  // "a.b.c.d:port", IPv4 dotted quad, canonical form
};

// A snapshot as libraft stores it: a small marker, because the state itself
// lives in the state machine's own store (RocksDB) and is durable there.
// A server's role in the raft configuration (libraft's RAFT_VOTER,
// RAFT_STANDBY, RAFT_SPARE).
enum class RaftRole {
  kVoter,    // replicates the log and counts in the quorum
  kStandby,  // replicates the log, not in the quorum (a catching-up node)
  kSpare,    // neither (just added)
};
std::string_view RaftRoleName(RaftRole role);

struct RaftMember {
  uint64_t id = 0;
  std::string address;
  RaftRole role = RaftRole::kVoter;
};

struct SnapshotInfo {
  uint64_t applied_index = 0;  // last command entry whose effects it includes
  uint64_t raft_index = 0;     // raft log index the snapshot stands for
};

struct RaftOptions {
  uint64_t id = 0;       // this node's raft id (> 0)
  std::string address;   // host:port to bind and advertise
  std::string data_dir;  // absolute dir for the raft log (created 0700)
  // Bootstrap configuration (all RAFT_VOTER), used only when data_dir holds
  // no raft state. Must contain this node (same id and address).
  std::vector<RaftPeer> initial_voters;
  // A node joining an existing cluster: data_dir is fresh, initial_voters
  // is empty, and the node waits until a leader adds it (AddMember) and
  // replicates the log (or a snapshot) to it.
  bool join = false;
  unsigned heartbeat_ms = 100;          // 10..10000
  unsigned election_timeout_ms = 1000;  // >= 2 * heartbeat_ms, <= 60000
  unsigned snapshot_threshold = 4096;   // entries between snapshots, 8..2^24
  unsigned snapshot_trailing = 1024;    // entries kept after one, 1..2^24
  // Proposals larger than this fail with INVALID_ARGUMENT (1..256 MiB).
  uint64_t max_entry_bytes = kDefaultMaxEntryBytes;
  // Bounds on proposals accepted and not yet completed; over either one,
  // Propose fails with RESOURCE_EXHAUSTED.
  size_t max_inflight_proposals = 4096;               // 1..1<<20
  uint64_t max_inflight_bytes = uint64_t{512} << 20;  // >= max_entry_bytes
  // Size of libraft's log segment files (64 KiB..1 GiB); the log is
  // truncated after a snapshot in whole segments only.
  uint64_t segment_size_bytes = uint64_t{8} << 20;

  // MEMBERSHIP ATTESTATION HOOK. Called on the raft thread for every peer
  // this node admits into the raft configuration: today the other
  // initial_voters at bootstrap; later raft_add/raft_assign (membership
  // issue). It must return OK only for a peer whose TPM quote verified
  // against the governance allowlist (DESIGN.md §1, §5). Unset: no check.
  std::function<absl::Status(const RaftPeer&)> attest_member;

  // Diagnostics hook, off by default. Adapter events (leadership, halts,
  // snapshots, refused restores) carry ids, indexes, addresses and error
  // codes, never payload bytes. With libraft_trace, libraft's own trace
  // lines are forwarded too (debug only: libraft formats them in a static
  // buffer, so traces of several nodes in one process can be garbled).
  std::function<void(std::string_view)> log;
  bool libraft_trace = false;
};

// Implemented by the node (the ledger). Called ONLY on the raft thread.
class StateMachine {
 public:
  virtual ~StateMachine() = default;
  // Applies a committed entry. Must be deterministic. An error halts the
  // node (RaftNode stops applying; see docs/ledger/consensus.md).
  virtual absl::Status Apply(uint64_t index, std::string_view payload) = 0;
  // Index of the last entry whose effects are durable in the state
  // machine's own store (RocksDB); entries <= it are skipped on replay.
  virtual uint64_t AppliedIndex() const = 0;
  // Called on the raft thread before libraft takes a snapshot and truncates
  // its log behind it: every applied entry must be durable in the state
  // machine's store when it returns OK. A state machine that commits
  // without fsync (the node: the Raft log is the durable record, replayed
  // after a crash) syncs here. An error postpones the snapshot.
  virtual absl::Status MakeDurable() { return absl::OkStatus(); }

  // EXTENSION POINT: state transfer (a later cluster issue). Called on the
  // raft thread when libraft installs a snapshot whose applied_index is
  // beyond AppliedIndex(), i.e. this node fell behind the leader's
  // truncated log. An implementation fetches a RocksDB checkpoint at that
  // index from a peer, installs it and returns OK once AppliedIndex() >=
  // snapshot.applied_index. The default refuses with FAILED_PRECONDITION
  // "snapshot install needs a state transfer (cluster issue)".
  virtual absl::Status InstallSnapshot(const SnapshotInfo& snapshot);
};

struct RaftStatus {
  bool is_leader = false;
  // Leader, and every entry of earlier terms is applied here (the barrier
  // proposed on election is applied). A new leader's state machine may not
  // yet hold what an earlier leader committed: whatever it proposes on top
  // of its state (a block) must wait for this.
  bool leader_ready = false;
  uint64_t leader_id = 0;      // 0: unknown
  std::string leader_address;  // empty: unknown
  uint64_t term = 0;
  uint64_t commit_index = 0;
  uint64_t last_applied = 0;  // libraft's (includes barrier/config entries)
  bool halted = false;
  std::string halt_reason;
  // The current raft configuration as this node knows it (id order).
  std::vector<RaftMember> configuration;
};

class RaftNode {
 public:
  // Validates the options, creates data_dir (0700) if missing, bootstraps
  // it when it holds no raft state, starts libraft on a new thread and
  // returns once raft_start has completed. A single voter is leader when
  // Start returns (libraft self-elects in raft_start).
  static absl::StatusOr<std::unique_ptr<RaftNode>> Start(
      const RaftOptions& options, StateMachine* state_machine);

  RaftNode(const RaftNode&) = delete;
  RaftNode& operator=(const RaftNode&) = delete;
  ~RaftNode();  // Stop()

  // Thread-safe, never blocks on raft. `done` is called exactly once:
  //  - OK(index) on the raft thread once the entry was applied;
  //  - on the raft thread: FAILED_PRECONDITION "not leader; leader is
  //    <id>@<addr>" (or "... leader is unknown"), FAILED_PRECONDITION
  //    "halted: <reason>", UNAVAILABLE when leadership was lost (or the node
  //    stopped) before the entry was applied: its outcome is unknown, it
  //    may still be committed by the next leader;
  //  - inline, before Propose returns: INVALID_ARGUMENT when the payload is
  //    empty or over max_entry_bytes, RESOURCE_EXHAUSTED over the in-flight
  //    bounds, FAILED_PRECONDITION "raft node is stopped".
  void Propose(std::string payload,
               std::function<void(absl::StatusOr<uint64_t>)> done);

  RaftStatus Status() const;  // thread-safe

  // Leader-only operations. Thread-safe, never block; `done` is called
  // exactly once, on the raft thread (or inline for FAILED_PRECONDITION
  // "raft node is stopped"). Not leader: FAILED_PRECONDITION "not leader;
  // leader is ..."; halted: FAILED_PRECONDITION "halted: ..."; a change
  // libraft refuses (another change in progress, unknown id, ...):
  // FAILED_PRECONDITION naming libraft's reason; leadership lost before it
  // completed: UNAVAILABLE.
  //
  // Barrier: OK once every entry before it is committed and applied here;
  // a linearizable read may then read the state machine.
  void Barrier(std::function<void(absl::Status)> done);
  // Adds `peer` as a spare (no log, no vote) after the attestation hook
  // admitted it (PERMISSION_DENIED otherwise).
  void AddMember(const RaftPeer& peer, std::function<void(absl::Status)> done);
  // Changes a member's role. To kVoter from a non-voter, libraft first
  // replicates the log to it in catch-up rounds, then commits the change.
  void AssignRole(uint64_t id, RaftRole role,
                  std::function<void(absl::Status)> done);
  void RemoveMember(uint64_t id, std::function<void(absl::Status)> done);
  // Hands leadership to `id` (0: libraft picks an up-to-date voter).
  void TransferLeadership(uint64_t id, std::function<void(absl::Status)> done);

  // Graceful: fails queued proposals (UNAVAILABLE), closes raft, joins the
  // thread. Idempotent. FAILED_PRECONDITION when called on the raft thread.
  absl::Status Stop();

  class Impl;  // raft_node.cc

 private:
  explicit RaftNode(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Exposed for tests and docs: the 32-byte snapshot marker libraft stores.
// "VERAFTSN" | u32le version (1) | u32le 0 | u64le applied_index |
// u64le raft_index.
inline constexpr size_t kSnapshotMarkerBytes = 32;
std::string EncodeSnapshotMarker(const SnapshotInfo& info);
absl::StatusOr<SnapshotInfo> DecodeSnapshotMarker(std::string_view bytes);

// "a.b.c.d:port" check used for options (exposed for tests).
absl::Status ValidatePeerAddress(std::string_view field,
                                 std::string_view address);

}  // namespace virtengine::consensus

#endif  // VIRTENGINE_SRC_CONSENSUS_RAFT_NODE_H_
