#include "security/attest/verifier.h"

#include <cstddef>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "security/attest/event_log.h"
#include "security/crypto/bytes.h"
#include "security/crypto/hash.h"
#include "security/ratelimit/clock.h"
#include "src/common/encoding/hex.h"

namespace virtengine::attest {
namespace {

namespace v1 = ::virtengine::security::crypto::v1;

Bytes Testdata(const std::string& name) {
  std::ifstream in("security/attest/testdata/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string s = ss.str();
  return Bytes(s.begin(), s.end());
}

crypto::Digest32 D(const std::string& hex) {
  crypto::Digest32 d{};
  std::vector<uint8_t> b = *encoding::HexDecode(hex, 32);
  std::copy(b.begin(), b.end(), d.begin());
  return d;
}

// The fixture: tpm2_quote over sha256:0,8,9 after PCR 8 was extended with
// SHA-256("abc"), nonce 00 01 .. 1f.
class VerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<AkPublic> ak = ParseAkPublic(Testdata("tpm2tools_ak.pub"));
    ASSERT_TRUE(ak.ok()) << ak.status();
    ak_ = *ak;
    evidence_.attest = Testdata("tpm2tools_quote.attest");
    evidence_.signature = Testdata("tpm2tools_quote.sig");
    evidence_.pcr_values[0] = crypto::Digest32{};
    evidence_.pcr_values[8] = kPcr8;
    evidence_.pcr_values[9] = crypto::Digest32{};
    for (uint8_t i = 0; i < 32; ++i) nonce_.push_back(i);
    allowlist_.push_back(
        Measurement{"appliance", "1.0.0", {{8, kPcr8}}, false});
  }

  const crypto::Digest32 kPcr8 =
      D("589f9ffed4c477966bfb8d41f37895b08c69047df8f911d6f3b57fbe08faee8d");
  AkPublic ak_;
  QuoteEvidence evidence_;
  Bytes nonce_;
  std::vector<Measurement> allowlist_;
};

TEST_F(VerifierTest, AcceptsTpm2ToolsQuote) {
  absl::StatusOr<VerifiedQuote> v =
      VerifyQuote(ak_, evidence_, nonce_, allowlist_);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->measurement_name, "appliance");
  EXPECT_EQ(v->measurement_version, "1.0.0");
  EXPECT_EQ(v->pcrs.size(), 3u);
}

TEST_F(VerifierTest, NonceMismatch) {
  nonce_[0] ^= 1;
  EXPECT_EQ(VerifyQuote(ak_, evidence_, nonce_, allowlist_).status(),
            absl::UnauthenticatedError("nonce mismatch"));
  nonce_.pop_back();
  EXPECT_EQ(VerifyQuote(ak_, evidence_, nonce_, allowlist_).status(),
            absl::UnauthenticatedError("nonce mismatch"));
}

TEST_F(VerifierTest, TamperedAttestFailsSignature) {
  evidence_.attest[80] ^= 0x01;  // inside clockInfo: still parses
  EXPECT_EQ(VerifyQuote(ak_, evidence_, nonce_, allowlist_).status(),
            absl::UnauthenticatedError("signature invalid"));
}

TEST_F(VerifierTest, TamperedSignature) {
  evidence_.signature[10] ^= 0x01;
  EXPECT_EQ(VerifyQuote(ak_, evidence_, nonce_, allowlist_).status(),
            absl::UnauthenticatedError("signature invalid"));
}

TEST_F(VerifierTest, OtherKeyFailsSignature) {
  Bytes pub = Testdata("tpm2tools_ak.pub");
  // A different valid point: the generator of P-256.
  const std::string gx =
      "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296";
  const std::string gy =
      "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";
  std::vector<uint8_t> x = *encoding::HexDecode(gx, 32);
  std::vector<uint8_t> y = *encoding::HexDecode(gy, 32);
  std::copy(x.begin(), x.end(), pub.end() - 66);
  std::copy(y.begin(), y.end(), pub.end() - 32);
  absl::StatusOr<AkPublic> other = ParseAkPublic(pub);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(VerifyQuote(*other, evidence_, nonce_, allowlist_).status(),
            absl::UnauthenticatedError("signature invalid"));
}

TEST_F(VerifierTest, PcrValuesMustMatchDigest) {
  evidence_.pcr_values[9][0] = 1;
  EXPECT_EQ(VerifyQuote(ak_, evidence_, nonce_, allowlist_).status(),
            absl::UnauthenticatedError("pcr digest mismatch"));
}

