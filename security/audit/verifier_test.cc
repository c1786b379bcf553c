// The verifier against logs written by AuditLog and then tampered with by
// raw file operations, as an attacker with write access would.
#include "security/audit/verifier.h"

#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "security/audit/audit_log.h"
#include "security/audit/json_line.h"
#include "security/audit/record.h"
#include "security/audit/test_util.h"
#include "security/path/path.h"

namespace virtengine::security::audit {
namespace {

using ::testing::HasSubstr;
using testing::Home;
using testing::JoinLines;
using testing::Lines;
using testing::MakeEntry;
using testing::ReadRaw;
using testing::StepClock;
using testing::WriteRaw;

class VerifierTest : public ::testing::Test {
 protected:
  // Writes `n` records (in segments of at most `segment_bytes`) and closes
  // the log.
  Head Write(int n, uint64_t segment_bytes = 64ULL << 20) {
    AuditLogOptions o;
    o.clock = StepClock();
    o.max_segment_bytes = segment_bytes;
    auto log = AuditLog::Open(home_.root, o);
    EXPECT_TRUE(log.ok()) << log.status();
    for (int i = 1; i <= n; ++i) {
      EXPECT_TRUE((*log)->Append(MakeEntry(i)).ok());
    }
    return (*log)->head();
  }

  VerifyResult Verify(VerifyOptions o = {}) {
    auto dir = home_.root.Sub("audit");
    EXPECT_TRUE(dir.ok()) << dir.status();
    absl::StatusOr<VerifyResult> r = VerifyLogDir(*dir, std::move(o));
    EXPECT_TRUE(r.ok()) << r.status();
    return *r;
  }

  std::vector<std::string> Seg1Lines() {
    return Lines(ReadRaw(home_.segment(1)));
  }
  void SetSeg1Lines(const std::vector<std::string>& lines) {
    WriteRaw(home_.segment(1), JoinLines(lines));
  }

