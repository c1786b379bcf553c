// ve-audit-verify: the command's logic through RunVerifyCli, and the real
// binary as a child process for its exit codes.
#include "security/audit/verify_cli.h"

#include <sys/wait.h>
#include <unistd.h>

#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "security/audit/audit_log.h"
#include "security/audit/record.h"
#include "security/audit/test_util.h"

namespace virtengine::security::audit {
namespace {

using ::testing::HasSubstr;
using testing::Home;
using testing::MakeEntry;
using testing::ReadRaw;
using ::testing::StartsWith;
using testing::StepClock;
using testing::WriteRaw;

struct CliRun {
  int code;
  std::string out;
  std::string err;
};

CliRun Cli(const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  const int code = RunVerifyCli(args, out, err);
  return {code, out.str(), err.str()};
}

class VerifyCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AuditLogOptions o;
    o.clock = StepClock();
    o.max_segment_bytes = 1500;
    auto log = AuditLog::Open(home_.root, o);
    ASSERT_TRUE(log.ok());
    for (int i = 1; i <= 12; ++i)
      ASSERT_TRUE((*log)->Append(MakeEntry(i)).ok());
    head_ = (*log)->head();
  }
  void Tamper() {
    std::string data = ReadRaw(home_.segment(1));
    const size_t at = data.find("alice-2");
    ASSERT_NE(at, std::string::npos);
    data.replace(at, 7, "mallory");
    WriteRaw(home_.segment(1), data);
  }
  Home home_;
  Head head_;
};

TEST_F(VerifyCliTest, HomeAuditDirAndSingleSegmentVerify) {
  const std::string head_hex = HashHex(head_.hash);
  for (const std::string& p : {home_.path, home_.audit(), home_.path + "/",
                               home_.audit() + "/./../audit"}) {
    const CliRun r = Cli({p});
    EXPECT_EQ(r.code, kExitOk) << p << ": " << r.out << r.err;
    EXPECT_EQ(r.out,
              absl::StrCat("OK: 12 records (seq 1..12), head seq 12 hash ",
                           head_hex, "\n"))
        << p;
  }
  // Segment 1 on its own starts at the genesis; segment 2 on its own is
  // checked from its first record.
  CliRun r = Cli({home_.segment(1)});
  EXPECT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_THAT(r.out, StartsWith("OK: "));
  r = Cli({home_.segment(2)});
  EXPECT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("records (seq "));
}

TEST_F(VerifyCliTest, CopiedSegmentMustStartAtTheGenesis) {
  const std::string copy = home_.path + "/copy.log";
  WriteRaw(copy, ReadRaw(home_.segment(2)));
  const CliRun r = Cli({copy});
  EXPECT_EQ(r.code, kExitFinding);
  EXPECT_THAT(r.out,
              HasSubstr("TAMPERED: sequence_mismatch at copy.log line 1"));
}

TEST_F(VerifyCliTest, TamperedLogNamesTheRecord) {
  Tamper();
  const CliRun r = Cli({home_.path});
  EXPECT_EQ(r.code, kExitFinding);
  EXPECT_THAT(r.out, StartsWith("TAMPERED: hash_mismatch at audit-000001.log "
                                "line 2 (byte offset "));
  EXPECT_THAT(r.out, HasSubstr("expected seq 2): record seq 2"));
  EXPECT_THAT(r.out, HasSubstr("verified before it: 1 records (seq 1..1)"));
}

TEST_F(VerifyCliTest, JsonOutput) {
  CliRun r = Cli({"--output", "json", home_.path});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out,
            absl::StrCat("{\"result\":\"ok\",\"path\":\"", home_.audit(),
                         "\",\"records\":12,\"first_seq\":1,\"head_seq\":12,"
                         "\"head_hash\":\"",
                         HashHex(head_.hash), "\"}\n"));
  Tamper();
  r = Cli({"--output=json", home_.path});
  EXPECT_EQ(r.code, kExitFinding);
  EXPECT_THAT(r.out, StartsWith("{\"result\":\"tampered\","));
  EXPECT_THAT(r.out, HasSubstr("\"records\":1,"));
  EXPECT_THAT(r.out, HasSubstr("\"finding\":{\"kind\":\"hash_mismatch\","
                               "\"segment\":\"audit-000001.log\",\"line\":2,"));
  EXPECT_THAT(r.out, HasSubstr("\"expected_seq\":2,\"found_seq\":2,"));
}

