// The etcd side of the cluster benchmark (tests/load/cluster_load.cc): an
// etcd 3.4 cluster of real `etcd` processes on loopback (Debian
// etcd-server; fsync on, as etcd always does), and a put load through a
// minimal wire-compatible KV client (etcdpb/kv.proto).
#ifndef VIRTENGINE_TESTS_LOAD_ETCD_BENCH_H_
#define VIRTENGINE_TESTS_LOAD_ETCD_BENCH_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/load/node_phase.h"

namespace virtengine::loadgen {

class EtcdCluster {
 public:
  // Starts `members` etcd processes with data directories under `base`
  // (created), ports picked free on 127.0.0.1, logs in base/eN.log.
  static absl::StatusOr<std::unique_ptr<EtcdCluster>> Start(
      const std::string& base, int members,
      const std::string& binary = "/usr/bin/etcd");
  ~EtcdCluster();  // SIGTERM, then SIGKILL after 5 s; reaps
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  // "127.0.0.1:port" of each member's client URL.
  const std::vector<std::string>& endpoints() const { return endpoints_; }
  // Waits until a Put through every member succeeds.
  absl::Status WaitHealthy(int seconds) const;

 private:
  EtcdCluster() = default;
  std::vector<pid_t> pids_;
  std::vector<std::string> endpoints_;
};

// One Put (key, value) through `endpoint`; returns the revision.
absl::StatusOr<int64_t> EtcdPut(const std::string& endpoint,
                                const std::string& key,
                                const std::string& value, int timeout_ms);

struct PutPhaseResult {
  uint64_t offered_rate = 0;
  CpuShare cpu;
  uint64_t submitted = 0, failed = 0, committed = 0;
  double seconds = 0, puts_per_s = 0, p50_ms = 0, p99_ms = 0, max_ms = 0;
  std::string first_error;
};

// `clients` concurrent clients (client c on endpoints[c % n]) each Put
// their share of `total` values of `value_bytes`, one Put per call, as fast
// as possible or paced to `rate` puts/s in total; latency is the Put round
// trip (etcd answers after the entry is committed and applied).
absl::StatusOr<PutPhaseResult> RunPutPhase(
    const std::vector<std::string>& endpoints, uint32_t clients, uint32_t total,
    size_t value_bytes, uint64_t rate);

}  // namespace virtengine::loadgen

#endif  // VIRTENGINE_TESTS_LOAD_ETCD_BENCH_H_
