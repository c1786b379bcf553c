// Attested membership end to end: a 3-node cluster whose genesis requires
// attestation, every node with its own real TPM 2.0 simulator (swtpm,
// through TPM2-TSS); vectl (in-process) adds joining nodes over the admin
// socket. The cluster refuses a node without a quote and a node whose TPM
// reports an unlisted measurement, admits a listed one (recording its
// measurement), and a node cannot start with --insecure-no-tpm on this
// chain.

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "security/tpm/swtpm_test_util.h"
#include "security/tpm/tpm.h"
#include "src/api/node/v1/node.grpc.pb.h"
#include "src/common/encoding/hex.h"
#include "src/node/home.h"
#include "tests/integration/node_process.h"
#include "tests/integration/vectl_run.h"
#include "tests/load/loadgen.h"

namespace virtengine::testing {
namespace {

constexpr uint64_t kAmount = 1000000000;
constexpr int kWait = 60;

VectlRun Vectl(const std::string& vhome, const std::string& pass,
               const std::vector<std::string>& args, const std::string& node) {
  return RunVectlIn(vhome, pass, args, node);
}

void AppendConfig(const NodeHome& h, const std::string& line) {
  std::ofstream(h.dir + "/config/node.conf", std::ios::app) << line << "\n";
}

TEST(AttestedClusterTest, RefusesUnattestedAndUnlistedAdmitsListed) {
  const std::string base = TestDir("ac");
  const ShortTempDir tmp("attest-it");
  ASSERT_FALSE(tmp.path().empty());
  const std::string& sockdir = tmp.path();

  const std::string vhome = base + "/vectl";
  const std::string vpass = base + "/vectl.pass";
  ::mkdir(vhome.c_str(), 0700);
  std::ofstream(vpass) << "attested cluster test pass\n";
  ::chmod(vpass.c_str(), 0600);
  ASSERT_EQ(Vectl(vhome, vpass, {"keys", "add", "op"}, "").code, 0);
  VectlRun r = Vectl(vhome, vpass, {"keys", "show", "op", "--address"}, "");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string op = r.out.substr(0, r.out.find('\n'));

  // One TPM per machine: nodes 1..4 booted the approved image (0x42),
  // node 5 another one (0x66).
  std::map<uint64_t, std::unique_ptr<tpm::testing::Swtpm>> tpms;
  std::map<uint64_t, crypto::Digest32> pcr11;
  for (uint64_t id = 1; id <= 5; ++id) {
    auto b = tpm::testing::StartBootedTpm(id == 5 ? 0x66 : 0x42);
    ASSERT_TRUE(b.ok()) << b.status();
    pcr11[id] = b->pcr11;
    b->tpm.reset();  // swtpm serves one client at a time: the node's
    tpms[id] = std::move(b->swtpm);
  }
  ASSERT_EQ(pcr11[1], pcr11[4]);
  ASSERT_NE(pcr11[1], pcr11[5]);

  absl::StatusOr<std::vector<NodeHome>> homes =
      InitCluster(base, 3, 2, kAmount, {op});
  ASSERT_TRUE(homes.ok()) << homes.status();
  // The genesis requires attestation and approves image 0x42's PCR 11.
  {
    const std::string path = (*homes)[0].dir + "/config/genesis.json";
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    auto g = node::ParseGenesis(text.str());
    ASSERT_TRUE(g.ok()) << g.status();
    g->set_attestation_required(true);
    gov::v1::Measurement* m = g->add_measurements();
    m->set_name("virtengine");
    m->set_version("1.0.0");
    gov::v1::PcrValue* v = m->add_values();
    v->set_pcr(11);
    v->set_sha256(pcr11[1].data(), pcr11[1].size());
    auto json = node::GenesisToJson(*g);
    ASSERT_TRUE(json.ok());
    for (const NodeHome& h : *homes) {
      std::ofstream(h.dir + "/config/genesis.json", std::ios::trunc) << *json;
    }
  }
  std::map<uint64_t, std::unique_ptr<NodeProcess>> procs;
  for (NodeHome& h : *homes) {
    h.tpm_tcti = tpms[h.raft_id]->tcti();
    if (h.raft_id == 1) {
      AppendConfig(h, absl::StrCat("admin_socket: \"", sockdir, "/n1.sock\""));
    }
    absl::StatusOr<std::unique_ptr<NodeProcess>> p = NodeProcess::Start(h);
    ASSERT_TRUE(p.ok()) << p.status();
    procs[h.raft_id] = *std::move(p);
  }
  for (auto& [id, p] : procs) {
    ASSERT_TRUE(p->WaitServing(kWait).ok()) << "node " << id;
  }
  const NodeHome& n1 = (*homes)[0];
  {
    node::v1::StatusResponse st = StatusOf(*procs[1]);
    EXPECT_TRUE(st.attested());
    EXPECT_FALSE(st.insecure_no_tpm());
  }
  // Fund the operator.
  {
    auto t = loadgen::MakeTransfer(*loadgen::AccountKey(0), op, 1000000, 1,
                                   "uve", 0, n1.chain_id);
    ASSERT_TRUE(t.ok()) << t.status();
    node::v1::SubmitTxRequest req;
    req.set_tx(t->raw);
    req.set_wait_for_commit(true);
    node::v1::SubmitTxResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(In(30));
    ASSERT_TRUE(procs[1]->stub().SubmitTx(&ctx, req, &resp).ok());
    ASSERT_EQ(resp.result().code(), 0u) << resp.result().log();
  }
  const std::string admin = sockdir + "/n1.sock";

  // A node without a TPM cannot even start on this chain.
  absl::StatusOr<NodeHome> notpm = InitJoiner(base, n1, 6);
  ASSERT_TRUE(notpm.ok()) << notpm.status();
  {
    std::string out;
    const int code =
        RunProgram({Runfile("src/node/ve-node"), "start", "--home", notpm->dir,
                    "--passphrase-file", notpm->pass_file, "--insecure-no-tpm"},
                   &out);
    EXPECT_EQ(code, 2) << out;
    EXPECT_NE(out.find("--insecure-no-tpm refused"), std::string::npos) << out;
  }

  // Joiners 4 (approved image) and 5 (unlisted image), both with TPMs.
  std::map<uint64_t, NodeHome> joiners;
  for (uint64_t id : {4, 5}) {
    absl::StatusOr<NodeHome> j = InitJoiner(base, n1, id);
    ASSERT_TRUE(j.ok()) << j.status();
    j->tpm_tcti = tpms[id]->tcti();
    absl::StatusOr<std::unique_ptr<NodeProcess>> p = NodeProcess::Start(*j);
    ASSERT_TRUE(p.ok()) << p.status();
    procs[id] = *std::move(p);
    joiners[id] = *j;
  }
  for (uint64_t id : {4, 5}) {
    // A joiner answers Status before it is a member.
    for (int i = 0; i < 100; ++i) {
      node::v1::StatusResponse st;
      grpc::ClientContext ctx;
      ctx.set_deadline(In(1));
      if (procs[id]->stub().Status(&ctx, node::v1::StatusRequest(), &st).ok())
        break;
      ::usleep(100000);
    }
  }
  const auto add = [&](uint64_t id, bool attest) {
    std::vector<std::string> a = {"cluster",
                                  "add",
                                  "op",
                                  absl::StrCat(id),
                                  joiners[id].raft,
                                  joiners[id].node_key_hex,
                                  "--grpc-address",
                                  joiners[id].grpc,
                                  "--admin-socket",
                                  admin};
    if (attest) a.push_back("--attest");
    return Vectl(vhome, vpass, a, n1.grpc);
  };

  // Unattested: refused by the chain.
  r = add(4, false);
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE((r.out + r.err).find("attestation required"), std::string::npos)
      << r.out << r.err;
  // Unlisted measurement: refused with the verifier's reason.
  r = add(5, true);
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE((r.out + r.err).find("measurement not allowlisted"),
            std::string::npos)
      << r.out << r.err;
  // Listed: admitted, caught up, promoted; its measurement is recorded.
  r = add(4, true);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  ASSERT_TRUE(procs[4]->WaitServing(kWait).ok());
  node::v1::StatusResponse st;
  for (int i = 0; i < 100; ++i) {
    st = StatusOf(*procs[4]);
    if (!st.measurement_name().empty()) break;
    ::usleep(100000);
  }
  EXPECT_EQ(st.measurement_name(), "virtengine");
  EXPECT_EQ(st.measurement_version(), "1.0.0");
  EXPECT_TRUE(st.attested());
  int voters = 0;
  const node::v1::StatusResponse st1 = StatusOf(*procs[1]);
  for (const auto& s : st1.servers()) {
    if (s.raft_role() == "voter") ++voters;
    EXPECT_NE(s.raft_id(), 5u) << "the unlisted node entered Raft";
  }
  EXPECT_EQ(voters, 4);

  // vectl attest quote | verify: node 4's quote over our nonce checks out
  // against the cluster's allowlist; another nonce, or node 5's unlisted
  // image, does not.
  const std::string nonce(64, 'a');  // 32 bytes, hex
  r = Vectl(vhome, vpass,
            {"attest", "quote", "--nonce", nonce, "--output", "json"},
            joiners[4].grpc);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string q4 = base + "/q4.json";
  std::ofstream(q4) << r.out;
  r = Vectl(vhome, vpass, {"attest", "verify", q4, "--nonce", nonce}, n1.grpc);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("ok: measurement virtengine 1.0.0"), std::string::npos)
      << r.out;
  r = Vectl(vhome, vpass,
            {"attest", "verify", q4, "--nonce", std::string(64, 'b')}, n1.grpc);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.err.find("attestation refused: evidence: nonce mismatch"),
            std::string::npos)
      << r.err;
  r = Vectl(vhome, vpass,
            {"attest", "verify", q4, "--nonce", nonce, "--purpose", "join"},
            n1.grpc);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("purpose"), std::string::npos) << r.err;
  r = Vectl(vhome, vpass,
            {"attest", "quote", "--nonce", nonce, "--output", "json"},
            joiners[5].grpc);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string q5 = base + "/q5.json";
  std::ofstream(q5) << r.out;
  r = Vectl(vhome, vpass, {"attest", "verify", q5, "--nonce", nonce}, n1.grpc);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("measurement not allowlisted"), std::string::npos)
      << r.err;
  // The same checks against an image manifest instead of the allowlist.
  const std::string manifest = base + "/manifest.json";
  std::ofstream(manifest) << absl::StrCat(
      "{\"schema\": \"virtengine.image.manifest/1\", \"image_id\": "
      "\"virtengine\", \"version\": \"1.0.0\", \"measurements\": "
      "{\"pcr11_running\": \"",
      encoding::HexEncode(absl::Span<const uint8_t>(pcr11[1])), "\"}}");
  r = Vectl(vhome, vpass,
            {"attest", "verify", q4, "--nonce", nonce, "--manifest", manifest},
            "127.0.0.1:1");  // no node needed
  EXPECT_EQ(r.code, 0) << r.err;
  r = Vectl(vhome, vpass,
            {"attest", "verify", q5, "--nonce", nonce, "--manifest", manifest},
            "127.0.0.1:1");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("measurement not allowlisted"), std::string::npos)
      << r.err;
  // A garbled file is refused with the parser's reason.
  std::ofstream(q5, std::ios::trunc) << "{\"purpose\": 7";
  r = Vectl(vhome, vpass, {"attest", "verify", q5}, n1.grpc);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("not an evidence JSON document"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace virtengine::testing
