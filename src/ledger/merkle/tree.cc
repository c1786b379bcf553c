#include "src/ledger/merkle/tree.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace virtengine::ledger::merkle {

namespace {

bool IsPowerOfTwo(uint64_t x) { return x != 0 && (x & (x - 1)) == 0; }

int TrailingZeros(uint64_t x) {  // x != 0
  int n = 0;
  while ((x & 1) == 0) {
    ++n;
    x >>= 1;
  }
  return n;
}

// Largest power of two strictly below n (n >= 2).
uint64_t SplitPoint(uint64_t n) {
  uint64_t k = 1;
  while (k < n - k) k <<= 1;  // k * 2 < n without overflow
  return k;
}

}  // namespace

struct MerkleTree::Decomposition {
  struct Piece {
    int level;
    uint64_t start;
    Hash hash;
  };
  uint64_t tree_size = 0;
  std::vector<Piece> pieces;
  std::vector<Hash> suffix;
};

MerkleTree::MerkleTree(const NodeStore* store) : store_(store) {}

absl::StatusOr<MerkleTree> MerkleTree::Open(const NodeStore* store,
                                            uint64_t size) {
  if (size > kMaxTreeSize) {
    return absl::OutOfRangeError(absl::StrCat(
        "merkle: tree size ", size, " exceeds the maximum of 2^63 leaves"));
  }
  MerkleTree tree(store);
  for (int level = 0; level <= kMaxLevel; ++level) {
    if (((size >> level) & 1) == 0) continue;
    absl::StatusOr<Hash> h = tree.ReadNode(
        NodeKey{static_cast<uint8_t>(level), (size >> level) - 1});
    if (!h.ok()) return h.status();
    tree.frontier_[level] = *h;
  }
  tree.size_ = size;
  return tree;
}

absl::StatusOr<AppendResult> MerkleTree::Append(crypto::ByteView leaf,
                                                NodeBatch* batch) {
  absl::StatusOr<Hash> h = HashLeaf(leaf);
  if (!h.ok()) return h.status();
  return AppendLeafHash(*h, batch);
}

absl::StatusOr<AppendResult> MerkleTree::AppendLeafHash(const Hash& leaf_hash,
                                                        NodeBatch* batch) {
  if (size_ >= kMaxTreeSize) {
    return absl::ResourceExhaustedError("merkle: tree is full (2^63 leaves)");
  }
  const uint64_t index = size_;
  // The new leaf completes one perfect subtree per trailing one bit of the
  // old size: merge it with the frontier node of each such level.
  std::array<NodeWrite, kMaxLevel + 1> writes;
  size_t n = 0;
  writes[n++] = NodeWrite{NodeKey{0, index}, leaf_hash};
  Hash cur = leaf_hash;
  int level = 0;
  uint64_t i = index;
  while ((i & 1) == 1) {
    absl::StatusOr<Hash> parent = HashChildren(frontier_[level], cur);
    if (!parent.ok()) return parent.status();
    cur = *parent;
    ++level;
    i >>= 1;
    writes[n++] = NodeWrite{NodeKey{static_cast<uint8_t>(level), i}, cur};
  }
  frontier_[level] = cur;
  size_ = index + 1;
  batch->insert(batch->end(), writes.begin(), writes.begin() + n);
  return AppendResult{index, leaf_hash};
}

absl::StatusOr<Hash> MerkleTree::Root() const {
  if (size_ == 0) return EmptyRoot();
  // Fold the frontier from the smallest (rightmost) subtree up:
  // MTH = H(F_a, H(F_b, ... F_z)).
  int level = TrailingZeros(size_);
  Hash acc = frontier_[level];
  for (++level; level <= kMaxLevel; ++level) {
    if (((size_ >> level) & 1) == 0) continue;
    absl::StatusOr<Hash> h = HashChildren(frontier_[level], acc);
    if (!h.ok()) return h.status();
    acc = *h;
  }
  return acc;
}

absl::StatusOr<Hash> MerkleTree::RootAt(uint64_t tree_size) const {
  if (tree_size > size_) {
    return absl::OutOfRangeError(absl::StrCat(
        "merkle: tree size ", tree_size, " exceeds the current size ", size_));
  }
  if (tree_size == size_) return Root();
  if (tree_size == 0) return EmptyRoot();
  absl::StatusOr<Decomposition> d = Decompose(tree_size);
  if (!d.ok()) return d.status();
  return d->suffix.front();
}

absl::StatusOr<Hash> MerkleTree::LeafHash(uint64_t index) const {
  if (index >= size_) {
    return absl::OutOfRangeError(absl::StrCat(
        "merkle: leaf index ", index, " out of range for tree size ", size_));
  }
  return ReadNode(NodeKey{0, index});
}

