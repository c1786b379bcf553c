#include "src/node/node.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "security/crypto/hash.h"
#include "security/crypto/random.h"
#include "security/path/path.h"
#include "security/ratelimit/clock.h"
#include "src/api/gov/v1/gov.pb.h"
#include "src/api/node/v1/node.grpc.pb.h"
#include "src/common/encoding/hex.h"
#include "src/common/log/log.h"
#include "src/modules/cluster/cluster.h"
#include "src/modules/gov/gov.h"
#include "src/node/backup.h"
#include "src/node/files.h"

namespace virtengine::node {

struct Node::Waiter {
  absl::Mutex mu;
  bool done ABSL_GUARDED_BY(mu) = false;
  absl::Status status ABSL_GUARDED_BY(mu);
  uint64_t height ABSL_GUARDED_BY(mu) = 0;
  ledger::v1::TxResult result ABSL_GUARDED_BY(mu);
};

namespace {

constexpr absl::Duration kChallengeTtl = absl::Minutes(5);
constexpr size_t kMaxChallenges = 1024;

bool NoPriorityWaiter(std::atomic<int>* waiting) {
  return waiting->load(std::memory_order_acquire) == 0;
}

std::string HashKey(const crypto::Digest32& d) {
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

absl::StatusOr<crypto::Digest32> ParseHash(std::string_view bytes) {
  crypto::Digest32 d{};
  if (bytes.size() != d.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tx_hash must be 32 bytes, got ", bytes.size()));
  }
  std::copy(bytes.begin(), bytes.end(), d.begin());
  return d;
}

size_t VerifyThreads(const v1::NodeConfig& c) {
  if (c.api().verify_threads() > 0) return c.api().verify_threads() - 1;
  const unsigned hw = std::thread::hardware_concurrency();
  // The calling gRPC thread verifies too; the pool adds the other cores.
  return hw > 1 ? hw - 1 : 0;
}

}  // namespace

Node::Node(const v1::NodeConfig& config,
           std::unique_ptr<ledger::BlockSigner> signer, NodeMetrics* metrics)
    : config_(config),
      signer_(std::move(signer)),
      metrics_(metrics),
      verify_pool_(VerifyThreads(config)),
      mempool_(config.mempool().max_txs(), config.mempool().max_bytes()),
      challenges_(ratelimit::SteadyClock::Get(),
                  {kChallengeTtl, kMaxChallenges}) {}

Node::~Node() { Stop(); }

absl::StatusOr<std::unique_ptr<Node>> Node::Start(
    const v1::NodeConfig& config, const v1::GenesisDoc& genesis,
    const std::string& home, std::unique_ptr<ledger::BlockSigner> signer,
    NodeMetrics* metrics, std::unique_ptr<Attestor> attestor) {
  std::unique_ptr<Node> node(new Node(config, std::move(signer), metrics));
  node->attestor_ = std::move(attestor);
  if (metrics != nullptr) {
    metrics->SetAttested(node->attestor_ != nullptr);
    metrics->SetInsecureNoTpm(node->attestor_ == nullptr);
  }
  // The data directories are created (0700) and checked through the path
  // validator beneath --home; RocksDB and libraft manage what is inside.
  {
    absl::StatusOr<security::path::PathRoot> root =
        security::path::PathRoot::Open(home);
    if (!root.ok()) return root.status();
    // A state transfer cut short leaves data/ledger.old: the swap did not
    // finish, so the old ledger comes back (a transfer is simply redone).
    if (root->Sub("data/ledger.old").ok()) {
      (void)root->RemoveTree("data/ledger");
      if (absl::Status s = root->Rename("data/ledger.old", "data/ledger");
          !s.ok()) {
        return s;
      }
      log::Warn("state_transfer_rolled_back",
                {{"reason", "an interrupted swap left data/ledger.old"}});
    }
    for (const char* leftover : {"data/incoming", "data/checkpoints"}) {
      if (absl::Status s = root->RemoveTree(leftover);
          !s.ok() && !absl::IsNotFound(s)) {
        return s;
      }
    }
    for (const char* dir : {"data/ledger", "data/raft", "data/checkpoints"}) {
      if (absl::Status s = root->MakeDirs(dir, 0700); !s.ok()) return s;
    }
    security::audit::AuditLogOptions ao;
    ao.system_actor = absl::StrCat("node:", config.raft_id());
    absl::StatusOr<std::unique_ptr<security::audit::AuditLog>> audit =
        security::audit::AuditLog::Open(*root, ao);
    if (!audit.ok()) return audit.status();
    node->audit_ = *std::move(audit);
  }
  node->genesis_voters_.assign(genesis.voters().begin(),
                               genesis.voters().end());
  ledger::LedgerOptions lopts = BaseLedgerOptions();
  // Block commits are not fsynced one by one: the Raft log (fsynced by
  // libraft) is the durable record and is replayed after a crash; before
  // libraft truncates it behind a snapshot, MakeDurable syncs the store.
  lopts.store.sync_writes = config.sync_ledger_writes();
  lopts.reverify_signatures = config.reverify_signatures();
  lopts.accept_proposer = [n = node.get()](std::string_view key) {
    return n->AcceptProposer(key);
  };
  node->home_ = home;
  node->ledger_options_ = lopts;
  absl::StatusOr<std::unique_ptr<ledger::Ledger>> l =
      ledger::Ledger::Open(home + "/data/ledger", lopts);
  if (!l.ok()) return l.status();
  if ((*l)->chain_id().empty()) {
    const ledger::Genesis g = LedgerGenesisFrom(genesis);
    if (absl::Status s = (*l)->InitGenesis(g); !s.ok()) return s;
    log::Info("genesis_written", {{"chain_id", genesis.chain_id()}});
  } else if ((*l)->chain_id() != genesis.chain_id()) {
    return absl::FailedPreconditionError(
        absl::StrCat("ledger holds chain ", (*l)->chain_id(),
                     " but genesis.json is for ", genesis.chain_id()));
  }
  const uint64_t height = (*l)->height();
  {
    absl::MutexLock lock(&node->mu_);
    node->ledger_ = *std::move(l);
    node->PublishCheckLedger();
    node->height_ = height;
    node->applied_index_ = node->ledger_->applied_index();
    node->RefreshMembers();
  }
  if (metrics != nullptr) metrics->SetHeight(height);
  log::Info("ledger_opened",
            {{"chain_id", genesis.chain_id()}, {"height", height}});
  consensus::RaftOptions ropts;
  ropts.id = config.raft_id();
  ropts.address = config.raft_address();
  ropts.data_dir = home + "/data/raft";
  ropts.join = config.join();
  if (!config.join()) {
    for (const v1::GenesisVoter& v : genesis.voters()) {
      ropts.initial_voters.push_back({v.raft_id(), v.raft_address()});
    }
  }
  ropts.heartbeat_ms = config.raft().heartbeat_ms();
  ropts.election_timeout_ms = config.raft().election_timeout_ms();
  ropts.snapshot_threshold = config.raft().snapshot_threshold();
  ropts.snapshot_trailing = config.raft().snapshot_trailing();
  ropts.segment_size_bytes = config.raft().segment_size_bytes();
  ropts.attest_member = [n = node.get()](const consensus::RaftPeer& p) {
    return n->AttestMember(p.id);
  };
  ropts.log = [](std::string_view line) {
    log::Info("raft", {{"detail", std::string(line)}});
  };
  absl::StatusOr<std::unique_ptr<consensus::RaftNode>> raft =
      consensus::RaftNode::Start(ropts, node.get());
  if (!raft.ok()) return raft.status();
  node->raft_ = *std::move(raft);
  node->producer_ = std::thread([n = node.get()] { n->ProducerLoop(); });
  node->reconciler_ = std::thread([n = node.get()] { n->ReconcileLoop(); });
  return node;
}

void Node::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (producer_.joinable()) producer_.join();
  if (reconciler_.joinable()) reconciler_.join();
  // The RaftNode object lives until the destructor: other threads may
  // still read its status.
  if (raft_ != nullptr) {
    if (absl::Status s = raft_->Stop(); !s.ok()) {
      log::Warn("raft_stop", {{"error", s.ToString()}});
    }
  }
  // Whoever still waits learns that the node went away.
  absl::flat_hash_map<std::string, std::shared_ptr<Waiter>> waiters;
  {
    absl::MutexLock lock(&waiters_mu_);
    waiters.swap(waiters_);
  }
  for (auto& [hash, w] : waiters) {
    absl::MutexLock wl(&w->mu);
    if (!w->done) {
      w->done = true;
      w->status = absl::UnavailableError("node stopping; tx state unknown");
    }
  }
}

bool Node::halted() const {
  absl::MutexLock lock(&mu_);
  return halted_;
}

void Node::PublishCheckLedger() {
  absl::MutexLock check(&check_mu_);
  check_ledger_ = ledger_;
}

void Node::CountRejection(const absl::Status& status) {
  if (metrics_ != nullptr) metrics_->AddRejection(RejectionReason(status));
}

std::vector<SubmitOutcome> Node::Submit(const std::vector<std::string>& raws,
                                        bool wait, absl::Time deadline) {
  std::vector<SubmitOutcome> out(raws.size());
  std::vector<absl::StatusOr<ledger::DecodedTx>> decoded(
      raws.size(), absl::UnknownError("not checked"));
  // Decode and verify signatures on every core, without any lock.
  // PreCheckTx is thread-safe and const. The ledger pointer has its own
  // mutex: taking mu_ here queued every submission behind block production
  // and apply (p90 9 ms under 1,000 tx/s on a 3-node cluster).
  std::shared_ptr<const ledger::Ledger> reader;
  {
    absl::MutexLock check(&check_mu_);
    reader = check_ledger_;
  }
  if (reader == nullptr) {  // a state transfer is swapping the store
    absl::MutexLock lock(&mu_);
    reader = ledger_;
  }
  verify_pool_.ParallelFor(
      raws.size(), [&](size_t i) { decoded[i] = reader->PreCheckTx(raws[i]); });
  std::vector<std::shared_ptr<Waiter>> waiters(raws.size());
  const absl::Time now = absl::Now();
  // Read before the ledger mutex: the Raft thread holds its own lock while
  // it applies under ours.
  const consensus::RaftStatus rs = raft_->Status();
  // Admission takes the ledger mutex in short chunks and yields to the
  // producer and the Raft thread (priority_), so a flood of submissions
  // never starves block production.
  constexpr size_t kAdmitChunk = 64;
  for (size_t chunk = 0; chunk < raws.size(); chunk += kAdmitChunk) {
    absl::MutexLock lock(&mu_, absl::Condition(&NoPriorityWaiter, &priority_));
    for (size_t i = chunk; i < std::min(raws.size(), chunk + kAdmitChunk);
         ++i) {
      if (!decoded[i].ok()) {
        out[i].status = decoded[i].status();
        continue;
      }
      out[i].tx_hash = HashKey(decoded[i]->hash);
      absl::Status s;
      if (halted_) {
        s = absl::FailedPreconditionError(
            absl::StrCat("node halted: ", halt_reason_));
      } else if (stopping_) {
        s = absl::UnavailableError("node stopping");
      } else if (!rs.is_leader) {
        s = rs.leader_id == 0
                ? absl::UnavailableError("no leader elected yet; retry")
                : absl::FailedPreconditionError(
                      absl::StrCat("not leader; leader is ", rs.leader_id, "@",
                                   rs.leader_address));
      }
      if (s.ok()) s = ConsumeChallenges(*decoded[i]);
      if (s.ok()) s = mempool_.CanAdd(*decoded[i]);
      if (s.ok()) s = ledger_->AdmitTx(*decoded[i]);
      if (!s.ok()) {
        out[i].status = s;
        continue;
      }
      if (wait) {
        waiters[i] = std::make_shared<Waiter>();
        absl::MutexLock wl(&waiters_mu_);
        waiters_[out[i].tx_hash] = waiters[i];
      }
      {
        absl::MutexLock wl(&waiters_mu_);
        submitted_at_[out[i].tx_hash] = now;
      }
      if (mempool_.empty()) oldest_waiting_ = now;
      mempool_.Add(*std::move(decoded[i]));
    }
    if (metrics_ != nullptr) {
      metrics_->SetMempool(mempool_.size(), mempool_.bytes());
    }
  }
  for (const SubmitOutcome& o : out) {
    if (!o.status.ok()) CountRejection(o.status);
  }
  if (!wait) return out;
  for (size_t i = 0; i < raws.size(); ++i) {
    if (waiters[i] == nullptr) continue;
    Waiter& w = *waiters[i];
    absl::MutexLock wl(&w.mu);
    auto done = [&w]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(w.mu) { return w.done; };
    if (!w.mu.AwaitWithDeadline(absl::Condition(&done), deadline)) {
      out[i].status = absl::DeadlineExceededError(
          "admitted but not committed before the deadline; query the tx "
          "later");
      continue;
    }
    out[i].status = w.status;
    out[i].height = w.height;
    out[i].result = w.result;
  }
  if (wait) {
    absl::MutexLock wl(&waiters_mu_);
    for (size_t i = 0; i < raws.size(); ++i) {
      if (waiters[i] != nullptr) {
        auto it = waiters_.find(out[i].tx_hash);
        if (it != waiters_.end() && it->second == waiters[i])
          waiters_.erase(it);
      }
    }
  }
  return out;
}

void Node::Complete(const std::string& hash, const absl::Status& status,
                    uint64_t height, const ledger::v1::TxResult* result) {
  std::shared_ptr<Waiter> w;
  {
    absl::MutexLock lock(&waiters_mu_);
    auto at = submitted_at_.find(hash);
    if (at != submitted_at_.end()) {
      if (status.ok() && metrics_ != nullptr) {
        metrics_->ObserveCommitLatency(
            absl::ToDoubleSeconds(absl::Now() - at->second));
      }
      submitted_at_.erase(at);
    }
    auto it = waiters_.find(hash);
    if (it == waiters_.end()) return;
    w = it->second;
    waiters_.erase(it);
  }
  absl::MutexLock wl(&w->mu);
  w->done = true;
  w->status = status;
  w->height = height;
  if (result != nullptr) w->result = *result;
}

void Node::Readmit() {
  ledger_->ResetCheckState();
  std::vector<ledger::DecodedTx> txs = mempool_.TakeAll();
  for (ledger::DecodedTx& tx : txs) {
    absl::Status s = ledger_->AdmitTx(tx);
    if (s.ok()) {
      mempool_.Add(std::move(tx));
      continue;
    }
    CountRejection(s);
    Complete(HashKey(tx.hash),
             absl::AbortedError(absl::StrCat(
                 "dropped from mempool after a block: ", s.message())),
             0, nullptr);
  }
  if (!mempool_.empty()) oldest_waiting_ = absl::Now();
}

void Node::ProducerLoop() {
  const size_t max_txs = config_.block().max_txs();
  const size_t max_bytes = config_.block().max_bytes();
  const absl::Duration interval =
      absl::Milliseconds(config_.block().interval_ms());
  for (;;) {
    std::string payload;
    std::vector<std::string> hashes;
    // Not before every block an earlier leader committed is applied here:
    // a block cut on older state would not apply after them (height
    // mismatch) and halt every node.
    const bool leader = raft_->Status().leader_ready;
    {
      PriorityLock lock(this);
      // Idle: no block without transactions.
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || (!halted_ && !mempool_.empty());
      };
      mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(200));
      if (stopping_) return;
      if (halted_ || mempool_.empty()) continue;
      if (!leader) {
        // A follower never cuts blocks; wait for leadership (and its
        // catch-up) or shutdown.
        mu_.AwaitWithTimeout(absl::Condition(&stopping_),
                             absl::Milliseconds(50));
        continue;
      }
      // Cut when enough txs wait or the oldest has waited `interval`.
      auto full = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || mempool_.size() >= max_txs ||
               mempool_.bytes() >= max_bytes;
      };
      mu_.AwaitWithDeadline(absl::Condition(&full), oldest_waiting_ + interval);
      if (stopping_) return;
      if (mempool_.empty()) continue;
      std::vector<ledger::DecodedTx> txs = mempool_.Take(max_txs, max_bytes);
      if (!mempool_.empty()) oldest_waiting_ = absl::Now();
      absl::StatusOr<ledger::v1::Block> block =
          ledger_->ProposeBlock(txs, absl::GetCurrentTimeNanos(), *signer_);
      if (!block.ok()) {
        log::Error("propose_failed", {{"error", block.status().ToString()}});
        for (const ledger::DecodedTx& tx : txs) {
          Complete(HashKey(tx.hash),
                   absl::UnavailableError(absl::StrCat(
                       "block proposal failed: ", block.status().message())),
                   0, nullptr);
        }
        Readmit();
        continue;
      }
      // The ledger already holds the block serialised: propose those bytes
      // and keep the decoded block for the commit.
      payload = std::string(ledger_->pending_block_bytes());
      pending_bytes_ = payload;
      pending_block_ = *std::move(block);
      hashes.reserve(txs.size());
      for (const ledger::DecodedTx& tx : txs)
        hashes.push_back(HashKey(tx.hash));
    }
    absl::Notification proposed;
    absl::Status result;
    raft_->Propose(std::move(payload),
                   [&](const absl::StatusOr<uint64_t>& index) {
                     result = index.status();
                     proposed.Notify();
                   });
    proposed.WaitForNotification();
    if (!result.ok()) {
      log::Warn("block_not_committed", {{"error", result.ToString()},
                                        {"txs", uint64_t{hashes.size()}}});
      absl::MutexLock lock(&mu_);
      pending_bytes_.clear();
      pending_block_.Clear();
      for (const std::string& h : hashes) {
        Complete(h,
                 absl::UnavailableError(
                     absl::StrCat("block not committed (", result.message(),
                                  "); the tx was dropped, resubmit it")),
                 0, nullptr);
      }
      Readmit();
    }
  }
}

