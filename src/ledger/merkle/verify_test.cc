#include "src/ledger/merkle/verify.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "src/ledger/merkle/hasher.h"
#include "src/ledger/merkle/reference.h"
#include "src/ledger/merkle/test_vectors.h"

namespace virtengine::ledger::merkle {
namespace {

using testdata::Unhex;
using testdata::Unhex32;
using testdata::Unhex32List;

const Hash kSomeHash =
    Unhex32("abacaba000000000000000000000000000000000000000000060061e00123456");

Hash LeafHashOf(size_t i) {
  absl::StatusOr<Hash> h = HashLeaf(Unhex(testdata::kLeaves[i]));
  EXPECT_TRUE(h.ok());
  return h.ok() ? *h : Hash{};
}

Hash RootOf(uint64_t size) { return Unhex32(testdata::kRoots[size - 1]); }

std::vector<Hash> With(std::vector<Hash> v, size_t pos, const Hash& h) {
  v.insert(v.begin() + static_cast<std::ptrdiff_t>(pos), h);
  return v;
}

// The corruptions of the CT / transparency-dev suites: every one must fail.
void ExpectInclusionProbesFail(const Hash& leaf, uint64_t index, uint64_t size,
                               const std::vector<Hash>& path,
                               const Hash& root) {
  struct Probe {
    std::string desc;
    Hash leaf;
    uint64_t index;
    uint64_t size;
    std::vector<Hash> path;
    Hash root;
  };
  const Hash empty = Unhex32(testdata::kEmptyTreeHash);
  std::vector<Probe> probes = {
      {"index - 1", leaf, index - 1, size, path, root},
      {"index + 1", leaf, index + 1, size, path, root},
      {"index ^ 2", leaf, index ^ 2, size, path, root},
      {"size * 2", leaf, index, size * 2, path, root},
      {"size / 2", leaf, index, size / 2, path, root},
      {"wrong leaf", kSomeHash, index, size, path, root},
      {"empty root", leaf, index, size, path, empty},
      {"random root", leaf, index, size, path, kSomeHash},
      {"trailing zero", leaf, index, size, With(path, path.size(), Hash{}),
       root},
      {"trailing root", leaf, index, size, With(path, path.size(), root), root},
      {"preceding zero", leaf, index, size, With(path, 0, Hash{}), root},
      {"preceding root", leaf, index, size, With(path, 0, root), root},
  };
  for (size_t i = 0; i < path.size(); ++i) {
    std::vector<Hash> p = path;
    p[i][0] ^= 8;
    probes.push_back(
        {absl::StrCat("proof[", i, "] bit 3"), leaf, index, size, p, root});
    p = path;
    p[i] = empty;
    probes.push_back({absl::StrCat("proof[", i, "] = empty root"), leaf, index,
                      size, p, root});
  }
  if (!path.empty()) {
    probes.push_back({"removed last", leaf, index, size,
                      std::vector<Hash>(path.begin(), path.end() - 1), root});
  }
  if (path.size() > 1) {
    probes.push_back(
        {"inserted", leaf, index, size, With(path, 1, kSomeHash), root});
  }
  for (const Probe& p : probes) {
    EXPECT_FALSE(VerifyInclusion(p.leaf, p.index, p.size, p.path, p.root).ok())
        << p.desc << " index " << index << " size " << size;
  }
}

void ExpectConsistencyProbesFail(uint64_t size1, uint64_t size2,
                                 const std::vector<Hash>& proof,
                                 const Hash& root1, const Hash& root2) {
  struct Probe {
    std::string desc;
    uint64_t size1;
    uint64_t size2;
    Hash root1;
    Hash root2;
    std::vector<Hash> proof;
  };
  std::vector<Probe> probes = {
      {"size1 - 1", size1 - 1, size2, root1, root2, proof},
      {"size1 + 1", size1 + 1, size2, root1, root2, proof},
      {"size1 ^ 2", size1 ^ 2, size2, root1, root2, proof},
      {"size2 * 2", size1, size2 * 2, root1, root2, proof},
      {"size2 / 2", size1, size2 / 2, root1, root2, proof},
      {"wrong root1", size1, size2, kSomeHash, root2, proof},
      {"wrong root2", size1, size2, root1, kSomeHash, proof},
      {"swapped roots", size1, size2, root2, root1, proof},
      {"empty proof", size1, size2, root1, root2, {}},
      {"trailing zero", size1, size2, root1, root2,
       With(proof, proof.size(), Hash{})},
      {"trailing root1", size1, size2, root1, root2,
       With(proof, proof.size(), root1)},
      {"trailing root2", size1, size2, root1, root2,
       With(proof, proof.size(), root2)},
      {"preceding zero", size1, size2, root1, root2, With(proof, 0, Hash{})},
      {"preceding root1", size1, size2, root1, root2, With(proof, 0, root1)},
      {"preceding root2", size1, size2, root1, root2, With(proof, 0, root2)},
      {"preceding proof[0]", size1, size2, root1, root2,
       With(proof, 0, proof[0])},
      {"truncated", size1, size2, root1, root2,
       std::vector<Hash>(proof.begin(), proof.end() - 1)},
  };
  for (size_t i = 0; i < proof.size(); ++i) {
    std::vector<Hash> p = proof;
    p[i][0] ^= 16;
    probes.push_back(
        {absl::StrCat("proof[", i, "] bit 4"), size1, size2, root1, root2, p});
  }
  for (const Probe& p : probes) {
    EXPECT_FALSE(
        VerifyConsistency(p.size1, p.size2, p.proof, p.root1, p.root2).ok())
        << p.desc << " sizes " << size1 << ", " << size2;
  }
}

TEST(VerifyTest, PublishedInclusionProofs) {
  for (const testdata::InclusionVector& v : testdata::kInclusionProofs) {
    const Hash leaf = LeafHashOf(v.leaf_index);
    const std::vector<Hash> path = Unhex32List(v.path);
    const Hash root = RootOf(v.tree_size);
    absl::StatusOr<Hash> got =
        RootFromInclusionProof(leaf, v.leaf_index, v.tree_size, path);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, root);
    EXPECT_TRUE(
        VerifyInclusion(leaf, v.leaf_index, v.tree_size, path, root).ok());
    EXPECT_EQ(InclusionProofSize(v.leaf_index, v.tree_size), path.size());
    ExpectInclusionProbesFail(leaf, v.leaf_index, v.tree_size, path, root);
  }
}

TEST(VerifyTest, PublishedConsistencyProofs) {
  for (const testdata::ConsistencyVector& v : testdata::kConsistencyProofs) {
    const std::vector<Hash> proof = Unhex32List(v.proof);
    const Hash root1 = RootOf(v.size1);
    const Hash root2 = RootOf(v.size2);
    EXPECT_TRUE(VerifyConsistency(v.size1, v.size2, proof, root1, root2).ok())
        << v.size1 << " -> " << v.size2;
    EXPECT_EQ(ConsistencyProofSize(v.size1, v.size2), proof.size());
    if (!proof.empty()) {
      ExpectConsistencyProbesFail(v.size1, v.size2, proof, root1, root2);
    }
  }
}

TEST(VerifyTest, ReferenceProofsForAllSmallTrees) {
  std::vector<crypto::Bytes> leaves;
  leaves.reserve(128);
  for (int i = 0; i < 128; ++i) leaves.push_back({static_cast<uint8_t>(i)});
  const reference::Leaves all(leaves);
  for (uint64_t n = 1; n <= 40; ++n) {
    const Hash root = reference::Mth(all.subspan(0, n));
    for (uint64_t m = 0; m < n; ++m) {
      const std::vector<Hash> path = reference::Path(m, all.subspan(0, n));
      const Hash leaf = reference::LeafHash(leaves[m]);
      ASSERT_TRUE(VerifyInclusion(leaf, m, n, path, root).ok())
          << m << "/" << n;
      ExpectInclusionProbesFail(leaf, m, n, path, root);
    }
    for (uint64_t m = 1; m < n; ++m) {
      const std::vector<Hash> proof = reference::Proof(m, all.subspan(0, n));
      const Hash root1 = reference::Mth(all.subspan(0, m));
      ASSERT_TRUE(VerifyConsistency(m, n, proof, root1, root).ok())
          << m << " -> " << n;
      ExpectConsistencyProbesFail(m, n, proof, root1, root);
    }
  }
}

TEST(VerifyTest, ProofSizesMatchReference) {
  std::vector<crypto::Bytes> leaves(70);
  const reference::Leaves all(leaves);
  for (uint64_t n = 0; n <= 70; ++n) {
    for (uint64_t m = 0; m <= n + 1; ++m) {
      const size_t incl =
          m < n ? reference::Path(m, all.subspan(0, n)).size() : 0;
      EXPECT_EQ(InclusionProofSize(m, n), incl) << m << "/" << n;
      if (m <= n) {
        EXPECT_EQ(ConsistencyProofSize(m, n),
                  reference::Proof(m, all.subspan(0, n)).size())
            << m << " -> " << n;
      }
    }
  }
  // Sizes at the edges of the 64-bit range stay within the maxima.
  const uint64_t kMax = ~uint64_t{0};
  EXPECT_EQ(InclusionProofSize(0, uint64_t{1} << 63), 63u);
  EXPECT_EQ(InclusionProofSize(kMax - 1, kMax), 64u - 1);
  EXPECT_EQ(InclusionProofSize(0, kMax), 64u);
  EXPECT_EQ(InclusionProofSize(kMax / 2, kMax), 64u);
  EXPECT_EQ(InclusionProofSize(kMax / 2 + 1, kMax), 64u);
  EXPECT_EQ(InclusionProofSize(kMax - 2, kMax), 64u);
  EXPECT_EQ(InclusionProofSize(2, kMax), 64u);
  EXPECT_EQ(ConsistencyProofSize(3, kMax), kMaxConsistencyProofHashes);
  EXPECT_EQ(ConsistencyProofSize(kMax - 1, kMax), 64u);
  // The maxima are attained and never exceeded along these sizes.
  for (int b = 1; b < 64; ++b) {
    for (uint64_t size2 : {kMax, kMax - 1, (uint64_t{1} << b) + 1}) {
      for (uint64_t m : {uint64_t{1} << (b - 1), (uint64_t{1} << b) - 1,
                         uint64_t{3} << (b - 1), uint64_t{1} << b}) {
        EXPECT_LE(InclusionProofSize(m, size2), kMaxInclusionProofHashes);
        EXPECT_LE(ConsistencyProofSize(m, size2), kMaxConsistencyProofHashes);
      }
    }
  }
  EXPECT_EQ(ConsistencyProofSize(5, 5), 0u);
  EXPECT_EQ(ConsistencyProofSize(6, 5), 0u);
  EXPECT_EQ(ConsistencyProofSize(0, 5), 0u);
}

TEST(VerifyTest, InclusionErrorStatuses) {
  const Hash leaf = LeafHashOf(0);
  const std::vector<Hash> path =
      Unhex32List(testdata::kInclusionProofs[1].path);
  const Hash root = RootOf(8);

  absl::Status s = VerifyInclusion(leaf, 8, 8, path, root);
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(s.message(), "merkle: leaf index 8 out of range for tree size 8");
  EXPECT_EQ(VerifyInclusion(leaf, 0, 0, {}, root).code(),
            absl::StatusCode::kOutOfRange);

  s = VerifyInclusion(leaf, 0, 8, With(path, 3, root), root);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "merkle: audit path too long: 4 hashes, leaf 0 of a tree of size 8 "
            "needs 3");
  s = VerifyInclusion(leaf, 0, 8, {path[0], path[1]}, root);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      s.message(),
      "merkle: audit path too short: 2 hashes, leaf 0 of a tree of size 8 "
      "needs 3");
  // Far too long: refused by length before any hashing.
  EXPECT_EQ(VerifyInclusion(leaf, 0, 8, std::vector<Hash>(1000), root).code(),
            absl::StatusCode::kInvalidArgument);

  s = VerifyInclusion(leaf, 0, 8, path, kSomeHash);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(s.message(), absl::StrCat("merkle: root mismatch: computed ",
                                      testdata::kRoots[7], ", expected ",
                                      HashToHex(kSomeHash)));
}

