// Compliance evidence against a running node, end to end: a real ve-node
// with its own TPM 2.0 simulator (swtpm) and seccomp filter, governance
// approving the measured image, and vectl (in-process) exporting a bundle
// through the node's admin socket (facts, quote, signature) with ledger
// anchors signed by an operator key. The bundle verifies offline with the
// quote and the receipt; each tampering (a file, the quote, the receipt, the
// signature, a stale quote, a stale receipt) fails with its precise reason.
// The same node restarted with --insecure-no-tpm exports a bundle that says
// it is not attested. The export time (OpenSCAP skipped) is written to the
// test log and to $TEST_UNDECLARED_OUTPUTS_DIR/evidence_export_time.txt.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "compliance/bundle/bundle.h"
#include "compliance/json/json.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "security/crypto/ed25519.h"
#include "security/path/path.h"
#include "security/tpm/swtpm_test_util.h"
#include "security/tpm/tpm.h"
#include "src/api/gov/v1/gov.pb.h"
#include "src/api/node/v1/admin.grpc.pb.h"
#include "src/cli/evidence.h"
#include "src/cli/vectl.h"
#include "src/common/encoding/hex.h"
#include "src/node/home.h"
#include "tests/integration/node_process.h"
#include "tests/integration/vectl_run.h"

namespace virtengine::testing {
namespace {

namespace bundle = ::virtengine::compliance::bundle;
using compliance::json::Value;

constexpr uint64_t kAmount = 1000000000;
constexpr int kWait = 60;

VectlRun Vectl(const std::string& vhome, const std::string& pass,
               const std::vector<std::string>& args) {
  return RunVectlIn(vhome, pass, args);
}

// The source directory of a runfile (runfiles are symlinks, which
// security/path refuses to follow beneath a root).
std::string SourceDirOf(const std::string& runfile, int up) {
  const char* srcdir = std::getenv("TEST_SRCDIR");  // NOLINT
  const std::string p =
      absl::StrCat(srcdir != nullptr ? srcdir : ".", "/virtengine/", runfile);
  char buf[PATH_MAX];
  if (::realpath(p.c_str(), buf) == nullptr) std::abort();
  std::string dir = buf;
  for (int i = 0; i < up + 1; ++i) dir = dir.substr(0, dir.rfind('/'));
  return dir;
}

std::string ReadRaw(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteRaw(const std::string& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << data;
}

// The value after "<key>: " on its own line of `text`.
std::string Field(const std::string& text, const std::string& key) {
  const std::string k = "\n" + key + ": ";
  const size_t at = ("\n" + text).find(k);
  if (at == std::string::npos) return "";
  const size_t start = at + k.size() - 1;
  return text.substr(start, text.find('\n', start) - start);
}

std::string Copy(const std::string& from, const std::string& to) {
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
  return to;
}

// PCR 11 after "booting" image byte `image`.
crypto::Digest32 Boot(const tpm::testing::Swtpm& sw, uint8_t image) {
  auto t = tpm::Tpm::Open(sw.tcti());
  EXPECT_TRUE(t.ok()) << t.status();
  if (!t.ok()) return {};
  crypto::Digest32 d{};
  d.fill(image);
  EXPECT_TRUE((*t)->PcrExtend(11, d).ok());
  auto v = (*t)->PcrRead({11});
  EXPECT_TRUE(v.ok());
  return v.ok() ? v->at(11) : crypto::Digest32{};
}

// "pass"/"fail" of observation `check` in a bundle's assessment results.
std::pair<bool, std::string> Obs(const std::string& bundle_dir,
                                 const std::string& check) {
  absl::StatusOr<Value> ar =
      compliance::json::Parse(ReadRaw(bundle_dir + "/assessment-results.json"));
  EXPECT_TRUE(ar.ok()) << ar.status();
  if (!ar.ok()) return {false, ""};
  const Value& result =
      ar->Find("assessment-results")->Find("results")->items()[0];
  for (const Value& o : result.Find("observations")->items()) {
    const std::vector<Value>& props = o.Find("props")->items();
    if (*props[0].FindString("value") == check) {
      return {*props[1].FindString("value") == "pass",
              *o.FindString("remarks")};
    }
  }
  ADD_FAILURE() << "no observation " << check;
  return {false, ""};
}

// Signs through the node's admin socket, like vectl does, so that a test
// can build a bundle vectl would never build (a replayed quote).
class AdminSigner final : public bundle::StatementSigner {
 public:
  AdminSigner(const std::string& socket, crypto::Ed25519PublicKey key)
      : stub_(node::v1::Admin::NewStub(grpc::CreateChannel(
            "unix:" + socket, grpc::InsecureChannelCredentials()))),
        key_(key) {}
  const crypto::Ed25519PublicKey& public_key() const override { return key_; }
  absl::StatusOr<crypto::Ed25519Signature> Sign(
      std::string_view statement, const bundle::Digest& digest) override {
    node::v1::EvidenceSignRequest req;
    req.set_bundle_digest(std::string(
        reinterpret_cast<const char*>(digest.data()), digest.size()));
    req.set_statement(std::string(statement));
    node::v1::EvidenceSignResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(In(30));
    grpc::Status s = stub_->EvidenceSign(&ctx, req, &resp);
    if (!s.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                          s.error_message());
    }
    crypto::Ed25519Signature sig{};
    if (resp.signature().size() != sig.size()) {
      return absl::InternalError("bad signature size");
    }
    std::copy(resp.signature().begin(), resp.signature().end(), sig.begin());
    return sig;
  }

 private:
  std::unique_ptr<node::v1::Admin::Stub> stub_;
  crypto::Ed25519PublicKey key_;
};

class ReplayQuote final : public bundle::QuoteProvider {
 public:
  explicit ReplayQuote(std::string quote) : quote_(std::move(quote)) {}
  std::string format() const override { return cli::kQuoteFormat; }
  absl::StatusOr<std::string> Quote(const bundle::Digest&) override {
    return quote_;
  }

