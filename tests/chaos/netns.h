// Network namespaces for chaos tests: each node of a test cluster runs in
// its own namespace; every pair of namespaces is joined by its own veth pair
// (a full mesh, so any single link can be cut), and each namespace has a
// client link to the root namespace, where the test process runs, that is
// never cut. Node i has address 10.77.S.(i+1) (on its loopback; host routes
// over the veths), the root namespace uses 10.77.S.254. S is 0 unless a
// route of 10.77.0.0/24 exists already (another run), then the next free S.
//
// Every command goes through security/exec's allowlisted runner
// (testdata/netns.textproto; test-only, never shipped). Names carry this
// process's pid ("vc<pid hex>n<i>"), so runs never collide; Create() first
// deletes namespaces left by runs whose process is gone (killed by a
// timeout), and the destructor deletes this run's namespaces (deleting a
// namespace destroys its veths and their peers, and with them the routes).
//
// Cutting a link sets the namespace ends of its veth pair down; healing
// sets them up again and restores the host routes. (sch_netem is not
// available on this kernel, so packet loss is not simulated: a cut link
// refuses at once on one side and drops silently on the other.)
#ifndef VIRTENGINE_TESTS_CHAOS_NETNS_H_
#define VIRTENGINE_TESTS_CHAOS_NETNS_H_

#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/exec/runner.h"

namespace virtengine::chaos {

// The runner of the chaos allowlist: tests/chaos/testdata/netns.textproto
// (with @TMPDIR@ = TEST_TMPDIR) and ve-exec-trampoline from the runfiles.
absl::StatusOr<std::unique_ptr<exec::Runner>> MakeChaosRunner();

// Runs an allowlisted command; INTERNAL with its stderr unless it exits 0.
absl::StatusOr<std::string> RunChecked(const exec::Runner& runner,
                                       const std::string& id,
                                       const std::vector<std::string>& args);

// True when this process may create network namespaces (root with
// CAP_SYS_ADMIN and CAP_NET_ADMIN): tests skip otherwise.
bool CanUseNetns();

class NetTopology {
 public:
  // Builds `nodes` (2..9) namespaces, the mesh and the client links.
  static absl::StatusOr<std::unique_ptr<NetTopology>> Create(
      const exec::Runner* runner, int nodes);
  ~NetTopology();  // deletes everything it created (errors are logged)
  NetTopology(const NetTopology&) = delete;
  NetTopology& operator=(const NetTopology&) = delete;

  int size() const { return nodes_; }
  const std::string& ns(int i) const { return ns_[i]; }
  std::string address(int i) const;  // "10.77.S.(i+1)"
  std::string client_address() const;
  // argv prefix that runs a program inside node i's namespace.
  std::vector<std::string> ExecPrefix(int i) const;

  absl::Status Cut(int a, int b);
  absl::Status Heal(int a, int b);
  // Cuts every link between `side` and the other nodes.
  absl::Status Partition(const std::set<int>& side);
  absl::Status Isolate(int i) { return Partition({i}); }
  absl::Status HealAll();
  bool IsCut(int a, int b) const;

  // Deletes namespaces "vc<hex>n<d>" whose pid <hex> is no longer alive.
  static void SweepStale(const exec::Runner& runner);

 private:
  NetTopology(const exec::Runner* runner, int nodes, int subnet,
              std::string tag)
      : runner_(runner), nodes_(nodes), subnet_(subnet), tag_(std::move(tag)) {}
  absl::Status Build();
  std::string MeshDev(int from, int to) const;  // end in `from`'s namespace
  absl::Status SetLink(int a, int b, bool up);

  const exec::Runner* runner_;
  int nodes_;
  int subnet_;
  std::string tag_;
  std::vector<std::string> ns_;
  std::vector<std::string> created_ns_;
  std::set<std::pair<int, int>> cut_;
};

// A tmpfs of `size_mb` mounted at `dir` (created; beneath TEST_TMPDIR) for
// the full-disk fault; unmounted (lazily) by the destructor.
class Tmpfs {
 public:
  static absl::StatusOr<std::unique_ptr<Tmpfs>> Mount(
      const exec::Runner* runner, const std::string& dir, int size_mb);
  ~Tmpfs();
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;
  const std::string& dir() const { return dir_; }
  // Fills the tmpfs with a file "filler" in `dir` until ENOSPC, leaving
  // `leave_bytes` free; Drain() deletes the filler.
  absl::Status Fill(size_t leave_bytes);
  absl::Status Drain();

 private:
  Tmpfs(const exec::Runner* runner, std::string dir)
      : runner_(runner), dir_(std::move(dir)) {}
  const exec::Runner* runner_;
  std::string dir_;
};

}  // namespace virtengine::chaos

#endif  // VIRTENGINE_TESTS_CHAOS_NETNS_H_
