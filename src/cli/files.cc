#include "src/cli/files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace virtengine::cli {

namespace {

constexpr size_t kMaxPassphraseBytes = 1024;

absl::Status Annotate(const absl::Status& s, std::string_view field,
                      std::string_view path) {
  return absl::Status(
      s.code(), absl::StrCat(std::string(field), " ", std::string(path), ": ",
                             s.message()));
}

std::string ErrnoText(int err) {
  std::array<char, 128> buf{};
  return strerror_r(err, buf.data(), buf.size());
}

// Splits a normalised absolute path into its directory and last name.
std::pair<std::string, std::string> Split(const std::string& abs) {
  const size_t slash = abs.rfind('/');
  std::string dir = slash == 0 ? "/" : abs.substr(0, slash);
  return {dir, abs.substr(slash + 1)};
}

}  // namespace

absl::StatusOr<std::string> AbsolutePath(std::string_view field,
                                         std::string_view cwd,
                                         std::string_view path) {
  if (path.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(field), ": empty path"));
  }
  if (path.size() > security::path::kMaxPathBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(field), ": path longer than ",
                     security::path::kMaxPathBytes, " bytes"));
  }
  std::string joined;
  if (path.front() == '/') {
    joined = std::string(path);
  } else {
    if (cwd.empty() || cwd.front() != '/') {
      return absl::InvalidArgumentError(
          absl::StrCat(std::string(field),
                       ": relative path but the working directory is unknown"));
    }
    joined = absl::StrCat(std::string(cwd), "/", std::string(path));
  }
  std::vector<std::string> parts;
  for (absl::string_view c : absl::StrSplit(joined, '/')) {
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat(std::string(field),
                       ": path component '..' not allowed (give the "
                       "path without it)"));
    }
    parts.emplace_back(c);
  }
  if (parts.empty()) return std::string("/");
  return absl::StrCat("/", absl::StrJoin(parts, "/"));
}

absl::StatusOr<std::string> ReadUserFile(std::string_view field,
                                         std::string_view cwd,
                                         std::string_view path,
                                         size_t max_bytes) {
  absl::StatusOr<std::string> abs = AbsolutePath(field, cwd, path);
  if (!abs.ok()) return abs.status();
  if (*abs == "/") {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(field), ": / is not a file"));
  }
  const auto [dir, name] = Split(*abs);
  absl::StatusOr<security::path::PathRoot> root =
      security::path::PathRoot::Open(dir);
  if (!root.ok()) return Annotate(root.status(), field, *abs);
  absl::StatusOr<std::string> data = root->ReadFile(name, max_bytes);
  if (!data.ok()) return Annotate(data.status(), field, *abs);
  return data;
}

absl::StatusOr<crypto::SecretBytes> ReadPassphraseFile(std::string_view field,
                                                       std::string_view cwd,
                                                       std::string_view path) {
  absl::StatusOr<std::string> abs = AbsolutePath(field, cwd, path);
  if (!abs.ok()) return abs.status();
  const auto [dir, name] = Split(*abs);
  absl::StatusOr<security::path::PathRoot> root =
      security::path::PathRoot::Open(dir);
  if (!root.ok()) return Annotate(root.status(), field, *abs);
  absl::StatusOr<security::path::UniqueFd> fd = root->OpenRead(name);
  if (!fd.ok()) return Annotate(fd.status(), field, *abs);
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) {
    return absl::InternalError(absl::StrCat(std::string(field), " ", *abs,
                                            ": fstat: ", ErrnoText(errno)));
  }
  if ((st.st_mode & 077U) != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s %s has mode %04o; a passphrase file must not be accessible to "
        "group or others (chmod 600)",
        std::string(field), *abs, st.st_mode & 07777U));
  }
  crypto::SecretBytes buf(kMaxPassphraseBytes + 3);
  size_t got = 0;
  while (got < buf.size()) {
    const ssize_t n =
        ::read(fd->get(), buf.mutable_data() + got, buf.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat(std::string(field), " ", *abs,
                                              ": read: ", ErrnoText(errno)));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  size_t len = got;
  if (len > 0 && buf.data()[len - 1] == '\n') {
    --len;
    if (len > 0 && buf.data()[len - 1] == '\r') --len;
  }
  if (len > kMaxPassphraseBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(field), " ", *abs, ": passphrase longer than ",
                     kMaxPassphraseBytes, " bytes"));
  }
  if (len == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(field), " ", *abs, ": empty passphrase"));
  }
  return crypto::SecretBytes::CopyFrom(crypto::ByteView(buf.data(), len));
}

absl::StatusOr<security::path::PathRoot> OpenHome(const std::string& home,
                                                  bool create) {
  absl::StatusOr<security::path::PathRoot> root =
      security::path::PathRoot::Open(home);
  if (root.ok() || !create ||
      root.status().code() != absl::StatusCode::kNotFound || home == "/") {
    if (!root.ok()) return Annotate(root.status(), "home", home);
    return root;
  }
  const auto [dir, name] = Split(home);
  absl::StatusOr<security::path::PathRoot> parent =
      security::path::PathRoot::Open(dir);
  if (!parent.ok()) {
    return Annotate(parent.status(), "parent of home", dir);
  }
  if (absl::Status s = parent->MakeDirs(name, 0700); !s.ok()) {
    return Annotate(s, "home", home);
  }
  root = security::path::PathRoot::Open(home);
  if (!root.ok()) return Annotate(root.status(), "home", home);
  return root;
}

}  // namespace virtengine::cli
