#include "security/validate/identifier.h"

#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace virtengine::validate {
namespace {

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

TEST(IdentifierTest, LowerIdentifier) {
  EXPECT_TRUE(ValidateIdentifier("module", "bank", kLowerIdentifier).ok());
  EXPECT_TRUE(ValidateIdentifier("module", "max_gas_2", kLowerIdentifier).ok());
  EXPECT_TRUE(
      ValidateIdentifier("module", std::string(64, 'a'), kLowerIdentifier)
          .ok());
  EXPECT_EQ(Msg(ValidateIdentifier("module", "", kLowerIdentifier)),
            "module: length 0 is below minimum 1");
  EXPECT_EQ(
      Msg(ValidateIdentifier("module", std::string(65, 'a'), kLowerIdentifier)),
      "module: length 65 exceeds maximum 64");
  EXPECT_EQ(Msg(ValidateIdentifier("module", "2fa", kLowerIdentifier)),
            "module: invalid character '2' at position 0; allowed: [a-z]");
  EXPECT_EQ(Msg(ValidateIdentifier("module", "_bank", kLowerIdentifier)),
            "module: invalid character '_' at position 0; allowed: [a-z]");
  EXPECT_EQ(Msg(ValidateIdentifier("module", "Bank", kLowerIdentifier)),
            "module: invalid character 'B' at position 0; allowed: [a-z]");
  EXPECT_EQ(Msg(ValidateIdentifier("module", "ba nk", kLowerIdentifier)),
            "module: invalid character 0x20 at position 2; allowed: "
            "[a-z0-9_]");
  EXPECT_EQ(Msg(ValidateIdentifier("module", "bank\xc3\xa9", kLowerIdentifier)),
            "module: invalid character 0xc3 at position 4; allowed: "
            "[a-z0-9_]");
  EXPECT_EQ(Msg(ValidateIdentifier("module", std::string("ba\0nk", 5),
                                   kLowerIdentifier)),
            "module: invalid character 0x00 at position 2; allowed: [a-z0-9_]");
}

TEST(IdentifierTest, ChainId) {
  EXPECT_TRUE(ValidateIdentifier("chain_id", "virtengine-1", kChainId).ok());
  EXPECT_TRUE(ValidateIdentifier("chain_id", "1", kChainId).ok());
  EXPECT_EQ(Msg(ValidateIdentifier("chain_id", "-net", kChainId)),
            "chain_id: invalid character '-' at position 0; allowed: "
            "[a-z0-9]");
  EXPECT_EQ(Msg(ValidateIdentifier("chain_id", "ve_1", kChainId)),
            "chain_id: invalid character '_' at position 2; allowed: "
            "[a-z0-9-]");
  EXPECT_EQ(Msg(ValidateIdentifier("chain_id", std::string(49, 'a'), kChainId)),
            "chain_id: length 49 exceeds maximum 48");
}

TEST(IdentifierTest, Denom) {
  for (const char* ok : {"uve", "ibc/27394FB092D2ECCD56123C74F36E4C1F926001CE",
                         "factory/ve1abc/token", "Stake", "a.b:c-d_e"}) {
    EXPECT_TRUE(ValidateIdentifier("denom", ok, kDenom).ok()) << ok;
  }
  EXPECT_EQ(Msg(ValidateIdentifier("denom", "ab", kDenom)),
            "denom: length 2 is below minimum 3");
  EXPECT_EQ(Msg(ValidateIdentifier("denom", "1uve", kDenom)),
            "denom: invalid character '1' at position 0; allowed: [a-zA-Z]");
  EXPECT_EQ(Msg(ValidateIdentifier("denom", "u$ve", kDenom)),
            "denom: invalid character '$' at position 1; allowed: "
            "[a-zA-Z0-9/:._-]");
}

TEST(IdentifierTest, CustomPattern) {
  constexpr IdentifierPattern kHostLabel = {
      1, 63, kLower | kDigit, "", kLower | kDigit, "-"};
  EXPECT_TRUE(ValidateIdentifier("label", "node-7", kHostLabel).ok());
  EXPECT_EQ(DescribeCharSet(kUpper | kDigit, "-._"), "[A-Z0-9._-]");
}

}  // namespace
}  // namespace virtengine::validate
