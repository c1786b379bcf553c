// security/tpm against a real swtpm (started per test through the
// allowlisted runner, see swtpm_test_util.h), verified with security/attest.
#include "security/tpm/tpm.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <tss2_mu.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "security/attest/challenge.h"
#include "security/attest/verifier.h"
#include "security/attest/wire.h"
#include "security/crypto/hash.h"
#include "security/crypto/random.h"
#include "security/path/path.h"
#include "security/ratelimit/clock.h"
#include "security/tpm/swtpm_test_util.h"
#include "src/common/encoding/hex.h"

namespace virtengine::tpm {
namespace {

namespace v1 = ::virtengine::security::crypto::v1;
using attest::Measurement;
using attest::PcrValues;
using attest::QuoteEvidence;

crypto::Digest32 Sha(const std::string& s) {
  return *crypto::Sha256(v1::CONTENT_HASH, crypto::AsBytes(s));
}

class TpmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<testing::Swtpm>> sw =
        testing::Swtpm::Start();
    ASSERT_TRUE(sw.ok()) << sw.status();
    swtpm_ = *std::move(sw);
    OpenTpm();
    absl::StatusOr<AkBlob> ak = tpm_->CreateAk();
    ASSERT_TRUE(ak.ok()) << ak.status();
    ak_ = *ak;
    absl::StatusOr<attest::AkPublic> pub =
        attest::ParseAkPublic(ak_.public_area);
    ASSERT_TRUE(pub.ok()) << pub.status();
    ak_public_ = *pub;
  }

  void OpenTpm() {
    absl::StatusOr<std::unique_ptr<Tpm>> tpm = Tpm::Open(swtpm_->tcti());
    ASSERT_TRUE(tpm.ok()) << tpm.status();
    tpm_ = *std::move(tpm);
  }

  QuoteEvidence Evidence(const Quote& q) {
    QuoteEvidence e;
    e.attest = q.attest;
    e.signature = q.signature;
    e.pcr_values = q.pcr_values;
    return e;
  }

  std::vector<Measurement> AllowCurrent() {
    absl::StatusOr<PcrValues> now = tpm_->PcrRead({8, 9});
    EXPECT_TRUE(now.ok()) << now.status();
    return {Measurement{"virtengine-appliance", "1.0.0", *now, false}};
  }

  std::unique_ptr<testing::Swtpm> swtpm_;
  std::unique_ptr<Tpm> tpm_;
  AkBlob ak_;
  attest::AkPublic ak_public_;
  ratelimit::ManualClock clock_;
};

TEST_F(TpmTest, PcrExtendMatchesSoftware) {
  absl::StatusOr<PcrValues> before = tpm_->PcrRead({8});
  ASSERT_TRUE(before.ok()) << before.status();
  const crypto::Digest32 d = Sha("kernel");
  ASSERT_TRUE(tpm_->PcrExtend(8, d).ok());
  crypto::Bytes buf(before->at(8).begin(), before->at(8).end());
  buf.insert(buf.end(), d.begin(), d.end());
  absl::StatusOr<PcrValues> after = tpm_->PcrRead({8});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->at(8), *crypto::Sha256(v1::CONTENT_HASH, buf));
  EXPECT_EQ(tpm_->PcrExtend(24, d).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(tpm_->PcrRead({9, 8}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(TpmTest, QuoteVerifiesAndChallengeIsSingleUse) {
  ASSERT_TRUE(tpm_->PcrExtend(8, Sha("image")).ok());
  ASSERT_TRUE(tpm_->PcrExtend(9, Sha("ve-node")).ok());
  attest::ChallengeRegistry registry(&clock_, {});
  absl::StatusOr<attest::Challenge> c = registry.Issue();
  ASSERT_TRUE(c.ok());
  absl::StatusOr<Quote> q = tpm_->QuotePcrs(ak_, c->nonce, {0, 8, 9});
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->pcr_values.size(), 3u);
  const std::vector<Measurement> allow = AllowCurrent();
  absl::StatusOr<attest::VerifiedQuote> v = attest::VerifyChallengedQuote(
      registry, c->nonce, ak_public_, Evidence(*q), allow);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->measurement_name, "virtengine-appliance");
  EXPECT_EQ(attest::VerifyChallengedQuote(registry, c->nonce, ak_public_,
                                          Evidence(*q), allow)
                .status(),
            absl::FailedPreconditionError("challenge replayed"));
  // The AK's DER SubjectPublicKeyInfo is a P-256 key OpenSSL accepts.
  const crypto::Bytes spki = ak_public_.SubjectPublicKeyInfo();
  const uint8_t* p = spki.data();
  EVP_PKEY* key = d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size()));
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(EVP_PKEY_get_bits(key), 256);
  EVP_PKEY_free(key);
  // The marshalled structures round-trip through the pure decoders.
  absl::StatusOr<attest::QuoteAttest> parsed =
      attest::ParseQuoteAttest(q->attest);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(attest::SerializeQuoteAttest(*parsed), q->attest);
  EXPECT_EQ(attest::SerializeSignature(*attest::ParseSignature(q->signature)),
            q->signature);
}

