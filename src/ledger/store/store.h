#ifndef VIRTENGINE_SRC_LEDGER_STORE_STORE_H_
#define VIRTENGINE_SRC_LEDGER_STORE_STORE_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace rocksdb {
class DB;
}

namespace virtengine::ledger {

// Visits (key, value) pairs in key order; return false to stop.
using ScanFn =
    std::function<bool(std::string_view key, std::string_view value)>;

// Read access to ordered key-value state.
class KvReader {
 public:
  virtual ~KvReader() = default;
  virtual absl::StatusOr<std::optional<std::string>> Get(
      std::string_view key) const = 0;
  // Every key starting with `prefix`, in byte order.
  virtual absl::Status Scan(std::string_view prefix,
                            const ScanFn& fn) const = 0;
};

// The write set of a block: key -> new value, or nullopt for a delete.
using WriteSet = std::map<std::string, std::optional<std::string>, std::less<>>;

struct StoreOptions {
  bool sync_writes = true;  // fsync the WAL on every commit
  // Opens an existing database without writing to it (RocksDB read-only
  // mode; only its info LOG file is written): Commit fails.
  bool read_only = false;
};

// RocksDB under one directory. The directory itself is created and checked
// by the caller through security/path (beneath --home); RocksDB then manages
// the files inside it.
class Store : public KvReader {
 public:
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& dir,
                                                     StoreOptions options = {});
  ~Store() override;

  absl::StatusOr<std::optional<std::string>> Get(
      std::string_view key) const override;
  absl::Status Scan(std::string_view prefix, const ScanFn& fn) const override;

  // Applies all writes in ONE RocksDB write batch (synced when
  // options.sync_writes): either all of them are durable or none is.
  absl::Status Commit(const WriteSet& writes);

  // Makes every committed write durable (fsyncs the WAL): what a store
  // opened without sync_writes calls before anything relies on durability
  // (the node: before libraft truncates its log behind a snapshot).
  absl::Status Sync();

  // A consistent copy of the database in `dir` (which must not exist; its
  // parent must), made by RocksDB's Checkpoint: SST files are hard-linked,
  // the rest copied, the memtable flushed first.
  absl::Status Checkpoint(const std::string& dir) const;

  rocksdb::DB* db() const { return db_.get(); }

 private:
  Store(std::unique_ptr<rocksdb::DB> db, StoreOptions options);
  std::unique_ptr<rocksdb::DB> db_;
  StoreOptions options_;
};

}  // namespace virtengine::ledger

#endif  // VIRTENGINE_SRC_LEDGER_STORE_STORE_H_
