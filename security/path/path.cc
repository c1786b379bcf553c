#include "security/path/path.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "security/crypto/random.h"
#include "src/common/encoding/quote.h"

namespace virtengine::security::path {
namespace {

// Every lookup beneath a root: no "..", no absolute jumps, no symlink and no
// magic link anywhere in the path, decided by the kernel at open time.
constexpr uint64_t kResolveBeneath =
    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
constexpr int kMaxRetries = 8;
constexpr size_t kQuoteMaxBytes = 80;
constexpr size_t kReadChunk = 16384;
constexpr size_t kDirentBuffer = 32768;
constexpr size_t kTempRandomBytes = 16;
constexpr char kTempPrefix[] = ".ve-tmp-";
constexpr mode_t kPermBits = 0777;

// A name for messages, quoted and cut (encoding::QuoteUntrusted), so a
// hostile name cannot forge log lines.
std::string Quote(std::string_view s) {
  return encoding::QuoteUntrusted(s, kQuoteMaxBytes);
}

std::string Octal(mode_t mode) {
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + (mode & 7)));
    mode >>= 3;
  } while (mode != 0);
  return "0" + digits;
}

std::string ErrnoText(int err) {
  const char* name = strerrorname_np(err);
  std::array<char, 128> buf{};
  // GNU strerror_r: returns a pointer to the message (maybe not into buf).
  const char* text = strerror_r(err, buf.data(), buf.size());
  return absl::StrCat(text != nullptr ? text : "unknown error", " (",
                      name != nullptr ? name : absl::StrCat("errno ", err),
                      ")");
}

// Maps an errno from an operation on `rel` to a Status with a precise code.
absl::Status ErrnoStatus(int err, const char* op, std::string_view rel) {
  const std::string what = absl::StrCat(op, " ", Quote(rel), ": ");
  switch (err) {
    case EXDEV:
      return absl::PermissionDeniedError(absl::StrCat(
          what, "resolution would leave the root (EXDEV); refused"));
    case ELOOP:
      return absl::PermissionDeniedError(absl::StrCat(
          what,
          "path runs through a symlink or magic link (ELOOP); symlinks are "
          "never followed beneath a root"));
    case ENOENT:
      return absl::NotFoundError(absl::StrCat(what, ErrnoText(err)));
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(absl::StrCat(what, ErrnoText(err)));
    case EEXIST:
      return absl::AlreadyExistsError(absl::StrCat(what, ErrnoText(err)));
    case ENOTDIR:
    case EISDIR:
    case ENXIO:
    case ENOTEMPTY:
    case EROFS:
    case EBUSY:
    case ETXTBSY:
      return absl::FailedPreconditionError(absl::StrCat(what, ErrnoText(err)));
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      return absl::ResourceExhaustedError(absl::StrCat(what, ErrnoText(err)));
    case ENAMETOOLONG:
      return absl::InvalidArgumentError(absl::StrCat(what, ErrnoText(err)));
    case ENOSYS:
      return absl::UnimplementedError(absl::StrCat(
          what, "openat2 is not available (Linux 5.6 or later is needed)"));
    default:
      return absl::InternalError(absl::StrCat(what, ErrnoText(err)));
  }
}

// Decodes one UTF-8 sequence at s[i]: its length (1..4), or 0 if the bytes
// there are not valid UTF-8 (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF, no truncated sequence).
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t len = 0;
  uint32_t v = 0;
  uint32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    v = b0 & 0x1F;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    v = b0 & 0x0F;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    v = b0 & 0x07;
    min = 0x10000;
  } else {
    return 0;
  }
  if (s.size() - i < len) return 0;
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    v = (v << 6) | (b & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

std::string CodePoint(uint32_t cp) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "U+";
  for (int shift = 12; shift >= 0; shift -= 4) {
    out.push_back(kHex[(cp >> shift) & 0xf]);
  }
  return out;
}

// ValidateRelativePath, and "." (the root itself) refused for operations
// that need a name beneath the root.
absl::Status ValidateName(std::string_view rel, const char* op) {
  absl::Status s = ValidateRelativePath(rel);
  if (!s.ok()) return s;
  if (rel == ".") {
    return absl::InvalidArgumentError(
        absl::StrCat(op, " needs a name beneath the root, not '.'"));
  }
  return absl::OkStatus();
}

absl::Status CheckMode(mode_t mode) {
  if ((mode & ~kPermBits) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mode ", Octal(mode),
        " has bits outside 0777 (setuid, setgid and sticky are not allowed)"));
  }
  return absl::OkStatus();
}

