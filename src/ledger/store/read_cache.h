#ifndef VIRTENGINE_SRC_LEDGER_STORE_READ_CACHE_H_
#define VIRTENGINE_SRC_LEDGER_STORE_READ_CACHE_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "src/ledger/store/store.h"

namespace virtengine::ledger {

// A read-through cache of committed values (and of absent keys) over a
// Store, for the ledger's execution and admission paths, which read the
// same few keys (sequences, balances, parameters) over and over. The owner
// keeps it coherent by passing every committed write set to Apply; it is
// bounded (cleared when it reaches max_entries). Not thread-safe: used only
// by the ledger's mutators, which the caller serialises. Scans are not
// cached.
class ReadCache final : public KvReader {
 public:
  explicit ReadCache(const Store* store, size_t max_entries = 1 << 20)
      : store_(store), max_entries_(max_entries) {}

  absl::StatusOr<std::optional<std::string>> Get(
      std::string_view key) const override;
  absl::Status Scan(std::string_view prefix, const ScanFn& fn) const override {
    return store_->Scan(prefix, fn);
  }

  // Records what a commit wrote, so later reads see it.
  void Apply(const WriteSet& writes);
  void Clear() { entries_.clear(); }
  size_t size() const { return entries_.size(); }

 private:
  const Store* store_;
  size_t max_entries_;
  mutable absl::flat_hash_map<std::string, std::optional<std::string>> entries_;
};

}  // namespace virtengine::ledger

#endif  // VIRTENGINE_SRC_LEDGER_STORE_READ_CACHE_H_
