#include "src/ledger/chain/ledger.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "src/api/tx/v1/tx.pb.h"

namespace virtengine::ledger {
namespace {

namespace cv1 = ::virtengine::security::crypto::v1;
using crypto::Ed25519PrivateKey;

constexpr char kChain[] = "virtengine-test-1";

std::string Dir(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  return std::string(t != nullptr ? t : "/tmp") + "/" + name;
}

struct Account {
  Ed25519PrivateKey key;
  std::string address;
  uint64_t seq = 0;
};

Account NewAccount() {
  auto key = Ed25519PrivateKey::Generate(cv1::TX_SIGNATURE);
  std::string addr = AddressFromPublicKey(key->public_key());
  return Account{*std::move(key), addr, 0};
}

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int n = 0;
    dir_ = Dir("ledger" + std::to_string(n++));
    node_key_ = std::make_unique<Ed25519PrivateKey>(
        *Ed25519PrivateKey::Generate(cv1::NODE_SIGNATURE));
    alice_ = std::make_unique<Account>(NewAccount());
    bob_ = std::make_unique<Account>(NewAccount());
    auto l = Ledger::Open(dir_);
    ASSERT_TRUE(l.ok()) << l.status();
    ledger_ = *std::move(l);
    ASSERT_TRUE(ledger_->InitGenesis(MakeGenesis()).ok());
  }

  Genesis MakeGenesis() const {
    Genesis g;
    g.chain_id = kChain;
    g.genesis_time_unix_nano = 1000;
    g.bank.set_fee_denom("uve");
    g.bank.set_min_fee(10);
    auto* b = g.bank.add_balances();
    b->set_address(alice_->address);
    auto* c = b->add_coins();
    c->set_denom("uve");
    c->set_amount(1'000'000);
    return g;
  }

  std::string Send(Account& from, const std::string& to, uint64_t amount,
                   const std::string& chain = kChain) {
    bank::v1::MsgSend m;
    m.set_from_address(from.address);
    m.set_to_address(to);
    m.mutable_amount()->set_denom("uve");
    m.mutable_amount()->set_amount(amount);
    tx::v1::TxBody body;
    body.add_messages()->PackFrom(m, "/");
    tx::v1::AuthInfo auth;
    auth.set_public_key(
        std::string(crypto::AsChars(from.key.public_key().view())));
    auth.set_sequence(from.seq++);
    auth.mutable_fee()->set_denom("uve");
    auth.mutable_fee()->set_amount(10);
    return *SignTx(body, auth, chain, from.key);
  }

  uint64_t BalanceOf(const Ledger& l, const std::string& addr) {
    return l.QueryBalance(addr, "uve")->balance().amount();
  }

  std::string dir_;
  std::unique_ptr<Ed25519PrivateKey> node_key_;
  std::unique_ptr<Account> alice_, bob_;
  std::unique_ptr<Ledger> ledger_;
};

TEST_F(LedgerTest, TransfersCommitWithReceipts) {
  std::vector<DecodedTx> txs;
  for (int i = 0; i < 3; ++i) {
    auto tx = ledger_->CheckTx(Send(*alice_, bob_->address, 100));
    ASSERT_TRUE(tx.ok()) << tx.status();
    txs.push_back(*tx);
  }
  auto block = ledger_->ExecuteBlock(txs, 5000, *node_key_);
  ASSERT_TRUE(block.ok()) << block.status();
  EXPECT_EQ(ledger_->height(), 1u);
  for (const auto& r : block->results()) EXPECT_EQ(r.code(), kTxOk) << r.log();
  EXPECT_EQ(BalanceOf(*ledger_, bob_->address), 300u);
  EXPECT_EQ(BalanceOf(*ledger_, alice_->address), 1'000'000u - 300 - 30);
  EXPECT_TRUE(ledger_->CheckInvariants().ok());

  const std::string node_pk(crypto::AsChars(node_key_->public_key().view()));
  for (const DecodedTx& tx : txs) {
    auto receipt = ledger_->GetReceipt(tx.hash);
    ASSERT_TRUE(receipt.ok()) << receipt.status();
    EXPECT_TRUE(VerifyReceipt(*receipt, node_pk).ok());
    // Tampering anywhere breaks verification.
    v1::Receipt bad = *receipt;
    std::string h = bad.tx_hash();
    h[0] = static_cast<char>(h[0] ^ 1);
    bad.set_tx_hash(h);
    EXPECT_FALSE(VerifyReceipt(bad, node_pk).ok());
    bad = *receipt;
    std::string sig = bad.header().signature();
    sig[3] = static_cast<char>(sig[3] ^ 1);
    bad.mutable_header()->set_signature(sig);
    EXPECT_EQ(VerifyReceipt(bad, node_pk).code(),
              absl::StatusCode::kUnauthenticated);
    if (receipt->audit_path_size() > 0) {
      bad = *receipt;
      std::string p = bad.audit_path(0);
      p[0] = static_cast<char>(p[0] ^ 1);
      bad.set_audit_path(0, p);
      EXPECT_FALSE(VerifyReceipt(bad, node_pk).ok());
    }
  }
}

