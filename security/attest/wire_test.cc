#include "security/attest/wire.h"

#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "src/common/encoding/hex.h"

namespace virtengine::attest {
namespace {

Bytes Testdata(const std::string& name) {
  std::ifstream in("security/attest/testdata/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string s = ss.str();
  return Bytes(s.begin(), s.end());
}

TEST(WireTest, ParsesTpm2ToolsQuote) {
  const Bytes raw = Testdata("tpm2tools_quote.attest");
  ASSERT_EQ(raw.size(), 145u);
  absl::StatusOr<QuoteAttest> q = ParseQuoteAttest(raw);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->extra_data.size(), 32u);
  EXPECT_EQ(q->extra_data[31], 0x1f);
  EXPECT_EQ(q->qualified_signer.size(), 34u);
  ASSERT_EQ(q->pcr_select.size(), 1u);
  EXPECT_EQ(q->pcr_select[0].hash, kTpmAlgSha256);
  EXPECT_EQ(q->pcr_select[0].Pcrs(), (std::vector<uint32_t>{0, 8, 9}));
  EXPECT_EQ(q->pcr_digest.size(), 32u);
  EXPECT_EQ(SerializeQuoteAttest(*q), raw);
}

TEST(WireTest, EveryTruncationIsRefused) {
  const Bytes raw = Testdata("tpm2tools_quote.attest");
  for (size_t n = 0; n < raw.size(); ++n) {
    absl::StatusOr<QuoteAttest> q = ParseQuoteAttest(ByteView(raw.data(), n));
    ASSERT_FALSE(q.ok()) << n;
    EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(q.status().message().find("truncated"), std::string::npos)
        << q.status();
  }
  Bytes longer = raw;
  longer.push_back(0);
  EXPECT_EQ(ParseQuoteAttest(longer).status().message(),
            "tpms_attest: 1 trailing bytes after the quote");
}

TEST(WireTest, FieldsAreValidated) {
  const Bytes raw = Testdata("tpm2tools_quote.attest");
  Bytes bad = raw;
  bad[0] = 0xfe;
  EXPECT_EQ(ParseQuoteAttest(bad).status().message(),
            "tpms_attest: magic 0xfe544347 is not TPM_GENERATED_VALUE");
  bad = raw;
  bad[5] = 0x17;  // TPM_ST_ATTEST_CERTIFY
  EXPECT_EQ(ParseQuoteAttest(bad).status().message(),
            "tpms_attest: type 0x8017 is not TPM_ST_ATTEST_QUOTE");
  bad = raw;
  bad[6] = 0x01;  // qualifiedSigner size 0x0122
  EXPECT_EQ(ParseQuoteAttest(bad).status().message(),
            "tpms_attest: qualifiedSigner: size 290 exceeds 66");
  bad = raw;
  bad[43] = 0;  // extraData size 0x0020 -> 0: the nonce is read as clockInfo
  EXPECT_EQ(ParseQuoteAttest(bad).status().message(),
            "tpms_attest: safe is 16, not a TPMI_YES_NO");
  Bytes huge(kMaxAttestBytes + 1, 0);
  EXPECT_EQ(ParseQuoteAttest(huge).status().message(),
            "tpms_attest: 1025 bytes exceeds the limit of 1024");
}

TEST(WireTest, SafeAndSelectAreChecked) {
  absl::StatusOr<QuoteAttest> q =
      ParseQuoteAttest(Testdata("tpm2tools_quote.attest"));
  ASSERT_TRUE(q.ok());
  Bytes raw = SerializeQuoteAttest(*q);
  // safe byte sits after magic(4) type(2) signer(2+34) extra(2+32) clock(8)
  // reset(4) restart(4).
  const size_t safe_at = 4 + 2 + 36 + 34 + 16;
  ASSERT_EQ(raw[safe_at], 1);
  raw[safe_at] = 2;
  EXPECT_EQ(ParseQuoteAttest(raw).status().message(),
            "tpms_attest: safe is 2, not a TPMI_YES_NO");
  QuoteAttest copy = *q;
  copy.pcr_select[0].select = {1, 0};
  EXPECT_EQ(ParseQuoteAttest(SerializeQuoteAttest(copy)).status().message(),
            "tpms_attest: pcrSelect.sizeofSelect 2 is outside 3..4");
  copy.pcr_select[0].select = {1, 0, 0, 1};
  EXPECT_EQ(ParseQuoteAttest(SerializeQuoteAttest(copy)).status().message(),
            "tpms_attest: pcrSelect selects a PCR above 23");
}

TEST(WireTest, ParsesSignatureAndMakesDer) {
  const Bytes raw = Testdata("tpm2tools_quote.sig");
  absl::StatusOr<EcdsaSignature> sig = ParseSignature(raw);
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_EQ(SerializeSignature(*sig), raw);
  absl::StatusOr<Bytes> der = SignatureToDer(*sig);
  ASSERT_TRUE(der.ok());
  EXPECT_EQ((*der)[0], 0x30);
  EXPECT_EQ(der->size(), static_cast<size_t>((*der)[1]) + 2);

  EcdsaSignature small;
  small.hash = kTpmAlgSha256;
  small.r = {0x00, 0x80};
  small.s = {0x01};
  EXPECT_EQ(encoding::HexEncode(*SignatureToDer(small)),
            "3007020200800201"
            "01");
  small.s = {0x00};
  EXPECT_FALSE(SignatureToDer(small).ok());

  Bytes bad = raw;
  bad[1] = 0x14;  // RSASSA
  EXPECT_EQ(ParseSignature(bad).status().message(),
            "tpmt_signature: unsupported signature algorithm 0x0014 (only "
            "ECDSA 0x0018)");
  bad = raw;
  bad[3] = 0x0c;  // SHA-384
  EXPECT_EQ(ParseSignature(bad).status().message(),
            "tpmt_signature: hash 0x000c is not SHA-256");
  for (size_t n = 0; n < raw.size(); ++n) {
    EXPECT_FALSE(ParseSignature(ByteView(raw.data(), n)).ok()) << n;
  }
}

TEST(WireTest, ParsesAkPublic) {
  const Bytes raw = Testdata("tpm2tools_ak.pub");
  absl::StatusOr<AkPublic> ak = ParseAkPublic(raw);
  ASSERT_TRUE(ak.ok()) << ak.status();
  EXPECT_EQ(ak->sec1_point[0], 0x04);
  EXPECT_EQ(ak->name.size(), 34u);
  // tpm2_createak -n printed this name for the key.
  EXPECT_EQ(
      encoding::HexEncode(ak->name),
      "000b1a56ee1db7989215d7ec39a104c4a7a127bf337da10d8d7bc80c932109d99a60");
  EXPECT_EQ(ak->SubjectPublicKeyInfo().size(), 91u);
}

TEST(WireTest, AkPublicAttributesAreEnforced) {
  const Bytes raw = Testdata("tpm2tools_ak.pub");
  // objectAttributes at offset 2 (size) + 2 (type) + 2 (nameAlg) = 6..9,
  // 0x00050072 here.
  auto with_attrs = [&](uint32_t a) {
    Bytes b = raw;
    b[6] = static_cast<uint8_t>(a >> 24);
    b[7] = static_cast<uint8_t>(a >> 16);
    b[8] = static_cast<uint8_t>(a >> 8);
    b[9] = static_cast<uint8_t>(a);
    return std::string(ParseAkPublic(b).status().message());
  };
  EXPECT_EQ(with_attrs(0x00040072), "ak public: key is not restricted");
  EXPECT_EQ(with_attrs(0x00010072), "ak public: key is not a signing key");
  EXPECT_EQ(with_attrs(0x00070072), "ak public: key can also decrypt");
  EXPECT_EQ(with_attrs(0x00050070),
            "ak public: key is not fixedTPM and fixedParent");
  EXPECT_EQ(with_attrs(0x00050052),
            "ak public: key was not generated by the TPM");
  Bytes bad = raw;
  bad[3] = 0x01;  // RSA
  EXPECT_EQ(ParseAkPublic(bad).status().message(),
            "ak public: type 0x0001 is not ECC");
  for (size_t n = 0; n < raw.size(); ++n) {
    EXPECT_FALSE(ParseAkPublic(ByteView(raw.data(), n)).ok()) << n;
  }
}

}  // namespace
}  // namespace virtengine::attest
