// The shipped allowlists in policy/commands/: every file loads with the
// production options, realistic requests are accepted and hostile ones
// refused, and the bubblewrap pattern of process.run really sandboxes.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "security/exec/policy.h"
#include "security/exec/runner.h"

namespace virtengine::exec {
namespace {

constexpr char kDir[] = "policy/commands";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string TmpDir() {
  const char* t = std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  char real[PATH_MAX];
  if (t == nullptr || realpath(t, real) == nullptr) return "/tmp";
  return real;
}

std::string Cwd() {
  char buf[PATH_MAX];
  return getcwd(buf, sizeof(buf)) == nullptr ? "" : std::string(buf);
}

// Bazel's runfiles are symlinks, which the path validator (rightly) never
// follows: load from the directory they point to, as a daemon loads from its
// configured, symlink-free policy directory.
std::string PolicyDir() {
  char real[PATH_MAX];
  const std::string f = absl::StrCat(kDir, "/slurm.textproto");
  if (realpath(f.c_str(), real) == nullptr) return "";
  std::string r = real;
  return r.substr(0, r.rfind('/'));
}

TEST(ShippedPolicyTest, EveryFileLoadsWithProductionOptions) {
  std::set<std::string> files;
  DIR* d = opendir(kDir);
  ASSERT_NE(d, nullptr);
  while (const dirent* de = readdir(d)) {  // NOLINT(concurrency-mt-unsafe)
    const std::string name = de->d_name;
    if (absl::EndsWith(name, ".textproto")) files.insert(name);
  }
  closedir(d);
  EXPECT_EQ(files.count("process.textproto"), 1U);
  EXPECT_EQ(files.count("slurm.textproto"), 1U);
  EXPECT_EQ(files.count("test.textproto"), 0U) << "test allowlists ship never";

  for (const std::string& name : files) {
    SCOPED_TRACE(name);
    absl::StatusOr<CommandPolicy> p =
        CommandPolicy::LoadFile(absl::StrCat(PolicyDir(), "/", name));
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(absl::StrCat(p->adapter(), ".textproto"), name);
    EXPECT_EQ(p->sha256_hex().size(), 64U);
  }
  absl::StatusOr<Allowlist> all = Allowlist::LoadDirectory(PolicyDir());
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->sources().size(), files.size());
  for (const char* id :
       {"process.run", "process.version", "slurm.sbatch", "slurm.sbatch_gpu",
        "slurm.squeue", "slurm.squeue_account", "slurm.scancel",
        "slurm.sacct"}) {
    EXPECT_NE(all->Find(id), nullptr) << id;
  }
}

class SlurmPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<CommandPolicy> p =
        CommandPolicy::LoadFile(absl::StrCat(PolicyDir(), "/slurm.textproto"));
    ASSERT_TRUE(p.ok()) << p.status();
    ASSERT_TRUE(list_.Add(*p).ok());
  }
  static std::vector<std::string> Sbatch() {
    const std::string jobs = "/var/lib/virtengine/slurm/jobs/lease-42";
    return {"acct_1",
            "gpu",
            "lease-42.job",
            "2",
            "64",
            "4",
            "8192",
            "120",
            jobs,
            jobs + "/out.log",
            jobs + "/err.log",
            jobs + "/job.sh"};
  }
  Allowlist list_;
};

TEST_F(SlurmPolicyTest, SbatchAcceptsATypicalJob) {
  absl::StatusOr<Invocation> inv = list_.Validate(
      "slurm.sbatch", Sbatch(), {{"SLURM_CONF", "/etc/slurm/slurm.conf"}}, {});
  ASSERT_TRUE(inv.ok()) << inv.status();
  const std::string jobs = "/var/lib/virtengine/slurm/jobs/lease-42";
  const std::vector<std::string> want = {"/usr/bin/sbatch",
                                         "--parsable",
                                         "--export=NONE",
                                         "--account=acct_1",
                                         "--partition=gpu",
                                         "--job-name=lease-42.job",
                                         "--nodes=2",
                                         "--ntasks=64",
                                         "--cpus-per-task=4",
                                         "--mem=8192",
                                         "--time=120",
                                         "--chdir=" + jobs,
                                         "--output=" + jobs + "/out.log",
                                         "--error=" + jobs + "/err.log",
                                         jobs + "/job.sh"};
  EXPECT_EQ(inv->argv, want);
  EXPECT_EQ(inv->envp,
            (std::vector<std::string>{
                "LC_ALL=C", "SLURM_CONF=/etc/slurm/slurm.conf", "TZ=UTC"}));
}

