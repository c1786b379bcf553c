#include "security/crypto/secret_bytes.h"

#include <gtest/gtest.h>

#include <sstream>
#include <utility>

namespace virtengine::crypto {
namespace {

TEST(SecretBytesTest, NeverPrintsContent) {
  SecretBytes s = SecretBytes::CopyFrom(std::string_view("hunter2-secret"));
  std::ostringstream os;
  os << s;
  EXPECT_EQ(os.str(), "[secret: 14 bytes]");
  EXPECT_EQ(s.DebugString().find("hunter2"), std::string::npos);
}

TEST(SecretBytesTest, MoveLeavesSourceEmpty) {
  SecretBytes a = SecretBytes::CopyFrom(std::string_view("abc"));
  SecretBytes b = std::move(a);
  EXPECT_EQ(b.size(), 3u);
  EXPECT_EQ(AsChars(b.view()), "abc");
  SecretBytes c;
  c = std::move(b);
  EXPECT_EQ(AsChars(c.view()), "abc");
}

TEST(SecretBytesTest, CloneIsEqualAndIndependent) {
  SecretBytes a = SecretBytes::CopyFrom(std::string_view("key material"));
  SecretBytes b = a.Clone();
  EXPECT_TRUE(a.Equals(b));
  b.mutable_data()[0] ^= 1;
  EXPECT_FALSE(a.Equals(b));
}

TEST(SecretBytesTest, SecureWipeZeroes) {
  uint8_t buf[16];
  for (uint8_t& b : buf) b = 0xAA;
  SecureWipe(buf, sizeof buf);
  for (uint8_t b : buf) EXPECT_EQ(b, 0);
}

TEST(ConstantTimeEqualsTest, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals(AsBytes("abc"), AsBytes("abc")));
  EXPECT_FALSE(ConstantTimeEquals(AsBytes("abc"), AsBytes("abd")));
  EXPECT_FALSE(ConstantTimeEquals(AsBytes("abc"), AsBytes("abcd")));
  EXPECT_TRUE(ConstantTimeEquals(AsBytes(""), AsBytes("")));
}

}  // namespace
}  // namespace virtengine::crypto
