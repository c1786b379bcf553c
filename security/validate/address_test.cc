#include "security/validate/address.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "src/common/encoding/bech32.h"

namespace virtengine::validate {
namespace {

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

// 20 bytes 0x00..0x13 under "ve" (see encoding/bech32_test.cc).
constexpr char kAddr[] = "ve1qqqsyqcyq5rqwzqfpg9scrgwpugpzysnlt2w73";

std::vector<uint8_t> Seq(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i);
  return v;
}

TEST(AddressTest, AcceptsCanonicalAddress) {
  auto payload = ValidateAddress("recipient", kAddr);
  ASSERT_TRUE(payload.ok()) << payload.status();
  EXPECT_EQ(*payload, Seq(20));
}

TEST(AddressTest, RejectsUppercaseSpelling) {
  std::string upper = kAddr;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  EXPECT_EQ(Msg(ValidateAddress("recipient", upper).status()),
            "recipient: address must be lowercase ('V' at position 0)");
  std::string one_upper = kAddr;
  one_upper[10] = 'Q';
  EXPECT_EQ(Msg(ValidateAddress("recipient", one_upper).status()),
            "recipient: address must be lowercase ('Q' at position 10)");
}

TEST(AddressTest, RejectsWrongPrefix) {
  auto cosmos = encoding::Bech32Encode("cosmos", Seq(20));
  ASSERT_TRUE(cosmos.ok());
  const absl::Status s = ValidateAddress("recipient", *cosmos).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Msg(s),
            "recipient: address prefix \"cosmos\" is not the expected \"ve\"");
}

TEST(AddressTest, RejectsWrongPayloadLength) {
  auto long_addr = encoding::Bech32Encode("ve", Seq(32));
  ASSERT_TRUE(long_addr.ok());
  EXPECT_EQ(Msg(ValidateAddress("recipient", *long_addr).status()),
            "recipient: address payload is 32 bytes, want 20");
  // ...which a caller expecting 32-byte (module) addresses accepts.
  auto module = ValidateAddress("module", *long_addr, "ve", 32);
  ASSERT_TRUE(module.ok()) << module.status();
  EXPECT_EQ(*module, Seq(32));
}

TEST(AddressTest, ReportsBech32Errors) {
  std::string typo = kAddr;
  typo[5] = typo[5] == 'q' ? 'p' : 'q';
  EXPECT_EQ(Msg(ValidateAddress("recipient", typo).status()),
            "recipient: invalid address: bech32: checksum mismatch");
  EXPECT_EQ(Msg(ValidateAddress("recipient", "").status()),
            "recipient: empty address");
  EXPECT_EQ(Msg(ValidateAddress("recipient", "ve").status()),
            "recipient: invalid address: bech32: no separator '1'");
  EXPECT_EQ(Msg(ValidateAddress("recipient",
                                "ve1qqqsyqcyq5rqwzqfpg9scrgwpugpzysn"
                                "lt2w7b")
                    .status()),
            "recipient: invalid address: bech32: invalid data character 'b' "
            "at position 40");
  EXPECT_EQ(Msg(ValidateAddress("recipient", std::string(4096, 'Q')).status()),
            "recipient: invalid address: bech32: length 4096 exceeds maximum "
            "90");
}

}  // namespace
}  // namespace virtengine::validate
