#include "src/modules/bank/module.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "security/crypto/ed25519.h"
#include "src/ledger/module/registry.h"
#include "src/ledger/store/store.h"
#include "src/ledger/tx/tx.h"

namespace virtengine::bank {
namespace {

namespace cv1 = ::virtengine::security::crypto::v1;

std::string NewAddress() {
  auto key = crypto::Ed25519PrivateKey::Generate(cv1::TX_SIGNATURE);
  return ledger::AddressFromPublicKey(key->public_key());
}

class BankModuleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* t =
        std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
    static int n = 0;
    auto store = ledger::Store::Open(std::string(t != nullptr ? t : "/tmp") +
                                     "/bankmod" + std::to_string(n++));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    view_ = std::make_unique<ledger::StateView>(store_.get());
    auto reg =
        ledger::Registry::Builder().Add(std::make_shared<BankModule>()).Build();
    ASSERT_TRUE(reg.ok()) << reg.status();
    registry_ = *std::move(reg);
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
    ledger::BlockInfo genesis{"c", 0, 0};
    ledger::Context ctx(registry_.get(), registry_->FindModule("bank"),
                        view_.get(), "", &genesis, &sink_);
    ASSERT_TRUE(module_.InitGenesis(ctx, g.SerializeAsString()).ok());
  }

  google::protobuf::Any Send(const std::string& from, const std::string& to,
                             uint64_t amount) {
    v1::MsgSend m;
    m.set_from_address(from);
    m.set_to_address(to);
    m.mutable_amount()->set_denom("uve");
    m.mutable_amount()->set_amount(amount);
    google::protobuf::Any any;
    any.PackFrom(m, "/");
    return any;
  }

  absl::StatusOr<std::string> Query(const std::string& path,
                                    const std::string& req) {
    ledger::PrefixView p(view_.get(), "bank");
    ledger::QueryContext q(&p, 9);
    return module_.Query(q, path, req);
  }

  BankModule module_;
  std::unique_ptr<ledger::Store> store_;
  std::unique_ptr<ledger::StateView> view_;
  std::unique_ptr<const ledger::Registry> registry_;
  ledger::EventSink sink_;
  ledger::BlockInfo block_{"c", 1, 10};
  std::string alice_, bob_;
};

TEST_F(BankModuleTest, SendEmitsTransferAndBalanceQueryAnswers) {
  ASSERT_EQ(registry_->FindHandler(kMsgSendType),
            registry_->FindModule("bank"));
  ASSERT_TRUE(registry_->FindRequirement(kMsgSendType)->none());
  ASSERT_TRUE(registry_
                  ->Dispatch(view_.get(), Send(alice_, bob_, 300), alice_,
                             block_, &sink_)
                  .ok());
  ASSERT_EQ(sink_.events().size(), 1u);
  v1::EventTransfer ev;
  ASSERT_TRUE(sink_.events()[0].UnpackTo(&ev));
  EXPECT_EQ(ev.to_address(), bob_);
  EXPECT_EQ(ev.amount().amount(), 300u);

  v1::QueryBalanceRequest req;
  req.set_address(bob_);
  req.set_denom("uve");
  auto resp = Query("balance", req.SerializeAsString());
  ASSERT_TRUE(resp.ok()) << resp.status();
  v1::QueryBalanceResponse r;
  ASSERT_TRUE(r.ParseFromString(*resp));
  EXPECT_EQ(r.balance().amount(), 300u);
  EXPECT_EQ(r.height(), 9u);
  req.set_address("nope");
  EXPECT_EQ(Query("balance", req.SerializeAsString()).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto params = Query("params", "");
  ASSERT_TRUE(params.ok());
  v1::GenesisState p;
  ASSERT_TRUE(p.ParseFromString(*params));
  EXPECT_EQ(p.min_fee(), 10u);
  EXPECT_EQ(Query("nope", "").status().code(), absl::StatusCode::kNotFound);

  ledger::PrefixView pv(view_.get(), "bank");
  ledger::QueryContext q(&pv, 1);
  EXPECT_TRUE(module_.CheckInvariants(q).ok());
  auto exported = module_.ExportGenesis(q);
  ASSERT_TRUE(exported.ok());
  v1::GenesisState g;
  ASSERT_TRUE(g.ParseFromString(*exported));
  EXPECT_EQ(g.balances_size(), 2);
}

TEST_F(BankModuleTest, RefusedSendsWriteNothingAndEmitNothing) {
  const auto before = view_->writes();
  EXPECT_EQ(registry_
                ->Dispatch(view_.get(), Send(alice_, bob_, 5000), alice_,
                           block_, &sink_)
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      registry_
          ->Dispatch(view_.get(), Send(alice_, bob_, 5), bob_, block_, &sink_)
          .code(),
      absl::StatusCode::kPermissionDenied);
  google::protobuf::Any unknown = Send(alice_, bob_, 5);
  unknown.mutable_value()->append("\x28\x01");  // field 5, varint
  absl::Status s =
      registry_->Dispatch(view_.get(), unknown, alice_, block_, &sink_);
  EXPECT_EQ(s.message(), "bank: MsgSend carries unknown fields");
  EXPECT_EQ(view_->writes(), before);
  EXPECT_TRUE(sink_.events().empty());
}

}  // namespace
}  // namespace virtengine::bank