// openat2 beneath `dirfd`. `rel` must already be validated (so it holds no
// NUL). O_CLOEXEC always. A trailing symlink is refused with ELOOP by
// RESOLVE_NO_SYMLINKS itself; O_NOFOLLOW is added only where it cannot
// change that answer: with O_PATH the kernel would hand back a descriptor of
// the symlink, and with O_DIRECTORY it would answer ENOTDIR instead of ELOOP
// (both still refusals, but the caller must learn it was a symlink).
absl::StatusOr<UniqueFd> OpenBeneath(int dirfd, std::string_view rel,
                                     uint64_t flags, mode_t mode,
                                     const char* op) {
  const std::string name(rel);
  struct open_how how {};
  how.flags = flags | O_CLOEXEC;
  if ((flags & (O_PATH | O_DIRECTORY)) == 0) how.flags |= O_NOFOLLOW;
  how.mode = mode;
  how.resolve = kResolveBeneath;
  for (int attempt = 0;; ++attempt) {
    const long r = syscall(SYS_openat2, dirfd, name.c_str(), &how, sizeof(how));
    if (r >= 0) return UniqueFd(static_cast<int>(r));
    const int err = errno;
    // EAGAIN: the kernel saw a concurrent rename or mount while resolving
    // (with RESOLVE_BENEATH it says so instead of guessing); the lookup is
    // simply redone from scratch, with every check, a bounded number of
    // times.
    if ((err == EINTR || err == EAGAIN) && attempt < kMaxRetries) continue;
    return ErrnoStatus(err, op, rel);
  }
}

struct Split {
  std::string_view parent;  // "." when rel has one component
  std::string_view base;
};

Split SplitLast(std::string_view rel) {
  const size_t slash = rel.rfind('/');
  if (slash == std::string_view::npos) return {".", rel};
  return {rel.substr(0, slash), rel.substr(slash + 1)};
}

absl::StatusOr<std::string> TempName() {
  std::array<uint8_t, kTempRandomBytes> bytes{};
  crypto::RandomFill(absl::MakeSpan(bytes));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name = kTempPrefix;
  for (const unsigned char b : bytes) {
    name.push_back(kHex[b >> 4]);
    name.push_back(kHex[b & 0xf]);
  }
  return name;
}

absl::Status WriteAll(int fd, std::string_view data, std::string_view rel) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", rel);
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

const char* FileType(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symlink";
  return "not a regular file";
}

// Opens a regular file for reading beneath `dirfd` and fills `st`. The
// open is O_NONBLOCK until the type is known, so a FIFO cannot hang it; a
// FIFO, device, socket or directory is FailedPrecondition.
absl::StatusOr<UniqueFd> OpenRegular(int dirfd, std::string_view rel,
                                     struct stat* st) {
  absl::Status s = ValidateRelativePath(rel);
  if (!s.ok()) return s;
  absl::StatusOr<UniqueFd> fd =
      OpenBeneath(dirfd, rel, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0, "open");
  if (!fd.ok()) return fd.status();
  if (::fstat(fd->get(), st) != 0) return ErrnoStatus(errno, "stat", rel);
  if (!S_ISREG(st->st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("open ", Quote(rel), ": not a regular file (",
                     FileType(st->st_mode), ")"));
  }
  // The descriptor was opened with no status flag but O_NONBLOCK, so
  // clearing them all clears exactly that one.
  if (::fcntl(fd->get(), F_SETFL, 0) != 0) {
    return ErrnoStatus(errno, "fcntl", rel);
  }
  return fd;
}

}  // namespace

absl::Status ValidateRelativePath(std::string_view rel) {
  if (rel.empty()) return absl::InvalidArgumentError("path is empty");
  if (rel.size() > kMaxPathBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("path is ", rel.size(),
                     " bytes, longer than the limit of ", kMaxPathBytes));
  }
  const size_t nul = rel.find('\0');
  if (nul != std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "path contains a NUL byte at offset ", nul, ": ", Quote(rel)));
  }
  if (rel.front() == '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("absolute path not allowed: ", Quote(rel)));
  }
  for (size_t i = 0; i < rel.size();) {
    uint32_t cp = 0;
    const size_t len = DecodeUtf8(rel, i, &cp);
    if (len == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "path is not valid UTF-8 at offset ", i, ": ", Quote(rel)));
    }
    // Unicode category Cc: C0 controls, DEL and C1 controls.
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
      return absl::InvalidArgumentError(
          absl::StrCat("control character ", CodePoint(cp), " at offset ", i,
                       " not allowed: ", Quote(rel)));
    }
    i += len;
  }
  if (rel == ".") return absl::OkStatus();  // the root itself
  size_t start = 0;
  for (size_t index = 1;; ++index) {
    size_t end = rel.find('/', start);
    if (end == std::string_view::npos) end = rel.size();
    const std::string_view comp = rel.substr(start, end - start);
    if (comp.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "empty path component (leading, doubled or trailing '/') not "
          "allowed: ",
          Quote(rel)));
    }
    if (comp == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat("path component '..' not allowed: ", Quote(rel)));
    }
    if (comp == ".") {
      return absl::InvalidArgumentError(
          absl::StrCat("path component '.' not allowed: ", Quote(rel)));
    }
    if (comp.size() > kMaxComponentBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "path component ", index, " is ", comp.size(),
          " bytes, longer than the limit of ", kMaxComponentBytes));
    }
    if (end == rel.size()) break;
    start = end + 1;
  }
  return absl::OkStatus();
}

