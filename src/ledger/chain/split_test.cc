// The ledger split for consensus: ProposeBlock / ApplyBlock, followers,
// tampered blocks, replays, crashes, the gate and the audit head.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "google/protobuf/wrappers.pb.h"
#include "src/api/audit/v1/audit.pb.h"
#include "src/ledger/chain/ledger.h"
#include "src/ledger/chain/ledger_test_util.h"
#include "src/modules/audit/audit.h"

namespace virtengine::ledger {
namespace {

using test_util::Account;
using test_util::MakeGenesis;
using test_util::NewAccount;
using test_util::NewSigner;
using test_util::Send;
using test_util::SendMsg;
using test_util::SignedTx;
using test_util::TempDir;

constexpr char kSetTier[] = "/virtengine.testveid.v1.MsgSetTier";
constexpr char kSendType[] = "/virtengine.bank.v1.MsgSend";

// A stand-in VEID module: MsgSetTier (a StringValue holding one VeidTier
// byte) sets the signer's tier; it provides the gate's VEID facts.
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
        return VeidStanding{static_cast<VeidTier>((**v)[0]), 80};
      }

     private:
      const PrefixView& s_;
    };
    return std::make_unique<Facts>(own);
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

google::protobuf::Any AuditMsg(const std::string& kind,
                               const std::string& subject, char fill) {
  audit::v1::MsgRecordAudit m;
  m.set_kind(kind);
  m.set_subject(subject);
  m.set_digest(std::string(32, fill));
  google::protobuf::Any any;
  any.PackFrom(m, "/");
  return any;
}

// Re-signs `block` after `edit` changed its header: what a buggy (or
// malicious) proposer holding the node key could send.
std::string Resign(const v1::Block& block,
                   const std::function<void(v1::BlockHeader*)>& edit,
                   const BlockSigner& signer) {
  v1::BlockHeader h;
  if (!h.ParseFromString(block.header().header_bytes())) std::abort();
  edit(&h);
  v1::Block out = block;
  const std::string hb = h.SerializeAsString();
  std::string msg(kBlockSignDomain);
  msg.push_back('\0');
  msg += hb;
  auto sig = signer.Sign(crypto::AsBytes(msg));
  if (!sig.ok()) std::abort();
  out.mutable_header()->set_header_bytes(hb);
  out.mutable_header()->set_signature(sig->data(), sig->size());
  return out.SerializeAsString();
}

v1::BlockHeader HeaderOf(const v1::Block& b) {
  v1::BlockHeader h;
  if (!h.ParseFromString(b.header().header_bytes())) std::abort();
  return h;
}

class SplitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int n = 0;
    base_ = TempDir("split" + std::to_string(n++));
    signer_ = NewSigner();
    alice_ = std::make_unique<Account>(NewAccount());
    bob_ = std::make_unique<Account>(NewAccount());
    leader_ = OpenAt("leader");
    follower_ = OpenAt("follower");
  }

  std::unique_ptr<Ledger> OpenAt(const std::string& name,
                                 LedgerOptions options = {},
                                 bool genesis = true) {
    auto l = Ledger::Open(base_ + "-" + name, std::move(options));
    if (!l.ok()) {
      ADD_FAILURE() << l.status();
      return nullptr;
    }
    if (genesis) {
      absl::Status s = (*l)->InitGenesis(MakeGenesis({alice_.get()}));
      if (!s.ok()) ADD_FAILURE() << s;
    }
    return *std::move(l);
  }

  // Admits `raws` on the leader and proposes them.
  v1::Block Propose(const std::vector<std::string>& raws, int64_t time) {
    std::vector<DecodedTx> txs;
    for (const auto& r : raws) {
      auto tx = leader_->CheckTx(r);
      EXPECT_TRUE(tx.ok()) << tx.status();
      if (tx.ok()) txs.push_back(*tx);
    }
    auto b = leader_->ProposeBlock(txs, time, *signer_);
    EXPECT_TRUE(b.ok()) << b.status();
    return b.ok() ? *b : v1::Block();
  }

  std::vector<std::string> Transfers(int n, uint64_t amount = 3) {
    std::vector<std::string> out;
    out.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i)
      out.push_back(Send(*alice_, bob_->address, amount));
    return out;
  }

  uint64_t BalanceOf(const Ledger& l, const std::string& a) {
    return l.QueryBalance(a, "uve")->balance().amount();
  }

  std::string base_;
  std::unique_ptr<KeyBlockSigner> signer_;
  std::unique_ptr<Account> alice_, bob_;
  std::unique_ptr<Ledger> leader_, follower_;
};