absl::StatusOr<std::vector<Hash>> MerkleTree::InclusionProof(
    uint64_t leaf_index, uint64_t tree_size) const {
  if (tree_size > size_) {
    return absl::OutOfRangeError(absl::StrCat(
        "merkle: tree size ", tree_size, " exceeds the current size ", size_));
  }
  if (leaf_index >= tree_size) {
    return absl::OutOfRangeError(absl::StrCat("merkle: leaf index ", leaf_index,
                                              " out of range for tree size ",
                                              tree_size));
  }
  absl::StatusOr<Decomposition> d = Decompose(tree_size);
  if (!d.ok()) return d.status();
  // Walk from the root down to the leaf; the sibling of each step is the
  // other half of the RFC 6962 split. Collected root side first.
  std::vector<Hash> path;
  uint64_t lo = 0;
  uint64_t hi = tree_size;
  while (hi - lo > 1) {
    const uint64_t k = SplitPoint(hi - lo);
    absl::StatusOr<Hash> sibling;
    if (leaf_index < lo + k) {
      sibling = RangeHash(*d, lo + k, hi);
      hi = lo + k;
    } else {
      sibling = RangeHash(*d, lo, lo + k);
      lo += k;
    }
    if (!sibling.ok()) return sibling.status();
    path.push_back(*sibling);
  }
  std::reverse(path.begin(), path.end());
  return path;
}

absl::StatusOr<std::vector<Hash>> MerkleTree::ConsistencyProof(
    uint64_t size1, uint64_t size2) const {
  if (size2 > size_) {
    return absl::OutOfRangeError(absl::StrCat(
        "merkle: tree size ", size2, " exceeds the current size ", size_));
  }
  if (size1 > size2) {
    return absl::OutOfRangeError(absl::StrCat("merkle: consistency: size1 ",
                                              size1, " exceeds size2 ", size2));
  }
  std::vector<Hash> proof;
  if (size1 == 0 || size1 == size2) return proof;
  absl::StatusOr<Decomposition> d = Decompose(size2);
  if (!d.ok()) return d.status();
  // SUBPROOF(m, D[lo:hi], b) unrolled; m is the absolute end of the old tree.
  uint64_t lo = 0;
  uint64_t hi = size2;
  bool whole_old_tree = true;  // RFC 6962's b
  while (true) {
    absl::StatusOr<Hash> h;
    if (size1 == hi) {
      if (whole_old_tree) break;
      h = RangeHash(*d, lo, hi);
      if (!h.ok()) return h.status();
      proof.push_back(*h);
      break;
    }
    const uint64_t k = SplitPoint(hi - lo);
    if (size1 - lo <= k) {
      h = RangeHash(*d, lo + k, hi);
      hi = lo + k;
    } else {
      h = RangeHash(*d, lo, lo + k);
      lo += k;
      whole_old_tree = false;
    }
    if (!h.ok()) return h.status();
    proof.push_back(*h);
  }
  std::reverse(proof.begin(), proof.end());
  return proof;
}

absl::StatusOr<Hash> MerkleTree::ReadNode(const NodeKey& key) const {
  absl::StatusOr<Hash> h = store_->Get(key);
  if (h.ok()) return h;
  if (absl::IsNotFound(h.status())) {
    return absl::DataLossError(absl::StrCat(
        "merkle: node ", NodeKeyName(key),
        " missing from the node store (was the append batch committed?)"));
  }
  return absl::Status(h.status().code(),
                      absl::StrCat("merkle: reading node ", NodeKeyName(key),
                                   ": ", h.status().message()));
}

absl::StatusOr<MerkleTree::Decomposition> MerkleTree::Decompose(
    uint64_t tree_size) const {
  Decomposition d;
  d.tree_size = tree_size;
  uint64_t start = 0;
  for (int level = kMaxLevel; level >= 0; --level) {
    if (((tree_size >> level) & 1) == 0) continue;
    Hash h;
    if (tree_size == size_) {
      h = frontier_[level];
    } else {
      absl::StatusOr<Hash> r =
          ReadNode(NodeKey{static_cast<uint8_t>(level), start >> level});
      if (!r.ok()) return r.status();
      h = *r;
    }
    d.pieces.push_back({level, start, h});
    start += uint64_t{1} << level;
  }
  d.suffix.resize(d.pieces.size());
  if (!d.pieces.empty()) {
    d.suffix.back() = d.pieces.back().hash;
    for (size_t i = d.pieces.size() - 1; i-- > 0;) {
      absl::StatusOr<Hash> h = HashChildren(d.pieces[i].hash, d.suffix[i + 1]);
      if (!h.ok()) return h.status();
      d.suffix[i] = *h;
    }
  }
  return d;
}

absl::StatusOr<Hash> MerkleTree::RangeHash(const Decomposition& d, uint64_t lo,
                                           uint64_t hi) const {
  const uint64_t len = hi - lo;
  if (IsPowerOfTwo(len) && lo % len == 0) {
    const int level = TrailingZeros(len);
    for (const Decomposition::Piece& p : d.pieces) {
      if (p.start == lo && p.level == level) return p.hash;
    }
    return ReadNode(NodeKey{static_cast<uint8_t>(level), lo >> level});
  }
  if (hi == d.tree_size) {
    for (size_t i = 0; i < d.pieces.size(); ++i) {
      if (d.pieces[i].start == lo) return d.suffix[i];
    }
  }
  return absl::InternalError(
      absl::StrCat("merkle: range [", lo, ", ", hi,
                   ") is not a node of the tree of size ", d.tree_size));
}

}  // namespace virtengine::ledger::merkle
