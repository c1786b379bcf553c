// ve-node as a process: transfers over gRPC and vectl, refusals with
// precise statuses, receipts verified offline, the event stream, metrics,
// and SIGKILL under load without losing an acknowledged transaction.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "security/crypto/hash.h"
#include "src/api/bank/v1/bank.pb.h"
#include "src/api/tx/v1/tx.pb.h"
#include "src/cli/vectl.h"
#include "src/ledger/chain/ledger.h"
#include "src/ledger/tx/tx.h"
#include "tests/integration/node_process.h"
#include "tests/integration/vectl_run.h"
#include "tests/load/loadgen.h"

namespace virtengine::testing {
namespace {

namespace cv1 = ::virtengine::security::crypto::v1;
constexpr uint64_t kAmount = 1000000000;

std::string Hash(const std::string& raw) {
  auto h = crypto::Sha256(cv1::CONTENT_HASH, crypto::AsBytes(raw));
  return std::string(reinterpret_cast<const char*>(h->data()), h->size());
}

template <typename F>
grpc::Status Call(F f, int seconds = 30) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::seconds(seconds));
  return f(&ctx);
}

struct Account {
  crypto::Ed25519PrivateKey key;
  std::string address;
};

Account Acct(uint32_t i) {
  return Account{*loadgen::AccountKey(i), *loadgen::AccountAddress(i)};
}

bank::v1::QueryBalanceResponse Balance(NodeProcess& n,
                                       const std::string& addr) {
  bank::v1::QueryBalanceRequest req;
  req.set_address(addr);
  req.set_denom("uve");
  bank::v1::QueryBalanceResponse resp;
  grpc::Status s = Call([&](grpc::ClientContext* c) {
    return n.stub().QueryBalance(c, req, &resp);
  });
  EXPECT_TRUE(s.ok()) << s.error_message();
  return resp;
}

node::v1::StatusResponse NodeStatus(NodeProcess& n) {
  node::v1::StatusResponse r;
  EXPECT_TRUE(Call([&](grpc::ClientContext* c) {
                return n.stub().Status(c, {}, &r);
              }).ok());
  return r;
}

grpc::Status Submit(NodeProcess& n, const std::string& raw, bool wait,
                    node::v1::SubmitTxResponse* resp) {
  node::v1::SubmitTxRequest req;
  req.set_tx(raw);
  req.set_wait_for_commit(wait);
  return Call(
      [&](grpc::ClientContext* c) { return n.stub().SubmitTx(c, req, resp); });
}

// A signed tx with full control over its parts (for the refusal cases).
std::string BuildTx(
    const Account& from, const std::string& to, uint64_t amount, uint64_t seq,
    const std::string& chain_id, const std::string& memo = "",
    const std::string& type_url = "/virtengine.bank.v1.MsgSend") {
  bank::v1::MsgSend msg;
  msg.set_from_address(from.address);
  msg.set_to_address(to);
  msg.mutable_amount()->set_denom("uve");
  msg.mutable_amount()->set_amount(amount);
  tx::v1::TxBody body;
  google::protobuf::Any* any = body.add_messages();
  any->set_type_url(type_url);
  any->set_value(msg.SerializeAsString());
  body.set_memo(memo);
  tx::v1::AuthInfo auth;
  auth.set_public_key(
      std::string(crypto::AsChars(from.key.public_key().view())));
  auth.set_sequence(seq);
  auth.mutable_fee()->set_amount(1);
  auth.mutable_fee()->set_denom("uve");
  return *ledger::SignTx(body, auth, chain_id, from.key);
}

std::string HttpGet(const std::string& hostport, const std::string& path) {
  const size_t colon = hostport.rfind(':');
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(
      std::strtol(hostport.c_str() + colon + 1, nullptr, 10)));
  ::inet_pton(AF_INET, hostport.substr(0, colon).c_str(), &a.sin_addr);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) {
    const std::string req =
        absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: x\r\n\r\n");
    (void)!::write(fd, req.data(), req.size());
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof(buf))) > 0)
      out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// grpc.health.v1.Health/Check with an empty request (the whole server),
// through a generic stub: returns the serialised HealthCheckResponse.
std::string HealthCheck(const std::string& target) {
  grpc::GenericStub stub(
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Slice empty;
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(),
                 &request, &response,
                 [&done](const grpc::Status& s) { done.set_value(s); });
  if (!done.get_future().get().ok()) return "error";
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return "error";
  std::string out;
  for (const grpc::Slice& sl : slices) {
    out.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
  }
  return out;
}

