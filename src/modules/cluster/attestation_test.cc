// Attested membership inside a real ledger (cluster + gov modules, RocksDB
// under TEST_TMPDIR) with quotes from a real swtpm: a chain that requires
// attestation refuses a node without a quote, with a quote of an unlisted
// measurement or bound to another key, and admits a listed one, recording
// its measurement; retiring that measurement evicts the node.
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "security/tpm/swtpm_test_util.h"
#include "security/tpm/tpm.h"
#include "src/api/cluster/v1/cluster.pb.h"
#include "src/api/gov/v1/gov.pb.h"
#include "src/attest/collect.h"
#include "src/ledger/chain/ledger.h"
#include "src/ledger/chain/ledger_test_util.h"
#include "src/modules/cluster/cluster.h"
#include "src/modules/cluster/test_util.h"

namespace virtengine::cluster {
namespace {

using ledger::test_util::Account;
using ledger::test_util::NewAccount;

using test_util::Member;
using test_util::Pack;

class AttestedJoinTest : public test_util::ModulesTest {
 protected:
  void SetUp() override {
    auto b = tpm::testing::StartBootedTpm(0x3c);
    ASSERT_TRUE(b.ok()) << b.status();
    swtpm_ = std::move(b->swtpm);
    tpm_ = std::move(b->tpm);
    ak_ = b->ak;
    pcr11_ = b->pcr11;

    v1::GenesisState cg;
    cg.add_operators(op_.address);
    *cg.add_members() = Member(1, "127.0.0.1:26656", 'a', true);
    gov::v1::GenesisState gg;
    gg.add_members(op_.address);
    gg.mutable_params()->set_attestation_required(true);
    gov::v1::Measurement* m = gg.add_measurements();
    m->set_name("virtengine");
    m->set_version("1.0.0");
    gov::v1::PcrValue* v = m->add_values();
    v->set_pcr(11);
    v->set_sha256(pcr11_.data(), pcr11_.size());
    ASSERT_NO_FATAL_FAILURE(OpenLedger("attested_join", {&op_}, cg, gg));
  }

  v1::MsgAddNode AddNode(uint64_t id, char key) {
    v1::MsgAddNode add;
    add.set_raft_id(id);
    add.set_raft_address("127.0.0.1:" + std::to_string(26656 + id));
    add.set_node_public_key(std::string(32, key));
    add.set_voter(true);
    return add;
  }

  void Attest(v1::MsgAddNode* add) {
    const std::string nonce = "cluster-issued-challenge-32bytes";
    auto e = attestation::Collect(
        *tpm_, ak_, attestation::kPurposeJoin, crypto::AsBytes(nonce),
        crypto::AsBytes(add->node_public_key()), {}, {11});
    ASSERT_TRUE(e.ok()) << e.status();
    *add->mutable_attestation() = *e;
  }

  std::pair<uint32_t, std::string> Run(const google::protobuf::Any& msg) {
    return ModulesTest::Run(op_, msg);
  }

