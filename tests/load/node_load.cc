// Load generator for ve-node (a program, not a test): many concurrent
// clients submit pre-signed bank transfers over gRPC; a StreamEvents
// subscriber timestamps each commit. Writes committed tx/s and p50/p99
// submit-to-commit latency to a Markdown result file (DESIGN §3).
//
//   node_load addresses --count N
//   node_load run --node 127.0.0.1:9090 --accounts 64 --txs 40000
//                 --clients 32 --modes single,batch --batch 500
//                 --out tests/load/results/node-single.md [--rate 1000]
//
// Accounts are loadgen::AccountKey(0..N-1) (fund them at genesis with the
// addresses `node_load addresses` prints); tools/bench-node.sh does it all.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "src/api/bank/v1/bank.pb.h"
#include "src/api/node/v1/node.grpc.pb.h"
#include "tests/load/loadgen.h"

namespace virtengine::loadgen {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string node = "127.0.0.1:9090";
  uint32_t accounts = 64;
  uint32_t txs = 40000;
  uint32_t clients = 32;
  uint32_t batch = 500;
  uint64_t fee = 1;
  uint64_t rate = 0;   // offered tx/s, 0 = as fast as possible
  uint64_t paced = 0;  // also run single submission at this offered rate
  std::string denom = "uve";
  std::vector<std::string> modes = {"single", "batch"};
  std::string out;
  std::string commit = "unknown";
  std::string command;
};

struct PhaseResult {
  std::string mode;
  uint64_t offered_rate = 0;
  uint64_t submitted = 0, rejected = 0, committed = 0;
  double seconds = 0, tx_per_s = 0, p50_ms = 0, p99_ms = 0, max_ms = 0;
  std::string first_error;
};

std::unique_ptr<node::v1::Node::Stub> Connect(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(16 << 20);
  return node::v1::Node::NewStub(grpc::CreateCustomChannel(
      target, grpc::InsecureChannelCredentials(), args));
}