TEST(VerifyTest, SingleLeafTree) {
  absl::StatusOr<Hash> leaf = HashLeaf(crypto::AsBytes("data"));
  ASSERT_TRUE(leaf.ok());
  EXPECT_TRUE(VerifyInclusion(*leaf, 0, 1, {}, *leaf).ok());
  EXPECT_EQ(VerifyInclusion(*leaf, 0, 1, {}, kSomeHash).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifyInclusion(*leaf, 0, 1, {*leaf}, *leaf).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyInclusion(*leaf, 1, 1, {}, *leaf).code(),
            absl::StatusCode::kOutOfRange);
}

TEST(VerifyTest, HugeTreeSizesDoNotMisbehave) {
  const uint64_t kMax = ~uint64_t{0};
  for (uint64_t index : {uint64_t{0}, kMax / 2, kMax - 1}) {
    const std::vector<Hash> path(InclusionProofSize(index, kMax));
    EXPECT_EQ(VerifyInclusion(kSomeHash, index, kMax, path, kSomeHash).code(),
              absl::StatusCode::kUnauthenticated);
  }
  for (uint64_t size1 : {uint64_t{1}, uint64_t{3}, kMax / 2, kMax - 1}) {
    const std::vector<Hash> proof(ConsistencyProofSize(size1, kMax));
    EXPECT_EQ(
        VerifyConsistency(size1, kMax, proof, kSomeHash, kSomeHash).code(),
        absl::StatusCode::kUnauthenticated)
        << size1;
  }
}

