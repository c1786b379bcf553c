// vectl gov propose|vote|list|params and measurement list|propose: help,
// the --version rule, input validation (exit 2 before the key store or the
// node is touched: a line that passes every check fails on the missing home
// instead), the manifest reader, and the validators in gov_inputs.h.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "src/cli/gov_inputs.h"
#include "src/cli/test_util.h"
#include "src/cli/vectl.h"

namespace virtengine::cli {
namespace {

using testutil::RunResult;
using testutil::Vectl;

constexpr char kBob[] = "ve1y8lrrhap2j3xzcntlp2qgm7jyudhhm2tyrvzn3";
constexpr char kPcr11[] =
    "b68855179cba2efed50e940e040a4882633e0d766fcc75c3324a9e7c781e70cc";

// A manifest as image/build writes it (trimmed: other members are ignored).
std::string Manifest(const std::string& schema = "virtengine.image.manifest/1",
                     const std::string& image_id = "\"virtengine\"",
                     const std::string& pcr11 = std::string("\"") + kPcr11 +
                                                "\"") {
  return "{\n \"binaries\": [{\"name\": \"ve-node\", \"sha256\": \"00\"}],\n"
         " \"image_id\": " +
         image_id +
         ",\n \"kernel\": \"6.1.0-57-amd64\",\n"
         " \"measurements\": {\n"
         "  \"note\": \"pcr11_running is what a TPM quote shows\",\n"
         "  \"pcr11_data_unlock\": "
         "\"709a4a39074030abb0ed177a85707f126169e011555244649bfc9f1da3116089\""
         ",\n  \"pcr11_running\": " +
         pcr11 +
         ",\n  \"pcr11_sha256\": {\"enter-initrd\": \"77\"}\n },\n"
         " \"packages\": [{\"arch\": \"all\", \"name\": \"adduser\", "
         "\"version\": \"3.134\"}],\n"
         " \"schema\": \"" +
         schema +
         "\",\n \"source_date_epoch\": 1764547200,\n"
         " \"version\": \"0.1.0\"\n}\n";
}

class GovArgsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::NewDir("gargs");
    // A home that does not exist: a command that got past validation fails
    // with "no vectl home" instead of the expected usage message.
    env_ = testutil::MakeEnv(dir_ + "/missing-home");
    manifest_ = dir_ + "/manifest.json";
    testutil::WriteFile(manifest_, Manifest(), 0644);
  }

