#include "src/ledger/merkle/node_store.h"

#include "absl/strings/str_cat.h"

namespace virtengine::ledger::merkle {

std::string NodeKeyName(const NodeKey& key) {
  return absl::StrCat("(level ", static_cast<int>(key.level), ", index ",
                      key.index, ")");
}

bool ValidNodeKey(const NodeKey& key) {
  if (key.level > kMaxLevel) return false;
  // (index + 1) * 2^level <= 2^63  <=>  index < 2^(63 - level).
  return key.index < (uint64_t{1} << (kMaxLevel - key.level));
}

std::string EncodeNodeKey(const NodeKey& key) {
  std::string out(kNodeKeySize, '\0');
  out[0] = static_cast<char>(key.level);
  for (int i = 0; i < 8; ++i) {
    out[1 + i] = static_cast<char>((key.index >> (56 - 8 * i)) & 0xff);
  }
  return out;
}

absl::StatusOr<NodeKey> DecodeNodeKey(std::string_view bytes) {
  if (bytes.size() != kNodeKeySize) {
    return absl::InvalidArgumentError(absl::StrCat("merkle: node key must be ",
                                                   kNodeKeySize, " bytes, got ",
                                                   bytes.size()));
  }
  NodeKey key;
  key.level = static_cast<uint8_t>(bytes[0]);
  for (int i = 0; i < 8; ++i) {
    key.index = (key.index << 8) | static_cast<uint8_t>(bytes[1 + i]);
  }
  if (!ValidNodeKey(key)) {
    return absl::InvalidArgumentError(
        absl::StrCat("merkle: node key ", NodeKeyName(key),
                     " outside a tree of 2^63 leaves"));
  }
  return key;
}

absl::Status NodeStore::Write(const NodeBatch& batch) {
  for (const NodeWrite& w : batch) {
    if (absl::Status s = Put(w.key, w.hash); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<Hash> MemoryNodeStore::Get(const NodeKey& key) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = nodes_.find(key);
  if (it == nodes_.end()) {
    return absl::NotFoundError(
        absl::StrCat("merkle: node ", NodeKeyName(key), " not stored"));
  }
  return it->second;
}

absl::Status MemoryNodeStore::CheckLocked(const NodeKey& key,
                                          const Hash& hash) const {
  if (!ValidNodeKey(key)) {
    return absl::InvalidArgumentError(
        absl::StrCat("merkle: node key ", NodeKeyName(key),
                     " outside a tree of 2^63 leaves"));
  }
  auto it = nodes_.find(key);
  if (it != nodes_.end() && it->second != hash) {
    return absl::FailedPreconditionError(
        absl::StrCat("merkle: node ", NodeKeyName(key),
                     " already stored with a different hash"));
  }
  return absl::OkStatus();
}

absl::Status MemoryNodeStore::Put(const NodeKey& key, const Hash& hash) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = CheckLocked(key, hash); !s.ok()) return s;
  nodes_.insert_or_assign(key, hash);
  return absl::OkStatus();
}

absl::Status MemoryNodeStore::Write(const NodeBatch& batch) {
  absl::MutexLock lock(&mu_);
  // Validate everything first so that a refused batch leaves no trace. A
  // batch that writes one key twice with different hashes is refused too.
  absl::flat_hash_map<NodeKey, Hash> pending;
  for (const NodeWrite& w : batch) {
    if (absl::Status s = CheckLocked(w.key, w.hash); !s.ok()) return s;
    auto [it, inserted] = pending.emplace(w.key, w.hash);
    if (!inserted && it->second != w.hash) {
      return absl::FailedPreconditionError(
          absl::StrCat("merkle: batch writes node ", NodeKeyName(w.key),
                       " twice with different hashes"));
    }
  }
  for (const NodeWrite& w : batch) nodes_.insert_or_assign(w.key, w.hash);
  return absl::OkStatus();
}

size_t MemoryNodeStore::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return nodes_.size();
}

}  // namespace virtengine::ledger::merkle
