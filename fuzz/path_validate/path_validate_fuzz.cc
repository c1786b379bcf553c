// Fuzz target for security/path: arbitrary bytes as a relative name.
//
// Invariants checked on every input:
//  1. ValidateRelativePath either accepts, or answers InvalidArgument with a
//     non-empty message that holds no raw control byte.
//  2. An accepted name obeys the rules, checked again here independently:
//     not empty, at most 4096 bytes, no NUL, not absolute, no C0/DEL byte,
//     no empty, "." or ".." component (bar the lone "."), components of at
//     most 255 bytes.
//  3. An accepted name, opened beneath a temporary root (which holds
//     symlinks to outside, to inside, to /proc/self/root, a ".." symlink, a
//     FIFO and literal "%2e%2e" names), either fails with NotFound,
//     PermissionDenied or FailedPrecondition, or yields a descriptor whose
//     st_dev/st_ino is one of the inodes beneath the root and whose
//     /proc/self/fd path lies beneath the root. Never the outside file.
//  4. A Sub root opened from an accepted name only ever opens inodes beneath
//     the root too.
// A rejected name must be rejected by every operation, so the fuzzer also
// checks OpenRead returns InvalidArgument for it.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "security/path/path.h"

namespace {

using virtengine::security::path::kMaxComponentBytes;
using virtengine::security::path::kMaxPathBytes;
using virtengine::security::path::PathRoot;
using virtengine::security::path::UniqueFd;
using virtengine::security::path::ValidateRelativePath;

using Inode = std::pair<dev_t, ino_t>;

[[noreturn]] void Fail(const char* what, std::string_view name) {
  (void)std::fprintf(stderr, "path_validate_fuzz: %s (name of %zu bytes)\n",
                     what, name.size());
  std::abort();
}

void Touch(const std::string& p, const char* data) {
  const int fd =
      ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) std::abort();
  const size_t len = std::char_traits<char>::length(data);
  if (::write(fd, data, len) != static_cast<ssize_t>(len)) std::abort();
  (void)::close(fd);
}

Inode IdOf(const std::string& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) std::abort();
  return {st.st_dev, st.st_ino};
}

struct Env {
  std::string base;
  std::string root_real;  // canonical path of the root, for /proc/self/fd
  std::optional<PathRoot> root;
  std::set<Inode> inside;  // every inode beneath (and of) the root
  Inode outside_secret{};
  // Everything created, deepest last, for cleanup (plain syscalls only:
  // std::filesystem needs the UBSan C++ runtime under --config=fuzz).
  std::vector<std::string> dirs;
  std::vector<std::string> files;
};

void Cleanup();

Env& E() {
  static Env* env = [] {
    auto* e = new Env;  // lives for the whole process
    const char* tmp =
        std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
    std::string tmpl =
        std::string(tmp != nullptr ? tmp : "/tmp") + "/path_fuzz.XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    e->base = tmpl;
    const std::string root = tmpl + "/root";
    const std::string out = tmpl + "/outside";
    for (const std::string& d :
         {root, root + "/a", root + "/a/b", root + "/%2e%2e", out}) {
      if (::mkdir(d.c_str(), 0700) != 0) std::abort();
      e->dirs.push_back(d);
    }
    const std::pair<const char*, const char*> files[] = {
        {"/root/a/f", "f"},           {"/root/a/b/g", "g"},
        {"/root/%2e%2e/h", "h"},      {"/root/..%2f", "literal"},
        {"/root/..\\outside", "lit"}, {"/outside/secret", "SECRET"}};
    for (const auto& [rel, content] : files) {
      Touch(tmpl + rel, content);
      e->files.push_back(tmpl + rel);
    }
    const std::pair<std::string, const char*> links[] = {
        {"/root/in", "a"},
        {"/root/out", "../outside"},
        {"/root/abs", nullptr},  // absolute: the outside directory
        {"/root/proc", "/proc/self/root"},
        {"/root/a/up", ".."},
        {"/root/secret", nullptr}};  // absolute: the outside file
    for (const auto& [rel, target] : links) {
      std::string to;
      if (target != nullptr) {
        to = target;
      } else {
        to = rel == "/root/abs" ? out : out + "/secret";
      }
      if (::symlink(to.c_str(), (tmpl + rel).c_str()) != 0) std::abort();
      e->files.push_back(tmpl + rel);
    }
    if (::mkfifo((root + "/fifo").c_str(), 0600) != 0) std::abort();
    e->files.push_back(root + "/fifo");
    for (const std::string& p : e->dirs) {
      if (p != out) e->inside.insert(IdOf(p));
    }
    for (const std::string& p : e->files) {
      if (p != out + "/secret") e->inside.insert(IdOf(p));
    }
    e->outside_secret = IdOf(out + "/secret");
    char real[PATH_MAX];
    if (::realpath(root.c_str(), real) == nullptr) std::abort();
    e->root_real = real;
    absl::StatusOr<PathRoot> r = PathRoot::Open(root);
    if (!r.ok()) std::abort();
    e->root.emplace(*std::move(r));
    (void)std::atexit(Cleanup);
    return e;
  }();
  return *env;
}

