#include "tests/load/node_phase.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "src/api/bank/v1/bank.pb.h"
#include "tests/load/loadgen.h"

namespace virtengine::loadgen {

using Clock = std::chrono::steady_clock;

namespace {
// /proc/stat's aggregate "cpu" line: user nice system idle iowait irq
// softirq steal ... (USER_HZ ticks). Empty when unreadable.
std::vector<uint64_t> CpuTicks() {
  std::ifstream in("/proc/stat");
  std::string line;
  std::vector<uint64_t> ticks;
  if (!std::getline(in, line) || line.rfind("cpu ", 0) != 0) return ticks;
  std::istringstream fields(line.substr(4));
  uint64_t v = 0;
  while (ticks.size() < 8 && fields >> v) ticks.push_back(v);
  if (ticks.size() < 8) ticks.clear();
  return ticks;
}
}  // namespace

CpuMeter::CpuMeter() : start_(CpuTicks()) {}

CpuShare CpuMeter::Read() const {
  const std::vector<uint64_t> now = CpuTicks();
  CpuShare out;
  if (start_.size() != 8 || now.size() != 8) return out;
  std::vector<uint64_t> d(8);
  uint64_t total = 0;
  for (size_t i = 0; i < 8; ++i) {
    d[i] = now[i] >= start_[i] ? now[i] - start_[i] : 0;
    total += d[i];
  }
  if (total == 0) return out;
  const uint64_t busy = d[0] + d[1] + d[2] + d[5] + d[6];
  out.busy_pct = 100.0 * static_cast<double>(busy) / static_cast<double>(total);
  out.steal_pct =
      100.0 * static_cast<double>(d[7]) / static_cast<double>(total);
  return out;
}

Clock::time_point PacedAt(Clock::time_point start, uint64_t k, uint32_t c,
                          uint32_t clients, uint64_t rate) {
  const double at_s =
      (static_cast<double>(k) * clients + c) / static_cast<double>(rate);
  return start + std::chrono::duration_cast<Clock::duration>(
                     std::chrono::duration<double>(at_s));
}

void SkipMutexDeadlockDetection() {
#ifdef NDEBUG
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
}

std::unique_ptr<node::v1::Node::Stub> Connect(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(16 << 20);
  return node::v1::Node::NewStub(grpc::CreateCustomChannel(
      target, grpc::InsecureChannelCredentials(), args));
}

namespace {

void Deadline(grpc::ClientContext* ctx, int seconds) {
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(seconds));
}

}  // namespace

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const size_t k = std::min(
      v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

absl::StatusOr<PhaseResult> RunPhase(const Options& o, const std::string& mode,
                                     uint64_t rate) {
  const std::vector<std::string> targets =
      o.nodes.empty() ? std::vector<std::string>{o.node} : o.nodes;
  auto stub = Connect(targets[0]);
  node::v1::StatusResponse status;
  {
    grpc::ClientContext ctx;
    Deadline(&ctx, 10);
    grpc::Status s = stub->Status(&ctx, {}, &status);
    if (!s.ok()) return absl::UnavailableError("Status: " + s.error_message());
  }
  // Pre-sign every transfer (not measured).
  const uint32_t per_account = std::max<uint32_t>(1, o.txs / o.accounts);
  std::vector<std::vector<Transfer>> txs(o.accounts);
  std::vector<std::string> addresses(o.accounts);
  for (uint32_t a = 0; a < o.accounts; ++a) {
    absl::StatusOr<std::string> addr = AccountAddress(a);
    if (!addr.ok()) return addr.status();
    addresses[a] = *addr;
  }
  for (uint32_t a = 0; a < o.accounts; ++a) {
    bank::v1::QueryBalanceRequest req;
    req.set_address(addresses[a]);
    req.set_denom(o.denom);
    bank::v1::QueryBalanceResponse bal;
    grpc::ClientContext ctx;
    Deadline(&ctx, 10);
    grpc::Status s = stub->QueryBalance(&ctx, req, &bal);
    if (!s.ok())
      return absl::UnavailableError("QueryBalance: " + s.error_message());
    absl::StatusOr<crypto::Ed25519PrivateKey> key = AccountKey(a);
    if (!key.ok()) return key.status();
    for (uint32_t k = 0; k < per_account; ++k) {
      absl::StatusOr<Transfer> t =
          MakeTransfer(*key, addresses[(a + 1) % o.accounts], 1, o.fee, o.denom,
                       bal.sequence() + k, status.chain_id());
      if (!t.ok()) return t.status();
      t->from = a;
      txs[a].push_back(*std::move(t));
    }
  }
  // Submission order: round-robin over accounts, so each account's txs go
  // in sequence order and clients interleave.
  std::vector<std::vector<const Transfer*>> per_client(o.clients);
  for (uint32_t k = 0; k < per_account; ++k) {
    for (uint32_t a = 0; a < o.accounts; ++a) {
      per_client[a % o.clients].push_back(&txs[a][k]);
    }
  }
  const size_t total = static_cast<size_t>(per_account) * o.accounts;
  absl::Mutex mu;
  absl::flat_hash_map<std::string, Clock::time_point> submitted;  // by hash
  std::vector<double> latencies_ms;
  uint64_t committed = 0, rejected = 0;
  Clock::time_point last_commit;
  std::string first_error;
  submitted.reserve(total);

  // Commits, timestamped as the event stream delivers them.
  grpc::ClientContext stream_ctx;
  node::v1::StreamEventsRequest sreq;
  sreq.set_from_height(status.height() + 1);
  auto stream_stub = Connect(targets[0]);
  std::unique_ptr<grpc::ClientReader<ledger::v1::Event>> reader =
      stream_stub->StreamEvents(&stream_ctx, sreq);
  std::thread watcher([&] {
    ledger::v1::Event e;
    while (reader->Read(&e)) {
      const Clock::time_point now = Clock::now();
      absl::MutexLock l(&mu);
      auto it = submitted.find(e.tx_hash());
      if (it == submitted.end()) continue;
      latencies_ms.push_back(
          std::chrono::duration<double, std::milli>(now - it->second).count());
      submitted.erase(it);
      ++committed;
      last_commit = now;
    }
  });

  const CpuMeter cpu;
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> clients;
  for (uint32_t c = 0; c < o.clients; ++c) {
    clients.emplace_back([&, c] {
      auto client = Connect(targets[c % targets.size()]);
      const std::vector<const Transfer*>& mine = per_client[c];
      const size_t step = mode == "batch" ? o.batch : 1;
      for (size_t i = 0; i < mine.size(); i += step) {
        const size_t n = std::min(step, mine.size() - i);
        if (rate > 0) {
          // Open-loop pacing: this client's share of the offered rate.
          std::this_thread::sleep_until(PacedAt(start, i, c, o.clients, rate));
        }
        {
          absl::MutexLock l(&mu);
          const Clock::time_point now = Clock::now();
          for (size_t j = 0; j < n; ++j) submitted[mine[i + j]->hash] = now;
        }
        grpc::ClientContext ctx;
        Deadline(&ctx, 60);
        std::vector<std::pair<size_t, std::string>> refused;
        if (n == 1) {
          node::v1::SubmitTxRequest req;
          req.set_tx(mine[i]->raw);
          node::v1::SubmitTxResponse resp;
          grpc::Status s = client->SubmitTx(&ctx, req, &resp);
          if (!s.ok()) refused.emplace_back(0, s.error_message());
        } else {
          node::v1::SubmitTxBatchRequest req;
          for (size_t j = 0; j < n; ++j) req.add_txs(mine[i + j]->raw);
          node::v1::SubmitTxBatchResponse resp;
          grpc::Status s = client->SubmitTxBatch(&ctx, req, &resp);
          if (!s.ok()) {
            for (size_t j = 0; j < n; ++j)
              refused.emplace_back(j, s.error_message());
          } else {
            for (int j = 0; j < resp.results_size(); ++j) {
              if (resp.results(j).result().code() != 0) {
                refused.emplace_back(j, resp.results(j).result().log());
              }
            }
          }
        }
        if (!refused.empty()) {
          absl::MutexLock l(&mu);
          for (const auto& [j, why] : refused) {
            submitted.erase(mine[i + j]->hash);
            ++rejected;
            if (first_error.empty()) first_error = why;
          }
        }
      }
    });
  }
  for (std::thread& t : clients) t.join();
  const Clock::time_point submit_end = Clock::now();
  // Wait for the stragglers to commit (bounded).
  {
    absl::MutexLock l(&mu);
    auto all_in = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      return submitted.empty();
    };
    mu.AwaitWithTimeout(absl::Condition(&all_in), absl::Seconds(120));
  }
  stream_ctx.TryCancel();
  watcher.join();
  absl::MutexLock l(&mu);
  PhaseResult r;
  r.cpu = cpu.Read();
  r.mode = mode;
  r.offered_rate = rate;
  r.submitted = total;
  r.rejected = rejected;
  r.committed = committed;
  const Clock::time_point end = committed > 0 ? last_commit : submit_end;
  r.seconds = std::chrono::duration<double>(end - start).count();
  r.tx_per_s = r.seconds > 0 ? static_cast<double>(committed) / r.seconds : 0;
  r.p50_ms = Percentile(latencies_ms, 0.50);
  r.p99_ms = Percentile(latencies_ms, 0.99);
  r.max_ms = latencies_ms.empty()
                 ? 0
                 : *std::max_element(latencies_ms.begin(), latencies_ms.end());
  r.first_error = first_error;
  return r;
}

}  // namespace virtengine::loadgen
