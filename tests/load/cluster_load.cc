// The cluster benchmark (a program, not a test; issue 5): in one run, with
// the same cluster shape (3 members on loopback, fsync on) and the same
// client concurrency,
//   1. a 3-node ve-node cluster: committed signed transfers per second and
//      submit-to-commit p50/p99 (node_phase.h, as node_load), one tx per
//      call ("single"), batched, and paced at --paced tx/s;
//   2. an etcd 3.4 cluster: puts per second and Put p50/p99 with values of
//      the size of one signed transfer, unpaced and paced;
// and writes the figures and the ratio to --out (DESIGN §3 format).
//
//   cluster_load --out tests/load/results/cluster.md [--accounts 128]
//       [--txs 30000] [--clients 16] [--batch 250] [--paced 1000]
//       [--etcd /usr/bin/etcd] [--workdir DIR] [--commit SHA]
//
// ve-node comes from the runfiles (TEST_SRCDIR/TEST_WORKSPACE, set by
// tools/bench-cluster.sh).
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/integration/node_process.h"
#include "tests/load/etcd_bench.h"
#include "tests/load/loadgen.h"
#include "tests/load/node_phase.h"

namespace virtengine::loadgen {
namespace {

struct Flags {
  uint32_t accounts = 128, txs = 30000, clients = 16, batch = 250;
  uint64_t paced = 1000;
  std::string etcd = "/usr/bin/etcd";
  std::string workdir;
  std::string out;
  std::string commit = "unknown";
  std::string command = "cluster_load";
  // Exploration runs (no results file): only the paced phase, and the
  // nodes' block.interval_ms (0 = the default).
  bool paced_only = false;
  uint64_t interval_ms = 0;
};

std::string Row(const std::string& system, const std::string& mode,
                uint64_t rate, uint64_t submitted, uint64_t failed,
                uint64_t committed, double per_s, double p50, double p99,
                double max, const CpuShare& cpu) {
  return absl::StrCat(
      "| ", system, " | ", mode, " | ",
      rate == 0 ? std::string("max") : absl::StrCat(rate), " | ", submitted,
      " | ", failed, " | ", committed, " | ",
      absl::StrFormat("%.0f | %.1f | %.1f | %.1f | %.0f | %.0f", per_s, p50,
                      p99, max, cpu.busy_pct, cpu.steal_pct),
      " |\n");
}

std::string Report(const Flags& f, const std::vector<PhaseResult>& ve,
                   const std::vector<PutPhaseResult>& etcd,
                   size_t value_bytes) {
  std::string md = "# Cluster benchmark: 3-node ve-node vs 3-member etcd\n\n";
  absl::StrAppend(
      &md, "- command: `", f.command, "`\n- commit: ", f.commit,
      "\n- cores: ", std::thread::hardware_concurrency(), "\n- date: ",
      absl::FormatTime("%Y-%m-%d %H:%M UTC", absl::Now(), absl::UTCTimeZone()),
      "\n- ve-node: 3 voters on loopback (libraft over TCP, fsync on, RocksDB "
      "sync writes), clients spread over the 3 nodes (followers forward to "
      "the leader), pre-signed Ed25519 transfers, commit times from the "
      "leader's StreamEvents\n"
      "- etcd: 3.4 (Debian etcd-server), 3 members on loopback (fsync on), "
      "clients spread over the 3 members, one Put per call of ",
      value_bytes,
      " bytes (the size of one signed transfer), latency = Put round trip\n",
      "- same run, same client concurrency: ", f.clients, " clients\n\n");
  md +=
      "| system | mode | offered /s | submitted | failed | committed | "
      "committed /s | p50 ms | p99 ms | max ms | cpu busy % | steal % |\n";
  md += "|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const PhaseResult& p : ve) {
    md += Row("ve-node", p.mode, p.offered_rate, p.submitted, p.rejected,
              p.committed, p.tx_per_s, p.p50_ms, p.p99_ms, p.max_ms, p.cpu);
  }
  for (const PutPhaseResult& p : etcd) {
    md += Row("etcd", "put", p.offered_rate, p.submitted, p.failed, p.committed,
              p.puts_per_s, p.p50_ms, p.p99_ms, p.max_ms, p.cpu);
  }
  auto find_ve = [&](const std::string& mode,
                     uint64_t rate) -> const PhaseResult* {
    for (const PhaseResult& p : ve) {
      if (p.mode == mode && p.offered_rate == rate) return &p;
    }
    return nullptr;
  };
  const PhaseResult* single = find_ve("single", 0);
  const PhaseResult* batch = find_ve("batch", 0);
  const PhaseResult* paced = find_ve("single", f.paced);
  const PutPhaseResult* etcd_max = nullptr;
  const PutPhaseResult* etcd_paced = nullptr;
  for (const PutPhaseResult& p : etcd) {
    if (p.offered_rate == 0) etcd_max = &p;
    if (p.offered_rate == f.paced) etcd_paced = &p;
  }
  const double etcd_rate = etcd_max != nullptr ? etcd_max->puts_per_s : 0;
  auto ratio = [&](const PhaseResult* p) {
    return p != nullptr && etcd_rate > 0 ? p->tx_per_s / etcd_rate : 0.0;
  };
  absl::StrAppend(
      &md,
      "\nTargets (issue 5): ≥ 15,000 committed tx/s; ≥ 1.0× etcd's "
      "puts/s; p99 ≤ 20 ms at ",
      f.paced, " tx/s offered.\n\n",
      absl::StrFormat(
          "- committed tx/s: %.0f batched, %.0f one per call — target %s\n"
          "- ratio to etcd (%.0f puts/s): %.2f× batched, %.2f× one per call "
          "— target %s\n"
          "- p99 at %d tx/s offered: %.1f ms (etcd: %.1f ms) — target %s\n",
          batch != nullptr ? batch->tx_per_s : 0,
          single != nullptr ? single->tx_per_s : 0,
          (batch != nullptr && batch->tx_per_s >= 15000) ? "met" : "NOT met",
          etcd_rate, ratio(batch), ratio(single),
          std::max(ratio(batch), ratio(single)) >= 1.0 ? "met (batched)"
                                                       : "NOT met",
          f.paced, paced != nullptr ? paced->p99_ms : 0,
          etcd_paced != nullptr ? etcd_paced->p99_ms : 0,
          (paced != nullptr && paced->p99_ms <= 20) ? "met" : "NOT met"));
  for (const PhaseResult& p : ve) {
    if (!p.first_error.empty()) {
      absl::StrAppend(&md, "\nFirst ve-node refusal in ", p.mode, ": `",
                      p.first_error, "`\n");
    }
  }
  for (const PutPhaseResult& p : etcd) {
    if (!p.first_error.empty()) {
      absl::StrAppend(&md, "\nFirst etcd failure: `", p.first_error, "`\n");
    }
  }
  md += "\n```json\n{\n";
  absl::StrAppend(&md, "  \"cores\": ", std::thread::hardware_concurrency(),
                  ",\n  \"clients\": ", f.clients,
                  ",\n  \"value_bytes\": ", value_bytes);
  for (const PhaseResult& p : ve) {
    const std::string k = p.offered_rate == 0
                              ? p.mode
                              : absl::StrCat(p.mode, "_at_", p.offered_rate);
    absl::StrAppend(
        &md,
        absl::StrFormat(",\n  \"%s_committed_tx_per_s\": %.1f,\n"
                        "  \"%s_p50_commit_ms\": %.2f,\n"
                        "  \"%s_p99_commit_ms\": %.2f,\n"
                        "  \"%s_committed_txs\": %d,\n"
                        "  \"%s_rejected_txs\": %d,\n"
                        "  \"%s_cpu_busy_pct\": %.1f,\n"
                        "  \"%s_cpu_steal_pct\": %.1f",
                        k, p.tx_per_s, k, p.p50_ms, k, p.p99_ms, k, p.committed,
                        k, p.rejected, k, p.cpu.busy_pct, k, p.cpu.steal_pct));
  }
  for (const PutPhaseResult& p : etcd) {
    const std::string k =
        p.offered_rate == 0 ? "etcd" : absl::StrCat("etcd_at_", p.offered_rate);
    absl::StrAppend(
        &md, absl::StrFormat(",\n  \"%s_puts_per_s\": %.1f,\n"
                             "  \"%s_p50_put_ms\": %.2f,\n"
                             "  \"%s_p99_put_ms\": %.2f,\n"
                             "  \"%s_committed_puts\": %d,\n"
                             "  \"%s_failed_puts\": %d,\n"
                             "  \"%s_cpu_busy_pct\": %.1f,\n"
                             "  \"%s_cpu_steal_pct\": %.1f",
                             k, p.puts_per_s, k, p.p50_ms, k, p.p99_ms, k,
                             p.committed, k, p.failed, k, p.cpu.busy_pct, k,
                             p.cpu.steal_pct));
  }
  absl::StrAppend(&md,
                  absl::StrFormat(",\n  \"ratio_batch_to_etcd\": %.3f,\n"
                                  "  \"ratio_single_to_etcd\": %.3f\n}\n```\n",
                                  ratio(batch), ratio(single)));
  return md;
}

int Usage() {
  std::cerr << "usage: cluster_load [--out FILE] [--accounts N] [--txs N] "
               "[--clients N] [--batch N]\n"
               "                    [--paced TXS] [--etcd PATH] [--workdir "
               "DIR] [--commit SHA]\n";
  return 2;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() % 2 != 0) return Usage();
  Flags f;
  for (size_t i = 0; i < args.size(); i += 2) {
    const std::string& k = args[i];
    const std::string& v = args[i + 1];
    absl::StrAppend(&f.command, " ", k, " ", v);
    uint64_t n = 0;
    const bool num = absl::SimpleAtoi(v, &n);
    if (k == "--out") {
      f.out = v;
    } else if (k == "--etcd") {
      f.etcd = v;
    } else if (k == "--workdir") {
      f.workdir = v;
    } else if (k == "--commit") {
      f.commit = v;
    } else if (k == "--paced" && num) {
      f.paced = n;
    } else if (k == "--paced-only" && (v == "true" || v == "false")) {
      f.paced_only = v == "true";
    } else if (k == "--interval-ms" && num && n <= 60000) {
      f.interval_ms = n;
    } else if (num && n > 0 && n < (1u << 30) &&
               (k == "--accounts" || k == "--txs" || k == "--clients" ||
                k == "--batch")) {
      const auto u = static_cast<uint32_t>(n);
      if (k == "--accounts") f.accounts = u;
      if (k == "--txs") f.txs = u;
      if (k == "--clients") f.clients = u;
      if (k == "--batch") f.batch = u;
    } else {
      return Usage();
    }
  }
  if (f.workdir.empty()) {
    f.workdir = absl::StrCat("/tmp/ve-cluster-bench-", ::getpid());
  }
  ::mkdir(f.workdir.c_str(), 0700);
  ::mkdir((f.workdir + "/ve").c_str(), 0700);