TEST_F(VerifyCliTest, TornTailIsReportedDistinctly) {
  int n = 2;
  while (testing::Exists(home_.segment(n + 1))) ++n;
  WriteRaw(home_.segment(n), ReadRaw(home_.segment(n)) + "{\"v\":1,\"se");
  CliRun r = Cli({home_.path});
  EXPECT_EQ(r.code, kExitFinding);
  EXPECT_THAT(r.out, StartsWith("TORN TAIL: torn tail at "));
  EXPECT_THAT(r.out, HasSubstr("intact: 12 records"));
  r = Cli({"--allow-torn-tail", home_.path});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_THAT(r.out, StartsWith("OK (torn tail allowed): "));
  r = Cli({"--output", "json", home_.path});
  EXPECT_THAT(r.out, StartsWith("{\"result\":\"torn_tail\","));
}

TEST_F(VerifyCliTest, Anchor) {
  const std::string good = absl::StrCat("12:", HashHex(head_.hash));
  CliRun r = Cli({"--anchor", good, home_.path});
  EXPECT_EQ(r.code, kExitOk) << r.out;
  EXPECT_THAT(r.out, HasSubstr("; anchored seq 12 matches"));
  r = Cli({"--anchor", absl::StrCat("13:", HashHex(head_.hash)), home_.path});
  EXPECT_EQ(r.code, kExitFinding);
  EXPECT_THAT(r.out, HasSubstr("anchor_not_reached"));
  Hash other = head_.hash;
  other[5] ^= 0x40;
  r = Cli({"--anchor", absl::StrCat("12:", HashHex(other)), home_.path});
  EXPECT_EQ(r.code, kExitFinding);
  EXPECT_THAT(r.out, HasSubstr("TAMPERED: anchor_mismatch"));
}

TEST_F(VerifyCliTest, UsageErrors) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {},
           {"--output", "xml", home_.path},
           {"--output"},
           {"--anchor", "12", home_.path},
           {"--anchor", "x:00", home_.path},
           {"--anchor", "012:" + std::string(64, 'a'), home_.path},
           {"--frobnicate", home_.path},
           {home_.path, home_.path},
           {""},
       }) {
    const CliRun r = Cli(args);
    EXPECT_EQ(r.code, kExitUsage) << (args.empty() ? "" : args[0]);
    EXPECT_THAT(r.err, HasSubstr("usage: ve-audit-verify"));
  }
  CliRun r = Cli({home_.path + "/does-not-exist"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("ve-audit-verify: "));
  const std::string empty_dir = testing::MakeTempDir();
  r = Cli({"--output", "json", empty_dir});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.out, StartsWith("{\"result\":\"error\",\"message\":\"no audit "
                                "log segments in "));
  EXPECT_EQ(Cli({"--help"}).code, kExitOk);
  EXPECT_THAT(Cli({"--version"}).out, StartsWith("ve-audit-verify "));
}

// The real binary, run as a child process: exit codes 0, 1, 2.
int RunBinary(const std::vector<std::string>& args, std::string* out) {
  int pipefd[2];
  if (::pipe(pipefd) != 0) return -1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipefd[1], 1);
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    std::vector<char*> argv;
    static char kBin[] = "security/audit/ve-audit-verify";
    argv.push_back(kBin);
    for (const std::string& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(kBin, argv.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(pipefd[0], buf, sizeof(buf));
    if (n <= 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(VerifyCliTest, RealBinaryExitCodes) {
  std::string out;
  EXPECT_EQ(RunBinary({home_.path}, &out), 0);
  EXPECT_THAT(out, StartsWith("OK: 12 records"));
  out.clear();
  EXPECT_EQ(RunBinary({"--bogus"}, &out), 2);
  Tamper();
  out.clear();
  EXPECT_EQ(RunBinary({"--output", "json", home_.path}, &out), 1);
  EXPECT_THAT(out, StartsWith("{\"result\":\"tampered\""));
}

}  // namespace
}  // namespace virtengine::security::audit
