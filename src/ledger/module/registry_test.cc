#include "src/ledger/module/registry.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "google/protobuf/wrappers.pb.h"
#include "src/ledger/store/store.h"

namespace virtengine::ledger {
namespace {

std::string TempDir(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  return std::string(t != nullptr ? t : "/tmp") + "/" + name;
}

// A configurable test module.
class FakeModule : public Module {
 public:
  explicit FakeModule(std::string name, std::vector<std::string> types = {},
                      std::vector<std::string> deps = {})
      : name_(std::move(name)),
        types_(std::move(types)),
        deps_(std::move(deps)) {}
  std::string_view name() const override { return name_; }
  std::vector<MessageSpec> messages() const override {
    std::vector<MessageSpec> out;
    for (const auto& t : types_) out.push_back(MessageSpec{t, requirement});
    return out;
  }
  std::vector<std::string> keeper_dependencies() const override {
    return deps_;
  }
  std::vector<GateFact> provided_gate_facts() const override { return facts; }

  GateRequirement requirement;
  std::vector<GateFact> facts;

 private:
  std::string name_;
  std::vector<std::string> types_;
  std::vector<std::string> deps_;
};

absl::Status BuildWith(std::vector<std::shared_ptr<const Module>> modules) {
  Registry::Builder b;
  for (auto& m : modules) b.Add(std::move(m));
  return b.Build().status();
}

void ExpectRefused(const absl::Status& s, const std::string& message) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(s.message(), message);
}

TEST(RegistryTest, RefusesDuplicatesAndMalformedDeclarations) {
  ExpectRefused(BuildWith({std::make_shared<FakeModule>("bank"),
                           std::make_shared<FakeModule>("bank")}),
                "registry: duplicate module bank");
  ExpectRefused(
      BuildWith({std::make_shared<FakeModule>(
                     "a", std::vector<std::string>{"/virtengine.a.v1.M"}),
                 std::make_shared<FakeModule>(
                     "b", std::vector<std::string>{"/virtengine.a.v1.M"})}),
      "registry: message type /virtengine.a.v1.M is handled by both a and b");
  ExpectRefused(BuildWith({std::make_shared<FakeModule>("meta")}),
                "registry: module name meta is reserved for the chain");
  EXPECT_EQ(BuildWith({std::make_shared<FakeModule>("Bank")}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildWith({std::make_shared<FakeModule>(
                          "a", std::vector<std::string>{"virtengine.a.v1.M"})})
                .code(),
            absl::StatusCode::kInvalidArgument);
  ExpectRefused(
      BuildWith({std::make_shared<FakeModule>("a", std::vector<std::string>{},
                                              std::vector<std::string>{"zz"})}),
      "registry: module a declares a keeper dependency on unknown module zz");
  ExpectRefused(
      BuildWith({std::make_shared<FakeModule>("a", std::vector<std::string>{},
                                              std::vector<std::string>{"a"})}),
      "registry: module a depends on itself");
  auto bad_req = std::make_shared<FakeModule>(
      "a", std::vector<std::string>{"/virtengine.a.v1.M"});
  bad_req->requirement.min_score = 101;
  EXPECT_EQ(BuildWith({bad_req}).code(), absl::StatusCode::kInvalidArgument);
  auto p1 = std::make_shared<FakeModule>("veid");
  p1->facts = {GateFact::kVeid};
  auto p2 = std::make_shared<FakeModule>("other");
  p2->facts = {GateFact::kRole, GateFact::kVeid};
  ExpectRefused(BuildWith({p1, p2}),
                "registry: VEID facts are provided by both veid and other");
  ExpectRefused(Registry::Builder()
                    .Add(std::make_shared<FakeModule>("a"))
                    .SetRequirement("/virtengine.a.v1.Nope", {})
                    .Build()
                    .status(),
                "registry: requirement for unregistered message type "
                "/virtengine.a.v1.Nope");
}

TEST(RegistryTest, LooksUpModulesHandlersAndRequirementsInOrder) {
  auto reg = Registry::Builder()
                 .Add(std::make_shared<FakeModule>(
                     "zeta", std::vector<std::string>{"/virtengine.z.v1.M"}))
                 .Add(std::make_shared<FakeModule>(
                     "alpha", std::vector<std::string>{"/virtengine.a.v1.M",
                                                       "/virtengine.a.v1.N"}))
                 .Build();
  ASSERT_TRUE(reg.ok()) << reg.status();
  const Registry& r = **reg;
  ASSERT_NE(r.FindModule("alpha"), nullptr);
  EXPECT_EQ(r.FindModule("nope"), nullptr);
  EXPECT_EQ(r.FindHandler("/virtengine.a.v1.N")->name(), "alpha");
  EXPECT_EQ(r.FindHandler("/virtengine.x.v1.N"), nullptr);
  ASSERT_NE(r.FindRequirement("/virtengine.z.v1.M"), nullptr);
  EXPECT_TRUE(r.FindRequirement("/virtengine.z.v1.M")->none());
  std::vector<std::string> names;
  for (const Module* m : r.modules()) names.emplace_back(m->name());
  EXPECT_EQ(names, (std::vector<std::string>{"alpha", "zeta"}));
  EXPECT_EQ(r.requirements().size(), 3u);
  EXPECT_EQ(r.requirements()[0].first, "/virtengine.a.v1.M");
}

// ---- handlers, prefixes, keepers and events ----

constexpr char kIncrement[] = "/virtengine.counter.v1.MsgIncrement";
constexpr char kUse[] = "/virtengine.user.v1.MsgUse";

class CounterKeeper : public KeeperInterface {
 public:
  virtual absl::StatusOr<int> Increment() = 0;
};

// "counter": keeps a count under its own prefix and offers CounterKeeper.
class Counter : public Module {
 public:
  std::string_view name() const override { return "counter"; }
  std::vector<MessageSpec> messages() const override {
    return {MessageSpec{kIncrement, {}}};
  }
  absl::Status Handle(Context& ctx,
                      const google::protobuf::Any&) const override {
    return Bump(ctx).status();
  }
  std::unique_ptr<KeeperInterface> NewKeeper(Context& own) const override {
    class K : public CounterKeeper {
     public:
      explicit K(Context& c) : c_(c) {}
      absl::StatusOr<int> Increment() override { return Bump(c_); }

     private:
      Context& c_;
    };
    return std::make_unique<K>(own);
  }
  static absl::StatusOr<int> Bump(Context& ctx) {
    auto v = ctx.store().Get("count");
    if (!v.ok()) return v.status();
    const int n = v->has_value() ? std::stoi(**v) + 1 : 1;
    ctx.store().Put("count", std::to_string(n));
    google::protobuf::StringValue ev;
    ev.set_value(absl::StrCat("count=", n, " by ", ctx.signer()));
    ctx.events().Emit(ev);
    return n;
  }
};

// "user": writes its own key, then bumps the counter through its keeper.
class User : public Module {
 public:
  explicit User(bool declare) : declare_(declare) {}
  std::string_view name() const override { return "user"; }
  std::vector<MessageSpec> messages() const override {
    return {MessageSpec{kUse, {}}};
  }
  std::vector<std::string> keeper_dependencies() const override {
    if (declare_) return {"counter"};
    return {};
  }
  absl::Status Handle(Context& ctx,
                      const google::protobuf::Any&) const override {
    ctx.store().Put("used", ctx.signer());
    // The wrong interface type is refused.
    auto wrong = ctx.GetKeeper<User>("counter");
    if (wrong.ok()) return absl::InternalError("wrong keeper type accepted");
    auto k = ctx.GetKeeper<CounterKeeper>("counter");
    if (!k.ok()) return k.status();
    return (*k)->Increment().status();
  }

 private:
  bool declare_;
};

google::protobuf::Any Msg(const std::string& type) {
  google::protobuf::Any any;
  any.set_type_url(type);
  return any;
}

TEST(RegistryTest, HandlersSeeTheirPrefixAndCallKeepersTheyDeclared) {
  auto store = Store::Open(TempDir("registry_keepers"));
  ASSERT_TRUE(store.ok());
  auto reg = Registry::Builder()
                 .Add(std::make_shared<Counter>())
                 .Add(std::make_shared<User>(true))
                 .Build();
  ASSERT_TRUE(reg.ok()) << reg.status();
  StateView view(store->get());
  BlockInfo block{"chain", 3, 30};
  EventSink sink;
  ASSERT_TRUE((*reg)->Dispatch(&view, Msg(kUse), "ve1a", block, &sink).ok());
  ASSERT_TRUE(
      (*reg)->Dispatch(&view, Msg(kIncrement), "ve1b", block, &sink).ok());
  EXPECT_EQ(**view.Get("user/used"), "ve1a");
  EXPECT_EQ(**view.Get("counter/count"), "2");
  ASSERT_EQ(sink.events().size(), 2u);
  EXPECT_EQ(sink.events()[0].type_url(), "/google.protobuf.StringValue");
  google::protobuf::StringValue ev;
  ASSERT_TRUE(sink.events()[0].UnpackTo(&ev));
  EXPECT_EQ(ev.value(), "count=1 by ve1a");
  // Only the two modules' prefixes were written.
  for (const auto& [k, v] : view.writes()) {
    EXPECT_TRUE(k.rfind("user/", 0) == 0 || k.rfind("counter/", 0) == 0) << k;
  }
  absl::Status unknown =
      (*reg)->Dispatch(&view, Msg("/virtengine.x.v1.M"), "ve1a", block, &sink);
  EXPECT_EQ(unknown.code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(unknown.message(), "unknown message type /virtengine.x.v1.M");
}

TEST(RegistryTest, UndeclaredKeeperIsRefused) {
  auto store = Store::Open(TempDir("registry_undeclared"));
  ASSERT_TRUE(store.ok());
  auto reg = Registry::Builder()
                 .Add(std::make_shared<Counter>())
                 .Add(std::make_shared<User>(false))
                 .Build();
  ASSERT_TRUE(reg.ok());
  StateView view(store->get());
  BlockInfo block{"chain", 1, 0};
  EventSink sink;
  absl::Status s = (*reg)->Dispatch(&view, Msg(kUse), "ve1a", block, &sink);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "module user did not declare a keeper dependency on counter");
  EXPECT_FALSE(view.Get("counter/count")->has_value());
}

TEST(ParseStrictTest, RefusesGarbageAndUnknownFields) {
  google::protobuf::StringValue v;
  EXPECT_TRUE(ParseStrict("m", "\x0a\x01x", &v).ok());
  EXPECT_EQ(v.value(), "x");
  EXPECT_EQ(ParseStrict("m", "\x0a\x05x", &v).message(),
            "m is not a valid StringValue");
  EXPECT_EQ(ParseStrict("m", std::string("\x10\x01", 2), &v).message(),
            "m carries unknown fields");
}

}  // namespace
}  // namespace virtengine::ledger
