// Tests of security/path on real files beneath TEST_TMPDIR, with real
// symlinks, /proc magic links, a racing thread and real failures (no mocks).
// Fixtures are built with std::filesystem and plain syscalls; only the code
// under test goes through PathRoot.
#include "security/path/path.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace virtengine::security::path {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string MakeTempDir() {
  const char* tmp =
      std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  std::string tmpl =
      std::string(tmp != nullptr ? tmp : "/tmp") + "/path_test.XXXXXX";
  const char* made = ::mkdtemp(tmpl.data());
  if (made == nullptr) std::abort();
  return made;
}

void WriteRaw(const std::string& p, std::string_view data) {
  const int fd =
      ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << p;
  ASSERT_EQ(::write(fd, data.data(), data.size()),
            static_cast<ssize_t>(data.size()));
  ASSERT_EQ(::close(fd), 0);
}

std::string ReadRaw(const std::string& p) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "<missing>";
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  (void)::close(fd);
  return out;
}

bool ExistsNoFollow(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0;
}

mode_t ModeOf(const std::string& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return static_cast<mode_t>(-1);
  return st.st_mode & 07777;
}

// Every path beneath `dir` (recursively, symlinks not followed), with its
// type and size, to prove an operation changed nothing.
std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const auto st = e.symlink_status();
    std::string desc = std::to_string(static_cast<int>(st.type()));
    if (fs::is_regular_file(st)) desc += ":" + ReadRaw(e.path().string());
    out[e.path().string()] = desc;
  }
  return out;
}

std::vector<std::string> TempFilesIn(const std::string& dir) {
  std::vector<std::string> found;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(".ve-tmp-", 0) == 0) found.push_back(name);
  }
  return found;
}

// A path of exactly n bytes: 'x' with a '/' every 201 bytes (components of
// 200 bytes, never a leading, trailing or doubled '/').
std::string PathOfLength(size_t n) {
  std::string p(n, 'x');
  for (size_t i = 200; i + 1 < n; i += 201) p[i] = '/';
  return p;
}

class PathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = MakeTempDir();
    root_dir_ = base_ + "/root";
    outside_ = base_ + "/outside";
    fs::create_directories(root_dir_ + "/a");
    fs::create_directories(outside_);
    WriteRaw(outside_ + "/secret", "SECRET");
    WriteRaw(root_dir_ + "/a/f", "inside");
    absl::StatusOr<PathRoot> r = PathRoot::Open(root_dir_);
    ASSERT_TRUE(r.ok()) << r.status();
    root_.emplace(*std::move(r));
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }

  const PathRoot& root() const { return *root_; }

  std::string base_;
  std::string root_dir_;
  std::string outside_;
  std::optional<PathRoot> root_;
};

// ---------------------------------------------------------------------------
// ValidateRelativePath: the traversal corpus.

struct BadName {
  std::string name;
  std::string rule;  // a substring the message must contain
};

std::vector<BadName> BadNames() {
  using std::string;
  return {
      {"", "path is empty"},
      // Absolute paths, in every spelling.
      {"/etc/passwd", "absolute path not allowed"},
      {"/", "absolute path not allowed"},
      {"//x", "absolute path not allowed"},
      {"/..", "absolute path not allowed"},
      // ".." in every position.
      {"..", "path component '..' not allowed"},
      {"../x", "path component '..' not allowed"},
      {"../../../../etc/passwd", "path component '..' not allowed"},
      {"a/../../x", "path component '..' not allowed"},
      {"a/..", "path component '..' not allowed"},
      {"a/../b", "path component '..' not allowed"},
      {"a/b/../../..", "path component '..' not allowed"},
      {"../", "path component '..' not allowed"},
      // "." as a component (only "." alone, the root, is a valid name).
      {"./a", "path component '.' not allowed"},
      {"a/.", "path component '.' not allowed"},
      {"a/./b", "path component '.' not allowed"},
      {"./..", "path component '.' not allowed"},
      // Empty components.
      {"a//b", "empty path component"},
      {"a/", "empty path component"},
      {"a/b//", "empty path component"},
      // NUL anywhere (checked before every other rule but length).
      {string("a\0b", 3), "NUL byte at offset 1"},
      {string("\0", 1), "NUL byte at offset 0"},
      {string("../\0x", 5), "NUL byte at offset 3"},
      {string("a\0/../../etc", 12), "NUL byte at offset 1"},
      // Length limits.
      {string(256, 'a'),
       "path component 1 is 256 bytes, longer than the "
       "limit of 255"},
      {"a/" + string(256, 'b'), "path component 2 is 256 bytes"},
      {PathOfLength(4097), "path is 4097 bytes, longer than the limit of 4096"},
      {string(1 << 20, 'a'), "path is 1048576 bytes"},
      // Invalid UTF-8, including the overlong encoding of "." (C0 AE), the
      // classic "../" smuggled past a decoder that is not strict.
      {"\xff", "not valid UTF-8 at offset 0"},
      {"\x80", "not valid UTF-8 at offset 0"},
      {"\xc0\xae\xc0\xae/etc/passwd", "not valid UTF-8 at offset 0"},
      {"a/\xc0\xae\xc0\xae", "not valid UTF-8 at offset 2"},
      {"\xe0\x80\xae", "not valid UTF-8"},          // overlong, 3 bytes
      {"\xed\xa0\x80", "not valid UTF-8"},          // surrogate U+D800
      {"\xf4\x90\x80\x80", "not valid UTF-8"},      // above U+10FFFF
      {"\xe2\x82", "not valid UTF-8 at offset 0"},  // truncated
      {"\xf8\x88\x80\x80\x80", "not valid UTF-8"},  // 5-byte form
      // Control characters (C0, DEL, C1).
      {"a\nb", "control character U+000A at offset 1"},
      {"\t", "control character U+0009"},
      {"a\rb", "control character U+000D"},
      {"\x1b[31mred", "control character U+001B"},
      {"a\x7f", "control character U+007F"},
      {"\xc2\x85", "control character U+0085"},
      {"x\x01/../y", "control character U+0001"},
  };
}

