#include "src/ledger/merkle/node_store.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "src/ledger/merkle/test_vectors.h"

namespace virtengine::ledger::merkle {
namespace {

Hash Filled(uint8_t b) {
  Hash h;
  h.fill(b);
  return h;
}

TEST(NodeKeyTest, EncodingIsLevelThenBigEndianIndex) {
  EXPECT_EQ(EncodeNodeKey({0, 0}), std::string(9, '\0'));
  const std::string k = EncodeNodeKey({3, 0x0102030405060708});
  EXPECT_EQ(testdata::Hex(k), "030102030405060708");
  EXPECT_EQ(testdata::Hex(EncodeNodeKey({63, 0})), "3f0000000000000000");
  EXPECT_EQ(testdata::Hex(EncodeNodeKey({0, (uint64_t{1} << 63) - 1})),
            "007fffffffffffffff");
}

TEST(NodeKeyTest, RoundTripAndOrder) {
  std::vector<NodeKey> keys;
  for (int level = 0; level <= kMaxLevel; level += 7) {
    for (uint64_t index : {uint64_t{0}, uint64_t{1}, uint64_t{255},
                           uint64_t{256}, uint64_t{65535}, uint64_t{65536}}) {
      NodeKey k{static_cast<uint8_t>(level), index};
      if (ValidNodeKey(k)) keys.push_back(k);
    }
  }
  for (const NodeKey& k : keys) {
    absl::StatusOr<NodeKey> back = DecodeNodeKey(EncodeNodeKey(k));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, k);
  }
  // Byte order equals (level, index) order.
  for (const NodeKey& a : keys) {
    for (const NodeKey& b : keys) {
      const bool less =
          a.level != b.level ? a.level < b.level : a.index < b.index;
      EXPECT_EQ(EncodeNodeKey(a) < EncodeNodeKey(b), less)
          << NodeKeyName(a) << " vs " << NodeKeyName(b);
    }
  }
}

TEST(NodeKeyTest, ValidRange) {
  EXPECT_TRUE(ValidNodeKey({0, (uint64_t{1} << 63) - 1}));
  EXPECT_FALSE(ValidNodeKey({0, uint64_t{1} << 63}));
  EXPECT_TRUE(ValidNodeKey({63, 0}));
  EXPECT_FALSE(ValidNodeKey({63, 1}));
  EXPECT_FALSE(ValidNodeKey({64, 0}));
  EXPECT_TRUE(ValidNodeKey({10, (uint64_t{1} << 53) - 1}));
  EXPECT_FALSE(ValidNodeKey({10, uint64_t{1} << 53}));
}

TEST(NodeKeyTest, DecodeRefusesBadKeys) {
  absl::StatusOr<NodeKey> k = DecodeNodeKey(std::string(8, '\0'));
  EXPECT_EQ(k.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(k.status().message(), "merkle: node key must be 9 bytes, got 8");
  EXPECT_FALSE(DecodeNodeKey(std::string(10, '\0')).ok());
  std::string level64(9, '\0');
  level64[0] = 64;
  k = DecodeNodeKey(level64);
  EXPECT_EQ(k.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(k.status().message().find("(level 64, index 0)"), std::string::npos)
      << k.status();
  std::string top(9, '\0');
  top[1] = static_cast<char>(0x80);  // index 2^63 at level 0
  EXPECT_FALSE(DecodeNodeKey(top).ok());
}

TEST(MemoryNodeStoreTest, PutGet) {
  MemoryNodeStore store;
  absl::StatusOr<Hash> h = store.Get({0, 0});
  EXPECT_EQ(h.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(h.status().message(), "merkle: node (level 0, index 0) not stored");
  ASSERT_TRUE(store.Put({0, 0}, Filled(1)).ok());
  ASSERT_TRUE(store.Put({1, 0}, Filled(2)).ok());
  EXPECT_EQ(*store.Get({0, 0}), Filled(1));
  EXPECT_EQ(*store.Get({1, 0}), Filled(2));
  EXPECT_EQ(store.size(), 2u);
  // Idempotent for the same hash, refused for a different one.
  EXPECT_TRUE(store.Put({0, 0}, Filled(1)).ok());
  absl::Status s = store.Put({0, 0}, Filled(9));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(*store.Get({0, 0}), Filled(1));
  EXPECT_EQ(store.Put({64, 0}, Filled(1)).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MemoryNodeStoreTest, WriteIsAllOrNothing) {
  MemoryNodeStore store;
  ASSERT_TRUE(store.Put({0, 0}, Filled(1)).ok());
  NodeBatch conflicting = {{{0, 1}, Filled(2)}, {{0, 0}, Filled(3)}};
  EXPECT_EQ(store.Write(conflicting).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store.Get({0, 1}).status().code(), absl::StatusCode::kNotFound);
  NodeBatch twice = {{{0, 1}, Filled(2)}, {{0, 1}, Filled(4)}};
  EXPECT_EQ(store.Write(twice).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store.size(), 1u);
  NodeBatch ok = {{{0, 1}, Filled(2)}, {{1, 0}, Filled(5)}};
  ASSERT_TRUE(store.Write(ok).ok());
  EXPECT_EQ(*store.Get({1, 0}), Filled(5));
  EXPECT_EQ(store.size(), 3u);
}

// A store with only Get and Put gets the default Write.
class PutOnlyStore : public NodeStore {
 public:
  absl::StatusOr<Hash> Get(const NodeKey& key) const override {
    return inner_.Get(key);
  }
  absl::Status Put(const NodeKey& key, const Hash& hash) override {
    order_.push_back(key);
    return inner_.Put(key, hash);
  }
  std::vector<NodeKey> order_;

 private:
  MemoryNodeStore inner_;
};

TEST(NodeStoreTest, DefaultWritePutsInOrderAndStopsAtFirstError) {
  PutOnlyStore store;
  NodeBatch batch = {{{0, 0}, Filled(1)},
                     {{0, 1}, Filled(2)},
                     {{64, 0}, Filled(3)},
                     {{1, 0}, Filled(4)}};
  EXPECT_EQ(store.Write(batch).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(store.order_.size(), 3u);
  EXPECT_EQ(store.order_[1], (NodeKey{0, 1}));
  EXPECT_EQ(store.Get({1, 0}).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace virtengine::ledger::merkle
