#ifndef VIRTENGINE_TESTS_INTEGRATION_NODE_PROCESS_H_
#define VIRTENGINE_TESTS_INTEGRATION_NODE_PROCESS_H_

// Test scaffolding: a ve-node home with loadgen accounts funded at genesis,
// free loopback ports, and a ve-node child process (spawned by
// node_process_test_util.cc — test-only code, the one place tests start
// daemons).

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/api/node/v1/node.grpc.pb.h"

namespace virtengine::testing {

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();

// $TEST_TMPDIR/name (or /tmp/name), created 0700 when missing.
std::string TestDir(const std::string& name);
// A client deadline `seconds` from now.
std::chrono::system_clock::time_point In(int seconds);

struct NodeHome {
  std::string dir;                  // the --home
  std::string pass_file;            // node key passphrase (0600)
  std::string grpc, raft, metrics;  // host:port
  std::string chain_id = "itest";
  uint64_t raft_id = 1;
  std::string node_key_hex;  // printed by ve-node init
  // The node's TPM ("swtpm:host=..,port=N"); empty: --insecure-no-tpm.
  std::string tpm_tcti;
};

struct NodeAddresses {
  std::string grpc, raft, metrics;  // host:port; empty: a free loopback port
};

// What a cluster node's `ve-node init` adds to a single node's.
struct InitExtras {
  NodeAddresses addresses;
  uint64_t raft_id = 1;
  std::vector<std::string> operators;  // --operator
  bool join = false;                   // --join true
  std::string name = "node";           // home dir name under `base`
};

// Runs `ve-node init` for a new home under `base`, funding loadgen
// accounts 0..accounts-1 and `extra_accounts` with `amount` uve each.
absl::StatusOr<NodeHome> InitNode(
    const std::string& base, uint32_t accounts,
    const std::vector<std::string>& extra_accounts, uint64_t amount,
    const InitExtras& extras = {});

// `n` homes forming one cluster (raft ids 1..n) under base/n1..: node 1's
// genesis funds the loadgen accounts and names the operators, lists every
// node as a voter, and is imported by the others.
absl::StatusOr<std::vector<NodeHome>> InitCluster(
    const std::string& base, int n, uint32_t accounts, uint64_t amount,
    const std::vector<std::string>& operators);

// A home joining `cluster` later (--join true, the cluster's genesis).
absl::StatusOr<NodeHome> InitJoiner(const std::string& base,
                                    const NodeHome& cluster, uint64_t raft_id);

// Runs a program to completion; returns its exit status (or -signal).
int RunProgram(const std::vector<std::string>& argv, std::string* output);

class NodeProcess {
 public:
  static absl::StatusOr<std::unique_ptr<NodeProcess>> Start(
      const NodeHome& home);
  ~NodeProcess();
  // Waits until Status answers and this node leads (UNAVAILABLE after
  // `seconds`).
  absl::Status WaitReady(int seconds);
  // Waits until Status answers and names a leader (any node).
  absl::Status WaitServing(int seconds);
  void Kill();      // SIGKILL and reap
  int Terminate();  // SIGTERM, reap, return the exit status
  pid_t pid() const { return pid_; }
  node::v1::Node::Stub& stub() { return *stub_; }
  const std::string& log_path() const { return log_; }

 private:
  friend absl::StatusOr<std::unique_ptr<NodeProcess>> StartNodeWithPrefix(
      const NodeHome& home, const std::vector<std::string>& prefix);
  NodeProcess() = default;
  absl::Status WaitStatus(int seconds,
                          bool (*ok)(const node::v1::StatusResponse&));
  pid_t pid_ = -1;
  std::string log_;
  std::unique_ptr<node::v1::Node::Stub> stub_;
};

// ---- added for tests/chaos and tests/load/cluster_load ---------------------

// The listen addresses of one cluster node.
// As InitCluster, with the addresses given (e.g. one network namespace per
// node: tests/chaos/netns.h). Homes under base/n1.., raft ids 1..n.
absl::StatusOr<std::vector<NodeHome>> InitClusterAt(
    const std::string& base, const std::vector<NodeAddresses>& addresses,
    uint32_t accounts, uint64_t amount,
    const std::vector<std::string>& operators = {});

// Starts `argv` (argv[0] absolute; no shell) in the background with stdout
// and stderr appended to `log`: helper daemons of tests and benchmarks
// (probes, etcd). ReapDaemon waits for it and returns its exit status (or
// -signal).
absl::StatusOr<pid_t> SpawnDaemon(const std::vector<std::string>& argv,
                                  const std::string& log);
int ReapDaemon(pid_t pid);

// NodeProcess::Start with `prefix` before the ve-node argv, e.g.
// {"/usr/bin/ip", "netns", "exec", NS} (which execs ve-node in place, so
// pid() is ve-node's).
absl::StatusOr<std::unique_ptr<NodeProcess>> StartNodeWithPrefix(
    const NodeHome& home, const std::vector<std::string>& prefix);

// The gRPC target of a node's admin socket (<home>/admin.sock): through a
// directory descriptor this process keeps open when the path is longer
// than a Unix socket address holds (Bazel's TEST_TMPDIR usually is).
std::string AdminTarget(const NodeHome& home);

// The node's Status (an empty response when it does not answer within 5 s;
// waits for a node started a moment ago).
node::v1::StatusResponse StatusOf(NodeProcess& node);

// Path of a binary in the test's runfiles, e.g. "src/node/ve-node".
std::string Runfile(const std::string& rel);

}  // namespace virtengine::testing

#endif  // VIRTENGINE_TESTS_INTEGRATION_NODE_PROCESS_H_