TEST_F(TpmTest, WrongNonceAndExpiredChallenge) {
  attest::ChallengeRegistry::Options o;
  o.ttl = absl::Seconds(30);
  attest::ChallengeRegistry registry(&clock_, o);
  absl::StatusOr<attest::Challenge> c = registry.Issue();
  ASSERT_TRUE(c.ok());
  const crypto::Bytes other = crypto::RandomBytes(32);
  absl::StatusOr<Quote> q = tpm_->QuotePcrs(ak_, other, {8, 9});
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(attest::VerifyChallengedQuote(registry, c->nonce, ak_public_,
                                          Evidence(*q), AllowCurrent())
                .status(),
            absl::UnauthenticatedError("nonce mismatch"));

  absl::StatusOr<attest::Challenge> d = registry.Issue();
  ASSERT_TRUE(d.ok());
  absl::StatusOr<Quote> q2 = tpm_->QuotePcrs(ak_, d->nonce, {8, 9});
  ASSERT_TRUE(q2.ok());
  clock_.Advance(absl::Seconds(31));
  EXPECT_EQ(attest::VerifyChallengedQuote(registry, d->nonce, ak_public_,
                                          Evidence(*q2), AllowCurrent())
                .status(),
            absl::DeadlineExceededError("challenge expired"));
}

TEST_F(TpmTest, PcrExtendedAfterQuote) {
  const std::vector<Measurement> allow = AllowCurrent();
  const crypto::Bytes nonce = crypto::RandomBytes(32);
  absl::StatusOr<Quote> q = tpm_->QuotePcrs(ak_, nonce, {8, 9});
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(tpm_->PcrExtend(9, Sha("rogue binary")).ok());
  // Fresh values no longer match what the TPM signed...
  QuoteEvidence e = Evidence(*q);
  absl::StatusOr<PcrValues> now = tpm_->PcrRead({8, 9});
  ASSERT_TRUE(now.ok());
  e.pcr_values = *now;
  EXPECT_EQ(attest::VerifyQuote(ak_public_, e, nonce, allow).status(),
            absl::UnauthenticatedError("pcr digest mismatch"));
  // ...and a new quote shows a state that is not allowlisted.
  absl::StatusOr<Quote> q2 = tpm_->QuotePcrs(ak_, nonce, {8, 9});
  ASSERT_TRUE(q2.ok());
  EXPECT_EQ(
      attest::VerifyQuote(ak_public_, Evidence(*q2), nonce, allow).status(),
      absl::PermissionDeniedError("measurement not allowlisted"));
  // The old quote is still valid evidence of the old state.
  EXPECT_TRUE(attest::VerifyQuote(ak_public_, Evidence(*q), nonce, allow).ok());
}