int Vectl(const std::vector<std::string>& args, const std::string& vhome,
          const std::string& pass, const std::string& node, std::string* out) {
  const VectlRun r = RunVectlIn(vhome, pass, args, node);
  *out = r.out + r.err;
  return r.code;
}

TEST(NodeIntegrationTest, TransfersRefusalsReceiptsEventsVectl) {
  const std::string base = TestDir("transfers");
  // A vectl key store with a key funded at genesis.
  const std::string vhome = base + "/vectl";
  const std::string vpass = base + "/vectl.pass";
  ::mkdir(vhome.c_str(), 0700);
  std::ofstream(vpass) << "vectl integration pass\n";
  ::chmod(vpass.c_str(), 0600);
  std::string out;
  ASSERT_EQ(Vectl({"keys", "add", "alice"}, vhome, vpass, "", &out), 0) << out;
  ASSERT_EQ(
      Vectl({"keys", "show", "alice", "--address"}, vhome, vpass, "", &out), 0)
      << out;
  const std::string alice = out.substr(0, out.find('\n'));

  absl::StatusOr<NodeHome> home = InitNode(base, 4, {alice}, kAmount);
  ASSERT_TRUE(home.ok()) << home.status();
  auto node = NodeProcess::Start(*home);
  ASSERT_TRUE(node.ok()) << node.status();
  NodeProcess& n = **node;
  ASSERT_TRUE(n.WaitReady(60).ok()) << n.WaitReady(1);

  const Account a0 = Acct(0), a1 = Acct(1);
  node::v1::StatusResponse st = NodeStatus(n);
  EXPECT_EQ(st.chain_id(), "itest");
  EXPECT_EQ(st.height(), 0u);  // no empty blocks while idle

  // A transfer, waited for.
  node::v1::SubmitTxResponse resp;
  const std::string tx1 = BuildTx(a0, a1.address, 100, 0, "itest", "first");
  grpc::Status s = Submit(n, tx1, true, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.result().code(), 0u) << resp.result().log();
  EXPECT_GE(resp.height(), 1u);
  EXPECT_EQ(resp.tx_hash(), Hash(tx1));
  EXPECT_EQ(Balance(n, a1.address).balance().amount(), kAmount + 100);
  const bank::v1::QueryBalanceResponse before = Balance(n, a0.address);
  EXPECT_EQ(before.balance().amount(), kAmount - 100 - 1);
  EXPECT_EQ(before.sequence(), 1u);

  // The receipt verifies offline against the node key from Status.
  node::v1::GetReceiptRequest rreq;
  rreq.set_tx_hash(Hash(tx1));
  node::v1::GetReceiptResponse rresp;
  ASSERT_TRUE(Call([&](grpc::ClientContext* c) {
                return n.stub().GetReceipt(c, rreq, &rresp);
              }).ok());
  st = NodeStatus(n);
  EXPECT_TRUE(
      ledger::VerifyReceipt(rresp.receipt(), st.node_public_key()).ok());

  // Refusals: each precise, none writes anything.
  struct Case {
    const char* name;
    std::string raw;
    grpc::StatusCode code;
  };
  std::string forged = BuildTx(a0, a1.address, 5, 1, "itest");
  {
    tx::v1::TxRaw r;
    r.ParseFromString(forged);
    std::string sig = r.signature();
    sig[10] ^= 1;
    r.set_signature(sig);
    forged = r.SerializeAsString();
  }
  std::string unsigned_tx;
  {
    tx::v1::TxRaw r;
    r.ParseFromString(BuildTx(a0, a1.address, 5, 1, "itest"));
    r.clear_signature();
    unsigned_tx = r.SerializeAsString();
  }
  const std::vector<Case> cases = {
      {"replayed tx", tx1, grpc::StatusCode::FAILED_PRECONDITION},
      {"forged signature", forged, grpc::StatusCode::UNAUTHENTICATED},
      {"missing signature", unsigned_tx, grpc::StatusCode::INVALID_ARGUMENT},
      {"wrong chain id", BuildTx(a0, a1.address, 5, 1, "other-chain"),
       grpc::StatusCode::UNAUTHENTICATED},
      {"unknown message type",
       BuildTx(a0, a1.address, 5, 1, "itest", "", "/virtengine.nope.v1.MsgX"),
       grpc::StatusCode::INVALID_ARGUMENT},
      {"oversize tx",
       BuildTx(a0, a1.address, 5, 1, "itest", std::string(70000, 'm')),
       grpc::StatusCode::INVALID_ARGUMENT},
      {"non-UTF-8 memo", BuildTx(a0, a1.address, 5, 1, "itest", "\xff\xfe"),
       grpc::StatusCode::INVALID_ARGUMENT},
      {"sequence gap", BuildTx(a0, a1.address, 5, 7, "itest"),
       grpc::StatusCode::FAILED_PRECONDITION},
      {"insufficient funds", BuildTx(a0, a1.address, kAmount * 2, 1, "itest"),
       grpc::StatusCode::FAILED_PRECONDITION},
      {"garbage", std::string("\x0a\xff\xff\xff\xff", 5),
       grpc::StatusCode::INVALID_ARGUMENT},
  };
  for (const Case& c : cases) {
    node::v1::SubmitTxResponse r;
    grpc::Status got = Submit(n, c.raw, false, &r);
    EXPECT_EQ(got.error_code(), c.code)
        << c.name << ": " << got.error_message();
    EXPECT_FALSE(got.error_message().empty()) << c.name;
  }
  // A request over the API's size limit is refused by the transport.
  {
    node::v1::SubmitTxResponse r;
    grpc::Status got = Submit(n, std::string(5 << 20, 'x'), false, &r);
    EXPECT_EQ(got.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
        << got.error_message();
  }
  const bank::v1::QueryBalanceResponse after = Balance(n, a0.address);
  EXPECT_EQ(after.balance().amount(), before.balance().amount());
  EXPECT_EQ(after.sequence(), before.sequence());
  EXPECT_EQ(NodeStatus(n).height(), st.height());

  // vectl against the running node.
  ASSERT_EQ(
      Vectl({"status", "--output", "json"}, vhome, vpass, home->grpc, &out), 0)
      << out;
  EXPECT_NE(out.find("itest"), std::string::npos) << out;
  ASSERT_EQ(Vectl({"tx", "bank", "send", "alice", a1.address, "7uve", "--wait"},
                  vhome, vpass, home->grpc, &out),
            0)
      << out;
  ASSERT_EQ(Vectl({"query", "bank", "balance", a1.address, "--output", "json"},
                  vhome, vpass, home->grpc, &out),
            0)
      << out;
  EXPECT_NE(out.find(absl::StrCat(kAmount + 107)), std::string::npos) << out;
  // vectl refuses what the node refuses, with exit 1 and the reason.
  EXPECT_EQ(Vectl({"tx", "bank", "send", "alice", a1.address,
                   absl::StrCat(kAmount * 3, "uve")},
                  vhome, vpass, home->grpc, &out),
            1);
  EXPECT_NE(out.find("insufficient funds"), std::string::npos) << out;

  // Events from height 1: both transfers, in order; resumable.
  const uint64_t h = NodeStatus(n).height();
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(10));
    node::v1::StreamEventsRequest req;
    req.set_from_height(1);
    auto reader = n.stub().StreamEvents(&ctx, req);
    std::vector<ledger::v1::Event> events;
    ledger::v1::Event e;
    while (events.size() < 2 && reader->Read(&e)) events.push_back(e);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].tx_hash(), Hash(tx1));
    bank::v1::EventTransfer t;
    ASSERT_TRUE(events[1].body().UnpackTo(&t));
    EXPECT_EQ(t.from_address(), alice);
    EXPECT_EQ(t.amount().amount(), 7u);
    ctx.TryCancel();
  }
  {
    // Resuming after the last seen height delivers only what came later.
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(20));
    node::v1::StreamEventsRequest req;
    req.set_from_height(h + 1);
    auto reader = n.stub().StreamEvents(&ctx, req);
    const std::string tx3 = BuildTx(a0, a1.address, 3, 1, "itest");
    ASSERT_TRUE(Submit(n, tx3, false, &resp).ok());
    ledger::v1::Event e;
    ASSERT_TRUE(reader->Read(&e));
    EXPECT_EQ(e.tx_hash(), Hash(tx3));
    EXPECT_GT(e.height(), h);
    ctx.TryCancel();
  }

  // grpc.health.v1: SERVING (field 1 = 1).
  EXPECT_EQ(HealthCheck(home->grpc), std::string("\x08\x01", 2));

  // Metrics.
  const std::string metrics = HttpGet(home->metrics, "/metrics");
  EXPECT_NE(metrics.find("virtengine_store_rocksdb_bytes{property=\"rocksdb."
                         "total-sst-files-size\"}"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("virtengine_ledger_height_blocks"), std::string::npos)
      << metrics;
  EXPECT_NE(
      metrics.find("virtengine_checktx_rejections_total{reason=\"signature\"}"),
      std::string::npos);

  EXPECT_EQ(n.Terminate(), 0);
}

