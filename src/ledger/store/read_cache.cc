#include "src/ledger/store/read_cache.h"

#include <utility>

namespace virtengine::ledger {

absl::StatusOr<std::optional<std::string>> ReadCache::Get(
    std::string_view key) const {
  auto it = entries_.find(absl::string_view(key.data(), key.size()));
  if (it != entries_.end()) return it->second;
  absl::StatusOr<std::optional<std::string>> v = store_->Get(key);
  if (!v.ok()) return v.status();
  if (entries_.size() >= max_entries_) entries_.clear();
  entries_.emplace(std::string(key), *v);
  return v;
}

void ReadCache::Apply(const WriteSet& writes) {
  for (const auto& [k, v] : writes) {
    auto it = entries_.find(k);
    // Only keys already cached are refreshed: a commit does not fill the
    // cache with keys nobody reads (tree nodes, indexes, blocks).
    if (it != entries_.end()) it->second = v;
  }
}

}  // namespace virtengine::ledger
