// Small file helpers over security/path descriptors, shared by the state
// transfer and the backups.
#ifndef VIRTENGINE_SRC_NODE_FILES_H_
#define VIRTENGINE_SRC_NODE_FILES_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/path/path.h"

namespace virtengine::node {

// Up to `size` bytes at `offset` (fewer at the end of the file).
absl::StatusOr<std::string> ReadAt(int fd, uint64_t offset, size_t size);
absl::Status WriteAll(int fd, std::string_view data);

struct FileDigest {
  uint64_t size = 0;
  std::string sha256;  // 32 bytes
};
// Size and SHA-256 of the regular file `name` beneath `dir`.
absl::StatusOr<FileDigest> HashFile(const security::path::PathRoot& dir,
                                    std::string_view name);
// Copies `name` from `from` to `to` (created 0600, fsync'd); returns the
// copy's digest.
absl::StatusOr<FileDigest> CopyFile(const security::path::PathRoot& from,
                                    std::string_view name,
                                    const security::path::PathRoot& to);

}  // namespace virtengine::node

#endif  // VIRTENGINE_SRC_NODE_FILES_H_
