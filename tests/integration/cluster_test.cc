// A ve-node cluster as real processes on loopback (libraft over TCP):
// forming it from one genesis, writes on any node (followers forward to the
// leader), linearizable reads, membership changes recorded in the ledger
// and reconciled into Raft (a node joins, is promoted, one is removed),
// and fail-over after SIGKILL of the leader. After each phase every node
// holds the same blocks and state digest.

#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "src/api/bank/v1/bank.pb.h"
#include "src/api/cluster/v1/cluster.pb.h"
#include "src/api/node/v1/admin.grpc.pb.h"
#include "src/api/tx/v1/tx.pb.h"
#include "src/ledger/tx/tx.h"
#include "tests/integration/node_process.h"
#include "tests/load/loadgen.h"

namespace virtengine::testing {
namespace {

constexpr uint64_t kAmount = 1000000000;
constexpr int kWait = 60;

uint64_t Sequence(NodeProcess& n, const std::string& address) {
  bank::v1::QueryBalanceRequest req;
  req.set_address(address);
  req.set_denom("uve");
  bank::v1::QueryBalanceResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(In(10));
  ctx.set_wait_for_ready(true);
  EXPECT_TRUE(n.stub().QueryBalance(&ctx, req, &resp).ok());
  return resp.sequence();
}

// A tx of `msgs` from loadgen account `from`, signed for `chain`.
std::string SignedTx(uint32_t from, uint64_t sequence,
                     const std::vector<google::protobuf::Any>& msgs,
                     const std::string& chain) {
  tx::v1::TxBody body;
  for (const auto& m : msgs) *body.add_messages() = m;
  tx::v1::AuthInfo auth;
  absl::StatusOr<crypto::Ed25519PrivateKey> key = loadgen::AccountKey(from);
  auth.set_public_key(std::string(crypto::AsChars(key->public_key().view())));
  auth.set_sequence(sequence);
  auth.mutable_fee()->set_denom("uve");
  auth.mutable_fee()->set_amount(1);
  absl::StatusOr<std::string> raw = ledger::SignTx(body, auth, chain, *key);
  EXPECT_TRUE(raw.ok()) << raw.status();
  return *raw;
}

template <typename M>
google::protobuf::Any Pack(const M& m) {
  google::protobuf::Any any;
  any.PackFrom(m, "/");
  return any;
}

class Cluster {
 public:
  std::vector<NodeHome> homes;
  std::map<uint64_t, std::unique_ptr<NodeProcess>> procs;  // by raft id