std::vector<std::string> GoodNames() {
  return {"a", "a/b/c", ".",
          // Encoded and look-alike forms are ordinary, literal names.
          "%2e%2e", "%2e%2e/x", "..%2f", "..%2fx",
          "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "..%252f", "%c0%ae%c0%ae", "..\\x",
          "..\\..\\windows",
          "\xef\xbc\x8e\xef\xbc\x8e",  // fullwidth "．．"
          "\xe2\x80\xa5",              // "‥" two dot leader
          "...", "....", ".hidden", "..a", "a..", ". .", ".. ",
          "\xe6\x97\xa5\xe6\x9c\xac/\xf0\x9f\x94\x91",  // "日本/🔑"
          "a b", std::string(255, 'a'), "x/" + std::string(255, 'y'),
          PathOfLength(4096)};
}

TEST(ValidateRelativePathTest, RejectsTraversalCorpusWithPreciseReasons) {
  for (const BadName& bad : BadNames()) {
    const absl::Status s = ValidateRelativePath(bad.name);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument)
        << "accepted: " << bad.name.substr(0, 64);
    EXPECT_THAT(s.message(), HasSubstr(bad.rule))
        << "for " << bad.name.substr(0, 64);
  }
}

TEST(ValidateRelativePathTest, AcceptsOrdinaryAndEncodedNames) {
  for (const std::string& good : GoodNames()) {
    EXPECT_TRUE(ValidateRelativePath(good).ok())
        << good.substr(0, 64) << ": " << ValidateRelativePath(good);
  }
}

TEST(ValidateRelativePathTest, MessagesEscapeHostileBytes) {
  const absl::Status s = ValidateRelativePath("../\n\x1b[2Jforged log line");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find('\x1b'), std::string::npos) << s.message();
}

// Every operation refuses every bad name before touching the filesystem, and
// nothing anywhere beneath the test's base directory changes.
TEST_F(PathTest, EveryOperationRefusesEveryBadName) {
  const auto before = Snapshot(base_);
  for (const BadName& bad : BadNames()) {
    const std::string what = bad.name.substr(0, 64);
    EXPECT_EQ(root().OpenRead(bad.name).status().code(),
              absl::StatusCode::kInvalidArgument)
        << what;
    EXPECT_EQ(root().ReadFile(bad.name, 100).status().code(),
              absl::StatusCode::kInvalidArgument)
        << what;
    EXPECT_EQ(root().WriteFileAtomic(bad.name, "pwned").code(),
              absl::StatusCode::kInvalidArgument)
        << what;
    EXPECT_EQ(root().MakeDirs(bad.name).code(),
              absl::StatusCode::kInvalidArgument)
        << what;
    EXPECT_EQ(root().Sub(bad.name).status().code(),
              absl::StatusCode::kInvalidArgument)
        << what;
    EXPECT_EQ(root().Remove(bad.name).code(),
              absl::StatusCode::kInvalidArgument)
        << what;
    EXPECT_EQ(root().List(bad.name).status().code(),
              absl::StatusCode::kInvalidArgument)
        << what;
  }
  EXPECT_EQ(Snapshot(base_), before);
}