TEST_F(SlurmPolicyTest, SbatchRefusesOptionInjectionNamingTheRule) {
  std::vector<std::string> args = Sbatch();
  args[2] = "--output=/etc/x";
  const absl::Status s = list_.Validate("slurm.sbatch", args, {}, {}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StartsWith(
      s.message(),
      "entry \"slurm.sbatch\" arg 2 (\"--output=/etc/x\") does not match "
      "placeholder \"job_name\" (identifier, ^[A-Za-z0-9_.-]{1,64}$)"))
      << s;

  const std::vector<std::pair<size_t, std::string>> bad = {
      {0, "acct;id"},
      {1, "--wrap=id"},
      {3, "0"},
      {3, "4097"},
      {6, "1G"},
      {7, "-1"},
      {8, "/var/lib/virtengine/slurm/jobs"},
      {9, "/etc/shadow"},
      {10, "/var/lib/virtengine/slurm/jobs/../../../../etc/x"},
      {10, "/var/lib/virtengine/slurm/jobs/slurm-%j.out"},
      {11, "/var/lib/virtengine/slurm/jobs/job.sh --wrap=id"},
  };
  for (const auto& [index, value] : bad) {
    SCOPED_TRACE(value);
    std::vector<std::string> a = Sbatch();
    a[index] = value;
    const absl::Status st = list_.Validate("slurm.sbatch", a, {}, {}).status();
    EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied);
    EXPECT_TRUE(absl::StrContains(st.message(), absl::StrCat("arg ", index)))
        << st;
  }
  EXPECT_FALSE(list_
                   .Validate("slurm.sbatch", Sbatch(),
                             {{"SLURM_CONF", "/tmp/evil.conf"}}, {})
                   .ok());
  EXPECT_FALSE(
      list_.Validate("slurm.sbatch", Sbatch(), {{"PATH", "/tmp"}}, {}).ok());
}

TEST_F(SlurmPolicyTest, QueryAndCancelTakeOneTypedJobId) {
  for (const char* id : {"slurm.squeue", "slurm.scancel", "slurm.sacct"}) {
    SCOPED_TRACE(id);
    EXPECT_TRUE(list_.Validate(id, {"4242"}, {}, {}).ok());
    for (const char* bad : {"0", "-1", "4294967294", "42,43", "42 43", "all",
                            "--user=root", ""}) {
      EXPECT_FALSE(list_.Validate(id, {bad}, {}, {}).ok()) << bad;
    }
    EXPECT_FALSE(list_.Validate(id, {}, {}, {}).ok());
    EXPECT_FALSE(list_.Validate(id, {"1", "2"}, {}, {}).ok());
  }
  absl::StatusOr<Invocation> q = list_.Validate("slurm.scancel", {"7"}, {}, {});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->argv,
            (std::vector<std::string>{"/usr/bin/scancel", "--quiet", "7"}));
}