TEST_F(SplitTest, ProposeThenApplyEqualsExecute) {
  const std::vector<std::string> raws = Transfers(3);
  const v1::Block proposed = Propose(raws, 5000);
  // Proposing commits nothing.
  EXPECT_EQ(leader_->height(), 0u);
  EXPECT_EQ(leader_->GetBlock(1).status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(leader_->ApplyBlock(proposed.SerializeAsString(), 1).ok());
  EXPECT_EQ(leader_->height(), 1u);
  EXPECT_EQ(leader_->applied_index(), 1u);

  // A second ledger executing the same txs in one step gets the same block.
  auto same = OpenAt("execute");
  std::vector<DecodedTx> txs;
  txs.reserve(raws.size());
  for (const auto& r : raws) txs.push_back(*same->CheckTx(r));
  auto executed = same->ExecuteBlock(txs, 5000, *signer_);
  ASSERT_TRUE(executed.ok()) << executed.status();
  EXPECT_EQ(executed->SerializeAsString(), proposed.SerializeAsString());
  EXPECT_EQ(same->state_digest(), leader_->state_digest());
  EXPECT_EQ(same->last_block_hash(), leader_->last_block_hash());
  EXPECT_EQ(same->applied_index(), 1u);
  EXPECT_EQ(leader_->GetBlock(1)->SerializeAsString(),
            proposed.SerializeAsString());
}

// Txs admitted while a block is in flight stay admitted after it commits
// (the check state carries over), and the carried state is exactly right:
// a replay of a committed tx is still refused and the next sequence admits.
TEST_F(SplitTest, CheckStateCarriesOverACleanOwnBlock) {
  const std::vector<std::string> first = Transfers(2);
  const v1::Block block = Propose(first, 5000);
  const std::vector<std::string> later = Transfers(2);  // admitted meanwhile
  std::vector<DecodedTx> later_txs;
  for (const auto& r : later) {
    auto tx = leader_->CheckTx(r);
    ASSERT_TRUE(tx.ok()) << tx.status();
    later_txs.push_back(*tx);
  }
  ASSERT_TRUE(leader_->ApplyBlock(block.SerializeAsString(), 1).ok());
  EXPECT_FALSE(leader_->check_state_reset());
  // The later txs are still in the check state: admitting the first again
  // is a sequence error, and the tx after them admits.
  EXPECT_EQ(leader_->CheckTx(later[0]).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(leader_->CheckTx(Send(*alice_, bob_->address, 1)).ok());
  // A block with a failed tx resets it, as does a block from elsewhere.
  auto b2 = leader_->ProposeBlock(later_txs, 6000, *signer_);
  ASSERT_TRUE(b2.ok());
  ASSERT_TRUE(follower_->ApplyBlock(block.SerializeAsString(), 1).ok());
  EXPECT_TRUE(follower_->check_state_reset());
  ASSERT_TRUE(follower_->ApplyBlock(b2->SerializeAsString(), 2).ok());
  EXPECT_TRUE(follower_->check_state_reset());
  EXPECT_EQ(follower_->QueryBalance(alice_->address, "uve")->sequence(), 4u);
}

TEST_F(SplitTest, FollowerReachesTheLeadersState) {
  LedgerOptions reverify;
  reverify.reverify_signatures = true;
  auto auditor = OpenAt("auditor", reverify);
  for (int64_t b = 1; b <= 3; ++b) {
    std::vector<std::string> raws = Transfers(2 + static_cast<int>(b));
    raws.push_back(SignedTx(
        *alice_, {AuditMsg("node.audit_log_head", "node-1 log", 'a')}));
    const v1::Block block = Propose(raws, 1000 * b);
    const std::string bytes = block.SerializeAsString();
    const auto index = static_cast<uint64_t>(10 * b);
    ASSERT_TRUE(leader_->ApplyBlock(bytes, index).ok());
    absl::Status s = follower_->ApplyBlock(bytes, index);
    ASSERT_TRUE(s.ok()) << s;
    ASSERT_TRUE(auditor->ApplyBlock(bytes, index).ok());
    EXPECT_EQ(follower_->state_digest(), leader_->state_digest());
    EXPECT_EQ(auditor->state_digest(), leader_->state_digest());
    EXPECT_EQ(follower_->last_block_hash(), leader_->last_block_hash());
    EXPECT_EQ(follower_->applied_index(), index);
  }
  EXPECT_EQ(follower_->height(), 3u);
  EXPECT_EQ(BalanceOf(*follower_, bob_->address),
            BalanceOf(*leader_, bob_->address));
  EXPECT_TRUE(follower_->CheckInvariants().ok());
  // Receipts from the follower verify with the leader's node key.
  const std::string key(crypto::AsChars(signer_->public_key().view()));
  auto block = follower_->GetBlock(2);
  ASSERT_TRUE(block.ok());
  auto tx = DecodeTx(block->txs(1));
  auto receipt = follower_->GetReceipt(tx->hash);
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_TRUE(VerifyReceipt(*receipt, key).ok());
  // Audit queries agree.
  EXPECT_EQ(*follower_->Query("audit", "head", ""),
            *leader_->Query("audit", "head", ""));
}

TEST_F(SplitTest, TamperedBlocksAreRefusedAndNothingIsWritten) {
  const v1::Block good = Propose(Transfers(2), 5000);
  const std::string good_bytes = good.SerializeAsString();
  const crypto::Digest32 digest0 = follower_->state_digest();
  auto other_signer = NewSigner();

  struct Case {
    std::string name;
    std::string bytes;
    absl::StatusCode code;
    std::string message;  // a substring of the status message
  };
  std::vector<Case> cases;
  cases.push_back({"garbage", "\xff\xff\xff\xff", absl::StatusCode::kDataLoss,
                   "block: not a valid Block"});
  {
    v1::Block b = good;
    b.mutable_header()->set_header_bytes("\xff\xff");
    cases.push_back({"header garbage", b.SerializeAsString(),
                     absl::StatusCode::kDataLoss,
                     "block: header is not a valid BlockHeader"});
  }
  {
    v1::Block b = good;
    std::string sig = b.header().signature();
    sig[5] = static_cast<char>(sig[5] ^ 1);
    b.mutable_header()->set_signature(sig);
    cases.push_back({"signature", b.SerializeAsString(),
                     absl::StatusCode::kUnauthenticated,
                     "block: header signature does not verify"});
  }
  {
    // A header field changed without re-signing.
    v1::Block b = good;
    v1::BlockHeader h = HeaderOf(good);
    h.set_ledger_size(h.ledger_size() + 1);
    b.mutable_header()->set_header_bytes(h.SerializeAsString());
    cases.push_back({"unsigned header change", b.SerializeAsString(),
                     absl::StatusCode::kUnauthenticated,
                     "block: header signature does not verify"});
  }
  // Header fields changed and re-signed by the proposer's key.
  auto resigned = [&](const std::string& name,
                      const std::function<void(v1::BlockHeader*)>& edit,
                      absl::StatusCode code, const std::string& message) {
    cases.push_back({name, Resign(good, edit, *signer_), code, message});
  };
  auto flip = [](std::string* s) {
    if (s->empty()) s->assign(32, '\0');
    (*s)[0] = static_cast<char>((*s)[0] ^ 1);
  };
  resigned(
      "chain_id", [](v1::BlockHeader* h) { h->set_chain_id("other-1"); },
      absl::StatusCode::kDataLoss, "block: chain_id mismatch");
  resigned(
      "height", [](v1::BlockHeader* h) { h->set_height(2); },
      absl::StatusCode::kDataLoss,
      "block: height mismatch: header has 2, next height is 1");
  resigned(
      "previous_hash",
      [&](v1::BlockHeader* h) { flip(h->mutable_previous_hash()); },
      absl::StatusCode::kDataLoss, "block: previous_hash mismatch");
  resigned(
      "time", [](v1::BlockHeader* h) { h->set_time_unix_nano(999); },
      absl::StatusCode::kDataLoss,
      "block: time_unix_nano 999 is before the previous block's 1000");
  resigned(
      "tx_root", [&](v1::BlockHeader* h) { flip(h->mutable_tx_root()); },
      absl::StatusCode::kDataLoss, "block: tx_root mismatch");
  resigned(
      "ledger_root",
      [&](v1::BlockHeader* h) { flip(h->mutable_ledger_root()); },
      absl::StatusCode::kDataLoss, "block: ledger_root mismatch");
  resigned(
      "ledger_size", [](v1::BlockHeader* h) { h->set_ledger_size(3); },
      absl::StatusCode::kDataLoss,
      "block: ledger_size mismatch: header has 3, re-execution computed 2");
  resigned(
      "state_digest",
      [&](v1::BlockHeader* h) { flip(h->mutable_state_digest()); },
      absl::StatusCode::kDataLoss, "block: state_digest mismatch");
  resigned(
      "audit_head", [&](v1::BlockHeader* h) { flip(h->mutable_audit_head()); },
      absl::StatusCode::kDataLoss, "block: audit_head mismatch");
  resigned(
      "proposer",
      [&](v1::BlockHeader* h) {
        h->set_proposer(
            std::string(crypto::AsChars(other_signer->public_key().view())));
      },
      absl::StatusCode::kUnauthenticated,
      "block: header signature does not verify for proposer");
  {
    // A header with an unknown field, signed: every computed field matches,
    // but the bytes are not the canonical encoding.
    v1::Block b;
    b.ParseFromString(Resign(
        good, [](v1::BlockHeader*) {}, *signer_));
    std::string hb = b.header().header_bytes();
    hb += std::string("\xa0\x06\x01", 3);  // field 100, varint 1
    b.mutable_header()->set_header_bytes(hb);
    std::string msg(kBlockSignDomain);
    msg.push_back('\0');
    msg += hb;
    auto sig = signer_->Sign(crypto::AsBytes(msg));
    b.mutable_header()->set_signature(sig->data(), sig->size());
    cases.push_back({"header unknown field", b.SerializeAsString(),
                     absl::StatusCode::kDataLoss,
                     "block: header is not in canonical encoding"});
  }
  {
    // One byte of a tx (inside its signature, so it still decodes).
    v1::Block b = good;
    std::string tx = b.txs(1);
    tx[tx.size() - 1] = static_cast<char>(tx[tx.size() - 1] ^ 1);
    b.set_txs(1, tx);
    cases.push_back({"tx byte", b.SerializeAsString(),
                     absl::StatusCode::kDataLoss, "block: tx_root mismatch"});
  }
  {
    v1::Block b = good;
    b.set_txs(0, "\x0a\x01");
    cases.push_back({"tx garbage", b.SerializeAsString(),
                     absl::StatusCode::kDataLoss, "block: tx 0: tx: "});
  }
  {
    v1::Block b = good;
    b.mutable_results(0)->set_code(kTxMessageFailed);
    cases.push_back({"result", b.SerializeAsString(),
                     absl::StatusCode::kDataLoss,
                     "block: result of tx 0 differs: block has code 3"});
  }
  {
    v1::Block b = good;
    b.mutable_results(1)->mutable_events(0)->set_index(7);
    cases.push_back({"event", b.SerializeAsString(),
                     absl::StatusCode::kDataLoss,
                     "block: result of tx 1 differs"});
  }
  {
    v1::Block b = good;
    b.clear_results();
    cases.push_back({"no results", b.SerializeAsString(),
                     absl::StatusCode::kDataLoss,
                     "block: results: block has 0, re-execution has 2"});
  }
  cases.push_back(
      {"trailing unknown field", good_bytes + std::string("\xa0\x06\x01", 3),
       absl::StatusCode::kDataLoss, "block: not in canonical encoding"});

  for (const Case& c : cases) {
    absl::Status s = follower_->ApplyBlock(c.bytes, 1);
    EXPECT_EQ(s.code(), c.code) << c.name << ": " << s;
    EXPECT_NE(std::string(s.message()).find(c.message), std::string::npos)
        << c.name << ": " << s;
    EXPECT_EQ(follower_->height(), 0u) << c.name;
    EXPECT_EQ(follower_->applied_index(), 0u) << c.name;
    EXPECT_EQ(follower_->state_digest(), digest0) << c.name;
    EXPECT_EQ(follower_->GetBlock(1).status().code(),
              absl::StatusCode::kNotFound)
        << c.name;
  }
  // Nothing reached the disk either.
  follower_.reset();
  follower_ = OpenAt("follower", {}, /*genesis=*/false);
  EXPECT_EQ(follower_->height(), 0u);
  EXPECT_EQ(follower_->state_digest(), digest0);
  EXPECT_EQ(BalanceOf(*follower_, bob_->address), 0u);
  // The correct block still applies.
  ASSERT_TRUE(leader_->ApplyBlock(good_bytes, 1).ok());
  absl::Status s = follower_->ApplyBlock(good_bytes, 1);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(follower_->state_digest(), leader_->state_digest());
}

TEST_F(SplitTest, OversizeBlocksAreRefused) {
  LedgerOptions small;
  small.max_block_bytes = 600;
  small.max_block_txs = 2;
  auto tiny = OpenAt("tiny", small);
  const v1::Block block = Propose(Transfers(3), 5000);
  const std::string bytes = block.SerializeAsString();
  ASSERT_GT(bytes.size(), 600u);
  EXPECT_EQ(tiny->ApplyBlock(bytes, 1).code(),
            absl::StatusCode::kInvalidArgument);
  std::vector<DecodedTx> three;
  three.reserve(3);
  for (int i = 0; i < 3; ++i) {
    three.push_back(*DecodeTx(block.txs(i)));
  }
  EXPECT_EQ(tiny->ProposeBlock(three, 1, *signer_).status().code(),
            absl::StatusCode::kInvalidArgument);
  three.pop_back();
  auto too_big = tiny->ProposeBlock(three, 1, *signer_);
  EXPECT_EQ(too_big.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(too_big.status().message().find("propose fewer transactions"),
            absl::string_view::npos);
}

TEST_F(SplitTest, ReplayedIndexIsANoOp) {
  const std::string b1 = Propose(Transfers(1), 2000).SerializeAsString();
  ASSERT_TRUE(leader_->ApplyBlock(b1, 5).ok());
  ASSERT_TRUE(follower_->ApplyBlock(b1, 5).ok());
  const crypto::Digest32 d = follower_->state_digest();
  // The same entry again, or anything at an applied index: nothing happens.
  EXPECT_TRUE(follower_->ApplyBlock(b1, 5).ok());
  EXPECT_TRUE(follower_->ApplyBlock(b1, 3).ok());
  EXPECT_TRUE(follower_->ApplyBlock("garbage", 4).ok());
  EXPECT_EQ(follower_->height(), 1u);
  EXPECT_EQ(follower_->applied_index(), 5u);
  EXPECT_EQ(follower_->state_digest(), d);
  // The same block at a new index is a second block 1 for height 2: refused.
  EXPECT_EQ(follower_->ApplyBlock(b1, 6).code(), absl::StatusCode::kDataLoss);
  // The replay survives a restart: the applied index is durable.
  follower_.reset();
  follower_ = OpenAt("follower", {}, false);
  EXPECT_EQ(follower_->applied_index(), 5u);
  EXPECT_TRUE(follower_->ApplyBlock(b1, 5).ok());
  EXPECT_EQ(follower_->height(), 1u);
}

TEST_F(SplitTest, CrashBetweenProposeAndApplyLosesNothingCommitted) {
  const std::vector<std::string> first = Transfers(2);
  const std::string b1 = Propose(first, 2000).SerializeAsString();
  ASSERT_TRUE(leader_->ApplyBlock(b1, 1).ok());
  const crypto::Digest32 d1 = leader_->state_digest();
  const std::string b2 = Propose(Transfers(2), 3000).SerializeAsString();
  // Crash: the pending block 2 was never applied.
  leader_.reset();
  leader_ = OpenAt("leader", {}, false);
  EXPECT_EQ(leader_->height(), 1u);
  EXPECT_EQ(leader_->applied_index(), 1u);
  EXPECT_EQ(leader_->state_digest(), d1);
  EXPECT_TRUE(leader_->CheckInvariants().ok());
  auto tx = DecodeTx(first[1]);
  EXPECT_TRUE(leader_->GetReceipt(tx->hash).ok());
  // Consensus replays the committed entry: the block is re-executed from
  // its bytes and gives the same state as the follower's.
  ASSERT_TRUE(leader_->ApplyBlock(b2, 2).ok());
  ASSERT_TRUE(follower_->ApplyBlock(b1, 1).ok());
  ASSERT_TRUE(follower_->ApplyBlock(b2, 2).ok());
  EXPECT_EQ(leader_->state_digest(), follower_->state_digest());
  EXPECT_EQ(leader_->height(), 2u);
}

TEST_F(SplitTest, PendingBlockIsReplacedAndNeverCommittedStale) {
  const std::vector<std::string> raws = Transfers(2);
  const v1::Block with_txs = Propose(raws, 2000);
  // A second proposal replaces the first (here: an empty block).
  auto empty = leader_->ProposeBlock({}, 2000, *signer_);
  ASSERT_TRUE(empty.ok());
  // The replaced block is still a valid block: it applies by re-execution.
  ASSERT_TRUE(leader_->ApplyBlock(with_txs.SerializeAsString(), 1).ok());
  EXPECT_EQ(BalanceOf(*leader_, bob_->address), 6u);
  // The empty proposal was for height 1: stale now, refused.
  EXPECT_EQ(leader_->ApplyBlock(empty->SerializeAsString(), 2).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(leader_->height(), 1u);
}

TEST_F(SplitTest, UnknownMessageInABlockIsRecordedNotFatal) {
  // A block built without admission (e.g. by a newer binary) may carry a
  // message this node does not know: result code 2, same on every node.
  google::protobuf::Any nope;
  nope.set_type_url("/virtengine.nope.v1.MsgNope");
  const std::string raw = SignedTx(*alice_, {nope});
  EXPECT_EQ(leader_->PreCheckTx(raw).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto block = leader_->ProposeBlock({*DecodeTx(raw)}, 2000, *signer_);
  ASSERT_TRUE(block.ok());
  EXPECT_EQ(block->results(0).code(), kTxUnknownMessage);
  EXPECT_EQ(block->results(0).log(),
            "unknown message type /virtengine.nope.v1.MsgNope");
  ASSERT_TRUE(follower_->ApplyBlock(block->SerializeAsString(), 1).ok());
  // Sequence and fee were consumed.
  EXPECT_EQ(follower_->QueryBalance(alice_->address, "uve")->sequence(), 1u);
}

TEST_F(SplitTest, GateRefusesWithAPreciseReason) {
  GateRequirement tier1;
  tier1.min_tier = VeidTier::kBasic;
  // Without a VEID provider, a requirement refuses: never passes silently.
  LedgerOptions no_provider;
  no_provider.gate_requirements.emplace_back(kSendType, tier1);
  auto gated = OpenAt("gated", no_provider);
  const std::string send = Send(*alice_, bob_->address, 5);
  absl::Status s = gated->CheckTx(send).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(),
            "gate: /virtengine.bank.v1.MsgSend needs VEID tier ≥ 1; no VEID "
            "facts provider is registered");
  // A proposer that includes it anyway: code 5, fee and sequence consumed,
  // no transfer; a follower with the same configuration agrees.
  auto block = gated->ProposeBlock({*DecodeTx(send)}, 2000, *signer_);
  ASSERT_TRUE(block.ok());
  EXPECT_EQ(block->results(0).code(), kTxGateRefused);
  EXPECT_EQ(block->results(0).log(), s.message());
  auto gated_follower = OpenAt("gated-follower", no_provider);
  ASSERT_TRUE(gated_follower->ApplyBlock(block->SerializeAsString(), 1).ok());
  EXPECT_EQ(BalanceOf(*gated_follower, bob_->address), 0u);
  EXPECT_EQ(BalanceOf(*gated_follower, alice_->address), 1'000'000u - 10);
  // A follower with another gate configuration computes another result.
  EXPECT_EQ(follower_->ApplyBlock(block->SerializeAsString(), 1).code(),
            absl::StatusCode::kDataLoss);

  // With a provider, the signer's facts decide.
  LedgerOptions with_veid;
  with_veid.extra_modules.push_back(std::make_shared<TestVeid>());
  GateRequirement tier2;
  tier2.min_tier = VeidTier::kStandard;
  with_veid.gate_requirements.emplace_back(kSendType, tier2);
  alice_->seq = 0;
  auto veid = OpenAt("veid", with_veid);
  // The gate runs before the messages: a tx that would raise its own tier
  // and then send is judged on the tier before it.
  s = veid->CheckTx(
              SignedTx(*alice_, {TierMsg(VeidTier::kStandard),
                                 SendMsg(alice_->address, bob_->address, 5)}))
          .status();
  EXPECT_EQ(s.message(),
            "gate: /virtengine.bank.v1.MsgSend needs VEID tier ≥ 2; signer has "
            "tier 0");
  alice_->seq--;
  s = veid->CheckTx(Send(*alice_, bob_->address, 5)).status();
  EXPECT_EQ(s.message(),
            "gate: /virtengine.bank.v1.MsgSend needs VEID tier ≥ 2; signer has "
            "tier 0");
  alice_->seq--;
  // Refused at admission: the sequence was not consumed.
  auto set_basic =
      veid->CheckTx(SignedTx(*alice_, {TierMsg(VeidTier::kBasic)}));
  ASSERT_TRUE(set_basic.ok()) << set_basic.status();
  s = veid->CheckTx(Send(*alice_, bob_->address, 5)).status();
  EXPECT_EQ(s.message(),
            "gate: /virtengine.bank.v1.MsgSend needs VEID tier ≥ 2; signer has "
            "tier 1");
  alice_->seq--;
  auto set_std =
      veid->CheckTx(SignedTx(*alice_, {TierMsg(VeidTier::kStandard)}));
  ASSERT_TRUE(set_std.ok());
  auto ok = veid->CheckTx(Send(*alice_, bob_->address, 5));
  ASSERT_TRUE(ok.ok()) << ok.status();
  ASSERT_TRUE(
      veid->ExecuteBlock({*set_basic, *set_std, *ok}, 3000, *signer_).ok());
  EXPECT_EQ(BalanceOf(*veid, bob_->address), 5u);
}

TEST_F(SplitTest, AuditHeadIsAnchoredInEveryHeader) {
  const v1::Block b1 = Propose(Transfers(1), 2000);
  ASSERT_TRUE(leader_->ApplyBlock(b1.SerializeAsString(), 1).ok());
  // No records yet: the head is 32 zero bytes.
  EXPECT_EQ(HeaderOf(b1).audit_head(), std::string(32, '\0'));

  const v1::Block b2 = Propose(
      {SignedTx(*alice_, {AuditMsg("node.audit_log_head", "node-1", 'a'),
                          AuditMsg("compliance.bundle", "2024-q1", 'b')})},
      3000);
  ASSERT_EQ(b2.results(0).code(), kTxOk) << b2.results(0).log();
  ASSERT_TRUE(leader_->ApplyBlock(b2.SerializeAsString(), 2).ok());
  audit::v1::QueryHeadResponse head;
  ASSERT_TRUE(head.ParseFromString(*leader_->Query("audit", "head", "")));
  EXPECT_EQ(head.seq(), 2u);
  EXPECT_EQ(HeaderOf(b2).audit_head(), head.head());
  // The head recomputes from the records.
  audit::Head h{};
  for (uint64_t seq = 1; seq <= 2; ++seq) {
    audit::v1::QueryRecordRequest req;
    req.set_seq(seq);
    audit::v1::QueryRecordResponse rec;
    ASSERT_TRUE(rec.ParseFromString(
        *leader_->Query("audit", "record", req.SerializeAsString())));
    EXPECT_EQ(rec.record().actor(), alice_->address);
    EXPECT_EQ(rec.record().height(), 2u);
    h = *audit::ChainHead(h, rec.record_bytes());
    EXPECT_EQ(rec.head(), std::string(h.begin(), h.end()));
  }
  EXPECT_EQ(head.head(), std::string(h.begin(), h.end()));
  // One event per record.
  ASSERT_EQ(b2.results(0).events_size(), 2);
  EXPECT_EQ(b2.results(0).events(1).body().type_url(),
            "/virtengine.audit.v1.EventAuditRecorded");

  // A block without audit records carries the head forward.
  const v1::Block b3 = Propose(Transfers(1), 4000);
  EXPECT_EQ(HeaderOf(b3).audit_head(), head.head());
  ASSERT_TRUE(leader_->ApplyBlock(b3.SerializeAsString(), 3).ok());
  // A malformed record is refused at admission; a proposer that includes it
  // anyway gets code 3 and an unchanged head.
  const std::string bad = SignedTx(*alice_, {AuditMsg("Bad Kind", "x", 'c')});
  EXPECT_EQ(leader_->CheckTx(bad).status().code(),
            absl::StatusCode::kFailedPrecondition);
  auto b4 = leader_->ProposeBlock({*DecodeTx(bad)}, 5000, *signer_);
  ASSERT_TRUE(b4.ok());
  EXPECT_EQ(b4->results(0).code(), kTxMessageFailed);
  EXPECT_EQ(b4->results(0).log().rfind("message 0: MsgRecordAudit.kind: ", 0),
            0u)
      << b4->results(0).log();
  EXPECT_EQ(HeaderOf(*b4).audit_head(), head.head());
  ASSERT_TRUE(leader_->ApplyBlock(b4->SerializeAsString(), 4).ok());
  EXPECT_TRUE(leader_->CheckInvariants().ok());
}

}  // namespace
}  // namespace virtengine::ledger