 private:
  std::string quote_;
};

TEST(NodeEvidenceTest, ExportVerifyTamperAndUnattested) {
  const std::string base = TestDir("nev");
  const ShortTempDir tmp("evidence-it");
  ASSERT_FALSE(tmp.path().empty());
  const std::string& sockdir = tmp.path();
  const std::string socket = sockdir + "/admin.sock";
  const std::string data_dir =
      SourceDirOf("compliance/data/catalog-soc2.json", 0);
  const std::string policy_dir =
      SourceDirOf("policy/crypto/crypto_policy.textproto", 1);

  // The operator's vectl key store and key.
  const std::string vhome = base + "/vectl";
  const std::string vpass = base + "/vectl.pass";
  ::mkdir(vhome.c_str(), 0700);
  std::ofstream(vpass) << "node evidence test pass\n";
  ::chmod(vpass.c_str(), 0600);
  ASSERT_EQ(Vectl(vhome, vpass, {"keys", "add", "op"}).code, 0);
  VectlRun r = Vectl(vhome, vpass, {"keys", "show", "op", "--address"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string op = r.out.substr(0, r.out.find('\n'));

  // A TPM whose PCR 11 holds the approved image's value.
  absl::StatusOr<std::unique_ptr<tpm::testing::Swtpm>> sw =
      tpm::testing::Swtpm::Start();
  ASSERT_TRUE(sw.ok()) << sw.status();
  const crypto::Digest32 pcr11 = Boot(**sw, 0x42);

  InitExtras x;
  x.operators = {op};
  absl::StatusOr<NodeHome> home = InitNode(base, 0, {op}, kAmount, x);
  ASSERT_TRUE(home.ok()) << home.status();
  {
    const std::string path = home->dir + "/config/genesis.json";
    auto g = node::ParseGenesis(ReadRaw(path));
    ASSERT_TRUE(g.ok()) << g.status();
    gov::v1::Measurement* m = g->add_measurements();
    m->set_name("virtengine");
    m->set_version("1.0.0");
    gov::v1::PcrValue* v = m->add_values();
    v->set_pcr(11);
    v->set_sha256(pcr11.data(), pcr11.size());
    auto json = node::GenesisToJson(*g);
    ASSERT_TRUE(json.ok());
    WriteRaw(path, *json);
  }
  std::ofstream(home->dir + "/config/node.conf", std::ios::app)
      << "admin_socket: \"" << socket << "\"\n";
  home->tpm_tcti = (*sw)->tcti();
  absl::StatusOr<std::unique_ptr<NodeProcess>> proc = NodeProcess::Start(*home);
  ASSERT_TRUE(proc.ok()) << proc.status();
  ASSERT_TRUE((*proc)->WaitReady(kWait).ok());
  ASSERT_TRUE(StatusOf(**proc).attested());

  const auto export_args = [&](const std::string& out) {
    return std::vector<std::string>{
        "evidence",       "export",  "--out",         out,
        "--admin-socket", socket,    "--node",        home->grpc,
        "--from",         "op",      "--home",        home->dir,
        "--data-dir",     data_dir,  "--policy-dir",  policy_dir,
        "--daemon",       "ve-node", "--no-openscap", "--system",
        "test-node"};
  };
  const auto verify = [&](const std::string& dir, const std::string& key,
                          std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {"evidence", "verify", dir, "--key", key};
    a.insert(a.end(), extra.begin(), extra.end());
    return Vectl(vhome, vpass, a);
  };
  const std::string out = base + "/out";
  ::mkdir(out.c_str(), 0755);

  // 1. Export against the node; the time is recorded, not asserted.
  const auto t0 = std::chrono::steady_clock::now();
  r = Vectl(vhome, vpass, export_args(out + "/b1"));
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const std::string figures = absl::StrCat(
      "evidence export against a running node (OpenSCAP skipped): total ",
      Field(r.out, "total seconds"), " s (bundle ",
      Field(r.out, "export seconds"), " s, in-process wall ", wall,
      " s), packages ", Field(r.out, "packages"), ", files ",
      Field(r.out, "files"), "\n");
  std::cout << figures;
  if (const char* dir = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR")) {  // NOLINT
    WriteRaw(absl::StrCat(dir, "/evidence_export_time.txt"), figures);
  }
  EXPECT_EQ(Field(r.out, "tpm quote"), "present") << r.out;
  EXPECT_EQ(Field(r.out, "ledger receipt"), "present") << r.out;
  const std::string key =
      Field(r.out, "signing key").substr(0, 64);  // "(the node's key)" follows
  ASSERT_EQ(absl::StrCat(key, " (the node's key)"),
            Field(r.out, "signing key"));
  EXPECT_EQ(key, home->node_key_hex);
  const std::string b1 = out + "/b1";
  const std::string digest1 = Field(r.out, "bundle digest");

  // The node's facts became findings.
  EXPECT_TRUE(Obs(b1, "seccomp.daemons").first)
      << Obs(b1, "seccomp.daemons").second;
  EXPECT_TRUE(Obs(b1, "crypto.policy").first)
      << Obs(b1, "crypto.policy").second;
  EXPECT_TRUE(absl::StrContains(Obs(b1, "crypto.policy").second,
                                "here and in the node"));
  EXPECT_TRUE(Obs(b1, "audit.chain").first) << Obs(b1, "audit.chain").second;
  EXPECT_TRUE(Obs(b1, "audit.anchor").first) << Obs(b1, "audit.anchor").second;
  EXPECT_TRUE(absl::StrContains(Obs(b1, "audit.anchor").second,
                                "MsgRecordAudit node.audit_log_head"));
  // The API is plaintext: a not-satisfied finding, never a pass.
  EXPECT_FALSE(Obs(b1, "tls.settings").first);
  EXPECT_TRUE(absl::StrContains(Obs(b1, "tls.settings").second,
                                "api " + home->grpc + ": plaintext"))
      << Obs(b1, "tls.settings").second;

  // 2. Verify: signature, hashes, quote (allowlist, node key, nonce) and
  // receipt (node key, digest), offline.
  r = verify(b1, key, {"--require-quote", "--require-receipt"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_TRUE(absl::StartsWith(Field(r.out, "tpm quote"),
                               "verified (measurement virtengine 1.0.0"))
      << r.out;
  EXPECT_TRUE(absl::StartsWith(Field(r.out, "ledger receipt"),
                               "verified (audit event compliance.bundle"))
      << r.out;
  EXPECT_EQ(Field(r.out, "result"), "VERIFIED (signature, manifest, hashes)")
      << r.out;
  EXPECT_EQ(r.out.find("NOT ATTESTED"), std::string::npos) << r.out;

  // A second bundle, for stale parts.
  r = Vectl(vhome, vpass, export_args(out + "/b2"));
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const std::string b2 = out + "/b2";
  const std::string digest2 = Field(r.out, "bundle digest");
  ASSERT_NE(digest1, digest2);

  const auto fails_with = [&](const std::string& dir, const std::string& reason,
                              std::vector<std::string> extra = {}) {
    VectlRun v = verify(dir, key, std::move(extra));
    EXPECT_EQ(v.code, 1) << v.out << v.err;
    EXPECT_TRUE(absl::StartsWith(Field(v.out, "result"),
                                 absl::StrCat("FAILED: ", reason)))
        << "want FAILED: " << reason << "\ngot: " << v.out << v.err;
  };

  // 3a. A file.
  {
    const std::string d = Copy(b1, out + "/t-file");
    std::string facts = ReadRaw(d + "/evidence/node-facts.json");
    facts[facts.size() / 2] ^= 1;
    WriteRaw(d + "/evidence/node-facts.json", facts);
    fails_with(d, "hash mismatch: evidence/node-facts.json: manifest says ");
  }
  // 3b. The quote: changed bytes no longer match the signed statement.
  {
    const std::string d = Copy(b1, out + "/t-quote");
    std::string q = ReadRaw(d + "/attestation/quote.bin");
    q[q.size() / 2] ^= 1;
    WriteRaw(d + "/attestation/quote.bin", q);
    fails_with(d, "hash mismatch: attestation/quote.bin: statement says ");
  }
  // 3c. A stale quote (the first bundle's), even signed by the node.
  {
    const std::string d = out + "/t-stale-quote";
    absl::StatusOr<security::path::PathRoot> parent =
        security::path::PathRoot::Open(out);
    ASSERT_TRUE(parent.ok());
    ASSERT_TRUE(parent->MakeDirs("t-stale-quote", 0755).ok());
    absl::StatusOr<security::path::PathRoot> dir = parent->Sub("t-stale-quote");
    ASSERT_TRUE(dir.ok());
    auto pub_bytes = encoding::HexDecode(key, 32);
    ASSERT_TRUE(pub_bytes.ok());
    auto pub = crypto::Ed25519PublicKey::FromBytes(
        crypto::ByteView(pub_bytes->data(), pub_bytes->size()));
    ASSERT_TRUE(pub.ok());
    AdminSigner signer(socket, *pub);
    ReplayQuote replay(ReadRaw(b1 + "/attestation/quote.bin"));
    bundle::WriteOptions wo;
    wo.quote_provider = &replay;
    wo.system = "test-node";
    wo.created = "2026-12-03T00:00:00Z";
    wo.tool = "node_evidence_test";
    std::vector<bundle::File> files = {
        {cli::kMeasurementsFile, ReadRaw(b1 + "/" + cli::kMeasurementsFile)},
        {"evidence/note.txt", "a bundle whose quote was made for another"}};
    absl::StatusOr<bundle::WriteResult> w =
        bundle::WriteBundle(*dir, files, signer, wo);
    ASSERT_TRUE(w.ok()) << w.status();
    fails_with(d, absl::StrCat("quote: stale quote: made for bundle digest ",
                               digest1, ", not for this bundle's digest ",
                               w->bundle_digest_hex));
  }
  // 3d. The quote against an allowlist that does not approve the image.
  {
    const std::string other = base + "/other-measurements.json";
    WriteRaw(other,
             absl::StrCat("{\"height\": 1, \"measurements\": [{\"name\": "
                          "\"virtengine\", \"version\": \"2.0.0\", \"values\": "
                          "[{\"pcr\": 11, \"sha256\": \"",
                          std::string(64, 'a'), "\"}]}]}"));
    fails_with(b1, "quote: measurement not allowlisted",
               {"--measurements", other});
  }
  // 3e. The receipt: a flipped bit in its header signature.
  {
    const std::string d = Copy(b1, out + "/t-receipt");
    std::string rc = ReadRaw(d + "/ledger/receipt.json");
    const size_t at = rc.find("\"signature\":\"") + 13;
    rc[at] = rc[at] == '0' ? '1' : '0';
    WriteRaw(d + "/ledger/receipt.json", rc);
    fails_with(d, "receipt: header signature: ");
  }
  // 3f. A stale receipt: the second bundle's receipt and transaction.
  {
    const std::string d = Copy(b1, out + "/t-stale-receipt");
    WriteRaw(d + "/ledger/receipt.json", ReadRaw(b2 + "/ledger/receipt.json"));
    WriteRaw(d + "/ledger/tx.bin", ReadRaw(b2 + "/ledger/tx.bin"));
    fails_with(d,
               absl::StrCat("receipt: stale receipt: the anchored "
                            "transaction records digest ",
                            digest2, ", not this bundle's digest ", digest1));
  }
  // 3g. The transaction the receipt proves, changed.
  {
    const std::string d = Copy(b1, out + "/t-tx");
    std::string tx = ReadRaw(d + "/ledger/tx.bin");
    tx[tx.size() - 1] ^= 1;  // inside the signature: still decodes
    WriteRaw(d + "/ledger/tx.bin", tx);
    fails_with(d, "receipt: hash mismatch: ledger/tx.bin: its SHA-256 is ");
  }
  // 3h. The signature.
  {
    const std::string d = Copy(b1, out + "/t-sig");
    std::string env = ReadRaw(d + "/statement.dsse.json");
    const size_t at = env.find("\"sig\": \"") + 9;
    env[at] = env[at] == 'A' ? 'B' : 'A';
    WriteRaw(d + "/statement.dsse.json", env);
    fails_with(d,
               "signature: no signature in statement.dsse.json verifies "
               "with the trusted key ");
    // Another key than the node's.
    VectlRun v = verify(b1, std::string(64, 'a'));
    EXPECT_NE(v.code, 0) << v.out;
  }

  // 4. The node without its TPM: the bundle says it is not attested.
  ASSERT_EQ((*proc)->Terminate(), 0);
  home->tpm_tcti.clear();
  proc = NodeProcess::Start(*home);
  ASSERT_TRUE(proc.ok()) << proc.status();
  ASSERT_TRUE((*proc)->WaitReady(kWait).ok());
  r = Vectl(vhome, vpass, export_args(out + "/b-notpm"));
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_TRUE(absl::StartsWith(Field(r.out, "tpm quote"),
                               "no TPM quote: the node runs with "
                               "--insecure-no-tpm"))
      << r.out;
  EXPECT_EQ(Field(r.out, "ledger receipt"), "present");
  r = verify(out + "/b-notpm", key);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_TRUE(absl::StartsWith(Field(r.out, "tpm quote"),
                               "ABSENT (no TPM quote: the node runs with "
                               "--insecure-no-tpm"))
      << r.out;
  EXPECT_TRUE(absl::StartsWith(Field(r.out, "attestation"), "NOT ATTESTED"))
      << r.out;
  EXPECT_TRUE(absl::StartsWith(Field(r.out, "ledger receipt"), "verified"));
  EXPECT_TRUE(
      absl::StrContains(Field(r.out, "result"), "INCOMPLETE: TPM quote ABSENT"))
      << r.out;
  fails_with(out + "/b-notpm",
             "quote: required but absent: no TPM quote: the node runs with "
             "--insecure-no-tpm",
             {"--require-quote"});

  // 5. Offline export still works, and says what is missing.
  r = Vectl(vhome, vpass,
            {"evidence", "export", "--out", out + "/b-offline",
             "--ephemeral-key", "--home", home->dir, "--data-dir", data_dir,
             "--policy-dir", policy_dir, "--no-openscap"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_TRUE(absl::StartsWith(Field(r.out, "tpm quote"),
                               "no TPM quote: offline export"))
      << r.out;
  EXPECT_FALSE(Obs(out + "/b-offline", "tls.settings").first);
  EXPECT_TRUE(absl::StrContains(Obs(out + "/b-offline", "audit.anchor").second,
                                "offline export"));
  // An export option without --admin-socket is a usage error.
  r = Vectl(vhome, vpass,
            {"evidence", "export", "--out", out + "/b-bad", "--from", "op",
             "--ephemeral-key", "--no-openscap"});
  EXPECT_EQ(r.code, 2) << r.out << r.err;
}

}  // namespace
}  // namespace virtengine::testing
