#include "security/audit/audit_log.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "security/audit/json_line.h"
#include "security/audit/quote.h"
#include "security/audit/record.h"
#include "security/audit/verifier.h"
#include "security/crypto/bytes.h"
#include "security/crypto/hash.h"
#include "security/path/path.h"
#include "security/path/unique_fd.h"

namespace virtengine::security::audit {
namespace {

constexpr mode_t kFileMode = 0600;
constexpr mode_t kDirMode = 0700;
constexpr uint64_t kMaxSegmentNumber = 999999;
constexpr int kLockAttempts = 8;
constexpr std::string_view kEvidencePrefix = "torn-";
constexpr std::string_view kEvidenceSuffix = ".bin";

struct EvidenceId {
  uint64_t segment = 0;
  uint64_t offset = 0;
};

// Parses "torn-NNNNNN-<offset>.bin" as EvidenceName writes it.
std::optional<EvidenceId> ParseEvidenceName(std::string_view name) {
  if (name.size() < kEvidencePrefix.size() + kEvidenceSuffix.size() + 8 ||
      name.substr(0, kEvidencePrefix.size()) != kEvidencePrefix ||
      name.substr(name.size() - kEvidenceSuffix.size()) != kEvidenceSuffix) {
    return std::nullopt;
  }
  std::string_view mid =
      name.substr(kEvidencePrefix.size(), name.size() - kEvidencePrefix.size() -
                                              kEvidenceSuffix.size());
  const size_t dash = mid.find('-');
  if (dash != 6) return std::nullopt;
  const std::optional<uint64_t> seg =
      ParseSegmentName(absl::StrCat("audit-", Sv(mid.substr(0, 6)), ".log"));
  if (!seg.has_value()) return std::nullopt;
  const std::string_view off = mid.substr(7);
  if (off.empty() || off.size() > 18 || (off[0] == '0' && off.size() > 1)) {
    return std::nullopt;
  }
  uint64_t v = 0;
  for (const char c : off) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (EvidenceName(*seg, v) != name) return std::nullopt;
  return EvidenceId{*seg, v};
}

absl::Status ErrnoError(std::string_view op, std::string_view name, int err) {
  const std::string what =
      absl::StrCat(Sv(op), " ", Quote(name), ": ", ErrnoName(err));
  if (err == ENOSPC || err == EDQUOT || err == EFBIG) {
    return absl::ResourceExhaustedError(what);
  }
  if (err == EACCES || err == EPERM || err == EROFS) {
    return absl::PermissionDeniedError(what);
  }
  return absl::DataLossError(what);
}

// Takes an exclusive flock on audit/audit.lock (created 0600 if missing),
// making sure the descriptor locked is the file the name refers to.
absl::StatusOr<path::UniqueFd> AcquireLock(const path::PathRoot& dir) {
  for (int attempt = 0; attempt < kLockAttempts; ++attempt) {
    absl::StatusOr<path::UniqueFd> fd = dir.OpenRead(kLockFile);
    if (absl::IsNotFound(fd.status())) {
      absl::Status s = dir.WriteFileAtomic(kLockFile, "", kFileMode);
      if (!s.ok()) return s;
      continue;
    }
    if (!fd.ok()) return fd.status();
    int r = 0;
    do {
      r = ::flock(fd->get(), LOCK_EX | LOCK_NB);
    } while (r != 0 && errno == EINTR);
    if (r != 0) {
      const int err = errno;
      if (err == EWOULDBLOCK) {
        return absl::FailedPreconditionError(
            "audit log is in use by another writer (audit/audit.lock is "
            "locked)");
      }
      return ErrnoError("lock", kLockFile, err);
    }
    absl::StatusOr<path::UniqueFd> again = dir.OpenRead(kLockFile);
    if (!again.ok()) continue;
    struct stat a {};
    struct stat b {};
    if (::fstat(fd->get(), &a) == 0 && ::fstat(again->get(), &b) == 0 &&
        a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
      return fd;
    }
  }
  return absl::UnavailableError(
      "audit/audit.lock was replaced repeatedly while locking it");
}

// Reads `name` from `offset` to its end (at most `max` bytes).
absl::StatusOr<std::string> ReadTail(const path::PathRoot& dir,
                                     std::string_view name, uint64_t offset,
                                     size_t max) {
  absl::StatusOr<path::UniqueFd> fd = dir.OpenRead(name);
  if (!fd.ok()) return fd.status();
  std::string out;
  std::string buf(max + 1, '\0');
  for (;;) {
    const ssize_t n = ::pread(fd->get(), buf.data(), buf.size() - out.size(),
                              static_cast<off_t>(offset + out.size()));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read", name, errno);
    }
    if (n == 0) break;
    out.append(buf.data(), static_cast<size_t>(n));
    if (out.size() > max) {
      return absl::DataLossError(
          absl::StrCat("read ", Quote(name), ": tail after offset ", offset,
                       " is longer than ", max, " bytes"));
    }
  }
  return out;
}

}  // namespace

