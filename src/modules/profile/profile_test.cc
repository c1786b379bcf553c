#include "src/modules/profile/profile.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "security/crypto/ed25519.h"
#include "src/ledger/module/registry.h"
#include "src/ledger/store/store.h"
#include "src/ledger/tx/tx.h"

namespace virtengine::profile {
namespace {

namespace cv1 = ::virtengine::security::crypto::v1;

std::string NewAddress() {
  auto key = crypto::Ed25519PrivateKey::Generate(cv1::TX_SIGNATURE);
  return ledger::AddressFromPublicKey(key->public_key());
}

class ProfileModuleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* t =
        std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
    static int n = 0;
    auto store = ledger::Store::Open(std::string(t != nullptr ? t : "/tmp") +
                                     "/profilemod" + std::to_string(n++));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    view_ = std::make_unique<ledger::StateView>(store_.get());
    auto reg = ledger::Registry::Builder()
                   .Add(std::make_shared<ProfileModule>())
                   .Build();
    ASSERT_TRUE(reg.ok()) << reg.status();
    registry_ = *std::move(reg);
    alice_ = NewAddress();
    bob_ = NewAddress();
  }

  absl::Status InitGenesis(const v1::GenesisState& g) {
    ledger::BlockInfo genesis{"c", 0, 0};
    ledger::EventSink sink;
    ledger::Context ctx(registry_.get(), registry_->FindModule("profile"),
                        view_.get(), "", &genesis, &sink);
    return module_.InitGenesis(ctx, g.SerializeAsString());
  }

  absl::Status Set(const std::string& signer, const std::string& address,
                   const std::string& key, const std::string& value) {
    v1::MsgSetProfile m;
    m.set_address(address);
    m.set_key(key);
    m.set_value(value);
    google::protobuf::Any any;
    any.PackFrom(m, "/");
    return registry_->Dispatch(view_.get(), any, signer, block_, &sink_);
  }

  absl::StatusOr<v1::QueryGetResponse> Get(const std::string& address,
                                           const std::string& key) {
    v1::QueryGetRequest req;
    req.set_address(address);
    req.set_key(key);
    ledger::PrefixView p(view_.get(), "profile");
    ledger::QueryContext q(&p, 7);
    absl::StatusOr<std::string> r =
        module_.Query(q, "get", req.SerializeAsString());
    if (!r.ok()) return r.status();
    v1::QueryGetResponse resp;
    if (!resp.ParseFromString(*r)) return absl::InternalError("parse");
    return resp;
  }

  absl::Status Invariants() {
    ledger::PrefixView p(view_.get(), "profile");
    ledger::QueryContext q(&p, 7);
    return module_.CheckInvariants(q);
  }

  ProfileModule module_;
  std::unique_ptr<ledger::Store> store_;
  std::unique_ptr<ledger::StateView> view_;
  std::unique_ptr<const ledger::Registry> registry_;
  ledger::EventSink sink_;
  ledger::BlockInfo block_{"c", 1, 10};
  std::string alice_, bob_;
};

TEST_F(ProfileModuleTest, SetEmitsEventAndGetReadsBackLatestValue) {
  ASSERT_EQ(registry_->FindHandler(kMsgSetProfileType),
            registry_->FindModule("profile"));
  ASSERT_TRUE(registry_->FindRequirement(kMsgSetProfileType)->none());
  auto missing = Get(alice_, "reg");
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_FALSE(missing->found());
  EXPECT_EQ(missing->value(), "");

  ASSERT_TRUE(Set(alice_, alice_, "reg", "1").ok());
  ASSERT_TRUE(Set(alice_, alice_, "reg", "två").ok());
  ASSERT_TRUE(Set(alice_, alice_, "empty", "").ok());
  ASSERT_EQ(sink_.events().size(), 3u);
  v1::EventProfileSet ev;
  ASSERT_TRUE(sink_.events()[1].UnpackTo(&ev));
  EXPECT_EQ(ev.address(), alice_);
  EXPECT_EQ(ev.key(), "reg");
  EXPECT_EQ(ev.value(), "två");

  auto got = Get(alice_, "reg");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->found());
  EXPECT_EQ(got->value(), "två");
  EXPECT_EQ(got->height(), 7u);
  auto empty = Get(alice_, "empty");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->found());
  EXPECT_EQ(empty->value(), "");
  auto other = Get(bob_, "reg");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->found());
  EXPECT_TRUE(Invariants().ok());
}