TEST_F(TpmTest, QuoteFromAnotherAkAndRetiredMeasurement) {
  absl::StatusOr<AkBlob> other = tpm_->CreateAk();
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->public_area, ak_.public_area);
  const crypto::Bytes nonce = crypto::RandomBytes(32);
  absl::StatusOr<Quote> q = tpm_->QuotePcrs(*other, nonce, {8, 9});
  ASSERT_TRUE(q.ok());
  std::vector<Measurement> allow = AllowCurrent();
  EXPECT_EQ(
      attest::VerifyQuote(ak_public_, Evidence(*q), nonce, allow).status(),
      absl::UnauthenticatedError("signature invalid"));
  absl::StatusOr<attest::AkPublic> other_pub =
      attest::ParseAkPublic(other->public_area);
  ASSERT_TRUE(other_pub.ok());
  EXPECT_TRUE(attest::VerifyQuote(*other_pub, Evidence(*q), nonce, allow).ok());
  allow[0].retired = true;
  EXPECT_EQ(
      attest::VerifyQuote(*other_pub, Evidence(*q), nonce, allow).status(),
      absl::PermissionDeniedError(
          "measurement retired: virtengine-appliance 1.0.0"));
}

TEST_F(TpmTest, TruncatedAndGarbledQuotes) {
  const crypto::Bytes nonce = crypto::RandomBytes(32);
  absl::StatusOr<Quote> q = tpm_->QuotePcrs(ak_, nonce, {8, 9});
  ASSERT_TRUE(q.ok());
  const std::vector<Measurement> allow = AllowCurrent();
  for (size_t n = 0; n < q->attest.size(); ++n) {
    QuoteEvidence e = Evidence(*q);
    e.attest.resize(n);
    EXPECT_EQ(attest::VerifyQuote(ak_public_, e, nonce, allow).status().code(),
              absl::StatusCode::kInvalidArgument)
        << n;
  }
  for (size_t i = 0; i < q->attest.size(); ++i) {
    QuoteEvidence e = Evidence(*q);
    e.attest[i] ^= 0x40;
    EXPECT_FALSE(attest::VerifyQuote(ak_public_, e, nonce, allow).ok()) << i;
  }
  for (size_t i = 0; i < q->signature.size(); ++i) {
    QuoteEvidence e = Evidence(*q);
    e.signature[i] ^= 0x01;
    EXPECT_FALSE(attest::VerifyQuote(ak_public_, e, nonce, allow).ok()) << i;
  }
}

TEST_F(TpmTest, AkBlobRoundTripAndReload) {
  absl::StatusOr<AkBlob> parsed = AkBlob::Parse(ak_.Serialize());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  // Reload in a new session (a new connection): the blob loads and reports
  // the same public area.
  tpm_.reset();
  OpenTpm();
  absl::StatusOr<crypto::Bytes> pub = tpm_->LoadAkPublic(*parsed);
  ASSERT_TRUE(pub.ok()) << pub.status();
  EXPECT_EQ(*pub, ak_.public_area);
  crypto::Bytes bad = ak_.Serialize();
  bad[0] = 'X';
  EXPECT_EQ(AkBlob::Parse(bad).status().message(),
            "ak blob: bad magic (not VEAK)");
  bad = ak_.Serialize();
  bad.pop_back();
  EXPECT_FALSE(AkBlob::Parse(bad).ok());
}

