// `vectl tx bank send --dry-run`: the printed tx is accepted by the ledger's
// own DecodeTx + VerifyTxSignature for the chain id, carries the expected
// MsgSend, and was signed by the key store's key.
#include "src/ledger/tx/tx.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "src/api/bank/v1/bank.pb.h"
#include "src/cli/test_util.h"
#include "src/common/encoding/hex.h"

namespace virtengine::cli {
namespace {

using testutil::RunResult;
using testutil::Vectl;

constexpr char kBob[] = "ve1y8lrrhap2j3xzcntlp2qgm7jyudhhm2tyrvzn3";

ledger::DecodedTx DecodeHex(const std::string& line) {
  EXPECT_FALSE(line.empty());
  auto raw = encoding::HexDecode(line.substr(0, line.size() - 1), 1 << 20);
  EXPECT_TRUE(raw.ok()) << raw.status();
  auto tx = ledger::DecodeTx(std::string(raw->begin(), raw->end()));
  EXPECT_TRUE(tx.ok()) << tx.status();
  return tx.ok() ? *tx : ledger::DecodedTx();
}

TEST(TxBankSend, DryRunProducesAValidSignedMsgSend) {
  const std::string dir = testutil::NewDir("tx");
  Env env = testutil::MakeEnv(dir + "/home");
  ASSERT_EQ(Vectl(env, {"keys", "add", "alice"}).code, kExitOk);
  RunResult show = Vectl(env, {"keys", "show", "alice", "--address"});
  const std::string alice = show.out.substr(0, show.out.size() - 1);

  RunResult r = Vectl(
      env, {"tx", "bank", "send", "alice", kBob, "1234uve", "--chain-id",
            "virtengine-test-1", "--sequence", "7", "--memo",
            "rent for m\xc3\xa4rz", "--timeout-height", "99", "--dry-run"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  ledger::DecodedTx tx = DecodeHex(r.out);
  EXPECT_TRUE(ledger::VerifyTxSignature(tx, "virtengine-test-1").ok());
  EXPECT_EQ(ledger::VerifyTxSignature(tx, "virtengine-test-2").code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(tx.signer_address, alice);
  EXPECT_EQ(tx.auth_info.sequence(), 7u);
  EXPECT_EQ(tx.auth_info.fee().amount(), 10u);  // the documented default
  EXPECT_EQ(tx.auth_info.fee().denom(), "uve");
  EXPECT_EQ(tx.body.memo(), "rent for m\xc3\xa4rz");
  EXPECT_EQ(tx.body.timeout_height(), 99u);
  ASSERT_EQ(tx.body.messages_size(), 1);
  EXPECT_EQ(tx.body.messages(0).type_url(), "/virtengine.bank.v1.MsgSend");
  bank::v1::MsgSend send;
  ASSERT_TRUE(send.ParseFromString(tx.body.messages(0).value()));
  EXPECT_EQ(send.from_address(), alice);
  EXPECT_EQ(send.to_address(), kBob);
  EXPECT_EQ(send.amount().amount(), 1234u);
  EXPECT_EQ(send.amount().denom(), "uve");

  // JSON: the same kind of tx with its hash.
  r = Vectl(env, {"tx", "bank", "send", "alice", kBob, "5uve", "--fee", "25uve",
                  "--chain-id", "c-1", "--sequence", "0", "--dry-run",
                  "--output", "json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const std::string prefix = "{\"tx\":\"";
  ASSERT_EQ(r.out.find(prefix), 0u) << r.out;
  const size_t end = r.out.find('"', prefix.size());
  ledger::DecodedTx tx2 =
      DecodeHex(r.out.substr(prefix.size(), end - prefix.size()) + "\n");
  EXPECT_TRUE(ledger::VerifyTxSignature(tx2, "c-1").ok());
  EXPECT_EQ(tx2.auth_info.fee().amount(), 25u);
  EXPECT_NE(r.out.find("\"tx_hash\":\"" + ledger::HexOf(tx2.hash) + "\""),
            std::string::npos);
  EXPECT_NE(r.out.find("\"chain_id\":\"c-1\",\"sequence\":0}"),
            std::string::npos);
}

TEST(TxBankSend, DryRunWithoutChainIdAsksTheNode) {
  const std::string dir = testutil::NewDir("tx-node");
  Env env = testutil::MakeEnv(dir + "/home");
  ASSERT_EQ(Vectl(env, {"keys", "add", "alice"}).code, kExitOk);
  // Port 1 on loopback: nothing listens; the error names the RPC and code.
  RunResult r =
      Vectl(env, {"tx", "bank", "send", "alice", kBob, "1uve", "--dry-run",
                  "--node", "127.0.0.1:1", "--timeout", "5s"});
  EXPECT_EQ(r.code, kExitRuntime);
  EXPECT_NE(r.err.find("Status from 127.0.0.1:1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("UNAVAILABLE"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
  // A key that does not exist.
  r = Vectl(env, {"tx", "bank", "send", "carol", kBob, "1uve", "--chain-id",
                  "c-1", "--sequence", "0", "--dry-run"});
  EXPECT_EQ(r.code, kExitRuntime);
  EXPECT_NE(r.err.find("FROM_KEY carol"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace virtengine::cli