// Decision: encoded forms are literal names. "%2e%2e" is a file called
// "%2e%2e" inside the root, never the parent directory.
TEST_F(PathTest, EncodedFormsAreLiteralNamesInsideTheRoot) {
  EXPECT_EQ(root().OpenRead("%2e%2e/outside/secret").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(root().OpenRead("..%2foutside%2fsecret").status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(root().MakeDirs("%2e%2e").ok());
  ASSERT_TRUE(root().WriteFileAtomic("%2e%2e/x", "lit").ok());
  ASSERT_TRUE(root().WriteFileAtomic("..%2fx", "lit2").ok());
  ASSERT_TRUE(root().WriteFileAtomic("..\\x", "lit3").ok());
  EXPECT_EQ(ReadRaw(root_dir_ + "/%2e%2e/x"), "lit");
  EXPECT_EQ(ReadRaw(root_dir_ + "/..%2fx"), "lit2");
  EXPECT_EQ(ReadRaw(root_dir_ + "/..\\x"), "lit3");
  EXPECT_FALSE(ExistsNoFollow(base_ + "/x"));
  EXPECT_FALSE(ExistsNoFollow(outside_ + "/x"));
  absl::StatusOr<std::string> back = root().ReadFile("%2e%2e/x", 100);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, "lit");
}

// ---------------------------------------------------------------------------
// Symlinks and magic links: refused by the kernel (RESOLVE_NO_SYMLINKS,
// RESOLVE_NO_MAGICLINKS), reported as PermissionDenied.

TEST_F(PathTest, SymlinkInsideRootPointingOutsideIsRefused) {
  fs::create_directory_symlink(outside_, root_dir_ + "/out");
  fs::create_directory_symlink("../outside", root_dir_ + "/rel_out");
  fs::create_symlink(outside_ + "/secret", root_dir_ + "/outfile");
  fs::create_directory_symlink("/etc", root_dir_ + "/etc");
  fs::create_directory_symlink("/", root_dir_ + "/a/slash");
  const auto outside_before = Snapshot(outside_);
  for (const char* p : {"out/secret", "rel_out/secret", "outfile", "etc/passwd",
                        "a/slash/etc/passwd"}) {
    const absl::Status s = root().OpenRead(p).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << p << ": " << s;
    EXPECT_THAT(s.message(), HasSubstr("ELOOP")) << p;
    EXPECT_EQ(root().ReadFile(p, 100).status().code(),
              absl::StatusCode::kPermissionDenied)
        << p;
  }
  for (const char* d : {"out", "rel_out", "etc", "a/slash"}) {
    EXPECT_EQ(root().Sub(d).status().code(),
              absl::StatusCode::kPermissionDenied)
        << d;
    EXPECT_EQ(root().List(d).status().code(),
              absl::StatusCode::kPermissionDenied)
        << d;
    EXPECT_EQ(root().MakeDirs(std::string(d) + "/made").code(),
              absl::StatusCode::kPermissionDenied)
        << d;
    EXPECT_EQ(root().WriteFileAtomic(std::string(d) + "/new", "x").code(),
              absl::StatusCode::kPermissionDenied)
        << d;
    EXPECT_EQ(root().Remove(std::string(d) + "/secret").code(),
              absl::StatusCode::kPermissionDenied)
        << d;
  }
  EXPECT_EQ(Snapshot(outside_), outside_before);

  // O_NOFOLLOW semantics for writes: a symlink at the target name is
  // replaced by the new file, never written through.
  ASSERT_TRUE(root().WriteFileAtomic("outfile", "replaced").ok());
  EXPECT_EQ(ReadRaw(outside_ + "/secret"), "SECRET");
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(root_dir_ + "/outfile")));
  EXPECT_EQ(ReadRaw(root_dir_ + "/outfile"), "replaced");
  // Remove takes the link away, not its target.
  ASSERT_TRUE(root().Remove("out").ok());
  EXPECT_FALSE(ExistsNoFollow(root_dir_ + "/out"));
  EXPECT_EQ(ReadRaw(outside_ + "/secret"), "SECRET");
}

