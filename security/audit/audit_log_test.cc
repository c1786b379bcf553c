// The writer on real files: layout and modes, reopen, rotation, batches,
// concurrency, refusals, the writer lock, and torn-tail repair.
#include "security/audit/audit_log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "security/audit/json_line.h"
#include "security/audit/record.h"
#include "security/audit/test_util.h"
#include "security/audit/verifier.h"
#include "security/crypto/hash.h"

namespace virtengine::security::audit {
namespace {

using testing::Exists;
using ::testing::HasSubstr;
using testing::Home;
using testing::Lines;
using testing::MakeEntry;
using testing::ModeOf;
using testing::ReadRaw;
using testing::StepClock;
using testing::WriteRaw;

AuditLogOptions Opts(uint64_t segment_bytes = 64ULL << 20) {
  AuditLogOptions o;
  o.clock = StepClock();
  o.max_segment_bytes = segment_bytes;
  return o;
}

VerifyResult VerifyHome(const Home& home) {
  auto dir = home.root.Sub("audit");
  EXPECT_TRUE(dir.ok()) << dir.status();
  auto r = VerifyLogDir(*dir);
  EXPECT_TRUE(r.ok()) << r.status();
  return *r;
}

TEST(AuditLogTest, CreatesTheLayoutWithTightModes) {
  Home home;
  auto log = AuditLog::Open(home.root, Opts());
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(ModeOf(home.audit()), 0700u);
  EXPECT_EQ(ModeOf(home.segment(1)), 0600u);
  EXPECT_EQ(ModeOf(home.audit() + "/audit.lock"), 0600u);
  EXPECT_EQ(ReadRaw(home.segment(1)), "");
  EXPECT_EQ((*log)->head().seq, 0u);
  ASSERT_TRUE((*log)->Append(MakeEntry(1)).ok());
  EXPECT_EQ(ModeOf(home.segment(1)), 0600u);
}

TEST(AuditLogTest, AppendWritesOneVerifiableLinePerRecord) {
  Home home;
  auto log = AuditLog::Open(home.root, Opts());
  ASSERT_TRUE(log.ok());
  Entry e = MakeEntry(3);
  absl::StatusOr<Head> h = (*log)->Append(e);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->seq, 1u);
  const std::vector<std::string> lines = Lines(ReadRaw(home.segment(1)));
  ASSERT_EQ(lines.size(), 1u);
  absl::StatusOr<Record> rec = ParseLine(lines[0]);
  ASSERT_TRUE(rec.ok()) << rec.status();
  EXPECT_EQ(rec->seq, 1u);
  EXPECT_EQ(rec->prev, Hash{});
  EXPECT_EQ(rec->hash, h->hash);
  EXPECT_EQ(rec->entry.details, e.details);
  EXPECT_EQ(rec->entry.outcome, Outcome::kDenied);
  // The injected clock's first reading.
  EXPECT_THAT(lines[0],
              HasSubstr("\"time\":\"2026-01-02T03:04:05.000000001Z\""));
  EXPECT_EQ(*ComputeHash(*rec), rec->hash);
}

TEST(AuditLogTest, ReopenContinuesTheChain) {
  Home home;
  Head first;
  {
    auto log = AuditLog::Open(home.root, Opts());
    ASSERT_TRUE(log.ok());
    for (int i = 1; i <= 3; ++i) ASSERT_TRUE((*log)->Append(MakeEntry(i)).ok());
    first = (*log)->head();
  }
  auto log = AuditLog::Open(home.root, Opts());
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ((*log)->head().seq, 3u);
  EXPECT_EQ((*log)->head().hash, first.hash);
  EXPECT_EQ((*log)->open_report().records, 3u);
  EXPECT_FALSE((*log)->open_report().torn_tail_truncated);
  absl::StatusOr<Head> h = (*log)->Append(MakeEntry(4));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->seq, 4u);
  const auto lines = Lines(ReadRaw(home.segment(1)));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(ParseLine(lines[3])->prev, first.hash);
  const VerifyResult r = VerifyHome(home);
  EXPECT_TRUE(r.ok()) << r.finding.message;
  EXPECT_EQ(r.count, 4u);
}

