// vectl's network commands end to end over real gRPC on a loopback port.
//
// TEST SCAFFOLDING: TestNodeService below is NOT ve-node. It is the smallest
// implementation of virtengine.node.v1.Node that answers Status,
// QueryBalance, SubmitTx, GetTx and GetReceipt from a real ledger::Ledger
// (RocksDB in TEST_TMPDIR), committing every admitted transaction in a block
// of its own, so that what vectl sends is decoded and CheckTx'd by the real
// ledger code. The real node (src/node) is tested against vectl by the
// lead's integration test.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "src/api/node/v1/node.grpc.pb.h"
#include "src/cli/receipt_json.h"
#include "src/cli/test_util.h"
#include "src/common/encoding/hex.h"
#include "src/ledger/chain/ledger.h"

namespace virtengine::cli {
namespace {

namespace cv1 = ::virtengine::security::crypto::v1;
namespace nv1 = ::virtengine::node::v1;
using testutil::RunResult;
using testutil::Vectl;

grpc::Status ToGrpc(const absl::Status& s) {
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()),
                      std::string(s.message()));
}

absl::StatusOr<crypto::Digest32> HashFrom(const std::string& bytes) {
  if (bytes.size() != 32) {
    return absl::InvalidArgumentError("tx_hash must be 32 bytes");
  }
  crypto::Digest32 d{};
  std::copy(bytes.begin(), bytes.end(), d.begin());
  return d;
}

class TestNodeService final : public nv1::Node::Service {
 public:
  TestNodeService(ledger::Ledger* ledger, const ledger::BlockSigner* key)
      : ledger_(ledger), key_(key) {}

  grpc::Status Status(grpc::ServerContext* /*ctx*/,
                      const nv1::StatusRequest* /*req*/,
                      nv1::StatusResponse* resp) override {
    std::lock_guard<std::mutex> lock(mu_);
    resp->set_chain_id(ledger_->chain_id());
    resp->set_height(ledger_->height());
    resp->set_node_public_key(
        std::string(crypto::AsChars(key_->public_key().view())));
    resp->set_version("test-scaffold");
    resp->set_is_leader(true);
    resp->set_last_block_hash(ledger_->last_block_hash());
    return grpc::Status::OK;
  }

  grpc::Status QueryBalance(grpc::ServerContext* /*ctx*/,
                            const bank::v1::QueryBalanceRequest* req,
                            bank::v1::QueryBalanceResponse* resp) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto r = ledger_->QueryBalance(req->address(), req->denom());
    if (!r.ok()) return ToGrpc(r.status());
    *resp = *r;
    return grpc::Status::OK;
  }

  grpc::Status SubmitTx(grpc::ServerContext* /*ctx*/,
                        const nv1::SubmitTxRequest* req,
                        nv1::SubmitTxResponse* resp) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto tx = ledger_->CheckTx(req->tx());
    if (!tx.ok()) return ToGrpc(tx.status());
    resp->set_tx_hash(tx->hash.data(), tx->hash.size());
    auto block = ledger_->ExecuteBlock({*tx}, time_ += 1000, *key_);
    if (!block.ok()) return ToGrpc(block.status());
    if (req->wait_for_commit()) {
      resp->set_height(ledger_->height());
      *resp->mutable_result() = block->results(0);
    }
    return grpc::Status::OK;
  }

  grpc::Status GetTx(grpc::ServerContext* /*ctx*/, const nv1::GetTxRequest* req,
                     nv1::GetTxResponse* resp) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto hash = HashFrom(req->tx_hash());
    if (!hash.ok()) return ToGrpc(hash.status());
    auto found = ledger_->GetTx(*hash);
    if (!found.ok()) return ToGrpc(found.status());
    const auto& [block, index] = *found;
    ledger::v1::BlockHeader header;
    if (!header.ParseFromString(block.header().header_bytes())) {
      return grpc::Status(grpc::StatusCode::DATA_LOSS, "bad header");
    }
    resp->set_tx(block.txs(static_cast<int>(index)));
    resp->set_height(header.height());
    *resp->mutable_result() = block.results(static_cast<int>(index));
    return grpc::Status::OK;
  }

  grpc::Status GetReceipt(grpc::ServerContext* /*ctx*/,
                          const nv1::GetReceiptRequest* req,
                          nv1::GetReceiptResponse* resp) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto hash = HashFrom(req->tx_hash());
    if (!hash.ok()) return ToGrpc(hash.status());
    auto r = ledger_->GetReceipt(*hash);
    if (!r.ok()) return ToGrpc(r.status());
    *resp->mutable_receipt() = *r;
    return grpc::Status::OK;
  }

 private:
  std::mutex mu_;
  ledger::Ledger* ledger_;
  const ledger::BlockSigner* key_;
  int64_t time_ = 10'000;
};

class NetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::NewDir("net");
    env_ = testutil::MakeEnv(dir_ + "/home");
    ASSERT_EQ(Vectl(env_, {"keys", "add", "alice"}).code, kExitOk);
    RunResult r = Vectl(env_, {"keys", "show", "alice", "--address"});
    alice_ = r.out.substr(0, r.out.size() - 1);
    ASSERT_EQ(Vectl(env_, {"keys", "add", "bob"}).code, kExitOk);
    r = Vectl(env_, {"keys", "show", "bob", "--address"});
    bob_ = r.out.substr(0, r.out.size() - 1);
    chain_ = testutil::NewChain(dir_ + "/db", alice_);
    service_ = std::make_unique<TestNodeService>(chain_.ledger.get(),
                                                 chain_.signer.get());
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port, 0);
    env_.vars["VECTL_NODE"] = "127.0.0.1:" + std::to_string(port);
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  // The value of "key: value" in text output.
  static std::string Field(const std::string& out, const std::string& key) {
    const size_t at = out.find(key + ": ");
    if (at == std::string::npos) return "";
    const size_t start = at + key.size() + 2;
    return out.substr(start, out.find('\n', start) - start);
  }

  std::string dir_;
  Env env_;
  std::string alice_;
  std::string bob_;
  testutil::TestChain chain_;
  std::unique_ptr<TestNodeService> service_;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(NetworkTest, StatusAndBalance) {
  RunResult r = Vectl(env_, {"status"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(Field(r.out, "chain_id"), testutil::kChain);
  EXPECT_EQ(Field(r.out, "height"), "0");
  EXPECT_EQ(Field(r.out, "node_public_key"),
            encoding::HexEncode(chain_.node_public_key()));
  r = Vectl(env_, {"status", "--output", "json"});
  ASSERT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out.find("{\"chain_id\":\"virtengine-test-1\",\"height\":0,"), 0u)
      << r.out;

  r = Vectl(env_, {"query", "bank", "balance", alice_});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(Field(r.out, "balance"), "1000000uve");
  EXPECT_EQ(Field(r.out, "sequence"), "0");
  r = Vectl(env_, {"query", "bank", "balance", bob_, "--output", "json",
                   "--denom", "uve"});
  EXPECT_EQ(r.out, "{\"address\":\"" + bob_ +
                       "\",\"denom\":\"uve\",\"amount\":0,\"sequence\":0,"
                       "\"height\":0}\n");
}

TEST_F(NetworkTest, SendQueryReceiptEndToEnd) {
  RunResult r = Vectl(env_, {"tx", "bank", "send", "alice", bob_, "1000uve",
                             "--wait", "--memo", "first"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const std::string hash = Field(r.out, "tx_hash");
  ASSERT_EQ(hash.size(), 64u) << r.out;
  EXPECT_EQ(Field(r.out, "code"), "0 (ok)");
  EXPECT_EQ(Field(r.out, "height"), "1");

  r = Vectl(env_, {"query", "bank", "balance", bob_});
  EXPECT_EQ(Field(r.out, "balance"), "1000uve");
  r = Vectl(env_, {"query", "bank", "balance", alice_});
  EXPECT_EQ(Field(r.out, "balance"), "998990uve");  // minus amount and fee
  EXPECT_EQ(Field(r.out, "sequence"), "1");

  // Second send: sequence and chain id come from the node again; no --wait.
  r = Vectl(env_,
            {"tx", "bank", "send", "alice", bob_, "1uve", "--output", "json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out.find("{\"tx_hash\":\""), 0u) << r.out;
  EXPECT_EQ(r.out.find("height"), std::string::npos) << r.out;

  r = Vectl(env_, {"query", "tx", hash});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(Field(r.out, "height"), "1");
  EXPECT_EQ(Field(r.out, "signer"), alice_);
  EXPECT_EQ(Field(r.out, "memo"), "\"first\"");
  EXPECT_EQ(Field(r.out, "message"), "/virtengine.bank.v1.MsgSend " + alice_ +
                                         " -> " + bob_ + " 1000uve");
  r = Vectl(env_, {"query", "tx", hash, "--output", "json"});
  EXPECT_NE(r.out.find("\"messages\":[{\"type\":\"/virtengine.bank.v1."
                       "MsgSend\",\"from_address\":\"" +
                       alice_ + "\""),
            std::string::npos)
      << r.out;

  // Receipt: get as JSON, save, verify offline against the node's key.
  r = Vectl(env_, {"receipt", "get", hash, "--output", "json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const std::string file = dir_ + "/receipt.json";
  testutil::WriteFile(file, r.out);
  auto parsed = ReceiptFromJson(r.out);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(encoding::HexEncode(parsed->tx_hash()), hash);
  RunResult status = Vectl(env_, {"status"});
  const std::string node_key = Field(status.out, "node_public_key");
  r = Vectl(env_, {"receipt", "verify", file, "--node-key", node_key});
  EXPECT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_EQ(r.out.find("OK: tx " + hash + " is leaf 0 of 1"), 0u) << r.out;
  r = Vectl(env_, {"receipt", "get", hash});
  EXPECT_EQ(Field(r.out, "leaf_index"), "0");
  EXPECT_EQ(Field(r.out, "signer_key"), node_key);
}

TEST_F(NetworkTest, RefusedTransactionsExitOneWithTheGrpcCode) {
  struct Case {
    std::vector<std::string> extra;
    const char* code;
    const char* reason;
  } cases[] = {
      {{"5000000uve"}, "FAILED_PRECONDITION", "insufficient funds"},
      {{"1uve", "--chain-id", "other-chain"},
       "UNAUTHENTICATED",
       "tx: signature does not verify for chain"},
      {{"1uve", "--sequence", "5"}, "FAILED_PRECONDITION", "sequence mismatch"},
      {{"1uve", "--fee", "1uve"},
       "FAILED_PRECONDITION",
       "bank: fee 1uve is below the minimum of 10uve"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"tx", "bank", "send", "alice", bob_};
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    RunResult r = Vectl(env_, args);
    EXPECT_EQ(r.code, kExitRuntime) << c.extra[0] << r.out;
    EXPECT_NE(r.err.find("SubmitTx "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.code), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.reason), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  // Nothing was committed.
  RunResult r = Vectl(env_, {"status"});
  EXPECT_EQ(Field(r.out, "height"), "0");
  // A hash the node does not know.
  r = Vectl(env_, {"query", "tx", std::string(64, 'a')});
  EXPECT_EQ(r.code, kExitRuntime);
  EXPECT_NE(r.err.find("GetTx from"), std::string::npos);
  EXPECT_NE(r.err.find("NOT_FOUND"), std::string::npos) << r.err;
  r = Vectl(env_, {"receipt", "get", std::string(64, 'a')});
  EXPECT_EQ(r.code, kExitRuntime);
  EXPECT_NE(r.err.find("NOT_FOUND"), std::string::npos) << r.err;
  // The node's own checks on a query: an address the ledger refuses is
  // caught by vectl first (exit 2), so ask for an unknown denomination.
  r = Vectl(env_, {"query", "bank", "balance", alice_, "--denom", "uatom"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(Field(r.out, "balance"), "0uatom");
}

}  // namespace
}  // namespace virtengine::cli