  void ExpectUsage(const std::vector<std::string>& args,
                   const std::string& needle) {
    RunResult r = Vectl(env_, args);
    EXPECT_EQ(r.code, kExitUsage) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos)
        << "stderr: " << r.err << " (wanted: " << needle << ")";
    EXPECT_TRUE(r.out.empty()) << r.out;
  }

  // gov propose --from op --title t <extra>
  static std::vector<std::string> Propose(std::vector<std::string> extra) {
    std::vector<std::string> a = {"gov", "propose", "--from",
                                  "op",  "--title", "t"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  std::string dir_;
  std::string manifest_;
  Env env_;
};

TEST_F(GovArgsTest, HelpOnEveryNewCommand) {
  const std::vector<std::vector<std::string>> cases = {
      {"gov", "--help"},
      {"gov", "propose", "--help"},
      {"gov", "vote", "--help"},
      {"gov", "list", "--help"},
      {"gov", "params", "--help"},
      {"measurement", "--help"},
      {"measurement", "list", "--help"},
      {"measurement", "propose", "--help"},
  };
  for (const auto& args : cases) {
    RunResult r = Vectl(env_, args);
    EXPECT_EQ(r.code, kExitOk) << args[1];
    EXPECT_NE(r.out.find("usage: vectl"), std::string::npos) << r.out;
  }
  RunResult r = Vectl(env_, {"gov", "propose", "--help"});
  EXPECT_NE(r.out.find("usage: vectl gov propose [flags] --from KEY --title "
                       "TEXT <action>"),
            std::string::npos)
      << r.out;
  for (const char* want : {"--add-measurement-manifest FILE", "--pcr N=HEX",
                           "--retire-measurement", "--set-param KEY=VALUE",
                           "--add-member", "--remove-member", "--remove-node",
                           "pcr11_running", "--dry-run", "--passphrase-file"}) {
    EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
  }
  r = Vectl(env_, {"gov", "vote", "--help"});
  EXPECT_NE(r.out.find("--from KEY --proposal ID --yes|--no"),
            std::string::npos)
      << r.out;
  r = Vectl(env_, {"--help"});
  for (const char* want :
       {"gov propose --from KEY --title TEXT <action>", "gov vote", "gov list",
        "gov params", "measurement list",
        "measurement propose --from KEY --manifest FILE"}) {
    EXPECT_NE(r.out.find(want), std::string::npos) << want;
  }
}

TEST_F(GovArgsTest, VersionIsTheMeasurementVersionOnlyWhereListed) {
  RunResult r = Vectl(env_, {"--version"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, std::string("vectl ") + kVectlVersion + "\n");
  r = Vectl(env_, {"gov", "list", "--version"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, std::string("vectl ") + kVectlVersion + "\n");
  r = Vectl(env_, {"--version", "gov", "propose"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, std::string("vectl ") + kVectlVersion + "\n");
  // In gov propose, --version takes a value.
  ExpectUsage({"gov", "propose", "--version"}, "flag --version needs a value");
  ExpectUsage(Propose({"--add-measurement", "virtengine", "--pcr",
                       std::string("11=") + kPcr11, "--version=0.1.0"}),
              "no vectl home");
  // Flags anywhere, also between the command words.
  ExpectUsage({"gov", "--version", "0.1.0", "propose", "--from", "op",
               "--title", "t", "--retire-measurement", "virtengine"},
              "no vectl home");
  // Elsewhere it is the global flag (nothing else runs).
  r = Vectl(env_, {"measurement", "propose", "--from", "op", "--manifest",
                   manifest_, "--version"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, std::string("vectl ") + kVectlVersion + "\n");
}

TEST_F(GovArgsTest, ProposeNeedsFromTitleAndOneAction) {
  ExpectUsage({"gov", "propose", "--title", "t", "--add-member", kBob},
              "missing --from KEY");
  ExpectUsage(
      {"gov", "propose", "--from", "Op", "--title", "t", "--add-member", kBob},
      "--from: ");
  ExpectUsage({"gov", "propose", "--from", "op", "--add-member", kBob},
              "missing --title TEXT");
  ExpectUsage(
      {"gov", "propose", "--from", "op", "--title", "", "--add-member", kBob},
      "--title: empty");
  ExpectUsage({"gov", "propose", "--from", "op", "--title",
               std::string(257, 't'), "--add-member", kBob},
              "--title");
  ExpectUsage({"gov", "propose", "--from", "op", "--title", "a\x01z",
               "--add-member", kBob},
              "--title");
  ExpectUsage({"gov", "propose", "--from", "op", "--title", "\xff",
               "--add-member", kBob},
              "--title");
  ExpectUsage(Propose({}), "no action: give exactly one of");
  ExpectUsage(
      Propose({"--add-member", kBob, "--set-param", "threshold_bps=6000"}),
      "--set-param and --add-member exclude each other");
  ExpectUsage(Propose({"--add-measurement-manifest", manifest_,
                       "--retire-measurement", "x", "--version", "1"}),
              "--add-measurement-manifest and --retire-measurement exclude");
  ExpectUsage(Propose({"--set-param", "threshold_bps=6000", "--pcr",
                       std::string("11=") + kPcr11}),
              "--pcr goes with --add-measurement only");
  ExpectUsage(Propose({"--add-member", kBob, "--version", "1"}),
              "--version goes with --add-measurement or --retire-measurement "
              "only");
  ExpectUsage(
      Propose({"--add-measurement-manifest", manifest_, "--version", "1"}),
      "--version goes with");
  ExpectUsage(Propose({"--add-member", kBob, "--yes"}),
              "unknown flag --yes for 'vectl gov propose'");
  ExpectUsage(Propose({"--add-member", kBob, "--wait"}),
              "unknown flag --wait for 'vectl gov propose'");
  ExpectUsage(Propose({"--add-member", kBob, "--title", "u"}),
              "flag --title given more than once");
  ExpectUsage(Propose({"--add-member", kBob, "--fee", "1"}), "--fee:");
  ExpectUsage(Propose({"--add-member", kBob, "--chain-id", "Bad"}),
              "--chain-id");
  // Every action valid: the next problem is the missing home.
  ExpectUsage(Propose({"--add-member", kBob}), "no vectl home");
  ExpectUsage(Propose({"--remove-member", kBob}), "no vectl home");
  ExpectUsage(Propose({"--remove-node", "3"}), "no vectl home");
  ExpectUsage(Propose({"--set-param", "attestation_required=true"}),
              "no vectl home");
  ExpectUsage(Propose({"--add-measurement-manifest", manifest_}),
              "no vectl home");
  ExpectUsage(Propose({"--retire-measurement", "virtengine", "--version",
                       "0.1.0+deb12"}),
              "no vectl home");
}

TEST_F(GovArgsTest, MeasurementAndParameterInputs) {
  const std::string v = std::string("11=") + kPcr11;
  auto add = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = {"--add-measurement"};
    a.insert(a.end(), extra.begin(), extra.end());
    return Propose(a);
  };
  ExpectUsage(add({"virtengine", "--pcr", v}),
              "--add-measurement needs --version V");
  ExpectUsage(add({"virtengine", "--version", "0.1.0"}),
              "--pcr: at least one N=HEX value is needed");
  ExpectUsage(add({"Virtengine", "--version", "0.1.0", "--pcr", v}),
              "--add-measurement: \"Virtengine\" is not "
              "[a-z0-9][a-z0-9._-]{0,63} (byte 0)");
  ExpectUsage(add({".ve", "--version", "0.1.0", "--pcr", v}), "(byte 0)");
  ExpectUsage(add({"ve/x", "--version", "0.1.0", "--pcr", v}), "(byte 2)");
  ExpectUsage(add({std::string(65, 'v'), "--version", "0.1.0", "--pcr", v}),
              "--add-measurement: length 65 is not 1..64");
  ExpectUsage(add({"", "--version", "0.1.0", "--pcr", v}),
              "--add-measurement: length 0");
  ExpectUsage(add({"virtengine", "--version", "-1", "--pcr", v}),
              "--version: \"-1\" is not [A-Za-z0-9][A-Za-z0-9._+-]{0,63}");
  ExpectUsage(add({"virtengine", "--version", "1 0", "--pcr", v}),
              "--version:");
  ExpectUsage(add({"virtengine", "--version", "0.1.0", "--pcr", "11"}),
              "--pcr: \"11\" is not N=HEX");
  ExpectUsage(add({"virtengine", "--version", "0.1.0", "--pcr",
                   std::string("24=") + kPcr11}),
              "--pcr index: 24 is above maximum 23");
  ExpectUsage(add({"virtengine", "--version", "0.1.0", "--pcr",
                   std::string("011=") + kPcr11}),
              "--pcr index: leading zeros not allowed");
  ExpectUsage(add({"virtengine", "--version", "0.1.0", "--pcr",
                   std::string("=") + kPcr11}),
              "--pcr index: empty");
  ExpectUsage(add({"virtengine", "--version", "0.1.0", "--pcr",
                   std::string("11=") + std::string(kPcr11).substr(1)}),
              "--pcr 11: a SHA-256 PCR value is 64 hex digits, got 63");
  ExpectUsage(add({"virtengine", "--version", "0.1.0", "--pcr",
                   "11=" + std::string(kPcr11) + "00"}),
              "got 66 characters");
  ExpectUsage(add({"virtengine", "--version", "0.1.0", "--pcr",
                   "7=" + std::string(63, 'a') + "g"}),
              "--pcr 7: not hex at position 63");
  ExpectUsage(add({"virtengine", "--version", "0.1.0", "--pcr", v, "--pcr",
                   "7=" + std::string(64, 'a'), "--pcr", v}),
              "--pcr: PCR 11 given twice");
  // Uppercase hex and several PCRs in any order are fine.
  ExpectUsage(
      add({"virtengine", "--version", "0.1.0-rc1", "--pcr",
           "11=" + std::string(64, 'A'), "--pcr", "0=" + std::string(64, '0')}),
      "no vectl home");
  ExpectUsage(Propose({"--retire-measurement", "virtengine"}),
              "--retire-measurement needs --version V");
  ExpectUsage(Propose({"--retire-measurement", "VE", "--version", "1"}),
              "--retire-measurement: \"VE\"");
  ExpectUsage(Propose({"--retire-measurement", "ve", "--version", "_1"}),
              "--version: \"_1\"");

  ExpectUsage(Propose({"--set-param", "threshold_bps"}),
              "--set-param: \"threshold_bps\" is not KEY=VALUE");
  ExpectUsage(Propose({"--set-param", "quorum=1"}),
              "--set-param: unknown parameter \"quorum\"");
  ExpectUsage(Propose({"--set-param", "threshold_bps=0"}),
              "--set-param threshold_bps: 0 is below minimum 1");
  ExpectUsage(Propose({"--set-param", "threshold_bps=10001"}),
              "--set-param threshold_bps: 10001 is above maximum 10000");
  ExpectUsage(Propose({"--set-param", "threshold_bps=05000"}),
              "leading zeros not allowed");
  ExpectUsage(Propose({"--set-param", "voting_period_blocks=10000001"}),
              "--set-param voting_period_blocks: 10000001 is above maximum "
              "10000000");
  ExpectUsage(Propose({"--set-param", "voting_period_blocks=-5"}),
              "voting_period_blocks");
  ExpectUsage(Propose({"--set-param", "attestation_required=yes"}),
              "--set-param attestation_required: \"yes\" is not true or false");
  ExpectUsage(Propose({"--add-member", "ve1abc"}), "--add-member: ");
  ExpectUsage(Propose({"--remove-member", "cosmos1xyz"}), "--remove-member: ");
  ExpectUsage(Propose({"--remove-node", "0"}),
              "--remove-node: 0 is below minimum 1");
  ExpectUsage(Propose({"--remove-node", "x"}), "--remove-node: ");
}

TEST_F(GovArgsTest, ManifestFilesAreReadSafelyAndStrictly) {
  auto bad = [&](const std::string& content, const std::string& needle) {
    const std::string f = testutil::NewDir("gman") + "/manifest.json";
    testutil::WriteFile(f, content, 0644);
    ExpectUsage(Propose({"--add-measurement-manifest", f}), needle);
    ExpectUsage({"measurement", "propose", "--from", "op", "--manifest", f},
                needle);
  };
  ExpectUsage(Propose({"--add-measurement-manifest", dir_ + "/nope.json"}),
              "--add-measurement-manifest");
  ExpectUsage(
      {"measurement", "propose", "--from", "op", "--manifest", dir_ + "/../x"},
      "--manifest");
  ExpectUsage({"measurement", "propose", "--from", "op", "--manifest", dir_},
              "--manifest");
  bad(std::string(kMaxManifestBytes + 1, ' '), "-manifest ");
  bad("", "-manifest ");
  bad("{\"schema\": ", "json: byte");
  bad("[1, 2]", "manifest: is an array, want a JSON object");
  bad("{\"a\": 1, \"a\": 2}", "duplicate");
  bad(Manifest("virtengine.image.manifest/2"),
      "schema: \"virtengine.image.manifest/2\" is not "
      "virtengine.image.manifest/1");
  bad("{\"image_id\": \"virtengine\", \"version\": \"0.1.0\"}",
      "schema: missing");
  bad(Manifest("virtengine.image.manifest/1", "\"Virt Engine\""),
      "image_id: \"Virt Engine\" is not [a-z0-9][a-z0-9._-]{0,63}");
  bad(Manifest("virtengine.image.manifest/1", "7"),
      "image_id: is a number, want a string");
  bad(Manifest("virtengine.image.manifest/1", "\"virtengine\"", "null"),
      "measurements.pcr11_running: is null, want a string");
  bad(Manifest("virtengine.image.manifest/1", "\"virtengine\"", "\"b688\""),
      "measurements.pcr11_running: a SHA-256 PCR value is 64 hex digits, got "
      "4 characters");
  std::string upper = kPcr11;
  upper[0] = 'B';
  bad(Manifest("virtengine.image.manifest/1", "\"virtengine\"",
               "\"" + upper + "\""),
      "measurements.pcr11_running: not lowercase hex at position 0");
  bad("{\"schema\": \"virtengine.image.manifest/1\", \"image_id\": \"ve\", "
      "\"version\": \"1\"}",
      "measurements: missing");
  bad("{\"schema\": \"virtengine.image.manifest/1\", \"image_id\": \"ve\", "
      "\"version\": \"1\", \"measurements\": {}}",
      "measurements.pcr11_running: missing");
  bad("{\"schema\": \"virtengine.image.manifest/1\", \"image_id\": \"ve\", "
      "\"version\": \"1\", \"measurements\": []}",
      "measurements: is an array, want an object");
  std::string deep = "{\"schema\": \"virtengine.image.manifest/1\", \"x\": ";
  for (int i = 0; i < 20; ++i) deep += "[";
  for (int i = 0; i < 20; ++i) deep += "]";
  bad(deep + "}", "json: byte");
  // A relative path is taken against the working directory.
  env_.cwd = dir_;
  ExpectUsage(Propose({"--add-measurement-manifest", "manifest.json"}),
              "no vectl home");
  ExpectUsage({"measurement", "propose", "--from", "op", "--manifest",
               "./manifest.json", "--title", "image 0.1.0"},
              "no vectl home");
  ExpectUsage({"measurement", "propose", "--from", "op"},
              "missing --manifest FILE");
  ExpectUsage({"measurement", "propose", "--manifest", "manifest.json"},
              "missing --from KEY");
  ExpectUsage({"measurement", "propose", "--from", "op", "--manifest",
               "manifest.json", "--title", std::string(300, 'x')},
              "--title");
  ExpectUsage({"measurement", "propose", "--from", "op", "--manifest",
               "manifest.json", "--pcr", "1=00"},
              "unknown flag --pcr for 'vectl measurement propose'");
}

TEST_F(GovArgsTest, VoteInputs) {
  ExpectUsage({"gov", "vote", "--from", "op", "--yes"},
              "missing --proposal ID");
  ExpectUsage({"gov", "vote", "--from", "op", "--proposal", "0", "--yes"},
              "--proposal: 0 is below minimum 1");
  ExpectUsage({"gov", "vote", "--from", "op", "--proposal", "x", "--yes"},
              "--proposal: ");
  ExpectUsage({"gov", "vote", "--from", "op", "--proposal", "1"},
              "missing --yes or --no");
  ExpectUsage(
      {"gov", "vote", "--from", "op", "--proposal", "1", "--yes", "--no"},
      "--yes and --no exclude each other");
  ExpectUsage({"gov", "vote", "--from", "op", "--proposal", "1", "--yes=1"},
              "flag --yes takes no value");
  ExpectUsage({"gov", "vote", "--proposal", "1", "--yes"},
              "missing --from KEY");
  ExpectUsage({"gov", "vote", "--from", "op", "--proposal", "1", "--yes",
               "--title", "t"},
              "unknown flag --title for 'vectl gov vote'");
  ExpectUsage({"gov", "vote", "--from", "op", "--proposal", "1", "extra"},
              "unexpected argument 'extra'");
  ExpectUsage({"gov", "vote", "--from", "op", "--proposal", "7", "--no"},
              "no vectl home");
}

TEST_F(GovArgsTest, QueriesOfAnUnreachableNodeAreRuntimeErrors) {
  for (const char* what : {"list", "params"}) {
    RunResult r = Vectl(env_, {"gov", what, "--node", "127.0.0.1:1",
                               "--timeout", "2s", "--output", "json"});
    EXPECT_EQ(r.code, kExitRuntime) << r.err;
    EXPECT_NE(r.err.find(" from 127.0.0.1:1: UNAVAILABLE"), std::string::npos)
        << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  RunResult r = Vectl(env_, {"measurement", "list", "--node", "127.0.0.1:1",
                             "--timeout", "2s"});
  EXPECT_EQ(r.code, kExitRuntime) << r.err;
  EXPECT_NE(r.err.find("Query gov/measurements from 127.0.0.1:1: UNAVAILABLE"),
            std::string::npos)
      << r.err;
  ExpectUsage({"gov", "list", "extra"}, "unexpected argument 'extra'");
  ExpectUsage({"measurement", "list", "--from", "op"},
              "unknown flag --from for 'vectl measurement list'");
  ExpectUsage({"gov", "frobnicate"}, "unknown command 'frobnicate'");
}

TEST_F(GovArgsTest, DebugImageManifestNeedsAllowDebugImage) {
  // image/build --debug: image_id virtengine-debug, "variant": "debug".
  std::string debug =
      Manifest("virtengine.image.manifest/1", "\"virtengine-debug\"");
  debug.insert(debug.rfind('}'), ", \"variant\": \"debug\"\n");
  const std::string path = dir_ + "/debug.json";
  testutil::WriteFile(path, debug, 0644);
  const std::string refused =
      "virtengine-debug 0.1.0 is a DEBUG image (a console with a root shell)";
  ExpectUsage({"measurement", "propose", "--from", "op", "--manifest", path},
              refused);
  ExpectUsage(Propose({"--add-measurement-manifest", path}), refused);
  // With the flag it gets past validation (and stops at the missing home).
  ExpectUsage({"measurement", "propose", "--from", "op", "--manifest", path,
               "--allow-debug-image"},
              "no vectl home");
  ExpectUsage(
      Propose({"--add-measurement-manifest", path, "--allow-debug-image"}),
      "no vectl home");
  // The flag belongs to the manifest action only; a production manifest
  // needs no flag.
  ExpectUsage(Propose({"--add-member", kBob, "--allow-debug-image"}),
              "--allow-debug-image goes with --add-measurement-manifest only");
  ExpectUsage(
      {"measurement", "propose", "--from", "op", "--manifest", manifest_},
      "no vectl home");
}

TEST(GovInputs, ManifestVariant) {
  bool debug = true;
  ASSERT_TRUE(MeasurementFromManifest("m", Manifest(), &debug).ok());
  EXPECT_FALSE(debug);  // absent: production
  std::string m = Manifest();
  m.insert(m.rfind('}'), ", \"variant\": \"debug\"\n");
  ASSERT_TRUE(MeasurementFromManifest("m", m, &debug).ok());
  EXPECT_TRUE(debug);
  m = Manifest();
  m.insert(m.rfind('}'), ", \"variant\": \"lab\"\n");
  absl::StatusOr<gov::v1::Measurement> bad = MeasurementFromManifest("m", m);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "m: variant: \"lab\" is not production or debug");
  m = Manifest();
  m.insert(m.rfind('}'), ", \"variant\": 1\n");
  EXPECT_FALSE(MeasurementFromManifest("m", m).ok());
}

TEST(GovInputs, ManifestToMeasurement) {
  absl::StatusOr<gov::v1::Measurement> m =
      MeasurementFromManifest("--manifest m.json", Manifest());
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->name(), "virtengine");
  EXPECT_EQ(m->version(), "0.1.0");
  ASSERT_EQ(m->values_size(), 1);
  EXPECT_EQ(m->values(0).pcr(), 11u);
  ASSERT_EQ(m->values(0).sha256().size(), 32u);
  EXPECT_EQ(static_cast<unsigned char>(m->values(0).sha256()[0]), 0xb6u);
  EXPECT_EQ(static_cast<unsigned char>(m->values(0).sha256()[31]), 0xccu);
  EXPECT_EQ(m->added_height(), 0u);
  EXPECT_EQ(m->proposal_id(), 0u);
  // Errors carry the field and the member.
  absl::StatusOr<gov::v1::Measurement> bad = MeasurementFromManifest(
      "--manifest m.json", Manifest("x", "\"ve\"", "\"00\""));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "--manifest m.json: schema: \"x\" is not "
            "virtengine.image.manifest/1");
}

TEST(GovInputs, Validators) {
  for (const std::string& ok :
       {std::string("a"), std::string("0"), std::string("virtengine"),
        std::string("ve-node_1.2"), "a" + std::string(63, '-')}) {
    EXPECT_TRUE(ValidateMeasurementName("N", ok).ok()) << ok;
  }
  for (const char* bad :
       {"", "A", "-a", ".a", "_a", "a b", "a/b", "a+b", "\xc3\xa4"}) {
    EXPECT_FALSE(ValidateMeasurementName("N", bad).ok()) << bad;
  }
  for (const char* ok : {"0.1.0", "V1", "1.0+deb12u1", "1-rc.2_x"}) {
    EXPECT_TRUE(ValidateMeasurementVersion("V", ok).ok()) << ok;
  }
  for (const char* bad : {"", "+1", "-1", "1 0", "1:0", "1/0"}) {
    EXPECT_FALSE(ValidateMeasurementVersion("V", bad).ok()) << bad;
  }
  EXPECT_FALSE(ValidateMeasurementVersion("V", std::string(65, '1')).ok());

  absl::StatusOr<gov::v1::Measurement> m = MeasurementFromFlags(
      "N", "img", "V", "2", "P",
      {"23=" + std::string(64, 'f'), "0=" + std::string(64, '0'),
       "7=" + std::string(64, '7')});
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->values_size(), 3);
  EXPECT_EQ(m->values(0).pcr(), 0u);
  EXPECT_EQ(m->values(1).pcr(), 7u);
  EXPECT_EQ(m->values(2).pcr(), 23u);
  EXPECT_EQ(m->values(2).sha256(), std::string(32, '\xff'));

  absl::StatusOr<gov::v1::SetParam> p =
      ParseSetParam("S", "voting_period_blocks=10000000");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->key(), "voting_period_blocks");
  EXPECT_EQ(p->value(), "10000000");
  EXPECT_TRUE(ParseSetParam("S", "threshold_bps=1").ok());
  EXPECT_TRUE(ParseSetParam("S", "threshold_bps=10000").ok());
  EXPECT_TRUE(ParseSetParam("S", "attestation_required=false").ok());
  EXPECT_FALSE(ParseSetParam("S", "attestation_required=").ok());
  EXPECT_FALSE(ParseSetParam("S", "=1").ok());
  EXPECT_FALSE(ParseSetParam("S", "threshold_bps= 1").ok());

  EXPECT_TRUE(ValidateProposalTitle("T", std::string(256, 't')).ok());
  EXPECT_TRUE(ValidateProposalTitle("T", "approve image 0.1.0 \xc3\xa4").ok());
  EXPECT_FALSE(ValidateProposalTitle("T", std::string(257, 't')).ok());
  EXPECT_FALSE(ValidateProposalTitle("T", "").ok());
  EXPECT_FALSE(ValidateProposalTitle("T", "a\nb").ok());
}

}  // namespace
}  // namespace virtengine::cli
