#ifndef VIRTENGINE_TESTS_INTEGRATION_NODE_PROCESS_H_
#define VIRTENGINE_TESTS_INTEGRATION_NODE_PROCESS_H_

// Test scaffolding: a ve-node home with loadgen accounts funded at genesis,
// free loopback ports, and a ve-node child process (spawned by
// node_process_test_util.cc — test-only code, the one place tests start
// daemons).

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/api/node/v1/node.grpc.pb.h"

namespace virtengine::testing {

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();

struct NodeHome {
  std::string dir;                  // the --home
  std::string pass_file;            // node key passphrase (0600)
  std::string grpc, raft, metrics;  // host:port
  std::string chain_id = "itest";
};

// Runs `ve-node init` for a new home under `base`, funding loadgen
// accounts 0..accounts-1 and `extra_accounts` with `amount` uve each.
absl::StatusOr<NodeHome> InitNode(
    const std::string& base, uint32_t accounts,
    const std::vector<std::string>& extra_accounts, uint64_t amount);

// Runs a program to completion; returns its exit status (or -signal).
int RunProgram(const std::vector<std::string>& argv, std::string* output);

class NodeProcess {
 public:
  static absl::StatusOr<std::unique_ptr<NodeProcess>> Start(
      const NodeHome& home);
  ~NodeProcess();
  // Waits until Status answers (UNAVAILABLE after `seconds`).
  absl::Status WaitReady(int seconds);
  void Kill();      // SIGKILL and reap
  int Terminate();  // SIGTERM, reap, return the exit status
  pid_t pid() const { return pid_; }
  node::v1::Node::Stub& stub() { return *stub_; }
  const std::string& log_path() const { return log_; }

 private:
  NodeProcess() = default;
  pid_t pid_ = -1;
  std::string log_;
  std::unique_ptr<node::v1::Node::Stub> stub_;
};

// Path of a binary in the test's runfiles, e.g. "src/node/ve-node".
std::string Runfile(const std::string& rel);

}  // namespace virtengine::testing

#endif  // VIRTENGINE_TESTS_INTEGRATION_NODE_PROCESS_H_
