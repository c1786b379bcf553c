#include "src/common/encoding/big_endian.h"

#include "gtest/gtest.h"

namespace virtengine::encoding {
namespace {

TEST(BigEndianTest, RoundTripsAndOrdersLikeNumbers) {
  EXPECT_EQ(BigEndian64(0x0102030405060708ULL),
            std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{255}, uint64_t{256},
                     uint64_t{0xdeadbeef}, ~uint64_t{0}}) {
    EXPECT_EQ(ReadBigEndian64(BigEndian64(v)), v);
    EXPECT_EQ(ReadBigEndian64("xx" + BigEndian64(v), 2), v);
  }
  // Byte order is numeric order.
  EXPECT_LT(BigEndian64(255), BigEndian64(256));
  EXPECT_LT(BigEndian64(1), BigEndian64(~uint64_t{0}));
}

}  // namespace
}  // namespace virtengine::encoding