std::string EvidenceName(uint64_t segment_number, uint64_t offset) {
  const std::string seg = SegmentName(segment_number);  // audit-NNNNNN.log
  return absl::StrCat(Sv(kEvidencePrefix), seg.substr(6, 6), "-", offset,
                      Sv(kEvidenceSuffix));
}

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(
    const path::PathRoot& home, AuditLogOptions options) {
  if (options.max_segment_bytes == 0) {
    return absl::InvalidArgumentError("max_segment_bytes must be > 0");
  }
  if (!options.clock) options.clock = [] { return absl::Now(); };
  Entry probe;
  probe.actor = options.system_actor;
  probe.action = std::string(kTornTailAction);
  if (absl::Status s = ValidateEntry(probe); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("system_actor: ", s.message()));
  }
  if (absl::Status s = home.MakeDirs(kAuditDir, kDirMode); !s.ok()) return s;
  absl::StatusOr<path::PathRoot> dir = home.Sub(kAuditDir);
  if (!dir.ok()) return dir.status();
  absl::StatusOr<path::UniqueFd> lock = AcquireLock(*dir);
  if (!lock.ok()) return lock.status();
  std::unique_ptr<AuditLog> log(
      new AuditLog(*std::move(dir), *std::move(lock), std::move(options)));
  absl::MutexLock l(&log->mu_);
  if (absl::Status s = log->Recover(); !s.ok()) return s;
  return log;
}

absl::Status AuditLog::Recover() {
  absl::StatusOr<std::vector<std::string>> segments = ListSegments(dir_);
  if (!segments.ok()) return segments.status();
  if (segments->empty()) {
    const std::string first = SegmentName(1);
    absl::Status s = dir_.WriteFileAtomic(first, "", kFileMode);
    if (!s.ok()) return s;
    segments->push_back(first);
  }

  std::set<std::string> documented;  // evidence files with their record
  VerifyOptions vo;
  vo.on_record = [&documented, this](const Record& r) {
    if (r.entry.action == kTornTailAction &&
        r.entry.actor == options_.system_actor) {
      documented.insert(r.entry.object);
    }
  };
  absl::StatusOr<VerifyResult> result = VerifyLogDir(dir_, std::move(vo));
  if (!result.ok()) return result.status();
  const Finding& f = result->finding;
  report_.segments = segments->size();
  report_.records = result->count;
  report_.head = Head{result->head_seq, result->head_hash};

  if (f.kind == FindingKind::kTornTail) {
    const std::optional<uint64_t> number = ParseSegmentName(f.segment);
    if (!number.has_value() || f.segment != segments->back()) {
      return absl::DataLossError(
          absl::StrCat("torn tail outside the last segment: ", f.message));
    }
    absl::StatusOr<std::string> torn =
        ReadTail(dir_, f.segment, f.offset, kMaxLineBytes);
    if (!torn.ok()) return torn.status();
    // Keep the evidence first (atomic, synced); a crash after this point
    // finds the same tail again or a truncated log plus this file.
    const std::string evidence = EvidenceName(*number, f.offset);
    absl::Status s = dir_.WriteFileAtomic(evidence, *torn, kFileMode);
    if (!s.ok()) return s;
    absl::StatusOr<path::UniqueFd> fd = dir_.OpenAppend(f.segment);
    if (!fd.ok()) return fd.status();
    if (::ftruncate(fd->get(), static_cast<off_t>(f.offset)) != 0) {
      return ErrnoError("truncate", f.segment, errno);
    }
    if (::fdatasync(fd->get()) != 0) {
      return ErrnoError("sync", f.segment, errno);
    }
    report_.torn_tail_truncated = true;
    report_.torn_segment = f.segment;
    report_.torn_offset = f.offset;
    report_.torn_bytes = torn->size();
    report_.evidence_file = evidence;
  } else if (!result->ok()) {
    return absl::DataLossError(absl::StrCat(
        "audit log failed verification (", Sv(FindingKindName(f.kind)),
        "): ", f.message, "; inspect it with ve-audit-verify"));
  }

  head_ = report_.head;
  segment_number_ = *ParseSegmentName(segments->back());
  if (absl::Status s = OpenActiveSegment(); !s.ok()) return s;

  absl::StatusOr<std::vector<std::string>> names = dir_.List(".");
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    if (!ParseEvidenceName(name).has_value() || documented.count(name) > 0) {
      continue;
    }
    if (absl::Status s = RecordEvidence(name); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status AuditLog::RecordEvidence(const std::string& name) {
  const std::optional<EvidenceId> id = ParseEvidenceName(name);
  if (!id.has_value()) {
    return absl::InternalError(absl::StrCat("not evidence: ", Quote(name)));
  }
  absl::StatusOr<std::string> bytes = dir_.ReadFile(name, kMaxLineBytes);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<::virtengine::crypto::Digest32> digest =
      ::virtengine::crypto::Sha256(::virtengine::crypto::Purpose::AUDIT_CHAIN,
                                   ::virtengine::crypto::AsBytes(*bytes));
  if (!digest.ok()) return digest.status();
  Entry e;
  e.actor = options_.system_actor;
  e.action = std::string(kTornTailAction);
  e.object = name;
  e.outcome = Outcome::kSuccess;
  e.reason =
      "unterminated tail of an append cut short by a crash was truncated; "
      "its bytes are kept in the evidence file named as object";
  e.details["segment"] = SegmentName(id->segment);
  e.details["offset"] = absl::StrCat(id->offset);
  e.details["bytes"] = absl::StrCat(bytes->size());
  e.details["sha256"] = HashHex(*digest);
  absl::StatusOr<Head> h = AppendLocked(absl::MakeConstSpan(&e, 1));
  if (!h.ok()) return h.status();
  report_.repair_records++;
  return absl::OkStatus();
}

absl::Status AuditLog::OpenActiveSegment() {
  const std::string name = SegmentName(segment_number_);
  absl::StatusOr<path::UniqueFd> fd = dir_.OpenAppend(name);
  if (!fd.ok()) return fd.status();
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return ErrnoError("stat", name, errno);
  if ((st.st_mode & 07777) != kFileMode &&
      ::fchmod(fd->get(), kFileMode) != 0) {
    return ErrnoError("chmod", name, errno);
  }
  fd_ = *std::move(fd);
  segment_size_ = static_cast<uint64_t>(st.st_size);
  return absl::OkStatus();
}

absl::Status AuditLog::Rotate() {
  if (segment_number_ >= kMaxSegmentNumber) {
    return absl::ResourceExhaustedError(
        absl::StrCat("audit log has reached ", SegmentName(kMaxSegmentNumber),
                     "; archive and start a new log"));
  }
  const std::string next = SegmentName(segment_number_ + 1);
  absl::StatusOr<path::UniqueFd> existing = dir_.OpenRead(next);
  if (existing.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(next,
                     " already exists; the audit directory was changed "
                     "behind the writer's back"));
  }
  if (!absl::IsNotFound(existing.status())) return existing.status();
  // Created empty, synced, and its directory entry synced.
  absl::Status s = dir_.WriteFileAtomic(next, "", kFileMode);
  if (!s.ok()) return s;
  segment_number_++;
  return OpenActiveSegment();
}

absl::Status AuditLog::WriteAndSync(std::string_view bytes) {
  const std::string name = SegmentName(segment_number_);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n =
        ::write(fd_.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write", name, errno);
    }
    done += static_cast<size_t>(n);
  }
  if (::fdatasync(fd_.get()) != 0) return ErrnoError("sync", name, errno);
  segment_size_ += bytes.size();
  return absl::OkStatus();
}