TEST(AuditLogTest, ConcurrentAppendsKeepAValidChain) {
  Home home;
  auto log = AuditLog::Open(home.root, AuditLogOptions{});
  ASSERT_TRUE(log.ok());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  std::vector<std::vector<uint64_t>> seqs(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Entry e = MakeEntry(t * 1000 + i);
        e.actor = absl::StrCat("thread-", t);
        absl::StatusOr<Head> h =
            i % 5 == 4 ? (*log)->AppendBatch({e, e}) : (*log)->Append(e);
        if (!h.ok()) {
          failures++;
        } else {
          seqs[t].push_back(h->seq);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  std::set<uint64_t> all;
  for (const auto& v : seqs) {
    for (size_t i = 1; i < v.size(); ++i) EXPECT_LT(v[i - 1], v[i]);
    all.insert(v.begin(), v.end());
  }
  // 4 of every 5 appends add one record, the fifth a batch of two.
  const uint64_t total = uint64_t{kThreads} * (kPerThread + kPerThread / 5);
  EXPECT_EQ((*log)->head().seq, total);
  const VerifyResult r = VerifyHome(home);
  EXPECT_TRUE(r.ok()) << r.finding.message;
  EXPECT_EQ(r.count, total);
  EXPECT_EQ(r.head_hash, (*log)->head().hash);
}

TEST(AuditLogTest, RefusesBadEntriesAndWritesNothing) {
  Home home;
  auto log = AuditLog::Open(home.root, Opts());
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->Append(MakeEntry(1)).ok());
  const std::string before = ReadRaw(home.segment(1));
  struct Case {
    Entry entry;
    const char* message;
  };
  std::vector<Case> cases;
  Entry e = MakeEntry(1);
  e.actor = std::string(kMaxActorBytes + 1, 'a');
  cases.push_back({e, "actor: size 257 bytes exceeds limit 256"});
  e = MakeEntry(1);
  e.object = "bad \xed\xa0\x80 surrogate";
  cases.push_back({e, "object: not valid UTF-8 at byte 4"});
  e = MakeEntry(1);
  e.reason = "line\nforged {\"seq\":99}";
  cases.push_back({e, "reason: control character U+000A at byte 4"});
  e = MakeEntry(1);
  e.actor = "esc\x1b[31m";
  cases.push_back({e, "actor: control character U+001B at byte 3"});
  e = MakeEntry(1);
  e.details["k"] = std::string(kMaxDetailValueBytes + 1, 'x');
  cases.push_back({e, "details['k']: size 1025 bytes exceeds limit 1024"});
  for (const Case& c : cases) {
    absl::StatusOr<Head> h = (*log)->Append(c.entry);
    ASSERT_FALSE(h.ok());
    EXPECT_EQ(h.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(h.status().message()), HasSubstr(c.message));
  }
  // A batch with one bad entry writes none of it.
  Entry bad = MakeEntry(2);
  bad.action = "Not An Action";
  absl::StatusOr<Head> h =
      (*log)->AppendBatch({MakeEntry(2), MakeEntry(3), bad});
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(std::string(h.status().message()), HasSubstr("entry 2: action:"));
  EXPECT_EQ(ReadRaw(home.segment(1)), before);
  EXPECT_EQ((*log)->head().seq, 1u);
  // The log still works.
  EXPECT_TRUE((*log)->Append(MakeEntry(2)).ok());
}

TEST(AuditLogTest, RefusesAClockBefore1970) {
  Home home;
  AuditLogOptions o;
  o.clock = [] { return absl::FromUnixSeconds(-5); };
  auto log = AuditLog::Open(home.root, o);
  ASSERT_TRUE(log.ok());
  absl::StatusOr<Head> h = (*log)->Append(MakeEntry(1));
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(std::string(h.status().message()), HasSubstr("before 1970"));
  EXPECT_EQ(ReadRaw(home.segment(1)), "");
}

TEST(AuditLogTest, RotatesBySizeAndKeepsModes) {
  Home home;
  auto log = AuditLog::Open(home.root, Opts(2000));
  ASSERT_TRUE(log.ok());
  for (int i = 1; i <= 20; ++i) ASSERT_TRUE((*log)->Append(MakeEntry(i)).ok());
  std::vector<Entry> batch;
  for (int i = 21; i <= 30; ++i) batch.push_back(MakeEntry(i));
  ASSERT_TRUE((*log)->AppendBatch(batch).ok());
  int segments = 0;
  for (int n = 1; Exists(home.segment(n)); ++n) {
    ++segments;
    EXPECT_EQ(ModeOf(home.segment(n)), 0600u) << n;
    const std::string data = ReadRaw(home.segment(n));
    // Only a segment holding a single line may exceed the limit.
    if (Lines(data).size() > 1) {
      EXPECT_LE(data.size(), 2000u) << n;
    }
  }
  EXPECT_GT(segments, 4);
  const VerifyResult r = VerifyHome(home);
  EXPECT_TRUE(r.ok()) << r.finding.message;
  EXPECT_EQ(r.count, 30u);
  // Reopen appends to the last segment.
  log->reset();
  auto again = AuditLog::Open(home.root, Opts(2000));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->open_report().segments, static_cast<uint64_t>(segments));
  ASSERT_TRUE((*again)->Append(MakeEntry(31)).ok());
  EXPECT_EQ(VerifyHome(home).count, 31u);
}

