// vectl keys add/list/show/export/import on real key stores in TEST_TMPDIR.
#include <gtest/gtest.h>

#include <string>

#include "security/keys/kek.h"
#include "security/keys/key_store.h"
#include "security/path/path.h"
#include "src/cli/key_export.h"
#include "src/cli/test_util.h"
#include "src/common/encoding/base64.h"
#include "src/common/encoding/hex.h"

namespace virtengine::cli {
namespace {

using testutil::RunResult;
using testutil::Vectl;

class KeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::NewDir("keys");
    env_ = testutil::MakeEnv(dir_ + "/home-a");
    export_pass_ = dir_ + "/export.pass";
    testutil::WriteFile(export_pass_, "an export passphrase\n");
  }

  std::string AddressOf(Env& env, const std::string& name) {
    RunResult r = Vectl(env, {"keys", "show", name, "--address"});
    EXPECT_EQ(r.code, kExitOk) << r.err;
    EXPECT_EQ(r.out.size(), 41u + 1) << r.out;  // "ve1" + 38, newline
    return r.out.substr(0, r.out.size() - 1);
  }

  std::string Export(Env& env, const std::string& name) {
    RunResult r = Vectl(env, {"keys", "export", name,
                              "--export-passphrase-file", export_pass_});
    EXPECT_EQ(r.code, kExitOk) << r.err;
    return r.out;
  }

  std::string dir_;
  Env env_;
  std::string export_pass_;
};

