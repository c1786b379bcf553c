#include "security/crypto/password.h"

#include <gtest/gtest.h>

#include "security/crypto/random.h"

namespace virtengine::crypto {
namespace {

TEST(PasswordTest, HashAndVerify) {
  SecretBytes pw = SecretBytes::CopyFrom(std::string_view("correct horse"));
  auto stored = HashPassword(pw);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->rfind("$argon2id$v=19$", 0), 0u) << *stored;
  EXPECT_TRUE(VerifyPassword(*stored, pw).ok());
  SecretBytes wrong = SecretBytes::CopyFrom(std::string_view("correct horsf"));
  EXPECT_EQ(VerifyPassword(*stored, wrong).code(),
            absl::StatusCode::kUnauthenticated);
  // A random salt: the same password hashes differently.
  EXPECT_NE(*HashPassword(pw), *stored);
}

TEST(PasswordTest, RefusesWeakCostAndGarbage) {
  SecretBytes pw = SecretBytes::CopyFrom(std::string_view("pw"));
  EXPECT_EQ(HashPassword(pw, Argon2Cost{1, 64u << 20}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HashPassword(pw, Argon2Cost{3, 1u << 20}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyPassword("$2b$10$notargon", pw).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PasswordTest, DeriveKeyIsDeterministicPerSalt) {
  SecretBytes pw = SecretBytes::CopyFrom(std::string_view("backup passphrase"));
  Bytes salt = RandomBytes(16);
  auto a = DeriveKeyFromPassword(pw, salt, 32);
  auto b = DeriveKeyFromPassword(pw, salt, 32);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(a->Equals(*b));
  auto c = DeriveKeyFromPassword(pw, RandomBytes(16), 32);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(a->Equals(*c));
  EXPECT_FALSE(DeriveKeyFromPassword(pw, RandomBytes(8), 32).ok());
}

}  // namespace
}  // namespace virtengine::crypto
