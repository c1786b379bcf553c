// ve-measure (in-process CLI and library) against a real swtpm, and the
// resulting quote + event log through the security/attest verifier.
#include "security/tpm/measure.h"

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "security/attest/event_log.h"
#include "security/attest/verifier.h"
#include "security/crypto/hash.h"
#include "security/crypto/random.h"
#include "security/path/path.h"
#include "security/tpm/measure_cli.h"
#include "security/tpm/swtpm_test_util.h"
#include "src/common/encoding/hex.h"

namespace virtengine::tpm {
namespace {

namespace v1 = ::virtengine::security::crypto::v1;
using security::path::PathRoot;

struct CliResult {
  int code;
  std::string out;
  std::string err;
};

CliResult Cli(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int code = RunMeasureCli(args, out, err);
  return {code, out.str(), err.str()};
}

class MeasureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TestTmpDir();
    absl::StatusOr<PathRoot> root = PathRoot::Open(dir_);
    ASSERT_TRUE(root.ok());
    static int counter = 0;
    sub_ = absl::StrCat("measure", counter++);
    ASSERT_TRUE(root->MakeDirs(sub_).ok());
    absl::StatusOr<PathRoot> sub = root->Sub(sub_);
    ASSERT_TRUE(sub.ok());
    root_ = std::make_unique<PathRoot>(*std::move(sub));
    ASSERT_TRUE(root_->WriteFileAtomic("vmlinuz", "kernel image bytes").ok());
    ASSERT_TRUE(root_->WriteFileAtomic("initrd.img", "initrd bytes").ok());
    ASSERT_TRUE(root_->WriteFileAtomic("cmdline", "ro verity=1").ok());
    ASSERT_TRUE(root_->WriteFileAtomic("ve-node", "ELF ve-node").ok());
    log_ = Path("measure.log");
  }

  std::string Path(const std::string& name) {
    return absl::StrCat(dir_, "/", sub_, "/", name);
  }

  std::string dir_;
  std::string sub_;
  std::string log_;
  std::unique_ptr<PathRoot> root_;
};

TEST_F(MeasureTest, UsageAndVersion) {
  EXPECT_EQ(Cli({"--help"}).code, kMeasureOk);
  EXPECT_TRUE(absl::StartsWith(Cli({"--help"}).out, "usage: ve-measure"));
  EXPECT_EQ(Cli({"--version"}).out, "ve-measure 0.1.0 (event log format 1)\n");
  EXPECT_EQ(Cli({}).code, kMeasureUsageError);
  EXPECT_EQ(Cli({"frobnicate"}).code, kMeasureUsageError);
  EXPECT_EQ(Cli({"extend", "--kernel=/x"}).err.substr(0, 33),
            "ve-measure: --log is required\nusa");
  EXPECT_EQ(Cli({"extend", "--log=" + log_}).code, kMeasureUsageError);
  EXPECT_EQ(Cli({"extend", "--log=rel.log", "--kernel=/x"}).code,
            kMeasureUsageError);
  EXPECT_EQ(Cli({"extend", "--log=" + log_, "--image-root-hash=abcd"}).code,
            kMeasureUsageError);
  EXPECT_EQ(Cli({"extend", "--log=" + log_, "--kernel=/a", "--kernel=/b"}).code,
            kMeasureUsageError);
  EXPECT_EQ(Cli({"extend", "--log=" + log_, "--binary=bad name=/x"}).code,
            kMeasureUsageError);
  EXPECT_EQ(
      Cli({"extend", "--log=" + log_, "--tcti=foo:bar", "--kernel=/x"}).code,
      kMeasureUsageError);
  // A missing file and an unreachable TPM are runtime errors.
  EXPECT_EQ(Cli({"extend", "--log=" + log_, "--kernel=" + Path("nope")}).code,
            kMeasureRuntimeError);
  EXPECT_EQ(
      Cli({"extend", "--log=" + log_, "--tcti=swtpm:host=127.0.0.1,port=1",
           "--kernel=" + Path("vmlinuz")})
          .code,
      kMeasureRuntimeError);
  EXPECT_EQ(Cli({"replay", "--log=" + Path("nope")}).code,
            kMeasureRuntimeError);
}

TEST_F(MeasureTest, HashFileMatchesSha256) {
  absl::StatusOr<crypto::Digest32> d = HashFile(Path("vmlinuz"));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(*d, *crypto::Sha256(v1::CONTENT_HASH,
                                crypto::AsBytes("kernel image bytes")));
  EXPECT_FALSE(HashFile("relative").ok());
  EXPECT_FALSE(HashFile(dir_).ok());
}