absl::Status AuditLog::Flush(std::string* buf, const Head& buffered) {
  if (buf->empty()) return absl::OkStatus();
  absl::Status s = WriteAndSync(*buf);
  if (!s.ok()) {
    broken_ = s;
    return s;
  }
  head_ = buffered;
  buf->clear();
  return absl::OkStatus();
}

absl::StatusOr<Head> AuditLog::AppendLocked(absl::Span<const Entry> entries) {
  if (!broken_.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("audit log refuses appends after a failed write (",
                     broken_.message(), "); reopen it to recover"));
  }
  const int64_t now = absl::ToUnixNanos(options_.clock());
  if (now < 0) {
    return absl::InvalidArgumentError(
        "clock: the time is before 1970-01-01T00:00:00Z");
  }
  if (kMaxSeq - head_.seq < entries.size()) {
    return absl::ResourceExhaustedError("audit log sequence numbers exhausted");
  }
  std::string buf;
  Head buffered = head_;
  for (const Entry& e : entries) {
    Record r;
    r.seq = buffered.seq + 1;
    r.time_unix_nanos = now;
    r.entry = e;
    r.prev = buffered.hash;
    absl::StatusOr<Hash> h = ComputeHash(r);
    if (!h.ok()) return h.status();
    r.hash = *h;
    std::string line = EncodeLine(r);
    line.push_back('\n');
    const uint64_t used = segment_size_ + buf.size();
    if (used > 0 && used + line.size() > options_.max_segment_bytes) {
      if (absl::Status s = Flush(&buf, buffered); !s.ok()) return s;
      if (absl::Status s = Rotate(); !s.ok()) return s;
    }
    buf += line;
    buffered = Head{r.seq, r.hash};
  }
  if (absl::Status s = Flush(&buf, buffered); !s.ok()) return s;
  return head_;
}

absl::StatusOr<Head> AuditLog::Append(const Entry& entry) {
  return AppendBatch(absl::MakeConstSpan(&entry, 1));
}

absl::StatusOr<Head> AuditLog::AppendBatch(absl::Span<const Entry> entries) {
  for (size_t i = 0; i < entries.size(); ++i) {
    absl::Status s = ValidateEntry(entries[i]);
    if (!s.ok()) {
      if (entries.size() == 1) return s;
      return absl::InvalidArgumentError(
          absl::StrCat("entry ", i, ": ", s.message()));
    }
  }
  absl::MutexLock l(&mu_);
  return AppendLocked(entries);
}

Head AuditLog::head() const {
  absl::MutexLock l(&mu_);
  return head_;
}

}  // namespace virtengine::security::audit
