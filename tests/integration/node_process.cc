#include "tests/integration/node_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "tests/load/loadgen.h"

extern char** environ;

namespace virtengine::testing {

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

std::string TestDir(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  std::string dir = absl::StrCat(t != nullptr ? t : "/tmp", "/", name);
  ::mkdir(dir.c_str(), 0700);
  return dir;
}

std::chrono::system_clock::time_point In(int seconds) {
  return std::chrono::system_clock::now() + std::chrono::seconds(seconds);
}

node::v1::StatusResponse StatusOf(NodeProcess& node) {
  grpc::ClientContext ctx;
  ctx.set_deadline(In(5));
  ctx.set_wait_for_ready(true);
  node::v1::StatusResponse r;
  node.stub().Status(&ctx, {}, &r);
  return r;
}

std::string AdminTarget(const NodeHome& home) {
  const std::string path = home.dir + "/admin.sock";
  if (path.size() <= 107) return "unix:" + path;
  // Test-only: the descriptor stays open for the process's lifetime.
  const int fd = ::open(home.dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  return absl::StrCat("unix:/proc/self/fd/", fd, "/admin.sock");
}

std::string Runfile(const std::string& rel) {
  const char* srcdir =
      std::getenv("TEST_SRCDIR");  // NOLINT(concurrency-mt-unsafe)
  const char* ws =
      std::getenv("TEST_WORKSPACE");  // NOLINT(concurrency-mt-unsafe)
  return absl::StrCat(srcdir != nullptr ? srcdir : ".", "/",
                      ws != nullptr ? ws : "virtengine", "/", rel);
}

namespace {

// Spawns argv[0] (an absolute path; no shell, no PATH search) with stdout
// and stderr going to `log` (appended).
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv,
                            const std::string& log) {
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    return absl::InternalError(
        absl::StrCat("posix_spawn ", argv[0], ": errno ", rc));
  }
  return pid;
}

int Reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return -1000;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int RunProgram(const std::vector<std::string>& argv, std::string* output) {
  static int counter = 0;
  const char* tmp =
      std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  const std::string log = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/run-",
                                       ::getpid(), "-", ++counter, ".out");
  absl::StatusOr<pid_t> pid = Spawn(argv, log);
  if (!pid.ok()) return -2000;
  const int rc = Reap(*pid);
  if (output != nullptr) *output = ReadAll(log);
  return rc;
}

absl::StatusOr<NodeHome> InitNode(
    const std::string& base, uint32_t accounts,
    const std::vector<std::string>& extra_accounts, uint64_t amount,
    const InitExtras& extras) {
  NodeHome h;
  h.dir = base + "/" + extras.name;
  h.pass_file = base + "/" + extras.name + ".pass";
  h.raft_id = extras.raft_id;
  { std::ofstream(h.pass_file) << "integration test passphrase\n"; }
  ::chmod(h.pass_file.c_str(), 0600);
  const auto pick = [](const std::string& given) {
    return given.empty() ? absl::StrCat("127.0.0.1:", FreePort()) : given;
  };
  h.grpc = pick(extras.addresses.grpc);
  h.raft = pick(extras.addresses.raft);
  h.metrics = pick(extras.addresses.metrics);
  std::vector<std::string> argv = {Runfile("src/node/ve-node"),
                                   "init",
                                   "--chain-id",
                                   h.chain_id,
                                   "--home",
                                   h.dir,
                                   "--passphrase-file",
                                   h.pass_file,
                                   "--grpc-address",
                                   h.grpc,
                                   "--raft-address",
                                   h.raft,
                                   "--metrics-address",
                                   h.metrics,
                                   "--raft-id",
                                   absl::StrCat(h.raft_id)};
  for (const std::string& op : extras.operators) {
    argv.push_back("--operator");
    argv.push_back(op);
  }
  if (extras.join) {
    argv.push_back("--join");
    argv.push_back("true");
  }
  for (uint32_t i = 0; i < accounts; ++i) {
    absl::StatusOr<std::string> a = loadgen::AccountAddress(i);
    if (!a.ok()) return a.status();
    argv.push_back("--genesis-account");
    argv.push_back(absl::StrCat(*a, "=", amount, "uve"));
  }
  for (const std::string& a : extra_accounts) {
    argv.push_back("--genesis-account");
    argv.push_back(absl::StrCat(a, "=", amount, "uve"));
  }
  std::string out;
  const int rc = RunProgram(argv, &out);
  if (rc != 0) {
    return absl::InternalError(
        absl::StrCat("ve-node init exited ", rc, ": ", out));
  }
  constexpr char kKeyLine[] = "node_public_key: ";
  const size_t at = out.find(kKeyLine);
  if (at == std::string::npos) {
    return absl::InternalError("ve-node init printed no node key: " + out);
  }
  h.node_key_hex = out.substr(at + sizeof(kKeyLine) - 1, 64);
  return h;
}