TEST_F(LedgerTest, CheckTxRefusesBadTransactionsPrecisely) {
  const std::string ok = Send(*alice_, bob_->address, 5);
  ASSERT_TRUE(ledger_->CheckTx(ok).ok());
  // Replay of an admitted tx: its sequence is spent.
  auto replay = ledger_->CheckTx(ok);
  EXPECT_EQ(replay.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(replay.status().message().find("sequence mismatch"),
            std::string::npos);
  // Wrong chain id.
  auto wrong_chain = ledger_->CheckTx(Send(*alice_, bob_->address, 5, "x-1"));
  EXPECT_EQ(wrong_chain.status().code(), absl::StatusCode::kUnauthenticated);
  alice_->seq--;  // that tx was refused, its sequence is free again
  // Insufficient funds.
  auto broke = ledger_->CheckTx(Send(*bob_, alice_->address, 1));
  EXPECT_EQ(broke.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(broke.status().message().find("insufficient funds"),
            std::string::npos)
      << broke.status();
  // Sequence gap.
  alice_->seq += 3;
  auto gap = ledger_->CheckTx(Send(*alice_, bob_->address, 5));
  EXPECT_NE(gap.status().message().find("expected 1, got 4"), std::string::npos)
      << gap.status();
  // Unknown message type.
  tx::v1::TxBody body;
  auto* any = body.add_messages();
  any->set_type_url("/virtengine.nope.v1.MsgNope");
  tx::v1::AuthInfo auth;
  auth.set_public_key(
      std::string(crypto::AsChars(alice_->key.public_key().view())));
  auth.set_sequence(1);
  auth.mutable_fee()->set_amount(10);
  auth.mutable_fee()->set_denom("uve");
  auto unknown = ledger_->CheckTx(*SignTx(body, auth, kChain, alice_->key));
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("unknown message type"),
            std::string::npos);
}

TEST_F(LedgerTest, StateSurvivesReopenAndDigestIsDeterministic) {
  std::vector<std::string> raws;
  raws.reserve(4);
  for (int i = 0; i < 4; ++i) raws.push_back(Send(*alice_, bob_->address, 7));
  std::vector<DecodedTx> txs;
  txs.reserve(raws.size());
  for (const auto& r : raws) txs.push_back(*ledger_->CheckTx(r));
  ASSERT_TRUE(ledger_->ExecuteBlock(txs, 7000, *node_key_).ok());
  const crypto::Digest32 digest = ledger_->state_digest();

  // A second ledger from the same genesis executing the same block reaches
  // the same state digest.
  auto other = Ledger::Open(dir_ + "-replica");
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->InitGenesis(MakeGenesis()).ok());
  std::vector<DecodedTx> again;
  again.reserve(raws.size());
  for (const auto& r : raws) again.push_back(*(*other)->CheckTx(r));
  ASSERT_TRUE((*other)->ExecuteBlock(again, 7000, *node_key_).ok());
  EXPECT_EQ((*other)->state_digest(), digest);

  // Reopen from disk: height, balances, receipts all there.
  ledger_.reset();
  auto reopened = Ledger::Open(dir_);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->height(), 1u);
  EXPECT_EQ((*reopened)->state_digest(), digest);
  EXPECT_EQ(BalanceOf(**reopened, bob_->address), 28u);
  EXPECT_TRUE((*reopened)->GetReceipt(txs[2].hash).ok());
  auto got = (*reopened)->GetTx(txs[3].hash);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->second, 3u);
  EXPECT_EQ((*reopened)->InitGenesis(MakeGenesis()).code(),
            absl::StatusCode::kFailedPrecondition);
  // The ledger keeps growing after the restart.
  std::vector<DecodedTx> more = {
      *(*reopened)->CheckTx(Send(*alice_, bob_->address, 1))};
  ASSERT_TRUE((*reopened)->ExecuteBlock(more, 8000, *node_key_).ok());
  auto receipt = (*reopened)->GetReceipt(more[0].hash);
  ASSERT_TRUE(receipt.ok());
  EXPECT_EQ(receipt->tree_size(), 5u);
  EXPECT_TRUE(VerifyReceipt(*receipt, "").ok());
}

}  // namespace
}  // namespace virtengine::ledger
