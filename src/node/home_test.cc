#include "src/node/home.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include "gtest/gtest.h"
#include "src/ledger/tx/tx.h"
#include "src/node/files.h"

namespace virtengine::node {
namespace {

namespace cv1 = ::virtengine::security::crypto::v1;

std::string TempDir(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  std::string dir = std::string(t != nullptr ? t : "/tmp") + "/" + name;
  ::mkdir(dir.c_str(), 0700);
  return dir;
}

std::string PassFile(const std::string& dir, mode_t mode) {
  std::string p = dir + "/pass";
  std::ofstream(p) << "correct horse battery staple\n";
  ::chmod(p.c_str(), mode);
  return p;
}

std::string Alice() {
  auto key = crypto::Ed25519PrivateKey::Generate(cv1::TX_SIGNATURE);
  return ledger::AddressFromPublicKey(key->public_key());
}

InitOptions Options(const std::string& base) {
  InitOptions o;
  o.home = base + "/home";
  o.chain_id = "test-chain";
  o.passphrase_file = PassFile(base, 0600);
  return o;
}

TEST(HomeTest, InitWritesConfigGenesisAndNodeKey) {
  const std::string base = TempDir("init_ok");
  InitOptions o = Options(base);
  o.genesis_accounts = {Alice() + "=1000uve"};
  absl::Status s = InitHome(o);
  ASSERT_TRUE(s.ok()) << s;
  absl::StatusOr<std::string> text =
      ReadAbsolute(o.home + "/config/node.conf", kMaxConfigBytes);
  ASSERT_TRUE(text.ok()) << text.status();
  absl::StatusOr<v1::NodeConfig> c = ParseConfig(*text);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->grpc_address(), "127.0.0.1:9090");
  EXPECT_EQ(c->metrics_address(), "127.0.0.1:26660");
  EXPECT_EQ(c->block().max_txs(), 5000u);
  absl::StatusOr<std::string> json =
      ReadAbsolute(o.home + "/config/genesis.json", kMaxGenesisBytes);
  ASSERT_TRUE(json.ok());
  absl::StatusOr<v1::GenesisDoc> g = ParseGenesis(*json);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->chain_id(), "test-chain");
  ASSERT_EQ(g->voters_size(), 1);
  ASSERT_EQ(g->bank().balances_size(), 1);
  EXPECT_EQ(g->bank().balances(0).coins(0).amount(), 1000u);

  // The node key in the store is the genesis voter's key and signs.
  absl::StatusOr<security::path::PathRoot> root = OpenDir(o.home, false);
  ASSERT_TRUE(root.ok());
  absl::StatusOr<crypto::SecretBytes> pass =
      ReadPassphraseFile(o.passphrase_file);
  ASSERT_TRUE(pass.ok());
  keys::PassphraseKekProvider kek(*std::move(pass));
  auto store = keys::KeyStore::Open(*root, kek, keys::SystemWallClock::Get());
  ASSERT_TRUE(store.ok()) << store.status();
  auto signer = StoreBlockSigner::Open(*std::move(store));
  ASSERT_TRUE(signer.ok()) << signer.status();
  EXPECT_EQ(std::string(crypto::AsChars((*signer)->public_key().view())),
            g->voters(0).node_public_key());
  const std::string msg = "header";
  absl::StatusOr<crypto::Ed25519Signature> sig =
      (*signer)->Sign(crypto::AsBytes(msg));
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE((*signer)
                  ->public_key()
                  .Verify(cv1::NODE_SIGNATURE, crypto::AsBytes(msg),
                          crypto::ByteView(sig->data(), sig->size()))
                  .ok());

  // A second init into the same home is refused and changes nothing.
  EXPECT_EQ(InitHome(o).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(*ReadAbsolute(o.home + "/config/genesis.json", kMaxGenesisBytes),
            *json);
}

TEST(HomeTest, InitRefusesBadInput) {
  const std::string base = TempDir("init_bad");
  InitOptions o = Options(base);
  o.chain_id = "Bad Chain";
  EXPECT_EQ(InitHome(o).code(), absl::StatusCode::kInvalidArgument);
  o = Options(base);
  o.genesis_accounts = {"nobody=5uve"};
  EXPECT_EQ(InitHome(o).code(), absl::StatusCode::kInvalidArgument);
  o = Options(base);
  o.passphrase_file = PassFile(base, 0644);
  EXPECT_EQ(InitHome(o).code(), absl::StatusCode::kFailedPrecondition);
  // Nothing was written by the refused attempts.
  EXPECT_FALSE(
      ReadAbsolute(o.home + "/config/genesis.json", kMaxGenesisBytes).ok());
}

TEST(HomeTest, ConfigParsingIsStrict) {
  EXPECT_TRUE(ParseConfig("").ok());
  EXPECT_EQ(ParseConfig("no_such_key: 1").status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::Status s = ParseConfig("block { max_txs: 1000000 }").status();
  EXPECT_NE(s.message().find("block.max_txs"), absl::string_view::npos) << s;
  EXPECT_FALSE(ParseConfig("grpc_address: \"nohostport\"").ok());
  EXPECT_FALSE(ParseConfig("seccomp: \"maybe\"").ok());
  EXPECT_FALSE(ParseConfig(std::string(kMaxConfigBytes + 1, ' ')).ok());
}

TEST(HomeTest, GenesisParsingIsStrict) {
  EXPECT_FALSE(ParseGenesis("{").ok());
  EXPECT_FALSE(ParseGenesis("{\"chain_id\":\"c\",\"extra\":1}").ok());
  // No voters.
  EXPECT_FALSE(ParseGenesis("{\"chain_id\":\"c\"}").ok());
  // A voter key of the wrong size.
  EXPECT_FALSE(ParseGenesis("{\"chain_id\":\"c\",\"voters\":[{\"raft_id\":1,"
                            "\"raft_address\":\"127.0.0.1:1\","
                            "\"node_public_key\":\"AAAA\"}]}")
                   .ok());
}

}  // namespace
}  // namespace virtengine::node