  // The value size etcd puts: one signed transfer.
  absl::StatusOr<crypto::Ed25519PrivateKey> key0 = AccountKey(0);
  absl::StatusOr<std::string> addr1 = AccountAddress(1);
  if (!key0.ok() || !addr1.ok()) return 1;
  absl::StatusOr<Transfer> sample =
      MakeTransfer(*key0, *addr1, 1, 1, "uve", 0, "itest");
  if (!sample.ok()) return 1;
  const size_t value_bytes = sample->raw.size();

  // 1. ve-node.
  std::vector<PhaseResult> ve;
  {
    absl::StatusOr<std::vector<testing::NodeHome>> homes = testing::InitCluster(
        f.workdir + "/ve", 3, f.accounts, 1'000'000'000'000, {});
    if (!homes.ok()) {
      std::cerr << "cluster_load: init: " << homes.status() << "\n";
      return 1;
    }
    std::vector<std::unique_ptr<testing::NodeProcess>> nodes;
    Options o;
    for (const testing::NodeHome& h : *homes) {
      if (f.interval_ms > 0) {
        const std::string path = h.dir + "/config/node.conf";
        std::stringstream text;
        text << std::ifstream(path).rdbuf();
        const std::string conf =
            std::regex_replace(text.str(), std::regex("interval_ms: [0-9]+"),
                               absl::StrCat("interval_ms: ", f.interval_ms));
        std::ofstream(path, std::ios::trunc) << conf;
      }
      absl::StatusOr<std::unique_ptr<testing::NodeProcess>> p =
          testing::NodeProcess::Start(h);
      if (!p.ok()) {
        std::cerr << "cluster_load: start: " << p.status() << "\n";
        return 1;
      }
      nodes.push_back(*std::move(p));
    }
    for (auto& n : nodes) {
      if (absl::Status s = n->WaitServing(60); !s.ok()) {
        std::cerr << "cluster_load: " << s << "\n";
        return 1;
      }
    }
    // nodes[0] of the options is the leader: its event stream times commits.
    int leader = -1;
    for (int tries = 0; tries < 300 && leader < 0; ++tries) {
      for (size_t i = 0; i < nodes.size(); ++i) {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(1));
        node::v1::StatusResponse r;
        if (nodes[i]->stub().Status(&ctx, {}, &r).ok() && r.is_leader()) {
          leader = static_cast<int>(i);
        }
      }
      if (leader < 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (leader < 0) {
      std::cerr << "cluster_load: no leader\n";
      return 1;
    }
    o.nodes.push_back((*homes)[static_cast<size_t>(leader)].grpc);
    for (size_t i = 0; i < homes->size(); ++i) {
      if (static_cast<int>(i) != leader) o.nodes.push_back((*homes)[i].grpc);
    }
    o.accounts = f.accounts;
    o.txs = f.txs;
    o.clients = f.clients;
    o.batch = f.batch;
    for (const std::string mode : {"single", "batch"}) {
      if (f.paced_only) break;
      absl::StatusOr<PhaseResult> r = RunPhase(o, mode, 0);
      if (!r.ok()) {
        std::cerr << "cluster_load: ve-node " << mode << ": " << r.status()
                  << "\n";
        return 1;
      }
      std::cerr << absl::StrFormat(
          "ve-node %s: %d committed, %d rejected, %.0f tx/s, p50 %.1f ms, "
          "p99 %.1f ms\n",
          mode, r->committed, r->rejected, r->tx_per_s, r->p50_ms, r->p99_ms);
      ve.push_back(*std::move(r));
    }
    if (f.paced > 0) {
      Options paced = o;
      paced.txs =
          std::min<uint32_t>(o.txs, static_cast<uint32_t>(f.paced * 10));
      absl::StatusOr<PhaseResult> r = RunPhase(paced, "single", f.paced);
      if (!r.ok()) {
        std::cerr << "cluster_load: ve-node paced: " << r.status() << "\n";
        return 1;
      }
      std::cerr << absl::StrFormat("ve-node paced %d: p99 %.1f ms\n", f.paced,
                                   r->p99_ms);
      ve.push_back(*std::move(r));
    }
    for (auto& n : nodes) n->Terminate();
  }
  if (f.paced_only) {
    for (const PhaseResult& r : ve) {
      std::cerr << absl::StrFormat(
          "paced-only: interval_ms %d: %d committed, p50 %.1f ms, p99 %.1f "
          "ms, max %.1f ms, cpu busy %.0f %%, steal %.0f %%\n",
          f.interval_ms, r.committed, r.p50_ms, r.p99_ms, r.max_ms,
          r.cpu.busy_pct, r.cpu.steal_pct);
    }
    return 0;
  }

  // 2. etcd, same shape and concurrency.
  std::vector<PutPhaseResult> etcd;
  {
    absl::StatusOr<std::unique_ptr<EtcdCluster>> c =
        EtcdCluster::Start(f.workdir + "/etcd", 3, f.etcd);
    if (!c.ok()) {
      std::cerr << "cluster_load: etcd: " << c.status() << "\n";
      return 1;
    }
    if (absl::Status s = (*c)->WaitHealthy(60); !s.ok()) {
      std::cerr << "cluster_load: " << s << "\n";
      return 1;
    }
    absl::StatusOr<PutPhaseResult> r =
        RunPutPhase((*c)->endpoints(), f.clients, f.txs, value_bytes, 0);
    if (!r.ok()) {
      std::cerr << "cluster_load: etcd: " << r.status() << "\n";
      return 1;
    }
    std::cerr << absl::StrFormat(
        "etcd: %d committed, %d failed, %.0f puts/s, p50 %.1f ms, p99 %.1f "
        "ms\n",
        r->committed, r->failed, r->puts_per_s, r->p50_ms, r->p99_ms);
    etcd.push_back(*std::move(r));
    if (f.paced > 0) {
      absl::StatusOr<PutPhaseResult> p = RunPutPhase(
          (*c)->endpoints(), f.clients,
          std::min<uint32_t>(f.txs, static_cast<uint32_t>(f.paced * 10)),
          value_bytes, f.paced);
      if (!p.ok()) {
        std::cerr << "cluster_load: etcd paced: " << p.status() << "\n";
        return 1;
      }
      etcd.push_back(*std::move(p));
    }
  }
  const std::string md = Report(f, ve, etcd, value_bytes);
  if (f.out.empty()) {
    std::cout << md;
  } else {
    std::ofstream(f.out) << md;  // a benchmark artefact path given by the
                                 // operator
  }
  return 0;
}

}  // namespace
}  // namespace virtengine::loadgen

int main(int argc, char** argv) {
  virtengine::loadgen::SkipMutexDeadlockDetection();
  return virtengine::loadgen::Main(argc, argv);
}
