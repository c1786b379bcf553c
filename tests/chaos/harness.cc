#include "tests/chaos/harness.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "src/api/bank/v1/bank.pb.h"
#include "src/api/profile/v1/profile.pb.h"
#include "tests/load/loadgen.h"

namespace virtengine::chaos {
namespace {

constexpr char kRegisterKey[] = "reg";
constexpr char kFeeCollector[] = "module:fee_collector";

std::chrono::system_clock::time_point In(double seconds) {
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(
             std::chrono::duration<double>(seconds));
}

std::unique_ptr<node::v1::Node::Stub> Connect(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  // Reconnect quickly to restarted nodes (the default backoff grows to 2
  // minutes).
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  return node::v1::Node::NewStub(grpc::CreateCustomChannel(
      target, grpc::InsecureChannelCredentials(), args));
}

std::optional<node::v1::StatusResponse> Status(node::v1::Node::Stub& stub,
                                               double seconds) {
  grpc::ClientContext ctx;
  ctx.set_deadline(In(seconds));
  node::v1::StatusResponse r;
  if (!stub.Status(&ctx, {}, &r).ok()) return std::nullopt;
  return r;
}

std::string Hex(const std::string& b) { return absl::BytesToHexString(b); }

}  // namespace

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             Clock::now().time_since_epoch())
      .count();
}

bool LongForm() {
  const char* v =
      std::getenv("VE_CHAOS_LONG");  // NOLINT(concurrency-mt-unsafe)
  return v != nullptr && std::string(v) == "1";
}

// ---- ChaosCluster ----------------------------------------------------------

absl::StatusOr<std::unique_ptr<ChaosCluster>> ChaosCluster::Create(
    const std::string& base, const ClusterOptions& options) {
  std::unique_ptr<ChaosCluster> c(new ChaosCluster());
  c->options_ = options;
  ::mkdir(base.c_str(), 0700);
  if (options.netns || options.tmpfs_node >= 0) {
    absl::StatusOr<std::unique_ptr<exec::Runner>> r = MakeChaosRunner();
    if (!r.ok()) return r.status();
    c->runner_ = *std::move(r);
  }
  std::vector<testing::NodeAddresses> addrs;
  if (options.netns) {
    absl::StatusOr<std::unique_ptr<NetTopology>> net =
        NetTopology::Create(c->runner_.get(), options.nodes);
    if (!net.ok()) return net.status();
    c->net_ = *std::move(net);
    for (int i = 0; i < options.nodes; ++i) {
      const std::string a = c->net_->address(i);
      addrs.push_back({a + ":9090", a + ":26656", a + ":26660"});
    }
  } else {
    for (int i = 0; i < options.nodes; ++i) {
      addrs.push_back({absl::StrCat("127.0.0.1:", testing::FreePort()),
                       absl::StrCat("127.0.0.1:", testing::FreePort()),
                       absl::StrCat("127.0.0.1:", testing::FreePort())});
    }
  }
  if (options.tmpfs_node >= 0) {
    absl::StatusOr<std::unique_ptr<Tmpfs>> fs = Tmpfs::Mount(
        c->runner_.get(), absl::StrCat(base, "/n", options.tmpfs_node + 1),
        options.tmpfs_mb);
    if (!fs.ok()) return fs.status();
    c->tmpfs_ = *std::move(fs);
  }
  absl::StatusOr<std::vector<testing::NodeHome>> homes =
      testing::InitClusterAt(base, addrs, options.accounts, options.amount);
  if (!homes.ok()) return homes.status();
  c->homes_ = *std::move(homes);
  c->procs_.resize(c->homes_.size());
  c->stopped_.assign(c->homes_.size(), false);
  for (const testing::NodeHome& h : c->homes_) {
    c->stubs_.push_back(Connect(h.grpc));
  }
  for (int i = 0; i < c->size(); ++i) {
    if (absl::Status s = c->Start(i); !s.ok()) return s;
  }
  for (int i = 0; i < c->size(); ++i) {
    if (absl::Status s = c->procs_[i]->WaitServing(60); !s.ok()) return s;
  }
  return c;
}

