// The governance module inside a real ledger (RocksDB under TEST_TMPDIR)
// with the cluster module: proposals pass by majority and are executed,
// are rejected, fail with a reason, expire; non-members are refused; the
// measurement allowlist keeps added and retired heights.
#include "src/modules/gov/gov.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "src/api/cluster/v1/cluster.pb.h"
#include "src/api/gov/v1/gov.pb.h"
#include "src/ledger/chain/ledger.h"
#include "src/ledger/chain/ledger_test_util.h"
#include "src/modules/cluster/test_util.h"

namespace virtengine::gov {
namespace {

using ledger::test_util::Account;
using ledger::test_util::NewAccount;

using cluster::test_util::Pack;

v1::Measurement Meas(const std::string& version, char fill) {
  v1::Measurement m;
  m.set_name("appliance");
  m.set_version(version);
  v1::PcrValue* v = m.add_values();
  v->set_pcr(11);
  v->set_sha256(std::string(32, fill));
  return m;
}

class GovTest : public cluster::test_util::ModulesTest {
 protected:
  void SetUp() override {
    cluster::v1::GenesisState cg;
    *cg.add_members() =
        cluster::test_util::Member(1, "127.0.0.1:26656", 'k', true);
    v1::GenesisState gg;
    gg.add_members(a_.address);
    gg.add_members(b_.address);
    gg.add_members(c_.address);
    *gg.add_measurements() = Meas("1.0.0", 'a');
    ASSERT_NO_FATAL_FAILURE(
        OpenLedger("gov", {&a_, &b_, &c_, &outsider_}, cg, gg));
  }

  uint64_t Propose(Account& from, const v1::Action& action) {
    v1::MsgSubmitProposal m;
    m.set_title("test proposal");
    *m.mutable_action() = action;
    auto [code, log] = Run(from, Pack(m));
    EXPECT_EQ(code, ledger::kTxOk) << log;
    return Proposals().back().id();
  }
  std::pair<uint32_t, std::string> Vote(Account& from, uint64_t id, bool yes) {
    v1::MsgVote v;
    v.set_proposal_id(id);
    v.set_yes(yes);
    return Run(from, Pack(v));
  }
  std::vector<v1::Proposal> Proposals() {
    auto r = ledger_->Query("gov", "proposals", "");
    EXPECT_TRUE(r.ok()) << r.status();
    v1::QueryProposalsResponse resp;
    EXPECT_TRUE(resp.ParseFromString(*r));
    return {resp.proposals().begin(), resp.proposals().end()};
  }
  std::vector<v1::Measurement> Measurements() {
    auto r = ledger_->Query("gov", "measurements", "");
    EXPECT_TRUE(r.ok()) << r.status();
    v1::QueryMeasurementsResponse resp;
    EXPECT_TRUE(resp.ParseFromString(*r));
    return {resp.measurements().begin(), resp.measurements().end()};
  }

