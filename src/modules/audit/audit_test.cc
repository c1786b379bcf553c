#include "src/modules/audit/audit.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "src/api/audit/v1/audit.pb.h"
#include "src/ledger/module/registry.h"
#include "src/ledger/store/store.h"

namespace virtengine::audit {
namespace {

using ledger::BlockInfo;
using ledger::EventSink;
using ledger::PrefixView;
using ledger::QueryContext;
using ledger::Registry;
using ledger::StateView;

constexpr char kAlice[] = "ve1y8lrrhap2j3xzcntlp2qgm7jyudhhm2tyrvzn3";
constexpr char kCompliance[] = "/virtengine.compliance.v1.MsgExport";

std::string TempDir(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  return std::string(t != nullptr ? t : "/tmp") + "/" + name;
}

// A module that records through the AuditSink keeper it declared.
class Compliance : public ledger::Module {
 public:
  std::string_view name() const override { return "compliance"; }
  std::vector<ledger::MessageSpec> messages() const override {
    return {ledger::MessageSpec{kCompliance, {}}};
  }
  std::vector<std::string> keeper_dependencies() const override {
    return {"audit"};
  }
  absl::Status Handle(ledger::Context& ctx,
                      const google::protobuf::Any&) const override {
    auto sink = ctx.GetKeeper<AuditSink>("audit");
    if (!sink.ok()) return sink.status();
    auto seq = (*sink)->Record("compliance.bundle", "bundle 2024-q1",
                               "module:compliance", std::string(32, '\x07'),
                               {{"controls", "CC6.1"}, {"format", "oscal"}});
    if (!seq.ok()) return seq.status();
    ctx.store().Put("last", std::to_string(*seq));
    return absl::OkStatus();
  }
};

google::protobuf::Any RecordMsg(const std::string& kind,
                                const std::string& subject,
                                const std::string& digest) {
  v1::MsgRecordAudit m;
  m.set_kind(kind);
  m.set_subject(subject);
  m.set_digest(digest);
  google::protobuf::Any any;
  any.PackFrom(m, "/");
  return any;
}

class AuditModuleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int n = 0;
    auto store = ledger::Store::Open(TempDir("audit" + std::to_string(n++)));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    view_ = std::make_unique<StateView>(store_.get());
    auto reg = Registry::Builder()
                   .Add(std::make_shared<AuditModule>())
                   .Add(std::make_shared<Compliance>())
                   .Build();
    ASSERT_TRUE(reg.ok()) << reg.status();
    registry_ = *std::move(reg);
  }

  absl::Status Dispatch(const google::protobuf::Any& msg,
                        const std::string& signer = kAlice) {
    return registry_->Dispatch(view_.get(), msg, signer, block_, &sink_);
  }

  absl::StatusOr<std::string> Query(const std::string& path,
                                    const std::string& request) {
    PrefixView p(view_.get(), "audit");
    QueryContext q(&p, block_.height);
    return module_.Query(q, path, request);
  }

  absl::Status Invariants() {
    PrefixView p(view_.get(), "audit");
    QueryContext q(&p, block_.height);
    return module_.CheckInvariants(q);
  }

  AuditModule module_;
  std::unique_ptr<ledger::Store> store_;
  std::unique_ptr<StateView> view_;
  std::unique_ptr<const Registry> registry_;
  BlockInfo block_{"c", 5, 50};
  EventSink sink_;
};

