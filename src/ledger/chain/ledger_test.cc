#include "src/ledger/chain/ledger.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "src/api/audit/v1/audit.pb.h"
#include "src/api/tx/v1/tx.pb.h"
#include "src/ledger/chain/ledger_test_util.h"

namespace virtengine::ledger {
namespace {

using test_util::Account;
using test_util::kChain;
using test_util::MakeGenesis;
using test_util::NewAccount;
using test_util::NewSigner;
using test_util::Send;
using test_util::SignedTx;
using test_util::TempDir;
using test_util::TxOptions;

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int n = 0;
    dir_ = TempDir("ledger" + std::to_string(n++));
    signer_ = NewSigner();
    alice_ = std::make_unique<Account>(NewAccount());
    bob_ = std::make_unique<Account>(NewAccount());
    auto l = Ledger::Open(dir_);
    ASSERT_TRUE(l.ok()) << l.status();
    ledger_ = *std::move(l);
    ASSERT_TRUE(ledger_->InitGenesis(Gen()).ok());
  }

  Genesis Gen() const { return MakeGenesis({alice_.get()}); }

  uint64_t BalanceOf(const Ledger& l, const std::string& addr) {
    return l.QueryBalance(addr, "uve")->balance().amount();
  }

  std::string node_key() const {
    return std::string(crypto::AsChars(signer_->public_key().view()));
  }

  std::string dir_;
  std::unique_ptr<KeyBlockSigner> signer_;
  std::unique_ptr<Account> alice_, bob_;
  std::unique_ptr<Ledger> ledger_;
};

TEST_F(LedgerTest, TransfersCommitWithReceipts) {
  std::vector<DecodedTx> txs;
  for (int i = 0; i < 3; ++i) {
    auto tx = ledger_->CheckTx(Send(*alice_, bob_->address, 100));
    ASSERT_TRUE(tx.ok()) << tx.status();
    txs.push_back(*tx);
  }
  auto block = ledger_->ExecuteBlock(txs, 5000, *signer_);
  ASSERT_TRUE(block.ok()) << block.status();
  EXPECT_EQ(ledger_->height(), 1u);
  EXPECT_EQ(ledger_->applied_index(), 1u);
  uint32_t next_event = 0;
  for (const auto& r : block->results()) {
    EXPECT_EQ(r.code(), kTxOk) << r.log();
    // One EventTransfer per message, numbered across the block.
    ASSERT_EQ(r.events_size(), 1);
    EXPECT_EQ(r.events(0).index(), next_event++);
    EXPECT_EQ(r.events(0).height(), 1u);
    EXPECT_EQ(r.events(0).body().type_url(),
              "/virtengine.bank.v1.EventTransfer");
  }
  EXPECT_EQ(BalanceOf(*ledger_, bob_->address), 300u);
  EXPECT_EQ(BalanceOf(*ledger_, alice_->address), 1'000'000u - 300 - 30);
  EXPECT_TRUE(ledger_->CheckInvariants().ok());
  // The block wrote bank state (balances, sequences) and nothing else's.
  EXPECT_TRUE(ledger_->LastBlockTouched("bank"));
  EXPECT_FALSE(ledger_->LastBlockTouched("cluster"));
  EXPECT_FALSE(ledger_->LastBlockTouched("ban"));

  for (const DecodedTx& tx : txs) {
    auto receipt = ledger_->GetReceipt(tx.hash);
    ASSERT_TRUE(receipt.ok()) << receipt.status();
    EXPECT_TRUE(VerifyReceipt(*receipt, node_key()).ok());
    // Tampering anywhere breaks verification.
    v1::Receipt bad = *receipt;
    std::string h = bad.tx_hash();
    h[0] = static_cast<char>(h[0] ^ 1);
    bad.set_tx_hash(h);
    EXPECT_FALSE(VerifyReceipt(bad, node_key()).ok());
    bad = *receipt;
    std::string sig = bad.header().signature();
    sig[3] = static_cast<char>(sig[3] ^ 1);
    bad.mutable_header()->set_signature(sig);
    EXPECT_EQ(VerifyReceipt(bad, node_key()).code(),
              absl::StatusCode::kUnauthenticated);
    if (receipt->audit_path_size() > 0) {
      bad = *receipt;
      std::string p = bad.audit_path(0);
      p[0] = static_cast<char>(p[0] ^ 1);
      bad.set_audit_path(0, p);
      EXPECT_FALSE(VerifyReceipt(bad, node_key()).ok());
    }
  }
}

