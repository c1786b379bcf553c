#include "src/node/mempool.h"

#include "gtest/gtest.h"

namespace virtengine::node {
namespace {

ledger::DecodedTx Tx(uint8_t id, size_t bytes) {
  ledger::DecodedTx tx;
  tx.raw.assign(bytes, static_cast<char>(id));
  tx.hash.fill(id);
  return tx;
}

TEST(MempoolTest, KeepsAdmissionOrderAndTakesByCountAndBytes) {
  Mempool m(10, 1000);
  for (uint8_t i = 1; i <= 5; ++i) {
    ASSERT_TRUE(m.CanAdd(Tx(i, 100)).ok());
    m.Add(Tx(i, 100));
  }
  EXPECT_EQ(m.size(), 5u);
  EXPECT_EQ(m.bytes(), 500u);
  std::vector<ledger::DecodedTx> a = m.Take(2, 1000);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].hash[0], 1);
  EXPECT_EQ(a[1].hash[0], 2);
  std::vector<ledger::DecodedTx> b = m.Take(10, 250);  // bytes bound: 2 txs
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].hash[0], 3);
  EXPECT_EQ(m.size(), 1u);
  EXPECT_EQ(m.bytes(), 100u);
}

TEST(MempoolTest, TakesOneOversizeTxRatherThanStall) {
  Mempool m(10, 1 << 20);
  m.Add(Tx(1, 5000));
  EXPECT_EQ(m.Take(10, 100).size(), 1u);
  EXPECT_TRUE(m.empty());
}

TEST(MempoolTest, RefusesDuplicatesAndOverflow) {
  Mempool m(2, 250);
  m.Add(Tx(1, 100));
  EXPECT_EQ(m.CanAdd(Tx(1, 100)).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(m.CanAdd(Tx(2, 200)).code(), absl::StatusCode::kResourceExhausted);
  m.Add(Tx(2, 100));
  EXPECT_EQ(m.CanAdd(Tx(3, 10)).code(), absl::StatusCode::kResourceExhausted);
  // After taking, the hash may be admitted again (e.g. re-admission).
  std::vector<ledger::DecodedTx> all = m.TakeAll();
  EXPECT_EQ(all.size(), 2u);
  EXPECT_TRUE(m.CanAdd(Tx(1, 100)).ok());
  EXPECT_EQ(m.bytes(), 0u);
}

}  // namespace
}  // namespace virtengine::node