TEST_F(TpmTest, SealUnsealFollowsPcrs) {
  const crypto::SecretBytes secret = crypto::RandomSecret(32);
  absl::StatusOr<PcrValues> now = tpm_->PcrRead({8, 9});
  ASSERT_TRUE(now.ok());
  absl::StatusOr<crypto::Bytes> sealed = tpm_->Seal(secret, *now);
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  absl::StatusOr<crypto::SecretBytes> out = tpm_->Unseal(*sealed);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(out->Equals(secret));

  // Sealed to a future value: refused now, released once PCR 9 gets there.
  PcrValues future = *now;
  const crypto::Digest32 d = Sha("policy bundle v2");
  crypto::Bytes buf(now->at(9).begin(), now->at(9).end());
  buf.insert(buf.end(), d.begin(), d.end());
  future[9] = *crypto::Sha256(v1::CONTENT_HASH, buf);
  absl::StatusOr<crypto::Bytes> sealed_future = tpm_->Seal(secret, future);
  ASSERT_TRUE(sealed_future.ok());
  EXPECT_EQ(
      tpm_->Unseal(*sealed_future).status(),
      absl::FailedPreconditionError("PCR 9 differs from the sealed policy"));
  ASSERT_TRUE(tpm_->PcrExtend(9, d).ok());
  absl::StatusOr<crypto::SecretBytes> later = tpm_->Unseal(*sealed_future);
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_TRUE(later->Equals(secret));
  EXPECT_EQ(
      tpm_->Unseal(*sealed).status(),
      absl::FailedPreconditionError("PCR 9 differs from the sealed policy"));

  crypto::Bytes garbled = *sealed;
  garbled[garbled.size() - 5] ^= 0xff;  // inside TPM2B_PRIVATE
  absl::Status s = tpm_->Unseal(garbled).status();
  EXPECT_FALSE(s.ok());
  garbled = *sealed;
  garbled.resize(garbled.size() - 1);
  EXPECT_EQ(tpm_->Unseal(garbled).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(tpm_->Seal(crypto::SecretBytes(), *now).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(tpm_->Seal(crypto::RandomSecret(129), *now).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(TpmTest, EkPublicIsStableAndCertAbsent) {
  absl::StatusOr<crypto::Bytes> a = tpm_->EkPublic(EkType::kEccP256);
  absl::StatusOr<crypto::Bytes> b = tpm_->EkPublic(EkType::kEccP256);
  ASSERT_TRUE(a.ok() && b.ok()) << a.status();
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(tpm_->EkCertificate(EkType::kEccP256).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(TpmOpenTest, RefusesBadConfigAndUnreachableTpm) {
  EXPECT_EQ(Tpm::Open("swtpm:host=127.0.0.1;rm").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Tpm::Open("libtpms:x").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Tpm::Open("").status().code(), absl::StatusCode::kInvalidArgument);
  // Port 1 on loopback: nothing listens.
  absl::Status s = Tpm::Open("swtpm:host=127.0.0.1,port=1").status();
  EXPECT_FALSE(s.ok());
}

TEST(TpmEkCertTest, RsaEkCertificateMatchesEk) {
  testing::Swtpm::Options o;
  o.with_ek_cert = true;
  absl::StatusOr<std::unique_ptr<testing::Swtpm>> sw = testing::Swtpm::Start(o);
  ASSERT_TRUE(sw.ok()) << sw.status();
  absl::StatusOr<std::unique_ptr<Tpm>> tpm = Tpm::Open((*sw)->tcti());
  ASSERT_TRUE(tpm.ok()) << tpm.status();
  absl::StatusOr<crypto::Bytes> cert = (*tpm)->EkCertificate(EkType::kRsa2048);
  ASSERT_TRUE(cert.ok()) << cert.status();
  absl::StatusOr<crypto::Bytes> ek = (*tpm)->EkPublic(EkType::kRsa2048);
  ASSERT_TRUE(ek.ok()) << ek.status();

  const uint8_t* p = cert->data();
  X509* x509 = d2i_X509(nullptr, &p, static_cast<long>(cert->size()));
  ASSERT_NE(x509, nullptr);
  EXPECT_EQ(p, cert->data() + cert->size());
  BIGNUM* n = nullptr;
  ASSERT_EQ(
      EVP_PKEY_get_bn_param(X509_get0_pubkey(x509), OSSL_PKEY_PARAM_RSA_N, &n),
      1);
  crypto::Bytes modulus(static_cast<size_t>(BN_num_bytes(n)));
  BN_bn2bin(n, modulus.data());
  BN_free(n);
  X509_free(x509);

  TPM2B_PUBLIC pub{};
  size_t off = 0;
  ASSERT_EQ(Tss2_MU_TPM2B_PUBLIC_Unmarshal(ek->data(), ek->size(), &off, &pub),
            TSS2_RC_SUCCESS);
  crypto::Bytes ek_modulus(
      pub.publicArea.unique.rsa.buffer,
      pub.publicArea.unique.rsa.buffer + pub.publicArea.unique.rsa.size);
  EXPECT_EQ(modulus, ek_modulus);
}

// tpm2-tools makes the quote; security/attest verifies it.
TEST(TpmInteropTest, Tpm2ToolsQuoteIsAccepted) {
  absl::StatusOr<std::unique_ptr<testing::Swtpm>> sw = testing::Swtpm::Start();
  ASSERT_TRUE(sw.ok()) << sw.status();
  testing::Swtpm& swtpm = **sw;
  {
    absl::StatusOr<std::unique_ptr<Tpm>> tpm = Tpm::Open(swtpm.tcti());
    ASSERT_TRUE(tpm.ok());
    ASSERT_TRUE((*tpm)->PcrExtend(8, Sha("interop")).ok());
  }  // swtpm serves one connection at a time: close ours first
  ratelimit::ManualClock clock;
  attest::ChallengeRegistry registry(&clock, {});
  absl::StatusOr<attest::Challenge> c = registry.Issue();
  ASSERT_TRUE(c.ok());
  const std::string dir = testing::TestTmpDir();
  const std::string tag = std::to_string(swtpm.port());
  const std::string ek_ctx = dir + "/ek" + tag + ".ctx";
  const std::string ak_ctx = dir + "/ak" + tag + ".ctx";
  const std::string ak_pub = dir + "/ak" + tag + ".pub";
  const std::string msg = dir + "/quote" + tag + ".msg";
  const std::string sig = dir + "/quote" + tag + ".sig";
  ASSERT_TRUE(swtpm
                  .RunTool("tpmtest.tpm2_createek",
                           {ek_ctx, dir + "/ek" + tag + ".pub"})
                  .ok());
  ASSERT_TRUE(swtpm.RunTool("tpmtest.tpm2_flushcontext", {}).ok());
  absl::Status s =
      swtpm.RunTool("tpmtest.tpm2_createak", {ek_ctx, ak_ctx, ak_pub});
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_TRUE(swtpm.RunTool("tpmtest.tpm2_flushcontext", {}).ok());
  s = swtpm.RunTool("tpmtest.tpm2_quote",
                    {ak_ctx, "0,8,9", encoding::HexEncode(c->nonce), msg, sig});
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_TRUE(swtpm.RunTool("tpmtest.tpm2_flushcontext", {}).ok());

  absl::StatusOr<security::path::PathRoot> root =
      security::path::PathRoot::Open(dir);
  ASSERT_TRUE(root.ok());
  auto read = [&](const std::string& path) {
    absl::StatusOr<std::string> b =
        root->ReadFile(path.substr(dir.size() + 1), 4096);
    EXPECT_TRUE(b.ok()) << b.status();
    return crypto::Bytes(b->begin(), b->end());
  };
  absl::StatusOr<attest::AkPublic> ak = attest::ParseAkPublic(read(ak_pub));
  ASSERT_TRUE(ak.ok()) << ak.status();
  QuoteEvidence e;
  e.attest = read(msg);
  e.signature = read(sig);
  absl::StatusOr<std::unique_ptr<Tpm>> tpm = Tpm::Open(swtpm.tcti());
  ASSERT_TRUE(tpm.ok());
  absl::StatusOr<PcrValues> pcrs = (*tpm)->PcrRead({0, 8, 9});
  ASSERT_TRUE(pcrs.ok());
  e.pcr_values = *pcrs;
  std::vector<Measurement> allow = {
      Measurement{"appliance", "interop", {{8, pcrs->at(8)}}, false}};
  QuoteEvidence tampered = e;
  tampered.attest[tampered.attest.size() - 1] ^= 1;  // last pcrDigest byte
  EXPECT_EQ(attest::VerifyQuote(*ak, tampered, c->nonce, allow).status(),
            absl::UnauthenticatedError("signature invalid"));
  absl::StatusOr<attest::VerifiedQuote> v =
      attest::VerifyChallengedQuote(registry, c->nonce, *ak, e, allow);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->measurement_version, "interop");
}

}  // namespace
}  // namespace virtengine::tpm