TEST(AuditLogTest, BatchRecordsShareOneTime) {
  Home home;
  auto log = AuditLog::Open(home.root, Opts());
  ASSERT_TRUE(log.ok());
  absl::StatusOr<Head> h =
      (*log)->AppendBatch({MakeEntry(1), MakeEntry(2), MakeEntry(3)});
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->seq, 3u);
  const auto lines = Lines(ReadRaw(home.segment(1)));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(ParseLine(lines[0])->time_unix_nanos,
            ParseLine(lines[2])->time_unix_nanos);
  EXPECT_TRUE((*log)->AppendBatch({}).ok());
}

TEST(AuditLogTest, OnlyOneWriterAtATime) {
  Home home;
  auto a = AuditLog::Open(home.root, Opts());
  ASSERT_TRUE(a.ok());
  auto b = AuditLog::Open(home.root, Opts());
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(b.status().message()), HasSubstr("in use"));
  a->reset();
  EXPECT_TRUE(AuditLog::Open(home.root, Opts()).ok());
}

TEST(AuditLogTest, RefusesToOpenATamperedLog) {
  Home home;
  {
    auto log = AuditLog::Open(home.root, Opts());
    ASSERT_TRUE(log.ok());
    for (int i = 1; i <= 4; ++i) ASSERT_TRUE((*log)->Append(MakeEntry(i)).ok());
  }
  std::string data = ReadRaw(home.segment(1));
  const size_t at = data.find("alice-2");
  ASSERT_NE(at, std::string::npos);
  data.replace(at, 7, "mallory");
  WriteRaw(home.segment(1), data);
  auto log = AuditLog::Open(home.root, Opts());
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(log.status().message()),
              HasSubstr("hash_mismatch): record seq 2"));
  EXPECT_EQ(ReadRaw(home.segment(1)), data);  // left as found
}

TEST(AuditLogTest, TornTailIsKeptAsEvidenceTruncatedAndRecorded) {
  Home home;
  {
    auto log = AuditLog::Open(home.root, Opts());
    ASSERT_TRUE(log.ok());
    for (int i = 1; i <= 5; ++i) ASSERT_TRUE((*log)->Append(MakeEntry(i)).ok());
  }
  const std::string intact = ReadRaw(home.segment(1));
  // A crash in the middle of appending record 6.
  const std::string torn = "{\"v\":1,\"seq\":6,\"time\":\"2026-01-0";
  WriteRaw(home.segment(1), intact + torn);

  auto log = AuditLog::Open(home.root, Opts());
  ASSERT_TRUE(log.ok()) << log.status();
  const OpenReport& rep = (*log)->open_report();
  EXPECT_TRUE(rep.torn_tail_truncated);
  EXPECT_EQ(rep.records, 5u);
  EXPECT_EQ(rep.torn_segment, "audit-000001.log");
  EXPECT_EQ(rep.torn_offset, intact.size());
  EXPECT_EQ(rep.torn_bytes, torn.size());
  const std::string evidence =
      absl::StrCat("torn-000001-", intact.size(), ".bin");
  EXPECT_EQ(rep.evidence_file, evidence);
  EXPECT_EQ(rep.repair_records, 1u);
  EXPECT_EQ(ReadRaw(home.audit() + "/" + evidence), torn);
  EXPECT_EQ(ModeOf(home.audit() + "/" + evidence), 0600u);

  // Record 6 documents the repair and links to record 5.
  EXPECT_EQ((*log)->head().seq, 6u);
  const auto lines = Lines(ReadRaw(home.segment(1)));
  ASSERT_EQ(lines.size(), 6u);
  absl::StatusOr<Record> rec = ParseLine(lines[5]);
  ASSERT_TRUE(rec.ok()) << rec.status();
  EXPECT_EQ(rec->entry.actor, "ve-audit");
  EXPECT_EQ(rec->entry.action, "audit.torn_tail");
  EXPECT_EQ(rec->entry.object, evidence);
  EXPECT_EQ(rec->entry.details.at("offset"), absl::StrCat(intact.size()));
  EXPECT_EQ(rec->entry.details.at("bytes"), absl::StrCat(torn.size()));
  EXPECT_EQ(rec->entry.details.at("segment"), "audit-000001.log");
  const auto digest =
      ::virtengine::crypto::Sha256(::virtengine::crypto::Purpose::AUDIT_CHAIN,
                                   ::virtengine::crypto::AsBytes(torn));
  EXPECT_EQ(rec->entry.details.at("sha256"), HashHex(*digest));
  EXPECT_EQ(rec->prev, rep.head.hash);
  ASSERT_TRUE((*log)->Append(MakeEntry(7)).ok());
  const VerifyResult r = VerifyHome(home);
  EXPECT_TRUE(r.ok()) << r.finding.message;
  EXPECT_EQ(r.count, 7u);

  // Reopening does not record the same evidence twice.
  log->reset();
  auto again = AuditLog::Open(home.root, Opts());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->open_report().repair_records, 0u);
  EXPECT_EQ((*again)->head().seq, 7u);
}

