// The cluster module inside a real ledger (RocksDB under TEST_TMPDIR):
// operators add, promote and remove nodes; everyone else is refused by the
// gate; malformed or conflicting changes fail and write nothing.
#include "src/modules/cluster/cluster.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "src/api/cluster/v1/cluster.pb.h"
#include "src/ledger/chain/ledger.h"
#include "src/ledger/chain/ledger_test_util.h"
#include "src/modules/cluster/test_util.h"

namespace virtengine::cluster {
namespace {

using ledger::test_util::Account;
using ledger::test_util::NewAccount;

using test_util::Member;
using test_util::Pack;

std::string Key(char fill) { return std::string(32, fill); }

class ClusterTest : public test_util::ModulesTest {
 protected:
  void SetUp() override {
    v1::GenesisState cg;
    cg.add_operators(op_.address);
    *cg.add_members() = Member(1, "127.0.0.1:26656", 'a', true);
    gov::v1::GenesisState gg;
    gg.add_members(op_.address);
    ASSERT_NO_FATAL_FAILURE(OpenLedger("cluster", {&op_, &other_}, cg, gg));
  }

  std::vector<v1::Member> Members() {
    v1::QueryMembersResponse resp = QueryMembers();
    EXPECT_EQ(resp.operators_size(), 1);
    return {resp.members().begin(), resp.members().end()};
  }

  Account op_ = NewAccount();
  Account other_ = NewAccount();
};

TEST_F(ClusterTest, OperatorAddsPromotesAndRemoves) {
  v1::MsgAddNode add;
  add.set_raft_id(2);
  add.set_raft_address("127.0.0.1:26657");
  add.set_grpc_address("127.0.0.1:9091");
  add.set_node_public_key(Key('b'));
  auto [code, log] = Run(op_, Pack(add));
  ASSERT_EQ(code, ledger::kTxOk) << log;
  std::vector<v1::Member> m = Members();
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[1].raft_id(), 2u);
  EXPECT_FALSE(m[1].voter());
  EXPECT_EQ(m[1].added_by(), op_.address);
  EXPECT_GT(m[1].added_height(), 0u);

  v1::MsgSetNodeRole promote;
  promote.set_raft_id(2);
  promote.set_voter(true);
  std::tie(code, log) = Run(op_, Pack(promote));
  ASSERT_EQ(code, ledger::kTxOk) << log;
  EXPECT_TRUE(Members()[1].voter());

  v1::MsgRemoveNode remove;
  remove.set_raft_id(1);
  std::tie(code, log) = Run(op_, Pack(remove));
  ASSERT_EQ(code, ledger::kTxOk) << log;
  m = Members();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].raft_id(), 2u);

  // The last voter stays.
  remove.set_raft_id(2);
  std::tie(code, log) = Run(op_, Pack(remove));
  EXPECT_EQ(code, ledger::kTxMessageFailed);
  EXPECT_NE(log.find("no voter"), std::string::npos) << log;
  EXPECT_EQ(Members().size(), 1u);
  EXPECT_TRUE(ledger_->CheckInvariants().ok());

  // Every change left an audit record (3 so far).
  auto head = ledger_->Query("audit", "head", "");
  ASSERT_TRUE(head.ok());
}

TEST_F(ClusterTest, RefusesNonOperatorsAndBadChanges) {
  v1::MsgAddNode add;
  add.set_raft_id(2);
  add.set_raft_address("127.0.0.1:26657");
  add.set_node_public_key(Key('b'));
  auto [code, log] = Run(other_, Pack(add));
  EXPECT_EQ(code, ledger::kTxGateRefused) << log;
  EXPECT_NE(log.find("role operator"), std::string::npos) << log;

  struct Case {
    const char* what;
    v1::MsgAddNode msg;
    const char* reason;
  };
  std::vector<Case> cases;
  {
    v1::MsgAddNode m = add;
    m.set_raft_id(1);
    cases.push_back({"duplicate id", m, "already a member"});
  }
  {
    v1::MsgAddNode m = add;
    m.set_raft_address("127.0.0.1:26656");
    cases.push_back({"duplicate address", m, "already a member"});
  }
  {
    v1::MsgAddNode m = add;
    m.set_node_public_key(Key('a'));
    cases.push_back({"duplicate key", m, "already a member"});
  }
  {
    v1::MsgAddNode m = add;
    m.set_raft_address("localhost:26657");
    cases.push_back({"hostname", m, "canonical IPv4"});
  }
  {
    v1::MsgAddNode m = add;
    m.set_raft_address("127.0.0.1:0");
    cases.push_back({"port 0", m, "port"});
  }
  {
    v1::MsgAddNode m = add;
    m.set_node_public_key("short");
    cases.push_back({"short key", m, "32 bytes"});
  }
  {
    v1::MsgAddNode m = add;
    m.set_raft_id(0);
    cases.push_back({"id 0", m, "raft_id"});
  }
  {
    v1::MsgAddNode m = add;
    m.set_grpc_address("no-port");
    cases.push_back({"grpc address", m, "host:port"});
  }
  for (const Case& c : cases) {
    std::tie(code, log) = Run(op_, Pack(c.msg));
    EXPECT_EQ(code, ledger::kTxMessageFailed) << c.what << ": " << log;
    EXPECT_NE(log.find(c.reason), std::string::npos) << c.what << ": " << log;
  }
  v1::MsgSetNodeRole role;
  role.set_raft_id(9);
  std::tie(code, log) = Run(op_, Pack(role));
  EXPECT_EQ(code, ledger::kTxMessageFailed);
  EXPECT_NE(log.find("no member with raft id 9"), std::string::npos) << log;
  // Demoting the only voter would leave no voter.
  role.set_raft_id(1);
  role.set_voter(false);
  std::tie(code, log) = Run(op_, Pack(role));
  EXPECT_EQ(code, ledger::kTxMessageFailed) << log;
  EXPECT_EQ(Members().size(), 1u);
  EXPECT_TRUE(Members()[0].voter());
  EXPECT_TRUE(ledger_->CheckInvariants().ok());
}

TEST(ClusterGenesisTest, RefusesInvalidGenesis) {
  ClusterModule mod;
  struct Case {
    const char* what;
    v1::GenesisState g;
  };
  std::vector<Case> cases;
  {
    v1::GenesisState g;
    *g.add_members() = Member(1, "127.0.0.1:1", 'a', false);
    cases.push_back({"no voter", g});
  }
  {
    v1::GenesisState g;
    *g.add_members() = Member(1, "127.0.0.1:1", 'a', true);
    g.add_operators("not-an-address");
    cases.push_back({"bad operator", g});
  }
  {
    v1::GenesisState g;
    *g.add_members() = Member(1, "127.0.0.1:1", 'a', true);
    *g.add_members() = Member(1, "127.0.0.1:2", 'b', true);
    cases.push_back({"duplicate id", g});
  }
  for (const Case& c : cases) {
    ledger::LedgerOptions o;
    o.extra_modules.push_back(std::make_shared<ClusterModule>());
    o.extra_modules.push_back(std::make_shared<gov::GovModule>());
    static int n = 0;
    auto l = ledger::Ledger::Open(
        ledger::test_util::TempDir("cluster_g" + std::to_string(n++)), o);
    ASSERT_TRUE(l.ok());
    Account a = NewAccount();
    ledger::Genesis g = ledger::test_util::MakeGenesis({&a});
    g.modules["cluster"] = c.g.SerializeAsString();
    absl::Status s = (*l)->InitGenesis(g);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.what << s;
  }
}

}  // namespace
}  // namespace virtengine::cluster
