#include "security/crypto/ed25519.h"

#include <gtest/gtest.h>

#include "security/crypto/test_util.h"

namespace virtengine::crypto {
namespace {

namespace v1 = ::virtengine::security::crypto::v1;
using testing::H;
using testing::Hex;

struct Vector {
  const char* seed;
  const char* pub;
  const char* msg;
  const char* sig;
};

// RFC 8032 section 7.1, TEST 1, 2 and 3.
const Vector kVectors[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
     "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
};

TEST(Ed25519Test, Rfc8032Vectors) {
  for (const Vector& v : kVectors) {
    auto key = Ed25519PrivateKey::FromSeed(v1::TX_SIGNATURE,
                                           SecretBytes::CopyFrom(H(v.seed)));
    ASSERT_TRUE(key.ok()) << key.status();
    EXPECT_EQ(Hex(key->public_key().bytes()), v.pub);
    Bytes msg = H(v.msg);
    auto sig = key->Sign(msg);
    ASSERT_TRUE(sig.ok());
    EXPECT_EQ(Hex(*sig), v.sig);
    auto pub = Ed25519PublicKey::FromBytes(H(v.pub));
    ASSERT_TRUE(pub.ok());
    EXPECT_TRUE(pub->Verify(v1::TX_SIGNATURE, msg, H(v.sig)).ok());
  }
}

TEST(Ed25519Test, RejectsTamperedMessageAndSignature) {
  auto key = Ed25519PrivateKey::Generate(v1::TX_SIGNATURE);
  ASSERT_TRUE(key.ok());
  auto sig = key->Sign(AsBytes("transfer 10 to ve1abc"));
  ASSERT_TRUE(sig.ok());
  const auto& pub = key->public_key();
  EXPECT_TRUE(pub.Verify(v1::TX_SIGNATURE, AsBytes("transfer 10 to ve1abc"),
                         ByteView(sig->data(), sig->size()))
                  .ok());
  EXPECT_EQ(pub.Verify(v1::TX_SIGNATURE, AsBytes("transfer 99 to ve1abc"),
                       ByteView(sig->data(), sig->size()))
                .code(),
            absl::StatusCode::kUnauthenticated);
  Ed25519Signature bad = *sig;
  bad[10] ^= 0x40;
  EXPECT_EQ(pub.Verify(v1::TX_SIGNATURE, AsBytes("transfer 10 to ve1abc"),
                       ByteView(bad.data(), bad.size()))
                .code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(pub.Verify(v1::TX_SIGNATURE, AsBytes("x"), AsBytes("short")).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Ed25519Test, RejectsNonCanonicalS) {
  // RFC 8032 TEST 1 signature with S + L (the group order): malleable forms
  // must not verify.
  Bytes sig = H(kVectors[0].sig);
  const Bytes l =
      H("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
  unsigned carry = 0;
  for (size_t i = 0; i < 32; ++i) {
    unsigned sum = sig[32 + i] + l[i] + carry;
    sig[32 + i] = static_cast<uint8_t>(sum);
    carry = sum >> 8;
  }
  auto pub = Ed25519PublicKey::FromBytes(H(kVectors[0].pub));
  ASSERT_TRUE(pub.ok());
  EXPECT_FALSE(pub->Verify(v1::TX_SIGNATURE, {}, sig).ok());
}

TEST(Ed25519Test, PolicyRefusesHashPurpose) {
  auto key = Ed25519PrivateKey::Generate(v1::MERKLE);
  EXPECT_EQ(key.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST(Ed25519Test, BadSizes) {
  EXPECT_FALSE(Ed25519PublicKey::FromBytes(H("00")).ok());
  EXPECT_FALSE(
      Ed25519PrivateKey::FromSeed(v1::TX_SIGNATURE, SecretBytes(31)).ok());
}

}  // namespace
}  // namespace virtengine::crypto
