// Test helpers: real temporary directories beneath TEST_TMPDIR and raw file
// access for fixtures and tampering (the code under test uses PathRoot).
#ifndef VIRTENGINE_SECURITY_AUDIT_TEST_UTIL_H_
#define VIRTENGINE_SECURITY_AUDIT_TEST_UTIL_H_

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "security/audit/audit_log.h"
#include "security/audit/record.h"
#include "security/audit/verifier.h"
#include "security/path/path.h"

namespace virtengine::security::audit::testing {

inline std::string MakeTempDir() {
  const char* tmp =
      std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  std::string tmpl =
      std::string(tmp != nullptr ? tmp : "/tmp") + "/audit_test.XXXXXX";
  const char* made = ::mkdtemp(tmpl.data());
  if (made == nullptr) std::abort();
  return made;
}

inline std::string ReadRaw(const std::string& p) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "<missing>";
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

inline void WriteRaw(const std::string& p, std::string_view data,
                     mode_t mode = 0600) {
  const int fd =
      ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  ASSERT_GE(fd, 0) << p;
  ASSERT_EQ(::write(fd, data.data(), data.size()),
            static_cast<ssize_t>(data.size()));
  ASSERT_EQ(::close(fd), 0);
}

inline mode_t ModeOf(const std::string& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 07777;
  return st.st_mode & 07777;
}

inline bool Exists(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0;
}

// Lines of a file without their '\n' (a last piece without one is kept).
inline std::vector<std::string> Lines(const std::string& data) {
  std::vector<std::string> out = absl::StrSplit(data, '\n');
  if (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

inline std::string JoinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) absl::StrAppend(&out, l, "\n");
  return out;
}

// A clock that returns 2026-01-02T03:04:05.000000001Z plus 1 ms per call.
class StepClock {
 public:
  absl::Time operator()() {
    const absl::Time t =
        absl::FromUnixNanos(kStart + static_cast<int64_t>(calls_) * 1000000);
    ++calls_;
    return t;
  }
  static constexpr int64_t kStart = 1767323045000000001;

 private:
  uint64_t calls_ = 0;
};

inline Entry MakeEntry(int i) {
  Entry e;
  e.actor = absl::StrCat("operator:alice-", i);
  e.action = "key.rotate";
  e.object = absl::StrCat("keys/node-", i, ".key");
  e.outcome = i % 3 == 0 ? Outcome::kDenied : Outcome::kSuccess;
  if (e.outcome == Outcome::kDenied) e.reason = "mfa session expired";
  e.details["index"] = absl::StrCat(i);
  e.details["note"] = "quote \" backslash \\ tab\tnewline\nend";
  return e;
}

// A home directory with an open PathRoot.
struct Home {
  std::string path = MakeTempDir();
  path::PathRoot root = std::move(*path::PathRoot::Open(path));
  std::string audit() const { return path + "/audit"; }
  std::string segment(int n) const {
    return absl::StrCat(audit(), "/", SegmentName(static_cast<uint64_t>(n)));
  }
};

}  // namespace virtengine::security::audit::testing

#endif  // VIRTENGINE_SECURITY_AUDIT_TEST_UTIL_H_