  Home home_;
};

TEST_F(VerifierTest, AppendAndVerify) {
  const Head head = Write(10);
  const VerifyResult r = Verify();
  EXPECT_TRUE(r.ok()) << r.finding.message;
  EXPECT_EQ(r.count, 10u);
  EXPECT_EQ(r.first_seq, 1u);
  EXPECT_EQ(r.head_seq, 10u);
  EXPECT_EQ(r.head_hash, head.hash);
  EXPECT_EQ(head.seq, 10u);
}

TEST_F(VerifierTest, EditedFieldInAMiddleRecordIsNamed) {
  Write(10);
  std::vector<std::string> lines = Seg1Lines();
  lines[4] = absl::StrReplaceAll(lines[4], {{"alice-5", "mallory"}});
  SetSeg1Lines(lines);
  const VerifyResult r = Verify();
  ASSERT_EQ(r.finding.kind, FindingKind::kHashMismatch) << r.finding.message;
  EXPECT_EQ(r.finding.segment, "audit-000001.log");
  EXPECT_EQ(r.finding.line, 5u);
  EXPECT_EQ(r.finding.expected_seq, 5u);
  EXPECT_EQ(r.finding.found_seq, 5u);
  EXPECT_EQ(r.count, 4u);
  EXPECT_EQ(r.head_seq, 4u);
  EXPECT_THAT(r.finding.message, HasSubstr("record seq 5"));
  EXPECT_THAT(r.finding.message, HasSubstr("a field of this record"));
  // The offset is where line 5 starts.
  size_t offset = 0;
  for (int i = 0; i < 4; ++i) offset += lines[i].size() + 1;
  EXPECT_EQ(r.finding.offset, offset);
}

TEST_F(VerifierTest, EditedOutcomeIsNamed) {
  Write(6);
  std::vector<std::string> lines = Seg1Lines();
  // Record 3 was denied; flip it to success keeping the JSON valid.
  lines[2] = absl::StrReplaceAll(
      lines[2], {{"\"outcome\":\"denied\"", "\"outcome\":\"success\""}});
  SetSeg1Lines(lines);
  const VerifyResult r = Verify();
  EXPECT_EQ(r.finding.kind, FindingKind::kHashMismatch);
  EXPECT_EQ(r.finding.found_seq, 3u);
}

TEST_F(VerifierTest, EditWithRecomputedHashBreaksTheNextLink) {
  Write(10);
  std::vector<std::string> lines = Seg1Lines();
  absl::StatusOr<Record> rec = ParseLine(lines[4]);
  ASSERT_TRUE(rec.ok());
  rec->entry.object = "keys/other.key";
  rec->hash = *ComputeHash(*rec);
  lines[4] = EncodeLine(*rec);
  SetSeg1Lines(lines);
  const VerifyResult r = Verify();
  ASSERT_EQ(r.finding.kind, FindingKind::kPrevMismatch) << r.finding.message;
  EXPECT_EQ(r.finding.line, 6u);
  EXPECT_EQ(r.finding.found_seq, 6u);
  EXPECT_EQ(r.count, 5u);
  EXPECT_THAT(r.finding.message, HasSubstr("hash of record seq 5"));
}

TEST_F(VerifierTest, DeletedRecordIsASequenceGap) {
  Write(10);
  std::vector<std::string> lines = Seg1Lines();
  lines.erase(lines.begin() + 4);  // seq 5
  SetSeg1Lines(lines);
  const VerifyResult r = Verify();
  ASSERT_EQ(r.finding.kind, FindingKind::kSequenceMismatch);
  EXPECT_EQ(r.finding.line, 5u);
  EXPECT_EQ(r.finding.expected_seq, 5u);
  EXPECT_EQ(r.finding.found_seq, 6u);
  EXPECT_THAT(r.finding.message,
              HasSubstr("expected seq 5, found seq 6: records were deleted"));
}

TEST_F(VerifierTest, DeletedRecordWithRenumberedChainIsAPrevMismatch) {
  // The attacker deletes seq 5 and renumbers (and rehashes) the rest, but
  // cannot know anything better than the real hash of seq 4 for prev.
  Write(8);
  std::vector<std::string> lines = Seg1Lines();
  lines.erase(lines.begin() + 4);
  for (size_t i = 4; i < lines.size(); ++i) {
    absl::StatusOr<Record> rec = ParseLine(lines[i]);
    ASSERT_TRUE(rec.ok());
    rec->seq = i + 1;
    rec->hash = *ComputeHash(*rec);
    lines[i] = EncodeLine(*rec);
  }
  SetSeg1Lines(lines);
  const VerifyResult r = Verify();
  ASSERT_EQ(r.finding.kind, FindingKind::kPrevMismatch) << r.finding.message;
  EXPECT_EQ(r.finding.line, 5u);
  EXPECT_EQ(r.count, 4u);
}

TEST_F(VerifierTest, ReorderedRecordsAreNamed) {
  Write(10);
  std::vector<std::string> lines = Seg1Lines();
  std::swap(lines[3], lines[4]);  // seq 4 and 5
  SetSeg1Lines(lines);
  const VerifyResult r = Verify();
  ASSERT_EQ(r.finding.kind, FindingKind::kSequenceMismatch);
  EXPECT_EQ(r.finding.line, 4u);
  EXPECT_EQ(r.finding.expected_seq, 4u);
  EXPECT_EQ(r.finding.found_seq, 5u);
  EXPECT_EQ(r.count, 3u);
}

TEST_F(VerifierTest, DuplicatedRecordIsNamed) {
  Write(5);
  std::vector<std::string> lines = Seg1Lines();
  lines.insert(lines.begin() + 3, lines[2]);
  SetSeg1Lines(lines);
  const VerifyResult r = Verify();
  ASSERT_EQ(r.finding.kind, FindingKind::kSequenceMismatch);
  EXPECT_EQ(r.finding.line, 4u);
  EXPECT_THAT(r.finding.message, HasSubstr("duplicated"));
}

TEST_F(VerifierTest, TruncatedLastLineIsATornTail) {
  Write(10);
  const std::string data = ReadRaw(home_.segment(1));
  const size_t last_start = data.rfind('\n', data.size() - 2) + 1;
  const size_t cut = last_start + 40;
  ASSERT_EQ(::truncate(home_.segment(1).c_str(), static_cast<off_t>(cut)), 0);
  const VerifyResult r = Verify();
  ASSERT_EQ(r.finding.kind, FindingKind::kTornTail) << r.finding.message;
  EXPECT_EQ(r.finding.line, 10u);
  EXPECT_EQ(r.finding.offset, last_start);
  EXPECT_EQ(r.count, 9u);
  EXPECT_EQ(r.head_seq, 9u);
  EXPECT_THAT(r.finding.message,
              HasSubstr("torn tail at audit-000001.log line 10: 40 bytes"));
}

TEST_F(VerifierTest, LastLineWithoutOnlyItsNewlineIsATornTail) {
  Write(3);
  const std::string data = ReadRaw(home_.segment(1));
  ASSERT_EQ(
      ::truncate(home_.segment(1).c_str(), static_cast<off_t>(data.size() - 1)),
      0);
  const VerifyResult r = Verify();
  EXPECT_EQ(r.finding.kind, FindingKind::kTornTail);
  EXPECT_EQ(r.count, 2u);
}

TEST_F(VerifierTest, GarbageLineIsAParseError) {
  Write(5);
  std::vector<std::string> lines = Seg1Lines();
  lines.insert(lines.begin() + 2, "{\"v\":1,\"seq\":3,garbage}");
  SetSeg1Lines(lines);
  const VerifyResult r = Verify();
  ASSERT_EQ(r.finding.kind, FindingKind::kParseError);
  EXPECT_EQ(r.finding.line, 3u);
  EXPECT_FALSE(r.finding.found_seq.has_value());
  EXPECT_THAT(r.finding.message,
              HasSubstr("audit-000001.log line 3: not a valid record: byte "));
}

TEST_F(VerifierTest, ReformattedLineIsAParseError) {
  Write(3);
  std::vector<std::string> lines = Seg1Lines();
  lines[1] = absl::StrReplaceAll(lines[1], {{",\"time\"", ", \"time\""}});
  SetSeg1Lines(lines);
  EXPECT_EQ(Verify().finding.kind, FindingKind::kParseError);
}

TEST_F(VerifierTest, ChainContinuesAcrossSegments) {
  const Head head = Write(30, 1500);
  auto dir = home_.root.Sub("audit");
  auto segs = ListSegments(*dir);
  ASSERT_TRUE(segs.ok());
  ASSERT_GT(segs->size(), 3u);
  // The first record of segment 2 links to the last of segment 1.
  const auto s1 = Lines(ReadRaw(home_.segment(1)));
  const auto s2 = Lines(ReadRaw(home_.segment(2)));
  EXPECT_EQ(ParseLine(s2.front())->prev, ParseLine(s1.back())->hash);
  const VerifyResult r = Verify();
  EXPECT_TRUE(r.ok()) << r.finding.message;
  EXPECT_EQ(r.count, 30u);
  EXPECT_EQ(r.head_hash, head.hash);
}

TEST_F(VerifierTest, DeletedMiddleSegmentIsALayoutError) {
  Write(30, 1500);
  ASSERT_EQ(::unlink(home_.segment(2).c_str()), 0);
  const VerifyResult r = Verify();
  ASSERT_EQ(r.finding.kind, FindingKind::kLayout);
  EXPECT_EQ(r.finding.segment, "audit-000003.log");
  EXPECT_THAT(r.finding.message, HasSubstr("audit-000002.log was deleted"));
}

TEST_F(VerifierTest, EmptiedMiddleSegmentIsALayoutError) {
  Write(30, 1500);
  WriteRaw(home_.segment(2), "");
  const VerifyResult r = Verify();
  ASSERT_EQ(r.finding.kind, FindingKind::kLayout);
  EXPECT_THAT(r.finding.message, HasSubstr("audit-000002.log is empty"));
}

TEST_F(VerifierTest, UnterminatedMiddleSegmentIsALayoutError) {
  Write(30, 1500);
  const std::string data = ReadRaw(home_.segment(2));
  WriteRaw(home_.segment(2), data.substr(0, data.size() - 1));
  const VerifyResult r = Verify();
  ASSERT_EQ(r.finding.kind, FindingKind::kLayout);
  EXPECT_THAT(r.finding.message, HasSubstr("later segments follow"));
}

TEST_F(VerifierTest, AnchorDetectsTruncationAtALineBoundary) {
  const Head head = Write(10);
  std::vector<std::string> lines = Seg1Lines();
  lines.resize(7);
  SetSeg1Lines(lines);
  // Without the anchor the shorter chain is valid...
  EXPECT_TRUE(Verify().ok());
  // ...with it, the removal is named.
  auto dir = home_.root.Sub("audit");
  absl::StatusOr<VerifyResult> r =
      VerifyAgainstAnchor(*dir, head.hash, head.seq);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->finding.kind, FindingKind::kAnchorNotReached);
  EXPECT_THAT(
      r->finding.message,
      HasSubstr("the log ends at seq 7 but the ledger anchored seq 10"));
  EXPECT_EQ(r->count, 7u);
}

TEST_F(VerifierTest, AnchorDetectsARewrittenLog) {
  const Head head = Write(5);
  // An attacker replaces the whole log with a self-consistent one.
  ASSERT_EQ(::unlink(home_.segment(1).c_str()), 0);
  {
    AuditLogOptions o;
    o.clock = StepClock();
    auto log = AuditLog::Open(home_.root, o);
    ASSERT_TRUE(log.ok());
    for (int i = 1; i <= 6; ++i) {
      Entry e = MakeEntry(i);
      e.object = "rewritten";
      ASSERT_TRUE((*log)->Append(e).ok());
    }
  }
  EXPECT_TRUE(Verify().ok());
  auto dir = home_.root.Sub("audit");
  absl::StatusOr<VerifyResult> r = VerifyAgainstAnchor(*dir, head.hash, 5);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->finding.kind, FindingKind::kAnchorMismatch);
  EXPECT_EQ(r->finding.line, 5u);
  EXPECT_EQ(r->count, 4u);
}

