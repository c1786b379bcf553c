// Storage of the Merkle tree's node hashes, keyed by (level, index).
//
// Node (level, index) is the root of the perfect subtree over leaves
// [index * 2^level, (index + 1) * 2^level); level 0 holds the leaf hashes.
// Only perfect subtrees are stored: a tree of n leaves has exactly the nodes
// with (index + 1) * 2^level <= n, i.e. 2n - popcount(n) of them, and an
// append never changes a stored node (it only adds new ones).
//
// Byte key (EncodeNodeKey), 9 bytes: level (1 byte, 0..63) followed by index
// (8 bytes, big-endian). Big-endian keeps each level's nodes in index order
// under a byte-wise comparator, so appends write at the end of each level's
// key range. A store shared with other data (RocksDB) puts these keys under a
// prefix or column family of its own; docs/ledger/merkle.md.
#ifndef VIRTENGINE_SRC_LEDGER_MERKLE_NODE_STORE_H_
#define VIRTENGINE_SRC_LEDGER_MERKLE_NODE_STORE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "src/ledger/merkle/hasher.h"

namespace virtengine::ledger::merkle {

// Trees hold at most 2^63 leaves, so levels are 0..63.
inline constexpr uint64_t kMaxTreeSize = uint64_t{1} << 63;
inline constexpr int kMaxLevel = 63;
inline constexpr size_t kNodeKeySize = 9;

struct NodeKey {
  uint8_t level = 0;
  uint64_t index = 0;

  friend bool operator==(const NodeKey& a, const NodeKey& b) {
    return a.level == b.level && a.index == b.index;
  }
  friend bool operator!=(const NodeKey& a, const NodeKey& b) {
    return !(a == b);
  }
  template <typename H>
  friend H AbslHashValue(H h, const NodeKey& k) {
    return H::combine(std::move(h), k.level, k.index);
  }
};

// "(level L, index I)" for messages.
std::string NodeKeyName(const NodeKey& key);

// True when the node can exist in a tree of at most kMaxTreeSize leaves:
// level <= 63 and (index + 1) * 2^level <= 2^63.
bool ValidNodeKey(const NodeKey& key);

// The 9-byte storage key. `key` must be valid (ValidNodeKey).
std::string EncodeNodeKey(const NodeKey& key);

// Inverse of EncodeNodeKey; InvalidArgument for a wrong length or a key
// outside the tree's range.
absl::StatusOr<NodeKey> DecodeNodeKey(std::string_view bytes);

struct NodeWrite {
  NodeKey key;
  Hash hash;
};

// The node writes of one or more appends, in the order they were made. The
// ledger commits them in the same write batch as the block that appended
// the leaves.
using NodeBatch = std::vector<NodeWrite>;

class NodeStore {
 public:
  virtual ~NodeStore() = default;

  // The stored hash; NotFound when the node was never written.
  virtual absl::StatusOr<Hash> Get(const NodeKey& key) const = 0;

  // Stores one node. Node hashes never change: writing a different hash for
  // a stored key is a bug, and an implementation may refuse it
  // (FailedPrecondition) or overwrite.
  virtual absl::Status Put(const NodeKey& key, const Hash& hash) = 0;

  // Stores every node of `batch`. The default calls Put in order; stores
  // with transactions apply all writes or none.
  virtual absl::Status Write(const NodeBatch& batch);
};

// A NodeStore in memory (tests, tools, the ledger before RocksDB). Safe for
// concurrent use. Put refuses invalid keys (InvalidArgument) and a different
// hash for a stored key (FailedPrecondition); Write is all-or-nothing.
class MemoryNodeStore final : public NodeStore {
 public:
  absl::StatusOr<Hash> Get(const NodeKey& key) const override;
  absl::Status Put(const NodeKey& key, const Hash& hash) override;
  absl::Status Write(const NodeBatch& batch) override;

  size_t size() const;

 private:
  absl::Status CheckLocked(const NodeKey& key, const Hash& hash) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  absl::flat_hash_map<NodeKey, Hash> nodes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace virtengine::ledger::merkle

#endif  // VIRTENGINE_SRC_LEDGER_MERKLE_NODE_STORE_H_
