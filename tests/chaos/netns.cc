#include "tests/chaos/netns.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "tests/integration/node_process.h"

namespace virtengine::chaos {
namespace {

std::string TmpDir() {
  const char* t = std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  return t != nullptr ? t : "/tmp";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

absl::StatusOr<std::unique_ptr<exec::Runner>> MakeChaosRunner() {
  const std::string text =
      ReadFile(testing::Runfile("tests/chaos/testdata/netns.textproto"));
  if (text.empty()) {
    return absl::NotFoundError("tests/chaos/testdata/netns.textproto missing");
  }
  absl::StatusOr<exec::CommandPolicy> policy = exec::CommandPolicy::Parse(
      absl::StrReplaceAll(text, {{"@TMPDIR@", TmpDir()}}),
      "tests/chaos/testdata/netns.textproto");
  if (!policy.ok()) return policy.status();
  auto list = std::make_shared<exec::Allowlist>();
  if (absl::Status s = list->Add(*policy); !s.ok()) return s;
  exec::RunnerOptions options;
  options.trampoline_path =
      testing::Runfile("security/exec/ve-exec-trampoline");
  return exec::Runner::Create(std::move(list), options);
}

absl::StatusOr<std::string> RunChecked(const exec::Runner& runner,
                                       const std::string& id,
                                       const std::vector<std::string>& args) {
  absl::StatusOr<exec::Result> r = runner.Run(id, args);
  if (!r.ok()) return r.status();
  if (!r->exited || r->exit_code != 0) {
    return absl::InternalError(absl::StrCat(
        id, " ", absl::StrJoin(args, " "), ": exit ", r->exit_code, " signal ",
        r->signal, r->timed_out ? " (timed out)" : "", ": ", r->stderr_bytes));
  }
  return r->stdout_bytes;
}

bool CanUseNetns() {
  return ::geteuid() == 0 && ::access("/usr/bin/ip", X_OK) == 0;
}

absl::StatusOr<std::unique_ptr<NetTopology>> NetTopology::Create(
    const exec::Runner* runner, int nodes) {
  if (nodes < 2 || nodes > 9) {
    return absl::InvalidArgumentError("NetTopology: 2..9 nodes");
  }
  SweepStale(*runner);
  absl::StatusOr<std::string> routes =
      RunChecked(*runner, "chaos.route_show", {});
  if (!routes.ok()) return routes.status();
  int subnet = -1;
  for (int s = 0; s < 250; ++s) {
    if (routes->find(absl::StrCat("10.77.", s, ".")) == std::string::npos) {
      subnet = s;
      break;
    }
  }
  if (subnet < 0) {
    return absl::ResourceExhaustedError("no free 10.77.S.0/24 subnet");
  }
  std::unique_ptr<NetTopology> t(new NetTopology(
      runner, nodes, subnet, absl::StrCat(absl::Hex(::getpid()))));
  if (absl::Status s = t->Build(); !s.ok()) return s;  // ~NetTopology cleans
  return t;
}

std::string NetTopology::address(int i) const {
  return absl::StrCat("10.77.", subnet_, ".", i + 1);
}

std::string NetTopology::client_address() const {
  return absl::StrCat("10.77.", subnet_, ".254");
}

std::vector<std::string> NetTopology::ExecPrefix(int i) const {
  return {"/usr/bin/ip", "netns", "exec", ns_[i]};
}

std::string NetTopology::MeshDev(int from, int to) const {
  return absl::StrCat("vc", tag_, "m", from, to);
}

absl::Status NetTopology::Build() {
  const exec::Runner& r = *runner_;
  for (int i = 0; i < nodes_; ++i) {
    ns_.push_back(absl::StrCat("vc", tag_, "n", i));
    if (auto s = RunChecked(r, "chaos.netns_add", {ns_[i]}); !s.ok()) {
      return s.status();
    }
    created_ns_.push_back(ns_[i]);
    if (auto s = RunChecked(r, "chaos.ns_link_state", {ns_[i], "lo", "up"});
        !s.ok()) {
      return s.status();
    }
    if (auto s = RunChecked(r, "chaos.ns_addr_add",
                            {ns_[i], address(i) + "/32", "lo"});
        !s.ok()) {
      return s.status();
    }
  }
  for (int i = 0; i < nodes_; ++i) {
    for (int j = i + 1; j < nodes_; ++j) {
      const std::string a = MeshDev(i, j), b = MeshDev(j, i);
      if (auto s = RunChecked(r, "chaos.veth_add", {a, b}); !s.ok()) {
        return s.status();
      }
      for (auto [dev, k] : {std::pair<std::string, int>{a, i}, {b, j}}) {
        if (auto s = RunChecked(r, "chaos.link_netns", {dev, ns_[k]});
            !s.ok()) {
          return s.status();
        }
      }
      if (absl::Status s = SetLink(i, j, true); !s.ok()) return s;
    }
    // The client link.
    const std::string root_end = absl::StrCat("vc", tag_, "c", i);
    const std::string ns_end = absl::StrCat("vc", tag_, "k", i);
    std::vector<std::pair<std::string, std::vector<std::string>>> steps = {
        {"chaos.veth_add", {root_end, ns_end}},
        {"chaos.link_netns", {ns_end, ns_[i]}},
        {"chaos.ns_link_state", {ns_[i], ns_end, "up"}},
        {"chaos.link_state", {root_end, "up"}},
        {"chaos.addr_add", {client_address() + "/32", root_end}},
        {"chaos.route_replace",
         {address(i) + "/32", root_end, client_address()}},
        {"chaos.ns_route_replace",
         {ns_[i], client_address() + "/32", ns_end, address(i)}},
    };
    for (const auto& [id, args] : steps) {
      if (auto s = RunChecked(r, id, args); !s.ok()) return s.status();
    }
  }
  return absl::OkStatus();
}

absl::Status NetTopology::SetLink(int a, int b, bool up) {
  const exec::Runner& r = *runner_;
  const char* state = up ? "up" : "down";
  for (auto [x, y] : {std::pair<int, int>{a, b}, {b, a}}) {
    if (auto s = RunChecked(r, "chaos.ns_link_state",
                            {ns_[x], MeshDev(x, y), state});
        !s.ok()) {
      return s.status();
    }
  }
  if (!up) return absl::OkStatus();
  // Setting a link down drops its routes: put them back.
  for (auto [x, y] : {std::pair<int, int>{a, b}, {b, a}}) {
    if (auto s =
            RunChecked(r, "chaos.ns_route_replace",
                       {ns_[x], address(y) + "/32", MeshDev(x, y), address(x)});
        !s.ok()) {
      return s.status();
    }
  }
  return absl::OkStatus();
}

absl::Status NetTopology::Cut(int a, int b) {
  if (a == b || a < 0 || b < 0 || a >= nodes_ || b >= nodes_) {
    return absl::InvalidArgumentError("NetTopology::Cut: bad link");
  }
  if (absl::Status s = SetLink(std::min(a, b), std::max(a, b), false);
      !s.ok()) {
    return s;
  }
  cut_.insert({std::min(a, b), std::max(a, b)});
  return absl::OkStatus();
}

absl::Status NetTopology::Heal(int a, int b) {
  if (a == b || a < 0 || b < 0 || a >= nodes_ || b >= nodes_) {
    return absl::InvalidArgumentError("NetTopology::Heal: bad link");
  }
  if (absl::Status s = SetLink(std::min(a, b), std::max(a, b), true); !s.ok()) {
    return s;
  }
  cut_.erase({std::min(a, b), std::max(a, b)});
  return absl::OkStatus();
}

bool NetTopology::IsCut(int a, int b) const {
  return cut_.count({std::min(a, b), std::max(a, b)}) > 0;
}

absl::Status NetTopology::Partition(const std::set<int>& side) {
  for (int i : side) {
    for (int j = 0; j < nodes_; ++j) {
      if (side.count(j) == 0 && !IsCut(i, j)) {
        if (absl::Status s = Cut(i, j); !s.ok()) return s;
      }
    }
  }
  return absl::OkStatus();
}

absl::Status NetTopology::HealAll() {
  const std::set<std::pair<int, int>> cut = cut_;
  for (const auto& [a, b] : cut) {
    if (absl::Status s = Heal(a, b); !s.ok()) return s;
  }
  return absl::OkStatus();
}

NetTopology::~NetTopology() {
  for (const std::string& ns : created_ns_) {
    if (auto s = RunChecked(*runner_, "chaos.netns_del", {ns}); !s.ok()) {
      std::cerr << "netns cleanup: " << s.status() << "\n";
    }
  }
  // A client veth whose namespace end was never moved stays in the root
  // namespace: delete it (errors for already-gone links are expected).
  for (int i = 0; i < nodes_; ++i) {
    (void)runner_->Run("chaos.link_del", {absl::StrCat("vc", tag_, "c", i)});
  }
}

void NetTopology::SweepStale(const exec::Runner& runner) {
  absl::StatusOr<std::string> list = RunChecked(runner, "chaos.netns_list", {});
  if (!list.ok()) return;
  for (absl::string_view line : absl::StrSplit(*list, '\n')) {
    const std::string name(line.substr(0, line.find(' ')));
    if (name.size() < 5 || name.rfind("vc", 0) != 0) continue;
    const size_t n = name.rfind('n');
    if (n == std::string::npos || n <= 2) continue;
    uint64_t pid = 0;
    if (!absl::SimpleHexAtoi(name.substr(2, n - 2), &pid)) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    (void)runner.Run("chaos.netns_del", {name});
  }
}

absl::StatusOr<std::unique_ptr<Tmpfs>> Tmpfs::Mount(const exec::Runner* runner,
                                                    const std::string& dir,
                                                    int size_mb) {
  if (size_mb < 1 || size_mb > 4096) {
    return absl::InvalidArgumentError("Tmpfs: size 1..4096 MiB");
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::InternalError(absl::StrCat("mkdir ", dir, ": errno ", errno));
  }
  if (auto s = RunChecked(*runner, "chaos.mount_tmpfs",
                          {absl::StrCat("size=", size_mb, "m,mode=0700"), dir});
      !s.ok()) {
    return s.status();
  }
  return std::unique_ptr<Tmpfs>(new Tmpfs(runner, dir));
}

Tmpfs::~Tmpfs() {
  (void)Drain();
  if (auto s = RunChecked(*runner_, "chaos.umount", {dir_}); !s.ok()) {
    std::cerr << "tmpfs cleanup: " << s.status() << "\n";
  }
}

absl::Status Tmpfs::Fill(size_t leave_bytes) {
  const std::string path = dir_ + "/filler";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("open ", path, ": errno ", errno));
  }
  const std::string chunk(1 << 20, 'x');
  off_t total = ::lseek(fd, 0, SEEK_END);
  for (;;) {
    const ssize_t w = ::write(fd, chunk.data(), chunk.size());
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;  // ENOSPC (or a short write at the very end)
    total += w;
  }
  const off_t keep = total > static_cast<off_t>(leave_bytes)
                         ? total - static_cast<off_t>(leave_bytes)
                         : 0;
  const int rc = ::ftruncate(fd, keep);
  ::close(fd);
  if (rc != 0) return absl::InternalError("ftruncate filler");
  return absl::OkStatus();
}

absl::Status Tmpfs::Drain() {
  const std::string path = dir_ + "/filler";
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return absl::InternalError(absl::StrCat("unlink ", path));
  }
  return absl::OkStatus();
}

}  // namespace virtengine::chaos