absl::Status Node::MakeDurable() {
  if (config_.unsafe_no_fsync()) return absl::OkStatus();
  PriorityLock lock(this);
  return ledger_->Sync();
}

absl::Status Node::Apply(uint64_t index, std::string_view payload) {
  const absl::Time start = absl::Now();
  PriorityLock lock(this);
  if (index <= applied_index_) return absl::OkStatus();
  absl::Status s = ledger_->ApplyBlock(payload, index);
  if (!s.ok()) {
    halted_ = true;
    halt_reason_ =
        absl::StrCat("block at raft index ", index, ": ", s.ToString());
    log::Error("node_halted",
               {{"raft_index", index}, {"reason", halt_reason_}});
    if (metrics_ != nullptr) metrics_->SetHalted(true);
    Audit("node.halt", absl::StrCat("raft index ", index),
          absl::DataLossError(halt_reason_.substr(0, 1000)));
    return s;
  }
  applied_index_ = index;
  height_ = ledger_->height();
  // Members live in the cluster module's state: reload them only after a
  // block that changed it (reading them on every block cost 1 % of the
  // cluster's CPU under load).
  if (ledger_->LastBlockTouched(cluster::kModuleName)) RefreshMembers();
  const bool ours = payload == pending_bytes_;
  pending_bytes_.clear();
  ledger::v1::Block block;
  if (ours) {
    block = std::move(pending_block_);
  } else if (!block.ParseFromArray(payload.data(),
                                   static_cast<int>(payload.size()))) {
    // ApplyBlock accepted it, so this cannot happen; keep the node honest.
    return absl::DataLossError("applied block does not parse");
  }
  pending_block_.Clear();
  for (int i = 0; i < block.results_size(); ++i) {
    const ledger::v1::TxResult& r = block.results(i);
    Complete(r.tx_hash(), absl::OkStatus(), height_, &r);
  }
  // After a block another node proposed, or one whose results differ from
  // admission, the mempool re-admits on the committed state (what no longer
  // applies drops out). Otherwise the check state carries over; it is
  // trimmed back to the committed state whenever the mempool drains.
  if (ledger_->check_state_reset()) {
    Readmit();
  } else if (mempool_.empty()) {
    ledger_->ResetCheckState();
  }
  if (metrics_ != nullptr) {
    metrics_->SetHeight(height_);
    metrics_->AddBlock();
    metrics_->AddCommittedTxs(static_cast<uint64_t>(block.txs_size()));
    metrics_->SetMempool(mempool_.size(), mempool_.bytes());
    metrics_->ObserveBlockApply(absl::ToDoubleSeconds(absl::Now() - start));
    if (height_ % 16 == 1) {
      for (const auto& [name, value] : ledger_->StoreFigures()) {
        metrics_->SetStoreFigure(name, value);
      }
    }
  }
  log::Debug("block_committed",
             {{"height", height_}, {"txs", block.txs_size()}, {"ours", ours}});
  return absl::OkStatus();
}

