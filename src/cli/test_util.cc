#include "src/cli/test_util.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

#include "security/path/path.h"
#include "src/api/bank/v1/bank.pb.h"
#include "src/api/tx/v1/tx.pb.h"
#include "src/ledger/tx/tx.h"

namespace virtengine::cli::testutil {

namespace cv1 = ::virtengine::security::crypto::v1;

namespace {

std::string TmpRoot() {
  const char* t = std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  return t != nullptr ? std::string(t) : std::string("/tmp");
}

std::pair<std::string, std::string> Split(const std::string& path) {
  const size_t slash = path.rfind('/');
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

}  // namespace

std::string NewDir(const std::string& name) {
  static int counter = 0;
  const std::string rel = name + "-" + std::to_string(counter++);
  auto root = security::path::PathRoot::Open(TmpRoot());
  EXPECT_TRUE(root.ok()) << root.status();
  EXPECT_TRUE(root->MakeDirs(rel, 0700).ok());
  return TmpRoot() + "/" + rel;
}

void WriteFile(const std::string& path, std::string_view data, mode_t mode) {
  const auto [dir, name] = Split(path);
  auto root = security::path::PathRoot::Open(dir);
  ASSERT_TRUE(root.ok()) << root.status();
  ASSERT_TRUE(root->WriteFileAtomic(name, data, mode).ok());
}

std::string ReadFile(const std::string& path) {
  const auto [dir, name] = Split(path);
  auto root = security::path::PathRoot::Open(dir);
  EXPECT_TRUE(root.ok()) << root.status();
  auto data = root->ReadFile(name, 1 << 20);
  EXPECT_TRUE(data.ok()) << data.status();
  return data.ok() ? *data : std::string();
}

Env MakeEnv(const std::string& home) {
  Env env;
  const std::string pass = home + ".pass";
  WriteFile(pass, std::string(kPassphrase) + "\n");
  env.vars["VECTL_HOME"] = home;
  env.vars["VECTL_PASSPHRASE_FILE"] = pass;
  env.cwd = TmpRoot();
  return env;
}

RunResult Vectl(Env& env, const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  RunResult r;
  r.code = RunVectl(args, out, err, env);
  r.out = out.str();
  r.err = err.str();
  return r;
}

std::string TestChain::node_public_key() const {
  return std::string(crypto::AsChars(signer->public_key().view()));
}

std::string TestChain::SendFromAlice(const std::string& to, uint64_t amount) {
  bank::v1::MsgSend m;
  m.set_from_address(alice_address);
  m.set_to_address(to);
  m.mutable_amount()->set_denom("uve");
  m.mutable_amount()->set_amount(amount);
  tx::v1::TxBody body;
  body.add_messages()->PackFrom(m, "/");
  tx::v1::AuthInfo auth;
  auth.set_public_key(std::string(crypto::AsChars(alice->public_key().view())));
  auth.set_sequence(alice_seq++);
  auth.mutable_fee()->set_denom("uve");
  auth.mutable_fee()->set_amount(10);
  auto raw = ledger::SignTx(body, auth, kChain, *alice);
  EXPECT_TRUE(raw.ok()) << raw.status();
  return raw.ok() ? *raw : std::string();
}

TestChain NewChain(const std::string& db_dir, const std::string& funded) {
  TestChain c;
  c.signer = std::make_unique<ledger::KeyBlockSigner>(
      *crypto::Ed25519PrivateKey::Generate(cv1::NODE_SIGNATURE));
  c.alice = std::make_unique<crypto::Ed25519PrivateKey>(
      *crypto::Ed25519PrivateKey::Generate(cv1::TX_SIGNATURE));
  c.alice_address = ledger::AddressFromPublicKey(c.alice->public_key());
  auto l = ledger::Ledger::Open(db_dir);
  EXPECT_TRUE(l.ok()) << l.status();
  if (!l.ok()) return c;
  c.ledger = *std::move(l);
  ledger::Genesis g;
  g.chain_id = kChain;
  g.genesis_time_unix_nano = 1000;
  g.bank.set_fee_denom("uve");
  g.bank.set_min_fee(10);
  for (const std::string& addr : {c.alice_address, funded}) {
    if (addr.empty()) continue;
    auto* b = g.bank.add_balances();
    b->set_address(addr);
    auto* coin = b->add_coins();
    coin->set_denom("uve");
    coin->set_amount(1'000'000);
  }
  absl::Status s = c.ledger->InitGenesis(g);
  EXPECT_TRUE(s.ok()) << s;
  return c;
}

ledger::v1::Receipt CommitAndGetReceipt(TestChain& chain) {
  const std::string bob = ledger::AddressFromPublicKey(
      crypto::Ed25519PrivateKey::Generate(cv1::TX_SIGNATURE)->public_key());
  std::vector<ledger::DecodedTx> txs;
  for (int i = 0; i < 3; ++i) {
    auto tx = chain.ledger->CheckTx(chain.SendFromAlice(bob, 100 + i));
    EXPECT_TRUE(tx.ok()) << tx.status();
    if (!tx.ok()) return {};
    txs.push_back(*std::move(tx));
  }
  auto block = chain.ledger->ExecuteBlock(txs, 5000, *chain.signer);
  EXPECT_TRUE(block.ok()) << block.status();
  auto receipt = chain.ledger->GetReceipt(txs[1].hash);
  EXPECT_TRUE(receipt.ok()) << receipt.status();
  return receipt.ok() ? *receipt : ledger::v1::Receipt();
}

}  // namespace virtengine::cli::testutil
