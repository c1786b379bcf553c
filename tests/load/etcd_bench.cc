#include "tests/load/etcd_bench.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "tests/integration/node_process.h"
#include "tests/load/etcdpb/kv.grpc.pb.h"
#include "tests/load/node_phase.h"

namespace virtengine::loadgen {
namespace {

using Clock = std::chrono::steady_clock;

std::unique_ptr<etcdserverpb::KV::Stub> KvStub(const std::string& endpoint) {
  return etcdserverpb::KV::NewStub(
      grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials()));
}

absl::StatusOr<int64_t> Put(etcdserverpb::KV::Stub& stub,
                            const std::string& key, const std::string& value,
                            int timeout_ms) {
  etcdserverpb::PutRequest req;
  req.set_key(key);
  req.set_value(value);
  etcdserverpb::PutResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(timeout_ms));
  const grpc::Status s = stub.Put(&ctx, req, &resp);
  if (!s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("etcd Put: ", s.error_code(), " ", s.error_message()));
  }
  return resp.header().revision();
}

}  // namespace

absl::StatusOr<int64_t> EtcdPut(const std::string& endpoint,
                                const std::string& key,
                                const std::string& value, int timeout_ms) {
  return Put(*KvStub(endpoint), key, value, timeout_ms);
}

absl::StatusOr<std::unique_ptr<EtcdCluster>> EtcdCluster::Start(
    const std::string& base, int members, const std::string& binary) {
  if (members < 1 || members > 7) {
    return absl::InvalidArgumentError("etcd: 1..7 members");
  }
  ::mkdir(base.c_str(), 0700);
  std::unique_ptr<EtcdCluster> c(new EtcdCluster());
  std::vector<std::string> peers;
  std::vector<std::string> initial;
  for (int i = 0; i < members; ++i) {
    c->endpoints_.push_back(absl::StrCat("127.0.0.1:", testing::FreePort()));
    peers.push_back(absl::StrCat("http://127.0.0.1:", testing::FreePort()));
    initial.push_back(absl::StrCat("e", i + 1, "=", peers.back()));
  }
  const std::string cluster = absl::StrJoin(initial, ",");
  for (int i = 0; i < members; ++i) {
    const std::string name = absl::StrCat("e", i + 1);
    const std::string client = "http://" + c->endpoints_[i];
    absl::StatusOr<pid_t> pid =
        testing::SpawnDaemon({binary,
                              "--name",
                              name,
                              "--data-dir",
                              absl::StrCat(base, "/", name),
                              "--listen-client-urls",
                              client,
                              "--advertise-client-urls",
                              client,
                              "--listen-peer-urls",
                              peers[i],
                              "--initial-advertise-peer-urls",
                              peers[i],
                              "--initial-cluster",
                              cluster,
                              "--initial-cluster-state",
                              "new",
                              "--initial-cluster-token",
                              "ve-bench",
                              "--logger",
                              "zap",
                              "--log-level",
                              "warn"},
                             absl::StrCat(base, "/", name, ".log"));
    if (!pid.ok()) return pid.status();
    c->pids_.push_back(*pid);
  }
  return c;
}

EtcdCluster::~EtcdCluster() {
  for (pid_t p : pids_) ::kill(p, SIGTERM);
  const auto until = Clock::now() + std::chrono::seconds(5);
  for (pid_t p : pids_) {
    int status = 0;
    while (::waitpid(p, &status, WNOHANG) == 0 && Clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (::kill(p, 0) == 0) {
      ::kill(p, SIGKILL);
      testing::ReapDaemon(p);
    }
  }
}

absl::Status EtcdCluster::WaitHealthy(int seconds) const {
  const auto until = Clock::now() + std::chrono::seconds(seconds);
  absl::Status last = absl::UnavailableError("not tried");
  for (const std::string& e : endpoints_) {
    auto stub = KvStub(e);
    for (;;) {
      absl::StatusOr<int64_t> r = Put(*stub, "ve-bench/health", "ok", 1000);
      if (r.ok()) break;
      last = r.status();
      if (Clock::now() >= until) {
        return absl::UnavailableError(
            absl::StrCat("etcd member ", e, " not healthy: ", last.message()));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<PutPhaseResult> RunPutPhase(
    const std::vector<std::string>& endpoints, uint32_t clients, uint32_t total,
    size_t value_bytes, uint64_t rate) {
  if (endpoints.empty() || clients == 0) {
    return absl::InvalidArgumentError("etcd phase: no endpoints or clients");
  }
  const uint32_t per_client = std::max<uint32_t>(1, total / clients);
  absl::Mutex mu;
  std::vector<double> latencies_ms;
  latencies_ms.reserve(static_cast<size_t>(per_client) * clients);
  uint64_t failed = 0;
  std::string first_error;
  Clock::time_point last_commit;
  const std::string value(value_bytes, 'v');
  const CpuMeter cpu;
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> threads;
  for (uint32_t c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      auto stub = KvStub(endpoints[c % endpoints.size()]);
      for (uint32_t i = 0; i < per_client; ++i) {
        if (rate > 0) {
          std::this_thread::sleep_until(PacedAt(start, i, c, clients, rate));
        }
        const Clock::time_point t0 = Clock::now();
        absl::StatusOr<int64_t> r =
            Put(*stub, absl::StrCat("bench/", c, "/", i), value, 60000);
        const Clock::time_point t1 = Clock::now();
        absl::MutexLock l(&mu);
        if (r.ok()) {
          latencies_ms.push_back(
              std::chrono::duration<double, std::milli>(t1 - t0).count());
          last_commit = std::max(last_commit, t1);
        } else {
          ++failed;
          if (first_error.empty()) first_error = r.status().ToString();
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  PutPhaseResult r;
  r.cpu = cpu.Read();
  r.offered_rate = rate;
  r.submitted = static_cast<uint64_t>(per_client) * clients;
  r.failed = failed;
  r.committed = latencies_ms.size();
  r.seconds = std::chrono::duration<double>(
                  (r.committed > 0 ? last_commit : Clock::now()) - start)
                  .count();
  r.puts_per_s =
      r.seconds > 0 ? static_cast<double>(r.committed) / r.seconds : 0;
  r.max_ms = latencies_ms.empty()
                 ? 0
                 : *std::max_element(latencies_ms.begin(), latencies_ms.end());
  r.p50_ms = Percentile(latencies_ms, 0.50);
  r.p99_ms = Percentile(latencies_ms, 0.99);
  r.first_error = first_error;
  return r;
}

}  // namespace virtengine::loadgen
