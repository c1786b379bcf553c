#include "src/node/files.h"

#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "security/crypto/hash.h"

namespace virtengine::node {

std::pair<std::string, std::string> SplitPath(const std::string& absolute) {
  const size_t slash = absolute.rfind('/');
  if (slash == 0) return {"/", absolute.substr(1)};
  return {absolute.substr(0, slash), absolute.substr(slash + 1)};
}

absl::StatusOr<std::string> ReadAbsolute(const std::string& absolute,
                                         size_t max_bytes) {
  if (absolute.empty() || absolute[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("path must be absolute: ", absolute));
  }
  const auto [parent, name] = SplitPath(absolute);
  absl::StatusOr<security::path::PathRoot> p =
      security::path::PathRoot::Open(parent);
  if (!p.ok()) return p.status();
  return p->ReadFile(name, max_bytes);
}

namespace {

namespace cv1 = ::virtengine::security::crypto::v1;
constexpr size_t kChunk = size_t{1} << 20;

std::string Bytes(const crypto::Digest32& d) {
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

}  // namespace

absl::StatusOr<std::string> ReadAt(int fd, uint64_t offset, size_t size) {
  std::string buf(size, '\0');
  size_t got = 0;
  while (got < size) {
    const ssize_t n = ::pread(fd, buf.data() + got, size - got,
                              static_cast<off_t>(offset + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("read: errno ", errno));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  buf.resize(got);
  return buf;
}

absl::Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("write: errno ", errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::StatusOr<FileDigest> HashFile(const security::path::PathRoot& dir,
                                    std::string_view name) {
  absl::StatusOr<security::path::UniqueFd> fd = dir.OpenRead(name);
  if (!fd.ok()) return fd.status();
  absl::StatusOr<crypto::Sha256Stream> h =
      crypto::Sha256Stream::Create(cv1::CONTENT_HASH);
  if (!h.ok()) return h.status();
  FileDigest d;
  for (;;) {
    absl::StatusOr<std::string> chunk = ReadAt(fd->get(), d.size, kChunk);
    if (!chunk.ok()) return chunk.status();
    if (chunk->empty()) break;
    h->Update(crypto::AsBytes(*chunk));
    d.size += chunk->size();
  }
  d.sha256 = Bytes(h->Finish());
  return d;
}

absl::StatusOr<FileDigest> CopyFile(const security::path::PathRoot& from,
                                    std::string_view name,
                                    const security::path::PathRoot& to) {
  absl::StatusOr<security::path::UniqueFd> in = from.OpenRead(name);
  if (!in.ok()) return in.status();
  if (absl::Status s = to.WriteFileAtomic(name, "", 0600); !s.ok()) return s;
  absl::StatusOr<security::path::UniqueFd> out = to.OpenAppend(name);
  if (!out.ok()) return out.status();
  absl::StatusOr<crypto::Sha256Stream> h =
      crypto::Sha256Stream::Create(cv1::CONTENT_HASH);
  if (!h.ok()) return h.status();
  FileDigest d;
  for (;;) {
    absl::StatusOr<std::string> chunk = ReadAt(in->get(), d.size, kChunk);
    if (!chunk.ok()) return chunk.status();
    if (chunk->empty()) break;
    h->Update(crypto::AsBytes(*chunk));
    if (absl::Status s = WriteAll(out->get(), *chunk); !s.ok()) return s;
    d.size += chunk->size();
  }
  if (::fsync(out->get()) != 0) {
    return absl::InternalError(absl::StrCat("fsync: errno ", errno));
  }
  d.sha256 = Bytes(h->Finish());
  return d;
}

}  // namespace virtengine::node
