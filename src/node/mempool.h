#ifndef VIRTENGINE_SRC_NODE_MEMPOOL_H_
#define VIRTENGINE_SRC_NODE_MEMPOOL_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "src/ledger/tx/tx.h"

namespace virtengine::node {

// Admitted transactions waiting for a block, in admission order (the order
// the ledger's check state applied them in). Bounded by count and bytes.
// Not thread-safe: the node guards it with its ledger mutex.
class Mempool {
 public:
  Mempool(size_t max_txs, size_t max_bytes)
      : max_txs_(max_txs), max_bytes_(max_bytes) {}

  // ALREADY_EXISTS "tx already in mempool" for a duplicate hash,
  // RESOURCE_EXHAUSTED "mempool full (N txs, M bytes)" when over a bound.
  // Checked before admission so a refused tx never touches the check state.
  absl::Status CanAdd(const ledger::DecodedTx& tx) const;
  // Adds a tx that passed CanAdd and the ledger's AdmitTx.
  void Add(ledger::DecodedTx tx);

  // Removes and returns up to `max_txs` txs / `max_bytes` raw bytes from the
  // front (at least one tx when any wait, even if it alone is larger).
  std::vector<ledger::DecodedTx> Take(size_t max_txs, size_t max_bytes);

  // Removes and returns everything (to re-admit after a block the node did
  // not propose, or one whose results differ from admission).
  std::vector<ledger::DecodedTx> TakeAll();

  size_t size() const { return txs_.size(); }
  size_t bytes() const { return bytes_; }
  bool empty() const { return txs_.empty(); }

 private:
  size_t max_txs_;
  size_t max_bytes_;
  size_t bytes_ = 0;
  std::deque<ledger::DecodedTx> txs_;
  absl::flat_hash_set<std::string> hashes_;
};

}  // namespace virtengine::node

#endif  // VIRTENGINE_SRC_NODE_MEMPOOL_H_