TEST_F(AuditModuleTest, RecordsChainAndAnswerQueries) {
  auto head0 = Query("head", "");
  ASSERT_TRUE(head0.ok()) << head0.status();
  v1::QueryHeadResponse h;
  ASSERT_TRUE(h.ParseFromString(*head0));
  EXPECT_EQ(h.seq(), 0u);
  EXPECT_EQ(h.head(), std::string(32, '\0'));

  const std::string digest(32, '\x01');
  ASSERT_TRUE(
      Dispatch(RecordMsg("node.audit_log_head", "node-1", digest)).ok());
  block_.height = 6;
  ASSERT_TRUE(Dispatch(RecordMsg("compliance.bundle", "q1", digest)).ok());

  ASSERT_TRUE(h.ParseFromString(*Query("head", "")));
  EXPECT_EQ(h.seq(), 2u);
  // The head is the chain over both records' canonical bytes.
  v1::QueryRecordRequest req;
  req.set_seq(1);
  v1::QueryRecordResponse r1;
  ASSERT_TRUE(r1.ParseFromString(*Query("record", req.SerializeAsString())));
  EXPECT_EQ(r1.record().actor(), kAlice);
  EXPECT_EQ(r1.record().height(), 5u);
  EXPECT_EQ(r1.record().kind(), "node.audit_log_head");
  req.set_seq(2);
  v1::QueryRecordResponse r2;
  ASSERT_TRUE(r2.ParseFromString(*Query("record", req.SerializeAsString())));
  EXPECT_EQ(r2.record().height(), 6u);
  Head h1 = *ChainHead(Head{}, r1.record_bytes());
  EXPECT_EQ(r1.head(), std::string(h1.begin(), h1.end()));
  Head h2 = *ChainHead(h1, r2.record_bytes());
  EXPECT_EQ(h.head(), std::string(h2.begin(), h2.end()));
  EXPECT_EQ(r2.head(), h.head());
  auto state = ReadChain(PrefixView(view_.get(), "audit"));
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->head, h2);

  // One event per record, carrying the new head.
  ASSERT_EQ(sink_.events().size(), 2u);
  v1::EventAuditRecorded ev;
  ASSERT_TRUE(sink_.events()[1].UnpackTo(&ev));
  EXPECT_EQ(ev.seq(), 2u);
  EXPECT_EQ(ev.head(), h.head());
  EXPECT_EQ(sink_.events()[1].type_url(),
            "/virtengine.audit.v1.EventAuditRecorded");

  req.set_seq(3);
  EXPECT_EQ(Query("record", req.SerializeAsString()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Query("nope", "").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Query("head", "\xff").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Invariants().ok());
}

TEST_F(AuditModuleTest, MessageValidationWritesNothing) {
  const std::string digest(32, '\x01');
  struct Case {
    google::protobuf::Any msg;
    std::string reason;
  };
  std::vector<Case> cases = {
      {RecordMsg("Bad", "s", digest), "MsgRecordAudit.kind"},
      {RecordMsg("", "s", digest), "MsgRecordAudit.kind"},
      {RecordMsg("k", "", digest), "MsgRecordAudit.subject: empty"},
      {RecordMsg("k", "tab\tinside", digest), "MsgRecordAudit.subject"},
      {RecordMsg("k", "s", std::string(31, 'x')),
       "MsgRecordAudit.digest: 31 bytes, want 32"},
      {RecordMsg("k", "s", ""), "MsgRecordAudit.digest: 0 bytes, want 32"},
  };
  google::protobuf::Any unknown = RecordMsg("k", "s", digest);
  unknown.mutable_value()->append("\x20\x01");  // field 4, varint
  cases.push_back({unknown, "audit: MsgRecordAudit carries unknown fields"});
  google::protobuf::Any garbage = RecordMsg("k", "s", digest);
  garbage.set_value("\x0a\x09");
  cases.push_back({garbage, "audit: MsgRecordAudit is not a valid"});
  for (const Case& c : cases) {
    absl::Status s = Dispatch(c.msg);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_EQ(s.message().rfind(c.reason, 0), 0u) << s;
  }
  EXPECT_TRUE(view_->writes().empty());
  EXPECT_TRUE(sink_.events().empty());
}

