// security/audit: the append-only, hash-chained audit log.
//
//   auto root = path::PathRoot::Open("/var/lib/virtengine");   // --home
//   auto log = AuditLog::Open(*root);        // <home>/audit/, chain verified
//   Entry e{.actor = "operator:alice", .action = "key.rotate",
//           .object = "keys/node.key"};
//   auto head = (*log)->Append(e);           // durable when it returns OK
//
// Files: <home>/audit/audit-000001.log, audit-000002.log, ... (0600, in a
// 0700 directory), one JSON line per record (json_line.h), the chain running
// on across segments; a new segment starts when the current one would grow
// past AuditLogOptions::max_segment_bytes. audit.lock (flock) keeps a second
// writer out. docs/security/audit.md is the operator's description.
//
// Durability: Append/AppendBatch write their lines with one write(2) per
// segment on an O_APPEND descriptor and fdatasync(2) before returning OK;
// a record whose Append returned OK survives a crash or power loss. A failed
// write or sync leaves the log refusing appends (FailedPrecondition) until it
// is reopened, because the file may hold a partial line.
//
// Open verifies the whole chain (verifier.h) and refuses a tampered log
// (DataLoss, with the verifier's finding). A torn tail (bytes after the last
// newline of the last segment: an append cut short by a crash, never
// acknowledged) is repaired: its bytes are kept in the evidence file
// audit/torn-<segment number>-<offset>.bin (0600), the segment is truncated
// to its last complete line, and a record with action "audit.torn_tail"
// naming the evidence file is appended. Evidence files without such a
// record (a crash during the repair) get their record at the next Open.
#ifndef VIRTENGINE_SECURITY_AUDIT_AUDIT_LOG_H_
#define VIRTENGINE_SECURITY_AUDIT_AUDIT_LOG_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "security/audit/record.h"
#include "security/path/path.h"
#include "security/path/unique_fd.h"

namespace virtengine::security::audit {

// The action of the record that documents a torn-tail repair.
inline constexpr std::string_view kTornTailAction = "audit.torn_tail";
inline constexpr std::string_view kAuditDir = "audit";
inline constexpr std::string_view kLockFile = "audit.lock";

struct AuditLogOptions {
  // Wall clock for record times (absl::Now when empty). Times before 1970
  // are refused.
  std::function<absl::Time()> clock;
  // A segment is closed when the next line would take it past this size (a
  // single line larger than it still goes into an empty segment). > 0.
  uint64_t max_segment_bytes = 64ULL * 1024 * 1024;
  // The actor of records the log writes about itself (torn-tail repair).
  std::string system_actor = "ve-audit";
};

// The chain head: the last record's seq and hash (0 and all zero when the
// log is empty). This pair is what the ledger anchors.
struct Head {
  uint64_t seq = 0;
  Hash hash{};
};

// What Open found and did.
struct OpenReport {
  uint64_t records = 0;  // valid records found
  uint64_t segments = 0;
  Head head;  // the head found, before any repair record
  bool torn_tail_truncated = false;
  std::string torn_segment;
  uint64_t torn_offset = 0;
  uint64_t torn_bytes = 0;
  std::string evidence_file;    // empty unless a torn tail was truncated
  uint64_t repair_records = 0;  // "audit.torn_tail" records appended
};

class AuditLog {
 public:
  // Opens (creating <home>/audit and the first segment if needed) the log
  // beneath `home`. Errors: InvalidArgument (options), FailedPrecondition
  // (another writer holds the lock), DataLoss (verification failed; the
  // message is the first finding), or the error of a file operation.
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(
      const path::PathRoot& home, AuditLogOptions options = {});

  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;
  ~AuditLog() = default;

  // Appends one record and returns the new head once it is durable.
  // InvalidArgument (ValidateEntry's message) for a bad entry; nothing is
  // written then. Thread-safe.
  absl::StatusOr<Head> Append(const Entry& entry) ABSL_LOCKS_EXCLUDED(mu_);

  // Appends several records with one write and one sync per segment; OK
  // means all are durable. Every entry is validated before anything is
  // written. If a write fails part-way, the records of segments already
  // synced are durable and head() says how far the log got.
  absl::StatusOr<Head> AppendBatch(absl::Span<const Entry> entries)
      ABSL_LOCKS_EXCLUDED(mu_);

  Head head() const ABSL_LOCKS_EXCLUDED(mu_);
  const OpenReport& open_report() const { return report_; }

 private:
  AuditLog(path::PathRoot dir, path::UniqueFd lock, AuditLogOptions options)
      : dir_(std::move(dir)),
        lock_(std::move(lock)),
        options_(std::move(options)) {}

  absl::Status Recover() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status RecordEvidence(const std::string& name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status OpenActiveSegment() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Rotate() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status WriteAndSync(std::string_view bytes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes and syncs `buf` (lines up to `buffered`), then advances the head
  // to `buffered`; a failure leaves the log broken.
  absl::Status Flush(std::string* buf, const Head& buffered)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<Head> AppendLocked(absl::Span<const Entry> entries)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const path::PathRoot dir_;  // <home>/audit
  const path::UniqueFd lock_;
  const AuditLogOptions options_;
  OpenReport report_;  // written only during Open

  mutable absl::Mutex mu_;
  path::UniqueFd fd_ ABSL_GUARDED_BY(mu_);
  uint64_t segment_number_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t segment_size_ ABSL_GUARDED_BY(mu_) = 0;
  Head head_ ABSL_GUARDED_BY(mu_);
  absl::Status broken_ ABSL_GUARDED_BY(mu_);
};

// "torn-000001-1234.bin" for a torn tail at byte 1234 of audit-000001.log.
std::string EvidenceName(uint64_t segment_number, uint64_t offset);

}  // namespace virtengine::security::audit

#endif  // VIRTENGINE_SECURITY_AUDIT_AUDIT_LOG_H_
