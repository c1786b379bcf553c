#include "security/crypto/hash.h"

#include <gtest/gtest.h>

#include "security/crypto/test_util.h"

namespace virtengine::crypto {
namespace {

namespace v1 = ::virtengine::security::crypto::v1;
using testing::H;
using testing::Hex;

TEST(HashTest, Sha256Vector) {  // FIPS 180-2 "abc"
  auto d = Sha256(v1::CONTENT_HASH, AsBytes("abc"));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(Hex(*d),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(HashTest, Sha512Vector) {
  auto d = Sha512(v1::CONTENT_HASH, AsBytes("abc"));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(Hex(*d),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}

TEST(HashTest, Blake2bVector) {  // RFC 7693 Appendix A: BLAKE2b-512("abc")
  auto d = Blake2b(v1::CONTENT_HASH, AsBytes("abc"), 64);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(Hex(*d),
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
            "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
  EXPECT_FALSE(Blake2b(v1::CONTENT_HASH, AsBytes("abc"), 8).ok());
  EXPECT_FALSE(Blake2b(v1::CONTENT_HASH, AsBytes("abc"), 65).ok());
}

TEST(HashTest, StreamEqualsOneShot) {
  auto s = Sha256Stream::Create(v1::AUDIT_CHAIN);
  ASSERT_TRUE(s.ok());
  s->Update(AsBytes("a"));
  s->Update(AsBytes("bc"));
  EXPECT_EQ(Hex(s->Finish()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(HashTest, PolicyRefusesWrongPurpose) {
  // The shipped policy allows only SHA-256 for Merkle hashing.
  auto d = Sha512(v1::MERKLE, AsBytes("abc"));
  EXPECT_EQ(d.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(d.status().message().find("SHA512 is not allowed for MERKLE"),
            std::string::npos)
      << d.status();
}

TEST(HkdfTest, Rfc5869Case1) {
  SecretBytes ikm =
      SecretBytes::CopyFrom(H("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"));
  auto okm =
      HkdfSha256(v1::KEY_DERIVATION, ikm, H("000102030405060708090a0b0c"),
                 H("f0f1f2f3f4f5f6f7f8f9"), 42);
  ASSERT_TRUE(okm.ok()) << okm.status();
  EXPECT_EQ(Hex(okm->view()),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
            "34007208d5b887185865");
}

// Test case 3: empty salt and info (RFC 5869: salt = HashLen zero bytes).
TEST(HkdfTest, Rfc5869Case3EmptySaltAndInfo) {
  SecretBytes ikm =
      SecretBytes::CopyFrom(H("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"));
  auto okm = HkdfSha256(v1::KEY_DERIVATION, ikm, {}, {}, 42);
  ASSERT_TRUE(okm.ok()) << okm.status();
  EXPECT_EQ(Hex(okm->view()),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
            "9d201395faa4b61a96c8");
  auto zero_salt =
      HkdfSha256(v1::KEY_DERIVATION, ikm, H(std::string(64, '0')), {}, 42);
  ASSERT_TRUE(zero_salt.ok());
  EXPECT_EQ(Hex(zero_salt->view()), Hex(okm->view()));
}

TEST(HkdfTest, RefusesShortIkmAndBadLength) {
  SecretBytes short_ikm = SecretBytes::CopyFrom(H("0b0b0b0b"));
  EXPECT_EQ(
      HkdfSha256(v1::KEY_DERIVATION, short_ikm, {}, {}, 32).status().code(),
      absl::StatusCode::kInvalidArgument);
  SecretBytes ikm =
      SecretBytes::CopyFrom(H("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"));
  EXPECT_FALSE(HkdfSha256(v1::KEY_DERIVATION, ikm, {}, {}, 0).ok());
  EXPECT_FALSE(HkdfSha256(v1::KEY_DERIVATION, ikm, {}, {}, 8161).ok());
  EXPECT_EQ(HkdfSha256(v1::MERKLE, ikm, {}, {}, 32).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(HmacTest, Sha256Rfc4231Case1) {
  SecretBytes key =
      SecretBytes::CopyFrom(H("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"));
  auto tag = HmacSha256(v1::MESSAGE_AUTH, key, AsBytes("Hi There"));
  ASSERT_TRUE(tag.ok()) << tag.status();
  EXPECT_EQ(Hex(*tag),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_TRUE(VerifyHmacSha256(v1::MESSAGE_AUTH, key, AsBytes("Hi There"),
                               ByteView(tag->data(), tag->size()))
                  .ok());
  Digest32 bad = *tag;
  bad[31] ^= 1;
  EXPECT_EQ(VerifyHmacSha256(v1::MESSAGE_AUTH, key, AsBytes("Hi There"),
                             ByteView(bad.data(), bad.size()))
                .code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(HmacTest, Sha1Rfc2202Case1OnlyForTotp) {
  SecretBytes key =
      SecretBytes::CopyFrom(H("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"));
  auto tag = HmacSha1(v1::MFA_TOTP, key, AsBytes("Hi There"));
  ASSERT_TRUE(tag.ok()) << tag.status();
  EXPECT_EQ(Hex(*tag), "b617318655057264e28bc0b6fb378c8ef146be00");
  EXPECT_EQ(
      HmacSha1(v1::MESSAGE_AUTH, key, AsBytes("Hi There")).status().code(),
      absl::StatusCode::kPermissionDenied);
}

TEST(HmacTest, RefusesShortKey) {  // RFC 4231 case 2 uses "Jefe": too short
  SecretBytes key = SecretBytes::CopyFrom(std::string_view("Jefe"));
  EXPECT_EQ(HmacSha256(v1::MESSAGE_AUTH, key, AsBytes("what do ya want"))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace virtengine::crypto