// Documented in docs/ledger/merkle.md: a proof binds the leaf position only
// together with the tree size, so (tree_size, root) must come as a pair from
// the signed header. These claims pair a size with another size's root.
TEST(VerifyTest, SizeAndRootMustComeTogether) {
  const Hash l0 = LeafHashOf(0);
  const Hash l1 = LeafHashOf(1);
  const Hash l2 = LeafHashOf(2);
  // Leaf 1 of 2, presented as leaf 2 of 3 against the 2-leaf root.
  EXPECT_TRUE(VerifyInclusion(l1, 2, 3, {l0}, RootOf(2)).ok());
  EXPECT_FALSE(VerifyInclusion(l1, 2, 3, {l0}, RootOf(3)).ok());
  // Leaf 0 of 3, presented as leaf 0 of 4 against the 3-leaf root.
  const std::vector<Hash> path03 = {l1, l2};
  EXPECT_TRUE(VerifyInclusion(l0, 0, 3, path03, RootOf(3)).ok());
  EXPECT_TRUE(VerifyInclusion(l0, 0, 4, path03, RootOf(3)).ok());
  EXPECT_FALSE(VerifyInclusion(l0, 0, 4, path03, RootOf(4)).ok());
}

TEST(VerifyTest, ConsistencyEdgeCases) {
  const Hash root1 = Unhex32(
      "0101010101010101010101010101010101010101010101010101010101010101");
  const Hash root2 = Unhex32(
      "0202020202020202020202020202020202020202020202020202020202020202");
  const Hash empty = Unhex32(testdata::kEmptyTreeHash);
  using Code = absl::StatusCode;
  struct Case {
    uint64_t size1, size2;
    Hash root1, root2;
    std::vector<Hash> proof;
    Code want;
  };
  const std::vector<Case> cases = {
      // Equal sizes: roots must be equal and the proof empty.
      {0, 0, root1, root2, {}, Code::kUnauthenticated},
      {1, 1, root1, root2, {}, Code::kUnauthenticated},
      {0, 0, root1, root1, {}, Code::kUnauthenticated},  // not the empty tree
      {0, 0, empty, empty, {}, Code::kOk},
      {1, 1, root2, root2, {}, Code::kOk},
      {0, 0, empty, root2, {}, Code::kUnauthenticated},
      {1, 1, empty, root2, {}, Code::kUnauthenticated},
      // The empty tree is a prefix of every tree, if root1 really is it.
      {0, 1, empty, root2, {}, Code::kOk},
      {0, 1, root1, root2, {}, Code::kUnauthenticated},
      // Time travel to the past.
      {1, 0, root1, root2, {}, Code::kOutOfRange},
      {2, 1, root1, root2, {}, Code::kOutOfRange},
      // Empty proof.
      {1, 2, root1, root2, {}, Code::kInvalidArgument},
      // Roots match but the proof is not empty.
      {0, 0, empty, empty, {empty}, Code::kInvalidArgument},
      {0, 1, empty, empty, {empty}, Code::kInvalidArgument},
      {1, 1, empty, empty, {empty}, Code::kInvalidArgument},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(
        VerifyConsistency(c.size1, c.size2, c.proof, c.root1, c.root2).code(),
        c.want)
        << c.size1 << " -> " << c.size2;
  }
}

TEST(VerifyTest, ConsistencyErrorMessages) {
  const testdata::ConsistencyVector& v = testdata::kConsistencyProofs[2];
  const std::vector<Hash> proof = Unhex32List(v.proof);  // 6 -> 8
  absl::Status s = VerifyConsistency(9, 8, proof, RootOf(6), RootOf(8));
  EXPECT_EQ(s.message(), "merkle: consistency: size1 9 exceeds size2 8");
  s = VerifyConsistency(6, 8, {proof[0]}, RootOf(6), RootOf(8));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "merkle: consistency proof too short: 1 hashes, consistency of "
            "sizes 6 and 8 needs 3");
  s = VerifyConsistency(6, 8, proof, kSomeHash, RootOf(8));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(
      s.message(),
      absl::StrCat("merkle: consistency: root1 mismatch: computed ",
                   testdata::kRoots[5], ", expected ", HashToHex(kSomeHash)));
  s = VerifyConsistency(6, 8, proof, RootOf(6), kSomeHash);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(s.message().find("root2 mismatch"), std::string::npos);
}

}  // namespace
}  // namespace virtengine::ledger::merkle
