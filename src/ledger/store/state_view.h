#ifndef VIRTENGINE_SRC_LEDGER_STORE_STATE_VIEW_H_
#define VIRTENGINE_SRC_LEDGER_STORE_STATE_VIEW_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/ledger/store/store.h"

namespace virtengine::ledger {

// Buffered writes over a reader: what a block (or one transaction inside
// it) has written so far. Reads see the buffered writes first. A child view
// over a parent makes a transaction all-or-nothing: MergeInto(parent) keeps
// its writes, dropping the child discards them.
class StateView : public KvReader {
 public:
  explicit StateView(const KvReader* base) : base_(base) {}

  absl::StatusOr<std::optional<std::string>> Get(
      std::string_view key) const override;
  // Merges buffered writes with the base, in key order.
  absl::Status Scan(std::string_view prefix, const ScanFn& fn) const override;

  void Put(std::string_view key, std::string_view value);
  void Delete(std::string_view key);

  void MergeInto(StateView* parent) const;
  const WriteSet& writes() const { return writes_; }

 private:
  const KvReader* base_;
  WriteSet writes_;
};

// A module's window onto state: every key is prefixed with
// "<module>/" so a module cannot read or write another module's keys.
class PrefixView {
 public:
  PrefixView(StateView* view, std::string module)
      : view_(view), prefix_(std::move(module) + "/") {}

  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) const;
  void Put(std::string_view key, std::string_view value);
  void Delete(std::string_view key);
  // Keys are passed to `fn` without the module prefix.
  absl::Status Scan(std::string_view prefix, const ScanFn& fn) const;

 private:
  std::string Key(std::string_view key) const;
  StateView* view_;
  std::string prefix_;
};

}  // namespace virtengine::ledger

#endif  // VIRTENGINE_SRC_LEDGER_STORE_STATE_VIEW_H_
