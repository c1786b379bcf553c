#include "src/node/mempool.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace virtengine::node {
namespace {
std::string Key(const ledger::DecodedTx& tx) {
  return std::string(reinterpret_cast<const char*>(tx.hash.data()),
                     tx.hash.size());
}
}  // namespace

absl::Status Mempool::CanAdd(const ledger::DecodedTx& tx) const {
  if (hashes_.contains(Key(tx))) {
    return absl::AlreadyExistsError("tx already in mempool");
  }
  if (txs_.size() + 1 > max_txs_ || bytes_ + tx.raw.size() > max_bytes_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("mempool full (", txs_.size(), " txs, ", bytes_,
                     " bytes); retry later"));
  }
  return absl::OkStatus();
}

void Mempool::Add(ledger::DecodedTx tx) {
  bytes_ += tx.raw.size();
  hashes_.insert(Key(tx));
  txs_.push_back(std::move(tx));
}

std::vector<ledger::DecodedTx> Mempool::Take(size_t max_txs, size_t max_bytes) {
  std::vector<ledger::DecodedTx> out;
  size_t taken_bytes = 0;
  while (!txs_.empty() && out.size() < max_txs) {
    const size_t n = txs_.front().raw.size();
    if (!out.empty() && taken_bytes + n > max_bytes) break;
    taken_bytes += n;
    bytes_ -= n;
    hashes_.erase(Key(txs_.front()));
    out.push_back(std::move(txs_.front()));
    txs_.pop_front();
  }
  return out;
}

std::vector<ledger::DecodedTx> Mempool::TakeAll() {
  std::vector<ledger::DecodedTx> out(std::make_move_iterator(txs_.begin()),
                                     std::make_move_iterator(txs_.end()));
  txs_.clear();
  hashes_.clear();
  bytes_ = 0;
  return out;
}

}  // namespace virtengine::node
