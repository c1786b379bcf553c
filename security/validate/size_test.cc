#include "security/validate/size.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace virtengine::validate {
namespace {

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

TEST(SizeTest, AcceptsUpToTheLimit) {
  EXPECT_TRUE(CheckSize("memo", "", 0).ok());
  EXPECT_TRUE(CheckSize("memo", std::string(256, 'x'), 256).ok());
  EXPECT_TRUE(CheckSize("blob", std::vector<uint8_t>(10), 10).ok());
}

TEST(SizeTest, RejectsOverTheLimitNamingTheField) {
  const absl::Status s = CheckSize("memo", std::string(257, 'x'), 256);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Msg(s), "memo: size 257 bytes exceeds limit 256");
  EXPECT_EQ(Msg(CheckSize("blob", std::vector<uint8_t>(11), 10)),
            "blob: size 11 bytes exceeds limit 10");
  EXPECT_EQ(Msg(CheckSize("", "ab", 1)), "size 2 bytes exceeds limit 1");
}

TEST(SizeTest, CountsItems) {
  EXPECT_TRUE(CheckCount("signers", 8, 8).ok());
  EXPECT_EQ(Msg(CheckCount("signers", 9, 8)),
            "signers: 9 items exceeds limit 8");
}

}  // namespace
}  // namespace virtengine::validate
