// Helpers shared by the ledger tests and benchmark: accounts, signed
// transactions, a genesis, temp directories.
#ifndef VIRTENGINE_SRC_LEDGER_CHAIN_LEDGER_TEST_UTIL_H_
#define VIRTENGINE_SRC_LEDGER_CHAIN_LEDGER_TEST_UTIL_H_

#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "src/api/bank/v1/bank.pb.h"
#include "src/api/tx/v1/tx.pb.h"
#include "src/ledger/chain/ledger.h"

namespace virtengine::ledger::test_util {

namespace cv1 = ::virtengine::security::crypto::v1;

inline constexpr char kChain[] = "virtengine-test-1";

inline std::string TempDir(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  return std::string(t != nullptr ? t : "/tmp") + "/" + name;
}

struct Account {
  crypto::Ed25519PrivateKey key;
  std::string address;
  uint64_t seq = 0;
};

inline Account NewAccount() {
  auto key = crypto::Ed25519PrivateKey::Generate(cv1::TX_SIGNATURE);
  if (!key.ok()) std::abort();
  std::string addr = AddressFromPublicKey(key->public_key());
  return Account{*std::move(key), addr, 0};
}

inline std::unique_ptr<KeyBlockSigner> NewSigner() {
  auto key = crypto::Ed25519PrivateKey::Generate(cv1::NODE_SIGNATURE);
  if (!key.ok()) std::abort();
  return std::make_unique<KeyBlockSigner>(*std::move(key));
}

inline google::protobuf::Any SendMsg(const std::string& from,
                                     const std::string& to, uint64_t amount) {
  bank::v1::MsgSend m;
  m.set_from_address(from);
  m.set_to_address(to);
  m.mutable_amount()->set_denom("uve");
  m.mutable_amount()->set_amount(amount);
  google::protobuf::Any any;
  any.PackFrom(m, "/");
  return any;
}

struct TxOptions {
  std::string chain = kChain;
  uint64_t fee = 10;
  std::string fee_denom = "uve";
  std::string memo;
  uint64_t timeout_height = 0;
};

// Signs `msgs` with `from`'s next sequence (and advances it).
inline std::string SignedTx(Account& from,
                            const std::vector<google::protobuf::Any>& msgs,
                            const TxOptions& o = TxOptions()) {
  tx::v1::TxBody body;
  for (const auto& m : msgs) *body.add_messages() = m;
  body.set_memo(o.memo);
  body.set_timeout_height(o.timeout_height);
  tx::v1::AuthInfo auth;
  auth.set_public_key(
      std::string(crypto::AsChars(from.key.public_key().view())));
  auth.set_sequence(from.seq++);
  auth.mutable_fee()->set_denom(o.fee_denom);
  auth.mutable_fee()->set_amount(o.fee);
  auto raw = SignTx(body, auth, o.chain, from.key);
  if (!raw.ok()) std::abort();
  return *raw;
}

inline std::string Send(Account& from, const std::string& to, uint64_t amount,
                        const TxOptions& o = TxOptions()) {
  return SignedTx(from, {SendMsg(from.address, to, amount)}, o);
}

// A genesis funding each of `funded` with `amount` uve; fee 10uve.
inline Genesis MakeGenesis(const std::vector<const Account*>& funded,
                           uint64_t amount = 1'000'000) {
  Genesis g;
  g.chain_id = kChain;
  g.genesis_time_unix_nano = 1000;
  g.bank.set_fee_denom("uve");
  g.bank.set_min_fee(10);
  for (const Account* a : funded) {
    auto* b = g.bank.add_balances();
    b->set_address(a->address);
    auto* c = b->add_coins();
    c->set_denom("uve");
    c->set_amount(amount);
  }
  return g;
}

}  // namespace virtengine::ledger::test_util

#endif  // VIRTENGINE_SRC_LEDGER_CHAIN_LEDGER_TEST_UTIL_H_