void ExpectStatus(const absl::Status& s, absl::StatusCode code,
                  const std::string& prefix) {
  EXPECT_EQ(s.code(), code) << s;
  EXPECT_EQ(std::string(s.message()).rfind(prefix, 0), 0u) << s;
}

TEST_F(LedgerTest, CheckTxRefusesBadTransactionsPrecisely) {
  const std::string ok = Send(*alice_, bob_->address, 5);
  ASSERT_TRUE(ledger_->CheckTx(ok).ok());

  // Replayed tx: its sequence is spent.
  ExpectStatus(
      ledger_->CheckTx(ok).status(), absl::StatusCode::kFailedPrecondition,
      "bank: sequence mismatch for " + alice_->address + ": expected 1, got 0");

  // Forged signature: one bit of a valid tx's signature flipped.
  std::string forged_raw = Send(*alice_, bob_->address, 5);
  alice_->seq--;
  tx::v1::TxRaw forged;
  ASSERT_TRUE(forged.ParseFromString(forged_raw));
  std::string sig = forged.signature();
  sig[10] = static_cast<char>(sig[10] ^ 0x20);
  forged.set_signature(sig);
  ExpectStatus(ledger_->CheckTx(forged.SerializeAsString()).status(),
               absl::StatusCode::kUnauthenticated,
               "tx: signature does not verify for chain virtengine-test-1");
  // Signed by another key than the one it names.
  forged.ParseFromString(forged_raw);
  Account mallory = NewAccount();
  auto msig = mallory.key.Sign(crypto::AsBytes(
      SignBytes(kChain, forged.body_bytes(), forged.auth_info_bytes())));
  forged.set_signature(msig->data(), msig->size());
  ExpectStatus(ledger_->CheckTx(forged.SerializeAsString()).status(),
               absl::StatusCode::kUnauthenticated, "tx: signature");
  // Missing signature.
  forged.clear_signature();
  ExpectStatus(ledger_->CheckTx(forged.SerializeAsString()).status(),
               absl::StatusCode::kInvalidArgument, "tx: missing signature");

  // Wrong chain id.
  TxOptions other_chain;
  other_chain.chain = "x-1";
  ExpectStatus(
      ledger_->CheckTx(Send(*alice_, bob_->address, 5, other_chain)).status(),
      absl::StatusCode::kUnauthenticated,
      "tx: signature does not verify for chain virtengine-test-1");
  alice_->seq--;

  // Unknown message type: refused before the signature is even checked.
  google::protobuf::Any nope;
  nope.set_type_url("/virtengine.nope.v1.MsgNope");
  const std::string unknown = SignedTx(*alice_, {nope});
  alice_->seq--;
  ExpectStatus(ledger_->PreCheckTx(unknown).status(),
               absl::StatusCode::kInvalidArgument,
               "tx: unknown message type /virtengine.nope.v1.MsgNope");
  ExpectStatus(ledger_->CheckTx(unknown).status(),
               absl::StatusCode::kInvalidArgument,
               "tx: unknown message type /virtengine.nope.v1.MsgNope");

  // Oversize tx.
  TxOptions memo;
  memo.memo = std::string(256, 'm');
  std::vector<google::protobuf::Any> many;
  for (int i = 0; i < 32; ++i) {
    google::protobuf::Any big =
        test_util::SendMsg(alice_->address, bob_->address, 1);
    big.mutable_value()->append(std::string(2100, '\0'));
    many.push_back(big);
  }
  const std::string oversize = SignedTx(*alice_, many, memo);
  alice_->seq--;
  ASSERT_GT(oversize.size(), 65536u);
  ExpectStatus(ledger_->CheckTx(oversize).status(),
               absl::StatusCode::kInvalidArgument,
               "tx: " + std::to_string(oversize.size()) +
                   " bytes exceeds the limit of 65536");

  // Non-UTF-8 memo.
  TxOptions bad_memo;
  bad_memo.memo = "caf\xc3";
  ExpectStatus(
      ledger_->CheckTx(Send(*alice_, bob_->address, 5, bad_memo)).status(),
      absl::StatusCode::kInvalidArgument,
      "tx: memo: not valid UTF-8 at byte 3");
  alice_->seq--;

  // Insufficient funds (bob has nothing, not even the fee).
  ExpectStatus(ledger_->CheckTx(Send(*bob_, alice_->address, 1)).status(),
               absl::StatusCode::kFailedPrecondition,
               "bank: insufficient funds: " + bob_->address);
  bob_->seq--;
  // Insufficient funds for the transfer itself.
  ExpectStatus(
      ledger_->CheckTx(Send(*alice_, bob_->address, 2'000'000)).status(),
      absl::StatusCode::kFailedPrecondition,
      "message 0: bank: insufficient funds: " + alice_->address);
  alice_->seq--;

  // Sequence gap.
  alice_->seq += 3;
  ExpectStatus(
      ledger_->CheckTx(Send(*alice_, bob_->address, 5)).status(),
      absl::StatusCode::kFailedPrecondition,
      "bank: sequence mismatch for " + alice_->address + ": expected 1, got 4");
  alice_->seq -= 4;

  // Fee below the minimum, fee in another denomination.
  TxOptions cheap;
  cheap.fee = 9;
  ExpectStatus(
      ledger_->CheckTx(Send(*alice_, bob_->address, 5, cheap)).status(),
      absl::StatusCode::kFailedPrecondition,
      "bank: fee 9uve is below the minimum of 10uve");
  alice_->seq--;
  TxOptions denom;
  denom.fee_denom = "uatom";
  ExpectStatus(
      ledger_->CheckTx(Send(*alice_, bob_->address, 5, denom)).status(),
      absl::StatusCode::kFailedPrecondition,
      "bank: fees are paid in uve, not uatom");
  alice_->seq--;

  // Timeout height passed: the next block is 1.
  ASSERT_TRUE(ledger_->ExecuteBlock({}, 2000, *signer_).ok());
  EXPECT_FALSE(ledger_->LastBlockTouched("bank"));  // an empty block
  TxOptions late;
  late.timeout_height = 1;
  ExpectStatus(ledger_->CheckTx(Send(*alice_, bob_->address, 5, late)).status(),
               absl::StatusCode::kDeadlineExceeded,
               "tx: timeout height 1 passed (next block is 2)");
  alice_->seq--;

  // The admitted tx was not in that (empty) block: it stays admitted, the
  // check state carried over; after a reset it admits again.
  EXPECT_FALSE(ledger_->check_state_reset());
  EXPECT_EQ(ledger_->CheckTx(ok).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ledger_->ResetCheckState();
  ASSERT_TRUE(ledger_->CheckTx(ok).ok());
}

TEST_F(LedgerTest, ResetCheckStateForgetsAdmittedTxs) {
  const std::string first = Send(*alice_, bob_->address, 5);
  ASSERT_TRUE(ledger_->CheckTx(first).ok());
  const std::string second = Send(*alice_, bob_->address, 5);
  ASSERT_TRUE(ledger_->CheckTx(second).ok());
  EXPECT_FALSE(ledger_->CheckTx(first).ok());
  ledger_->ResetCheckState();
  // Committed state has sequence 0: the first tx is admissible again, the
  // second only after it.
  EXPECT_EQ(ledger_->CheckTx(second).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(ledger_->CheckTx(first).ok());
  EXPECT_TRUE(ledger_->CheckTx(second).ok());
}

TEST_F(LedgerTest, NoGenesisRefusesEverything) {
  auto l = Ledger::Open(dir_ + "-empty");
  ASSERT_TRUE(l.ok());
  const std::string raw = Send(*alice_, bob_->address, 1);
  EXPECT_EQ((*l)->PreCheckTx(raw).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*l)->ProposeBlock({}, 1, *signer_).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*l)->ApplyBlock("x", 1).code(),
            absl::StatusCode::kFailedPrecondition);
  Genesis bad = Gen();
  bad.chain_id = "Not A Chain";
  EXPECT_EQ((*l)->InitGenesis(bad).code(), absl::StatusCode::kInvalidArgument);
  bad = Gen();
  bad.modules["nope"] = "";
  EXPECT_EQ((*l)->InitGenesis(bad).code(), absl::StatusCode::kInvalidArgument);
  bad = Gen();
  bad.bank.mutable_balances(0)->set_address("cosmos1xyz");
  EXPECT_EQ((*l)->InitGenesis(bad).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*l)->height(), 0u);
  // A refused genesis wrote nothing: a good one still works.
  EXPECT_TRUE((*l)->InitGenesis(Gen()).ok());
}

