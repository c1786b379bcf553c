// `vectl cluster add|remove|set-role --dry-run`: the printed tx is built by
// the same code as `tx bank send` (BuildSignedTx), carries exactly the one
// cluster message asked for, and the ledger's DecodeTx + VerifyTxSignature
// accept it for the chain id.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "src/api/cluster/v1/cluster.pb.h"
#include "src/cli/test_util.h"
#include "src/common/encoding/hex.h"
#include "src/ledger/tx/tx.h"

namespace virtengine::cli {
namespace {

using testutil::RunResult;
using testutil::Vectl;

constexpr char kKey[] =
    "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29";

ledger::DecodedTx DecodeHex(const std::string& out) {
  EXPECT_FALSE(out.empty());
  auto raw = encoding::HexDecode(out.substr(0, out.size() - 1), 1 << 20);
  EXPECT_TRUE(raw.ok()) << raw.status();
  if (!raw.ok()) return ledger::DecodedTx();
  auto tx = ledger::DecodeTx(std::string(raw->begin(), raw->end()));
  EXPECT_TRUE(tx.ok()) << tx.status();
  return tx.ok() ? *tx : ledger::DecodedTx();
}

TEST(ClusterTx, DryRunsSignTheClusterMessages) {
  const std::string dir = testutil::NewDir("ctx");
  Env env = testutil::MakeEnv(dir + "/home");
  env.vars["VECTL_ADMIN_SOCKET"] = "/nonexistent/admin.sock";
  ASSERT_EQ(Vectl(env, {"keys", "add", "op"}).code, kExitOk);
  RunResult show = Vectl(env, {"keys", "show", "op", "--address"});
  const std::string op = show.out.substr(0, show.out.size() - 1);
  const std::vector<std::string> common = {
      "--chain-id", "itest", "--sequence", "3", "--dry-run", "--memo", "m"};
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.end(), common.begin(), common.end());
    RunResult r = Vectl(env, args);
    EXPECT_EQ(r.code, kExitOk) << r.err;
    ledger::DecodedTx tx = DecodeHex(r.out);
    EXPECT_TRUE(ledger::VerifyTxSignature(tx, "itest").ok());
    EXPECT_EQ(tx.signer_address, op);
    EXPECT_EQ(tx.auth_info.sequence(), 3u);
    EXPECT_EQ(tx.auth_info.fee().amount(), 10u);
    EXPECT_EQ(tx.body.memo(), "m");
    EXPECT_EQ(tx.body.messages_size(), 1);
    return tx;
  };

  ledger::DecodedTx tx = run({"cluster", "add", "op", "4", "10.0.0.4:26656",
                              kKey, "--grpc-address", "node4.example:9090"});
  ASSERT_EQ(tx.body.messages_size(), 1);
  EXPECT_EQ(tx.body.messages(0).type_url(),
            "/virtengine.cluster.v1.MsgAddNode");
  cluster::v1::MsgAddNode add;
  ASSERT_TRUE(add.ParseFromString(tx.body.messages(0).value()));
  EXPECT_EQ(add.raft_id(), 4u);
  EXPECT_EQ(add.raft_address(), "10.0.0.4:26656");
  EXPECT_EQ(add.grpc_address(), "node4.example:9090");
  EXPECT_EQ(encoding::HexEncode(add.node_public_key()), kKey);
  EXPECT_TRUE(add.voter());

  tx =
      run({"cluster", "add", "op", "5", "10.0.0.5:26656", kKey, "--non-voter"});
  ASSERT_EQ(tx.body.messages_size(), 1);
  ASSERT_TRUE(add.ParseFromString(tx.body.messages(0).value()));
  EXPECT_FALSE(add.voter());
  EXPECT_EQ(add.grpc_address(), "");

  tx = run({"cluster", "set-role", "op", "2", "non-voter"});
  ASSERT_EQ(tx.body.messages_size(), 1);
  EXPECT_EQ(tx.body.messages(0).type_url(),
            "/virtengine.cluster.v1.MsgSetNodeRole");
  cluster::v1::MsgSetNodeRole set;
  ASSERT_TRUE(set.ParseFromString(tx.body.messages(0).value()));
  EXPECT_EQ(set.raft_id(), 2u);
  EXPECT_FALSE(set.voter());

  tx = run({"cluster", "remove", "op", "3"});
  ASSERT_EQ(tx.body.messages_size(), 1);
  EXPECT_EQ(tx.body.messages(0).type_url(),
            "/virtengine.cluster.v1.MsgRemoveNode");
  cluster::v1::MsgRemoveNode rm;
  ASSERT_TRUE(rm.ParseFromString(tx.body.messages(0).value()));
  EXPECT_EQ(rm.raft_id(), 3u);

  // JSON dry run: hash, chain id and sequence as for tx bank send.
  RunResult r =
      Vectl(env, {"cluster", "remove", "op", "3", "--chain-id", "itest",
                  "--sequence", "0", "--dry-run", "--output", "json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("\"chain_id\":\"itest\",\"sequence\":0}"),
            std::string::npos)
      << r.out;

  // Not a dry run: the admin socket is unreachable (exit 1, named).
  r = Vectl(env, {"cluster", "remove", "op", "3", "--chain-id", "itest",
                  "--sequence", "0", "--timeout", "2s"});
  EXPECT_EQ(r.code, kExitRuntime);
  EXPECT_NE(r.err.find("ChangeMembership "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("via /nonexistent/admin.sock: UNAVAILABLE"),
            std::string::npos)
      << r.err;
  // A key that does not exist.
  r = Vectl(env, {"cluster", "remove", "carol", "3", "--chain-id", "itest",
                  "--sequence", "0", "--dry-run"});
  EXPECT_EQ(r.code, kExitRuntime);
  EXPECT_NE(r.err.find("FROM_KEY carol"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace virtengine::cli