void Cleanup() {
  Env& e = E();
  for (const std::string& f : e.files) (void)::unlink(f.c_str());
  for (auto it = e.dirs.rbegin(); it != e.dirs.rend(); ++it) {
    (void)::rmdir(it->c_str());
  }
  (void)::rmdir(e.base.c_str());
}

// Invariant 2, written independently of the library.
void CheckAcceptedName(std::string_view name) {
  if (name.empty() || name.size() > kMaxPathBytes) Fail("bad length", name);
  if (name.front() == '/') Fail("absolute name accepted", name);
  for (const char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == 0) Fail("NUL accepted", name);
    if (c < 0x20 || c == 0x7f) Fail("control byte accepted", name);
  }
  if (name == ".") return;
  size_t start = 0;
  for (;;) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    const std::string_view comp = name.substr(start, end - start);
    if (comp.empty()) Fail("empty component accepted", name);
    if (comp == "..") Fail("'..' accepted", name);
    if (comp == ".") Fail("'.' component accepted", name);
    if (comp.size() > kMaxComponentBytes) Fail("long component", name);
    if (end == name.size()) break;
    start = end + 1;
  }
}

// Invariant 3 for one descriptor.
void CheckInside(int fd, std::string_view name) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) Fail("fstat failed", name);
  const Inode id{st.st_dev, st.st_ino};
  if (id == E().outside_secret) Fail("opened the outside file", name);
  if (E().inside.count(id) == 0) Fail("opened an inode not beneath root", name);
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  std::vector<char> buf(8192);
  const ssize_t n = ::readlink(link.c_str(), buf.data(), buf.size());
  if (n <= 0) Fail("readlink of the fd failed", name);
  const std::string where(buf.data(), static_cast<size_t>(n));
  const std::string& root = E().root_real;
  if (where != root && where.compare(0, root.size() + 1, root + "/") != 0) {
    Fail("descriptor path is not beneath the root", name);
  }
}

bool Allowed(absl::StatusCode code) {
  return code == absl::StatusCode::kNotFound ||
         code == absl::StatusCode::kPermissionDenied ||
         code == absl::StatusCode::kFailedPrecondition;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Slightly over the path limit is enough to reach every rule.
  if (size > kMaxPathBytes + 64) return 0;
  const std::string name(reinterpret_cast<const char*>(data), size);
  const PathRoot& root = *E().root;

  const absl::Status v = ValidateRelativePath(name);
  if (!v.ok()) {
    if (v.code() != absl::StatusCode::kInvalidArgument) {
      Fail("rejection is not InvalidArgument", name);
    }
    if (v.message().empty()) Fail("empty rejection message", name);
    for (const char ch : v.message()) {
      if (static_cast<unsigned char>(ch) < 0x20) {
        Fail("raw control byte in message", name);
      }
    }
    if (root.OpenRead(name).status().code() !=
        absl::StatusCode::kInvalidArgument) {
      Fail("OpenRead did not reject a rejected name", name);
    }
    return 0;
  }
  CheckAcceptedName(name);

  absl::StatusOr<UniqueFd> fd = root.OpenRead(name);
  if (fd.ok()) {
    CheckInside(fd->get(), name);
  } else if (!Allowed(fd.status().code())) {
    Fail("unexpected OpenRead error", name);
  }

  absl::StatusOr<PathRoot> sub = root.Sub(name);
  if (sub.ok()) {
    absl::StatusOr<std::vector<std::string>> names = sub->List(".", 64);
    if (!names.ok()) Fail("List of a Sub root failed", name);
    for (const std::string& entry : *names) {
      absl::StatusOr<UniqueFd> inner = sub->OpenRead(entry);
      if (inner.ok()) {
        CheckInside(inner->get(), name);
      } else if (!Allowed(inner.status().code()) &&
                 inner.status().code() != absl::StatusCode::kInvalidArgument) {
        Fail("unexpected error inside a Sub root", name);
      }
    }
  } else if (!Allowed(sub.status().code())) {
    Fail("unexpected Sub error", name);
  }
  return 0;
}
