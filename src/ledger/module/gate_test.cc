#include "src/ledger/module/gate.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "google/protobuf/wrappers.pb.h"
#include "src/ledger/module/registry.h"
#include "src/ledger/store/store.h"

namespace virtengine::ledger {
namespace {

constexpr char kMsg[] = "/virtengine.x.v1.MsgY";

// A test provider of every fact, from in-memory maps.
class MapFacts : public GateFacts {
 public:
  std::map<std::string, VeidStanding> veid;
  std::map<std::string, MfaSession> mfa;
  std::map<std::string, std::vector<std::string>> roles;
  absl::Status fail;  // returned by every call when not OK

  absl::StatusOr<VeidStanding> Veid(std::string_view a) const override {
    if (!fail.ok()) return fail;
    auto it = veid.find(std::string(a));
    return it == veid.end() ? VeidStanding{} : it->second;
  }
  absl::StatusOr<MfaSession> Mfa(std::string_view a,
                                 std::string_view) const override {
    if (!fail.ok()) return fail;
    auto it = mfa.find(std::string(a));
    return it == mfa.end() ? MfaSession{} : it->second;
  }
  absl::StatusOr<bool> HasRole(std::string_view a,
                               std::string_view role) const override {
    if (!fail.ok()) return fail;
    auto it = roles.find(std::string(a));
    if (it == roles.end()) return false;
    for (const auto& r : it->second) {
      if (r == role) return true;
    }
    return false;
  }
};

GateProviders All(const MapFacts& f) { return GateProviders{&f, &f, &f}; }

void ExpectDenied(const absl::Status& s, const std::string& message) {
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
  EXPECT_EQ(s.message(), message);
}

TEST(GateTest, NoneNeedsNoProvider) {
  EXPECT_TRUE(GateRequirement().none());
  EXPECT_EQ(GateRequirement().Describe(), "none");
  EXPECT_TRUE(EvaluateGate(kMsg, GateRequirement(), "ve1a", 0, {}).ok());
}

TEST(GateTest, MissingProvidersRefuseNeverPass) {
  GateRequirement tier;
  tier.min_tier = VeidTier::kStandard;
  ExpectDenied(EvaluateGate(kMsg, tier, "ve1a", 0, {}),
               "gate: /virtengine.x.v1.MsgY needs VEID tier ≥ 2; no VEID "
               "facts provider is registered");
  GateRequirement score;
  score.min_score = 70;
  ExpectDenied(EvaluateGate(kMsg, score, "ve1a", 0, {}),
               "gate: /virtengine.x.v1.MsgY needs VEID score ≥ 70; no VEID "
               "facts provider is registered");
  GateRequirement mfa;
  mfa.mfa = MfaClass::kHigh;
  ExpectDenied(EvaluateGate(kMsg, mfa, "ve1a", 0, {}),
               "gate: /virtengine.x.v1.MsgY needs an MFA session of class "
               "high; no MFA facts provider is registered");
  GateRequirement role;
  role.role = "admin";
  ExpectDenied(EvaluateGate(kMsg, role, "ve1a", 0, {}),
               "gate: /virtengine.x.v1.MsgY needs role admin; no role facts "
               "provider is registered");
  // A provider of other facts does not stand in for the missing one.
  MapFacts f;
  f.roles["ve1a"] = {"admin"};
  GateProviders only_roles;
  only_roles.roles = &f;
  role.min_tier = VeidTier::kBasic;
  EXPECT_EQ(EvaluateGate(kMsg, role, "ve1a", 0, only_roles).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(GateTest, TierAndScore) {
  MapFacts f;
  GateRequirement req;
  req.min_tier = VeidTier::kStandard;
  ExpectDenied(EvaluateGate(kMsg, req, "ve1a", 0, All(f)),
               "gate: /virtengine.x.v1.MsgY needs VEID tier ≥ 2; signer has "
               "tier 0");
  f.veid["ve1a"] = {VeidTier::kPending, 0};
  ExpectDenied(EvaluateGate(kMsg, req, "ve1a", 0, All(f)),
               "gate: /virtengine.x.v1.MsgY needs VEID tier ≥ 2; signer has "
               "tier 0.5");
  f.veid["ve1a"] = {VeidTier::kBasic, 69};
  ExpectDenied(EvaluateGate(kMsg, req, "ve1a", 0, All(f)),
               "gate: /virtengine.x.v1.MsgY needs VEID tier ≥ 2; signer has "
               "tier 1");
  f.veid["ve1a"] = {VeidTier::kStandard, 72};
  EXPECT_TRUE(EvaluateGate(kMsg, req, "ve1a", 0, All(f)).ok());
  f.veid["ve1a"] = {VeidTier::kPremium, 90};
  EXPECT_TRUE(EvaluateGate(kMsg, req, "ve1a", 0, All(f)).ok());
  req.min_score = 95;
  ExpectDenied(EvaluateGate(kMsg, req, "ve1a", 0, All(f)),
               "gate: /virtengine.x.v1.MsgY needs VEID score ≥ 95; signer has "
               "score 90");
  // Another signer is judged on its own facts.
  ExpectDenied(EvaluateGate(kMsg, req, "ve1b", 0, All(f)),
               "gate: /virtengine.x.v1.MsgY needs VEID tier ≥ 2; signer has "
               "tier 0");
}

TEST(GateTest, MfaSessions) {
  MapFacts f;
  GateRequirement req;
  req.mfa = MfaClass::kMedium;
  ExpectDenied(EvaluateGate(kMsg, req, "ve1a", 100, All(f)),
               "gate: /virtengine.x.v1.MsgY needs an MFA session of class "
               "medium; signer has no authorization session");
  f.mfa["ve1a"] = {true, MfaClass::kHigh, 100};
  ExpectDenied(EvaluateGate(kMsg, req, "ve1a", 100, All(f)),
               "gate: /virtengine.x.v1.MsgY needs an MFA session of class "
               "medium; signer's session expired at 100 (block time 100)");
  f.mfa["ve1a"] = {true, MfaClass::kLow, 200};
  ExpectDenied(EvaluateGate(kMsg, req, "ve1a", 100, All(f)),
               "gate: /virtengine.x.v1.MsgY needs an MFA session of class "
               "medium; signer's session covers class low");
  f.mfa["ve1a"] = {true, MfaClass::kMedium, 101};
  EXPECT_TRUE(EvaluateGate(kMsg, req, "ve1a", 100, All(f)).ok());
  f.mfa["ve1a"] = {true, MfaClass::kCritical, 101};
  EXPECT_TRUE(EvaluateGate(kMsg, req, "ve1a", 100, All(f)).ok());
}

TEST(GateTest, RolesAndOrderOfChecks) {
  MapFacts f;
  GateRequirement req;
  req.min_tier = VeidTier::kPremium;
  req.mfa = MfaClass::kHigh;
  req.role = "admin";
  EXPECT_EQ(req.Describe(), "VEID tier ≥ 3, MFA high, role admin");
  f.roles["ve1a"] = {"operator"};
  // The tier is reported first.
  ExpectDenied(EvaluateGate(kMsg, req, "ve1a", 5, All(f)),
               "gate: /virtengine.x.v1.MsgY needs VEID tier ≥ 3; signer has "
               "tier 0");
  f.veid["ve1a"] = {VeidTier::kPremium, 88};
  f.mfa["ve1a"] = {true, MfaClass::kHigh, 10};
  ExpectDenied(EvaluateGate(kMsg, req, "ve1a", 5, All(f)),
               "gate: /virtengine.x.v1.MsgY needs role admin; signer does "
               "not have it");
  f.roles["ve1a"].push_back("admin");
  EXPECT_TRUE(EvaluateGate(kMsg, req, "ve1a", 5, All(f)).ok());
}

TEST(GateTest, ProviderErrorsAreNotPermissions) {
  MapFacts f;
  f.fail = absl::DataLossError("veid: corrupt record");
  GateRequirement req;
  req.min_tier = VeidTier::kBasic;
  absl::Status s = EvaluateGate(kMsg, req, "ve1a", 0, All(f));
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(), "gate: VEID facts: veid: corrupt record");
}

TEST(GateTest, ValidateRequirement) {
  GateRequirement r;
  r.min_score = 101;
  EXPECT_EQ(ValidateRequirement("x", r).code(),
            absl::StatusCode::kInvalidArgument);
  r.min_score = 100;
  r.role = "Admin!";
  EXPECT_EQ(ValidateRequirement("x", r).code(),
            absl::StatusCode::kInvalidArgument);
  r.role = "admin";
  EXPECT_TRUE(ValidateRequirement("x", r).ok());
}

// ---- the gate through the registry, with facts read from ledger state ----

std::string TempDir(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  return std::string(t != nullptr ? t : "/tmp") + "/" + name;
}

constexpr char kSetTier[] = "/virtengine.testveid.v1.MsgSetTier";
constexpr char kGated[] = "/virtengine.testapp.v1.MsgGated";

// Stores "tier/<address>" -> one byte (the VeidTier) in its own prefix and
// provides VEID facts from it. MsgSetTier's value is a StringValue holding
// the tier byte.
class TestVeid : public Module {
 public:
  std::string_view name() const override { return "testveid"; }
  std::vector<MessageSpec> messages() const override {
    return {MessageSpec{kSetTier, {}}};
  }
  absl::Status Handle(Context& ctx,
                      const google::protobuf::Any& msg) const override {
    google::protobuf::StringValue v;
    if (absl::Status s = ParseStrict("MsgSetTier", msg.value(), &v); !s.ok()) {
      return s;
    }
    ctx.store().Put("tier/" + ctx.signer(), v.value());
    return absl::OkStatus();
  }
  std::vector<GateFact> provided_gate_facts() const override {
    return {GateFact::kVeid};
  }
  std::unique_ptr<GateFacts> NewGateFacts(
      const PrefixView& own) const override {
    class Facts : public GateFacts {
     public:
      explicit Facts(const PrefixView& s) : s_(s) {}
      absl::StatusOr<VeidStanding> Veid(std::string_view a) const override {
        auto v = s_.Get("tier/" + std::string(a));
        if (!v.ok()) return v.status();
        if (!v->has_value() || (*v)->size() != 1) return VeidStanding{};
        return VeidStanding{static_cast<VeidTier>((**v)[0]), 0};
      }

     private:
      const PrefixView& s_;
    };
    return std::make_unique<Facts>(own);
  }
};

class TestApp : public Module {
 public:
  std::string_view name() const override { return "testapp"; }
  std::vector<MessageSpec> messages() const override {
    GateRequirement req;
    req.min_tier = VeidTier::kStandard;
    return {MessageSpec{kGated, req}};
  }
  absl::Status Handle(Context& ctx,
                      const google::protobuf::Any&) const override {
    ctx.store().Put("done", "1");
    return absl::OkStatus();
  }
};

google::protobuf::Any TierMsg(VeidTier t) {
  google::protobuf::StringValue v;
  v.set_value(std::string(1, static_cast<char>(t)));
  google::protobuf::Any any;
  any.set_type_url(kSetTier);
  any.set_value(v.SerializeAsString());
  return any;
}

TEST(GateRegistryTest, FactsComeFromTheProviderModulesState) {
  auto store = Store::Open(TempDir("gate_registry"));
  ASSERT_TRUE(store.ok());
  StateView view(store->get());
  BlockInfo block{"c", 1, 10};
  EventSink sink;

  // Without a provider the gated type is refused.
  auto lone = Registry::Builder().Add(std::make_shared<TestApp>()).Build();
  ASSERT_TRUE(lone.ok()) << lone.status();
  EXPECT_EQ((*lone)->CheckGate(&view, kGated, "ve1a", 10).message(),
            "gate: /virtengine.testapp.v1.MsgGated needs VEID tier ≥ 2; no "
            "VEID facts provider is registered");

  auto reg = Registry::Builder()
                 .Add(std::make_shared<TestApp>())
                 .Add(std::make_shared<TestVeid>())
                 .Build();
  ASSERT_TRUE(reg.ok()) << reg.status();
  EXPECT_EQ((*reg)->CheckGate(&view, kGated, "ve1a", 10).message(),
            "gate: /virtengine.testapp.v1.MsgGated needs VEID tier ≥ 2; "
            "signer has tier 0");
  EXPECT_TRUE((*reg)->CheckGate(&view, kSetTier, "ve1a", 10).ok());
  ASSERT_TRUE(
      (*reg)
          ->Dispatch(&view, TierMsg(VeidTier::kBasic), "ve1a", block, &sink)
          .ok());
  EXPECT_EQ((*reg)->CheckGate(&view, kGated, "ve1a", 10).message(),
            "gate: /virtengine.testapp.v1.MsgGated needs VEID tier ≥ 2; "
            "signer has tier 1");
  ASSERT_TRUE(
      (*reg)
          ->Dispatch(&view, TierMsg(VeidTier::kStandard), "ve1a", block, &sink)
          .ok());
  EXPECT_TRUE((*reg)->CheckGate(&view, kGated, "ve1a", 10).ok());
  EXPECT_EQ((*reg)->CheckGate(&view, kGated, "ve1b", 10).code(),
            absl::StatusCode::kPermissionDenied);
  // The facts live under the provider's prefix.
  EXPECT_TRUE(view.Get("testveid/tier/ve1a")->has_value());

  // A requirement override replaces the module's declaration.
  GateRequirement premium;
  premium.min_tier = VeidTier::kPremium;
  auto over = Registry::Builder()
                  .Add(std::make_shared<TestApp>())
                  .Add(std::make_shared<TestVeid>())
                  .SetRequirement(kGated, premium)
                  .Build();
  ASSERT_TRUE(over.ok());
  EXPECT_EQ((*over)->CheckGate(&view, kGated, "ve1a", 10).message(),
            "gate: /virtengine.testapp.v1.MsgGated needs VEID tier ≥ 3; "
            "signer has tier 2");
  EXPECT_EQ(
      (*over)->CheckGate(&view, "/virtengine.nope.v1.M", "ve1a", 10).code(),
      absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace virtengine::ledger