TEST_F(VerifierTest, PcrValuesMustMatchSelection) {
  evidence_.pcr_values.erase(9);
  EXPECT_EQ(VerifyQuote(ak_, evidence_, nonce_, allowlist_).status(),
            absl::InvalidArgumentError(
                "pcr values do not match the quoted selection: PCR 9 missing"));
  evidence_.pcr_values[9] = crypto::Digest32{};
  evidence_.pcr_values[10] = crypto::Digest32{};
  EXPECT_EQ(VerifyQuote(ak_, evidence_, nonce_, allowlist_).status(),
            absl::InvalidArgumentError("pcr values do not match the quoted "
                                       "selection: PCR 10 not quoted"));
}

TEST_F(VerifierTest, NotAllowlistedAndRetired) {
  allowlist_[0].pcrs[8][0] ^= 1;
  EXPECT_EQ(VerifyQuote(ak_, evidence_, nonce_, allowlist_).status(),
            absl::PermissionDeniedError("measurement not allowlisted"));
  allowlist_[0].pcrs[8] = kPcr8;
  allowlist_[0].retired = true;
  EXPECT_EQ(
      VerifyQuote(ak_, evidence_, nonce_, allowlist_).status(),
      absl::PermissionDeniedError("measurement retired: appliance 1.0.0"));
  // A measurement naming a PCR the quote does not cover never matches.
  allowlist_.push_back(
      Measurement{"appliance", "2.0.0", {{8, kPcr8}, {11, {}}}, false});
  EXPECT_EQ(
      VerifyQuote(ak_, evidence_, nonce_, allowlist_).status(),
      absl::PermissionDeniedError("measurement retired: appliance 1.0.0"));
  allowlist_.push_back(Measurement{"appliance", "1.0.1", {{8, kPcr8}}, false});
  EXPECT_TRUE(VerifyQuote(ak_, evidence_, nonce_, allowlist_).ok());
  EXPECT_EQ(
      VerifyQuote(ak_, evidence_, nonce_, {Measurement{"x", "1", {}, false}})
          .status()
          .message(),
      "allowlist entry 0 (x 1) lists no PCRs");
}

TEST_F(VerifierTest, EventLogMustReplay) {
  // The fixture's PCR 8 was not made by ve-measure: an empty log replays to
  // zero, which is not PCR 8.
  evidence_.event_log = EventLogHeader();
  EXPECT_EQ(VerifyQuote(ak_, evidence_, nonce_, allowlist_).status(),
            absl::UnauthenticatedError("event log does not replay to PCR 8"));
  evidence_.event_log = Bytes{'V', 'E', 'M', 'L', 1, 1, 0};
  EXPECT_EQ(
      VerifyQuote(ak_, evidence_, nonce_, allowlist_).status().message(),
      "event log: reserved: truncated (need 2 bytes at offset 6, 1 left)");
}

TEST_F(VerifierTest, GarbledInputIsInvalidArgument) {
  Bytes attest = evidence_.attest;
  for (size_t n : {size_t{0}, size_t{3}, size_t{60}, attest.size() - 1}) {
    evidence_.attest.assign(attest.begin(),
                            attest.begin() + static_cast<std::ptrdiff_t>(n));
    absl::Status s = VerifyQuote(ak_, evidence_, nonce_, allowlist_).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_EQ(s.message().substr(0, 7), "quote: ") << s;
  }
  evidence_.attest = attest;
  evidence_.signature.resize(5);
  absl::Status s = VerifyQuote(ak_, evidence_, nonce_, allowlist_).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(s.message().substr(0, 11), "signature: ") << s;
}

TEST_F(VerifierTest, ChallengedQuote) {
  ratelimit::ManualClock clock;
  ChallengeRegistry registry(&clock, ChallengeRegistry::Options());
  // The fixture's nonce was not issued by this registry.
  EXPECT_EQ(VerifyChallengedQuote(registry, nonce_, ak_, evidence_, allowlist_)
                .status(),
            absl::NotFoundError("unknown challenge"));
  absl::StatusOr<Challenge> c = registry.Issue();
  ASSERT_TRUE(c.ok());
  // Fresh challenge, but the quote carries another nonce.
  EXPECT_EQ(
      VerifyChallengedQuote(registry, c->nonce, ak_, evidence_, allowlist_)
          .status(),
      absl::UnauthenticatedError("nonce mismatch"));
  EXPECT_EQ(
      VerifyChallengedQuote(registry, c->nonce, ak_, evidence_, allowlist_)
          .status(),
      absl::FailedPreconditionError("challenge replayed"));
}

}  // namespace
}  // namespace virtengine::attest