TEST(AuditLogTest, EvidenceWithoutItsRecordIsRecordedAtTheNextOpen) {
  // The state a crash between the truncation and the repair record leaves.
  Home home;
  {
    auto log = AuditLog::Open(home.root, Opts());
    ASSERT_TRUE(log.ok());
    for (int i = 1; i <= 2; ++i) ASSERT_TRUE((*log)->Append(MakeEntry(i)).ok());
  }
  const size_t size = ReadRaw(home.segment(1)).size();
  const std::string evidence = absl::StrCat("torn-000001-", size, ".bin");
  WriteRaw(home.audit() + "/" + evidence, "{\"v\":1,\"se");
  // Look-alike names are not evidence and are left alone.
  WriteRaw(home.audit() + "/torn-000001-007.bin", "x");
  auto log = AuditLog::Open(home.root, Opts());
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_FALSE((*log)->open_report().torn_tail_truncated);
  EXPECT_EQ((*log)->open_report().repair_records, 1u);
  const auto lines = Lines(ReadRaw(home.segment(1)));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(ParseLine(lines[2])->entry.object, evidence);
  EXPECT_EQ(ParseLine(lines[2])->entry.details.at("bytes"), "10");
}

TEST(AuditLogTest, TornTailInAFreshSegment) {
  Home home;
  {
    auto log = AuditLog::Open(home.root, Opts(1500));
    ASSERT_TRUE(log.ok());
    for (int i = 1; i <= 8; ++i) ASSERT_TRUE((*log)->Append(MakeEntry(i)).ok());
  }
  int last = 1;
  while (Exists(home.segment(last + 1))) ++last;
  ASSERT_GT(last, 1);
  // A crash right after rotation, mid-way through the first line.
  WriteRaw(home.segment(last + 1), "{\"v\":1,\"seq\":9");
  auto log = AuditLog::Open(home.root, Opts(1500));
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_TRUE((*log)->open_report().torn_tail_truncated);
  EXPECT_EQ(
      (*log)->open_report().evidence_file,
      absl::StrCat("torn-", SegmentName(last + 1).substr(6, 6), "-0.bin"));
  const VerifyResult r = VerifyHome(home);
  EXPECT_TRUE(r.ok()) << r.finding.message;
  EXPECT_EQ(r.count, 9u);
}

TEST(AuditLogTest, LoosenedModeIsTightenedOnOpen) {
  Home home;
  { ASSERT_TRUE(AuditLog::Open(home.root, Opts()).ok()); }
  ASSERT_EQ(::chmod(home.segment(1).c_str(), 0644), 0);
  auto log = AuditLog::Open(home.root, Opts());
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(ModeOf(home.segment(1)), 0600u);
}

TEST(AuditLogTest, RefusesBadOptions) {
  Home home;
  AuditLogOptions o;
  o.max_segment_bytes = 0;
  EXPECT_EQ(AuditLog::Open(home.root, o).status().code(),
            absl::StatusCode::kInvalidArgument);
  o = AuditLogOptions{};
  o.system_actor = "bad\nactor";
  EXPECT_THAT(std::string(AuditLog::Open(home.root, o).status().message()),
              HasSubstr("system_actor: actor: control character"));
}

TEST(AuditLogTest, SymlinkedSegmentIsRefused) {
  Home home;
  { ASSERT_TRUE(AuditLog::Open(home.root, Opts()).ok()); }
  const std::string outside = home.path + "/outside.log";
  WriteRaw(outside, "");
  ASSERT_EQ(::unlink(home.segment(1).c_str()), 0);
  ASSERT_EQ(::symlink(outside.c_str(), home.segment(1).c_str()), 0);
  auto log = AuditLog::Open(home.root, Opts());
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), absl::StatusCode::kPermissionDenied)
      << log.status();
  EXPECT_EQ(ReadRaw(outside), "");
}

}  // namespace
}  // namespace virtengine::security::audit
