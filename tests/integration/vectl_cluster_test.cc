// vectl's cluster, admin and governance commands (src/cli, in-process
// through RunVectl) against real ve-node processes on loopback: cluster
// status over the public API and the admin socket, cluster add of a joining
// node (4 voters), set-role to non-voter and back, cluster remove, the
// operator gate refusing a non-operator key, and admin backup whose result
// `ve-node backup verify` accepts (and refuses once a file is corrupted);
// on a single node, gov propose/vote/list/params and measurement
// list/propose (VectlGovTest).
//
// Admin sockets: a Unix socket path holds at most 108 bytes and vectl takes
// at most 100, but TEST_TMPDIR alone can be ~90 bytes deep; every node's
// node.conf therefore gets `admin_socket` in a short mkdtemp directory
// under /tmp (removed at the end). Node 1's socket is at
// <that dir>/.virtengine/admin.sock so that vectl finds it through HOME,
// the documented default.

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "compliance/json/json.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "src/api/node/v1/node.grpc.pb.h"
#include "src/cli/vectl.h"
#include "tests/integration/node_process.h"
#include "tests/integration/vectl_run.h"
#include "tests/load/loadgen.h"

namespace virtengine::testing {
namespace {

constexpr uint64_t kAmount = 1000000000;
constexpr int kWait = 60;

// vectl in-process with its own home, HOME = `home_env` (where node 1's
// admin socket is found by default) and VECTL_NODE = `node`.
class Vectl {
 public:
  Vectl(std::string vhome, std::string pass, std::string home_env)
      : vhome_(std::move(vhome)),
        pass_(std::move(pass)),
        home_env_(std::move(home_env)) {}

  VectlRun Run(const std::vector<std::string>& args,
               const std::string& node = "") const {
    return RunVectlIn(vhome_, pass_, args, node, home_env_);
  }

