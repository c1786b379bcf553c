#include "security/crypto/random.h"

#include <gtest/gtest.h>

#include <set>

namespace virtengine::crypto {
namespace {

TEST(RandomTest, BytesDiffer) {
  // Two 32-byte draws colliding has probability 2^-256.
  EXPECT_NE(RandomBytes(32), RandomBytes(32));
  EXPECT_EQ(RandomBytes(0).size(), 0u);
}

TEST(RandomTest, UniformStaysInRangeAndCoversIt) {
  std::set<uint32_t> seen;
  for (int i = 0; i < 2000; ++i) {
    uint32_t v = RandomUniform(10);
    ASSERT_LT(v, 10u);
    seen.insert(v);
  }
  // Missing a value in 2000 draws has probability < 10 * 0.9^2000.
  EXPECT_EQ(seen.size(), 10u);
}

TEST(RandomTest, SecretHasRequestedSize) {
  SecretBytes s = RandomSecret(24);
  EXPECT_EQ(s.size(), 24u);
  EXPECT_FALSE(s.Equals(RandomSecret(24)));
}

}  // namespace
}  // namespace virtengine::crypto