TEST(NodeIntegrationTest, SigkillUnderLoadLosesNoAcknowledgedTx) {
  constexpr uint32_t kAccounts = 16;
  constexpr int kThreads = 4;
  constexpr int kCycles = 3;
  const std::string base = TestDir("sigkill");
  absl::StatusOr<NodeHome> home = InitNode(base, kAccounts, {}, kAmount);
  ASSERT_TRUE(home.ok()) << home.status();
  std::vector<Account> accts;
  for (uint32_t i = 0; i < kAccounts; ++i) accts.push_back(Acct(i));

  absl::Mutex mu;
  std::set<std::string> acknowledged;  // committed, as the node told us
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    auto node = NodeProcess::Start(*home);
    ASSERT_TRUE(node.ok());
    NodeProcess& n = **node;
    ASSERT_TRUE(n.WaitReady(60).ok()) << "cycle " << cycle;
    std::atomic<bool> stop{false};
    std::atomic<int> acked_this_cycle{0};
    std::vector<std::thread> load;
    load.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      load.emplace_back([&, t] {
        auto stub = node::v1::Node::NewStub(grpc::CreateChannel(
            home->grpc, grpc::InsecureChannelCredentials()));
        for (uint32_t round = 0; !stop.load(); ++round) {
          // Each thread owns accounts t, t+kThreads, ...; it re-reads their
          // sequences each round (a killed node may have committed more).
          node::v1::SubmitTxBatchRequest req;
          req.set_wait_for_commit(true);
          for (uint32_t a = static_cast<uint32_t>(t); a < kAccounts;
               a += kThreads) {
            bank::v1::QueryBalanceRequest q;
            q.set_address(accts[a].address);
            q.set_denom("uve");
            bank::v1::QueryBalanceResponse b;
            grpc::ClientContext qc;
            qc.set_deadline(std::chrono::system_clock::now() +
                            std::chrono::seconds(5));
            if (!stub->QueryBalance(&qc, q, &b).ok()) return;  // node gone
            for (uint64_t k = 0; k < 10; ++k) {
              req.add_txs(BuildTx(accts[a], accts[(a + 1) % kAccounts].address,
                                  1, b.sequence() + k, "itest"));
            }
          }
          node::v1::SubmitTxBatchResponse resp;
          grpc::ClientContext ctx;
          ctx.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(30));
          if (!stub->SubmitTxBatch(&ctx, req, &resp).ok()) return;
          absl::MutexLock l(&mu);
          for (int i = 0; i < resp.results_size(); ++i) {
            const auto& r = resp.results(i);
            if (r.result().code() == 0 && r.height() > 0) {
              acknowledged.insert(r.tx_hash());
              acked_this_cycle.fetch_add(1);
            }
          }
        }
      });
    }
    // Kill once this cycle has acknowledged commits (bounded wait), while
    // the load is still running.
    for (int i = 0; i < 600 && acked_this_cycle.load() < 200; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    n.Kill();
    stop.store(true);
    for (std::thread& t : load) t.join();
    EXPECT_GT(acked_this_cycle.load(), 0) << "cycle " << cycle;
  }

  // Restart once more and audit the chain.
  auto node = NodeProcess::Start(*home);
  ASSERT_TRUE(node.ok());
  NodeProcess& n = **node;
  ASSERT_TRUE(n.WaitReady(60).ok());
  const uint64_t height = NodeStatus(n).height();
  std::map<std::string, int> seen;
  for (uint64_t h = 1; h <= height; ++h) {
    node::v1::GetBlockRequest req;
    req.set_height(h);
    node::v1::GetBlockResponse resp;
    ASSERT_TRUE(Call([&](grpc::ClientContext* c) {
                  return n.stub().GetBlock(c, req, &resp);
                }).ok());
    for (const std::string& raw : resp.block().txs()) ++seen[Hash(raw)];
  }
  ASSERT_FALSE(acknowledged.empty());
  for (const std::string& h : acknowledged) {
    ASSERT_EQ(seen[h], 1) << "acknowledged tx " << ledger::HexOf([&] {
      crypto::Digest32 d{};
      std::copy(h.begin(), h.end(), d.begin());
      return d;
    }()) << " is in the chain "
                          << seen[h] << " times";
  }
  for (const auto& [h, count] : seen) ASSERT_EQ(count, 1);
  // Supply invariant: every coin is in an account or the fee collector.
  uint64_t total = Balance(n, "module:fee_collector").balance().amount();
  for (const Account& a : accts)
    total += Balance(n, a.address).balance().amount();
  EXPECT_EQ(total, kAmount * kAccounts);
  EXPECT_EQ(n.Terminate(), 0);
}

}  // namespace
}  // namespace virtengine::testing