absl::StatusOr<PathRoot> PathRoot::Open(const std::string& absolute_root) {
  if (absolute_root.empty() || absolute_root.front() != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("root must be an absolute path: ", Quote(absolute_root)));
  }
  if (absolute_root != "/") {
    const std::string_view rest = std::string_view(absolute_root).substr(1);
    absl::Status s = ValidateRelativePath(rest);
    if (s.ok() && rest == ".") {
      s = absl::InvalidArgumentError("path component '.' not allowed");
    }
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("root ", Quote(absolute_root), ": ", s.message()));
    }
  }
  struct open_how how {};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_NO_MAGICLINKS;
  for (int attempt = 0;; ++attempt) {
    const long r = syscall(SYS_openat2, AT_FDCWD, absolute_root.c_str(), &how,
                           sizeof(how));
    if (r >= 0) return PathRoot(UniqueFd(static_cast<int>(r)));
    const int err = errno;
    if ((err == EINTR || err == EAGAIN) && attempt < kMaxRetries) continue;
    return ErrnoStatus(err, "open root", absolute_root);
  }
}

absl::StatusOr<UniqueFd> PathRoot::OpenRead(std::string_view rel) const {
  struct stat st {};
  return OpenRegular(fd_.get(), rel, &st);
}

absl::StatusOr<UniqueFd> PathRoot::OpenAppend(std::string_view rel) const {
  absl::Status s = ValidateRelativePath(rel);
  if (!s.ok()) return s;
  // O_NONBLOCK until the type is known (a FIFO without a reader answers
  // ENXIO instead of blocking).
  absl::StatusOr<UniqueFd> fd =
      OpenBeneath(fd_.get(), rel, O_WRONLY | O_APPEND | O_NOCTTY | O_NONBLOCK,
                  0, "open for append");
  if (!fd.ok()) return fd.status();
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return ErrnoStatus(errno, "stat", rel);
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("open ", Quote(rel), ": not a regular file (",
                     FileType(st.st_mode), ")"));
  }
  if (::fcntl(fd->get(), F_SETFL, O_APPEND) != 0) {
    return ErrnoStatus(errno, "fcntl", rel);
  }
  return fd;
}

absl::StatusOr<std::string> PathRoot::ReadFile(std::string_view rel,
                                               size_t max_bytes) const {
  struct stat st {};
  absl::StatusOr<UniqueFd> fd = OpenRegular(fd_.get(), rel, &st);
  if (!fd.ok()) return fd.status();
  const auto reported = static_cast<uint64_t>(std::max<off_t>(st.st_size, 0));
  if (reported > max_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("read ", Quote(rel), ": file is ", reported,
                     " bytes, more than the limit of ", max_bytes));
  }
  std::string out;
  out.reserve(static_cast<size_t>(reported));
  std::vector<char> buf(kReadChunk);
  for (;;) {
    // Up to the limit, then one probe byte to tell "exactly at the limit"
    // from "longer" (the reported size is not trusted: files grow, and
    // procfs reports 0).
    const size_t want = out.size() < max_bytes
                            ? std::min(max_bytes - out.size(), buf.size())
                            : 1;
    const ssize_t n = ::read(fd->get(), buf.data(), want);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read", rel);
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "read ", Quote(rel), ": file is longer than the limit of ", max_bytes,
          " bytes"));
    }
    out.append(buf.data(), static_cast<size_t>(n));
  }
  return out;
}