TEST_F(ProfileModuleTest, RefusalsWriteNothingAndEmitNothing) {
  const auto before = view_->writes();
  EXPECT_EQ(Set(bob_, alice_, "reg", "x").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Set(alice_, alice_, "", "x").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Set(alice_, alice_, "Upper", "x").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Set(alice_, alice_, "a/b", "x").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Set(alice_, alice_, std::string(65, 'k'), "x").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Set(alice_, alice_, std::string(64, 'k'), "x").ok());
  const auto after_ok = view_->writes();
  EXPECT_EQ(Set(alice_, alice_, "reg", std::string(257, 'v')).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Set(alice_, alice_, "reg", std::string("\xff\xfe", 2)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Set(alice_, alice_, "reg", "line\x01").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Set(alice_, "ve1nope", "reg", "x").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_NE(view_->writes(), before);
  EXPECT_EQ(view_->writes(), after_ok);
  EXPECT_EQ(sink_.events().size(), 1u);
  EXPECT_TRUE(Set(alice_, alice_, "reg", std::string(256, 'v')).ok());

  v1::MsgSetProfile m;
  m.set_address(alice_);
  m.set_key("reg");
  google::protobuf::Any any;
  any.PackFrom(m, "/");
  any.mutable_value()->append("\x28\x01");  // field 5, varint
  absl::Status s =
      registry_->Dispatch(view_.get(), any, alice_, block_, &sink_);
  EXPECT_EQ(s.message(), "profile: MsgSetProfile carries unknown fields");
}

TEST_F(ProfileModuleTest, AtMostThirtyTwoKeysButOverwritesStayAllowed) {
  for (size_t i = 0; i < kMaxKeysPerAccount; ++i) {
    ASSERT_TRUE(Set(alice_, alice_, "k" + std::to_string(i), "v").ok()) << i;
  }
  absl::Status s = Set(alice_, alice_, "one.more", "v");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(Set(alice_, alice_, "k0", "again").ok());
  EXPECT_TRUE(Set(bob_, bob_, "one.more", "v").ok());
  EXPECT_TRUE(Invariants().ok());
}

TEST_F(ProfileModuleTest, GenesisRoundTripsAndRejectsBadEntries) {
  v1::GenesisState g;
  auto add = [&g](const std::string& a, const std::string& k,
                  const std::string& v) {
    v1::ProfileEntry* e = g.add_entries();
    e->set_address(a);
    e->set_key(k);
    e->set_value(v);
  };
  add(alice_, "reg", "0");
  add(bob_, "display_name", "Bob");
  ASSERT_TRUE(InitGenesis(g).ok());
  auto got = Get(bob_, "display_name");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->value(), "Bob");

  ledger::PrefixView p(view_.get(), "profile");
  ledger::QueryContext q(&p, 0);
  auto exported = module_.ExportGenesis(q);
  ASSERT_TRUE(exported.ok()) << exported.status();
  v1::GenesisState back;
  ASSERT_TRUE(back.ParseFromString(*exported));
  ASSERT_EQ(back.entries_size(), 2);
  // Export is in key order, so both entries must be found either way.
  int matched = 0;
  for (const v1::ProfileEntry& e : back.entries()) {
    for (const v1::ProfileEntry& o : g.entries()) {
      if (e.SerializeAsString() == o.SerializeAsString()) ++matched;
    }
  }
  EXPECT_EQ(matched, 2);

  v1::GenesisState dup;
  dup.add_entries()->CopyFrom(g.entries(0));
  EXPECT_EQ(InitGenesis(dup).code(), absl::StatusCode::kInvalidArgument);

  v1::GenesisState bad;
  v1::ProfileEntry* e = bad.add_entries();
  e->set_address(alice_);
  e->set_key("BAD");
  absl::Status s = InitGenesis(bad);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("profile genesis: entry 0: key"),
            std::string::npos)
      << s;

  v1::GenesisState many;
  const std::string carol = NewAddress();
  for (size_t i = 0; i <= kMaxKeysPerAccount; ++i) {
    v1::ProfileEntry* m = many.add_entries();
    m->set_address(carol);
    m->set_key("k" + std::to_string(i));
  }
  EXPECT_EQ(InitGenesis(many).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ProfileModuleTest, InvariantCatchesCorruptState) {
  ASSERT_TRUE(Set(alice_, alice_, "reg", "1").ok());
  EXPECT_TRUE(Invariants().ok());
  view_->Put("profile/v/" + alice_ + "/BAD", "x");
  absl::Status s = Invariants();
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
}

TEST_F(ProfileModuleTest, QueryRefusesUnknownPathAndBadRequests) {
  ledger::PrefixView p(view_.get(), "profile");
  ledger::QueryContext q(&p, 1);
  EXPECT_EQ(module_.Query(q, "nope", "").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(module_.Query(q, "get", "\xff").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Get("ve1bad", "reg").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Get(alice_, "").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace virtengine::profile