uint64_t Node::AppliedIndex() const {
  absl::MutexLock lock(&mu_);
  return applied_index_;
}

uint64_t Node::height() const {
  absl::MutexLock lock(&mu_);
  return height_;
}

uint64_t Node::WaitForHeight(uint64_t height, absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || height_ >= height;
  };
  mu_.AwaitWithDeadline(absl::Condition(&reached), deadline);
  return height_;
}

absl::StatusOr<ledger::v1::Block> Node::GetBlock(uint64_t height) const {
  absl::ReaderMutexLock lock(&mu_);
  return ledger_->GetBlock(height);
}

absl::StatusOr<v1::GetTxResponse> Node::GetTx(std::string_view tx_hash) const {
  absl::StatusOr<crypto::Digest32> h = ParseHash(tx_hash);
  if (!h.ok()) return h.status();
  absl::StatusOr<std::pair<ledger::v1::Block, uint32_t>> found;
  {
    absl::ReaderMutexLock lock(&mu_);
    found = ledger_->GetTx(*h);
  }
  if (!found.ok()) return found.status();
  const auto& [block, index] = *found;
  if (static_cast<int>(index) >= block.txs_size() ||
      static_cast<int>(index) >= block.results_size()) {
    return absl::DataLossError("tx index outside its block");
  }
  ledger::v1::BlockHeader header;
  if (!header.ParseFromString(block.header().header_bytes())) {
    return absl::DataLossError("corrupt block header");
  }
  v1::GetTxResponse r;
  r.set_tx(block.txs(static_cast<int>(index)));
  r.set_height(header.height());
  *r.mutable_result() = block.results(static_cast<int>(index));
  return r;
}

