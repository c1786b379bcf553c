#include "src/ledger/store/store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <utility>

#include "absl/strings/str_cat.h"

namespace virtengine::ledger {

namespace {

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  const std::string msg =
      absl::StrCat("store: ", std::string(what), ": ", s.ToString());
  if (s.IsNoSpace()) return absl::ResourceExhaustedError(msg);
  if (s.IsCorruption()) return absl::DataLossError(msg);
  return absl::InternalError(msg);
}

rocksdb::Slice ToSlice(std::string_view v) {
  return rocksdb::Slice(v.data(), v.size());
}

}  // namespace

Store::Store(std::unique_ptr<rocksdb::DB> db, StoreOptions options)
    : db_(std::move(db)), options_(options) {}

Store::~Store() = default;

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& dir,
                                                   StoreOptions options) {
  rocksdb::Options opts;
  opts.create_if_missing = true;
  opts.paranoid_checks = true;
  opts.max_open_files = 512;
  opts.IncreaseParallelism(2);
  rocksdb::DB* raw = nullptr;
  if (options.read_only) opts.create_if_missing = false;
  rocksdb::Status s = options.read_only
                          ? rocksdb::DB::OpenForReadOnly(opts, dir, &raw)
                          : rocksdb::DB::Open(opts, dir, &raw);
  if (!s.ok()) return FromRocks(s, "open " + dir);
  return std::unique_ptr<Store>(
      new Store(std::unique_ptr<rocksdb::DB>(raw), options));
}

absl::StatusOr<std::optional<std::string>> Store::Get(
    std::string_view key) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "get");
  return std::optional<std::string>(std::move(value));
}

absl::Status Store::Scan(std::string_view prefix, const ScanFn& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(ToSlice(prefix)); it->Valid(); it->Next()) {
    const rocksdb::Slice k = it->key();
    if (!k.starts_with(ToSlice(prefix))) break;
    if (!fn(std::string_view(k.data(), k.size()),
            std::string_view(it->value().data(), it->value().size()))) {
      break;
    }
  }
  return FromRocks(it->status(), "scan");
}

absl::Status Store::Checkpoint(const std::string& dir) const {
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(db_.get(), &raw);
  std::unique_ptr<rocksdb::Checkpoint> ckpt(raw);
  if (s.ok()) s = ckpt->CreateCheckpoint(dir, /*log_size_for_flush=*/0);
  if (!s.ok()) {
    return absl::InternalError(
        absl::StrCat("rocksdb checkpoint into ", dir, ": ", s.ToString()));
  }
  return absl::OkStatus();
}

absl::Status Store::Commit(const WriteSet& writes) {
  rocksdb::WriteBatch batch;
  for (const auto& [key, value] : writes) {
    rocksdb::Status s = value.has_value()
                            ? batch.Put(ToSlice(key), ToSlice(*value))
                            : batch.Delete(ToSlice(key));
    if (!s.ok()) return FromRocks(s, "batch");
  }
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync_writes;
  return FromRocks(db_->Write(wo, &batch), "commit");
}

absl::Status Store::Sync() {
  if (options_.read_only) return absl::OkStatus();
  return FromRocks(db_->SyncWAL(), "sync wal");
}

}  // namespace virtengine::ledger
