// The chaos suite's network namespaces: real namespaces, veths, routes and
// TCP connections; a tmpfs that really fills. Needs root (skips otherwise).
#include "tests/chaos/netns.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/node_process.h"

namespace virtengine::chaos {
namespace {

std::string TmpDir() {
  const char* t = std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  return t != nullptr ? t : "/tmp";
}

class NetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!CanUseNetns()) GTEST_SKIP() << "needs root and /usr/bin/ip";
    auto r = MakeChaosRunner();
    ASSERT_TRUE(r.ok()) << r.status();
    runner_ = *std::move(r);
  }

  // Connects from namespace `from` (-1 = the root namespace) to node `to`.
  bool Reaches(const NetTopology& t, int from, int to) {
    std::vector<std::string> argv;
    if (from >= 0) argv = t.ExecPrefix(from);
    argv.push_back(testing::Runfile("tests/chaos/netns_probe"));
    for (const std::string& a : {std::string("connect"), t.address(to),
                                 std::string("7077"), std::string("1500")}) {
      argv.push_back(a);
    }
    return testing::RunProgram(argv, nullptr) == 0;
  }

  std::unique_ptr<exec::Runner> runner_;
};

TEST_F(NetnsTest, CutHealIsolateAndCleanup) {
  std::vector<std::string> names;
  std::vector<pid_t> servers;
  {
    auto topo = NetTopology::Create(runner_.get(), 3);
    ASSERT_TRUE(topo.ok()) << topo.status();
    NetTopology& t = **topo;
    for (int i = 0; i < 3; ++i) {
      names.push_back(t.ns(i));
      std::vector<std::string> argv = t.ExecPrefix(i);
      for (const std::string& a :
           {testing::Runfile("tests/chaos/netns_probe"), std::string("serve"),
            t.address(i), std::string("7077"), std::string("60")}) {
        argv.push_back(a);
      }
      auto pid = testing::SpawnDaemon(argv, TmpDir() + "/probe.log");
      ASSERT_TRUE(pid.ok()) << pid.status();
      servers.push_back(*pid);
    }
    // Wait for the servers to listen.
    for (int i = 0; i < 3; ++i) {
      bool up = false;
      for (int k = 0; k < 50 && !up; ++k) {
        up = Reaches(t, -1, i);
        if (!up) ::usleep(100000);
      }
      ASSERT_TRUE(up) << "client cannot reach node " << i;
    }
    EXPECT_TRUE(Reaches(t, 1, 0));
    EXPECT_TRUE(Reaches(t, 2, 0));
    EXPECT_TRUE(Reaches(t, 1, 2));

    ASSERT_TRUE(t.Cut(0, 1).ok());
    EXPECT_TRUE(t.IsCut(1, 0));
    EXPECT_FALSE(Reaches(t, 1, 0));
    EXPECT_FALSE(Reaches(t, 0, 1));
    EXPECT_TRUE(Reaches(t, 2, 0));
    EXPECT_TRUE(Reaches(t, 1, 2));
    EXPECT_TRUE(Reaches(t, -1, 0));  // the client link is never cut
    ASSERT_TRUE(t.Heal(0, 1).ok());
    EXPECT_TRUE(Reaches(t, 1, 0));
    EXPECT_TRUE(Reaches(t, 0, 1));

    ASSERT_TRUE(t.Isolate(2).ok());
    EXPECT_FALSE(Reaches(t, 0, 2));
    EXPECT_FALSE(Reaches(t, 1, 2));
    EXPECT_FALSE(Reaches(t, 2, 1));
    EXPECT_TRUE(Reaches(t, 0, 1));
    EXPECT_TRUE(Reaches(t, -1, 2));
    // Flapping: several cut/heal rounds leave a working link.
    for (int k = 0; k < 3; ++k) {
      ASSERT_TRUE(t.Heal(0, 2).ok());
      ASSERT_TRUE(t.Cut(0, 2).ok());
    }
    ASSERT_TRUE(t.HealAll().ok());
    EXPECT_TRUE(Reaches(t, 0, 2));
    EXPECT_TRUE(Reaches(t, 2, 1));

    EXPECT_EQ(t.Cut(0, 0).code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(t.Cut(0, 3).code(), absl::StatusCode::kInvalidArgument);
    for (pid_t p : servers) {
      ::kill(p, SIGKILL);
      testing::ReapDaemon(p);
    }
  }
  // The destructor deleted every namespace of this run.
  auto list = RunChecked(*runner_, "chaos.netns_list", {});
  ASSERT_TRUE(list.ok()) << list.status();
  for (const std::string& n : names) {
    EXPECT_EQ(list->find(n), std::string::npos) << n << " left behind";
  }
}

TEST_F(NetnsTest, AllowlistRefusesWhatItDoesNotList) {
  EXPECT_EQ(
      RunChecked(*runner_, "chaos.netns_add", {"bad name;"}).status().code(),
      absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(RunChecked(*runner_, "chaos.umount", {"/etc"}).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(RunChecked(*runner_, "chaos.flush", {}).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(NetnsTest, TmpfsFillsUpAndDrains) {
  const std::string dir = TmpDir() + "/disk";
  {
    auto fs = Tmpfs::Mount(runner_.get(), dir, 4);
    ASSERT_TRUE(fs.ok()) << fs.status();
    ASSERT_TRUE((*fs)->Fill(0).ok());
    const std::string f = dir + "/more";
    int fd = ::open(f.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    const std::string block(65536, 'y');
    EXPECT_LT(::write(fd, block.data(), block.size()), 1);
    EXPECT_EQ(errno, ENOSPC);
    ASSERT_TRUE((*fs)->Drain().ok());
    EXPECT_EQ(::write(fd, block.data(), block.size()),
              static_cast<ssize_t>(block.size()));
    ::close(fd);
  }
  // Unmounted: a file written now lands on the parent file system, and the
  // tmpfs's files are gone.
  EXPECT_NE(::access((dir + "/more").c_str(), F_OK), 0);
}

}  // namespace
}  // namespace virtengine::chaos
