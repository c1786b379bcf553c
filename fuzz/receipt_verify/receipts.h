// Genuine receipts for the receipt_verify fuzz target: a fixed node key and
// account, five transfers in three blocks, every value deterministic, so the
// target (at start-up) and make_corpus compute the same receipts.
#ifndef VIRTENGINE_FUZZ_RECEIPT_VERIFY_RECEIPTS_H_
#define VIRTENGINE_FUZZ_RECEIPT_VERIFY_RECEIPTS_H_

#include <stdlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "security/crypto/ed25519.h"
#include "security/crypto/secret_bytes.h"
#include "src/api/bank/v1/bank.pb.h"
#include "src/api/tx/v1/tx.pb.h"
#include "src/ledger/chain/ledger.h"

namespace virtengine::ledger::fuzz_receipt {

namespace cv1 = ::virtengine::security::crypto::v1;

inline constexpr char kChainId[] = "virtengine-fuzz-1";
// Test seeds, never used for anything real: 0x61..0x80 and 0x81..0xa0.
inline constexpr uint8_t kNodeSeed[32] = {
    0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b,
    0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76,
    0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f, 0x80};
inline constexpr uint8_t kAccountSeed[32] = {
    0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b,
    0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96,
    0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0};

inline crypto::Ed25519PrivateKey KeyFrom(cv1::Purpose purpose,
                                         const uint8_t (&seed)[32]) {
  auto k = crypto::Ed25519PrivateKey::FromSeed(
      purpose, crypto::SecretBytes::CopyFrom(crypto::ByteView(seed, 32)));
  if (!k.ok()) std::abort();
  return *std::move(k);
}

// The node public key the genuine receipts are signed with.
inline std::string NodeKey() {
  return std::string(crypto::AsChars(
      KeyFrom(cv1::NODE_SIGNATURE, kNodeSeed).public_key().view()));
}

inline std::string NewTempDir() {
  const char* t = std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  std::string tmpl =
      (std::filesystem::path(t != nullptr ? t : "/tmp") / "ve-fuzz-XXXXXX")
          .string();
  if (mkdtemp(tmpl.data()) == nullptr) std::abort();
  return tmpl;
}

// Receipts of five transfers committed in blocks of 1, 3 and 1 txs (tree
// sizes 1, 4 and 5), in commit order.
inline std::vector<v1::Receipt> GenuineReceipts() {
  const std::string dir = NewTempDir();
  std::vector<v1::Receipt> out;
  {
    const crypto::Ed25519PrivateKey account =
        KeyFrom(cv1::TX_SIGNATURE, kAccountSeed);
    const std::string me = AddressFromPublicKey(account.public_key());
    KeyBlockSigner signer(KeyFrom(cv1::NODE_SIGNATURE, kNodeSeed));
    LedgerOptions o;
    o.store.sync_writes = false;
    auto ledger = Ledger::Open(dir + "/db", std::move(o));
    if (!ledger.ok()) std::abort();
    Genesis g;
    g.chain_id = kChainId;
    g.genesis_time_unix_nano = 1000;
    g.bank.set_fee_denom("uve");
    g.bank.set_min_fee(10);
    auto* b = g.bank.add_balances();
    b->set_address(me);
    auto* c = b->add_coins();
    c->set_denom("uve");
    c->set_amount(1'000'000);
    if (!(*ledger)->InitGenesis(g).ok()) std::abort();
    uint64_t seq = 0;
    std::vector<crypto::Digest32> hashes;
    for (int block_txs : {1, 3, 1}) {
      std::vector<DecodedTx> txs;
      for (int i = 0; i < block_txs; ++i) {
        bank::v1::MsgSend m;
        m.set_from_address(me);
        m.set_to_address(me);
        m.mutable_amount()->set_denom("uve");
        m.mutable_amount()->set_amount(seq + 1);
        tx::v1::TxBody body;
        body.add_messages()->PackFrom(m, "/");
        tx::v1::AuthInfo auth;
        auth.set_public_key(
            std::string(crypto::AsChars(account.public_key().view())));
        auth.set_sequence(seq++);
        auth.mutable_fee()->set_denom("uve");
        auth.mutable_fee()->set_amount(10);
        auto raw = SignTx(body, auth, kChainId, account);
        if (!raw.ok()) std::abort();
        auto tx = (*ledger)->CheckTx(*raw);
        if (!tx.ok()) std::abort();
        hashes.push_back(tx->hash);
        txs.push_back(*std::move(tx));
      }
      if (!(*ledger)
               ->ExecuteBlock(txs, static_cast<int64_t>(2000 + seq), signer)
               .ok()) {
        std::abort();
      }
    }
    for (const crypto::Digest32& h : hashes) {
      auto r = (*ledger)->GetReceipt(h);
      if (!r.ok()) std::abort();
      out.push_back(*std::move(r));
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return out;
}

}  // namespace virtengine::ledger::fuzz_receipt

#endif  // VIRTENGINE_FUZZ_RECEIPT_VERIFY_RECEIPTS_H_