absl::StatusOr<ledger::v1::Receipt> Node::GetReceipt(
    std::string_view tx_hash) const {
  absl::StatusOr<crypto::Digest32> h = ParseHash(tx_hash);
  if (!h.ok()) return h.status();
  absl::ReaderMutexLock lock(&mu_);
  return ledger_->GetReceipt(*h);
}

absl::StatusOr<bank::v1::QueryBalanceResponse> Node::QueryBalance(
    std::string_view address, std::string_view denom) const {
  absl::ReaderMutexLock lock(&mu_);
  return ledger_->QueryBalance(address, denom);
}

absl::StatusOr<v1::QueryResponse> Node::Query(
    const v1::QueryRequest& req) const {
  absl::ReaderMutexLock lock(&mu_);
  absl::StatusOr<std::string> r =
      ledger_->Query(req.module(), req.path(), req.request());
  if (!r.ok()) return r.status();
  v1::QueryResponse out;
  out.set_response(*std::move(r));
  out.set_height(height_);
  return out;
}

v1::StatusResponse Node::Status() const {
  v1::StatusResponse r;
  {
    absl::ReaderMutexLock lock(&mu_);
    r.set_chain_id(ledger_->chain_id());
    r.set_height(ledger_->height());
    r.set_last_block_hash(ledger_->last_block_hash());
    r.set_mempool_size(mempool_.size());
  }
  r.set_node_public_key(
      std::string(crypto::AsChars(signer_->public_key().view())));
  r.set_version(kVersion);
  r.set_attested(attestor_ != nullptr);
  r.set_insecure_no_tpm(attestor_ == nullptr);
  r.set_raft_id(config_.raft_id());
  {
    absl::ReaderMutexLock lock(&members_mu_);
    if (auto it = members_.find(config_.raft_id()); it != members_.end()) {
      r.set_measurement_name(it->second.measurement_name());
      r.set_measurement_version(it->second.measurement_version());
    }
  }
  {
    absl::ReaderMutexLock lock(&mu_);
    r.set_halted(halted_);
    r.set_halt_reason(halt_reason_);
    r.set_state_digest(std::string(
        reinterpret_cast<const char*>(ledger_->state_digest().data()),
        ledger_->state_digest().size()));
  }
  if (raft_ == nullptr) return r;
  const consensus::RaftStatus rs = raft_->Status();
  r.set_is_leader(rs.is_leader);
  r.set_leader_id(rs.leader_id);
  r.set_term(rs.term);
  r.set_commit_index(rs.commit_index);
  if (rs.halted && !r.halted()) {
    r.set_halted(true);
    r.set_halt_reason(rs.halt_reason);
  }
  std::map<uint64_t, v1::ClusterServer> servers;
  for (const consensus::RaftMember& m : rs.configuration) {
    v1::ClusterServer& sv = servers[m.id];
    sv.set_raft_id(m.id);
    sv.set_raft_address(m.address);
    sv.set_raft_role(std::string(consensus::RaftRoleName(m.role)));
  }
  {
    absl::ReaderMutexLock lock(&members_mu_);
    for (const auto& [id, m] : members_) {
      v1::ClusterServer& sv = servers[id];
      sv.set_raft_id(id);
      if (sv.raft_address().empty()) sv.set_raft_address(m.raft_address());
      sv.set_grpc_address(m.grpc_address());
      sv.set_ledger_member(true);
      sv.set_ledger_voter(m.voter());
    }
    if (auto it = members_.find(rs.leader_id); it != members_.end()) {
      r.set_leader_grpc_address(it->second.grpc_address());
    }
  }
  for (auto& [id, sv] : servers) *r.add_servers() = std::move(sv);
  return r;
}

