#include "src/attest/evidence.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "security/crypto/hash.h"
#include "security/tpm/swtpm_test_util.h"
#include "security/tpm/tpm.h"
#include "src/attest/collect.h"

namespace virtengine::attestation {
namespace {

crypto::Bytes B(std::string_view s) {
  return crypto::Bytes(s.begin(), s.end());
}

class EvidenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // An "appliance image" measurement in PCR 11.
    auto b = tpm::testing::StartBootedTpm(0x5a);
    ASSERT_TRUE(b.ok()) << b.status();
    swtpm_ = std::move(b->swtpm);
    tpm_ = std::move(b->tpm);
    ak_ = b->ak;
    attest::Measurement m;
    m.name = "virtengine";
    m.version = "1.0.0";
    m.pcrs[11] = b->pcr11;
    allowlist_.push_back(m);
    node_key_.assign(32, 0x11);
    nonce_ = B("challenge-0123456789abcdef-nonce");
  }

  v1::Evidence Make(std::string_view purpose = kPurposeJoin) {
    auto e = Collect(*tpm_, ak_, purpose, nonce_, node_key_, {}, {11});
    EXPECT_TRUE(e.ok()) << e.status();
    return e.ok() ? *e : v1::Evidence();
  }

  std::unique_ptr<tpm::testing::Swtpm> swtpm_;
  std::unique_ptr<tpm::Tpm> tpm_;
  tpm::AkBlob ak_;
  std::vector<attest::Measurement> allowlist_;
  crypto::Bytes node_key_;
  crypto::Bytes nonce_;
};

TEST_F(EvidenceTest, VerifiesAndNamesTheMeasurement) {
  v1::Evidence e = Make();
  auto v = VerifyEvidence(e, kPurposeJoin, nonce_, allowlist_);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->quote.measurement_name, "virtengine");
  EXPECT_EQ(v->quote.measurement_version, "1.0.0");
}

TEST_F(EvidenceTest, AnotherNodeKeyFailsTheBinding) {
  v1::Evidence e = Make();
  e.set_node_public_key(std::string(32, '\x22'));
  auto v = VerifyEvidence(e, kPurposeJoin, nonce_, allowlist_);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(v.status().message(), "nonce mismatch");
}

TEST_F(EvidenceTest, AnEkCertificateAddedLaterFailsTheBinding) {
  v1::Evidence e = Make();
  e.set_ek_certificate("forged");
  auto v = VerifyEvidence(e, kPurposeJoin, nonce_, allowlist_);
  EXPECT_EQ(v.status().message(), "nonce mismatch");
}

TEST_F(EvidenceTest, PurposeAndNonceMustBeTheVerifiers) {
  v1::Evidence e = Make(kPurposeQuote);
  auto v = VerifyEvidence(e, kPurposeJoin, nonce_, allowlist_);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(v.status().message(),
            "evidence: purpose \"quote\", expected \"join\"");
  v = VerifyEvidence(e, kPurposeQuote, B("another nonce"), allowlist_);
  EXPECT_EQ(v.status().message(), "evidence: nonce mismatch");
  // Rewriting the nonce in the evidence does not help: the quote binds it.
  e.set_nonce("another nonce");
  v = VerifyEvidence(e, kPurposeQuote, B("another nonce"), allowlist_);
  EXPECT_EQ(v.status().message(), "nonce mismatch");
}

TEST_F(EvidenceTest, UnlistedAndRetiredMeasurementsAreRefused) {
  v1::Evidence e = Make();
  std::vector<attest::Measurement> other = allowlist_;
  other[0].pcrs.begin()->second.fill(0);
  auto v = VerifyEvidence(e, kPurposeJoin, nonce_, other);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(v.status().message(), "measurement not allowlisted");
  other = allowlist_;
  other[0].retired = true;
  v = VerifyEvidence(e, kPurposeJoin, nonce_, other);
  EXPECT_EQ(v.status().message(), "measurement retired: virtengine 1.0.0");
}

TEST_F(EvidenceTest, PcrExtendedAfterTheQuoteIsDetected) {
  v1::Evidence e = Make();
  // A verifier given the current (post-extend) PCR values instead of the
  // quoted ones: the quote's digest no longer matches.
  crypto::Digest32 d{};
  d.fill(0x01);
  ASSERT_TRUE(tpm_->PcrExtend(11, d).ok());
  auto now = tpm_->PcrRead({11});
  ASSERT_TRUE(now.ok());
  e.mutable_pcrs(0)->set_sha256(
      std::string(now->at(11).begin(), now->at(11).end()));
  auto v = VerifyEvidence(e, kPurposeJoin, nonce_, allowlist_);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(v.status().message(), "pcr digest mismatch");
}

TEST_F(EvidenceTest, ShapesAreCheckedFirst) {
  v1::Evidence e = Make();
  v1::Evidence bad = e;
  bad.set_purpose("other");
  EXPECT_EQ(ValidateEvidence(bad).message(), "evidence: unknown purpose");
  bad = e;
  bad.set_nonce(std::string(65, 'n'));
  EXPECT_EQ(ValidateEvidence(bad).message(),
            "evidence: nonce is 65 bytes, not 1..64");
  bad = e;
  bad.add_pcrs()->set_pcr(3);
  EXPECT_EQ(ValidateEvidence(bad).message(),
            "evidence: pcrs[1]: PCR 3 out of range or order");
  bad = e;
  bad.set_quote_attest(std::string(2000, 'q'));
  EXPECT_EQ(ValidateEvidence(bad).message(),
            "evidence: quote_attest is empty or too large");
  bad = e;
  bad.set_quote_attest(e.quote_attest().substr(0, 20));
  auto v = VerifyEvidence(bad, kPurposeJoin, nonce_, allowlist_);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace virtengine::attestation