TEST_F(LedgerTest, StateSurvivesReopenAndDigestIsDeterministic) {
  std::vector<std::string> raws;
  raws.reserve(4);
  for (int i = 0; i < 4; ++i) raws.push_back(Send(*alice_, bob_->address, 7));
  std::vector<DecodedTx> txs;
  txs.reserve(raws.size());
  for (const auto& r : raws) txs.push_back(*ledger_->CheckTx(r));
  ASSERT_TRUE(ledger_->ExecuteBlock(txs, 7000, *signer_).ok());
  const crypto::Digest32 digest = ledger_->state_digest();

  // A second ledger from the same genesis executing the same block reaches
  // the same state digest.
  auto other = Ledger::Open(dir_ + "-replica");
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->InitGenesis(Gen()).ok());
  std::vector<DecodedTx> again;
  again.reserve(raws.size());
  for (const auto& r : raws) again.push_back(*(*other)->CheckTx(r));
  ASSERT_TRUE((*other)->ExecuteBlock(again, 7000, *signer_).ok());
  EXPECT_EQ((*other)->state_digest(), digest);
  EXPECT_EQ((*other)->last_block_hash(), ledger_->last_block_hash());

  // Reopen from disk: height, applied index, balances, receipts all there.
  const std::string hash = ledger_->last_block_hash();
  ledger_.reset();
  auto reopened = Ledger::Open(dir_);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->height(), 1u);
  EXPECT_EQ((*reopened)->applied_index(), 1u);
  EXPECT_EQ((*reopened)->state_digest(), digest);
  EXPECT_EQ((*reopened)->last_block_hash(), hash);
  EXPECT_EQ((*reopened)->chain_id(), kChain);
  EXPECT_EQ(BalanceOf(**reopened, bob_->address), 28u);
  EXPECT_TRUE((*reopened)->GetReceipt(txs[2].hash).ok());
  auto got = (*reopened)->GetTx(txs[3].hash);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->second, 3u);
  EXPECT_EQ((*reopened)->InitGenesis(Gen()).code(),
            absl::StatusCode::kFailedPrecondition);
  // The ledger keeps growing after the restart.
  std::vector<DecodedTx> more = {
      *(*reopened)->CheckTx(Send(*alice_, bob_->address, 1))};
  ASSERT_TRUE((*reopened)->ExecuteBlock(more, 8000, *signer_).ok());
  auto receipt = (*reopened)->GetReceipt(more[0].hash);
  ASSERT_TRUE(receipt.ok());
  EXPECT_EQ(receipt->tree_size(), 5u);
  EXPECT_TRUE(VerifyReceipt(*receipt, "").ok());
}