namespace {

absl::Status RunVeNode(std::vector<std::string> args) {
  args.insert(args.begin(), Runfile("src/node/ve-node"));
  std::string out;
  const int rc = RunProgram(args, &out);
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("ve-node ", args[1], " ", args[2],
                                            " exited ", rc, ": ", out));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<NodeHome>> InitCluster(
    const std::string& base, int n, uint32_t accounts, uint64_t amount,
    const std::vector<std::string>& operators) {
  return InitClusterAt(base, std::vector<NodeAddresses>(static_cast<size_t>(n)),
                       accounts, amount, operators);
}

absl::StatusOr<NodeHome> InitJoiner(const std::string& base,
                                    const NodeHome& cluster, uint64_t raft_id) {
  InitExtras x;
  x.raft_id = raft_id;
  x.join = true;
  x.name = absl::StrCat("n", raft_id);
  absl::StatusOr<NodeHome> h = InitNode(base, 0, {}, 1, x);
  if (!h.ok()) return h.status();
  if (absl::Status s =
          RunVeNode({"genesis", "import", "--home", h->dir, "--file",
                     cluster.dir + "/config/genesis.json"});
      !s.ok()) {
    return s;
  }
  return h;
}

namespace {

// `prefix` (ending in the ve-node binary) + "start" and its flags.
std::vector<std::string> StartArgs(std::vector<std::string> prefix,
                                   const NodeHome& home) {
  for (const std::string& a :
       {std::string("start"), std::string("--home"), home.dir,
        std::string("--passphrase-file"), home.pass_file,
        std::string("--log-level"), std::string("info")}) {
    prefix.push_back(a);
  }
  if (home.tpm_tcti.empty()) {
    prefix.emplace_back("--insecure-no-tpm");
  } else {
    prefix.emplace_back("--tpm-tcti");
    prefix.push_back(home.tpm_tcti);
  }
  return prefix;
}

}  // namespace

absl::StatusOr<std::unique_ptr<NodeProcess>> NodeProcess::Start(
    const NodeHome& home) {
  std::unique_ptr<NodeProcess> p(new NodeProcess());
  p->log_ = home.dir + ".log";
  absl::StatusOr<pid_t> pid =
      Spawn(StartArgs({Runfile("src/node/ve-node")}, home), p->log_);
  if (!pid.ok()) return pid.status();
  p->pid_ = *pid;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  p->stub_ = node::v1::Node::NewStub(grpc::CreateCustomChannel(
      home.grpc, grpc::InsecureChannelCredentials(), args));
  return p;
}

NodeProcess::~NodeProcess() {
  if (pid_ > 0) Kill();
}

absl::Status NodeProcess::WaitReady(int seconds) {
  return WaitStatus(
      seconds, [](const node::v1::StatusResponse& r) { return r.is_leader(); });
}

absl::Status NodeProcess::WaitServing(int seconds) {
  return WaitStatus(seconds, [](const node::v1::StatusResponse& r) {
    return r.leader_id() != 0;
  });
}

absl::Status NodeProcess::WaitStatus(
    int seconds, bool (*ok)(const node::v1::StatusResponse&)) {
  const auto until =
      std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < until) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::InternalError("ve-node exited during start-up: " +
                                 ReadAll(log_));
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(1));
    node::v1::StatusResponse r;
    if (stub_->Status(&ctx, {}, &r).ok() && ok(r)) return absl::OkStatus();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return absl::UnavailableError("ve-node not ready: " + ReadAll(log_));
}

void NodeProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  Reap(pid_);
  pid_ = -1;
}

int NodeProcess::Terminate() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  const int rc = Reap(pid_);
  pid_ = -1;
  return rc;
}

// ---- added for tests/chaos and tests/load/cluster_load ---------------------

absl::StatusOr<std::vector<NodeHome>> InitClusterAt(
    const std::string& base, const std::vector<NodeAddresses>& addresses,
    uint32_t accounts, uint64_t amount,
    const std::vector<std::string>& operators) {
  std::vector<NodeHome> homes;
  for (size_t i = 0; i < addresses.size(); ++i) {
    InitExtras x;
    x.raft_id = i + 1;
    x.name = absl::StrCat("n", i + 1);
    x.addresses = addresses[i];
    if (i == 0) x.operators = operators;
    absl::StatusOr<NodeHome> h =
        InitNode(base, i == 0 ? accounts : 0, {}, amount, x);
    if (!h.ok()) return h.status();
    homes.push_back(*std::move(h));
  }
  for (size_t i = 1; i < homes.size(); ++i) {
    const NodeHome& h = homes[i];
    if (absl::Status s = RunVeNode(
            {"genesis", "add-voter", "--home", homes[0].dir, "--raft-id",
             absl::StrCat(h.raft_id), "--raft-address", h.raft,
             "--grpc-address", h.grpc, "--node-key", h.node_key_hex});
        !s.ok()) {
      return s;
    }
  }
  for (size_t i = 1; i < homes.size(); ++i) {
    if (absl::Status s =
            RunVeNode({"genesis", "import", "--home", homes[i].dir, "--file",
                       homes[0].dir + "/config/genesis.json"});
        !s.ok()) {
      return s;
    }
  }
  return homes;
}

absl::StatusOr<pid_t> SpawnDaemon(const std::vector<std::string>& argv,
                                  const std::string& log) {
  return Spawn(argv, log);
}

int ReapDaemon(pid_t pid) { return Reap(pid); }

absl::StatusOr<std::unique_ptr<NodeProcess>> StartNodeWithPrefix(
    const NodeHome& home, const std::vector<std::string>& prefix) {
  std::unique_ptr<NodeProcess> p(new NodeProcess());
  p->log_ = home.dir + ".log";
  std::vector<std::string> argv = prefix;
  argv.push_back(Runfile("src/node/ve-node"));
  absl::StatusOr<pid_t> pid = Spawn(StartArgs(argv, home), p->log_);
  if (!pid.ok()) return pid.status();
  p->pid_ = *pid;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  p->stub_ = node::v1::Node::NewStub(grpc::CreateCustomChannel(
      home.grpc, grpc::InsecureChannelCredentials(), args));
  return p;
}

}  // namespace virtengine::testing