TEST_F(MeasureTest, ExtendQuoteAndVerifyWithEventLog) {
  absl::StatusOr<std::unique_ptr<testing::Swtpm>> sw = testing::Swtpm::Start();
  ASSERT_TRUE(sw.ok()) << sw.status();
  const std::string tcti = "--tcti=" + (*sw)->tcti();
  const std::string root_hash(64, 'a');
  CliResult r =
      Cli({"extend", "--log=" + log_, tcti,
           "--binary=usr/bin/ve-node=" + Path("ve-node"),
           "--kernel=" + Path("vmlinuz"), "--initrd=" + Path("initrd.img"),
           "--cmdline=" + Path("cmdline"), "--image-root-hash=" + root_hash,
           "--policy-bundle-sha256=" + std::string(64, 'b')});
  ASSERT_EQ(r.code, kMeasureOk) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.out, "measured pcr 8 image-root-hash "))
      << r.out;
  // A second run appends.
  r = Cli({"extend", "--log=" + log_, tcti,
           "--binary-sha256=usr/bin/ve-provider=" + std::string(64, 'c')});
  ASSERT_EQ(r.code, kMeasureOk) << r.err;

  absl::StatusOr<std::vector<attest::MeasurementEvent>> events =
      ReadEventLog(log_);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 7u);
  EXPECT_EQ((*events)[0].kind, attest::MeasureKind::kImageRootHash);
  EXPECT_EQ((*events)[4].kind, attest::MeasureKind::kPolicyBundle);
  EXPECT_EQ((*events)[5].name, "usr/bin/ve-node");
  EXPECT_EQ((*events)[6].name, "usr/bin/ve-provider");

  absl::StatusOr<std::unique_ptr<Tpm>> tpm = Tpm::Open((*sw)->tcti());
  ASSERT_TRUE(tpm.ok());
  absl::StatusOr<attest::PcrValues> pcrs = (*tpm)->PcrRead({8, 9});
  ASSERT_TRUE(pcrs.ok());
  CliResult replay = Cli({"replay", "--log=" + log_});
  ASSERT_EQ(replay.code, kMeasureOk) << replay.err;
  EXPECT_NE(replay.out.find(
                absl::StrCat("pcr 8 ", encoding::HexEncode(pcrs->at(8)), "\n")),
            std::string::npos)
      << replay.out;
  EXPECT_NE(replay.out.find(
                absl::StrCat("pcr 9 ", encoding::HexEncode(pcrs->at(9)), "\n")),
            std::string::npos);

  absl::StatusOr<AkBlob> ak = (*tpm)->CreateAk();
  ASSERT_TRUE(ak.ok());
  absl::StatusOr<attest::AkPublic> ak_pub =
      attest::ParseAkPublic(ak->public_area);
  ASSERT_TRUE(ak_pub.ok());
  const crypto::Bytes nonce = crypto::RandomBytes(32);
  absl::StatusOr<Quote> q = (*tpm)->QuotePcrs(*ak, nonce, {8, 9});
  ASSERT_TRUE(q.ok());
  absl::StatusOr<std::string> log_bytes =
      root_->ReadFile("measure.log", attest::kMaxEventLogBytes);
  ASSERT_TRUE(log_bytes.ok());
  attest::QuoteEvidence e;
  e.attest = q->attest;
  e.signature = q->signature;
  e.pcr_values = q->pcr_values;
  e.event_log = crypto::Bytes(log_bytes->begin(), log_bytes->end());
  const std::vector<attest::Measurement> allow = {
      {"virtengine-appliance", "1.2.0", *pcrs, false}};
  absl::StatusOr<attest::VerifiedQuote> v =
      attest::VerifyQuote(*ak_pub, e, nonce, allow);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->event_count, 7u);

  // A log edited after the fact (the kernel's content digest) no longer
  // replays; neither does one with an event dropped.
  attest::QuoteEvidence bad = e;
  (*bad.event_log)[8 + 4 + 15 + 32 + 4 + 6 + 3] ^= 1;
  EXPECT_EQ(attest::VerifyQuote(*ak_pub, bad, nonce, allow).status(),
            absl::UnauthenticatedError("event log does not replay to PCR 8"));
  std::vector<attest::MeasurementEvent> fewer = *events;
  fewer.pop_back();
  bad.event_log = attest::SerializeEventLog(fewer);
  EXPECT_EQ(attest::VerifyQuote(*ak_pub, bad, nonce, allow).status(),
            absl::UnauthenticatedError("event log does not replay to PCR 9"));
  // A log that covers PCR 9 cannot go with a quote of PCR 8 alone.
  absl::StatusOr<Quote> q8 = (*tpm)->QuotePcrs(*ak, nonce, {8});
  ASSERT_TRUE(q8.ok());
  attest::QuoteEvidence e8 = e;
  e8.attest = q8->attest;
  e8.signature = q8->signature;
  e8.pcr_values = q8->pcr_values;
  EXPECT_EQ(attest::VerifyQuote(*ak_pub, e8, nonce,
                                {{"boot-only", "1", {{8, pcrs->at(8)}}, false}})
                .status(),
            absl::UnauthenticatedError(
                "event log covers PCR 9, which the quote does not select"));
  // Truncated log.
  bad = e;
  bad.event_log->resize(bad.event_log->size() - 3);
  absl::Status s = attest::VerifyQuote(*ak_pub, bad, nonce, allow).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(s.message(), "event log: record 6 at offset "))
      << s;
}

TEST_F(MeasureTest, RefusesToAppendToMalformedLog) {
  absl::StatusOr<std::unique_ptr<testing::Swtpm>> sw = testing::Swtpm::Start();
  ASSERT_TRUE(sw.ok()) << sw.status();
  ASSERT_TRUE(
      root_->WriteFileAtomic("measure.log", "VEML\x01\x01\x00\x00junk").ok());
  CliResult r = Cli({"extend", "--log=" + log_, "--tcti=" + (*sw)->tcti(),
                     "--kernel=" + Path("vmlinuz")});
  EXPECT_EQ(r.code, kMeasureRuntimeError);
  EXPECT_TRUE(absl::StrContains(r.err, "existing event log is malformed"))
      << r.err;
  absl::StatusOr<std::unique_ptr<Tpm>> tpm = Tpm::Open((*sw)->tcti());
  ASSERT_TRUE(tpm.ok());
  absl::StatusOr<attest::PcrValues> pcrs = (*tpm)->PcrRead({8});
  ASSERT_TRUE(pcrs.ok());
  EXPECT_EQ(pcrs->at(8), crypto::Digest32{});  // nothing was extended
  EXPECT_EQ(Cli({"replay", "--log=" + log_}).code, kMeasureRuntimeError);
}

}  // namespace
}  // namespace virtengine::tpm
