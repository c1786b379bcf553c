// Receipts: a real ledger commits a block, its receipt goes through the
// `receipt get` JSON formatter into a file, and `vectl receipt verify`
// (offline) accepts it; flipping one byte of the tx hash, an audit path
// entry, the root or the signature makes it fail with the reason.
#include <gtest/gtest.h>

#include <string>

#include "src/cli/receipt_json.h"
#include "src/cli/test_util.h"
#include "src/common/encoding/hex.h"
#include "src/ledger/chain/ledger.h"

namespace virtengine::cli {
namespace {

using testutil::RunResult;
using testutil::Vectl;

// Changes the first hex digit after `"<key>":"` (or `"<key>":["`).
std::string FlipHexAfter(std::string json, const std::string& key) {
  size_t at = json.find("\"" + key + "\":\"");
  size_t skip = key.size() + 4;
  if (at == std::string::npos) {
    at = json.find("\"" + key + "\":[\"");
    skip = key.size() + 5;
  }
  EXPECT_NE(at, std::string::npos) << key;
  char& c = json[at + skip];
  c = c == '0' ? '1' : '0';
  return json;
}

std::string Replace(std::string s, const std::string& from,
                    const std::string& to) {
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

class ReceiptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::NewDir("receipt");
    chain_ = testutil::NewChain(dir_ + "/db");
    receipt_ = testutil::CommitAndGetReceipt(chain_);
    ASSERT_EQ(receipt_.audit_path_size(), 2);
    auto json = ReceiptToJson(receipt_);
    ASSERT_TRUE(json.ok()) << json.status();
    json_ = *json;
    node_key_hex_ = encoding::HexEncode(chain_.node_public_key());
    env_ = testutil::MakeEnv(dir_ + "/home");
  }

  RunResult Verify(const std::string& json, bool with_key = true) {
    const std::string file = dir_ + "/r" + std::to_string(n_++) + ".json";
    testutil::WriteFile(file, json + "\n");
    std::vector<std::string> args = {"receipt", "verify", file};
    if (with_key) {
      args.push_back("--node-key");
      args.push_back(node_key_hex_);
    }
    return Vectl(env_, args);
  }

  void ExpectRefused(const std::string& json, const std::string& reason) {
    RunResult r = Verify(json);
    EXPECT_EQ(r.code, kExitRuntime) << r.out << r.err;
    EXPECT_EQ(r.out.find("FAILED: "), 0u) << r.out;
    EXPECT_NE(r.out.find(reason), std::string::npos)
        << "out: " << r.out << " wanted: " << reason;
    EXPECT_NE(r.err.find("receipt does not verify"), std::string::npos);
  }

  std::string dir_;
  testutil::TestChain chain_;
  ledger::v1::Receipt receipt_;
  std::string json_;
  std::string node_key_hex_;
  Env env_;
  int n_ = 0;
};

TEST_F(ReceiptTest, JsonHasTheDesignShapeAndRoundTrips) {
  for (const char* member :
       {"\"tx_hash\":\"", "\"leaf_index\":1,", "\"tree_size\":3,",
        "\"leaf_hash\":\"", "\"audit_path\":[\"", "\"root\":\"",
        "\"header\":{\"header_bytes\":\"", "\"chain_id\":\"virtengine-test-1\"",
        "\"height\":1,", "\"time_unix_nano\":5000,", "\"ledger_size\":3,",
        "\"previous_hash\":\"\"", "\"signature\":\"", "\"signer_key\":\""}) {
    EXPECT_NE(json_.find(member), std::string::npos)
        << member << " in " << json_;
  }
  EXPECT_NE(json_.find("\"signer_key\":\"" + node_key_hex_ + "\""),
            std::string::npos);
  EXPECT_NE(
      json_.find("\"tx_hash\":\"" + encoding::HexEncode(receipt_.tx_hash())),
      std::string::npos);
  auto back = ReceiptFromJson(json_);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->SerializeAsString(), receipt_.SerializeAsString());
  EXPECT_EQ(*ReceiptToJson(*back), json_);
  EXPECT_TRUE(ledger::VerifyReceipt(*back, chain_.node_public_key()).ok());
}

