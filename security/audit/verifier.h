// Verifies an audit log and pinpoints the FIRST place where it was altered.
//
// A log is a directory of segment files audit-000001.log, audit-000002.log,
// ... (numbered from 1 without gaps), each a sequence of JSON lines
// (json_line.h) ending in '\n'. Records are checked in order:
//   1. the line parses (canonical JSON, field rules)     -> kParseError
//   2. its hash equals SHA-256 of its canonical encoding  -> kHashMismatch
//   3. its seq is the previous seq + 1 (1 for the first)  -> kSequenceMismatch
//   4. its prev equals the previous record's hash         -> kPrevMismatch
//      (all zero for seq 1)
// Layout errors (missing segment number, an empty or unterminated segment
// that is not the last one) are kLayout. Bytes after the last '\n' of the
// last segment are a torn tail (kTornTail): what a crash in the middle of a
// write leaves; the records before it are intact and counted.
//
// Truncation at a line boundary, or deletion of whole trailing segments,
// leaves a valid shorter chain: only a comparison with an anchored head
// (VerifyOptions::anchor, VerifyAgainstAnchor) detects it.
#ifndef VIRTENGINE_SECURITY_AUDIT_VERIFIER_H_
#define VIRTENGINE_SECURITY_AUDIT_VERIFIER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/audit/record.h"
#include "security/path/path.h"

namespace virtengine::security::audit {

enum class FindingKind {
  kNone,
  kParseError,
  kHashMismatch,
  kSequenceMismatch,
  kPrevMismatch,
  kLayout,
  kTornTail,
  kAnchorMismatch,    // the record at the anchored seq has another hash
  kAnchorNotReached,  // the log ends before the anchored seq
};

// "ok", "parse_error", "hash_mismatch", "sequence_mismatch",
// "prev_mismatch", "layout", "torn_tail", "anchor_mismatch",
// "anchor_not_reached".
std::string_view FindingKindName(FindingKind kind);

struct Finding {
  FindingKind kind = FindingKind::kNone;
  std::string segment;        // file name, e.g. "audit-000001.log"
  uint64_t line = 0;          // 1-based line number within `segment`
  uint64_t offset = 0;        // byte offset of that line within `segment`
  uint64_t expected_seq = 0;  // the seq a record at that place must have
  std::optional<uint64_t> found_seq;  // the seq the line carries, if parsed
  std::string message;                // one line, printable ASCII
};

struct VerifyResult {
  bool ok() const { return finding.kind == FindingKind::kNone; }
  // Records verified good, i.e. before the finding (all when ok()).
  uint64_t count = 0;
  uint64_t first_seq = 0;  // seq of the first record (0 when there is none)
  uint64_t head_seq = 0;   // seq of the last good record (0 when none)
  Hash head_hash{};        // its hash (all zero when none)
  Finding finding;
};

struct Anchor {
  uint64_t seq = 0;  // 0 means the empty log (hash all zero)
  Hash hash{};
};

struct VerifyOptions {
  // Also require that record `anchor->seq` exists and has `anchor->hash`.
  std::optional<Anchor> anchor;
  // Accept whatever seq/prev the first record carries (verifying one
  // segment on its own, or a log whose older segments were archived).
  bool trust_first_record = false;
  // Called for every record that verified good, in order.
  std::function<void(const Record&)> on_record;
};

// The streaming core: feed segments' bytes in order, in chunks of any size.
// After the first finding everything else is ignored.
class ChainVerifier {
 public:
  explicit ChainVerifier(VerifyOptions options = {});

  void BeginSegment(std::string_view name);
  void Feed(std::string_view bytes);
  // `is_last`: unterminated bytes are a torn tail only in the last segment.
  void EndSegment(bool is_last);
  // Records a layout error (e.g. from the caller's file listing).
  void ReportLayout(std::string_view segment, std::string message);
  // Applies the anchor checks that need the end of the log; call once.
  const VerifyResult& Finish();

  bool failed() const { return result_.finding.kind != FindingKind::kNone; }
  // Not OK only when a hash could not be computed at all (crypto policy);
  // verification stopped there and the result means nothing.
  const absl::Status& status() const { return status_; }
  const VerifyResult& result() const { return result_; }
  // Bytes of the torn tail (empty unless the finding is kTornTail).
  const std::string& torn_bytes() const { return torn_; }

 private:
  void Line(std::string_view line);
  bool stopped() const { return failed() || !status_.ok(); }
  void Fail(FindingKind kind, std::string message,
            std::optional<uint64_t> found_seq = std::nullopt);

  VerifyOptions options_;
  VerifyResult result_;
  std::string segment_;
  uint64_t segment_bytes_ = 0;  // bytes of this segment consumed so far
  uint64_t segment_lines_ = 0;  // complete lines of this segment so far
  uint64_t line_offset_ = 0;    // offset of the line being accumulated
  std::string pending_;         // the incomplete line so far
  std::string torn_;
  bool anchor_seen_ = false;
  bool any_segment_ = false;
  absl::Status status_;
};

// "audit-000001.log" for 1. `number` in 1..999999.
std::string SegmentName(uint64_t number);
// The number of a segment file name, or nullopt for any other name.
std::optional<uint64_t> ParseSegmentName(std::string_view name);

// The segment files in `audit_dir`, by number (other names are ignored).
absl::StatusOr<std::vector<std::string>> ListSegments(
    const path::PathRoot& audit_dir);

// Verifies the whole log in `audit_dir` (the <home>/audit directory). An
// error Status only when a file cannot be read; every problem of content is
// a finding in the result. An empty directory is an ok, empty log.
absl::StatusOr<VerifyResult> VerifyLogDir(const path::PathRoot& audit_dir,
                                          VerifyOptions options = {});

// Verifies one file on its own (as the last and only segment, so
// unterminated bytes at its end are a torn tail). Set
// options.trust_first_record for a segment other than the first.
absl::StatusOr<VerifyResult> VerifyLogFile(const path::PathRoot& dir,
                                           std::string_view name,
                                           VerifyOptions options = {});

// Verifies an in-memory log (one segment named "<buffer>"). An error Status
// only when the crypto policy refuses SHA-256 for AUDIT_CHAIN.
absl::StatusOr<VerifyResult> VerifyBuffer(std::string_view data,
                                          VerifyOptions options = {});

// Verifies the log in `audit_dir` and checks it against a head anchored in
// the ledger: the record with seq `seq` must exist and carry `head_hash` (the
// log may have grown since). Any other finding in the log comes first.
absl::StatusOr<VerifyResult> VerifyAgainstAnchor(
    const path::PathRoot& audit_dir, const Hash& head_hash, uint64_t seq);

}  // namespace virtengine::security::audit

#endif  // VIRTENGINE_SECURITY_AUDIT_VERIFIER_H_