TEST_F(PathTest, SymlinkPointingInsideIsRefusedToo) {
  fs::create_directory_symlink("a", root_dir_ + "/in");
  fs::create_directory_symlink(root_dir_ + "/a", root_dir_ + "/in_abs");
  fs::create_directory_symlink(".", root_dir_ + "/a/self");
  fs::create_symlink("f", root_dir_ + "/a/f_link");
  fs::create_symlink("loop", root_dir_ + "/a/loop");
  for (const char* p : {"in/f", "in_abs/f", "a/self/f", "a/f_link", "a/loop"}) {
    EXPECT_EQ(root().OpenRead(p).status().code(),
              absl::StatusCode::kPermissionDenied)
        << p;
  }
  EXPECT_EQ(root().Sub("in").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(root().MakeDirs("in").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(root().WriteFileAtomic("in/g", "x").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_FALSE(ExistsNoFollow(root_dir_ + "/a/g"));
  // The real name still works.
  absl::StatusOr<std::string> f = root().ReadFile("a/f", 100);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(*f, "inside");
}

TEST_F(PathTest, SymlinksToMagicLinksAreRefused) {
  fs::create_directory_symlink("/proc/self/root", root_dir_ + "/proc_root");
  fs::create_directory_symlink("/proc/self/fd", root_dir_ + "/proc_fd");
  fs::create_directory_symlink("/proc/self/cwd", root_dir_ + "/proc_cwd");
  for (const char* p :
       {"proc_root/etc/passwd", "proc_fd/0", "proc_cwd", "proc_root"}) {
    EXPECT_EQ(root().OpenRead(p).status().code(),
              absl::StatusCode::kPermissionDenied)
        << p;
  }
  EXPECT_EQ(root().Sub("proc_root").status().code(),
            absl::StatusCode::kPermissionDenied);
}

// The magic links themselves: with /proc/<pid> as the root, "root", "cwd",
// "exe" and "fd/N" are magic links the kernel must not traverse, while the
// plain procfs files beside them open normally.
TEST_F(PathTest, MagicLinksBeneathProcRootAreRefused) {
  absl::StatusOr<PathRoot> proc =
      PathRoot::Open("/proc/" + std::to_string(::getpid()));
  ASSERT_TRUE(proc.ok()) << proc.status();
  const int outside_fd =
      ::open((outside_ + "/secret").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(outside_fd, 0);
  const std::string fd_link = "fd/" + std::to_string(outside_fd);
  for (const std::string& p :
       {std::string("root/etc/passwd"), std::string("cwd"), std::string("exe"),
        fd_link, std::string("root")}) {
    const absl::Status s = proc->OpenRead(p).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << p << ": " << s;
  }
  EXPECT_EQ(proc->Sub("root").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(proc->Sub("cwd").status().code(),
            absl::StatusCode::kPermissionDenied);
  (void)::close(outside_fd);

  // procfs reports st_size 0: the limit is enforced on bytes actually read.
  absl::StatusOr<std::string> status = proc->ReadFile("status", 1 << 20);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_THAT(*status, HasSubstr("Pid:"));
  EXPECT_EQ(proc->ReadFile("status", 16).status().code(),
            absl::StatusCode::kResourceExhausted);
}

// ---------------------------------------------------------------------------
// A symlink swapped in during the open. A racing thread keeps turning the
// directory "d" into a symlink to the outside directory and back; the main
// thread opens "d/f" over and over. No open may ever yield the outside file,
// identified by st_dev/st_ino of the descriptor actually returned.

enum class Racer { kExchange, kRename };

class SwapRace {
 public:
  SwapRace(const std::string& root_dir, Racer kind)
      : dirfd_(::open(root_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)),
        kind_(kind) {}
  ~SwapRace() {
    Stop();
    (void)::close(dirfd_);
  }
  SwapRace(const SwapRace&) = delete;
  SwapRace& operator=(const SwapRace&) = delete;

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }
  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  long swaps() const { return swaps_.load(); }
  int dirfd() const { return dirfd_; }

 private:
  void Run() {
    // "d" is the real directory, "s" the symlink to outside.
    while (!stop_.load()) {
      if (kind_ == Racer::kExchange) {
        if (::renameat2(dirfd_, "d", dirfd_, "s", RENAME_EXCHANGE) == 0) {
          swaps_.fetch_add(1);
        }
      } else {
        // Rename the directory away, the symlink in, and back again.
        const bool ok = ::renameat(dirfd_, "d", dirfd_, "d.real") == 0 &&
                        ::renameat(dirfd_, "s", dirfd_, "d") == 0 &&
                        ::renameat(dirfd_, "d", dirfd_, "s") == 0 &&
                        ::renameat(dirfd_, "d.real", dirfd_, "d") == 0;
        if (ok) swaps_.fetch_add(1);
      }
    }
  }

  int dirfd_;
  Racer kind_;
  std::atomic<bool> stop_{false};
  std::atomic<long> swaps_{0};
  std::thread thread_;
};

class SwapRaceTest : public PathTest,
                     public ::testing::WithParamInterface<Racer> {
 protected:
  void SetUp() override {
    PathTest::SetUp();
    fs::create_directories(root_dir_ + "/d");
    WriteRaw(root_dir_ + "/d/f", "in");
    WriteRaw(outside_ + "/f", "out");
    fs::create_directory_symlink(outside_, root_dir_ + "/s");
    struct stat st {};
    ASSERT_EQ(::stat((outside_ + "/f").c_str(), &st), 0);
    outside_id_ = {st.st_dev, st.st_ino};
    ASSERT_EQ(::stat((root_dir_ + "/d/f").c_str(), &st), 0);
    inside_id_ = {st.st_dev, st.st_ino};
  }

  std::pair<dev_t, ino_t> IdOf(int fd) const {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return {0, 0};
    return {st.st_dev, st.st_ino};
  }

  std::pair<dev_t, ino_t> outside_id_;
  std::pair<dev_t, ino_t> inside_id_;
};

TEST_P(SwapRaceTest, OpenNeverResolvesOutsideTheRoot) {
  constexpr int kIterations = 20000;
  SwapRace race(root_dir_, GetParam());
  race.Start();
  int inside = 0;
  int refused = 0;
  int not_found = 0;
  int escaped = 0;
  int unexpected = 0;
  std::string last_unexpected;
  for (int i = 0; i < kIterations; ++i) {
    absl::StatusOr<UniqueFd> fd = root().OpenRead("d/f");
    if (fd.ok()) {
      const auto id = IdOf(fd->get());
      if (id == outside_id_) {
        ++escaped;
      } else if (id == inside_id_) {
        ++inside;
      } else {
        ++unexpected;
        last_unexpected = "opened an unknown inode";
      }
    } else if (fd.status().code() == absl::StatusCode::kPermissionDenied) {
      ++refused;
    } else if (fd.status().code() == absl::StatusCode::kNotFound &&
               GetParam() == Racer::kRename) {
      ++not_found;  // "d" briefly absent between the renames
    } else {
      ++unexpected;
      last_unexpected = fd.status().ToString();
    }
  }
  race.Stop();
  RecordProperty("swaps", std::to_string(race.swaps()));
  EXPECT_EQ(escaped, 0);
  EXPECT_EQ(unexpected, 0) << last_unexpected;
  // The race was live: both states of "d" were seen.
  EXPECT_GT(race.swaps(), 0);
  EXPECT_GT(inside, 0);
  EXPECT_GT(refused, 0);
  std::printf("race: %d inside, %d refused, %d not found, %ld swaps\n", inside,
              refused, not_found, race.swaps());
}

// The same race through a plain openat (symlinks followed) does reach the
// outside file: the detector above can see an escape, so its zero means
// something.
TEST_P(SwapRaceTest, DetectorSeesEscapeThroughPlainOpenat) {
  constexpr int kIterations = 20000;
  SwapRace race(root_dir_, GetParam());
  const int dirfd =
      ::open(root_dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dirfd, 0);
  race.Start();
  int escaped = 0;
  for (int i = 0; i < kIterations && escaped == 0; ++i) {
    const int fd = ::openat(dirfd, "d/f", O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    if (IdOf(fd) == outside_id_) ++escaped;
    (void)::close(fd);
  }
  race.Stop();
  (void)::close(dirfd);
  EXPECT_GT(escaped, 0);
}

TEST_P(SwapRaceTest, AtomicWriteNeverLandsOutsideTheRoot) {
  constexpr int kIterations = 150;
  SwapRace race(root_dir_, GetParam());
  race.Start();
  int written = 0;
  int refused = 0;
  for (int i = 0; i < kIterations; ++i) {
    const absl::Status s = root().WriteFileAtomic("d/w", "data");
    if (s.ok()) {
      ++written;
    } else {
      EXPECT_TRUE(s.code() == absl::StatusCode::kPermissionDenied ||
                  s.code() == absl::StatusCode::kNotFound)
          << s;
      ++refused;
    }
  }
  race.Stop();
  EXPECT_FALSE(ExistsNoFollow(outside_ + "/w"));
  EXPECT_THAT(TempFilesIn(outside_), ElementsAre());
  // Whichever name the real directory has now, it holds no temp files.
  for (const char* n : {"/d", "/s", "/d.real"}) {
    if (fs::is_directory(fs::symlink_status(root_dir_ + n))) {
      EXPECT_THAT(TempFilesIn(root_dir_ + n), ElementsAre()) << n;
    }
  }
  EXPECT_EQ(written + refused, kIterations);
}

INSTANTIATE_TEST_SUITE_P(Racers, SwapRaceTest,
                         ::testing::Values(Racer::kExchange, Racer::kRename),
                         [](const ::testing::TestParamInfo<Racer>& info) {
                           return info.param == Racer::kExchange ? "Exchange"
                                                                 : "Rename";
                         });

// ---------------------------------------------------------------------------
// Atomic write.

TEST_F(PathTest, WriteFileAtomicCreatesAndReplaces) {
  ASSERT_TRUE(root().WriteFileAtomic("a/new", "v1").ok());
  EXPECT_EQ(ReadRaw(root_dir_ + "/a/new"), "v1");
  EXPECT_EQ(ModeOf(root_dir_ + "/a/new"), 0600U);
  struct stat first {};
  ASSERT_EQ(::stat((root_dir_ + "/a/new").c_str(), &first), 0);

  ASSERT_TRUE(root().WriteFileAtomic("a/new", "version two").ok());
  EXPECT_EQ(ReadRaw(root_dir_ + "/a/new"), "version two");
  struct stat second {};
  ASSERT_EQ(::stat((root_dir_ + "/a/new").c_str(), &second), 0);
  EXPECT_NE(first.st_ino, second.st_ino) << "replaced by rename, not in place";

  ASSERT_TRUE(root().WriteFileAtomic("top", "").ok());
  EXPECT_EQ(ReadRaw(root_dir_ + "/top"), "");

  const std::string big(3 << 20, 'z');
  ASSERT_TRUE(root().WriteFileAtomic("a/big", big).ok());
  absl::StatusOr<std::string> back = root().ReadFile("a/big", big.size());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, big);

  EXPECT_THAT(TempFilesIn(root_dir_), ElementsAre());
  EXPECT_THAT(TempFilesIn(root_dir_ + "/a"), ElementsAre());
}

TEST_F(PathTest, WriteFileAtomicSetsExactlyTheRequestedMode) {
  const mode_t old_mask = ::umask(077);
  const absl::Status s = root().WriteFileAtomic("shared", "x", 0644);
  const absl::Status s2 = root().WriteFileAtomic("private", "x");
  ::umask(old_mask);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_TRUE(s2.ok()) << s2;
  EXPECT_EQ(ModeOf(root_dir_ + "/shared"), 0644U);
  EXPECT_EQ(ModeOf(root_dir_ + "/private"), 0600U);
  for (const mode_t bad : {04600, 02600, 01600, 0100600}) {
    const absl::Status b = root().WriteFileAtomic("bad", "x", bad);
    EXPECT_EQ(b.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(b.message(), HasSubstr("outside 0777"));
  }
  EXPECT_FALSE(ExistsNoFollow(root_dir_ + "/bad"));
}

TEST_F(PathTest, WriteFileAtomicErrorsLeaveNothingBehind) {
  EXPECT_EQ(root().WriteFileAtomic(".", "x").code(),
            absl::StatusCode::kInvalidArgument);
  // Missing parent: nothing is created (MakeDirs is explicit).
  EXPECT_EQ(root().WriteFileAtomic("nodir/x", "x").code(),
            absl::StatusCode::kNotFound);
  EXPECT_FALSE(ExistsNoFollow(root_dir_ + "/nodir"));
  // A file where a directory should be.
  EXPECT_EQ(root().WriteFileAtomic("a/f/x", "x").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadRaw(root_dir_ + "/a/f"), "inside");
}

// Crash safety, failure at the last step: the temp file was created and
// fully written and fsync'd, then the rename fails (the target is a
// non-empty directory: EISDIR binds root as well). The temp file is removed
// and the directory is untouched.
TEST_F(PathTest, FailedRenameRemovesTheTempFile) {
  ASSERT_TRUE(root().MakeDirs("a/dir/sub").ok());
  const absl::Status s = root().WriteFileAtomic("a/dir", "new content");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(s.message(), HasSubstr("rename"));
  EXPECT_TRUE(fs::is_directory(root_dir_ + "/a/dir/sub"));
  EXPECT_THAT(TempFilesIn(root_dir_ + "/a"), ElementsAre());
}

// Crash safety, failure in the middle of writing: RLIMIT_FSIZE caps file
// size for every process, root included, so the write fails with EFBIG
// after part of the data reached the temp file. The old file keeps its old
// content and the temp file is removed.
TEST_F(PathTest, FailedWriteKeepsOldContentAndRemovesTheTempFile) {
  ASSERT_TRUE(root().WriteFileAtomic("a/g", "OLD CONTENT").ok());
  struct rlimit old_limit {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old_limit;
  small.rlim_cur = 4096;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  const absl::Status s =
      root().WriteFileAtomic("a/g", std::string(1 << 20, 'N'));
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old_limit), 0);
  (void)std::signal(SIGXFSZ, old_handler);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_THAT(s.message(), HasSubstr("EFBIG"));
  EXPECT_EQ(ReadRaw(root_dir_ + "/a/g"), "OLD CONTENT");
  EXPECT_THAT(TempFilesIn(root_dir_ + "/a"), ElementsAre());
}

// ---------------------------------------------------------------------------
// Reading.

TEST_F(PathTest, ReadFileEnforcesTheSizeLimit) {
  WriteRaw(root_dir_ + "/hundred", std::string(100, 'h'));
  WriteRaw(root_dir_ + "/empty", "");
  absl::StatusOr<std::string> ok = root().ReadFile("hundred", 100);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->size(), 100U);
  const absl::Status over = root().ReadFile("hundred", 99).status();
  EXPECT_EQ(over.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(over.message(),
              HasSubstr("100 bytes, more than the limit of 99"));
  EXPECT_EQ(root().ReadFile("hundred", 0).status().code(),
            absl::StatusCode::kResourceExhausted);
  absl::StatusOr<std::string> empty = root().ReadFile("empty", 0);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(*empty, "");
  EXPECT_EQ(root().ReadFile("missing", 10).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(PathTest, OpenReadRefusesNonRegularFilesWithoutBlocking) {
  ASSERT_EQ(::mkfifo((root_dir_ + "/fifo").c_str(), 0600), 0);
  const absl::Status fifo = root().OpenRead("fifo").status();
  EXPECT_EQ(fifo.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(fifo.message(), HasSubstr("FIFO"));
  const absl::Status dir = root().OpenRead("a").status();
  EXPECT_EQ(dir.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(dir.message(), HasSubstr("directory"));
  EXPECT_EQ(root().OpenRead(".").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(PathTest, OpenAppendAppendsToExistingRegularFilesOnly) {
  absl::StatusOr<UniqueFd> fd = root().OpenAppend("a/f");
  ASSERT_TRUE(fd.ok()) << fd.status();
  const int fl = ::fcntl(fd->get(), F_GETFL);
  EXPECT_EQ(fl & O_ACCMODE, O_WRONLY);
  EXPECT_NE(fl & O_APPEND, 0);
  EXPECT_EQ(fl & O_NONBLOCK, 0);
  EXPECT_NE(::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC, 0);
  ASSERT_EQ(::lseek(fd->get(), 0, SEEK_SET), 0);
  ASSERT_EQ(::write(fd->get(), "+more", 5), 5);  // O_APPEND: at the end
  EXPECT_EQ(ReadRaw(root_dir_ + "/a/f"), "inside+more");
  EXPECT_EQ(root().OpenAppend("missing").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_FALSE(ExistsNoFollow(root_dir_ + "/missing"));
  EXPECT_EQ(root().OpenAppend("a").status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_EQ(::mkfifo((root_dir_ + "/fifo").c_str(), 0600), 0);
  EXPECT_EQ(root().OpenAppend("fifo").status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_EQ(
      ::symlink((outside_ + "/secret").c_str(), (root_dir_ + "/link").c_str()),
      0);
  EXPECT_EQ(root().OpenAppend("link").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(root().OpenAppend("../outside/secret").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadRaw(outside_ + "/secret"), "SECRET");
}

TEST_F(PathTest, DescriptorsAreCloseOnExecAndBlocking) {
  absl::StatusOr<UniqueFd> fd = root().OpenRead("a/f");
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_NE(::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC, 0);
  const int fl = ::fcntl(fd->get(), F_GETFL);
  EXPECT_EQ(fl & O_NONBLOCK, 0);
  EXPECT_EQ(fl & O_ACCMODE, O_RDONLY);
  char buf[16] = {};
  EXPECT_EQ(::read(fd->get(), buf, sizeof(buf)), 6);
  EXPECT_EQ(std::string(buf, 6), "inside");
}

// ---------------------------------------------------------------------------
// Directories.

TEST_F(PathTest, MakeDirsCreatesWithModeAndRefusesWhatIsInTheWay) {
  ASSERT_TRUE(root().MakeDirs("x/y/z").ok());
  EXPECT_TRUE(fs::is_directory(root_dir_ + "/x/y/z"));
  EXPECT_EQ(ModeOf(root_dir_ + "/x"), 0700U);
  EXPECT_EQ(ModeOf(root_dir_ + "/x/y/z"), 0700U);
  EXPECT_TRUE(root().MakeDirs("x/y/z").ok()) << "idempotent";
  EXPECT_TRUE(root().MakeDirs(".").ok());
  ASSERT_TRUE(root().MakeDirs("shared/logs", 0750).ok());
  EXPECT_EQ(ModeOf(root_dir_ + "/shared/logs"), 0750U);
  // Existing directories keep their mode.
  ASSERT_EQ(::chmod((root_dir_ + "/a").c_str(), 0755), 0);
  ASSERT_TRUE(root().MakeDirs("a/new", 0700).ok());
  EXPECT_EQ(ModeOf(root_dir_ + "/a"), 0755U);
  // A file or a symlink in the way.
  EXPECT_EQ(root().MakeDirs("a/f/x").code(),
            absl::StatusCode::kFailedPrecondition);
  fs::create_directory_symlink(outside_, root_dir_ + "/link");
  EXPECT_EQ(root().MakeDirs("link/x").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_FALSE(ExistsNoFollow(outside_ + "/x"));
  EXPECT_EQ(root().MakeDirs("m", 02700).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(PathTest, SubIsARootBeneathTheRoot) {
  absl::StatusOr<PathRoot> sub = root().Sub("a");
  ASSERT_TRUE(sub.ok()) << sub.status();
  absl::StatusOr<std::string> f = sub->ReadFile("f", 100);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(*f, "inside");
  EXPECT_EQ(sub->OpenRead("../a/f").status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(sub->WriteFileAtomic("g", "via sub").ok());
  EXPECT_EQ(ReadRaw(root_dir_ + "/a/g"), "via sub");
  EXPECT_EQ(root().Sub("a/f").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(root().Sub("none").status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<PathRoot> self = root().Sub(".");
  ASSERT_TRUE(self.ok()) << self.status();
  EXPECT_TRUE(self->ReadFile("a/f", 100).ok());
  // A PathRoot is bound to the directory, not to its name.
  ASSERT_EQ(::rename((root_dir_ + "/a").c_str(), (root_dir_ + "/b").c_str()),
            0);
  f = sub->ReadFile("f", 100);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(*f, "inside");
}

TEST_F(PathTest, RemoveFilesLinksAndEmptyDirectoriesOnly) {
  ASSERT_TRUE(root().MakeDirs("e").ok());
  ASSERT_TRUE(root().Remove("e").ok());
  EXPECT_FALSE(ExistsNoFollow(root_dir_ + "/e"));
  const absl::Status full = root().Remove("a");
  EXPECT_EQ(full.code(), absl::StatusCode::kFailedPrecondition) << full;
  EXPECT_TRUE(ExistsNoFollow(root_dir_ + "/a/f"));
  EXPECT_EQ(root().Remove(".").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(root().Remove("missing").code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(root().Remove("a/f").ok());
  EXPECT_FALSE(ExistsNoFollow(root_dir_ + "/a/f"));
  EXPECT_TRUE(ExistsNoFollow(root_dir_));
}

TEST_F(PathTest, RenameWithinOneDirectoryNeverReplaces) {
  ASSERT_TRUE(root().MakeDirs("r/x/y").ok());
  WriteRaw(root_dir_ + "/r/x/y/f", "data");
  WriteRaw(root_dir_ + "/r/taken", "");
  ASSERT_TRUE(root().Rename("r/x", "r/z").ok());
  EXPECT_FALSE(ExistsNoFollow(root_dir_ + "/r/x"));
  EXPECT_TRUE(ExistsNoFollow(root_dir_ + "/r/z/y/f"));
  EXPECT_EQ(root().Rename("r/z", "r/taken").code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(root().Rename("r/z", "a/z").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(root().Rename("r/../a", "r/q").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(root().Rename("r/missing", "r/q").code(),
            absl::StatusCode::kNotFound);
  // A symlinked parent is not followed.
  fs::create_directory_symlink(root_dir_ + "/r", root_dir_ + "/link");
  EXPECT_FALSE(root().Rename("link/z", "link/w").ok());
  EXPECT_TRUE(ExistsNoFollow(root_dir_ + "/r/z"));
}

TEST_F(PathTest, RemoveTreeRemovesEverythingBeneathButNoLinkTarget) {
  ASSERT_TRUE(root().MakeDirs("t/a/b").ok());
  WriteRaw(root_dir_ + "/t/a/b/f", "x");
  WriteRaw(root_dir_ + "/t/g", "y");
  // A symlink inside the tree to a file outside: the link goes, the target
  // stays.
  fs::create_symlink(root_dir_ + "/a/f", root_dir_ + "/t/a/link");
  ASSERT_TRUE(root().RemoveTree("t").ok());
  EXPECT_FALSE(ExistsNoFollow(root_dir_ + "/t"));
  EXPECT_TRUE(ExistsNoFollow(root_dir_ + "/a/f"));
  EXPECT_EQ(root().RemoveTree("t").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(root().RemoveTree(".").code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(PathTest, ListReturnsSortedNames) {
  WriteRaw(root_dir_ + "/zz", "");
  WriteRaw(root_dir_ + "/.hidden", "");
  absl::StatusOr<std::vector<std::string>> names = root().List(".");
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(*names, ElementsAre(".hidden", "a", "zz"));
  names = root().List("a");
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(*names, ElementsAre("f"));
  EXPECT_EQ(root().List("a/f").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(root().List("missing").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(root().List(".", 2).status().code(),
            absl::StatusCode::kResourceExhausted);
  // Enough entries for several getdents64 buffers.
  fs::create_directories(root_dir_ + "/many");
  for (int i = 0; i < 3000; ++i) {
    WriteRaw(root_dir_ + "/many/entry-with-a-longish-name-" +
                 std::to_string(100000 + i),
             "");
  }
  names = root().List("many");
  ASSERT_TRUE(names.ok()) << names.status();
  ASSERT_EQ(names->size(), 3000U);
  EXPECT_EQ(names->front(), "entry-with-a-longish-name-100000");
  EXPECT_EQ(names->back(), "entry-with-a-longish-name-102999");
}

// ---------------------------------------------------------------------------
// Opening the root.

TEST_F(PathTest, OpenRootRules) {
  EXPECT_EQ(PathRoot::Open("relative/dir").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PathRoot::Open("").status().code(),
            absl::StatusCode::kInvalidArgument);
  const absl::Status dotdot =
      PathRoot::Open(root_dir_ + "/../outside").status();
  EXPECT_EQ(dotdot.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(dotdot.message(), HasSubstr("'..' not allowed"));
  EXPECT_EQ(PathRoot::Open(root_dir_ + "/").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PathRoot::Open("/.").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PathRoot::Open(root_dir_ + "/nope").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(PathRoot::Open(root_dir_ + "/a/f").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(PathRoot::Open("/").ok());
  // A symlink in the configured root path is operator configuration and is
  // followed; a magic link is not.
  fs::create_directory_symlink(root_dir_, base_ + "/root_link");
  absl::StatusOr<PathRoot> via_link = PathRoot::Open(base_ + "/root_link");
  ASSERT_TRUE(via_link.ok()) << via_link.status();
  EXPECT_TRUE(via_link->ReadFile("a/f", 100).ok());
  EXPECT_EQ(PathRoot::Open("/proc/self/root").status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(UniqueFdTest, OwnsClosesAndMoves) {
  const auto is_open = [](int fd) { return ::fcntl(fd, F_GETFD) != -1; };
  int raw = ::open("/", O_PATH | O_CLOEXEC);
  ASSERT_GE(raw, 0);
  {
    UniqueFd a(raw);
    EXPECT_TRUE(a.valid());
    UniqueFd b(std::move(a));
    // NOLINTNEXTLINE(bugprone-use-after-move,clang-analyzer-cplusplus.Move)
    EXPECT_FALSE(a.valid());
    EXPECT_EQ(b.get(), raw);
    UniqueFd c;
    c = std::move(b);
    EXPECT_EQ(c.get(), raw);
    EXPECT_TRUE(is_open(raw));
  }
  EXPECT_FALSE(is_open(raw));
  raw = ::open("/", O_PATH | O_CLOEXEC);
  ASSERT_GE(raw, 0);
  UniqueFd d(raw);
  const int released = d.release();
  EXPECT_FALSE(d.valid());
  EXPECT_TRUE(is_open(released));
  d.reset(released);
  d.reset();
  EXPECT_FALSE(is_open(released));
}

}  // namespace
}  // namespace virtengine::security::path