TEST_F(VerifierTest, AnchorOfAnOlderHeadMatchesAGrownLog) {
  Write(4);
  auto dir = home_.root.Sub("audit");
  const Hash h4 = Verify().head_hash;
  Write(3);  // reopen and grow to 7
  absl::StatusOr<VerifyResult> r = VerifyAgainstAnchor(*dir, h4, 4);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok()) << r->finding.message;
  EXPECT_EQ(r->count, 7u);
  r = VerifyAgainstAnchor(*dir, Hash{}, 0);
  EXPECT_TRUE(r->ok());
  Hash wrong = h4;
  wrong[0] ^= 1;
  r = VerifyAgainstAnchor(*dir, wrong, 4);
  EXPECT_EQ(r->finding.kind, FindingKind::kAnchorMismatch);
}

TEST(VerifyBufferTest, EmptyAndBoundaries) {
  absl::StatusOr<VerifyResult> r = VerifyBuffer("");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->count, 0u);
  EXPECT_EQ(r->head_hash, Hash{});
  r = VerifyBuffer("\n");
  EXPECT_EQ(r->finding.kind, FindingKind::kParseError);
  r = VerifyBuffer(std::string(kMaxLineBytes + 10, 'x'));
  EXPECT_EQ(r->finding.kind, FindingKind::kParseError);
  EXPECT_THAT(r->finding.message, HasSubstr("no newline within 65536"));
  r = VerifyBuffer("{\"v\":1");
  EXPECT_EQ(r->finding.kind, FindingKind::kTornTail);
}

