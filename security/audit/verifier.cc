#include "security/audit/verifier.h"

#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "security/audit/json_line.h"
#include "security/audit/quote.h"
#include "security/audit/record.h"
#include "security/path/path.h"
#include "security/path/unique_fd.h"

namespace virtengine::security::audit {
namespace {

constexpr size_t kReadChunk = 65536;
constexpr uint64_t kMaxSegmentNumber = 999999;
constexpr std::string_view kSegmentPrefix = "audit-";
constexpr std::string_view kSegmentSuffix = ".log";
constexpr size_t kSegmentDigits = 6;

// The first 16 hex digits of a hash: enough to tell hashes apart in a
// message (the result carries full hashes).
std::string Short(const Hash& h) { return HashHex(h).substr(0, 16) + "..."; }

std::string Where(std::string_view segment, uint64_t line) {
  return absl::StrCat(Sv(segment), " line ", line);
}

}  // namespace

std::string_view FindingKindName(FindingKind kind) {
  switch (kind) {
    case FindingKind::kNone:
      return "ok";
    case FindingKind::kParseError:
      return "parse_error";
    case FindingKind::kHashMismatch:
      return "hash_mismatch";
    case FindingKind::kSequenceMismatch:
      return "sequence_mismatch";
    case FindingKind::kPrevMismatch:
      return "prev_mismatch";
    case FindingKind::kLayout:
      return "layout";
    case FindingKind::kTornTail:
      return "torn_tail";
    case FindingKind::kAnchorMismatch:
      return "anchor_mismatch";
    case FindingKind::kAnchorNotReached:
      return "anchor_not_reached";
  }
  return "unknown";
}

ChainVerifier::ChainVerifier(VerifyOptions options)
    : options_(std::move(options)) {}

void ChainVerifier::Fail(FindingKind kind, std::string message,
                         std::optional<uint64_t> found_seq) {
  Finding& f = result_.finding;
  f.kind = kind;
  f.segment = segment_;
  f.line = segment_lines_ + 1;
  f.offset = line_offset_;
  f.expected_seq = (result_.count == 0 && options_.trust_first_record)
                       ? 0
                       : result_.head_seq + 1;
  f.found_seq = found_seq;
  f.message = std::move(message);
}

void ChainVerifier::BeginSegment(std::string_view name) {
  segment_ = std::string(name);
  segment_bytes_ = 0;
  segment_lines_ = 0;
  line_offset_ = 0;
  pending_.clear();
  any_segment_ = true;
}

void ChainVerifier::Feed(std::string_view bytes) {
  while (!bytes.empty() && !stopped()) {
    const size_t nl = bytes.find('\n');
    const size_t take = nl == std::string_view::npos ? bytes.size() : nl;
    if (pending_.size() + take > kMaxLineBytes) {
      Fail(FindingKind::kParseError,
           absl::StrCat(Where(segment_, segment_lines_ + 1),
                        ": no newline within ", kMaxLineBytes,
                        " bytes (longer than any record can be)"));
      return;
    }
    if (nl == std::string_view::npos) {
      pending_.append(bytes);
      segment_bytes_ += bytes.size();
      return;
    }
    if (pending_.empty()) {
      Line(bytes.substr(0, nl));
    } else {
      pending_.append(bytes.substr(0, nl));
      Line(pending_);
      pending_.clear();
    }
    segment_bytes_ += nl + 1;
    line_offset_ = segment_bytes_;
    bytes.remove_prefix(nl + 1);
  }
}

void ChainVerifier::Line(std::string_view line) {
  const std::string where = Where(segment_, segment_lines_ + 1);
  absl::StatusOr<Record> rec = ParseLine(line);
  if (!rec.ok()) {
    Fail(FindingKind::kParseError,
         absl::StrCat(where, ": not a valid record: ", rec.status().message()));
    return;
  }
  const absl::StatusOr<Hash> computed = ComputeHash(*rec);
  if (!computed.ok()) {
    status_ = computed.status();
    return;
  }
  const std::string who =
      absl::StrCat("record seq ", rec->seq, " (", where, ")");
  if (*computed != rec->hash) {
    Fail(FindingKind::kHashMismatch,
         absl::StrCat(who, ": stored hash ", Short(rec->hash),
                      " differs from the hash of its content ",
                      Short(*computed), ": a field of this record was altered"),
         rec->seq);
    return;
  }
  const bool first = result_.count == 0;
  if (!(first && options_.trust_first_record)) {
    const uint64_t expected = result_.head_seq + 1;
    if (rec->seq != expected) {
      const char* why = rec->seq > expected
                            ? "records were deleted or reordered"
                            : "a record was duplicated or reordered";
      Fail(FindingKind::kSequenceMismatch,
           absl::StrCat(where, ": expected seq ", expected, ", found seq ",
                        rec->seq, ": ", why),
           rec->seq);
      return;
    }
    if (rec->prev != result_.head_hash) {
      Fail(FindingKind::kPrevMismatch,
           first ? absl::StrCat(who, ": prev ", Short(rec->prev),
                                " must be all zero for the first record")
                 : absl::StrCat(who, ": prev ", Short(rec->prev),
                                " differs from the hash of record seq ",
                                result_.head_seq, " ", Short(result_.head_hash),
                                ": the record before it was replaced, or "
                                "records were removed and the chain rebuilt"),
           rec->seq);
      return;
    }
  }
  if (options_.anchor.has_value() && options_.anchor->seq == rec->seq) {
    anchor_seen_ = true;
    if (options_.anchor->hash != rec->hash) {
      Fail(FindingKind::kAnchorMismatch,
           absl::StrCat(who, ": hash ", Short(rec->hash),
                        " differs from the anchored hash ",
                        Short(options_.anchor->hash),
                        ": the log was rewritten up to this record"),
           rec->seq);
      return;
    }
  }
  if (first) result_.first_seq = rec->seq;
  result_.count++;
  result_.head_seq = rec->seq;
  result_.head_hash = rec->hash;
  segment_lines_++;
  if (options_.on_record) options_.on_record(*rec);
}

void ChainVerifier::EndSegment(bool is_last) {
  if (stopped()) return;
  if (!pending_.empty()) {
    if (is_last) {
      torn_ = pending_;
      Fail(
          FindingKind::kTornTail,
          absl::StrCat("torn tail at ", Where(segment_, segment_lines_ + 1),
                       ": ", pending_.size(), " bytes at offset ", line_offset_,
                       " without a terminating newline (an append cut short "
                       "by a crash); the ",
                       result_.count, " records before it are intact"));
    } else {
      Fail(FindingKind::kLayout,
           absl::StrCat(segment_, " ends with ", pending_.size(),
                        " bytes without a newline at offset ", line_offset_,
                        ", but later segments follow"));
    }
    return;
  }
  if (segment_bytes_ == 0 && !is_last) {
    Fail(FindingKind::kLayout,
         absl::StrCat(segment_, " is empty, but later segments follow"));
  }
}

void ChainVerifier::ReportLayout(std::string_view segment,
                                 std::string message) {
  if (stopped()) return;
  BeginSegment(segment);
  Fail(FindingKind::kLayout, std::move(message));
}

const VerifyResult& ChainVerifier::Finish() {
  if (!status_.ok() || !options_.anchor.has_value()) return result_;
  const Anchor& a = *options_.anchor;
  const FindingKind kind = result_.finding.kind;
  if (kind != FindingKind::kNone && kind != FindingKind::kTornTail) {
    return result_;
  }
  if (a.seq == 0) {
    if (a.hash != Hash{}) {
      Fail(FindingKind::kAnchorMismatch,
           "the anchor for seq 0 (the empty log) must be the all-zero hash");
    }
    return result_;
  }
  if (anchor_seen_) return result_;
  std::string message;
  if (result_.count > 0 && a.seq < result_.first_seq) {
    message = absl::StrCat("the anchored seq ", a.seq,
                           " is before the first record checked (seq ",
                           result_.first_seq, "); verify the whole log");
  } else {
    message = absl::StrCat(
        "the log ends at seq ", result_.head_seq,
        " but the ledger anchored seq ", a.seq,
        ": anchored records were removed from the end (truncation, "
        "deleted segment) or the log was replaced");
    if (kind == FindingKind::kTornTail) {
      absl::StrAppend(&message, "; there is also a torn tail of ", torn_.size(),
                      " bytes");
    }
  }
  // The location is the end of the log.
  const uint64_t saved_offset = line_offset_;
  line_offset_ = segment_bytes_;
  Fail(FindingKind::kAnchorNotReached, std::move(message));
  line_offset_ = saved_offset;
  if (!any_segment_) result_.finding.segment.clear();
  return result_;
}

std::string SegmentName(uint64_t number) {
  std::string digits = absl::StrCat(number);
  if (digits.size() < kSegmentDigits) {
    digits.insert(0, kSegmentDigits - digits.size(), '0');
  }
  return absl::StrCat(Sv(kSegmentPrefix), digits, Sv(kSegmentSuffix));
}

std::optional<uint64_t> ParseSegmentName(std::string_view name) {
  if (name.size() !=
      kSegmentPrefix.size() + kSegmentDigits + kSegmentSuffix.size()) {
    return std::nullopt;
  }
  if (name.substr(0, kSegmentPrefix.size()) != kSegmentPrefix ||
      name.substr(name.size() - kSegmentSuffix.size()) != kSegmentSuffix) {
    return std::nullopt;
  }
  uint64_t v = 0;
  for (const char c : name.substr(kSegmentPrefix.size(), kSegmentDigits)) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v == 0 || v > kMaxSegmentNumber) return std::nullopt;
  return v;
}

