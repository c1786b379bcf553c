// Files vectl reads (passphrase files, export files, receipt files) and its
// home directory, all opened through security/path.
#ifndef VIRTENGINE_SRC_CLI_FILES_H_
#define VIRTENGINE_SRC_CLI_FILES_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "security/crypto/secret_bytes.h"
#include "security/path/path.h"

namespace virtengine::cli {

// `path` made absolute against `cwd` (when relative) and normalised
// lexically: empty and "." components dropped. ".." is refused (the path
// validator never follows it; give the path without it), as is an empty
// path. InvalidArgument naming `field`.
absl::StatusOr<std::string> AbsolutePath(std::string_view field,
                                         std::string_view cwd,
                                         std::string_view path);

// Reads a regular file of at most `max_bytes`: its directory is opened as a
// PathRoot and the file beneath it (no symlink followed in the last
// component). NotFound / InvalidArgument / ResourceExhausted naming `field`
// and the path.
absl::StatusOr<std::string> ReadUserFile(std::string_view field,
                                         std::string_view cwd,
                                         std::string_view path,
                                         size_t max_bytes);

// Reads a passphrase file: at most 1024 bytes after one trailing "\n" (or
// "\r\n") is removed, not empty, and the file must not be readable or
// writable by group or others (FailedPrecondition "... has mode 0644 ...").
absl::StatusOr<crypto::SecretBytes> ReadPassphraseFile(std::string_view field,
                                                       std::string_view cwd,
                                                       std::string_view path);

// Opens the home directory; when `create` and it does not exist, creates it
// (mode 0700) beneath its parent, which must exist.
absl::StatusOr<security::path::PathRoot> OpenHome(const std::string& home,
                                                  bool create);

}  // namespace virtengine::cli

#endif  // VIRTENGINE_SRC_CLI_FILES_H_
