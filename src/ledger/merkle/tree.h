// The ledger's append-only Merkle tree over committed transaction hashes
// (RFC 6962 section 2.1 shape and hashing), with audit paths and consistency
// proofs generated from stored node hashes.
//
// Cost: an append hashes 1 + (trailing one bits of the old size) nodes
// (amortised 2, at most 64) and reads nothing; the root of the current tree
// comes from the in-memory frontier (the roots of the perfect subtrees that
// make up the tree, one per set bit of the size) in popcount(size) - 1
// hashes; a proof reads O(log n) stored nodes.
//
// Writes are not made by the tree: every append adds its new nodes to a
// caller-provided NodeBatch, which the caller commits to the NodeStore (for
// the ledger: in the block's RocksDB write batch). Until then, proofs that
// need the new nodes fail with DataLoss. A MerkleTree is a small value
// (store pointer, size, frontier): copy it before a block and restore the
// copy if the block is not committed. Not thread-safe for writes; const
// methods may run concurrently with each other if the store's Get is
// thread-safe.
#ifndef VIRTENGINE_SRC_LEDGER_MERKLE_TREE_H_
#define VIRTENGINE_SRC_LEDGER_MERKLE_TREE_H_

#include <array>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/crypto/bytes.h"
#include "src/ledger/merkle/hasher.h"
#include "src/ledger/merkle/node_store.h"

namespace virtengine::ledger::merkle {

struct AppendResult {
  uint64_t leaf_index = 0;  // zero-based position of the new leaf
  Hash leaf_hash{};         // SHA-256(0x00 || leaf)
};

class MerkleTree {
 public:
  // An empty tree over `store` (not owned; must outlive the tree).
  explicit MerkleTree(const NodeStore* store);

  // The tree of `size` leaves whose nodes `store` holds: reads the
  // popcount(size) frontier nodes. OutOfRange above kMaxTreeSize, DataLoss
  // when a frontier node is missing.
  static absl::StatusOr<MerkleTree> Open(const NodeStore* store, uint64_t size);

  uint64_t size() const { return size_; }

  // Appends SHA-256(0x00 || leaf) (leaf: the transaction hash) and adds the
  // new nodes to `batch`. On error the tree and batch are unchanged.
  absl::StatusOr<AppendResult> Append(crypto::ByteView leaf, NodeBatch* batch);
  // Appends an already computed leaf hash.
  absl::StatusOr<AppendResult> AppendLeafHash(const Hash& leaf_hash,
                                              NodeBatch* batch);

  // MTH of the whole tree (SHA-256("") when empty). Reads nothing.
  absl::StatusOr<Hash> Root() const;
  // MTH of the first `tree_size` leaves, tree_size <= size().
  absl::StatusOr<Hash> RootAt(uint64_t tree_size) const;
  // The stored leaf hash; OutOfRange when index >= size().
  absl::StatusOr<Hash> LeafHash(uint64_t index) const;

  // PATH(leaf_index, D[tree_size]) of RFC 6962 2.1.1, leaf side first:
  // OutOfRange unless leaf_index < tree_size <= size().
  absl::StatusOr<std::vector<Hash>> InclusionProof(uint64_t leaf_index,
                                                   uint64_t tree_size) const;
  // PROOF(size1, D[size2]) of RFC 6962 2.1.2 (empty for size1 == 0 or
  // size1 == size2): OutOfRange unless size1 <= size2 <= size().
  absl::StatusOr<std::vector<Hash>> ConsistencyProof(uint64_t size1,
                                                     uint64_t size2) const;

 private:
  // The perfect subtrees whose concatenation is the tree of some size,
  // largest (leftmost) first, with suffix[i] = MTH of pieces i..end.
  struct Decomposition;

  absl::StatusOr<Hash> ReadNode(const NodeKey& key) const;
  absl::StatusOr<Decomposition> Decompose(uint64_t tree_size) const;
  // MTH of leaves [lo, hi): a perfect aligned range or a suffix of `d`.
  absl::StatusOr<Hash> RangeHash(const Decomposition& d, uint64_t lo,
                                 uint64_t hi) const;

  const NodeStore* store_;
  uint64_t size_ = 0;
  // frontier_[l] is node (l, (size_ >> l) - 1) when bit l of size_ is set.
  std::array<Hash, kMaxLevel + 1> frontier_{};
};

}  // namespace virtengine::ledger::merkle

#endif  // VIRTENGINE_SRC_LEDGER_MERKLE_TREE_H_