absl::StatusOr<std::vector<std::string>> ListSegments(
    const path::PathRoot& audit_dir) {
  absl::StatusOr<std::vector<std::string>> names = audit_dir.List(".");
  if (!names.ok()) return names.status();
  std::vector<std::string> out;
  for (std::string& n : *names) {
    if (ParseSegmentName(n).has_value()) out.push_back(std::move(n));
  }
  // List sorts bytewise; fixed-width numbers make that numeric order.
  return out;
}

namespace {

absl::Status FeedFile(const path::PathRoot& dir, std::string_view name,
                      ChainVerifier* v) {
  absl::StatusOr<path::UniqueFd> fd = dir.OpenRead(name);
  if (!fd.ok()) return fd.status();
  std::string buf(kReadChunk, '\0');
  while (!v->failed() && v->status().ok()) {
    const ssize_t n = ::read(fd->get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::DataLossError(
          absl::StrCat("read ", Quote(name), ": ", ErrnoName(errno)));
    }
    if (n == 0) break;
    v->Feed(std::string_view(buf.data(), static_cast<size_t>(n)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<VerifyResult> VerifyLogDir(const path::PathRoot& audit_dir,
                                          VerifyOptions options) {
  absl::StatusOr<std::vector<std::string>> segments = ListSegments(audit_dir);
  if (!segments.ok()) return segments.status();
  const bool trust_first = options.trust_first_record;
  ChainVerifier v(std::move(options));
  uint64_t expected = 1;
  for (size_t i = 0; i < segments->size() && !v.failed(); ++i) {
    const std::string& name = (*segments)[i];
    const uint64_t number = *ParseSegmentName(name);
    if (i == 0 && trust_first) expected = number;
    if (number != expected) {
      v.ReportLayout(
          name,
          absl::StrCat("segment numbers must run from ", SegmentName(expected),
                       " without gaps, found ", name, " (",
                       SegmentName(expected), " was deleted or renamed)"));
      break;
    }
    ++expected;
    v.BeginSegment(name);
    absl::Status s = FeedFile(audit_dir, name, &v);
    if (!s.ok()) return s;
    if (!v.status().ok()) return v.status();
    v.EndSegment(i + 1 == segments->size());
  }
  v.Finish();
  return v.result();
}

absl::StatusOr<VerifyResult> VerifyLogFile(const path::PathRoot& dir,
                                           std::string_view name,
                                           VerifyOptions options) {
  ChainVerifier v(std::move(options));
  v.BeginSegment(name);
  absl::Status s = FeedFile(dir, name, &v);
  if (!s.ok()) return s;
  if (!v.status().ok()) return v.status();
  v.EndSegment(/*is_last=*/true);
  v.Finish();
  return v.result();
}

absl::StatusOr<VerifyResult> VerifyBuffer(std::string_view data,
                                          VerifyOptions options) {
  ChainVerifier v(std::move(options));
  v.BeginSegment("<buffer>");
  v.Feed(data);
  if (!v.status().ok()) return v.status();
  v.EndSegment(/*is_last=*/true);
  v.Finish();
  return v.result();
}

absl::StatusOr<VerifyResult> VerifyAgainstAnchor(
    const path::PathRoot& audit_dir, const Hash& head_hash, uint64_t seq) {
  VerifyOptions options;
  options.anchor = Anchor{seq, head_hash};
  return VerifyLogDir(audit_dir, std::move(options));
}

}  // namespace virtengine::security::audit