void Node::Audit(std::string_view action, std::string_view object,
                 const absl::Status& outcome,
                 security::audit::Details details) const {
  if (audit_ == nullptr) return;
  security::audit::Entry e;
  e.actor = absl::StrCat("node:", config_.raft_id());
  e.action = std::string(action);
  e.object = std::string(object);
  if (!outcome.ok()) {
    e.outcome = security::audit::Outcome::kFailure;
    e.reason = std::string(outcome.ToString()).substr(0, 1000);
  }
  e.details = std::move(details);
  if (absl::StatusOr<security::audit::Head> h = audit_->Append(e); !h.ok()) {
    log::Error("audit_append_failed",
               {{"action", e.action}, {"error", h.status().ToString()}});
  }
}

void Node::RefreshMembers() {
  std::map<uint64_t, cluster::v1::Member> members;
  absl::StatusOr<std::string> raw =
      ledger_->Query(cluster::kModuleName, "members", "");
  cluster::v1::QueryMembersResponse resp;
  if (raw.ok() && resp.ParseFromString(*raw)) {
    for (const cluster::v1::Member& m : resp.members())
      members[m.raft_id()] = m;
  } else {
    log::Error("cluster_members_unreadable",
               {{"error", raw.ok() ? "parse" : raw.status().ToString()}});
  }
  if (members.empty()) {
    // A ledger from before the cluster module: its genesis voters.
    for (const v1::GenesisVoter& v : genesis_voters_) {
      cluster::v1::Member& m = members[v.raft_id()];
      m.set_raft_id(v.raft_id());
      m.set_raft_address(v.raft_address());
      m.set_grpc_address(v.grpc_address());
      m.set_node_public_key(v.node_public_key());
      m.set_voter(true);
    }
  }
  absl::MutexLock lock(&members_mu_);
  if (members.size() == members_.size() &&
      std::equal(members.begin(), members.end(), members_.begin(),
                 [](const auto& a, const auto& b) {
                   return a.first == b.first &&
                          a.second.SerializeAsString() ==
                              b.second.SerializeAsString();
                 })) {
    return;
  }
  members_ = std::move(members);
  ++members_version_;
}

absl::Status Node::AcceptProposer(std::string_view key) const {
  absl::ReaderMutexLock lock(&members_mu_);
  for (const auto& [id, m] : members_) {
    if (m.node_public_key() == key) return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      "not the node key of a cluster member at the committed height");
}

absl::StatusOr<attest::Challenge> Node::IssueChallenge() {
  if (raft_ == nullptr || !raft_->Status().is_leader) {
    return absl::FailedPreconditionError(
        "not the leader: challenges are issued by the leader");
  }
  return challenges_.Issue();
}

absl::StatusOr<attest::v1::Evidence> Node::Quote(std::string_view purpose,
                                                 crypto::ByteView nonce) {
  if (attestor_ == nullptr) {
    return absl::FailedPreconditionError(
        "this node runs without a TPM (--insecure-no-tpm): no quote");
  }
  return attestor_->Quote(purpose, nonce);
}

absl::StatusOr<bool> Node::AttestationRequired() const {
  absl::StatusOr<v1::QueryResponse> r = [&] {
    v1::QueryRequest q;
    q.set_module("gov");
    q.set_path("params");
    return Query(q);
  }();
  if (!r.ok()) return r.status();
  gov::v1::QueryParamsResponse p;
  if (!p.ParseFromString(r->response())) {
    return absl::InternalError("gov params: undecodable");
  }
  return p.params().attestation_required();
}

absl::Status Node::ConsumeChallenges(const ledger::DecodedTx& tx) {
  for (const google::protobuf::Any& any : tx.body.messages()) {
    const cluster::v1::MsgAddNode* add = nullptr;
    cluster::v1::MsgAddNode direct;
    gov::v1::MsgSubmitProposal proposal;
    if (any.type_url() == cluster::kMsgAddNodeType) {
      if (!direct.ParseFromString(any.value())) continue;  // CheckTx refuses
      add = &direct;
    } else if (any.type_url() == gov::kMsgSubmitProposalType) {
      if (!proposal.ParseFromString(any.value())) continue;
      if (proposal.action().has_add_node()) {
        add = &proposal.action().add_node();
      }
    }
    if (add == nullptr || !add->has_attestation()) continue;
    if (absl::Status s =
            challenges_.Consume(crypto::AsBytes(add->attestation().nonce()));
        !s.ok()) {
      return absl::Status(s.code(),
                          absl::StrCat("attestation challenge: ", s.message(),
                                       " (ask the leader for a new one: vectl "
                                       "cluster add --attest)"));
    }
  }
  return absl::OkStatus();
}

absl::Status Node::AttestMember(uint64_t raft_id) const {
  cluster::v1::Member m;
  {
    absl::ReaderMutexLock lock(&members_mu_);
    auto it = members_.find(raft_id);
    if (it == members_.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat("node ", raft_id, " is not a ledger member"));
    }
    m = it->second;
  }
  // Genesis voters are trusted by the genesis document the operators
  // signed off (docs/security/attestation.md).
  if (m.added_height() == 0) return absl::OkStatus();
  absl::StatusOr<bool> required = AttestationRequired();
  if (!required.ok()) return required.status();
  if (m.measurement_name().empty()) {
    if (*required) {
      return absl::PermissionDeniedError(
          absl::StrCat("node ", raft_id, " was recorded without attestation"));
    }
    return absl::OkStatus();
  }
  v1::QueryRequest q;
  q.set_module("gov");
  q.set_path("measurements");
  absl::StatusOr<v1::QueryResponse> r = Query(q);
  if (!r.ok()) return r.status();
  gov::v1::QueryMeasurementsResponse ms;
  if (!ms.ParseFromString(r->response())) {
    return absl::InternalError("gov measurements: undecodable");
  }
  for (const gov::v1::Measurement& x : ms.measurements()) {
    if (x.name() == m.measurement_name() &&
        x.version() == m.measurement_version()) {
      if (x.retired_height() != 0) break;
      return absl::OkStatus();
    }
  }
  return absl::PermissionDeniedError(
      absl::StrCat("node ", raft_id, "'s measurement ", m.measurement_name(),
                   " ", m.measurement_version(), " is retired or unknown"));
}