absl::Status PathRoot::WriteFileAtomic(std::string_view rel,
                                       std::string_view data,
                                       mode_t mode) const {
  absl::Status s = ValidateName(rel, "write");
  if (s.ok()) s = CheckMode(mode);
  if (!s.ok()) return s;
  const Split split = SplitLast(rel);
  absl::StatusOr<UniqueFd> dir =
      OpenBeneath(fd_.get(), split.parent, O_RDONLY | O_DIRECTORY, 0,
                  "open parent directory of");
  if (!dir.ok()) {
    // Report the whole name, keep the code and the reason.
    return absl::Status(
        dir.status().code(),
        absl::StrCat("write ", Quote(rel), ": ", dir.status().message()));
  }
  absl::StatusOr<std::string> tmp = TempName();
  if (!tmp.ok()) return tmp.status();
  absl::StatusOr<UniqueFd> file =
      OpenBeneath(dir->get(), *tmp, O_WRONLY | O_CREAT | O_EXCL, 0600,
                  "create temporary file for");
  if (!file.ok()) return file.status();

  // From here on the temporary file exists: every failure removes it.
  const auto fail = [&](absl::Status st) {
    if (::unlinkat(dir->get(), tmp->c_str(), 0) != 0) {
      const int err = errno;
      return absl::Status(
          st.code(), absl::StrCat(st.message(), "; temporary file ", *tmp,
                                  " could not be removed: ", ErrnoText(err)));
    }
    return st;
  };
  if (::fchmod(file->get(), mode) != 0) {
    return fail(ErrnoStatus(errno, "chmod", rel));
  }
  s = WriteAll(file->get(), data, rel);
  if (!s.ok()) return fail(s);
  if (::fsync(file->get()) != 0) return fail(ErrnoStatus(errno, "fsync", rel));
  const int raw = file->release();
  if (::close(raw) != 0) return fail(ErrnoStatus(errno, "close", rel));
  const std::string base(split.base);
  if (::renameat(dir->get(), tmp->c_str(), dir->get(), base.c_str()) != 0) {
    return fail(ErrnoStatus(errno, "rename into place", rel));
  }
  if (::fsync(dir->get()) != 0) {
    return ErrnoStatus(errno,
                       "renamed into place, but fsync of the directory failed "
                       "(durability unknown) for",
                       rel);
  }
  return absl::OkStatus();
}

absl::Status PathRoot::MakeDirs(std::string_view rel, mode_t mode) const {
  absl::Status s = ValidateRelativePath(rel);
  if (s.ok()) s = CheckMode(mode);
  if (!s.ok()) return s;
  absl::StatusOr<UniqueFd> cur =
      OpenBeneath(fd_.get(), ".", O_PATH | O_DIRECTORY, 0, "open root");
  if (!cur.ok()) return cur.status();
  if (rel == ".") return absl::OkStatus();
  size_t start = 0;
  for (;;) {
    size_t end = rel.find('/', start);
    if (end == std::string_view::npos) end = rel.size();
    const std::string comp(rel.substr(start, end - start));
    const std::string_view prefix = rel.substr(0, end);
    bool created = false;
    // Created 0700 first, so it is never wider than asked while it exists.
    if (::mkdirat(cur->get(), comp.c_str(), 0700) == 0) {
      created = true;
    } else if (errno != EEXIST) {
      return ErrnoStatus(errno, "create directory", prefix);
    }
    // Refuses a symlink (ELOOP) or a file (ENOTDIR) in the way, including
    // one swapped in after mkdirat.
    absl::StatusOr<UniqueFd> next = OpenBeneath(
        cur->get(), comp, O_PATH | O_DIRECTORY, 0, "create directory");
    if (!next.ok()) {
      return absl::Status(
          next.status().code(),
          absl::StrCat(next.status().message(), " (in ", Quote(prefix), ")"));
    }
    if (created) {
      absl::StatusOr<UniqueFd> made = OpenBeneath(
          cur->get(), comp, O_RDONLY | O_DIRECTORY, 0, "create directory");
      if (!made.ok()) return made.status();
      if (::fchmod(made->get(), mode) != 0) {
        return ErrnoStatus(errno, "chmod", prefix);
      }
      absl::StatusOr<UniqueFd> parent = OpenBeneath(
          cur->get(), ".", O_RDONLY | O_DIRECTORY, 0, "open parent of");
      if (!parent.ok()) return parent.status();
      if (::fsync(parent->get()) != 0) {
        return ErrnoStatus(errno, "fsync parent of", prefix);
      }
    }
    cur = std::move(next);
    if (end == rel.size()) break;
    start = end + 1;
  }
  return absl::OkStatus();
}

