// The chain the block_decode fuzz target applies blocks to: a fixed genesis
// funding a fixed test account, and a generator of valid height-1 blocks
// over it (shared by the target's self-test and make_corpus).
#ifndef VIRTENGINE_FUZZ_BLOCK_DECODE_FUZZ_CHAIN_H_
#define VIRTENGINE_FUZZ_BLOCK_DECODE_FUZZ_CHAIN_H_

#include <stdlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "security/crypto/ed25519.h"
#include "security/crypto/secret_bytes.h"
#include "src/api/audit/v1/audit.pb.h"
#include "src/api/bank/v1/bank.pb.h"
#include "src/api/tx/v1/tx.pb.h"
#include "src/ledger/chain/ledger.h"

namespace virtengine::ledger::fuzz {

inline constexpr char kChainId[] = "virtengine-fuzz-1";

// 0x41, 0x42, ..., 0x60: a test account seed, never used for anything real.
inline constexpr uint8_t kAccountSeed[32] = {
    0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b,
    0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56,
    0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60};

inline crypto::Ed25519PrivateKey AccountKey() {
  auto k = crypto::Ed25519PrivateKey::FromSeed(
      security::crypto::v1::TX_SIGNATURE,
      crypto::SecretBytes::CopyFrom(crypto::ByteView(kAccountSeed, 32)));
  if (!k.ok()) std::abort();
  return *std::move(k);
}

inline Genesis FuzzGenesis() {
  Genesis g;
  g.chain_id = kChainId;
  g.genesis_time_unix_nano = 1000;
  g.bank.set_fee_denom("uve");
  g.bank.set_min_fee(10);
  auto* b = g.bank.add_balances();
  b->set_address(AddressFromPublicKey(AccountKey().public_key()));
  auto* c = b->add_coins();
  c->set_denom("uve");
  c->set_amount(1'000'000);
  return g;
}

// A fresh directory under TEST_TMPDIR (or /tmp).
inline std::string NewTempDir() {
  const char* t = std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  std::string tmpl =
      (std::filesystem::path(t != nullptr ? t : "/tmp") / "ve-fuzz-XXXXXX")
          .string();
  if (mkdtemp(tmpl.data()) == nullptr) std::abort();
  return tmpl;
}

// A ledger at the fuzz genesis in a fresh directory (no fsync).
inline std::unique_ptr<Ledger> FuzzLedger(const std::string& dir) {
  LedgerOptions o;
  o.store.sync_writes = false;
  auto l = Ledger::Open(dir + "/db", std::move(o));
  if (!l.ok() || !(*l)->InitGenesis(FuzzGenesis()).ok()) std::abort();
  return *std::move(l);
}

inline std::string SignedTx(const crypto::Ed25519PrivateKey& key, uint64_t seq,
                            const std::vector<google::protobuf::Any>& msgs) {
  tx::v1::TxBody body;
  for (const auto& m : msgs) *body.add_messages() = m;
  tx::v1::AuthInfo auth;
  auth.set_public_key(std::string(crypto::AsChars(key.public_key().view())));
  auth.set_sequence(seq);
  auth.mutable_fee()->set_denom("uve");
  auth.mutable_fee()->set_amount(10);
  auto raw = SignTx(body, auth, kChainId, key);
  if (!raw.ok()) std::abort();
  return *raw;
}

// Valid blocks at height 1 over the fuzz genesis, signed by `signer`, each
// proposed on `ledger` (which must be at genesis; nothing is committed).
inline std::map<std::string, std::string> ValidBlocks(
    Ledger& ledger, const BlockSigner& signer) {
  const crypto::Ed25519PrivateKey key = AccountKey();
  const std::string me = AddressFromPublicKey(key.public_key());
  auto send = [&](const std::string& to, uint64_t amount) {
    bank::v1::MsgSend m;
    m.set_from_address(me);
    m.set_to_address(to);
    m.mutable_amount()->set_denom("uve");
    m.mutable_amount()->set_amount(amount);
    google::protobuf::Any any;
    any.PackFrom(m, "/");
    return any;
  };
  audit::v1::MsgRecordAudit rec;
  rec.set_kind("node.audit_log_head");
  rec.set_subject("fuzz node");
  rec.set_digest(std::string(32, '\x5a'));
  google::protobuf::Any audit_msg;
  audit_msg.PackFrom(rec, "/");
  google::protobuf::Any unknown;
  unknown.set_type_url("/virtengine.nope.v1.MsgNope");

  std::map<std::string, std::vector<std::string>> plans = {
      {"valid_empty", {}},
      {"valid_transfers",
       {SignedTx(key, 0, {send(me, 5)}),
        SignedTx(key, 1,
                 {send("ve1y8lrrhap2j3xzcntlp2qgm7jyudhhm2tyrvzn3", 7),
                  send(me, 1)})}},
      {"valid_audit", {SignedTx(key, 0, {audit_msg, send(me, 2)})}},
      // Failing txs are valid block content: codes 1, 2 and 3.
      {"valid_failures",
       {SignedTx(key, 5, {send(me, 1)}), SignedTx(key, 0, {unknown}),
        SignedTx(key, 1, {send(me, 10'000'000)})}},
  };
  std::map<std::string, std::string> out;
  int64_t time = 2000;
  for (const auto& [name, raws] : plans) {
    std::vector<DecodedTx> txs;
    for (const std::string& r : raws) {
      auto tx = DecodeTx(r);
      if (!tx.ok()) std::abort();
      txs.push_back(*std::move(tx));
    }
    auto block = ledger.ProposeBlock(txs, time++, signer);
    if (!block.ok()) std::abort();
    out[name] = block->SerializeAsString();
  }
  return out;
}

}  // namespace virtengine::ledger::fuzz

#endif  // VIRTENGINE_FUZZ_BLOCK_DECODE_FUZZ_CHAIN_H_
