#include "src/modules/bank/keeper.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "security/crypto/ed25519.h"
#include "src/ledger/store/store.h"
#include "src/ledger/tx/tx.h"

namespace virtengine::bank {
namespace {

namespace cv1 = ::virtengine::security::crypto::v1;

std::string NewAddress() {
  auto key = crypto::Ed25519PrivateKey::Generate(cv1::TX_SIGNATURE);
  return ledger::AddressFromPublicKey(key->public_key());
}

class KeeperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* t =
        std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
    static int n = 0;
    auto store = ledger::Store::Open(std::string(t != nullptr ? t : "/tmp") +
                                     "/bank" + std::to_string(n++));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    view_ = std::make_unique<ledger::StateView>(store_.get());
    alice_ = NewAddress();
    bob_ = NewAddress();
    v1::GenesisState g;
    g.set_fee_denom("uve");
    g.set_min_fee(10);
    auto* a = g.add_balances();
    a->set_address(alice_);
    auto* c = a->add_coins();
    c->set_denom("uve");
    c->set_amount(1000);
    ASSERT_TRUE(keeper().InitGenesis(g).ok());
  }

  Keeper keeper() { return Keeper(ledger::PrefixView(view_.get(), "bank")); }

  std::unique_ptr<ledger::Store> store_;
  std::unique_ptr<ledger::StateView> view_;
  std::string alice_, bob_;
};

TEST_F(KeeperTest, SendMovesFundsAndKeepsSupply) {
  v1::MsgSend m;
  m.set_from_address(alice_);
  m.set_to_address(bob_);
  m.mutable_amount()->set_denom("uve");
  m.mutable_amount()->set_amount(300);
  ASSERT_TRUE(keeper().HandleSend(alice_, m).ok());
  EXPECT_EQ(*keeper().Balance(alice_, "uve"), 700u);
  EXPECT_EQ(*keeper().Balance(bob_, "uve"), 300u);
  EXPECT_EQ(*keeper().Supply("uve"), 1000u);
  EXPECT_TRUE(keeper().CheckSupplyInvariant().ok());
  // Commit and read back from RocksDB.
  ASSERT_TRUE(store_->Commit(view_->writes()).ok());
  ledger::StateView fresh(store_.get());
  Keeper k(ledger::PrefixView(&fresh, "bank"));
  EXPECT_EQ(*k.Balance(bob_, "uve"), 300u);
  EXPECT_TRUE(k.CheckSupplyInvariant().ok());
}

TEST_F(KeeperTest, InsufficientFundsWritesNothing) {
  const auto before = view_->writes();
  absl::Status s = keeper().Send(alice_, bob_, "uve", 1001);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("insufficient funds"), std::string::npos) << s;
  EXPECT_EQ(view_->writes(), before);
}

TEST_F(KeeperTest, SignerMustBeSender) {
  v1::MsgSend m;
  m.set_from_address(alice_);
  m.set_to_address(bob_);
  m.mutable_amount()->set_denom("uve");
  m.mutable_amount()->set_amount(1);
  EXPECT_EQ(keeper().HandleSend(bob_, m).code(),
            absl::StatusCode::kPermissionDenied);
  m.set_to_address("ve1notanaddress");
  EXPECT_EQ(keeper().HandleSend(alice_, m).code(),
            absl::StatusCode::kInvalidArgument);
  m.set_to_address(bob_);
  m.mutable_amount()->set_amount(0);
  EXPECT_EQ(keeper().HandleSend(alice_, m).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(KeeperTest, FeesGoToCollectorAndRespectMinimum) {
  EXPECT_EQ(keeper().ChargeFee(alice_, "uve", 5).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(keeper().ChargeFee(alice_, "other", 10).code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(keeper().ChargeFee(alice_, "uve", 10).ok());
  EXPECT_EQ(*keeper().Balance(kFeeCollector, "uve"), 10u);
  EXPECT_EQ(*keeper().Balance(alice_, "uve"), 990u);
  EXPECT_TRUE(keeper().CheckSupplyInvariant().ok());
  EXPECT_EQ(keeper().ChargeFee(bob_, "uve", 10).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(KeeperTest, SequenceRefusesReplayAndGaps) {
  ASSERT_TRUE(keeper().CheckAndIncrementSequence(alice_, 0).ok());
  absl::Status replay = keeper().CheckAndIncrementSequence(alice_, 0);
  EXPECT_EQ(replay.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(replay.message().find("expected 1, got 0"), std::string::npos);
  EXPECT_EQ(keeper().CheckAndIncrementSequence(alice_, 5).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(keeper().CheckAndIncrementSequence(alice_, 1).ok());
}

TEST_F(KeeperTest, InvariantDetectsTampering) {
  // Write a balance behind the keeper's back: the invariant must notice.
  ledger::PrefixView raw(view_.get(), "bank");
  raw.Put("bal/" + bob_ + "/uve", std::string("\0\0\0\0\0\0\0\x05", 8));
  absl::Status s = keeper().CheckSupplyInvariant();
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_NE(s.message().find("balances sum to 1005, supply is 1000"),
            std::string::npos)
      << s;
}

TEST_F(KeeperTest, GenesisRoundTripAndRejections) {
  auto exported = keeper().ExportGenesis();
  ASSERT_TRUE(exported.ok()) << exported.status();
  ASSERT_EQ(exported->balances_size(), 1);
  EXPECT_EQ(exported->balances(0).address(), alice_);
  EXPECT_EQ(exported->balances(0).coins(0).amount(), 1000u);

  v1::GenesisState bad = *exported;
  bad.mutable_balances(0)->set_address("cosmos1xyz");
  EXPECT_EQ(keeper().InitGenesis(bad).code(),
            absl::StatusCode::kInvalidArgument);
  v1::GenesisState overflow = *exported;
  auto* b = overflow.add_balances();
  b->set_address(bob_);
  auto* c = b->add_coins();
  c->set_denom("uve");
  c->set_amount(UINT64_MAX);
  absl::Status s = keeper().InitGenesis(overflow);
  EXPECT_NE(s.message().find("overflows"), std::string::npos) << s;
}

}  // namespace
}  // namespace virtengine::bank