Node::LeaderRoute Node::Route() const {
  LeaderRoute r;
  const consensus::RaftStatus rs = raft_->Status();
  r.is_leader = rs.is_leader;
  r.leader_id = rs.leader_id;
  absl::ReaderMutexLock lock(&members_mu_);
  if (auto it = members_.find(rs.leader_id); it != members_.end()) {
    r.grpc_address = it->second.grpc_address();
  }
  return r;
}

absl::Status Node::RunRaftOp(
    const std::function<void(std::function<void(absl::Status)>)>& op,
    absl::Duration timeout) {
  struct State {
    absl::Notification done;
    absl::Status status;
  };
  auto st = std::make_shared<State>();
  op([st](absl::Status s) {
    st->status = std::move(s);
    st->done.Notify();
  });
  if (!st->done.WaitForNotificationWithTimeout(timeout)) {
    return absl::DeadlineExceededError(
        "raft operation did not complete in time");
  }
  return st->status;
}

absl::Status Node::Barrier(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) {
    return absl::DeadlineExceededError("deadline passed before the barrier");
  }
  return RunRaftOp([this](auto done) { raft_->Barrier(std::move(done)); },
                   left);
}

absl::Status Node::WaitMembershipSettled(absl::Time deadline) const {
  for (;;) {
    std::map<uint64_t, bool> want;
    {
      absl::ReaderMutexLock lock(&members_mu_);
      for (const auto& [id, m] : members_) want[id] = m.voter();
    }
    std::map<uint64_t, bool> have;
    bool settled = true;
    for (const consensus::RaftMember& m : raft_->Status().configuration) {
      if (m.role == consensus::RaftRole::kSpare) settled = false;
      have[m.id] = m.role == consensus::RaftRole::kVoter;
    }
    if (settled && have == want) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          "the Raft configuration does not match the ledger's cluster "
          "members yet; the leader keeps reconciling");
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
}

absl::StatusOr<bool> Node::ReconcileOnce() {
  const consensus::RaftStatus rs = raft_->Status();
  if (metrics_ != nullptr) {
    size_t voters = 0;
    for (const consensus::RaftMember& m : rs.configuration) {
      voters += m.role == consensus::RaftRole::kVoter ? 1 : 0;
    }
    metrics_->SetLeader(rs.is_leader);
    metrics_->SetRaft(rs.term, rs.commit_index, voters,
                      rs.configuration.size() - voters);
    if (rs.halted) metrics_->SetHalted(true);
  }
  if (!rs.is_leader || rs.halted) return false;
  std::map<uint64_t, cluster::v1::Member> want;
  {
    absl::ReaderMutexLock lock(&members_mu_);
    want = members_;
  }
  std::map<uint64_t, consensus::RaftMember> have;
  for (const consensus::RaftMember& m : rs.configuration) have[m.id] = m;
  constexpr absl::Duration kOpTimeout = absl::Seconds(60);
  using consensus::RaftRole;
  for (const auto& [id, m] : want) {
    auto it = have.find(id);
    std::string what;
    std::function<void(std::function<void(absl::Status)>)> op;
    if (it == have.end()) {
      what = "add";
      op = [this, id = id, addr = m.raft_address()](auto done) {
        raft_->AddMember({id, addr}, std::move(done));
      };
    } else if (it->second.role == RaftRole::kSpare) {
      what = "standby";
      op = [this, id = id](auto done) {
        raft_->AssignRole(id, RaftRole::kStandby, std::move(done));
      };
    } else if (m.voter() && it->second.role != RaftRole::kVoter) {
      what = "promote";
      op = [this, id = id](auto done) {
        raft_->AssignRole(id, RaftRole::kVoter, std::move(done));
      };
    } else if (!m.voter() && it->second.role == RaftRole::kVoter) {
      what = "demote";
      op = [this, id = id](auto done) {
        raft_->AssignRole(id, RaftRole::kStandby, std::move(done));
      };
    } else {
      continue;
    }
    absl::Status s = RunRaftOp(op, kOpTimeout);
    log::Info("cluster_reconcile",
              {{"action", what}, {"raft_id", id}, {"result", s.ToString()}});
    Audit(absl::StrCat("cluster.raft_", what), absl::StrCat("node ", id), s,
          {{"raft_address", m.raft_address()}});
    if (!s.ok()) return s;
    return true;
  }
  for (const auto& [id, m] : have) {
    if (want.count(id) != 0) continue;
    absl::Status s;
    if (id == config_.raft_id()) {
      // The leader itself was removed: hand over; the next leader removes it.
      s = RunRaftOp(
          [this](auto done) { raft_->TransferLeadership(0, std::move(done)); },
          kOpTimeout);
      log::Info("cluster_reconcile", {{"action", "step_down_for_removal"},
                                      {"raft_id", id},
                                      {"result", s.ToString()}});
    } else {
      s = RunRaftOp(
          [this, id = id](auto done) {
            raft_->RemoveMember(id, std::move(done));
          },
          kOpTimeout);
      log::Info(
          "cluster_reconcile",
          {{"action", "remove"}, {"raft_id", id}, {"result", s.ToString()}});
      Audit("cluster.raft_remove", absl::StrCat("node ", id), s);
    }
    if (!s.ok()) return s;
    return true;
  }
  return false;
}

void Node::ReconcileLoop() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_),
                           absl::Milliseconds(200));
      if (stopping_) return;
    }
    absl::StatusOr<bool> changed = ReconcileOnce();
    if (!changed.ok()) {
      // Back off after a refused change (another one in progress, a peer
      // that does not answer); the loop retries.
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Seconds(1));
    }
  }
}

}  // namespace virtengine::node

