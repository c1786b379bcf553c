// `vectl gov propose|vote` and `vectl measurement propose` with --dry-run:
// the printed tx is built by the shared builder (BuildSignedTx), carries
// exactly the one gov message asked for (MsgSubmitProposal with the action,
// or MsgVote), and the ledger's DecodeTx + VerifyTxSignature accept it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "src/api/gov/v1/gov.pb.h"
#include "src/cli/test_util.h"
#include "src/common/encoding/hex.h"
#include "src/ledger/tx/tx.h"

namespace virtengine::cli {
namespace {

using testutil::RunResult;
using testutil::Vectl;

constexpr char kBob[] = "ve1y8lrrhap2j3xzcntlp2qgm7jyudhhm2tyrvzn3";
constexpr char kPcr11[] =
    "b68855179cba2efed50e940e040a4882633e0d766fcc75c3324a9e7c781e70cc";
constexpr char kPcr7[] =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

ledger::DecodedTx DecodeHex(const std::string& out) {
  EXPECT_FALSE(out.empty());
  auto raw = encoding::HexDecode(out.substr(0, out.size() - 1), 1 << 20);
  EXPECT_TRUE(raw.ok()) << raw.status();
  if (!raw.ok()) return ledger::DecodedTx();
  auto tx = ledger::DecodeTx(std::string(raw->begin(), raw->end()));
  EXPECT_TRUE(tx.ok()) << tx.status();
  return tx.ok() ? *tx : ledger::DecodedTx();
}

class GovTxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::NewDir("gtx");
    env_ = testutil::MakeEnv(dir_ + "/home");
    ASSERT_EQ(Vectl(env_, {"keys", "add", "op"}).code, kExitOk);
    RunResult show = Vectl(env_, {"keys", "show", "op", "--address"});
    op_ = show.out.substr(0, show.out.size() - 1);
  }

  // Runs a dry run at chain "itest", sequence 5, and checks the envelope.
  ledger::DecodedTx Run(std::vector<std::string> args, uint64_t fee = 10) {
    for (const char* a :
         {"--chain-id", "itest", "--sequence", "5", "--dry-run"}) {
      args.emplace_back(a);
    }
    RunResult r = Vectl(env_, args);
    EXPECT_EQ(r.code, kExitOk) << r.err;
    ledger::DecodedTx tx = DecodeHex(r.out);
    EXPECT_TRUE(ledger::VerifyTxSignature(tx, "itest").ok());
    EXPECT_FALSE(ledger::VerifyTxSignature(tx, "other").ok());
    EXPECT_EQ(tx.signer_address, op_);
    EXPECT_EQ(tx.auth_info.sequence(), 5u);
    EXPECT_EQ(tx.auth_info.fee().amount(), fee);
    EXPECT_EQ(tx.body.messages_size(), 1);
    return tx;
  }

  gov::v1::MsgSubmitProposal Proposal(std::vector<std::string> args) {
    ledger::DecodedTx tx = Run(std::move(args));
    gov::v1::MsgSubmitProposal m;
    if (tx.body.messages_size() != 1) return m;
    EXPECT_EQ(tx.body.messages(0).type_url(),
              "/virtengine.gov.v1.MsgSubmitProposal");
    EXPECT_TRUE(m.ParseFromString(tx.body.messages(0).value()));
    return m;
  }

  std::string dir_;
  std::string op_;
  Env env_;
};

std::string Bytes(const char* hex) {
  auto b = encoding::HexDecode(hex, 32);
  EXPECT_TRUE(b.ok());
  return b.ok() ? std::string(b->begin(), b->end()) : std::string();
}

TEST_F(GovTxTest, ProposalsCarryTheAction) {
  // --add-measurement: values sorted by PCR whatever the order given.
  gov::v1::MsgSubmitProposal m = Proposal(
      {"gov", "propose", "--from", "op", "--title", "approve image 0.1.0",
       "--add-measurement", "virtengine", "--version", "0.1.0", "--pcr",
       std::string("11=") + kPcr11, "--pcr", std::string("7=") + kPcr7});
  EXPECT_EQ(m.title(), "approve image 0.1.0");
  ASSERT_TRUE(m.action().has_add_measurement());
  const gov::v1::Measurement& am = m.action().add_measurement();
  EXPECT_EQ(am.name(), "virtengine");
  EXPECT_EQ(am.version(), "0.1.0");
  ASSERT_EQ(am.values_size(), 2);
  EXPECT_EQ(am.values(0).pcr(), 7u);
  EXPECT_EQ(am.values(0).sha256(), Bytes(kPcr7));
  EXPECT_EQ(am.values(1).pcr(), 11u);
  EXPECT_EQ(am.values(1).sha256(), Bytes(kPcr11));
  EXPECT_EQ(am.added_height(), 0u);
  EXPECT_EQ(am.proposal_id(), 0u);

  m = Proposal({"gov", "propose", "--from", "op", "--title", "retire",
                "--retire-measurement", "virtengine", "--version", "0.1.0"});
  ASSERT_TRUE(m.action().has_retire_measurement());
  EXPECT_EQ(m.action().retire_measurement().name(), "virtengine");
  EXPECT_EQ(m.action().retire_measurement().version(), "0.1.0");

  m = Proposal({"gov", "propose", "--from", "op", "--title", "t", "--set-param",
                "threshold_bps=6667"});
  ASSERT_TRUE(m.action().has_set_param());
  EXPECT_EQ(m.action().set_param().key(), "threshold_bps");
  EXPECT_EQ(m.action().set_param().value(), "6667");

  m = Proposal(
      {"gov", "propose", "--from", "op", "--title", "t", "--add-member", kBob});
  EXPECT_EQ(m.action().kind_case(), gov::v1::Action::kAddMember);
  EXPECT_EQ(m.action().add_member(), kBob);
  m = Proposal({"gov", "propose", "--from", "op", "--title", "t",
                "--remove-member", kBob});
  EXPECT_EQ(m.action().kind_case(), gov::v1::Action::kRemoveMember);
  EXPECT_EQ(m.action().remove_member(), kBob);
  m = Proposal(
      {"gov", "propose", "--from", "op", "--title", "t", "--remove-node", "4"});
  EXPECT_EQ(m.action().kind_case(), gov::v1::Action::kRemoveNode);
  EXPECT_EQ(m.action().remove_node(), 4u);
}

