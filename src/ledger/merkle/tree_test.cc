#include "src/ledger/merkle/tree.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "security/crypto/policy.h"
#include "src/ledger/merkle/reference.h"
#include "src/ledger/merkle/test_vectors.h"
#include "src/ledger/merkle/verify.h"

namespace virtengine::ledger::merkle {
namespace {

using testdata::Hex;
using testdata::Unhex;
using testdata::Unhex32;
using testdata::Unhex32List;

// Counts reads so that tests can check what touches storage.
class CountingStore : public NodeStore {
 public:
  absl::StatusOr<Hash> Get(const NodeKey& key) const override {
    ++gets_;
    return inner_.Get(key);
  }
  absl::Status Put(const NodeKey& key, const Hash& hash) override {
    return inner_.Put(key, hash);
  }
  absl::Status Write(const NodeBatch& batch) override {
    return inner_.Write(batch);
  }
  size_t size() const { return inner_.size(); }
  mutable uint64_t gets_ = 0;

 private:
  MemoryNodeStore inner_;
};

// Appends and commits one leaf.
AppendResult AppendCommit(MerkleTree* tree, NodeStore* store,
                          const crypto::Bytes& leaf) {
  NodeBatch batch;
  absl::StatusOr<AppendResult> r = tree->Append(leaf, &batch);
  EXPECT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(store->Write(batch).ok());
  return r.ok() ? *r : AppendResult{};
}

// A sample of bit positions of a 32-byte hash: bytes 0, 13 and 31, each
// at a bit that moves with `salt`.
bool SampledBit(size_t byte, int bit, uint64_t salt) {
  if (byte != 0 && byte != 13 && byte != 31) return false;
  return static_cast<uint64_t>(bit) == (salt + byte) % 8;
}

template <typename T>
T Must(absl::StatusOr<T> v) {
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *std::move(v) : T{};
}

// Leaves of varied lengths (1..40 bytes), distinct for n <= 256.
std::vector<crypto::Bytes> MakeLeaves(size_t n) {
  std::vector<crypto::Bytes> leaves;
  for (size_t i = 0; i < n; ++i) {
    crypto::Bytes leaf(1 + i % 40);
    for (size_t j = 0; j < leaf.size(); ++j) {
      leaf[j] = static_cast<uint8_t>(i * 31 + j);
    }
    leaf[0] = static_cast<uint8_t>(i);
    leaves.push_back(leaf);
  }
  return leaves;
}

std::vector<crypto::Bytes> CtLeaves() {
  std::vector<crypto::Bytes> leaves;
  leaves.reserve(testdata::kLeaves.size());
  for (const char* h : testdata::kLeaves) leaves.push_back(Unhex(h));
  return leaves;
}

TEST(MerkleTreeTest, EmptyTree) {
  MemoryNodeStore store;
  MerkleTree tree(&store);
  EXPECT_EQ(tree.size(), 0u);
  EXPECT_EQ(Hex(Must(tree.Root())), testdata::kEmptyTreeHash);
  EXPECT_EQ(Hex(Must(tree.RootAt(0))), testdata::kEmptyTreeHash);
  EXPECT_EQ(tree.LeafHash(0).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(tree.InclusionProof(0, 0).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_TRUE(Must(tree.ConsistencyProof(0, 0)).empty());
  EXPECT_EQ(tree.RootAt(1).status().code(), absl::StatusCode::kOutOfRange);
}

TEST(MerkleTreeTest, PublishedRoots) {
  MemoryNodeStore store;
  MerkleTree tree(&store);
  const std::vector<crypto::Bytes> leaves = CtLeaves();
  for (size_t i = 0; i < leaves.size(); ++i) {
    AppendResult r = AppendCommit(&tree, &store, leaves[i]);
    EXPECT_EQ(r.leaf_index, i);
    EXPECT_EQ(r.leaf_hash, reference::LeafHash(leaves[i]));
    EXPECT_EQ(tree.size(), i + 1);
    EXPECT_EQ(Hex(Must(tree.Root())), testdata::kRoots[i]);
    EXPECT_EQ(Hex(Must(tree.RootAt(0))), testdata::kEmptyTreeHash);
    for (size_t j = 0; j <= i; ++j) {
      EXPECT_EQ(Hex(Must(tree.RootAt(j + 1))), testdata::kRoots[j]);
    }
    EXPECT_EQ(tree.RootAt(i + 2).status().code(),
              absl::StatusCode::kOutOfRange);
  }
}

TEST(MerkleTreeTest, PublishedInclusionAndConsistencyProofs) {
  MemoryNodeStore store;
  MerkleTree tree(&store);
  for (const crypto::Bytes& leaf : CtLeaves()) {
    AppendCommit(&tree, &store, leaf);
    // Proofs at the current size (frontier) and every earlier size (store).
    for (const testdata::InclusionVector& v : testdata::kInclusionProofs) {
      if (v.tree_size > tree.size()) continue;
      EXPECT_EQ(Must(tree.InclusionProof(v.leaf_index, v.tree_size)),
                Unhex32List(v.path))
          << v.leaf_index << "/" << v.tree_size << " at " << tree.size();
    }
    for (const testdata::ConsistencyVector& v : testdata::kConsistencyProofs) {
      if (v.size2 > tree.size()) continue;
      EXPECT_EQ(Must(tree.ConsistencyProof(v.size1, v.size2)),
                Unhex32List(v.proof))
          << v.size1 << " -> " << v.size2 << " at " << tree.size();
    }
  }
  EXPECT_EQ(tree.InclusionProof(8, 8).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(tree.InclusionProof(0, 9).status().code(),
            absl::StatusCode::kOutOfRange);
  absl::StatusOr<std::vector<Hash>> c = tree.ConsistencyProof(3, 2);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(c.status().message(),
            "merkle: consistency: size1 3 exceeds size2 2");
  EXPECT_EQ(tree.ConsistencyProof(1, 9).status().code(),
            absl::StatusCode::kOutOfRange);
}

// The worked example of docs/ledger/merkle.md.
TEST(MerkleTreeTest, DocsWorkedExample) {
  MemoryNodeStore store;
  MerkleTree tree(&store);
  for (uint8_t b : {0x11, 0x22, 0x33}) {
    AppendCommit(&tree, &store, crypto::Bytes(32, b));
  }
  const Hash l0 = Must(tree.LeafHash(0));
  const Hash l1 = Must(tree.LeafHash(1));
  const Hash l2 = Must(tree.LeafHash(2));
  EXPECT_EQ(Hex(l0),
            "4635e1fa62a599a7880a8d14a56f720a1d40f6e5448ab5a5e39bedc8bd87fa8e");
  EXPECT_EQ(Hex(l1),
            "bc6f27de60abf5319d16ff4c98fe3c42022c84f6a7a2b207c8df19b0ec3d8d58");
  EXPECT_EQ(Hex(l2),
            "5e5caeafc27155c368b6f201107d6f8b270747ce636ac5174a56c6e12ef89ad1");
  EXPECT_EQ(Hex(Must(tree.RootAt(2))),
            "cc15b132263fd4fd2748c0e7cb9e1c4ad0afe70fcf9382ee644c4da8af0286a5");
  const Hash root = Must(tree.Root());
  EXPECT_EQ(Hex(root),
            "9bee4401962e94b921336a7910a5a9718836ffcbc545dde0a3f34d858beb5752");
  const std::vector<Hash> path = Must(tree.InclusionProof(1, 3));
  EXPECT_EQ(path, (std::vector<Hash>{l0, l2}));
  EXPECT_TRUE(VerifyInclusion(l1, 1, 3, path, root).ok());
  const std::vector<Hash> proof = Must(tree.ConsistencyProof(2, 3));
  EXPECT_EQ(proof, (std::vector<Hash>{l2}));
  EXPECT_TRUE(VerifyConsistency(2, 3, proof, Must(tree.RootAt(2)), root).ok());
}

TEST(MerkleTreeTest, AppendWritesOnlyNewPerfectNodesAndReadsNothing) {
  CountingStore store;
  MerkleTree tree(&store);
  const std::vector<crypto::Bytes> leaves = MakeLeaves(300);
  for (uint64_t i = 0; i < leaves.size(); ++i) {
    NodeBatch batch;
    ASSERT_TRUE(tree.Append(leaves[i], &batch).ok());
    std::vector<NodeKey> want = {{0, i}};
    for (uint8_t level = 1; ((i >> (level - 1)) & 1) == 1; ++level) {
      want.push_back({level, i >> level});
    }
    ASSERT_EQ(batch.size(), want.size()) << i;
    for (size_t j = 0; j < want.size(); ++j) {
      EXPECT_EQ(batch[j].key, want[j]) << i;
    }
    EXPECT_EQ(batch[0].hash, reference::LeafHash(leaves[i]));
    ASSERT_TRUE(store.Write(batch).ok());
    const uint64_t n = i + 1;
    EXPECT_EQ(store.size(),
              2 * n - static_cast<uint64_t>(__builtin_popcountll(n)));
  }
  EXPECT_EQ(store.gets_, 0u);
  // A stored node is the MTH of its leaf range.
  const NodeKey k{3, 5};  // leaves [40, 48)
  EXPECT_EQ(Must(store.Get(k)),
            reference::Mth(reference::Leaves(leaves).subspan(40, 8)));
}

TEST(MerkleTreeTest, SeveralAppendsIntoOneBatch) {
  MemoryNodeStore store;
  MerkleTree tree(&store);
  const std::vector<crypto::Bytes> leaves = MakeLeaves(20);
  NodeBatch block;
  for (size_t i = 0; i < 7; ++i)
    ASSERT_TRUE(tree.Append(leaves[i], &block).ok());
  // Root needs no store; proofs need the batch committed.
  EXPECT_EQ(Must(tree.Root()),
            reference::Mth(reference::Leaves(leaves).subspan(0, 7)));
  absl::StatusOr<std::vector<Hash>> p = tree.InclusionProof(0, 7);
  EXPECT_EQ(p.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(p.status().message().find("was the append batch committed?"),
            std::string::npos)
      << p.status();
  ASSERT_TRUE(store.Write(block).ok());
  EXPECT_EQ(Must(tree.InclusionProof(0, 7)),
            reference::Path(0, reference::Leaves(leaves).subspan(0, 7)));
}

// For every n <= 100 and m < n: the generated path equals the RFC's PATH,
// verifies against the root, and any single-bit change of path, root or leaf
// hash makes verification fail.
TEST(MerkleTreeTest, InclusionProofsForAllSmallTrees) {
  constexpr uint64_t kN = 100;
  const std::vector<crypto::Bytes> leaves = MakeLeaves(kN);
  const reference::Leaves all(leaves);
  MemoryNodeStore store;
  MerkleTree tree(&store);
  for (uint64_t n = 1; n <= kN; ++n) {
    AppendCommit(&tree, &store, leaves[n - 1]);
    const Hash root = Must(tree.Root());
    ASSERT_EQ(root, reference::Mth(all.subspan(0, n))) << n;
    for (uint64_t m = 0; m < n; ++m) {
      const std::vector<Hash> path = Must(tree.InclusionProof(m, n));
      ASSERT_EQ(path, reference::Path(m, all.subspan(0, n))) << m << "/" << n;
      const Hash leaf = Must(tree.LeafHash(m));
      ASSERT_EQ(leaf, reference::LeafHash(leaves[m]));
      ASSERT_TRUE(VerifyInclusion(leaf, m, n, path, root).ok())
          << m << "/" << n;
      // Every bit of every hash for small trees; beyond, a spread of bits
      // (first and last byte, a different bit each time) to keep it fast.
      const bool all_bits = n <= 12;
      auto flips = [&](auto&& check) {
        for (size_t byte = 0; byte < kHashSize; ++byte) {
          for (int bit = 0; bit < 8; ++bit) {
            if (!all_bits && !SampledBit(byte, bit, m + n)) continue;
            check(byte, static_cast<uint8_t>(1u << bit));
          }
        }
      };
      for (size_t i = 0; i < path.size(); ++i) {
        flips([&](size_t byte, uint8_t mask) {
          std::vector<Hash> bad = path;
          bad[i][byte] ^= mask;
          EXPECT_EQ(VerifyInclusion(leaf, m, n, bad, root).code(),
                    absl::StatusCode::kUnauthenticated)
              << m << "/" << n << " path[" << i << "] byte " << byte;
        });
      }
      flips([&](size_t byte, uint8_t mask) {
        Hash bad_root = root;
        bad_root[byte] ^= mask;
        EXPECT_EQ(VerifyInclusion(leaf, m, n, path, bad_root).code(),
                  absl::StatusCode::kUnauthenticated);
        Hash bad_leaf = leaf;
        bad_leaf[byte] ^= mask;
        EXPECT_EQ(VerifyInclusion(bad_leaf, m, n, path, root).code(),
                  absl::StatusCode::kUnauthenticated);
      });
      // Another index with the same path fails too. (Another tree size can
      // share the path's shape, e.g. leaf 0 of 3 and of 4, which is why the
      // size must come with the root from the signed header.)
      for (uint64_t other = 0; other < n && n <= 40; ++other) {
        if (other != m) {
          EXPECT_FALSE(VerifyInclusion(leaf, other, n, path, root).ok());
        }
      }
    }
  }
  // The same proofs for historical sizes, read from the store.
  for (uint64_t n = 1; n <= kN; ++n) {
    ASSERT_EQ(Must(tree.RootAt(n)), reference::Mth(all.subspan(0, n)));
    for (uint64_t m = 0; m < n; ++m) {
      ASSERT_EQ(Must(tree.InclusionProof(m, n)),
                reference::Path(m, all.subspan(0, n)))
          << m << "/" << n;
    }
  }
}

// For all 0 <= m <= n <= 64: PROOF(m, D[n]) as in the RFC, it verifies, and
// single-bit changes of proof or roots fail.
TEST(MerkleTreeTest, ConsistencyProofsForAllPairs) {
  constexpr uint64_t kN = 64;
  const std::vector<crypto::Bytes> leaves = MakeLeaves(kN);
  const reference::Leaves all(leaves);
  MemoryNodeStore store;
  MerkleTree tree(&store);
  std::vector<Hash> roots = {Must(tree.Root())};
  for (uint64_t n = 1; n <= kN; ++n) {
    AppendCommit(&tree, &store, leaves[n - 1]);
    roots.push_back(Must(tree.Root()));
    for (uint64_t m = 0; m <= n; ++m) {
      const std::vector<Hash> proof = Must(tree.ConsistencyProof(m, n));
      ASSERT_EQ(proof, reference::Proof(m, all.subspan(0, n)))
          << m << " -> " << n;
      ASSERT_EQ(proof.size(), ConsistencyProofSize(m, n));
      ASSERT_TRUE(VerifyConsistency(m, n, proof, roots[m], roots[n]).ok())
          << m << " -> " << n;
      if (m == 0 || m == n) continue;
      // Every bit for sizes up to 16, a sample of bits beyond.
      for (size_t pos = 0; pos < 8 * kHashSize; ++pos) {
        const size_t byte = pos / 8;
        const int bit = static_cast<int>(pos % 8);
        if (n > 16 && !SampledBit(byte, bit, m + n)) continue;
        const uint8_t mask = static_cast<uint8_t>(1u << bit);
        for (size_t i = 0; i < proof.size(); ++i) {
          std::vector<Hash> bad = proof;
          bad[i][byte] ^= mask;
          EXPECT_EQ(VerifyConsistency(m, n, bad, roots[m], roots[n]).code(),
                    absl::StatusCode::kUnauthenticated)
              << m << " -> " << n << " proof[" << i << "]";
        }
        Hash bad1 = roots[m];
        bad1[byte] ^= mask;
        EXPECT_EQ(VerifyConsistency(m, n, proof, bad1, roots[n]).code(),
                  absl::StatusCode::kUnauthenticated);
        Hash bad2 = roots[n];
        bad2[byte] ^= mask;
        EXPECT_EQ(VerifyConsistency(m, n, proof, roots[m], bad2).code(),
                  absl::StatusCode::kUnauthenticated);
      }
      // The proof for m -> n proves nothing about other old sizes.
      for (uint64_t other = 1; other < n && n <= 32; ++other) {
        if (other != m) {
          EXPECT_FALSE(
              VerifyConsistency(other, n, proof, roots[other], roots[n]).ok())
              << other << " with proof of " << m << " -> " << n;
        }
      }
    }
  }
  // Historical pairs from the store match what was generated live.
  for (uint64_t n = 1; n <= kN; ++n) {
    for (uint64_t m = 0; m <= n; ++m) {
      ASSERT_EQ(Must(tree.ConsistencyProof(m, n)),
                reference::Proof(m, all.subspan(0, n)));
    }
  }
}

TEST(MerkleTreeTest, OpenFromStoreContinuesIdentically) {
  const std::vector<crypto::Bytes> leaves = MakeLeaves(150);
  MemoryNodeStore store;
  MerkleTree tree(&store);
  for (size_t i = 0; i < 100; ++i) AppendCommit(&tree, &store, leaves[i]);
  for (uint64_t s = 0; s <= 100; ++s) {
    CountingStore counting;  // copy the nodes of the first s leaves
    {
      MerkleTree copy(&counting);
      for (uint64_t i = 0; i < s; ++i)
        AppendCommit(&copy, &counting, leaves[i]);
    }
    counting.gets_ = 0;
    absl::StatusOr<MerkleTree> open = MerkleTree::Open(&counting, s);
    ASSERT_TRUE(open.ok()) << open.status();
    const MerkleTree& opened = *open;
    EXPECT_EQ(counting.gets_,
              static_cast<uint64_t>(__builtin_popcountll(s)));  // frontier only
    EXPECT_EQ(opened.size(), s);
    EXPECT_EQ(Must(opened.Root()), Must(tree.RootAt(s))) << s;
  }
  absl::StatusOr<MerkleTree> reopened = MerkleTree::Open(&store, 100);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  for (size_t i = 100; i < leaves.size(); ++i) {
    NodeBatch a;
    NodeBatch b;
    ASSERT_TRUE(tree.Append(leaves[i], &a).ok());
    ASSERT_TRUE(reopened->Append(leaves[i], &b).ok());
    ASSERT_EQ(a.size(), b.size());
    for (size_t j = 0; j < a.size(); ++j) {
      EXPECT_EQ(a[j].key, b[j].key);
      EXPECT_EQ(a[j].hash, b[j].hash);
    }
    ASSERT_TRUE(store.Write(a).ok());
    EXPECT_EQ(Must(tree.Root()), Must(reopened->Root()));
  }
  EXPECT_EQ(Must(tree.Root()), reference::Mth(reference::Leaves(leaves)));
}

TEST(MerkleTreeTest, OpenErrors) {
  MemoryNodeStore store;
  absl::StatusOr<MerkleTree> t = MerkleTree::Open(&store, 5);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(t.status().message().find("(level 0, index 4)"), std::string::npos)
      << t.status();
  t = MerkleTree::Open(&store, kMaxTreeSize + 1);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_TRUE(MerkleTree::Open(&store, 0).ok());
}

TEST(MerkleTreeTest, ProofsReadLogarithmicallyManyNodes) {
  constexpr uint64_t kN = 70001;  // 2^16 + 4465: ragged right edge
  CountingStore store;
  MerkleTree tree(&store);
  std::vector<crypto::Bytes> leaves;
  NodeBatch batch;
  for (uint64_t i = 0; i < kN; ++i) {
    leaves.push_back({static_cast<uint8_t>(i), static_cast<uint8_t>(i >> 8),
                      static_cast<uint8_t>(i >> 16)});
    ASSERT_TRUE(tree.Append(leaves.back(), &batch).ok());
  }
  ASSERT_TRUE(store.Write(batch).ok());
  const Hash root = Must(tree.Root());
  EXPECT_EQ(root, reference::Mth(reference::Leaves(leaves)));
  EXPECT_EQ(store.gets_, 0u);
  for (uint64_t n : {kN, uint64_t{65536}, uint64_t{65537}, uint64_t{50000}}) {
    const uint64_t pieces = static_cast<uint64_t>(__builtin_popcountll(n));
    const Hash root_n = Must(tree.RootAt(n));
    for (uint64_t m : {uint64_t{0}, uint64_t{1}, n / 3, n - 2, n - 1}) {
      store.gets_ = 0;
      const std::vector<Hash> path = Must(tree.InclusionProof(m, n));
      // One read per path hash at most, plus the decomposition of an older
      // size (the current size uses the in-memory frontier).
      EXPECT_LE(store.gets_, path.size() + (n == kN ? 0 : pieces))
          << m << "/" << n;
      EXPECT_TRUE(
          VerifyInclusion(reference::LeafHash(leaves[m]), m, n, path, root_n)
              .ok())
          << m << "/" << n;
    }
  }
  for (uint64_t m :
       {uint64_t{1}, uint64_t{3}, uint64_t{65536}, uint64_t{69999}}) {
    store.gets_ = 0;
    const std::vector<Hash> proof = Must(tree.ConsistencyProof(m, kN));
    EXPECT_LE(store.gets_, proof.size());
    EXPECT_TRUE(
        VerifyConsistency(m, kN, proof, Must(tree.RootAt(m)), root).ok())
        << m;
  }
}

TEST(MerkleTreeTest, CopyIsASnapshotForRollback) {
  MemoryNodeStore store;
  MerkleTree tree(&store);
  const std::vector<crypto::Bytes> leaves = MakeLeaves(10);
  for (size_t i = 0; i < 5; ++i) AppendCommit(&tree, &store, leaves[i]);
  const MerkleTree before = tree;
  const Hash root5 = Must(tree.Root());
  NodeBatch uncommitted;
  for (size_t i = 5; i < 10; ++i) {
    ASSERT_TRUE(tree.Append(leaves[i], &uncommitted).ok());
  }
  EXPECT_NE(Must(tree.Root()), root5);
  tree = before;  // the block was not committed
  EXPECT_EQ(tree.size(), 5u);
  EXPECT_EQ(Must(tree.Root()), root5);
}

TEST(MerkleTreeTest, FailedAppendChangesNothing) {
  MemoryNodeStore store;
  MerkleTree tree(&store);
  const std::vector<crypto::Bytes> leaves = MakeLeaves(4);
  for (size_t i = 0; i < 3; ++i) AppendCommit(&tree, &store, leaves[i]);
  const Hash root3 = Must(tree.Root());

  NodeBatch batch = {{{0, 99}, Hash{}}};
  crypto::Bytes big(kMaxLeafBytes + 1);
  EXPECT_EQ(tree.Append(big, &batch).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(tree.size(), 3u);
  EXPECT_EQ(batch.size(), 1u);

  absl::StatusOr<crypto::CryptoPolicy> no_sha256 = crypto::CryptoPolicy::Parse(
      "version: 1\n"
      "rule { purpose: MERKLE allow: SHA512 }\n"
      "min_hmac_key_bytes: 16 min_hkdf_ikm_bytes: 16 "
      "argon2id { min_ops_limit: 2 min_mem_limit_bytes: 67108864 }\n");
  ASSERT_TRUE(no_sha256.ok()) << no_sha256.status();
  const Hash leaf_hash = reference::LeafHash(leaves[3]);
  crypto::InstallPolicy(*no_sha256);
  // Size 3 -> 4 must hash two parents; the policy refuses.
  EXPECT_EQ(tree.AppendLeafHash(leaf_hash, &batch).status().code(),
            absl::StatusCode::kPermissionDenied);
  crypto::InstallPolicy(crypto::CryptoPolicy::Embedded());
  EXPECT_EQ(tree.size(), 3u);
  EXPECT_EQ(batch.size(), 1u);
  EXPECT_EQ(Must(tree.Root()), root3);
  ASSERT_TRUE(tree.AppendLeafHash(leaf_hash, &batch).ok());
  EXPECT_EQ(Must(tree.Root()), reference::Mth(reference::Leaves(leaves)));
}

}  // namespace
}  // namespace virtengine::ledger::merkle