  Account a_ = NewAccount();
  Account b_ = NewAccount();
  Account c_ = NewAccount();
  Account outsider_ = NewAccount();
};

TEST_F(GovTest, MajorityAddsAndRetiresMeasurements) {
  v1::Action add;
  *add.mutable_add_measurement() = Meas("1.1.0", 'b');
  const uint64_t id = Propose(a_, add);
  auto [code, log] = Vote(a_, id, true);
  ASSERT_EQ(code, ledger::kTxOk) << log;
  EXPECT_EQ(Proposals().back().status(), v1::VOTING);  // 1 of 3
  EXPECT_EQ(Measurements().size(), 1u);
  std::tie(code, log) = Vote(b_, id, true);  // 2 of 3: a majority
  ASSERT_EQ(code, ledger::kTxOk) << log;
  v1::Proposal p = Proposals().back();
  EXPECT_EQ(p.status(), v1::PASSED);
  EXPECT_EQ(p.yes(), 2u);
  std::vector<v1::Measurement> ms = Measurements();
  ASSERT_EQ(ms.size(), 2u);
  EXPECT_EQ(ms[1].version(), "1.1.0");
  EXPECT_EQ(ms[1].proposal_id(), id);
  EXPECT_EQ(ms[1].added_height(), p.decided_height());
  // Decided: the third vote is refused.
  std::tie(code, log) = Vote(c_, id, true);
  EXPECT_EQ(code, ledger::kTxMessageFailed);
  EXPECT_NE(log.find("is decided"), std::string::npos) << log;

  v1::Action retire;
  retire.mutable_retire_measurement()->set_name("appliance");
  retire.mutable_retire_measurement()->set_version("1.0.0");
  const uint64_t r = Propose(b_, retire);
  Vote(a_, r, true);
  Vote(c_, r, true);
  ms = Measurements();
  ASSERT_EQ(ms.size(), 2u);
  EXPECT_GT(ms[0].retired_height(), 0u);
  EXPECT_EQ(ms[1].retired_height(), 0u);
  EXPECT_TRUE(ledger_->CheckInvariants().ok());
}

TEST_F(GovTest, RefusesNonMembersDoubleVotesAndBadActions) {
  v1::Action add;
  *add.mutable_add_measurement() = Meas("2.0.0", 'c');
  v1::MsgSubmitProposal m;
  m.set_title("outsider");
  *m.mutable_action() = add;
  auto [code, log] = Run(outsider_, Pack(m));
  EXPECT_EQ(code, ledger::kTxMessageFailed);
  EXPECT_NE(log.find("not a member"), std::string::npos) << log;
  const uint64_t id = Propose(a_, add);
  std::tie(code, log) = Vote(outsider_, id, true);
  EXPECT_EQ(code, ledger::kTxMessageFailed) << log;
  ASSERT_EQ(Vote(a_, id, true).first, ledger::kTxOk);
  std::tie(code, log) = Vote(a_, id, false);
  EXPECT_EQ(code, ledger::kTxMessageFailed);
  EXPECT_NE(log.find("already voted"), std::string::npos) << log;
  std::tie(code, log) = Vote(a_, 999, true);
  EXPECT_NE(log.find("no proposal 999"), std::string::npos) << log;

  struct Case {
    const char* what;
    v1::Action action;
    const char* reason;
  };
  std::vector<Case> cases;
  {
    v1::Action x;
    *x.mutable_add_measurement() = Meas("", 'a');
    cases.push_back({"no version", x, "version"});
  }
  {
    v1::Action x;
    v1::Measurement bad = Meas("3", 'a');
    bad.mutable_values(0)->set_sha256("short");
    *x.mutable_add_measurement() = bad;
    cases.push_back({"short pcr", x, "32 bytes"});
  }
  {
    v1::Action x;
    v1::Measurement bad = Meas("3", 'a');
    bad.mutable_values(0)->set_pcr(24);
    *x.mutable_add_measurement() = bad;
    cases.push_back({"pcr 24", x, "PCRs 0..23"});
  }
  {
    v1::Action x;
    x.mutable_set_param()->set_key("block_size");
    x.mutable_set_param()->set_value("1");
    cases.push_back({"unknown param", x, "unknown parameter"});
  }
  {
    v1::Action x;
    x.mutable_set_param()->set_key("threshold_bps");
    x.mutable_set_param()->set_value("20000");
    cases.push_back({"threshold", x, "1..10000"});
  }
  {
    v1::Action x;
    x.set_add_member("ve1nope");
    cases.push_back({"address", x, "address"});
  }
  cases.push_back({"empty", v1::Action(), "no action"});
  for (const Case& c : cases) {
    v1::MsgSubmitProposal s;
    s.set_title(c.what);
    *s.mutable_action() = c.action;
    std::tie(code, log) = Run(a_, Pack(s));
    EXPECT_EQ(code, ledger::kTxMessageFailed) << c.what << ": " << log;
    EXPECT_NE(log.find(c.reason), std::string::npos) << c.what << ": " << log;
  }
}

TEST_F(GovTest, RejectionFailureNodesAndExpiry) {
  // Two no votes of three: it can no longer pass.
  v1::Action add;
  *add.mutable_add_measurement() = Meas("4.0.0", 'd');
  uint64_t id = Propose(a_, add);
  Vote(b_, id, false);
  Vote(c_, id, false);
  EXPECT_EQ(Proposals().back().status(), v1::REJECTED);

  // A node added by governance lands in the cluster module.
  v1::Action node;
  cluster::v1::MsgAddNode* n = node.mutable_add_node();
  n->set_raft_id(2);
  n->set_raft_address("127.0.0.1:26657");
  n->set_node_public_key(std::string(32, 'n'));
  id = Propose(a_, node);
  Vote(a_, id, true);
  Vote(b_, id, true);
  EXPECT_EQ(Proposals().back().status(), v1::PASSED)
      << Proposals().back().result();
  EXPECT_EQ(Members().size(), 2u);
  // The same node again: the proposal passes but fails with the cluster's
  // reason, and nothing changes.
  id = Propose(a_, node);
  Vote(a_, id, true);
  Vote(c_, id, true);
  v1::Proposal failed = Proposals().back();
  EXPECT_EQ(failed.status(), v1::FAILED);
  EXPECT_NE(failed.result().find("already a member"), std::string::npos)
      << failed.result();

  // Voting period 2 blocks: a proposal left alone expires.
  v1::Action period;
  period.mutable_set_param()->set_key("voting_period_blocks");
  period.mutable_set_param()->set_value("2");
  id = Propose(b_, period);
  Vote(a_, id, true);
  Vote(b_, id, true);
  id = Propose(a_, add);
  Run(a_, Pack(v1::MsgVote()));  // a block passes (the vote itself fails)
  Run(a_, Pack(v1::MsgVote()));
  auto [code, log] = Vote(b_, id, true);
  EXPECT_EQ(code, ledger::kTxMessageFailed);
  EXPECT_NE(log.find("expired"), std::string::npos) << log;
  EXPECT_EQ(Proposals().back().status(), v1::EXPIRED);
  EXPECT_TRUE(ledger_->CheckInvariants().ok());
}

}  // namespace
}  // namespace virtengine::gov