// A checkpoint opens as a ledger at the same height and digest; its stored
// chain verifies from genesis and from a trusted block; a tampered
// checkpoint or an untrusted block is refused.
TEST_F(LedgerTest, CheckpointOpensAndItsChainVerifies) {
  std::vector<std::string> hashes;
  for (int b = 0; b < 3; ++b) {
    std::vector<DecodedTx> txs = {
        *ledger_->CheckTx(Send(*alice_, bob_->address, 3))};
    ASSERT_TRUE(ledger_->ExecuteBlock(txs, 9000 + b, *signer_).ok());
    hashes.push_back(ledger_->last_block_hash());
  }
  const std::string ckpt = dir_ + "-ckpt";
  ASSERT_TRUE(ledger_->Checkpoint(ckpt).ok());
  EXPECT_FALSE(ledger_->Checkpoint(ckpt).ok());  // exists already
  auto copy = Ledger::Open(ckpt);
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_EQ((*copy)->height(), 3u);
  EXPECT_EQ((*copy)->state_digest(), ledger_->state_digest());
  EXPECT_EQ((*copy)->applied_index(), ledger_->applied_index());
  EXPECT_TRUE((*copy)->VerifyStoredChain(0, "").ok());
  EXPECT_TRUE((*copy)->VerifyStoredChain(2, hashes[1]).ok());
  absl::Status wrong = (*copy)->VerifyStoredChain(2, hashes[0]);
  EXPECT_EQ(wrong.code(), absl::StatusCode::kDataLoss) << wrong;
  EXPECT_EQ((*copy)->VerifyStoredChain(9, hashes[0]).code(),
            absl::StatusCode::kDataLoss);
  copy->reset();

  // Tamper with the stored state digest: the chain no longer verifies.
  {
    auto store = Store::Open(ckpt);
    ASSERT_TRUE(store.ok());
    WriteSet w;
    w["meta/state_digest"] = std::string(32, 'x');
    ASSERT_TRUE((*store)->Commit(w).ok());
  }
  copy = Ledger::Open(ckpt);
  ASSERT_TRUE(copy.ok()) << copy.status();
  absl::Status tampered = (*copy)->VerifyStoredChain(0, "");
  EXPECT_EQ(tampered.code(), absl::StatusCode::kDataLoss) << tampered;
  EXPECT_NE(tampered.message().find("state digest"), std::string::npos);
}