// process.run with the workloads root moved under TEST_TMPDIR, run for real
// through the trampoline and bubblewrap.
class ProcessPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp_ = TmpDir();
    workdir_ = tmp_ + "/workloads/w1";
    ASSERT_EQ(
        mkdir((tmp_ + "/workloads").c_str(), 0755) == 0 || errno == EEXIST,
        true);
    ASSERT_EQ(mkdir(workdir_.c_str(), 0755) == 0 || errno == EEXIST, true);
    const std::string text =
        absl::StrReplaceAll(ReadFile(absl::StrCat(kDir, "/process.textproto")),
                            {{"\"/var/lib/virtengine/workloads\"",
                              absl::StrCat("\"", tmp_, "/workloads\"")}});
    absl::StatusOr<CommandPolicy> p = CommandPolicy::Parse(text, "process");
    ASSERT_TRUE(p.ok()) << p.status();
    auto list = std::make_shared<Allowlist>();
    ASSERT_TRUE(list->Add(*p).ok());
    RunnerOptions ro;
    ro.trampoline_path = Cwd() + "/security/exec/ve-exec-trampoline";
    absl::StatusOr<std::unique_ptr<Runner>> r = Runner::Create(list, ro);
    ASSERT_TRUE(r.ok()) << r.status();
    runner_ = *std::move(r);
  }

  // Copies a system binary into the workload directory (visible as /work).
  void Install(const std::string& from, const std::string& name) {
    const std::string to = workdir_ + "/" + name;
    {
      std::ifstream in(from, std::ios::binary);
      std::ofstream out(to, std::ios::binary | std::ios::trunc);
      out << in.rdbuf();
      ASSERT_TRUE(out.good()) << to;
    }
    ASSERT_EQ(chmod(to.c_str(), 0755), 0);
  }

  Result Run(const std::vector<std::string>& args) {
    absl::StatusOr<Result> r = runner_->Run("process.run", args);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : Result();
  }

  std::string tmp_;
  std::string workdir_;
  std::unique_ptr<Runner> runner_;
};

TEST_F(ProcessPolicyTest, WorkloadRunsInsideTheSandbox) {
  ASSERT_EQ(access("/usr/bin/bwrap", X_OK), 0)
      << "bubblewrap is in tools/packages.txt";
  Install("/bin/echo", "echo");
  Install("/usr/bin/id", "id");
  Install("/bin/cat", "cat");

  const Result echo = Run({workdir_, "/work/echo", "hi", "--flag=1"});
  EXPECT_EQ(echo.exit_code, 0) << echo.stderr_bytes;
  EXPECT_EQ(echo.stdout_bytes, "hi --flag=1\n");

  const Result id = Run({workdir_, "/work/id"});
  EXPECT_EQ(id.stdout_bytes, "uid=65534 gid=65534 groups=65534\n")
      << id.stderr_bytes;

  // A fresh network namespace: loopback only.
  const Result net = Run({workdir_, "/work/cat", "/proc/net/dev"});
  EXPECT_TRUE(absl::StrContains(net.stdout_bytes, "lo:")) << net.stdout_bytes;
  int interfaces = 0;
  for (size_t at = net.stdout_bytes.find(':'); at != std::string::npos;
       at = net.stdout_bytes.find(':', at + 1)) {
    ++interfaces;
  }
  EXPECT_EQ(interfaces, 1) << net.stdout_bytes;  // "lo:" and nothing else

  // Nothing of the host's filesystem beyond the fixed binds.
  const Result host = Run({workdir_, "/work/cat", "/etc/hostname"});
  EXPECT_FALSE(host.exited && host.exit_code == 0) << host.stdout_bytes;

  // The workload cannot escape the sandbox root or the workloads root.
  EXPECT_FALSE(runner_->Run("process.run", {"/etc", "/work/echo"}).ok());
  EXPECT_FALSE(runner_->Run("process.run", {workdir_, "/usr/bin/id"}).ok());
  EXPECT_FALSE(
      runner_->Run("process.run", {workdir_, "/work/../usr/bin/id"}).ok());
  EXPECT_FALSE(
      runner_->Run("process.run", {workdir_, "/work/echo", "$(id)"}).ok());
}

TEST_F(ProcessPolicyTest, VersionHealthCheck) {
  absl::StatusOr<Result> r = runner_->Run("process.version", {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_TRUE(absl::StartsWith(r->stdout_bytes, "bubblewrap "))
      << r->stdout_bytes;
}

}  // namespace
}  // namespace virtengine::exec