absl::StatusOr<PathRoot> PathRoot::Sub(std::string_view rel) const {
  absl::Status s = ValidateRelativePath(rel);
  if (!s.ok()) return s;
  absl::StatusOr<UniqueFd> fd =
      OpenBeneath(fd_.get(), rel, O_PATH | O_DIRECTORY, 0, "open directory");
  if (!fd.ok()) return fd.status();
  return PathRoot(*std::move(fd));
}

absl::Status PathRoot::Remove(std::string_view rel) const {
  absl::Status s = ValidateName(rel, "remove");
  if (!s.ok()) return s;
  const Split split = SplitLast(rel);
  absl::StatusOr<UniqueFd> dir =
      OpenBeneath(fd_.get(), split.parent, O_PATH | O_DIRECTORY, 0,
                  "open parent directory of");
  if (!dir.ok()) return dir.status();
  const std::string base(split.base);
  if (::unlinkat(dir->get(), base.c_str(), 0) == 0) return absl::OkStatus();
  if (errno == EISDIR &&
      ::unlinkat(dir->get(), base.c_str(), AT_REMOVEDIR) == 0) {
    return absl::OkStatus();
  }
  return ErrnoStatus(errno, "remove", rel);
}

absl::Status PathRoot::Rename(std::string_view from,
                              std::string_view to) const {
  for (std::string_view rel : {from, to}) {
    if (absl::Status s = ValidateName(rel, "rename"); !s.ok()) return s;
  }
  const Split a = SplitLast(from);
  const Split b = SplitLast(to);
  if (a.parent != b.parent) {
    return absl::InvalidArgumentError(
        absl::StrCat("rename: ", Quote(from), " and ", Quote(to),
                     " are not in the same directory"));
  }
  absl::StatusOr<UniqueFd> dir = OpenBeneath(
      fd_.get(), a.parent, O_PATH | O_DIRECTORY, 0, "open parent directory of");
  if (!dir.ok()) return dir.status();
  const std::string src(a.base);
  const std::string dst(b.base);
  if (::renameat2(dir->get(), src.c_str(), dir->get(), dst.c_str(),
                  RENAME_NOREPLACE) == 0) {
    return absl::OkStatus();
  }
  return ErrnoStatus(errno, "rename", from);
}

absl::Status PathRoot::RemoveTree(std::string_view rel) const {
  if (absl::Status s = ValidateName(rel, "remove"); !s.ok()) return s;
  absl::Status removed = Remove(rel);
  if (removed.ok() || !absl::IsFailedPrecondition(removed)) return removed;
  // A non-empty directory: empty it first (Sub refuses a symlink).
  absl::StatusOr<PathRoot> sub = Sub(rel);
  if (!sub.ok()) return sub.status();
  absl::StatusOr<std::vector<std::string>> names = sub->List(".");
  if (!names.ok()) return names.status();
  for (const std::string& n : *names) {
    if (absl::Status s = sub->RemoveTree(n); !s.ok()) return s;
  }
  return Remove(rel);
}

absl::StatusOr<std::vector<std::string>> PathRoot::List(
    std::string_view rel, size_t max_entries) const {
  absl::Status s = ValidateRelativePath(rel);
  if (!s.ok()) return s;
  absl::StatusOr<UniqueFd> fd =
      OpenBeneath(fd_.get(), rel, O_RDONLY | O_DIRECTORY, 0, "open directory");
  if (!fd.ok()) return fd.status();
  std::vector<std::string> names;
  std::vector<char> buf(kDirentBuffer);
  for (;;) {
    const ssize_t n = ::getdents64(fd->get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "list", rel);
    }
    if (n == 0) break;
    for (size_t off = 0; off < static_cast<size_t>(n);) {
      struct dirent64 header {};
      // The fixed part of the record; the name follows it, NUL-terminated.
      std::memcpy(&header, buf.data() + off, offsetof(struct dirent64, d_name));
      const char* name_start =
          buf.data() + off + offsetof(struct dirent64, d_name);
      if (header.d_reclen <= offsetof(struct dirent64, d_name) ||
          header.d_reclen > static_cast<size_t>(n) - off) {
        return absl::InternalError(
            absl::StrCat("list ", Quote(rel), ": malformed directory record"));
      }
      const size_t name_room =
          header.d_reclen - offsetof(struct dirent64, d_name);
      const std::string_view name(name_start, strnlen(name_start, name_room));
      off += header.d_reclen;
      if (name == "." || name == "..") continue;
      if (names.size() >= max_entries) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "list ", Quote(rel), ": more than ", max_entries, " entries"));
      }
      names.emplace_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace virtengine::security::path
