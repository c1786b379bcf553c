#include "security/crypto/policy.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "security/crypto/hash.h"
#include "security/crypto/test_util.h"

namespace virtengine::crypto {
namespace {

namespace v1 = ::virtengine::security::crypto::v1;

std::string ShippedPolicyText() {
  std::ifstream in("policy/crypto/crypto_policy.textproto");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

constexpr char kTail[] =
    "min_hmac_key_bytes: 16 min_hkdf_ikm_bytes: 16 "
    "argon2id { min_ops_limit: 2 min_mem_limit_bytes: 67108864 }\n";

std::string WithTail(const std::string& body) {
  return "version: 1\n" + body + "\n" + kTail;
}

TEST(PolicyTest, ShippedFileParsesAndIsTheEmbeddedOne) {
  std::string text = ShippedPolicyText();
  ASSERT_FALSE(text.empty());
  auto p = CryptoPolicy::Parse(text);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->sha256_hex(), CryptoPolicy::Embedded().sha256_hex());
  auto digest = Sha256(v1::CONTENT_HASH, AsBytes(text));
  ASSERT_TRUE(digest.ok());
  EXPECT_EQ(p->sha256_hex(), testing::Hex(*digest));
  EXPECT_TRUE(p->Check(v1::TX_SIGNATURE, v1::ED25519).ok());
  EXPECT_EQ(p->Check(v1::TX_SIGNATURE, v1::ECDSA_P256_SHA256).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(p->Check(v1::CONTENT_HASH, v1::SHA1).code(),
            absl::StatusCode::kPermissionDenied);
}

struct BadCase {
  std::string text;
  std::string reason;
};

TEST(PolicyTest, RefusesInvalidPolicies) {
  const BadCase cases[] = {
      {"version: 2\n" + std::string(kTail), "unsupported version 2"},
      {WithTail("rule { purpose: MERKLE allow: ED25519 }"),
       "wrong kind of algorithm"},
      {WithTail("forbidden: SHA256 rule { purpose: MERKLE allow: SHA256 }"),
       "allows forbidden algorithm SHA256"},
      {WithTail("rule { purpose: CONTENT_HASH allow: MD5 }"),
       "does not implement"},
      {WithTail("rule { purpose: MESSAGE_AUTH allow: HMAC_SHA1 }"),
       "HMAC_SHA1 is allowed only for MFA_TOTP"},
      {WithTail("rule { purpose: MERKLE allow: SHA256 } "
                "rule { purpose: MERKLE allow: SHA256 }"),
       "duplicate rule"},
      {WithTail("rule { purpose: MERKLE }"), "allows no algorithm"},
      {WithTail("rule { allow: SHA256 }"), "unspecified purpose"},
      {WithTail("rule { purpose: MERKLE allow: SHA3 }"), "syntax"},
      {WithTail("bogus_field: 1"), "syntax"},
      {"version: 1 min_hmac_key_bytes: 8 min_hkdf_ikm_bytes: 16 "
       "argon2id { min_ops_limit: 2 min_mem_limit_bytes: 67108864 }",
       "min_hmac_key_bytes"},
      {"version: 1 min_hmac_key_bytes: 16 min_hkdf_ikm_bytes: 16 "
       "argon2id { min_ops_limit: 1 min_mem_limit_bytes: 67108864 }",
       "min_ops_limit"},
      {std::string(CryptoPolicy::kMaxPolicyBytes + 1, '#'), "exceeds limit"},
  };
  for (const BadCase& c : cases) {
    auto p = CryptoPolicy::Parse(c.text);
    ASSERT_FALSE(p.ok()) << c.text;
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(p.status().message().find(c.reason), std::string::npos)
        << "want '" << c.reason << "' in: " << p.status();
  }
}

TEST(PolicyTest, InstalledPolicyIsEnforcedAtEveryCall) {
  auto strict = CryptoPolicy::Parse(
      WithTail("rule { purpose: CONTENT_HASH allow: BLAKE2B }"));
  ASSERT_TRUE(strict.ok()) << strict.status();
  const std::string shipped = ActivePolicy()->sha256_hex();
  InstallPolicy(*strict);
  EXPECT_NE(ActivePolicy()->sha256_hex(), shipped);
  EXPECT_EQ(Sha256(v1::CONTENT_HASH, AsBytes("x")).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Blake2b(v1::CONTENT_HASH, AsBytes("x"), 32).ok());
  InstallPolicy(CryptoPolicy::Embedded());
  EXPECT_TRUE(Sha256(v1::CONTENT_HASH, AsBytes("x")).ok());
}

}  // namespace
}  // namespace virtengine::crypto
