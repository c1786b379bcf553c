// libraft's log integrity: a closed segment that fails its checksum makes
// Start fail with DATA_LOSS (raft_uv's auto-recovery, which would rename the
// segment and drop its entries, is off).
//
// A separate binary because libraft 0.15 itself leaks one allocation (its
// 40-byte entries array, realloc'd inside the segment loader) when
// raft_start fails on a corrupt segment; the allocation happens on the raft
// thread, so __lsan_disable cannot scope it. The suppression below applies
// to this binary only; raft_node_test runs with full leak checking.
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "src/consensus/raft_node.h"
#include "src/consensus/raft_test_util.h"

extern "C" const char* __lsan_default_suppressions() {  // NOLINT
  return "leak:libraft.so\n";
}

namespace virtengine::consensus::test {
namespace {

// A closed segment that fails its checksum stops Start with DATA_LOSS;
// libraft's auto-recovery (which would drop the entries) is off.
TEST(RaftNodeTest, CorruptSegmentIsDataLoss) {
  RaftOptions o = SingleVoter(TestDir("corrupt"), PickPorts(1)[0]);
  o.segment_size_bytes = 64 << 10;
  RecordingSm sm;
  {
    auto node = StartFresh(&o, &sm);
    ASSERT_TRUE(node.ok()) << node.status();
    Results r;
    for (int i = 0; i < 200; ++i) {
      (*node)->Propose(absl::StrCat(i, std::string(1000, 'y')), r.Cb(i));
    }
    ASSERT_TRUE(r.WaitTotal(200));
    ASSERT_TRUE((*node)->Stop().ok());
  }
  std::string victim;
  for (const std::string& n : ListDir(o.data_dir)) {
    if (n.size() == 33 && n[16] == '-' &&
        n.rfind("0000000000000001-", 0) != 0) {
      victim = absl::StrCat(o.data_dir, "/", n);
      break;
    }
  }
  ASSERT_FALSE(victim.empty()) << ::testing::PrintToString(ListDir(o.data_dir));
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f.good());
    f.seekg(2000);
    char c = 0;
    f.read(&c, 1);
    f.seekp(2000);
    c = static_cast<char>(c ^ 0x5a);
    f.write(&c, 1);
  }
  RecordingSm sm2(sm.Entries());
  auto node = RaftNode::Start(o, &sm2);
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(node.status().code(), absl::StatusCode::kDataLoss) << node.status();
  for (const std::string& n : ListDir(o.data_dir)) {
    EXPECT_EQ(n.rfind("corrupt", 0), std::string::npos) << n;
  }
}

}  // namespace
}  // namespace virtengine::consensus::test
