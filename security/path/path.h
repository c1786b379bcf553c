// security/path: the only way the product opens files.
//
// Every file is reached through a PathRoot, which owns an O_PATH descriptor
// of one directory. Names beneath it are relative, validated lexically by
// ValidateRelativePath, and then resolved by the kernel with
// openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS), so
// neither "..", an absolute path, a symlink (inside or outside the root, in
// any position, including one swapped in during the open) nor a /proc magic
// link is ever followed. Every descriptor is O_CLOEXEC. See
// docs/security/path.md for the rules, error reasons and guarantees.
//
//   auto root = PathRoot::Open("/var/lib/virtengine");
//   if (!root.ok()) return root.status();
//   RETURN_IF_ERROR(root->MakeDirs("keys"));
//   RETURN_IF_ERROR(root->WriteFileAtomic("keys/node.key", bytes));  // 0600
//   auto data = root->ReadFile("keys/node.key", 64 * 1024);
#ifndef VIRTENGINE_SECURITY_PATH_PATH_H_
#define VIRTENGINE_SECURITY_PATH_PATH_H_

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/path/unique_fd.h"

namespace virtengine::security::path {

// Limits enforced by ValidateRelativePath (bytes, not characters).
inline constexpr size_t kMaxPathBytes = 4096;
inline constexpr size_t kMaxComponentBytes = 255;
// Default cap on the number of names List returns.
inline constexpr size_t kDefaultMaxListEntries = 100000;

// Checks a name meant for use beneath a PathRoot. OK, or InvalidArgument whose
// message names the broken rule:
//   "path is empty"; "path is N bytes, longer than the limit of 4096";
//   "path contains a NUL byte at offset N"; "absolute path not allowed";
//   "path is not valid UTF-8 at offset N"; "control character U+XXXX at
//   offset N not allowed"; "empty path component (leading, doubled or
//   trailing '/') not allowed"; "path component '..' not allowed";
//   "path component '.' not allowed"; "path component N is M bytes, longer
//   than the limit of 255".
// The single name "." is accepted and means the root itself. Percent-encoded
// and other look-alike forms ("%2e%2e", "..%2f", "..\\", fullwidth dots) are
// ordinary names: nothing here or in the kernel decodes them, so they are
// accepted and used literally (they name entries inside the root).
absl::Status ValidateRelativePath(std::string_view rel);

// A directory that files are opened beneath. Move-only; owns an
// O_PATH|O_DIRECTORY|O_CLOEXEC descriptor, so it stays bound to the same
// directory even if that directory is renamed.
class PathRoot {
 public:
  // The one place an absolute path is accepted. `absolute_root` must start
  // with '/', and its components obey the same lexical rules as relative
  // names (no "." or "..", no empty components). Symlinks in the configured
  // root path itself are followed (it is operator configuration); magic
  // links are not. NotFound if it does not exist, FailedPrecondition if it
  // is not a directory.
  static absl::StatusOr<PathRoot> Open(const std::string& absolute_root);

  PathRoot(PathRoot&&) noexcept = default;
  PathRoot& operator=(PathRoot&&) noexcept = default;
  PathRoot(const PathRoot&) = delete;
  PathRoot& operator=(const PathRoot&) = delete;
  ~PathRoot() = default;

  // Opens a regular file for reading (O_RDONLY|O_CLOEXEC|O_NOFOLLOW). A FIFO,
  // device, socket or directory is refused with FailedPrecondition without
  // blocking (the open is O_NONBLOCK until the type is checked).
  absl::StatusOr<UniqueFd> OpenRead(std::string_view rel) const;

  // Opens an existing regular file for appending
  // (O_WRONLY|O_APPEND|O_CLOEXEC|O_NOFOLLOW|O_NOCTTY), with the same
  // resolution rules and the same non-blocking type check as OpenRead. It
  // never creates a file (create it with WriteFileAtomic first): NotFound if
  // it does not exist, FailedPrecondition for anything but a regular file.
  absl::StatusOr<UniqueFd> OpenAppend(std::string_view rel) const;

  // Reads a whole regular file of at most `max_bytes` bytes;
  // ResourceExhausted if it is longer. The size reported by fstat is not
  // trusted: the bytes actually read are counted.
  absl::StatusOr<std::string> ReadFile(std::string_view rel,
                                       size_t max_bytes) const;

  // Replaces (or creates) `rel` with `data` atomically: a temporary file
  // ".ve-tmp-<32 hex>" is created beside it (O_EXCL|O_CLOEXEC|O_NOFOLLOW,
  // random name from the CSPRNG (security/crypto)), written, fsync'd, renamed
  // over `rel`, and the directory is fsync'd. The file gets exactly `mode`
  // (umask does not apply; only permission bits 0777 are allowed). On any error
  // before the rename the old file is untouched and the temporary file is
  // removed. The parent directory must exist. A symlink at `rel` is replaced,
  // never followed.
  absl::Status WriteFileAtomic(std::string_view rel, std::string_view data,
                               mode_t mode = 0600) const;

  // Creates `rel` and any missing parents, each new directory with exactly
  // `mode`. Existing directories are kept as they are; a symlink in the way
  // is PermissionDenied, a file in the way FailedPrecondition.
  absl::Status MakeDirs(std::string_view rel, mode_t mode = 0700) const;

  // A root beneath this root (which must be a directory, not a symlink).
  absl::StatusOr<PathRoot> Sub(std::string_view rel) const;

  // Removes one file, symlink (the link itself) or empty directory. Not
  // recursive: a non-empty directory is FailedPrecondition. "." (the root
  // itself) is refused.
  absl::Status Remove(std::string_view rel) const;

  // Renames `from` to `to`, which must name entries of the same directory
  // (renameat2 with RENAME_NOREPLACE: AlreadyExists if `to` exists). The
  // parent is resolved beneath the root; neither name may be ".".
  absl::Status Rename(std::string_view from, std::string_view to) const;

  // Removes `rel` and, for a directory, everything beneath it (entries are
  // removed through this API, never following a symlink). "." is refused.
  // NotFound when `rel` does not exist.
  absl::Status RemoveTree(std::string_view rel) const;

  // The names in directory `rel` ("." for the root), sorted bytewise,
  // without "." and "..". Names are returned as stored; one that breaks the
  // naming rules cannot be opened through this API. ResourceExhausted past
  // `max_entries`.
  absl::StatusOr<std::vector<std::string>> List(
      std::string_view rel, size_t max_entries = kDefaultMaxListEntries) const;

  // The root directory's descriptor (O_PATH), for APIs that take a
  // directory: e.g. binding a Unix socket beneath it through
  // "/proc/self/fd/<fd>/name" when the full path is longer than sun_path.
  // Valid while this PathRoot lives.
  int dir_fd() const { return fd_.get(); }

 private:
  explicit PathRoot(UniqueFd fd) : fd_(std::move(fd)) {}

  UniqueFd fd_;
};

}  // namespace virtengine::security::path

#endif  // VIRTENGINE_SECURITY_PATH_PATH_H_