  std::unique_ptr<tpm::testing::Swtpm> swtpm_;
  std::unique_ptr<tpm::Tpm> tpm_;
  tpm::AkBlob ak_;
  crypto::Digest32 pcr11_{};
  Account op_ = NewAccount();
};

TEST_F(AttestedJoinTest, UnattestedNodeIsRefused) {
  auto [code, log] = Run(Pack(AddNode(2, 'b')));
  EXPECT_EQ(code, ledger::kTxMessageFailed);
  EXPECT_NE(log.find("attestation required"), std::string::npos) << log;
  EXPECT_EQ(Members().size(), 1u);
}

TEST_F(AttestedJoinTest, ListedNodeIsAdmittedWithItsMeasurement) {
  v1::MsgAddNode add = AddNode(2, 'b');
  Attest(&add);
  auto [code, log] = Run(Pack(add));
  ASSERT_EQ(code, ledger::kTxOk) << log;
  std::vector<v1::Member> m = Members();
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[1].measurement_name(), "virtengine");
  EXPECT_EQ(m[1].measurement_version(), "1.0.0");
  EXPECT_EQ(m[1].ak_name_sha256().size(), 32u);
  EXPECT_TRUE(ledger_->CheckInvariants().ok());
}

TEST_F(AttestedJoinTest, UnlistedMeasurementIsRefused) {
  crypto::Digest32 other{};
  other.fill(0x77);
  ASSERT_TRUE(tpm_->PcrExtend(11, other).ok());
  v1::MsgAddNode add = AddNode(2, 'b');
  Attest(&add);
  auto [code, log] = Run(Pack(add));
  EXPECT_EQ(code, ledger::kTxMessageFailed);
  EXPECT_NE(log.find("cluster: attestation: measurement not allowlisted"),
            std::string::npos)
      << log;
  EXPECT_EQ(Members().size(), 1u);
}

TEST_F(AttestedJoinTest, QuoteForAnotherKeyIsRefused) {
  v1::MsgAddNode add = AddNode(2, 'b');
  Attest(&add);
  // The operator swaps in another node key: the quote no longer binds it.
  add.set_node_public_key(std::string(32, 'c'));
  auto [code, log] = Run(Pack(add));
  EXPECT_EQ(code, ledger::kTxMessageFailed);
  EXPECT_NE(log.find("bound to another node key"), std::string::npos) << log;
  // ...and rewriting the evidence's key breaks the quote's binding.
  add.mutable_attestation()->set_node_public_key(std::string(32, 'c'));
  std::tie(code, log) = Run(Pack(add));
  EXPECT_EQ(code, ledger::kTxMessageFailed);
  EXPECT_NE(log.find("nonce mismatch"), std::string::npos) << log;
  EXPECT_EQ(Members().size(), 1u);
}

TEST_F(AttestedJoinTest, RetiringTheMeasurementEvictsItsNodes) {
  v1::MsgAddNode add = AddNode(2, 'b');
  Attest(&add);
  ASSERT_EQ(Run(Pack(add)).first, ledger::kTxOk);
  // A gov proposal adding node 3 with its quote passes at the first vote
  // (one member).
  v1::MsgAddNode add3 = AddNode(3, 'd');
  Attest(&add3);
  gov::v1::MsgSubmitProposal p;
  p.set_title("add node 3");
  *p.mutable_action()->mutable_add_node() = add3;
  ASSERT_EQ(Run(Pack(p)).first, ledger::kTxOk);
  gov::v1::MsgVote vote;
  vote.set_proposal_id(1);
  vote.set_yes(true);
  auto [code, log] = Run(Pack(vote));
  ASSERT_EQ(code, ledger::kTxOk) << log;
  ASSERT_EQ(Members().size(), 3u);

  gov::v1::MsgSubmitProposal retire;
  retire.set_title("retire 1.0.0");
  retire.mutable_action()->mutable_retire_measurement()->set_name("virtengine");
  retire.mutable_action()->mutable_retire_measurement()->set_version("1.0.0");
  ASSERT_EQ(Run(Pack(retire)).first, ledger::kTxOk);
  vote.set_proposal_id(2);
  std::tie(code, log) = Run(Pack(vote));
  ASSERT_EQ(code, ledger::kTxOk) << log;
  std::vector<v1::Member> m = Members();
  ASSERT_EQ(m.size(), 1u);  // nodes 2 and 3 evicted
  EXPECT_EQ(m[0].raft_id(), 1u);
  // A node quoting the retired measurement is now refused as such.
  v1::MsgAddNode again = AddNode(4, 'e');
  Attest(&again);
  std::tie(code, log) = Run(Pack(again));
  EXPECT_EQ(code, ledger::kTxMessageFailed);
  EXPECT_NE(log.find("measurement retired: virtengine 1.0.0"),
            std::string::npos)
      << log;
  EXPECT_TRUE(ledger_->CheckInvariants().ok());
}

}  // namespace
}  // namespace virtengine::cluster