TEST_F(ReceiptTest, VerifyAcceptsTheRealReceipt) {
  RunResult r = Verify(json_);
  EXPECT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_EQ(r.out.find("OK: tx " + encoding::HexEncode(receipt_.tx_hash()) +
                       " is leaf 1 of 3 in the ledger at height 1"),
            0u)
      << r.out;
  EXPECT_TRUE(r.err.empty()) << r.err;
  // Without --node-key: OK, with a warning naming the key used.
  r = Verify(json_, false);
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_NE(r.err.find("warning: no --node-key"), std::string::npos);
  EXPECT_NE(r.err.find(node_key_hex_), std::string::npos);
  // JSON output.
  const std::string file = dir_ + "/ok.json";
  testutil::WriteFile(file, json_);
  r = Vectl(env_, {"receipt", "verify", file, "--node-key", node_key_hex_,
                   "--output", "json"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out.find("{\"ok\":true,\"tx_hash\":\""), 0u) << r.out;
  EXPECT_NE(r.out.find("\"node_key_pinned\":true}"), std::string::npos);
}

TEST_F(ReceiptTest, FlippedBytesAreRefusedWithTheReason) {
  ExpectRefused(FlipHexAfter(json_, "tx_hash"),
                "receipt: leaf hash is not the RFC 6962 hash of the tx hash");
  ExpectRefused(FlipHexAfter(json_, "audit_path"), "root mismatch");
  ExpectRefused(FlipHexAfter(json_, "root"),
                "receipt: root or tree size differs from the signed header");
  ExpectRefused(FlipHexAfter(json_, "signature"), "receipt: header signature");
  ExpectRefused(FlipHexAfter(json_, "leaf_hash"),
                "receipt: leaf hash is not the RFC 6962 hash of the tx hash");
  // The decoded header must say what header_bytes says.
  ExpectRefused(Replace(json_, "\"height\":1,", "\"height\":2,"),
                "receipt: header.height: differs from the value in "
                "header_bytes");
  ExpectRefused(Replace(json_, "\"leaf_index\":1,", "\"leaf_index\":0,"),
                "root mismatch");
  ExpectRefused(Replace(json_, "\"tree_size\":3,", "\"tree_size\":4,"),
                "receipt: root or tree size differs from the signed header");
  // Another node's key.
  std::string other = node_key_hex_;
  other[0] = other[0] == '0' ? '1' : '0';
  const std::string file = dir_ + "/other.json";
  testutil::WriteFile(file, json_);
  RunResult r = Vectl(env_, {"receipt", "verify", file, "--node-key", other});
  EXPECT_EQ(r.code, kExitRuntime);
  EXPECT_NE(r.out.find("header signed by another key"), std::string::npos)
      << r.out;
  r = Vectl(env_, {"receipt", "verify", file, "--node-key", other, "--output",
                   "json"});
  EXPECT_EQ(r.code, kExitRuntime);
  EXPECT_EQ(r.out.find("{\"ok\":false,\"reason\":\"receipt: header signed by "
                       "another key"),
            0u)
      << r.out;
}

TEST_F(ReceiptTest, MalformedFilesAreRefusedStrictly) {
  ExpectRefused("not json", "receipt: json: byte 0");
  ExpectRefused(Replace(json_, "{\"tx_hash\"", "{\"extra\":1,\"tx_hash\""),
                "receipt: top level: unknown member \"extra\"");
  ExpectRefused(Replace(json_, ",\"signer_key\":\"" + node_key_hex_ + "\"", ""),
                "receipt: top level: missing member \"signer_key\"");
  ExpectRefused(Replace(json_, "\"signer_key\":\"" + node_key_hex_,
                        "\"signer_key\":\"" + std::string(64, 'a')),
                "receipt: signer_key: differs from the header's proposer");
  std::string upper = json_;
  const size_t at = upper.find("\"root\":\"") + 8;
  for (size_t i = at; i < at + 64; ++i) {
    if (upper[i] >= 'a' && upper[i] <= 'f') {
      upper[i] = static_cast<char>(upper[i] - 'a' + 'A');
      break;
    }
  }
  ExpectRefused(upper, "receipt: root: hex must be lowercase");
  ExpectRefused(Replace(json_, "\"leaf_index\":1,", "\"leaf_index\":1.0,"),
                "receipt: leaf_index:");
  ExpectRefused(Replace(json_, "\"leaf_index\":1,", "\"leaf_index\":\"1\","),
                "receipt: leaf_index: expected an integer, found a string");
  ExpectRefused(Replace(json_, "\"audit_path\":[\"", "\"audit_path\":[\"00"),
                "receipt: audit_path[0]");
  // Oversize file: refused before parsing (usage-level: unreadable input).
  const std::string big = dir_ + "/big.json";
  testutil::WriteFile(big, std::string(kMaxReceiptJsonBytes + 1, ' '));
  RunResult r = Vectl(env_, {"receipt", "verify", big});
  EXPECT_EQ(r.code, kExitUsage) << r.err;
}

}  // namespace
}  // namespace virtengine::cli