TEST_F(KeysTest, AddListShow) {
  RunResult r = Vectl(env_, {"keys", "add", "alice"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("name: alice\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("purpose: TX_SIGNATURE\n"), std::string::npos);
  const std::string alice = AddressOf(env_, "alice");
  EXPECT_EQ(alice.substr(0, 3), "ve1");
  EXPECT_NE(r.out.find("address: " + alice + "\n"), std::string::npos);

  // The home and the store were created with private modes.
  r = Vectl(env_, {"keys", "add", "bob", "--output", "json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out.find("{\"name\":\"bob\",\"address\":\"ve1"), 0u) << r.out;
  EXPECT_NE(r.out.find("\"state\":\"active\""), std::string::npos);

  r = Vectl(env_, {"keys", "list"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("alice\t1\tactive\tTX_SIGNATURE\t" + alice + "\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("bob\t1\tactive"), std::string::npos);
  r = Vectl(env_, {"keys", "list", "--output", "json"});
  EXPECT_EQ(r.out.find("{\"keys\":[{\"name\":\"alice\""), 0u) << r.out;

  r = Vectl(env_, {"keys", "show", "alice", "--output", "json", "--address"});
  EXPECT_EQ(r.out, "{\"address\":\"" + alice + "\"}\n");

  // A second key of the same name is refused (runtime error, exit 1).
  r = Vectl(env_, {"keys", "add", "alice"});
  EXPECT_EQ(r.code, kExitRuntime);
  EXPECT_NE(r.err.find("keys add alice"), std::string::npos) << r.err;
  // Unknown key.
  r = Vectl(env_, {"keys", "show", "carol"});
  EXPECT_EQ(r.code, kExitRuntime);
  EXPECT_NE(r.err.find("carol"), std::string::npos);

  // Wrong store passphrase: refused, exit 1.
  const std::string wrong = dir_ + "/wrong.pass";
  testutil::WriteFile(wrong, "not the right passphrase\n");
  r = Vectl(env_, {"keys", "list", "--passphrase-file", wrong});
  EXPECT_EQ(r.code, kExitRuntime);
  EXPECT_NE(r.err.find("KEK check failed"), std::string::npos) << r.err;
}

TEST_F(KeysTest, ExportImportRoundTripIntoAnotherHome) {
  ASSERT_EQ(Vectl(env_, {"keys", "add", "alice"}).code, kExitOk);
  const std::string alice = AddressOf(env_, "alice");
  const std::string armored = Export(env_, "alice");
  EXPECT_EQ(armored.find("-----BEGIN VIRTENGINE ED25519 KEY-----\nAddress: " +
                         alice + "\n\n"),
            0u)
      << armored;
  EXPECT_NE(armored.find("-----END VIRTENGINE ED25519 KEY-----\n"),
            std::string::npos);

  // The raw seed appears nowhere in the export (hex or base64).
  {
    auto home = security::path::PathRoot::Open(dir_ + "/home-a");
    ASSERT_TRUE(home.ok());
    keys::PassphraseKekProvider kek(
        crypto::SecretBytes::CopyFrom(std::string_view(testutil::kPassphrase)));
    auto store = keys::KeyStore::Open(*home, kek, keys::SystemWallClock::Get());
    ASSERT_TRUE(store.ok()) << store.status();
    auto seed = ActiveSeed(**store, "alice");
    ASSERT_TRUE(seed.ok()) << seed.status();
    ASSERT_EQ(seed->size(), 32u);
    EXPECT_EQ(armored.find(encoding::HexEncode(seed->view())),
              std::string::npos);
    EXPECT_EQ(armored.find(encoding::Base64Encode(seed->view()).substr(0, 40)),
              std::string::npos);
  }

  const std::string file = dir_ + "/alice.key";
  testutil::WriteFile(file, armored);
  Env other = testutil::MakeEnv(dir_ + "/home-b");
  RunResult r = Vectl(other, {"keys", "import", "alice2", file,
                              "--export-passphrase-file", export_pass_});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(AddressOf(other, "alice2"), alice);
  // Importing it again: the store already has that key.
  r = Vectl(other, {"keys", "import", "alice3", file,
                    "--export-passphrase-file", export_pass_});
  EXPECT_EQ(r.code, kExitRuntime);
  EXPECT_NE(r.err.find("keys import alice3"), std::string::npos) << r.err;

  // Environment variable instead of the flag.
  Env third = testutil::MakeEnv(dir_ + "/home-c");
  third.vars["VECTL_EXPORT_PASSPHRASE_FILE"] = export_pass_;
  r = Vectl(third, {"keys", "import", "a", file});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(AddressOf(third, "a"), alice);
}

TEST_F(KeysTest, WrongPassphraseAndTamperedExportsAreRefused) {
  ASSERT_EQ(Vectl(env_, {"keys", "add", "alice"}).code, kExitOk);
  const std::string armored = Export(env_, "alice");
  Env other = testutil::MakeEnv(dir_ + "/home-b");
  auto import = [&](const std::string& content, const std::string& pass) {
    const std::string file = dir_ + "/in.key";
    testutil::WriteFile(file, content);
    return Vectl(
        other, {"keys", "import", "x", file, "--export-passphrase-file", pass});
  };

  const std::string wrong = dir_ + "/wrong.pass";
  testutil::WriteFile(wrong, "not the export passphrase\n");
  RunResult r = import(armored, wrong);
  EXPECT_EQ(r.code, kExitRuntime);
  EXPECT_NE(r.err.find("wrong passphrase or the file was altered"),
            std::string::npos)
      << r.err;

  // Flip one bit of the ciphertext, of the salt and of the public key (all
  // inside the base64 payload): the AEAD refuses, or the key/address check.
  const size_t body = armored.find("\n\n") + 2;
  for (const size_t offset :
       {size_t{40}, size_t{60}, size_t{150}, size_t{190}}) {
    // base64 lines are 64 characters plus a newline.
    const size_t pos = body + offset + offset / 64;
    std::string bad = armored;
    bad[pos] = bad[pos] == 'A' ? 'B' : 'A';
    r = import(bad, export_pass_);
    EXPECT_EQ(r.code, kExitRuntime) << "offset " << offset << r.err;
    EXPECT_NE(r.err.find("key export"), std::string::npos) << r.err;
  }
  // Another address in the (unauthenticated) header line.
  std::string other_addr = armored;
  const size_t addr = other_addr.find("Address: ve1") + 12;
  other_addr[addr] = other_addr[addr] == 'q' ? 'p' : 'q';
  r = import(other_addr, export_pass_);
  EXPECT_EQ(r.code, kExitRuntime);
  EXPECT_NE(r.err.find("the Address line says"), std::string::npos) << r.err;
  // Not an export at all / truncated.
  r = import("hello\n", export_pass_);
  EXPECT_EQ(r.code, kExitRuntime);
  EXPECT_NE(r.err.find("key export: too few lines"), std::string::npos);
  r = import(armored.substr(0, armored.size() - 20), export_pass_);
  EXPECT_EQ(r.code, kExitRuntime);
  // Nothing was imported by any of these.
  r = Vectl(other, {"keys", "list"});
  EXPECT_EQ(r.out, "no keys\n") << r.out << r.err;

  // An export passphrase below 12 bytes is refused at export.
  const std::string shortp = dir_ + "/short.pass";
  testutil::WriteFile(shortp, "short\n");
  r = Vectl(env_,
            {"keys", "export", "alice", "--export-passphrase-file", shortp});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("shorter than the minimum of 12"), std::string::npos);
  EXPECT_TRUE(r.out.empty());
}

TEST(KeyExportFormat, RoundTripAndLayout) {
  const crypto::SecretBytes seed =
      crypto::SecretBytes::CopyFrom(std::string_view(
          "\x9d\x61\xb1\x9d\xef\xfd\x5a\x60\xba\x84\x4a\xf4\x92\xec\x2c\xc4"
          "\x44\x49\xc5\x69\x7b\x32\x69\x19\x70\x3b\xac\x03\x1c\xae\x7f\x60",
          32));
  const crypto::SecretBytes pass =
      crypto::SecretBytes::CopyFrom(std::string_view("twelve bytes!"));
  auto armored = ExportKey(seed, pass);
  ASSERT_TRUE(armored.ok()) << armored.status();
  // RFC 8032 test 1's address (docs/ledger/transactions.md).
  EXPECT_NE(
      armored->find("Address: ve1y8lrrhap2j3xzcntlp2qgm7jyudhhm2tyrvzn3\n"),
      std::string::npos);
  auto bin = Dearmor(*armored);
  ASSERT_TRUE(bin.ok()) << bin.status();
  ASSERT_EQ(bin->size(), kExportBinaryBytes);
  EXPECT_EQ(bin->substr(0, 8), std::string("VEKX\x01\x01\x01\x01", 8));
  EXPECT_EQ(encoding::HexEncode(bin->substr(40, 32)),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  auto back = ImportKey(*armored, pass);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->seed.Equals(seed));
  EXPECT_EQ(back->address, "ve1y8lrrhap2j3xzcntlp2qgm7jyudhhm2tyrvzn3");
  // Two exports of one key differ (fresh salt and nonce).
  EXPECT_NE(*ExportKey(seed, pass), *armored);
  // A tampered cost field: refused by the range check before Argon2id runs.
  std::string b = *bin;
  b[15] = '\x40';  // ops limit 64
  std::string relabeled = armored->substr(0, armored->find("\n\n") + 2);
  const std::string b64 = encoding::Base64Encode(std::string_view(b));
  for (size_t i = 0; i < b64.size(); i += 64)
    relabeled += b64.substr(i, 64) + "\n";
  relabeled += "-----END VIRTENGINE ED25519 KEY-----\n";
  auto refused = ImportKey(relabeled, pass);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("outside the accepted range"),
            absl::string_view::npos)
      << refused.status();
}

}  // namespace
}  // namespace virtengine::cli
