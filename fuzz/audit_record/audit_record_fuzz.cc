// libFuzzer target: one audit record line, and a whole log, from arbitrary
// bytes. Invariants (abort on violation):
//   - ParseLine(x) ok  =>  EncodeLine(record) == x, ValidateRecord ok, and
//     parsing the re-encoding gives the same hash and canonical encoding;
//   - VerifyBuffer never fails except on crypto policy; its finding is at
//     line count+1, at the byte offset just after the `count` good lines;
//   - an ok log is empty or ends in '\n' and every line round-trips; a torn
//     tail is reported only when the input does not end in '\n';
//   - feeding the same bytes in two chunks gives the same result.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "security/audit/json_line.h"
#include "security/audit/record.h"
#include "security/audit/verifier.h"

namespace audit = ::virtengine::security::audit;

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckLine(std::string_view line) {
  absl::StatusOr<audit::Record> rec = audit::ParseLine(line);
  if (!rec.ok()) return;
  Check(audit::ValidateRecord(*rec).ok());
  const std::string again = audit::EncodeLine(*rec);
  Check(again == line);
  absl::StatusOr<audit::Record> rec2 = audit::ParseLine(again);
  Check(rec2.ok());
  Check(rec2->hash == rec->hash);
  Check(audit::CanonicalEncoding(*rec2) == audit::CanonicalEncoding(*rec));
}

void CheckLog(std::string_view data, bool trust_first) {
  audit::VerifyOptions options;
  options.trust_first_record = trust_first;
  absl::StatusOr<audit::VerifyResult> r = audit::VerifyBuffer(data, options);
  Check(r.ok());
  // The bytes covered by the good records.
  size_t covered = 0;
  for (uint64_t i = 0; i < r->count; ++i) {
    const size_t nl = data.find('\n', covered);
    Check(nl != std::string_view::npos);
    const std::string_view line = data.substr(covered, nl - covered);
    absl::StatusOr<audit::Record> rec = audit::ParseLine(line);
    Check(rec.ok());
    Check(audit::EncodeLine(*rec) == line);
    if (i + 1 == r->count) Check(rec->hash == r->head_hash);
    covered = nl + 1;
  }
  if (r->ok()) {
    Check(covered == data.size());
  } else {
    Check(r->finding.line == r->count + 1);
    Check(r->finding.offset == covered);
    if (r->finding.kind == audit::FindingKind::kTornTail) {
      Check(!data.empty() && data.back() != '\n');
      Check(data.find('\n', covered) == std::string_view::npos);
    }
  }
  // Chunking does not matter.
  const size_t split =
      data.empty()
          ? 0
          : (size_t{static_cast<unsigned char>(data[0])} * 131) % data.size();
  audit::ChainVerifier v(options);
  v.BeginSegment("<buffer>");
  v.Feed(data.substr(0, split));
  v.Feed(data.substr(split));
  v.EndSegment(true);
  const audit::VerifyResult& r2 = v.Finish();
  Check(r2.count == r->count);
  Check(r2.head_hash == r->head_hash);
  Check(r2.finding.kind == r->finding.kind);
  Check(r2.finding.offset == r->finding.offset);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  CheckLine(in);
  // Also as a line with its newline stripped, the way the verifier sees it.
  if (!in.empty() && in.back() == '\n') CheckLine(in.substr(0, size - 1));
  CheckLog(in, false);
  CheckLog(in, true);
  return 0;
}