TEST_F(LedgerTest, QueriesAndGenesisExport) {
  bank::v1::QueryBalanceRequest req;
  req.set_address(alice_->address);
  req.set_denom("uve");
  auto resp = ledger_->Query("bank", "balance", req.SerializeAsString());
  ASSERT_TRUE(resp.ok()) << resp.status();
  bank::v1::QueryBalanceResponse bal;
  ASSERT_TRUE(bal.ParseFromString(*resp));
  EXPECT_EQ(bal.balance().amount(), 1'000'000u);
  EXPECT_EQ(ledger_->Query("nope", "x", "").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ledger_->Query("bank", "nope", "").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ledger_->Query("bank", std::string(129, 'p'), "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger_->Query("bank", "balance", std::string(65537, '\0'))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger_->Query("bank", "balance", "\xff\xff").status().code(),
            absl::StatusCode::kInvalidArgument);

  std::vector<DecodedTx> txs = {
      *ledger_->CheckTx(Send(*alice_, bob_->address, 70))};
  ASSERT_TRUE(ledger_->ExecuteBlock(txs, 3000, *signer_).ok());
  auto exported = ledger_->ExportGenesis();
  ASSERT_TRUE(exported.ok()) << exported.status();
  EXPECT_EQ(exported->chain_id, kChain);
  EXPECT_EQ(exported->genesis_time_unix_nano, 3000);
  auto copy = Ledger::Open(dir_ + "-exported");
  ASSERT_TRUE(copy.ok());
  exported->chain_id = "virtengine-test-2";
  ASSERT_TRUE((*copy)->InitGenesis(*exported).ok());
  EXPECT_EQ(BalanceOf(**copy, bob_->address), 70u);
  EXPECT_EQ(BalanceOf(**copy, "module:fee_collector"), 10u);
  EXPECT_TRUE((*copy)->CheckInvariants().ok());
}

// PreCheckTx is thread-safe: several threads decode and verify while the
// owner thread admits and commits blocks.
TEST_F(LedgerTest, PreCheckTxRunsConcurrentlyWithBlocks) {
  std::vector<std::string> raws;
  raws.reserve(40);
  for (int i = 0; i < 40; ++i) raws.push_back(Send(*alice_, bob_->address, 1));
  std::atomic<int> verified{0};
  std::vector<std::thread> threads;
  threads.reserve(3);
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      for (const std::string& r : raws) {
        if (ledger_->PreCheckTx(r).ok()) verified.fetch_add(1);
      }
    });
  }
  for (size_t b = 0; b < raws.size(); b += 10) {
    std::vector<DecodedTx> txs;
    for (size_t i = b; i < b + 10; ++i)
      txs.push_back(*ledger_->CheckTx(raws[i]));
    ASSERT_TRUE(
        ledger_->ExecuteBlock(txs, static_cast<int64_t>(2000 + b), *signer_)
            .ok());
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(verified.load(), 3 * 40);
  EXPECT_EQ(ledger_->height(), 4u);
  EXPECT_EQ(BalanceOf(*ledger_, bob_->address), 40u);
}

}  // namespace
}  // namespace virtengine::ledger