namespace virtengine::node {
namespace {

namespace cv1 = ::virtengine::security::crypto::v1;
constexpr size_t kMaxCheckpointFiles = 100000;
constexpr uint64_t kMaxCheckpointBytes = uint64_t{1} << 40;  // 1 TiB
constexpr char kIncoming[] = "data/incoming";

// A RocksDB file name as a checkpoint holds it: no path, no dot names.
bool PlainFileName(std::string_view n) {
  if (n.empty() || n.size() > 64 || n == "." || n == "..") return false;
  for (char c : n) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string Hash32(const crypto::Digest32& d) {
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

}  // namespace

absl::StatusOr<Node::Checkpoint> Node::MakeCheckpoint(
    std::string_view parent, std::string_view name) const {
  absl::StatusOr<security::path::PathRoot> root =
      security::path::PathRoot::Open(home_);
  if (!root.ok()) return root.status();
  if (absl::Status s = root->MakeDirs(parent, 0700); !s.ok()) return s;
  Checkpoint c;
  {
    absl::ReaderMutexLock lock(&mu_);
    const std::string dir_name =
        !name.empty() ? std::string(name)
                      : absl::StrCat("ckpt-", applied_index_, "-",
                                     encoding::HexEncode(crypto::ToString(
                                         crypto::RandomBytes(4))));
    c.rel = absl::StrCat(std::string(parent), "/", dir_name);
    if (absl::Status s = security::path::ValidateRelativePath(c.rel); !s.ok()) {
      return s;
    }
    if (absl::Status s = ledger_->Checkpoint(absl::StrCat(home_, "/", c.rel));
        !s.ok()) {
      return s;
    }
    c.manifest.set_chain_id(ledger_->chain_id());
    c.manifest.set_height(height_);
    c.manifest.set_applied_index(applied_index_);
    c.manifest.set_last_block_hash(ledger_->last_block_hash());
    c.manifest.set_state_digest(Hash32(ledger_->state_digest()));
  }
  // Hash the files outside the lock: the checkpoint no longer changes.
  absl::StatusOr<security::path::PathRoot> dir = root->Sub(c.rel);
  if (!dir.ok()) return dir.status();
  absl::StatusOr<std::vector<std::string>> names = dir->List(".");
  if (!names.ok()) return names.status();
  for (const std::string& n : *names) {
    absl::StatusOr<FileDigest> d = HashFile(*dir, n);
    if (!d.ok()) return d.status();
    v1::CheckpointFile* f = c.manifest.add_files();
    f->set_name(n);
    f->set_size(d->size);
    f->set_sha256(d->sha256);
  }
  return c;
}

void Node::DropCheckpoint(const Checkpoint& checkpoint) const {
  absl::StatusOr<security::path::PathRoot> root =
      security::path::PathRoot::Open(home_);
  if (!root.ok()) return;
  if (absl::Status s = root->RemoveTree(checkpoint.rel); !s.ok()) {
    log::Warn("checkpoint_remove_failed",
              {{"dir", checkpoint.rel}, {"error", s.ToString()}});
  }
}

absl::StatusOr<std::string> Node::ReadCheckpointFile(
    const Checkpoint& checkpoint, std::string_view file, uint64_t offset,
    size_t size) const {
  absl::StatusOr<security::path::PathRoot> root =
      security::path::PathRoot::Open(home_);
  if (!root.ok()) return root.status();
  absl::StatusOr<security::path::PathRoot> dir = root->Sub(checkpoint.rel);
  if (!dir.ok()) return dir.status();
  absl::StatusOr<security::path::UniqueFd> fd = dir->OpenRead(file);
  if (!fd.ok()) return fd.status();
  return ReadAt(fd->get(), offset, size);
}

absl::StatusOr<v1::CheckpointManifest> Node::FetchCheckpoint(
    const std::string& address, uint64_t min_applied_index) {
  absl::StatusOr<security::path::PathRoot> root =
      security::path::PathRoot::Open(home_);
  if (!root.ok()) return root.status();
  if (absl::Status s = root->RemoveTree(kIncoming);
      !s.ok() && !absl::IsNotFound(s)) {
    return s;
  }
  if (absl::Status s = root->MakeDirs(kIncoming, 0700); !s.ok()) return s;
  absl::StatusOr<security::path::PathRoot> dir = root->Sub(kIncoming);
  if (!dir.ok()) return dir.status();

  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(8 << 20);
  auto stub = v1::Node::NewStub(grpc::CreateCustomChannel(
      address, grpc::InsecureChannelCredentials(), args));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(30));
  v1::FetchCheckpointRequest req;
  req.set_min_applied_index(min_applied_index);
  std::unique_ptr<grpc::ClientReader<v1::CheckpointChunk>> reader =
      stub->FetchCheckpoint(&ctx, req);
  v1::CheckpointChunk chunk;
  if (!reader->Read(&chunk) || !chunk.has_manifest()) {
    grpc::Status st = reader->Finish();
    return absl::UnavailableError(absl::StrCat(
        "checkpoint from ", address, ": no manifest: ", st.error_message()));
  }
  const v1::CheckpointManifest manifest = chunk.manifest();
  {
    absl::ReaderMutexLock lock(&mu_);
    if (manifest.chain_id() != ledger_->chain_id()) {
      return absl::DataLossError("checkpoint: another chain");
    }
  }
  if (manifest.applied_index() < min_applied_index) {
    return absl::FailedPreconditionError(
        absl::StrCat("checkpoint: applied index ", manifest.applied_index(),
                     " is below the snapshot's ", min_applied_index));
  }
  if (manifest.files_size() == 0 ||
      static_cast<size_t>(manifest.files_size()) > kMaxCheckpointFiles) {
    return absl::DataLossError("checkpoint: bad file count");
  }
  uint64_t total = 0;
  for (const v1::CheckpointFile& f : manifest.files()) {
    if (!PlainFileName(f.name()) || f.sha256().size() != 32) {
      return absl::DataLossError("checkpoint: bad file entry");
    }
    total += f.size();
    if (total > kMaxCheckpointBytes) {
      return absl::DataLossError("checkpoint: larger than 1 TiB");
    }
  }
  // Files arrive in manifest order, each from offset 0 in sequence.
  int current = -1;
  uint64_t written = 0;
  security::path::UniqueFd fd;
  std::optional<crypto::Sha256Stream> hash;
  auto finish_file = [&]() -> absl::Status {
    if (current < 0) return absl::OkStatus();
    const v1::CheckpointFile& f = manifest.files(current);
    if (written != f.size() || Hash32(hash->Finish()) != f.sha256()) {
      return absl::DataLossError(
          absl::StrCat("checkpoint: file ", f.name(),
                       " does not match its "
                       "manifest entry (size or SHA-256)"));
    }
    if (::fsync(fd.get()) != 0) {
      return absl::InternalError(absl::StrCat("fsync: errno ", errno));
    }
    return absl::OkStatus();
  };
  auto open_next = [&]() -> absl::Status {
    if (absl::Status s = finish_file(); !s.ok()) return s;
    ++current;
    if (current >= manifest.files_size()) {
      return absl::DataLossError("checkpoint: data beyond the last file");
    }
    const std::string& name = manifest.files(current).name();
    if (absl::Status s = dir->WriteFileAtomic(name, "", 0600); !s.ok()) {
      return s;
    }
    absl::StatusOr<security::path::UniqueFd> f = dir->OpenAppend(name);
    if (!f.ok()) return f.status();
    fd = *std::move(f);
    absl::StatusOr<crypto::Sha256Stream> h =
        crypto::Sha256Stream::Create(cv1::CONTENT_HASH);
    if (!h.ok()) return h.status();
    hash.emplace(*std::move(h));
    written = 0;
    return absl::OkStatus();
  };
  while (reader->Read(&chunk)) {
    if (chunk.has_manifest()) {
      return absl::DataLossError("checkpoint: a second manifest");
    }
    while (current < 0 || chunk.file() != manifest.files(current).name() ||
           (chunk.offset() == 0 && written != 0)) {
      if (absl::Status s = open_next(); !s.ok()) return s;
      if (chunk.file() == manifest.files(current).name()) break;
    }
    if (chunk.offset() != written ||
        written + chunk.data().size() > manifest.files(current).size()) {
      return absl::DataLossError(
          absl::StrCat("checkpoint: chunk out of order for ", chunk.file()));
    }
    hash->Update(crypto::AsBytes(chunk.data()));
    if (absl::Status s = WriteAll(fd.get(), chunk.data()); !s.ok()) return s;
    written += chunk.data().size();
  }
  grpc::Status st = reader->Finish();
  if (!st.ok()) {
    return absl::UnavailableError(
        absl::StrCat("checkpoint from ", address, ": ", st.error_message()));
  }
  // Files of size 0 send no chunk: open (create) every remaining one.
  while (current + 1 < manifest.files_size()) {
    if (absl::Status s = open_next(); !s.ok()) return s;
  }
  if (absl::Status s = finish_file(); !s.ok()) return s;
  return manifest;
}

absl::Status Node::SwapInIncoming(uint64_t min_applied_index) {
  absl::StatusOr<security::path::PathRoot> root =
      security::path::PathRoot::Open(home_);
  if (!root.ok()) return root.status();
  PriorityLock lock(this);
  const uint64_t old_height = height_;
  const std::string old_hash = ledger_->last_block_hash();
  const std::string chain = ledger_->chain_id();
  if (absl::Status s = root->RemoveTree("data/ledger.old");
      !s.ok() && !absl::IsNotFound(s)) {
    return s;
  }
  // Readers still holding the old ledger keep it alive; its files move
  // with the rename.
  {
    // Submissions must not read the old store past this point.
    absl::MutexLock check(&check_mu_);
    check_ledger_.reset();
  }
  std::shared_ptr<ledger::Ledger> old = std::move(ledger_);
  if (absl::Status s = root->Rename("data/ledger", "data/ledger.old");
      !s.ok()) {
    ledger_ = std::move(old);
    PublishCheckLedger();
    return s;
  }
  old.reset();
  absl::Status verified;
  std::unique_ptr<ledger::Ledger> fresh;
  if (absl::Status s = root->Rename(kIncoming, "data/ledger"); !s.ok()) {
    verified = s;
  } else {
    absl::StatusOr<std::unique_ptr<ledger::Ledger>> l =
        ledger::Ledger::Open(home_ + "/data/ledger", ledger_options_);
    verified = l.status();
    if (l.ok()) {
      fresh = *std::move(l);
      if (fresh->chain_id() != chain) {
        verified = absl::DataLossError("checkpoint: another chain");
      } else if (fresh->applied_index() < min_applied_index) {
        verified = absl::DataLossError("checkpoint: behind the snapshot");
      } else {
        verified = fresh->VerifyStoredChain(old_height, old_hash);
      }
    }
  }
  if (!verified.ok()) {
    fresh.reset();
    (void)root->RemoveTree("data/ledger");
    absl::Status back = root->Rename("data/ledger.old", "data/ledger");
    absl::StatusOr<std::unique_ptr<ledger::Ledger>> l =
        ledger::Ledger::Open(home_ + "/data/ledger", ledger_options_);
    if (!back.ok() || !l.ok()) {
      return absl::DataLossError(
          absl::StrCat("state transfer refused (", verified.ToString(),
                       ") and the old ledger could not be reopened"));
    }
    ledger_ = *std::move(l);
    PublishCheckLedger();
    return verified;
  }
  ledger_ = std::move(fresh);
  PublishCheckLedger();
  height_ = ledger_->height();
  applied_index_ = ledger_->applied_index();
  RefreshMembers();
  Readmit();
  if (metrics_ != nullptr) metrics_->SetHeight(height_);
  if (absl::Status s = root->RemoveTree("data/ledger.old"); !s.ok()) {
    log::Warn("old_ledger_remove_failed", {{"error", s.ToString()}});
  }
  return absl::OkStatus();
}

absl::Status Node::InstallSnapshot(const consensus::SnapshotInfo& snapshot) {
  std::vector<std::string> peers;
  {
    const uint64_t leader = raft_ != nullptr ? raft_->Status().leader_id : 0;
    absl::ReaderMutexLock lock(&members_mu_);
    for (const auto& [id, m] : members_) {
      if (id == config_.raft_id() || m.grpc_address().empty()) continue;
      if (id == leader) {
        peers.insert(peers.begin(), m.grpc_address());
      } else {
        peers.push_back(m.grpc_address());
      }
    }
  }
  log::Info("state_transfer_start", {{"applied_index", snapshot.applied_index},
                                     {"peers", uint64_t{peers.size()}}});
  absl::Status last = absl::UnavailableError("no member with an API address");
  for (int round = 0; round < 3; ++round) {
    for (const std::string& peer : peers) {
      absl::StatusOr<v1::CheckpointManifest> m =
          FetchCheckpoint(peer, snapshot.applied_index);
      if (m.ok()) last = SwapInIncoming(snapshot.applied_index);
      if (!m.ok()) last = m.status();
      log::Info("state_transfer_attempt",
                {{"peer", peer}, {"result", last.ToString()}});
      if (last.ok()) {
        log::Info("state_transfer_done",
                  {{"height", height()}, {"applied_index", AppliedIndex()}});
        if (metrics_ != nullptr) metrics_->AddStateTransfer(true);
        Audit("cluster.state_transfer", peer, last,
              {{"height", absl::StrCat(height())},
               {"applied_index", absl::StrCat(AppliedIndex())}});
        return last;
      }
    }
    absl::SleepFor(absl::Seconds(1));
  }
  if (metrics_ != nullptr) metrics_->AddStateTransfer(false);
  Audit("cluster.state_transfer", "", last,
        {{"applied_index", absl::StrCat(snapshot.applied_index)}});
  return last;
}

}  // namespace virtengine::node
