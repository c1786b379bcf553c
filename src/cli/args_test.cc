// Argument parsing, help, version and usage errors (exit 2, the message
// names the flag or argument). No key store or node is needed: every one of
// these fails (or succeeds) before either is touched.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "src/cli/test_util.h"
#include "src/cli/vectl.h"

namespace virtengine::cli {
namespace {

using testutil::RunResult;
using testutil::Vectl;

constexpr char kBob[] = "ve1y8lrrhap2j3xzcntlp2qgm7jyudhhm2tyrvzn3";
constexpr char kHash[] =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

class ArgsTest : public ::testing::Test {
 protected:
  // A home that does not exist: a command that got past validation would
  // fail with "no vectl home" instead of the expected usage message.
  Env env_ = testutil::MakeEnv(testutil::NewDir("args") + "/missing-home");

  void ExpectUsage(const std::vector<std::string>& args,
                   const std::string& needle) {
    RunResult r = Vectl(env_, args);
    EXPECT_EQ(r.code, kExitUsage) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos)
        << "stderr: " << r.err << " (wanted: " << needle << ")";
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
};

TEST_F(ArgsTest, HelpOnEveryCommandAndGroup) {
  const std::vector<std::vector<std::string>> cases = {
      {"--help"},
      {"-h"},
      {"keys", "--help"},
      {"keys", "add", "--help"},
      {"keys", "list", "--help"},
      {"keys", "show", "--help"},
      {"keys", "export", "--help"},
      {"keys", "import", "--help"},
      {"tx", "--help"},
      {"tx", "bank", "--help"},
      {"tx", "bank", "send", "--help"},
      {"query", "--help"},
      {"query", "bank", "--help"},
      {"query", "bank", "balance", "--help"},
      {"query", "tx", "--help"},
      {"status", "--help"},
      {"receipt", "--help"},
      {"receipt", "get", "--help"},
      {"receipt", "verify", "--help"},
  };
  for (const auto& args : cases) {
    RunResult r = Vectl(env_, args);
    EXPECT_EQ(r.code, kExitOk) << args[0];
    EXPECT_NE(r.out.find("usage: vectl"), std::string::npos) << r.out;
  }
  // Help wins over errors elsewhere on the line.
  RunResult r = Vectl(env_, {"tx", "bank", "send", "--bogus", "--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_NE(r.out.find("--dry-run"), std::string::npos);
  EXPECT_NE(r.out.find("--passphrase-file"), std::string::npos);
  r = Vectl(env_, {"receipt", "verify", "--help"});
  EXPECT_NE(r.out.find("--node-key"), std::string::npos);
}

TEST_F(ArgsTest, Version) {
  RunResult r = Vectl(env_, {"--version"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, std::string("vectl ") + kVectlVersion + "\n");
}

TEST_F(ArgsTest, CommandErrors) {
  RunResult r = Vectl(env_, {});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("missing command"), std::string::npos);
  ExpectUsage({"frobnicate"}, "unknown command 'frobnicate'");
  ExpectUsage({"keys", "rotate", "x"},
              "unknown command 'rotate' for 'vectl keys'");
  r = Vectl(env_, {"keys"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("keys add NAME"), std::string::npos);
  ExpectUsage({"keys", "add"}, "missing argument NAME");
  ExpectUsage({"keys", "add", "a", "b"}, "unexpected argument 'b'");
  ExpectUsage({"tx", "bank", "send", "alice", kBob}, "missing argument AMOUNT");
}

TEST_F(ArgsTest, FlagErrorsNameTheFlag) {
  ExpectUsage({"status", "--bogus"}, "unknown flag --bogus");
  ExpectUsage({"status", "-x"}, "unknown flag -x");
  ExpectUsage({"status", "--denom", "uve"},
              "unknown flag --denom for 'vectl status'");
  ExpectUsage({"keys", "list", "--address"},
              "unknown flag --address for 'vectl keys list'");
  ExpectUsage({"status", "--node"}, "flag --node needs a value");
  ExpectUsage({"status", "--wait=1"}, "flag --wait takes no value");
  ExpectUsage({"status", "--node", "a:1", "--node", "b:2"},
              "flag --node given more than once");
  ExpectUsage({"status", "--output", "yaml"},
              "--output: \"yaml\" is not text or json");
  ExpectUsage({"status", "--node", "localhost"},
              "--node: \"localhost\" is not host:port");
  ExpectUsage({"status", "--node", "host:99999"}, "--node:");
  ExpectUsage({"status", "--node", "ho st:1"}, "invalid character in the host");
  ExpectUsage({"status", "--timeout", "10"},
              "--timeout: \"10\" is not a duration");
  ExpectUsage({"status", "--timeout", "0s"}, "--timeout");
  ExpectUsage({"status", "--timeout", "2h"}, "--timeout");
  env_.vars["VECTL_NODE"] = "nope";
  ExpectUsage({"status"}, "VECTL_NODE: \"nope\" is not host:port");
}

TEST_F(ArgsTest, FlagsAnywhereAndEqualsForm) {
  // --output=json before the command, --node=... after: both parsed; the
  // command then fails at the argument check, proving the flags were taken.
  ExpectUsage({"--output=json", "query", "bank", "balance", "--node=[::1]:9",
               "notanaddress"},
              "ADDRESS: invalid address");
  // "--" ends the flags: "--help" after it is an argument.
  ExpectUsage({"keys", "show", "--", "--help"}, "NAME");
}

TEST_F(ArgsTest, TxBankSendInputsAreValidatedFirst) {
  const std::vector<std::string> base = {"tx", "bank", "send"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  ExpectUsage(with({"Alice", kBob, "10uve"}), "FROM_KEY");
  ExpectUsage(with({"alice", "cosmos1xyz", "10uve"}), "TO_ADDRESS");
  ExpectUsage(
      with({"alice", "VE1Y8LRRHAP2J3XZCNTLP2QGM7JYUDHHM2TYRVZN3", "10uve"}),
      "TO_ADDRESS: address must be lowercase");
  ExpectUsage(with({"alice", kBob, "uve"}),
              "AMOUNT: \"uve\" is not <amount><denom>");
  ExpectUsage(with({"alice", kBob, "10"}),
              "AMOUNT: \"10\" is not <amount><denom>");
  ExpectUsage(with({"alice", kBob, "0uve"}),
              "AMOUNT: amount 0 is below the minimum of 1");
  ExpectUsage(with({"alice", kBob, "18446744073709551616uve"}),
              "AMOUNT amount: out of range for uint64");
  ExpectUsage(with({"alice", kBob, "007uve"}), "leading zeros");
  ExpectUsage(with({"alice", kBob, "10u"}),
              "AMOUNT denom: length 1 is below minimum 3");
  ExpectUsage(with({"alice", kBob, "10uve", "--fee", "x"}), "--fee:");
  ExpectUsage(with({"alice", kBob, "10uve", "--memo", std::string(257, 'm')}),
              "--memo: size 257 bytes exceeds limit 256");
  ExpectUsage(with({"alice", kBob, "10uve", "--memo", "bad \xc3\x28"}),
              "--memo: not valid UTF-8");
  ExpectUsage(with({"alice", kBob, "10uve", "--sequence", "-1"}), "--sequence");
  ExpectUsage(with({"alice", kBob, "10uve", "--timeout-height", "1x"}),
              "--timeout-height");
  ExpectUsage(with({"alice", kBob, "10uve", "--chain-id", "Bad_Chain"}),
              "--chain-id");
  ExpectUsage(with({"alice", kBob, "10uve", "--dry-run", "--wait"}),
              "--dry-run and --wait exclude each other");
  // All valid: the next problem is the missing home (still exit 2: config).
  ExpectUsage(with({"alice", kBob, "10uve", "--chain-id", "c-1", "--sequence",
                    "0", "--dry-run"}),
              "no vectl home");
}

TEST_F(ArgsTest, QueryAndReceiptInputs) {
  ExpectUsage({"query", "tx", "abc"}, "HASH: a hash is 64 hex digits, got 3");
  ExpectUsage({"query", "tx", std::string(63, 'a') + "g"}, "HASH:");
  ExpectUsage({"receipt", "get", "zz"}, "HASH");
  ExpectUsage({"query", "bank", "balance", kBob, "--denom", "u"}, "--denom");
  ExpectUsage({"receipt", "verify", "/nonexistent/receipt.json"},
              "FILE /nonexistent/receipt.json");
  ExpectUsage({"receipt", "verify", "r.json", "--node-key", "12"},
              "--node-key");
  ExpectUsage({"receipt", "verify", "../r.json"}, "'..' not allowed");
  (void)kHash;
}

TEST_F(ArgsTest, KeyCommandsNeedAPassphraseSource) {
  env_.vars.erase("VECTL_PASSPHRASE_FILE");
  env_.vars["VECTL_HOME"] = testutil::NewDir("args-home");
  ExpectUsage({"keys", "add", "alice"},
              "no new key store passphrase: pass --passphrase-file PATH or set "
              "VECTL_PASSPHRASE_FILE");
  ExpectUsage({"keys", "add", "BAD"}, "NAME:");
  // A passphrase file others can read is refused.
  const std::string loose = env_.vars["VECTL_HOME"] + "/loose.pass";
  testutil::WriteFile(loose, "correct horse battery staple\n", 0644);
  ExpectUsage({"keys", "add", "alice", "--passphrase-file", loose},
              "has mode 0644");
  // A too-short passphrase for a new store.
  const std::string shortp = env_.vars["VECTL_HOME"] + "/short.pass";
  testutil::WriteFile(shortp, "short\n");
  ExpectUsage({"keys", "add", "alice", "--passphrase-file", shortp},
              "passphrase");
  // A home whose parent does not exist is not created.
  ExpectUsage({"keys", "add", "alice", "--home",
               env_.vars["VECTL_HOME"] + "/no/such/home"},
              "parent of home");
  // No HOME at all.
  Env bare;
  bare.cwd = "/";
  RunResult r = Vectl(bare, {"keys", "list"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("no home"), std::string::npos) << r.err;
  // Everything but the store: an existing home without a store.
  r = Vectl(env_, {"keys", "list", "--passphrase-file", shortp});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("no key store"), std::string::npos) << r.err;
}

TEST_F(ArgsTest, TerminalPromptIsUsedWithoutAFile) {
  env_.vars.erase("VECTL_PASSPHRASE_FILE");
  env_.vars["VECTL_HOME"] = testutil::NewDir("args-tty");
  int asked = 0;
  env_.read_secret =
      [&asked](
          const std::string& prompt) -> absl::StatusOr<crypto::SecretBytes> {
    ++asked;
    // Confirmation differs: refused.
    return crypto::SecretBytes::CopyFrom(
        std::string_view(prompt.find("Repeat") == 0 ? "mismatching passphrase"
                                                    : "the first passphrase"));
  };
  ExpectUsage({"keys", "add", "alice"},
              "the two new key store passphrases differ");
  EXPECT_EQ(asked, 2);
}

}  // namespace
}  // namespace virtengine::cli

namespace virtengine::cli {
namespace {

// `vectl evidence` runs the compliance evidence tool with its own flags.
TEST(EvidenceArgsTest, DispatchesToTheEvidenceTool) {
  Env env = testutil::MakeEnv(testutil::NewDir("evidence") + "/missing-home");
  testutil::RunResult help = testutil::Vectl(env, {"evidence", "--help"});
  EXPECT_EQ(help.code, kExitOk) << help.err;
  EXPECT_NE((help.out + help.err).find("verify PATH --key HEX"),
            std::string::npos);
  testutil::RunResult none = testutil::Vectl(env, {"evidence"});
  EXPECT_EQ(none.code, kExitUsage);
  testutil::RunResult bad =
      testutil::Vectl(env, {"evidence", "diff", "/nonexistent-a"});
  EXPECT_EQ(bad.code, kExitUsage) << bad.err;
}

}  // namespace
}  // namespace virtengine::cli