ChaosCluster::~ChaosCluster() {
  for (int i = 0; i < size(); ++i) Kill(i);
  // Unmount before the namespaces go (the order does not matter to the
  // kernel; it keeps the logs readable).
  tmpfs_.reset();
  net_.reset();
}

absl::Status ChaosCluster::Start(int i) {
  if (procs_[i] != nullptr) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<testing::NodeProcess>> p =
      net_ != nullptr
          ? testing::StartNodeWithPrefix(homes_[i], net_->ExecPrefix(i))
          : testing::NodeProcess::Start(homes_[i]);
  if (!p.ok()) return p.status();
  procs_[i] = *std::move(p);
  stopped_[i] = false;
  return absl::OkStatus();
}

void ChaosCluster::Kill(int i) {
  if (procs_[i] == nullptr) return;
  procs_[i]->Kill();
  procs_[i].reset();
  stopped_[i] = false;
}

void ChaosCluster::Stop(int i) {
  if (procs_[i] == nullptr) return;
  ::kill(procs_[i]->pid(), SIGSTOP);
  stopped_[i] = true;
}

void ChaosCluster::Cont(int i) {
  if (procs_[i] == nullptr) return;
  ::kill(procs_[i]->pid(), SIGCONT);
  stopped_[i] = false;
}

bool ChaosCluster::Running(int i) const { return procs_[i] != nullptr; }

bool ChaosCluster::Exited(int i) {
  if (procs_[i] == nullptr) return true;
  std::ifstream in(absl::StrCat("/proc/", procs_[i]->pid(), "/stat"));
  std::string stat;
  std::getline(in, stat);
  const size_t paren = stat.rfind(')');
  const bool zombie = paren == std::string::npos ||
                      (paren + 2 < stat.size() && stat[paren + 2] == 'Z');
  if (zombie) Kill(i);  // reaps
  return zombie;
}