TEST_F(GovTxTest, ManifestProposals) {
  const std::string manifest = dir_ + "/manifest.json";
  testutil::WriteFile(manifest,
                      std::string("{\"schema\": "
                                  "\"virtengine.image.manifest/1\", "
                                  "\"image_id\": \"virtengine\", \"version\": "
                                  "\"0.2.0\", \"measurements\": "
                                  "{\"pcr11_running\": \"") +
                          kPcr11 + "\", \"pcr11_data_unlock\": \"" + kPcr7 +
                          "\"}}\n",
                      0644);
  gov::v1::MsgSubmitProposal m =
      Proposal({"gov", "propose", "--from", "op", "--title", "img",
                "--add-measurement-manifest", manifest});
  EXPECT_EQ(m.title(), "img");
  ASSERT_TRUE(m.action().has_add_measurement());
  EXPECT_EQ(m.action().add_measurement().name(), "virtengine");
  EXPECT_EQ(m.action().add_measurement().version(), "0.2.0");
  ASSERT_EQ(m.action().add_measurement().values_size(), 1);
  EXPECT_EQ(m.action().add_measurement().values(0).pcr(), 11u);
  EXPECT_EQ(m.action().add_measurement().values(0).sha256(), Bytes(kPcr11));

  // measurement propose: the same message, a default title.
  gov::v1::MsgSubmitProposal m2 = Proposal(
      {"measurement", "propose", "--from", "op", "--manifest", manifest});
  EXPECT_EQ(m2.title(), "add measurement virtengine 0.2.0");
  EXPECT_EQ(m2.action().SerializeAsString(), m.action().SerializeAsString());
  m2 = Proposal({"measurement", "propose", "--from", "op", "--manifest",
                 manifest, "--title", "image 0.2.0 (release)"});
  EXPECT_EQ(m2.title(), "image 0.2.0 (release)");
}

TEST_F(GovTxTest, VotesAndOutputs) {
  ledger::DecodedTx tx =
      Run({"gov", "vote", "--from", "op", "--proposal", "3", "--no"});
  ASSERT_EQ(tx.body.messages_size(), 1);
  EXPECT_EQ(tx.body.messages(0).type_url(), "/virtengine.gov.v1.MsgVote");
  gov::v1::MsgVote v;
  ASSERT_TRUE(v.ParseFromString(tx.body.messages(0).value()));
  EXPECT_EQ(v.proposal_id(), 3u);
  EXPECT_FALSE(v.yes());
  tx = Run({"gov", "vote", "--from", "op", "--proposal", "18446744073709551615",
            "--yes", "--memo", "lgtm", "--fee", "25uve"},
           25);
  ASSERT_EQ(tx.body.messages_size(), 1);
  ASSERT_TRUE(v.ParseFromString(tx.body.messages(0).value()));
  EXPECT_EQ(v.proposal_id(), 18446744073709551615u);
  EXPECT_TRUE(v.yes());
  EXPECT_EQ(tx.body.memo(), "lgtm");
  EXPECT_EQ(tx.auth_info.fee().amount(), 25u);

  // JSON dry run: hash, chain id and sequence as for tx bank send.
  RunResult r = Vectl(env_, {"gov", "vote", "--from", "op", "--proposal", "1",
                             "--yes", "--chain-id", "itest", "--sequence", "0",
                             "--dry-run", "--output", "json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out.substr(0, 7), "{\"tx\":\"") << r.out;
  EXPECT_NE(r.out.find("\"chain_id\":\"itest\",\"sequence\":0}"),
            std::string::npos)
      << r.out;

  // Not a dry run: the node is unreachable (exit 1, the call named).
  r = Vectl(env_, {"gov", "propose", "--from", "op", "--title", "t",
                   "--add-member", kBob, "--chain-id", "itest", "--sequence",
                   "0", "--node", "127.0.0.1:1", "--timeout", "2s"});
  EXPECT_EQ(r.code, kExitRuntime);
  EXPECT_NE(r.err.find("SubmitTx "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("UNAVAILABLE"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  // Without --chain-id the chain id comes from the node: named as well.
  r = Vectl(env_, {"gov", "vote", "--from", "op", "--proposal", "1", "--yes",
                   "--node", "127.0.0.1:1", "--timeout", "2s"});
  EXPECT_EQ(r.code, kExitRuntime);
  EXPECT_NE(r.err.find("Status from 127.0.0.1:1"), std::string::npos) << r.err;
  // A key that does not exist.
  r = Vectl(env_, {"gov", "vote", "--from", "carol", "--proposal", "1", "--yes",
                   "--chain-id", "itest", "--sequence", "0", "--dry-run"});
  EXPECT_EQ(r.code, kExitRuntime);
  EXPECT_NE(r.err.find("FROM_KEY carol"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace virtengine::cli