void Deadline(grpc::ClientContext* ctx, int seconds) {
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(seconds));
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const size_t k = std::min(
      v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

absl::StatusOr<PhaseResult> RunPhase(const Options& o, const std::string& mode,
                                     uint64_t rate) {
  auto stub = Connect(o.node);
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
  auto stream_stub = Connect(o.node);
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

  const Clock::time_point start = Clock::now();
  std::vector<std::thread> clients;
  for (uint32_t c = 0; c < o.clients; ++c) {
    clients.emplace_back([&, c] {
      auto client = Connect(o.node);
      const std::vector<const Transfer*>& mine = per_client[c];
      const size_t step = mode == "batch" ? o.batch : 1;
      for (size_t i = 0; i < mine.size(); i += step) {
        const size_t n = std::min(step, mine.size() - i);
        if (rate > 0) {
          // Open-loop pacing: this client's share of the offered rate.
          const double at_s =
              static_cast<double>(i) * o.clients / static_cast<double>(rate);
          std::this_thread::sleep_until(
              start + std::chrono::duration_cast<Clock::duration>(
                          std::chrono::duration<double>(at_s)));
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

std::string Report(const Options& o, const std::vector<PhaseResult>& phases) {
  std::string md = "# ve-node single-node load\n\n";
  absl::StrAppend(
      &md, "- command: `", o.command, "`\n- commit: ", o.commit,
      "\n- cores: ", std::thread::hardware_concurrency(), "\n- date: ",
      absl::FormatTime("%Y-%m-%d %H:%M UTC", absl::Now(), absl::UTCTimeZone()),
      "\n- node: one voter (libraft, fsync on), RocksDB with sync writes\n",
      "- load: ", o.accounts, " accounts, ", o.clients,
      " concurrent clients, pre-signed Ed25519 transfers; commit "
      "times from StreamEvents\n\n");
  md +=
      "| mode | offered tx/s | submitted | rejected | committed | committed "
      "tx/s | p50 ms | p99 ms | max ms |\n";
  md += "|---|---|---|---|---|---|---|---|---|\n";
  for (const PhaseResult& p : phases) {
    absl::StrAppend(
        &md, "| ", p.mode, " | ",
        p.offered_rate == 0 ? std::string("max") : absl::StrCat(p.offered_rate),
        " | ", p.submitted, " | ", p.rejected, " | ", p.committed, " | ",
        absl::StrFormat("%.0f | %.1f | %.1f | %.1f", p.tx_per_s, p.p50_ms,
                        p.p99_ms, p.max_ms),
        " |\n");
  }
  for (const PhaseResult& p : phases) {
    if (!p.first_error.empty()) {
      absl::StrAppend(&md, "\nFirst refusal in ", p.mode, ": `", p.first_error,
                      "`\n");
    }
  }
  md += "\n```json\n{\n";
  absl::StrAppend(&md, "  \"cores\": ", std::thread::hardware_concurrency(),
                  ",\n");
  absl::StrAppend(&md, "  \"clients\": ", o.clients, ",\n");
  for (size_t i = 0; i < phases.size(); ++i) {
    const PhaseResult& p = phases[i];
    const std::string k = p.offered_rate == 0
                              ? p.mode
                              : absl::StrCat(p.mode, "_at_", p.offered_rate);
    absl::StrAppend(
        &md,
        absl::StrFormat("  \"%s_committed_tx_per_s\": %.1f,\n  "
                        "\"%s_p50_commit_ms\": %.2f,\n"
                        "  \"%s_p99_commit_ms\": %.2f,\n  "
                        "\"%s_committed_txs\": %d,\n  \"%s_rejected_txs\": %d",
                        k, p.tx_per_s, k, p.p50_ms, k, p.p99_ms, k, p.committed,
                        k, p.rejected));
    md += i + 1 < phases.size() ? ",\n" : "\n";
  }
  md += "}\n```\n";
  return md;
}

int Usage() {
  std::cerr << "usage: node_load addresses --count N\n"
               "       node_load run [--node H:P] [--accounts N] [--txs N] "
               "[--clients N]\n"
               "                     [--modes single,batch] [--batch N] "
               "[--rate TXS] [--paced TXS]\n"
               "                     [--fee N] [--denom D] [--out FILE] "
               "[--commit SHA]\n";
  return 2;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return Usage();
  std::map<std::string, std::string> flags;
  for (size_t i = 1; i + 1 < args.size(); i += 2) {
    if (args[i].rfind("--", 0) != 0) return Usage();
    flags[args[i].substr(2)] = args[i + 1];
  }
  if ((args.size() - 1) % 2 != 0) return Usage();
  auto num = [&](const char* name, uint64_t def) -> uint64_t {
    auto it = flags.find(name);
    if (it == flags.end()) return def;
    uint64_t v = 0;
    if (!absl::SimpleAtoi(it->second, &v)) {
      std::cerr << "--" << name << ": not a number\n";
      std::exit(2);  // NOLINT(concurrency-mt-unsafe): single-threaded here
    }
    return v;
  };
  if (args[0] == "addresses") {
    const uint64_t n = num("count", 64);
    for (uint32_t i = 0; i < n; ++i) {
      absl::StatusOr<std::string> a = AccountAddress(i);
      if (!a.ok()) {
        std::cerr << a.status() << "\n";
        return 1;
      }
      std::cout << *a << "\n";
    }
    return 0;
  }
  if (args[0] != "run") return Usage();
  Options o;
  if (flags.count("node")) o.node = flags["node"];
  if (flags.count("denom")) o.denom = flags["denom"];
  if (flags.count("out")) o.out = flags["out"];
  if (flags.count("commit")) o.commit = flags["commit"];
  if (flags.count("modes")) o.modes = absl::StrSplit(flags["modes"], ',');
  o.accounts = static_cast<uint32_t>(num("accounts", o.accounts));
  o.txs = static_cast<uint32_t>(num("txs", o.txs));
  o.clients = static_cast<uint32_t>(num("clients", o.clients));
  o.batch = static_cast<uint32_t>(num("batch", o.batch));
  o.fee = num("fee", o.fee);
  o.rate = num("rate", 0);
  o.paced = num("paced", 0);
  if (o.accounts == 0 || o.clients == 0 || o.batch == 0 || o.txs == 0)
    return Usage();
  o.command = "node_load";
  for (const std::string& a : args) absl::StrAppend(&o.command, " ", a);
  std::vector<PhaseResult> phases;
  for (const std::string& mode : o.modes) {
    if (mode != "single" && mode != "batch") return Usage();
    absl::StatusOr<PhaseResult> r = RunPhase(o, mode, o.rate);
    if (!r.ok()) {
      std::cerr << "node_load: " << mode << ": " << r.status() << "\n";
      return 1;
    }
    std::cerr << absl::StrFormat(
        "%s: %d committed, %d rejected, %.0f tx/s, p50 %.1f ms, p99 %.1f ms\n",
        mode, r->committed, r->rejected, r->tx_per_s, r->p50_ms, r->p99_ms);
    phases.push_back(*std::move(r));
  }
  if (o.paced > 0) {
    // Latency at a load the node keeps up with: open-loop, paced clients.
    Options paced = o;
    paced.txs = std::min<uint32_t>(o.txs, static_cast<uint32_t>(o.paced * 10));
    absl::StatusOr<PhaseResult> r = RunPhase(paced, "single", o.paced);
    if (!r.ok()) {
      std::cerr << "node_load: paced: " << r.status() << "\n";
      return 1;
    }
    phases.push_back(*std::move(r));
  }
  const std::string md = Report(o, phases);
  if (o.out.empty()) {
    std::cout << md;
  } else {
    std::ofstream(o.out)
        << md;  // a benchmark artefact path given by the operator
  }
  return 0;
}

}  // namespace
}  // namespace virtengine::loadgen

int main(int argc, char** argv) {
  return virtengine::loadgen::Main(argc, argv);
}
