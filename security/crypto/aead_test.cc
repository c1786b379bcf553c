#include "security/crypto/aead.h"

#include <gtest/gtest.h>

namespace virtengine::crypto {
namespace {

namespace v1 = ::virtengine::security::crypto::v1;

TEST(AeadTest, RoundTripAndFreshNonces) {
  auto aead = Aead::Create(v1::KEY_WRAP, Aead::GenerateKey());
  ASSERT_TRUE(aead.ok()) << aead.status();
  auto a = aead->Seal(AsBytes("node key seed"), AsBytes("key-id-1"));
  auto b = aead->Seal(AsBytes("node key seed"), AsBytes("key-id-1"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 13 + Aead::kOverhead);
  EXPECT_NE(*a, *b);  // random nonce each time
  auto plain = aead->Open(*a, AsBytes("key-id-1"));
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(AsChars(plain->view()), "node key seed");
}

TEST(AeadTest, DetectsTamperingAndWrongContext) {
  auto aead = Aead::Create(v1::KEY_WRAP, Aead::GenerateKey());
  ASSERT_TRUE(aead.ok());
  auto sealed = aead->Seal(AsBytes("secret"), AsBytes("ctx"));
  ASSERT_TRUE(sealed.ok());
  for (size_t i = 0; i < sealed->size(); ++i) {
    Bytes t = *sealed;
    t[i] ^= 1;
    EXPECT_EQ(aead->Open(t, AsBytes("ctx")).status().code(),
              absl::StatusCode::kUnauthenticated)
        << "byte " << i;
  }
  EXPECT_EQ(aead->Open(*sealed, AsBytes("other")).status().code(),
            absl::StatusCode::kUnauthenticated);
  auto other = Aead::Create(v1::KEY_WRAP, Aead::GenerateKey());
  EXPECT_EQ(other->Open(*sealed, AsBytes("ctx")).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(aead->Open(Bytes(10), AsBytes("ctx")).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AeadTest, RefusesBadKeyAndPurpose) {
  EXPECT_FALSE(Aead::Create(v1::KEY_WRAP, SecretBytes(16)).ok());
  EXPECT_EQ(Aead::Create(v1::ENVELOPE, Aead::GenerateKey()).status().code(),
            absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace virtengine::crypto