  absl::Status Start(const NodeHome& h) {
    absl::StatusOr<std::unique_ptr<NodeProcess>> p = NodeProcess::Start(h);
    if (!p.ok()) return p.status();
    procs[h.raft_id] = *std::move(p);
    return absl::OkStatus();
  }
  // The node that says it leads and that every live node naming a leader
  // names (a joining node names none until it is added); 0 after kWait s.
  uint64_t Leader() {
    for (int i = 0; i < kWait * 10; ++i) {
      std::set<uint64_t> named;
      uint64_t says = 0;
      for (auto& [id, p] : procs) {
        node::v1::StatusResponse s = StatusOf(*p);
        if (s.leader_id() != 0) named.insert(s.leader_id());
        if (s.is_leader()) says = id;
      }
      if (named.size() == 1 && *named.begin() == says && says != 0) {
        return says;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return 0;
  }
  NodeProcess& LeaderProc() {
    const uint64_t l = Leader();
    EXPECT_NE(l, 0u) << "no agreed leader";
    return *procs.at(l);  // throws (and fails the test) on 0
  }
  // Waits until every live node is at the same height >= min with the same
  // last block hash and state digest.
  bool Converged(uint64_t min_height) {
    for (int i = 0; i < kWait * 10; ++i) {
      std::set<std::string> states;
      bool high = true;
      for (auto& [id, p] : procs) {
        node::v1::StatusResponse s = StatusOf(*p);
        high = high && s.height() >= min_height && !s.halted();
        states.insert(absl::StrCat(s.height(), "/", s.last_block_hash(), "/",
                                   s.state_digest()));
      }
      if (high && states.size() == 1) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
};

// Submits one transfer to `via` and waits for its commit.
node::v1::SubmitTxResponse Transfer(NodeProcess& via, uint32_t from,
                                    const std::string& chain) {
  absl::StatusOr<loadgen::Transfer> t = loadgen::MakeTransfer(
      *loadgen::AccountKey(from), *loadgen::AccountAddress(from + 1), 5, 1,
      "uve", Sequence(via, *loadgen::AccountAddress(from)), chain);
  EXPECT_TRUE(t.ok());
  node::v1::SubmitTxRequest req;
  req.set_tx(t->raw);
  req.set_wait_for_commit(true);
  node::v1::SubmitTxResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(In(30));
  ctx.set_wait_for_ready(true);
  grpc::Status s = via.stub().SubmitTx(&ctx, req, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return resp;
}

TEST(ClusterTest, FormsWritesEverywhereChangesMembershipAndFailsOver) {
  const std::string base = TestDir("cluster");
  const std::string op = *loadgen::AccountAddress(0);
  absl::StatusOr<std::vector<NodeHome>> homes =
      InitCluster(base, 3, 8, kAmount, {op});
  ASSERT_TRUE(homes.ok()) << homes.status();
  Cluster c;
  c.homes = *homes;
  for (const NodeHome& h : c.homes) ASSERT_TRUE(c.Start(h).ok());
  for (auto& [id, p] : c.procs) ASSERT_TRUE(p->WaitServing(kWait).ok());
  const std::string chain = c.homes[0].chain_id;

  // 1. Writes through a follower reach the leader and commit everywhere.
  uint64_t leader = c.Leader();
  ASSERT_NE(leader, 0u);
  const uint64_t follower = leader % 3 + 1;
  node::v1::SubmitTxResponse r = Transfer(*c.procs[follower], 1, chain);
  EXPECT_GT(r.height(), 0u);
  EXPECT_EQ(r.result().code(), 0u) << r.result().log();
  ASSERT_TRUE(c.Converged(r.height()));
  node::v1::StatusResponse st = StatusOf(*c.procs[follower]);
  EXPECT_FALSE(st.is_leader());
  EXPECT_EQ(st.leader_id(), leader);
  EXPECT_FALSE(st.leader_grpc_address().empty());
  ASSERT_EQ(st.servers_size(), 3);
  for (const auto& sv : st.servers()) {
    EXPECT_EQ(sv.raft_role(), "voter");
    EXPECT_TRUE(sv.ledger_member());
  }

  // 2. A linearizable read through a follower sees the write.
  {
    node::v1::QueryRequest q;
    q.set_module("cluster");
    q.set_path("members");
    q.set_consistent(true);
    node::v1::QueryResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(In(10));
    grpc::Status s = c.procs[follower]->stub().Query(&ctx, q, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_GE(resp.height(), r.height());
    cluster::v1::QueryMembersResponse members;
    ASSERT_TRUE(members.ParseFromString(resp.response()));
    EXPECT_EQ(members.members_size(), 3);
    ASSERT_EQ(members.operators_size(), 1);
    EXPECT_EQ(members.operators(0), op);
  }

  // 3. A fourth node joins: an operator records it, the leader adds it to
  // Raft, it catches up and is promoted to voter.
  absl::StatusOr<NodeHome> joiner = InitJoiner(base, c.homes[0], 4);
  ASSERT_TRUE(joiner.ok()) << joiner.status();
  ASSERT_TRUE(c.Start(*joiner).ok());
  {
    // A non-operator is refused by the gate and nothing changes.
    cluster::v1::MsgAddNode add;
    add.set_raft_id(4);
    add.set_raft_address(joiner->raft);
    add.set_grpc_address(joiner->grpc);
    add.set_node_public_key(absl::HexStringToBytes(joiner->node_key_hex));
    add.set_voter(true);
    NodeProcess& via = c.LeaderProc();
    node::v1::SubmitTxRequest req;
    req.set_tx(SignedTx(2, Sequence(via, *loadgen::AccountAddress(2)),
                        {Pack(add)}, chain));
    req.set_wait_for_commit(true);
    node::v1::SubmitTxResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(In(30));
    grpc::Status s = via.stub().SubmitTx(&ctx, req, &resp);
    EXPECT_FALSE(s.ok() && resp.result().code() == 0)
        << "a non-operator changed the membership";
    // The operator succeeds.
    req.set_tx(SignedTx(0, Sequence(via, op), {Pack(add)}, chain));
    grpc::ClientContext ctx2;
    ctx2.set_deadline(In(30));
    s = via.stub().SubmitTx(&ctx2, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(resp.result().code(), 0u) << resp.result().log();
  }
  bool promoted = false;
  for (int i = 0; i < kWait * 10 && !promoted; ++i) {
    node::v1::StatusResponse s = StatusOf(c.LeaderProc());
    int voters = 0;
    for (const auto& sv : s.servers()) voters += sv.raft_role() == "voter";
    promoted = voters == 4;
    if (!promoted) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(promoted) << "node 4 was not promoted to voter";
  r = Transfer(*c.procs[4], 2, chain);  // written through the new node
  ASSERT_TRUE(c.Converged(r.height()));

  // 4. Remove a follower that is not the leader; the others go on.
  leader = c.Leader();
  uint64_t victim = leader == 3 ? 2 : 3;
  {
    cluster::v1::MsgRemoveNode rm;
    rm.set_raft_id(victim);
    NodeProcess& via = *c.procs[leader];
    node::v1::SubmitTxRequest req;
    req.set_tx(SignedTx(0, Sequence(via, op), {Pack(rm)}, chain));
    req.set_wait_for_commit(true);
    node::v1::SubmitTxResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(In(30));
    ASSERT_TRUE(via.stub().SubmitTx(&ctx, req, &resp).ok());
    ASSERT_EQ(resp.result().code(), 0u) << resp.result().log();
  }
  bool removed = false;
  for (int i = 0; i < kWait * 10 && !removed; ++i) {
    removed = StatusOf(c.LeaderProc()).servers_size() == 3;
    if (!removed) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(removed);
  c.procs[victim]->Kill();
  c.procs.erase(victim);

  // 5. SIGKILL the leader: the remaining two of three voters elect a new
  // one and keep committing; every acknowledged write is on both.
  leader = c.Leader();
  ASSERT_NE(leader, 0u);
  c.procs[leader]->Kill();
  c.procs.erase(leader);
  const uint64_t next = c.Leader();
  ASSERT_NE(next, 0u) << "no new leader";
  ASSERT_NE(next, leader);
  r = Transfer(*c.procs[next], 3, chain);
  EXPECT_EQ(r.result().code(), 0u) << r.result().log();
  ASSERT_TRUE(c.Converged(r.height()));
  // Restart the old leader: it catches up from the log.
  for (const NodeHome& h : c.homes) {
    if (h.raft_id == leader) {
      ASSERT_TRUE(c.Start(h).ok());
    }
  }
  if (leader == 4) {
    ASSERT_TRUE(c.Start(*joiner).ok());
  }
  ASSERT_TRUE(c.Converged(r.height()));
}

// Rewrites `key: old` in a home's node.conf (the test's small Raft limits).
void SetConfig(const NodeHome& h, const std::string& from,
               const std::string& to) {
  const std::string path = h.dir + "/config/node.conf";
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  const size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
  std::ofstream(path, std::ios::trunc) << text;
}

// A follower that was down while the leader snapshotted and truncated its
// log catches up by state transfer (a checkpoint from a peer, verified)
// plus the log, and ends with the same blocks and state digest.
TEST(ClusterTest, LaggingNodeCatchesUpByStateTransfer) {
  const std::string base = TestDir("lagging");
  absl::StatusOr<std::vector<NodeHome>> homes =
      InitCluster(base, 3, 16, kAmount, {});
  ASSERT_TRUE(homes.ok()) << homes.status();
  Cluster c;
  c.homes = *homes;
  for (const NodeHome& h : c.homes) {
    SetConfig(h, "snapshot_threshold: 4096", "snapshot_threshold: 8");
    SetConfig(h, "snapshot_trailing: 1024", "snapshot_trailing: 2");
    SetConfig(h, "segment_size_bytes: 8388608", "segment_size_bytes: 65536");
    ASSERT_TRUE(c.Start(h).ok());
  }
  for (auto& [id, p] : c.procs) ASSERT_TRUE(p->WaitServing(kWait).ok());
  const std::string chain = c.homes[0].chain_id;
  const uint64_t leader = c.Leader();
  ASSERT_NE(leader, 0u);
  const uint64_t lagging = leader % 3 + 1;
  c.procs[lagging]->Kill();
  c.procs.erase(lagging);

  // Many blocks while it is down: 60 batches of 16 transfers.
  std::vector<uint64_t> seq(16, 0);
  uint64_t height = 0;
  for (int b = 0; b < 60; ++b) {
    node::v1::SubmitTxBatchRequest req;
    req.set_wait_for_commit(true);
    for (uint32_t a = 0; a < 16; ++a) {
      absl::StatusOr<loadgen::Transfer> t = loadgen::MakeTransfer(
          *loadgen::AccountKey(a), *loadgen::AccountAddress((a + 1) % 16), 1, 1,
          "uve", seq[a]++, chain, std::string(250, 'm'));
      ASSERT_TRUE(t.ok());
      req.add_txs(t->raw);
    }
    node::v1::SubmitTxBatchResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(In(60));
    ctx.set_wait_for_ready(true);
    ASSERT_TRUE(c.LeaderProc().stub().SubmitTxBatch(&ctx, req, &resp).ok());
    for (const auto& r : resp.results()) {
      ASSERT_EQ(r.result().code(), 0u) << r.result().log();
      height = std::max(height, r.height());
    }
  }
  // The leader's log no longer starts at the beginning.
  for (const NodeHome& h : c.homes) {
    if (h.raft_id == lagging) {
      ASSERT_TRUE(c.Start(h).ok());
    }
  }
  ASSERT_TRUE(c.Converged(height)) << "the lagging node did not catch up";
  std::ifstream in(base + "/n" + std::to_string(lagging) + ".log");
  std::stringstream log;
  log << in.rdbuf();
  EXPECT_NE(log.str().find("state_transfer_done"), std::string::npos)
      << "caught up without a state transfer: the log was not truncated";
}

// An online backup through the admin socket is verified by re-execution;
// ve-node backup verify accepts it and refuses a tampered copy; restore
// into the stopped node brings back that state, and the node goes on.
TEST(ClusterTest, BackupVerifyAndRestore) {
  const std::string base = TestDir("backup");
  absl::StatusOr<NodeHome> h = InitNode(base, 4, {}, kAmount);
  ASSERT_TRUE(h.ok()) << h.status();
  absl::StatusOr<std::unique_ptr<NodeProcess>> p = NodeProcess::Start(*h);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->WaitReady(kWait).ok());
  node::v1::SubmitTxResponse r;
  for (int i = 0; i < 3; ++i) r = Transfer(**p, 0, h->chain_id);
  ASSERT_GT(r.height(), 0u);
  const node::v1::StatusResponse before = StatusOf(**p);

  auto admin = node::v1::Admin::NewStub(
      grpc::CreateChannel(AdminTarget(*h), grpc::InsecureChannelCredentials()));
  node::v1::BackupRequest breq;
  breq.set_name("b1");
  node::v1::BackupResponse bresp;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(60));
    grpc::Status s = admin->Backup(&ctx, breq, &bresp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  EXPECT_EQ(bresp.path(), h->dir + "/backups/b1");
  EXPECT_EQ(bresp.manifest().height(), before.height());
  EXPECT_EQ(bresp.manifest().state_digest(), before.state_digest());
  EXPECT_EQ(bresp.replayed_blocks(), before.height());
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(60));
    EXPECT_EQ(admin->Backup(&ctx, breq, &bresp).error_code(),
              grpc::StatusCode::ALREADY_EXISTS);
  }
  std::string out;
  EXPECT_EQ(RunProgram({Runfile("src/node/ve-node"), "backup", "verify",
                        h->dir + "/backups/b1"},
                       &out),
            0)
      << out;
  EXPECT_NE(out.find("verified"), std::string::npos) << out;

  // More blocks after the backup, then stop and restore.
  node::v1::SubmitTxResponse later = Transfer(**p, 1, h->chain_id);
  ASSERT_GT(later.height(), before.height());
  // A running node refuses a restore.
  EXPECT_EQ(RunProgram({Runfile("src/node/ve-node"), "restore", "--home",
                        h->dir, "--from", h->dir + "/backups/b1"},
                       &out),
            2)
      << out;
  ASSERT_EQ((*p)->Terminate(), 0);
  ASSERT_EQ(RunProgram({Runfile("src/node/ve-node"), "restore", "--home",
                        h->dir, "--from", h->dir + "/backups/b1"},
                       &out),
            0)
      << out;
  p = NodeProcess::Start(*h);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->WaitReady(kWait).ok());
  node::v1::StatusResponse after = StatusOf(**p);
  EXPECT_EQ(after.height(), before.height());
  EXPECT_EQ(after.state_digest(), before.state_digest());
  EXPECT_EQ(after.last_block_hash(), before.last_block_hash());
  // The transfer made after the backup is gone; new ones commit on top.
  r = Transfer(**p, 2, h->chain_id);
  EXPECT_EQ(r.height(), before.height() + 1);
  // Both are in the node's hash-chained audit log, which still verifies.
  {
    std::ifstream in(h->dir + "/audit/audit-000001.log");
    std::stringstream audit;
    audit << in.rdbuf();
    EXPECT_NE(audit.str().find("\"node.backup\""), std::string::npos);
    EXPECT_NE(audit.str().find("\"node.restore\""), std::string::npos);
  }

  // Tampering: one flipped byte in a ledger file of a copy of the backup.
  const std::string copy = base + "/tampered";
  ASSERT_EQ(RunProgram({"/bin/cp", "-a", h->dir + "/backups/b1", copy}, &out),
            0)
      << out;
  std::string victim;
  for (const auto& e : std::filesystem::directory_iterator(copy + "/ledger")) {
    if (e.path().extension() == ".sst") victim = e.path().string();
  }
  ASSERT_FALSE(victim.empty());
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(10);
    f.put('\x5a');
  }
  EXPECT_EQ(
      RunProgram({Runfile("src/node/ve-node"), "backup", "verify", copy}, &out),
      1)
      << out;
  EXPECT_NE(out.find("does not match the manifest"), std::string::npos) << out;
}

}  // namespace
}  // namespace virtengine::testing