int ChaosCluster::Leader(int seconds) {
  const auto until = Clock::now() + std::chrono::seconds(seconds);
  while (Clock::now() < until) {
    std::set<uint64_t> named;
    int says = -1;
    for (int i = 0; i < size(); ++i) {
      if (procs_[i] == nullptr || stopped_[i]) continue;
      std::optional<node::v1::StatusResponse> s = Status(*stubs_[i], 1);
      if (!s) continue;
      if (s->leader_id() != 0) named.insert(s->leader_id());
      if (s->is_leader()) says = i;
    }
    if (says >= 0 && named.size() == 1 &&
        *named.begin() == homes_[says].raft_id) {
      return says;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return -1;
}

absl::StatusOr<uint64_t> ChaosCluster::WaitConverged(int seconds) {
  const auto until = Clock::now() + std::chrono::seconds(seconds);
  std::string last;
  while (Clock::now() < until) {
    std::set<std::string> states;
    bool all = true;
    uint64_t height = 0;
    last.clear();
    for (int i = 0; i < size(); ++i) {
      if (procs_[i] == nullptr || stopped_[i]) continue;
      std::optional<node::v1::StatusResponse> s = Status(*stubs_[i], 2);
      if (!s || s->halted()) {
        all = false;
        absl::StrAppend(&last, " node", i + 1, s ? " halted: " : " silent",
                        s ? s->halt_reason() : "");
        continue;
      }
      height = s->height();
      states.insert(absl::StrCat(s->height(), "/", Hex(s->last_block_hash()),
                                 "/", Hex(s->state_digest())));
      absl::StrAppend(&last, " node", i + 1, "@", s->height());
    }
    if (all && states.size() == 1) return height;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return absl::DeadlineExceededError("cluster did not converge:" + last);
}

// ---- Workload
// ----------------------------------------------------------------

Workload::Workload(ChaosCluster* cluster, int transfer_clients, int readers)
    : cluster_(cluster),
      transfer_clients_(transfer_clients),
      readers_(readers) {}

Workload::~Workload() { Stop(); }

void Workload::Start() {
  stop_ = false;
  for (int c = 0; c < transfer_clients_; ++c) {
    threads_.emplace_back([this, c] { TransferClient(c); });
  }
  threads_.emplace_back([this] { Writer(); });
  for (int r = 0; r < readers_; ++r) {
    threads_.emplace_back([this, r] { Reader(r); });
  }
}

void Workload::Stop() {
  stop_ = true;
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

int Workload::NextNode() {
  return static_cast<int>(rr_.fetch_add(1) %
                          static_cast<uint64_t>(cluster_->size()));
}

std::optional<uint64_t> Workload::SyncSequence(uint32_t account) {
  absl::StatusOr<std::string> addr = loadgen::AccountAddress(account);
  if (!addr.ok()) return std::nullopt;
  bank::v1::QueryBalanceRequest req;
  req.set_address(*addr);
  req.set_denom("uve");
  node::v1::QueryRequest q;
  q.set_module("bank");
  q.set_path("balance");
  q.set_request(req.SerializeAsString());
  q.set_consistent(true);
  node::v1::QueryResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(In(3));
  if (!cluster_->stub(NextNode()).Query(&ctx, q, &resp).ok()) {
    return std::nullopt;
  }
  bank::v1::QueryBalanceResponse bal;
  if (!bal.ParseFromString(resp.response())) return std::nullopt;
  return bal.sequence();
}

namespace {

enum class TxOutcome { kCommitted, kRefused, kUnknown };

TxOutcome Submit(node::v1::Node::Stub& stub, const std::string& raw) {
  node::v1::SubmitTxRequest req;
  req.set_tx(raw);
  req.set_wait_for_commit(true);
  node::v1::SubmitTxResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(In(2));
  const grpc::Status s = stub.SubmitTx(&ctx, req, &resp);
  switch (s.error_code()) {
    case grpc::StatusCode::OK:
      break;
    // Refusals before admission, or a definite drop from the mempool.
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::ABORTED:
      return TxOutcome::kRefused;
    // Timeouts, lost connections, lost leadership, "already in mempool":
    // the tx may still commit.
    default:
      return TxOutcome::kUnknown;
  }
  if (resp.result().code() != 0) return TxOutcome::kRefused;
  return resp.height() > 0 ? TxOutcome::kCommitted : TxOutcome::kUnknown;
}

}  // namespace

void Workload::TransferClient(int c) {
  const uint32_t accounts = cluster_->options().accounts;
  const uint32_t from = 1 + static_cast<uint32_t>(c) % (accounts - 1);
  const uint32_t to = from + 1 < accounts ? from + 1 : 1;
  absl::StatusOr<crypto::Ed25519PrivateKey> key = loadgen::AccountKey(from);
  absl::StatusOr<std::string> to_addr = loadgen::AccountAddress(to);
  if (!key.ok() || !to_addr.ok()) return;
  std::optional<uint64_t> seq;
  while (!stop_) {
    if (!seq) {
      seq = SyncSequence(from);
      if (!seq) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
    }
    absl::StatusOr<loadgen::Transfer> t = loadgen::MakeTransfer(
        *key, *to_addr, 1, 1, "uve", *seq, cluster_->chain_id());
    if (!t.ok()) return;
    const int64_t t0 = NowNs();
    const TxOutcome o = Submit(cluster_->stub(NextNode()), t->raw);
    const int64_t t1 = NowNs();
    absl::MutexLock l(&mu_);
    switch (o) {
      case TxOutcome::kCommitted:
        ++stats_.tx_acked;
        acked_.push_back(t->hash);
        ack_times_.emplace_back(t0, t1);
        ++*seq;
        break;
      case TxOutcome::kRefused:
        ++stats_.tx_failed;
        seq.reset();
        break;
      case TxOutcome::kUnknown:
        ++stats_.tx_unknown;
        seq.reset();
        break;
    }
  }
}

void Workload::Writer() {
  absl::StatusOr<crypto::Ed25519PrivateKey> key = loadgen::AccountKey(0);
  absl::StatusOr<std::string> addr = loadgen::AccountAddress(0);
  if (!key.ok() || !addr.ok()) return;
  std::optional<uint64_t> seq;
  while (!stop_) {
    if (!seq) {
      seq = SyncSequence(0);
      if (!seq) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
    }
    profile::v1::MsgSetProfile m;
    m.set_address(*addr);
    m.set_key(kRegisterKey);
    const std::string value = absl::StrCat("v", ++next_value_);
    m.set_value(value);
    google::protobuf::Any any;
    any.PackFrom(m, "/");
    absl::StatusOr<loadgen::Transfer> t =
        loadgen::MakeTx(*key, {any}, 1, "uve", *seq, cluster_->chain_id());
    if (!t.ok()) return;
    RegisterOp op;
    op.client = 0;
    op.kind = OpKind::kWrite;
    op.value = value;
    op.invoke_ns = NowNs();
    const TxOutcome o = Submit(cluster_->stub(NextNode()), t->raw);
    op.complete_ns = NowNs();
    absl::MutexLock l(&mu_);
    switch (o) {
      case TxOutcome::kCommitted:
        op.outcome = Outcome::kOk;
        ++stats_.writes_ok;
        acked_.push_back(t->hash);
        ack_times_.emplace_back(op.invoke_ns, op.complete_ns);
        ++*seq;
        break;
      case TxOutcome::kRefused:
        op.outcome = Outcome::kFail;
        ++stats_.writes_failed;
        seq.reset();
        break;
      case TxOutcome::kUnknown:
        op.outcome = Outcome::kUnknown;
        ++stats_.writes_unknown;
        seq.reset();
        break;
    }
    history_.push_back(std::move(op));
  }
}

void Workload::Reader(int r) {
  absl::StatusOr<std::string> addr = loadgen::AccountAddress(0);
  if (!addr.ok()) return;
  profile::v1::QueryGetRequest req;
  req.set_address(*addr);
  req.set_key(kRegisterKey);
  while (!stop_) {
    node::v1::QueryRequest q;
    q.set_module("profile");
    q.set_path("get");
    q.set_request(req.SerializeAsString());
    q.set_consistent(true);
    node::v1::QueryResponse resp;
    RegisterOp op;
    op.client = 1 + r;
    op.kind = OpKind::kRead;
    op.invoke_ns = NowNs();
    grpc::ClientContext ctx;
    ctx.set_deadline(In(3));
    const grpc::Status s = cluster_->stub(NextNode()).Query(&ctx, q, &resp);
    op.complete_ns = NowNs();
    profile::v1::QueryGetResponse got;
    if (s.ok() && got.ParseFromString(resp.response())) {
      op.outcome = Outcome::kOk;
      op.found = got.found();
      op.value = got.value();
    } else {
      op.outcome = Outcome::kUnknown;
    }
    {
      absl::MutexLock l(&mu_);
      if (op.outcome == Outcome::kOk) {
        ++stats_.reads_ok;
        history_.push_back(std::move(op));
      } else {
        ++stats_.reads_unknown;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(s.ok() ? 10 : 100));
  }
}

WorkloadStats Workload::stats() const {
  absl::MutexLock l(&mu_);
  return stats_;
}

std::vector<std::string> Workload::acked_hashes() const {
  absl::MutexLock l(&mu_);
  return acked_;
}

std::vector<RegisterOp> Workload::history() const {
  absl::MutexLock l(&mu_);
  return history_;
}

std::optional<int64_t> Workload::FirstAckAfter(int64_t t_ns) const {
  absl::MutexLock l(&mu_);
  std::optional<int64_t> best;
  for (const auto& [invoke, complete] : ack_times_) {
    if (invoke >= t_ns && (!best || complete < *best)) best = complete;
  }
  return best;
}

std::optional<double> Workload::WaitServed(int64_t t_ns, int seconds) const {
  const auto until = Clock::now() + std::chrono::seconds(seconds);
  while (Clock::now() < until) {
    if (std::optional<int64_t> t = FirstAckAfter(t_ns)) {
      return static_cast<double>(*t - t_ns) / 1e6;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

// ---- Verifier
// ------------------------------------------------------------------

absl::Status Verifier::Check(ChaosCluster& cluster, const Workload& workload,
                             std::string* summary) {
  for (int i = 0; i < cluster.size(); ++i) {
    if (!cluster.Running(i)) {
      return absl::FailedPreconditionError(
          absl::StrCat("node ", i + 1, " is not running"));
    }
  }
  absl::StatusOr<uint64_t> height = cluster.WaitConverged(60);
  if (!height.ok()) return height.status();
  // 1. Equal headers and tx lists at every height; no tx twice.
  for (uint64_t h = verified_height + 1; h <= *height; ++h) {
    std::string header0, txs0;
    for (int i = 0; i < cluster.size(); ++i) {
      node::v1::GetBlockRequest req;
      req.set_height(h);
      node::v1::GetBlockResponse resp;
      grpc::ClientContext ctx;
      ctx.set_deadline(In(10));
      const grpc::Status s = cluster.stub(i).GetBlock(&ctx, req, &resp);
      if (!s.ok()) {
        return absl::UnavailableError(absl::StrCat(
            "GetBlock ", h, " on node ", i + 1, ": ", s.error_message()));
      }
      std::string txs;
      for (const ledger::v1::TxResult& r : resp.block().results()) {
        txs += r.tx_hash();
      }
      if (i == 0) {
        header0 = resp.block().header().header_bytes();
        txs0 = txs;
        ledger::v1::BlockHeader hdr;
        if (!hdr.ParseFromString(header0) || hdr.height() != h) {
          return absl::DataLossError(
              absl::StrCat("node 1: block ", h, " has a bad header"));
        }
        for (const ledger::v1::TxResult& r : resp.block().results()) {
          auto [it, fresh] = tx_height.emplace(r.tx_hash(), h);
          if (!fresh) {
            return absl::DataLossError(absl::StrCat("tx ", Hex(r.tx_hash()),
                                                    " is in blocks ",
                                                    it->second, " and ", h));
          }
        }
      } else if (resp.block().header().header_bytes() != header0) {
        return absl::DataLossError(absl::StrCat(
            "block ", h, ": header (ledger root, state digest) of node ", i + 1,
            " differs from node 1's"));
      } else if (txs != txs0) {
        return absl::DataLossError(absl::StrCat(
            "block ", h, ": txs of node ", i + 1, " differ from node 1's"));
      }
    }
  }
  const uint64_t blocks = *height - verified_height;
  verified_height = *height;
  // 2. Every acknowledged tx is committed (exactly once: checked above).
  const std::vector<std::string> acked = workload.acked_hashes();
  for (const std::string& a : acked) {
    if (tx_height.count(a) == 0) {
      return absl::DataLossError(absl::StrCat("acknowledged tx ", Hex(a),
                                              " is in no block (height ",
                                              *height, ")"));
    }
  }
  // 3. Supply: every account's balance sums to the genesis total, and
  // every node agrees on every balance.
  const ClusterOptions& o = cluster.options();
  std::vector<std::string> accounts;
  for (uint32_t a = 0; a < o.accounts; ++a) {
    accounts.push_back(*loadgen::AccountAddress(a));
  }
  accounts.push_back(kFeeCollector);
  std::vector<uint64_t> balances0;
  for (int i = 0; i < cluster.size(); ++i) {
    uint64_t sum = 0;
    std::vector<uint64_t> balances;
    for (const std::string& a : accounts) {
      bank::v1::QueryBalanceRequest req;
      req.set_address(a);
      req.set_denom("uve");
      bank::v1::QueryBalanceResponse resp;
      grpc::ClientContext ctx;
      ctx.set_deadline(In(10));
      const grpc::Status s = cluster.stub(i).QueryBalance(&ctx, req, &resp);
      if (!s.ok()) {
        return absl::UnavailableError(absl::StrCat(
            "QueryBalance ", a, " on node ", i + 1, ": ", s.error_message()));
      }
      sum += resp.balance().amount();
      balances.push_back(resp.balance().amount());
    }
    if (sum != o.amount * o.accounts) {
      return absl::DataLossError(
          absl::StrCat("node ", i + 1, ": balances sum to ", sum,
                       ", genesis supply is ", o.amount * o.accounts));
    }
    if (i == 0) {
      balances0 = balances;
    } else if (balances != balances0) {
      return absl::DataLossError(
          absl::StrCat("node ", i + 1, ": balances differ from node 1's"));
    }
  }
  // 4. The register history is linearizable (and not vacuously: the
  // register must have been written and read).
  const std::vector<RegisterOp> history = workload.history();
  const WorkloadStats st = workload.stats();
  if (st.writes_ok == 0 || st.reads_ok == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("the register workload made no progress (", st.writes_ok,
                     " writes and ", st.reads_ok,
                     " reads succeeded): is the profile module registered?"));
  }
  absl::StatusOr<CheckResult> lin = CheckRegisterHistory(history, {});
  if (!lin.ok()) return lin.status();
  if (lin->verdict != Verdict::kLinearizable) {
    return absl::DataLossError(absl::StrCat("register history ",
                                            lin->verdict == Verdict::kUnknown
                                                ? "undecided: "
                                                : "NOT linearizable: ",
                                            lin->explanation));
  }
  *summary = absl::StrCat(
      "height ", *height, " (", blocks, " blocks checked on every node), ",
      acked.size(), " acknowledged txs each exactly once, supply intact, ",
      history.size(), " register ops linearizable (", lin->configurations,
      " configurations)");
  return absl::OkStatus();
}

// ---- results
// -------------------------------------------------------------------

void WriteResults(const std::vector<RecoveryRow>& rows) {
  std::string md = "# Chaos suite: time until the cluster serves again\n\n";
  std::string command = "bazel test //tests/chaos:chaos_test";
  if (LongForm()) command += " --test_env=VE_CHAOS_LONG=1";
  absl::StrAppend(
      &md, "- command: `", command,
      "`\n- form: ", LongForm() ? "long" : "short",
      "\n- cores: ", std::thread::hardware_concurrency(), "\n- date: ",
      absl::FormatTime("%Y-%m-%d %H:%M UTC", absl::Now(), absl::UTCTimeZone()),
      "\n- cluster: 3 ve-node voters (libraft, fsync on), continuous load: "
      "transfers, one register writer, two linearizable readers\n"
      "- served again: from the fault until the first write invoked after it "
      "is acknowledged as committed\n\n");
  md +=
      "| fault | cycles | served again p50 ms | max ms | not served | acked "
      "txs | unknown | register ops ok (w/r) | checks |\n";
  md += "|---|---|---|---|---|---|---|---|---|\n";
  std::string json = "```json\n{\n";
  absl::StrAppend(&json, "  \"cores\": ", std::thread::hardware_concurrency(),
                  ",\n  \"long_form\": ", LongForm() ? "true" : "false");
  for (const RecoveryRow& r : rows) {
    std::vector<double> v = r.recovery_ms;
    std::sort(v.begin(), v.end());
    const double p50 = v.empty() ? 0 : v[v.size() / 2];
    const double max = v.empty() ? 0 : v.back();
    absl::StrAppend(&md, "| ", r.fault, " | ", r.cycles, " | ",
                    absl::StrFormat("%.0f | %.0f", p50, max), " | ",
                    r.not_served, " | ", r.stats.tx_acked + r.stats.writes_ok,
                    " | ", r.stats.tx_unknown + r.stats.writes_unknown, " | ",
                    r.stats.writes_ok, "/", r.stats.reads_ok, " | ", r.verdict,
                    " |\n");
    absl::StrAppend(
        &json,
        absl::StrFormat(
            ",\n  \"%s_cycles\": %d,\n  \"%s_served_again_p50_ms\": %.1f,\n"
            "  \"%s_served_again_max_ms\": %.1f,\n  \"%s_not_served\": %d,\n"
            "  \"%s_acked_txs\": %d,\n  \"%s_checks_ok\": %s",
            r.fault, r.cycles, r.fault, p50, r.fault, max, r.fault,
            r.not_served, r.fault, r.stats.tx_acked + r.stats.writes_ok,
            r.fault, r.verdict == "ok" ? "true" : "false"));
  }
  json += "\n}\n```\n";
  for (const RecoveryRow& r : rows) {
    if (!r.note.empty()) absl::StrAppend(&md, "\n- ", r.fault, ": ", r.note);
  }
  md += "\n\n" + json;
  const char* out =
      std::getenv("VE_CHAOS_RESULTS");  // NOLINT(concurrency-mt-unsafe)
  const char* und = std::getenv(        // NOLINT(concurrency-mt-unsafe)
      "TEST_UNDECLARED_OUTPUTS_DIR");
  std::string path;
  if (out != nullptr && *out != '\0') {
    path = out;
  } else if (und != nullptr) {
    path = std::string(und) + "/results.md";
  } else {
    std::cout << md;
    return;
  }
  std::ofstream(path) << md;  // a test artefact path given by the operator
  std::cerr << "chaos results written to " << path << "\n";
}

}  // namespace virtengine::chaos