TEST_F(AuditModuleTest, OtherModulesRecordThroughTheSink) {
  google::protobuf::Any any;
  any.set_type_url(kCompliance);
  ASSERT_TRUE(Dispatch(any).ok());
  EXPECT_EQ(**view_->Get("compliance/last"), "1");
  v1::QueryRecordRequest req;
  req.set_seq(1);
  v1::QueryRecordResponse r;
  ASSERT_TRUE(r.ParseFromString(*Query("record", req.SerializeAsString())));
  EXPECT_EQ(r.record().actor(), "module:compliance");
  ASSERT_EQ(r.record().details_size(), 2);
  EXPECT_EQ(r.record().details(0).key(), "controls");
  EXPECT_EQ(sink_.events().size(), 1u);
  EXPECT_TRUE(Invariants().ok());
}

TEST_F(AuditModuleTest, InvariantCatchesTampering) {
  const std::string digest(32, '\x01');
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Dispatch(RecordMsg("k", "s" + std::to_string(i), digest)).ok());
  }
  ASSERT_TRUE(Invariants().ok());
  PrefixView raw(view_.get(), "audit");
  const std::string key2 = std::string("rec/") + std::string(7, '\0') + "\x02";
  const std::string original = **raw.Get(key2);
  // A changed subject byte: the stored head no longer recomputes.
  std::string changed = original;
  changed[changed.find("s1")] = 't';
  raw.Put(key2, changed);
  absl::Status s = Invariants();
  EXPECT_EQ(s.message(),
            "audit: invariant broken: the head stored with record 2 is not "
            "the recomputed head");
  // Bytes that no longer decode.
  raw.Put(key2, original.substr(0, 40));
  EXPECT_EQ(Invariants().code(), absl::StatusCode::kDataLoss);
  // A removed record: the sequence has a gap.
  raw.Delete(key2);
  s = Invariants();
  EXPECT_EQ(s.message(),
            "audit: invariant broken: record after seq 1 is not seq 2");
  raw.Put(key2, original);
  ASSERT_TRUE(Invariants().ok());
  // A head that disagrees with the records.
  const std::string head = **raw.Get("head");
  std::string bad_head = head;
  bad_head[20] = static_cast<char>(bad_head[20] ^ 1);
  raw.Put("head", bad_head);
  EXPECT_EQ(Invariants().code(), absl::StatusCode::kInternal);
}

TEST_F(AuditModuleTest, GenesisRoundTrip) {
  const std::string digest(32, '\x02');
  ASSERT_TRUE(Dispatch(RecordMsg("a.b", "one", digest)).ok());
  ASSERT_TRUE(Dispatch(RecordMsg("a.c", "two", digest)).ok());
  PrefixView p(view_.get(), "audit");
  QueryContext q(&p, 5);
  auto exported = module_.ExportGenesis(q);
  ASSERT_TRUE(exported.ok()) << exported.status();
  v1::GenesisState g;
  ASSERT_TRUE(g.ParseFromString(*exported));
  ASSERT_EQ(g.records_size(), 2);

  // Import into a fresh state: same head.
  auto store2 = ledger::Store::Open(TempDir("audit_genesis"));
  ASSERT_TRUE(store2.ok());
  StateView v2(store2->get());
  EventSink sink;
  BlockInfo genesis{"c", 0, 0};
  ledger::Context ctx(registry_.get(), registry_->FindModule("audit"), &v2, "",
                      &genesis, &sink);
  ASSERT_TRUE(module_.InitGenesis(ctx, *exported).ok());
  EXPECT_EQ(ReadChain(PrefixView(&v2, "audit"))->head,
            ReadChain(PrefixView(view_.get(), "audit"))->head);

  // Out of order or invalid records are refused.
  v1::GenesisState bad = g;
  bad.mutable_records(0)->set_seq(2);
  StateView v3(store2->get());
  ledger::Context ctx3(registry_.get(), registry_->FindModule("audit"), &v3, "",
                       &genesis, &sink);
  EXPECT_EQ(module_.InitGenesis(ctx3, bad.SerializeAsString()).message(),
            "audit genesis: record 0 has seq 2, want 1");
  bad = g;
  bad.mutable_records(1)->set_digest("short");
  EXPECT_EQ(module_.InitGenesis(ctx3, bad.SerializeAsString()).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace virtengine::audit
