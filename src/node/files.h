// Small file helpers over security/path descriptors, shared by the node
// home, the state transfer, the backups and the image admin.
#ifndef VIRTENGINE_SRC_NODE_FILES_H_
#define VIRTENGINE_SRC_NODE_FILES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/path/path.h"

namespace virtengine::node {

// An absolute path's directory and last component ("/a/b" -> {"/a", "b"},
// "/b" -> {"/", "b"}).
std::pair<std::string, std::string> SplitPath(const std::string& absolute);
// Reads a whole file named by an absolute path through the path validator.
absl::StatusOr<std::string> ReadAbsolute(const std::string& absolute,
                                         size_t max_bytes);

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