TEST(VerifyBufferTest, FirstRecordMustBeTheGenesis) {
  Record rec;
  rec.seq = 2;
  rec.entry.actor = "a";
  rec.entry.action = "b";
  rec.hash = *ComputeHash(rec);
  const std::string line = EncodeLine(rec) + "\n";
  absl::StatusOr<VerifyResult> r = VerifyBuffer(line);
  EXPECT_EQ(r->finding.kind, FindingKind::kSequenceMismatch);
  VerifyOptions trust;
  trust.trust_first_record = true;
  r = VerifyBuffer(line, trust);
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->first_seq, 2u);
  rec.seq = 1;
  rec.prev[0] = 1;
  rec.hash = *ComputeHash(rec);
  r = VerifyBuffer(EncodeLine(rec) + "\n");
  EXPECT_EQ(r->finding.kind, FindingKind::kPrevMismatch);
  EXPECT_THAT(r->finding.message, HasSubstr("must be all zero"));
}

TEST(VerifyBufferTest, ChunkingDoesNotMatter) {
  std::string log;
  Hash prev{};
  for (uint64_t i = 1; i <= 5; ++i) {
    Record rec;
    rec.seq = i;
    rec.entry = MakeEntry(static_cast<int>(i));
    rec.prev = prev;
    rec.hash = *ComputeHash(rec);
    prev = rec.hash;
    log += EncodeLine(rec) + "\n";
  }
  for (const size_t chunk : {size_t{1}, size_t{7}, size_t{4096}}) {
    ChainVerifier v;
    v.BeginSegment("x");
    for (size_t i = 0; i < log.size(); i += chunk) {
      v.Feed(std::string_view(log).substr(i, chunk));
    }
    v.EndSegment(true);
    const VerifyResult& r = v.Finish();
    EXPECT_TRUE(r.ok()) << chunk << ": " << r.finding.message;
    EXPECT_EQ(r.count, 5u);
    EXPECT_EQ(r.head_hash, prev);
  }
}

TEST(SegmentNameTest, RoundTripsAndRejectsLookAlikes) {
  EXPECT_EQ(SegmentName(1), "audit-000001.log");
  EXPECT_EQ(SegmentName(999999), "audit-999999.log");
  EXPECT_EQ(ParseSegmentName("audit-000042.log"), 42u);
  for (const char* bad :
       {"audit-000000.log", "audit-1.log", "audit-0000001.log",
        "audit-00000a.log", "audit-000001.log.bak", "audit.log",
        "torn-000001-5.bin"}) {
    EXPECT_FALSE(ParseSegmentName(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace virtengine::security::audit
