// The benchmark's own etcd client against a real etcd 3.4 cluster: proves
// the minimal proto is wire-compatible (Put answers with a growing
// revision) and that a small put phase commits everything.
#include "tests/load/etcd_bench.h"

#include <unistd.h>

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

namespace virtengine::loadgen {
namespace {

std::string Tmp() {
  const char* t = std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  return std::string(t != nullptr ? t : "/tmp") + "/etcd";
}

TEST(EtcdBench, PutsThroughAThreeMemberCluster) {
  if (::access("/usr/bin/etcd", X_OK) != 0) {
    GTEST_SKIP() << "etcd-server is not installed (tools/packages.txt)";
  }
  auto c = EtcdCluster::Start(Tmp(), 3);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE((*c)->WaitHealthy(60).ok());
  auto r1 = EtcdPut((*c)->endpoints()[0], "k", "v1", 5000);
  ASSERT_TRUE(r1.ok()) << r1.status();
  auto r2 = EtcdPut((*c)->endpoints()[2], "k", "v2", 5000);
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_GT(*r2, *r1);
  auto phase = RunPutPhase((*c)->endpoints(), 4, 200, 256, 0);
  ASSERT_TRUE(phase.ok()) << phase.status();
  EXPECT_EQ(phase->committed, 200u) << phase->first_error;
  EXPECT_EQ(phase->failed, 0u);
  EXPECT_GT(phase->p99_ms, 0.0);
  // A dead endpoint fails instead of hanging.
  EXPECT_FALSE(EtcdPut("127.0.0.1:1", "k", "v", 1000).ok());
}

}  // namespace
}  // namespace virtengine::loadgen
