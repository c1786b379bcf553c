#include "src/ledger/store/state_view.h"

#include <vector>

#include "absl/strings/str_cat.h"

namespace virtengine::ledger {

absl::StatusOr<std::optional<std::string>> StateView::Get(
    std::string_view key) const {
  auto it = writes_.find(key);
  if (it != writes_.end()) return it->second;
  return base_->Get(key);
}

absl::Status StateView::Scan(std::string_view prefix, const ScanFn& fn) const {
  // Base entries in order, then merged with the overlay in order. The base
  // scan is materialised first so that the overlay can shadow it; module
  // scans are over bounded prefixes.
  std::vector<std::pair<std::string, std::string>> base;
  if (absl::Status s = base_->Scan(prefix,
                                   [&](std::string_view k, std::string_view v) {
                                     base.emplace_back(k, v);
                                     return true;
                                   });
      !s.ok()) {
    return s;
  }
  auto ov = writes_.lower_bound(prefix);
  auto in_prefix = [&](const std::string& k) {
    return k.compare(0, prefix.size(), prefix) == 0;
  };
  size_t bi = 0;
  while (bi < base.size() || (ov != writes_.end() && in_prefix(ov->first))) {
    const bool ov_live = ov != writes_.end() && in_prefix(ov->first);
    if (ov_live && (bi >= base.size() || ov->first <= base[bi].first)) {
      if (bi < base.size() && ov->first == base[bi].first) ++bi;  // shadowed
      if (ov->second.has_value() && !fn(ov->first, *ov->second)) break;
      ++ov;
    } else {
      if (!fn(base[bi].first, base[bi].second)) break;
      ++bi;
    }
  }
  return absl::OkStatus();
}

void StateView::Put(std::string_view key, std::string_view value) {
  writes_[std::string(key)] = std::string(value);
}

void StateView::Delete(std::string_view key) {
  writes_[std::string(key)] = std::nullopt;
}

void StateView::MergeInto(StateView* parent) const {
  for (const auto& [k, v] : writes_) parent->writes_[k] = v;
}

std::string PrefixView::Key(std::string_view key) const {
  return absl::StrCat(prefix_, std::string(key));
}

absl::StatusOr<std::optional<std::string>> PrefixView::Get(
    std::string_view key) const {
  return view_->Get(Key(key));
}

void PrefixView::Put(std::string_view key, std::string_view value) {
  view_->Put(Key(key), value);
}

void PrefixView::Delete(std::string_view key) { view_->Delete(Key(key)); }

absl::Status PrefixView::Scan(std::string_view prefix, const ScanFn& fn) const {
  const size_t n = prefix_.size();
  return view_->Scan(Key(prefix), [&](std::string_view k, std::string_view v) {
    return fn(k.substr(n), v);
  });
}

}  // namespace virtengine::ledger
