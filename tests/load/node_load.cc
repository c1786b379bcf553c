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
#include "tests/load/node_phase.h"

namespace virtengine::loadgen {
namespace {

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
      "tx/s | p50 ms | p99 ms | max ms | cpu busy % | steal % |\n";
  md += "|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const PhaseResult& p : phases) {
    absl::StrAppend(
        &md, "| ", p.mode, " | ",
        p.offered_rate == 0 ? std::string("max") : absl::StrCat(p.offered_rate),
        " | ", p.submitted, " | ", p.rejected, " | ", p.committed, " | ",
        absl::StrFormat("%.0f | %.1f | %.1f | %.1f | %.0f | %.0f", p.tx_per_s,
                        p.p50_ms, p.p99_ms, p.max_ms, p.cpu.busy_pct,
                        p.cpu.steal_pct),
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
        &md, absl::StrFormat(
                 "  \"%s_committed_tx_per_s\": %.1f,\n  "
                 "\"%s_p50_commit_ms\": %.2f,\n"
                 "  \"%s_p99_commit_ms\": %.2f,\n  "
                 "\"%s_committed_txs\": %d,\n  \"%s_rejected_txs\": %d,\n"
                 "  \"%s_cpu_busy_pct\": %.1f,\n  \"%s_cpu_steal_pct\": %.1f",
                 k, p.tx_per_s, k, p.p50_ms, k, p.p99_ms, k, p.committed, k,
                 p.rejected, k, p.cpu.busy_pct, k, p.cpu.steal_pct));
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
  virtengine::loadgen::SkipMutexDeadlockDetection();
  return virtengine::loadgen::Main(argc, argv);
}