 private:
  std::string vhome_, pass_, home_env_;
};

using JsonValue = compliance::json::Value;

const JsonValue* Member(const JsonValue& v, const std::string& k) {
  return v.Find(k);
}

JsonValue Json(const std::string& text) {
  absl::StatusOr<JsonValue> v = compliance::json::Parse(text);
  EXPECT_TRUE(v.ok()) << v.status() << ": " << text;
  return v.ok() ? *v : JsonValue();
}

// The servers of a cluster status object, by raft id: "<raft_role>/<ledger
// member>/<ledger voter>", e.g. "voter/1/1".
std::map<uint64_t, std::string> Servers(const JsonValue& status) {
  std::map<uint64_t, std::string> out;
  const JsonValue* servers = Member(status, "servers");
  if (servers == nullptr) return out;
  for (const JsonValue& s : servers->items()) {
    const JsonValue* id = Member(s, "raft_id");
    const JsonValue* role = Member(s, "raft_role");
    const JsonValue* member = Member(s, "ledger_member");
    const JsonValue* voter = Member(s, "ledger_voter");
    if (id == nullptr || role == nullptr || member == nullptr ||
        voter == nullptr) {
      ADD_FAILURE() << "incomplete server entry";
      continue;
    }
    out[std::stoull(id->str())] =
        absl::StrCat(role->str(), "/", member->boolean() ? 1 : 0, "/",
                     voter->boolean() ? 1 : 0);
  }
  return out;
}

void AppendConfig(const NodeHome& h, const std::string& line) {
  std::ofstream(h.dir + "/config/node.conf", std::ios::app) << line << "\n";
}

// Funds `to` with a transfer from loadgen account `from` through `via`.
void Fund(NodeProcess& via, uint32_t from, const std::string& to,
          const std::string& chain) {
  absl::StatusOr<loadgen::Transfer> t = loadgen::MakeTransfer(
      *loadgen::AccountKey(from), to, 1000000, 1, "uve", 0, chain);
  ASSERT_TRUE(t.ok()) << t.status();
  node::v1::SubmitTxRequest req;
  req.set_tx(t->raw);
  req.set_wait_for_commit(true);
  node::v1::SubmitTxResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(In(30));
  ctx.set_wait_for_ready(true);
  grpc::Status s = via.stub().SubmitTx(&ctx, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(resp.result().code(), 0u) << resp.result().log();
}

TEST(VectlClusterTest, StatusAddSetRoleRemoveGateAndBackup) {
  const std::string base = TestDir("vc");
  const ShortTempDir tmp("vectl-it");
  ASSERT_FALSE(tmp.path().empty());
  const std::string& sockdir = tmp.path();
  ASSERT_EQ(::mkdir((sockdir + "/.virtengine").c_str(), 0700), 0);

  // The operator and a non-operator as keys of a vectl key store.
  const std::string vhome = base + "/vectl";
  const std::string vpass = base + "/vectl.pass";
  ::mkdir(vhome.c_str(), 0700);
  std::ofstream(vpass) << "vectl cluster test pass\n";
  ::chmod(vpass.c_str(), 0600);
  const Vectl vectl(vhome, vpass, sockdir);
  VectlRun r = vectl.Run({"keys", "add", "op"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = vectl.Run({"keys", "add", "bob"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = vectl.Run({"keys", "show", "op", "--address"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string op = r.out.substr(0, r.out.find('\n'));
  r = vectl.Run({"keys", "show", "bob", "--address"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string bob = r.out.substr(0, r.out.find('\n'));

  // Three voters; the vectl key `op` is the ledger's operator.
  absl::StatusOr<std::vector<NodeHome>> homes =
      InitCluster(base, 3, 2, kAmount, {op});
  ASSERT_TRUE(homes.ok()) << homes.status();
  std::map<uint64_t, std::string> sockets;
  for (const NodeHome& h : *homes) {
    sockets[h.raft_id] = h.raft_id == 1
                             ? sockdir + "/.virtengine/admin.sock"
                             : absl::StrCat(sockdir, "/n", h.raft_id, ".sock");
    AppendConfig(h, absl::StrCat("admin_socket: \"", sockets[h.raft_id], "\""));
  }
  std::map<uint64_t, std::unique_ptr<NodeProcess>> procs;
  for (const NodeHome& h : *homes) {
    absl::StatusOr<std::unique_ptr<NodeProcess>> p = NodeProcess::Start(h);
    ASSERT_TRUE(p.ok()) << p.status();
    procs[h.raft_id] = *std::move(p);
  }
  for (auto& [id, p] : procs) ASSERT_TRUE(p->WaitServing(kWait).ok());
  const NodeHome& n1 = (*homes)[0];
  const std::string chain = n1.chain_id;
  Fund(*procs[1], 0, op, chain);
  Fund(*procs[1], 1, bob, chain);

  // cluster status over the public API (text): every server is a voter.
  r = vectl.Run({"cluster", "status"}, n1.grpc);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("chain_id: itest"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("RAFT_ID"), std::string::npos) << r.out;
  for (const NodeHome& h : *homes) {
    EXPECT_NE(r.out.find(h.raft), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(h.grpc), std::string::npos) << r.out;
  }
  // ... and over the admin socket (JSON), through the default path.
  r = vectl.Run(
      {"cluster", "status", "--admin-socket", sockets[1], "--output", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  {
    JsonValue st = Json(r.out);
    EXPECT_EQ(Servers(st),
              (std::map<uint64_t, std::string>{
                  {1, "voter/1/1"}, {2, "voter/1/1"}, {3, "voter/1/1"}}))
        << r.out;
    ASSERT_NE(Member(st, "leader_id"), nullptr);
    EXPECT_NE(Member(st, "leader_id")->str(), "0");
    EXPECT_FALSE(Member(st, "leader_grpc_address")->str().empty());
    EXPECT_FALSE(Member(st, "halted")->boolean());
    EXPECT_EQ(Member(st, "raft_id")->str(), "1");
  }

  // cluster add: a joining node, recorded by the operator, caught up and
  // promoted; ChangeMembership returns once Raft matches: 4 voters.
  absl::StatusOr<NodeHome> joiner = InitJoiner(base, n1, 4);
  ASSERT_TRUE(joiner.ok()) << joiner.status();
  sockets[4] = sockdir + "/n4.sock";
  AppendConfig(*joiner, absl::StrCat("admin_socket: \"", sockets[4], "\""));
  {
    absl::StatusOr<std::unique_ptr<NodeProcess>> p =
        NodeProcess::Start(*joiner);
    ASSERT_TRUE(p.ok()) << p.status();
    procs[4] = *std::move(p);
  }
  r = vectl.Run(
      {"cluster", "add", "op", "4", joiner->raft, joiner->node_key_hex,
       "--grpc-address", joiner->grpc, "--output", "json"},
      n1.grpc);
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  {
    JsonValue res = Json(r.out);
    ASSERT_NE(Member(res, "tx_hash"), nullptr) << r.out;
    EXPECT_EQ(Member(res, "tx_hash")->str().size(), 64u);
    EXPECT_EQ(Member(res, "code")->str(), "0");
    EXPECT_NE(Member(res, "height")->str(), "0");
    ASSERT_NE(Member(res, "cluster"), nullptr);
    EXPECT_EQ(Servers(*Member(res, "cluster")),
              (std::map<uint64_t, std::string>{{1, "voter/1/1"},
                                               {2, "voter/1/1"},
                                               {3, "voter/1/1"},
                                               {4, "voter/1/1"}}))
        << r.out;
  }
  ASSERT_TRUE(procs[4]->WaitServing(kWait).ok());

  // set-role: node 4 to non-voter (text output), then back to voter.
  r = vectl.Run({"cluster", "set-role", "op", "4", "non-voter"}, n1.grpc);
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("code: 0 (ok)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cluster after the change:"), std::string::npos);
  r = vectl.Run({"cluster", "status", "--output", "json"}, n1.grpc);
  ASSERT_EQ(r.code, 0) << r.err;
  {
    std::map<uint64_t, std::string> s = Servers(Json(r.out));
    ASSERT_EQ(s.count(4), 1u) << r.out;
    EXPECT_NE(s[4].substr(0, 6), "voter/") << r.out;
    EXPECT_EQ(s[4].substr(s[4].size() - 4), "/1/0") << r.out;
    EXPECT_EQ(s[1], "voter/1/1");
  }
  r = vectl.Run({"cluster", "set-role", "op", "4", "voter", "--output", "json"},
                n1.grpc);
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_EQ(Servers(*Member(Json(r.out), "cluster"))[4], "voter/1/1") << r.out;

  // The gate: bob is funded but no operator; the node refuses, exit 1 with
  // the gate's reason, and nothing changes.
  r = vectl.Run({"cluster", "remove", "bob", "2"}, n1.grpc);
  EXPECT_EQ(r.code, 1) << r.err << r.out;
  EXPECT_NE(r.err.find("needs role operator"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ChangeMembership"), std::string::npos) << r.err;
  r = vectl.Run({"cluster", "status", "--output", "json"}, n1.grpc);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Servers(Json(r.out)).size(), 4u) << r.out;

  // cluster remove: a node that is neither node 1 nor the leader.
  const uint64_t leader =
      std::stoull(Member(Json(r.out), "leader_id") != nullptr
                      ? Member(Json(r.out), "leader_id")->str()
                      : "0");
  uint64_t victim = 4;
  while (victim == leader) --victim;
  ASSERT_GE(victim, 2u);
  r = vectl.Run(
      {"cluster", "remove", "op", absl::StrCat(victim), "--output", "json"},
      n1.grpc);
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  {
    std::map<uint64_t, std::string> s =
        Servers(*Member(Json(r.out), "cluster"));
    EXPECT_EQ(s.size(), 3u) << r.out;
    EXPECT_EQ(s.count(victim), 0u) << r.out;
  }
  procs[victim]->Kill();
  procs.erase(victim);

  // admin backup through the default socket ($HOME/.virtengine/admin.sock).
  r = vectl.Run({"admin", "backup", "--name", "b1", "--output", "json"});
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  JsonValue b = Json(r.out);
  ASSERT_NE(Member(b, "path"), nullptr) << r.out;
  const std::string path = Member(b, "path")->str();
  EXPECT_EQ(path, n1.dir + "/backups/b1");
  const uint64_t height = std::stoull(Member(b, "height")->str());
  EXPECT_GT(height, 0u);
  EXPECT_EQ(Member(b, "replayed_blocks")->str(), absl::StrCat(height));
  EXPECT_EQ(Member(b, "state_digest")->str().size(), 64u);
  EXPECT_FALSE(Member(b, "files")->items().empty());
  {
    node::v1::StatusResponse st = StatusOf(*procs[1]);
    if (st.height() == height) {
      EXPECT_EQ(Member(b, "state_digest")->str(),
                absl::BytesToHexString(st.state_digest()));
    }
  }
  // The same name again: the node refuses (exit 1); text output of a new one.
  r = vectl.Run({"admin", "backup", "--name", "b1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("ALREADY_EXISTS"), std::string::npos) << r.err;
  r = vectl.Run({"admin", "backup", "--admin-socket", sockets[1]});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("path: " + n1.dir + "/backups/backup-"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("replayed_blocks: "), std::string::npos) << r.out;

  // ve-node backup verify accepts the backup vectl asked for ...
  std::string out;
  EXPECT_EQ(
      RunProgram({Runfile("src/node/ve-node"), "backup", "verify", path}, &out),
      0)
      << out;
  EXPECT_NE(out.find("verified"), std::string::npos) << out;
  // ... and refuses a copy with one corrupted ledger file.
  const std::string copy = base + "/corrupted";
  ASSERT_EQ(RunProgram({"/bin/cp", "-a", path, copy}, &out), 0) << out;
  std::string victim_file;
  for (const auto& e : std::filesystem::directory_iterator(copy + "/ledger")) {
    if (e.path().extension() == ".sst") victim_file = e.path().string();
  }
  ASSERT_FALSE(victim_file.empty());
  {
    std::fstream f(victim_file,
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(10);
    const char old = static_cast<char>(f.get());
    f.seekp(10);
    f.put(static_cast<char>(old ^ 0x5a));
  }
  EXPECT_EQ(
      RunProgram({Runfile("src/node/ve-node"), "backup", "verify", copy}, &out),
      1)
      << out;
  EXPECT_NE(out.find("does not match the manifest"), std::string::npos) << out;

  for (auto& [id, p] : procs) p->Kill();
}

// ---- governance ------------------------------------------------------------

constexpr char kPcr11[] =
    "b68855179cba2efed50e940e040a4882633e0d766fcc75c3324a9e7c781e70cc";
constexpr char kPcr7[] =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

// The proposal id a `gov propose --output json` printed.
std::string ProposalId(const VectlRun& r) {
  JsonValue v = Json(r.out);
  const JsonValue* id = Member(v, "proposal_id");
  EXPECT_NE(id, nullptr) << r.out;
  return id == nullptr ? "" : id->str();
}

// measurement list --output json: "<name> <version>" -> the entry.
std::map<std::string, JsonValue> Measurements(const Vectl& vectl,
                                              const std::string& node) {
  VectlRun r = vectl.Run({"measurement", "list", "--output", "json"}, node);
  EXPECT_EQ(r.code, 0) << r.err;
  std::map<std::string, JsonValue> out;
  JsonValue v = Json(r.out);
  const JsonValue* list = Member(v, "measurements");
  if (list == nullptr) return out;
  for (const JsonValue& m : list->items()) {
    out[Member(m, "name")->str() + " " + Member(m, "version")->str()] = m;
  }
  return out;
}

// vectl's gov and measurement commands against one real ve-node whose
// genesis operator (vectl key `op`) is the only governance member: propose
// (flags and manifest), vote, list, params, a refused non-member, a passed
// proposal whose action fails, retire, a new member and a rejection.
TEST(VectlGovTest, ProposeVoteListRetire) {
  const std::string base = TestDir("vgov");
  const std::string vhome = base + "/vectl";
  const std::string vpass = base + "/vectl.pass";
  ::mkdir(vhome.c_str(), 0700);
  std::ofstream(vpass) << "vectl gov test pass\n";
  ::chmod(vpass.c_str(), 0600);
  const Vectl vectl(vhome, vpass, base);
  std::map<std::string, std::string> addr;
  for (const char* k : {"op", "bob", "carol"}) {
    VectlRun r = vectl.Run({"keys", "add", k});
    ASSERT_EQ(r.code, 0) << r.err;
    r = vectl.Run({"keys", "show", k, "--address"});
    ASSERT_EQ(r.code, 0) << r.err;
    addr[k] = r.out.substr(0, r.out.find('\n'));
  }
  InitExtras x;
  x.operators = {addr["op"]};
  absl::StatusOr<NodeHome> home =
      InitNode(base, 0, {addr["op"], addr["bob"], addr["carol"]}, kAmount, x);
  ASSERT_TRUE(home.ok()) << home.status();
  absl::StatusOr<std::unique_ptr<NodeProcess>> proc = NodeProcess::Start(*home);
  ASSERT_TRUE(proc.ok()) << proc.status();
  ASSERT_TRUE((*proc)->WaitReady(kWait).ok());
  const std::string node = home->grpc;

  // The genesis: one member (op), the default parameters, no measurement.
  VectlRun r = vectl.Run({"gov", "params", "--output", "json"}, node);
  ASSERT_EQ(r.code, 0) << r.err;
  {
    JsonValue p = Json(r.out);
    EXPECT_EQ(Member(p, "threshold_bps")->str(), "5001");
    EXPECT_EQ(Member(p, "voting_period_blocks")->str(), "10000");
    EXPECT_FALSE(Member(p, "attestation_required")->boolean());
    EXPECT_EQ(Member(p, "votes_needed")->str(), "1");
    ASSERT_EQ(Member(p, "members")->items().size(), 1u);
    EXPECT_EQ(Member(p, "members")->items()[0].str(), addr["op"]);
  }
  r = vectl.Run({"measurement", "list"}, node);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("measurements: 0"), std::string::npos) << r.out;

  // Propose a measurement (two PCRs, given out of order).
  r = vectl.Run({"gov", "propose", "--from", "op", "--title",
                 "approve test image 0.1.0", "--add-measurement", "virtengine",
                 "--version", "0.1.0", "--pcr", std::string("11=") + kPcr11,
                 "--pcr", std::string("7=") + kPcr7, "--output", "json"},
                node);
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_EQ(Member(Json(r.out), "code")->str(), "0") << r.out;
  EXPECT_NE(Member(Json(r.out), "height")->str(), "0") << r.out;
  const std::string p1 = ProposalId(r);
  EXPECT_EQ(p1, "1");
  r = vectl.Run({"gov", "list", "--output", "json"}, node);
  ASSERT_EQ(r.code, 0) << r.err;
  {
    JsonValue l = Json(r.out);
    ASSERT_EQ(Member(l, "proposals")->items().size(), 1u) << r.out;
    const JsonValue& p = Member(l, "proposals")->items()[0];
    EXPECT_EQ(Member(p, "status")->str(), "VOTING");
    EXPECT_EQ(Member(p, "proposer")->str(), addr["op"]);
    EXPECT_EQ(Member(p, "yes")->str(), "0");
    EXPECT_EQ(std::stoull(Member(p, "expiry_height")->str()),
              std::stoull(Member(p, "submit_height")->str()) + 10000);
    const JsonValue* a = Member(p, "action");
    EXPECT_EQ(Member(*a, "type")->str(), "add_measurement");
    ASSERT_EQ(Member(*a, "values")->items().size(), 2u);
    EXPECT_EQ(Member(Member(*a, "values")->items()[0], "pcr")->str(), "7");
  }
  // Nothing listed before the vote.
  EXPECT_TRUE(Measurements(vectl, node).empty());

  // carol is no member: her vote and her proposal are refused (exit 1).
  r = vectl.Run({"gov", "vote", "--from", "carol", "--proposal", p1, "--yes"},
                node);
  EXPECT_EQ(r.code, 1) << r.err << r.out;
  EXPECT_NE(r.err.find("not a member"), std::string::npos) << r.err;
  r = vectl.Run({"gov", "propose", "--from", "carol", "--title", "t",
                 "--add-member", addr["carol"]},
                node);
  EXPECT_EQ(r.code, 1) << r.err << r.out;
  EXPECT_NE(r.err.find("only members submit proposals"), std::string::npos)
      << r.err;

  // op's yes passes it (1 of 1 member) and executes it in the same tx.
  r = vectl.Run({"gov", "vote", "--from", "op", "--proposal", p1, "--yes"},
                node);
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("code: 0 (ok)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("status: PASSED"), std::string::npos) << r.out;
  uint64_t added = 0;
  {
    std::map<std::string, JsonValue> m = Measurements(vectl, node);
    ASSERT_EQ(m.count("virtengine 0.1.0"), 1u);
    const JsonValue& e = m["virtengine 0.1.0"];
    added = std::stoull(Member(e, "added_height")->str());
    EXPECT_GT(added, 0u);
    EXPECT_EQ(Member(e, "retired_height")->str(), "0");
    EXPECT_FALSE(Member(e, "retired")->boolean());
    EXPECT_EQ(Member(e, "proposal_id")->str(), p1);
    const auto& values = Member(e, "values")->items();
    ASSERT_EQ(values.size(), 2u);
    EXPECT_EQ(Member(values[0], "pcr")->str(), "7");
    EXPECT_EQ(Member(values[0], "sha256")->str(), kPcr7);
    EXPECT_EQ(Member(values[1], "pcr")->str(), "11");
    EXPECT_EQ(Member(values[1], "sha256")->str(), kPcr11);
  }
  r = vectl.Run({"measurement", "list"}, node);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("virtengine  0.1.0    active"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(std::string("11=") + kPcr11), std::string::npos);
  // A second vote on a decided proposal: refused.
  r = vectl.Run({"gov", "vote", "--from", "op", "--proposal", p1, "--no"},
                node);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.err.find("is decided (PASSED)"), std::string::npos) << r.err;

  // measurement propose from an image manifest (as image/build writes it).
  const std::string manifest = base + "/manifest.json";
  std::ofstream(manifest) << "{\"schema\": \"virtengine.image.manifest/1\", "
                             "\"image_id\": \"virtengine\", \"version\": "
                             "\"0.2.0\", \"kernel\": \"6.1.0\", "
                             "\"measurements\": {\"pcr11_running\": \""
                          << kPcr7 << "\", \"pcr11_data_unlock\": \"" << kPcr11
                          << "\"}, \"packages\": []}\n";
  r = vectl.Run(
      {"measurement", "propose", "--from", "op", "--manifest", manifest}, node);
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("proposal_id: 2"), std::string::npos) << r.out;
  r = vectl.Run({"gov", "vote", "--from", "op", "--proposal", "2", "--yes",
                 "--output", "json"},
                node);
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_EQ(Member(Json(r.out), "status")->str(), "PASSED") << r.out;
  {
    std::map<std::string, JsonValue> m = Measurements(vectl, node);
    ASSERT_EQ(m.count("virtengine 0.2.0"), 1u);
    const auto& values = Member(m["virtengine 0.2.0"], "values")->items();
    ASSERT_EQ(values.size(), 1u);
    EXPECT_EQ(Member(values[0], "pcr")->str(), "11");
    EXPECT_EQ(Member(values[0], "sha256")->str(), kPcr7);
  }

  // The same measurement again: the proposal passes but its action fails
  // (exit 0, the reason printed and warned about).
  r = vectl.Run({"gov", "propose", "--from", "op", "--title", "again",
                 "--add-measurement", "virtengine", "--version", "0.1.0",
                 "--pcr", std::string("11=") + kPcr11},
                node);
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("proposal_id: 3"), std::string::npos) << r.out;
  r = vectl.Run({"gov", "vote", "--from", "op", "--proposal", "3", "--yes"},
                node);
  EXPECT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("status: FAILED"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("result: measurement already listed"), std::string::npos)
      << r.out;
  EXPECT_NE(r.err.find("warning: proposal 3 passed but its action failed"),
            std::string::npos)
      << r.err;

  // Retire 0.1.0.
  r = vectl.Run({"gov", "propose", "--from", "op", "--title", "retire 0.1.0",
                 "--retire-measurement", "virtengine", "--version", "0.1.0",
                 "--output", "json"},
                node);
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  const std::string p4 = ProposalId(r);
  EXPECT_EQ(p4, "4");
  r = vectl.Run({"gov", "vote", "--from", "op", "--proposal", p4, "--yes"},
                node);
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("status: PASSED"), std::string::npos) << r.out;
  {
    std::map<std::string, JsonValue> m = Measurements(vectl, node);
    ASSERT_EQ(m.size(), 2u);
    const JsonValue& e = m["virtengine 0.1.0"];
    EXPECT_TRUE(Member(e, "retired")->boolean());
    EXPECT_GT(std::stoull(Member(e, "retired_height")->str()), added);
    EXPECT_EQ(Member(e, "added_height")->str(), absl::StrCat(added));
    EXPECT_FALSE(Member(m["virtengine 0.2.0"], "retired")->boolean());
  }
  r = vectl.Run({"measurement", "list"}, node);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("virtengine  0.1.0    retired"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("virtengine  0.2.0    active"), std::string::npos)
      << r.out;

  // bob becomes a member: now both votes are needed, and one no rejects.
  r = vectl.Run({"gov", "propose", "--from", "op", "--title", "add bob",
                 "--add-member", addr["bob"], "--output", "json"},
                node);
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  const std::string p5 = ProposalId(r);
  r = vectl.Run({"gov", "vote", "--from", "op", "--proposal", p5, "--yes"},
                node);
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  r = vectl.Run({"gov", "params"}, node);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("threshold_bps: 5001 (a proposal passes with 2 yes "
                       "votes of 2 members)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("members: 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(addr["bob"]), std::string::npos) << r.out;
  r = vectl.Run({"gov", "propose", "--from", "bob", "--title", "unanimity",
                 "--set-param", "threshold_bps=10000", "--output", "json"},
                node);
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  const std::string p6 = ProposalId(r);
  r = vectl.Run({"gov", "vote", "--from", "bob", "--proposal", p6, "--yes"},
                node);
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("status: VOTING"), std::string::npos) << r.out;
  r = vectl.Run({"gov", "vote", "--from", "op", "--proposal", p6, "--no"},
                node);
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("status: REJECTED"), std::string::npos) << r.out;

  // The whole history as a table.
  r = vectl.Run({"gov", "list"}, node);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("proposals: 6"), std::string::npos) << r.out;
  for (const char* want :
       {"ID  STATUS", "PASSED", "FAILED", "REJECTED",
        "retire_measurement virtengine 0.1.0", "set_param threshold_bps=10000",
        "proposal 3 FAILED: measurement already listed"}) {
    EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
  }
  r = vectl.Run({"gov", "params", "--output", "json"}, node);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Member(Json(r.out), "threshold_bps")->str(), "5001") << r.out;
  (*proc)->Kill();
}

}  // namespace
}  // namespace virtengine::testing
