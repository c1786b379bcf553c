// Fuzzes the cluster and governance modules' message handlers through the
// real ledger pipeline (CheckTx, then a block that commits): the first byte
// picks the message type and the signer (an operator/member, or an
// outsider), the rest is the message's protobuf bytes. State carries over
// between inputs (proposals, then votes on them) and is reset every 256
// inputs. Invariants: never crash; after every block the module invariants
// hold, the cluster keeps at least one voter and the gov parameters parse;
// a refused tx changes nothing (same state digest).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "google/protobuf/any.pb.h"
#include "security/crypto/ed25519.h"
#include "security/crypto/secret_bytes.h"
#include "src/api/cluster/v1/cluster.pb.h"
#include "src/api/gov/v1/gov.pb.h"
#include "src/api/tx/v1/tx.pb.h"
#include "src/ledger/chain/ledger.h"
#include "src/ledger/tx/tx.h"
#include "src/modules/cluster/cluster.h"
#include "src/modules/gov/gov.h"

namespace {

namespace cv1 = ::virtengine::security::crypto::v1;
namespace crypto = ::virtengine::crypto;
namespace ledger = ::virtengine::ledger;
namespace cluster = ::virtengine::cluster;
namespace gov = ::virtengine::gov;

constexpr char kChain[] = "virtengine-fuzz-gov";
constexpr int kAccounts = 4;  // 0..2 operators and members, 3 an outsider
constexpr int kResetEvery = 256;
const char* const kTypes[] = {"/virtengine.cluster.v1.MsgAddNode",
                              "/virtengine.cluster.v1.MsgSetNodeRole",
                              "/virtengine.cluster.v1.MsgRemoveNode",
                              "/virtengine.gov.v1.MsgSubmitProposal",
                              "/virtengine.gov.v1.MsgVote"};

void Check(bool ok, const char* what) {
  if (!ok) {
    (void)std::fprintf(stderr, "governance_msgs invariant broken: %s\n", what);
    std::abort();
  }
}

struct Env {
  std::string dir;
  std::unique_ptr<ledger::Ledger> ledger;
  std::vector<crypto::Ed25519PrivateKey> keys;
  std::vector<std::string> addresses;
  std::vector<uint64_t> seq;
  std::unique_ptr<ledger::KeyBlockSigner> signer;
  int inputs = 0;
  int64_t time = 1000;
};
Env* env = nullptr;

crypto::Ed25519PrivateKey Key(uint8_t n, cv1::Purpose purpose) {
  uint8_t seed[32] = {};  // fuzz fixture keys, generated here, never shipped
  seed[0] = n;
  seed[31] = 0x5a;
  auto k = crypto::Ed25519PrivateKey::FromSeed(
      purpose, crypto::SecretBytes::CopyFrom(crypto::ByteView(seed, 32)));
  if (!k.ok()) std::abort();
  return *std::move(k);
}

void Fresh() {
  if (env->ledger != nullptr) {
    env->ledger.reset();
    std::error_code ec;
    std::filesystem::remove_all(env->dir, ec);
  }
  const char* t = std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  env->dir = std::string(t != nullptr ? t : "/tmp") + "/governance_msgs_" +
             std::to_string(env->inputs);
  ledger::LedgerOptions o;
  o.store.sync_writes = false;
  o.extra_modules.push_back(std::make_shared<cluster::ClusterModule>());
  o.extra_modules.push_back(std::make_shared<gov::GovModule>());
  auto l = ledger::Ledger::Open(env->dir, o);
  Check(l.ok(), "open");
  env->ledger = *std::move(l);
  ledger::Genesis g;
  g.chain_id = kChain;
  g.genesis_time_unix_nano = 1000;
  g.bank.set_fee_denom("uve");
  g.bank.set_min_fee(1);
  cluster::v1::GenesisState cg;
  gov::v1::GenesisState gg;
  for (int i = 0; i < kAccounts; ++i) {
    auto* b = g.bank.add_balances();
    b->set_address(env->addresses[static_cast<size_t>(i)]);
    auto* c = b->add_coins();
    c->set_denom("uve");
    c->set_amount(1'000'000'000);
    if (i < 3) {
      cg.add_operators(env->addresses[static_cast<size_t>(i)]);
      gg.add_members(env->addresses[static_cast<size_t>(i)]);
    }
  }
  cluster::v1::Member* m = cg.add_members();
  m->set_raft_id(1);
  m->set_raft_address("127.0.0.1:26656");
  m->set_node_public_key(std::string(32, 'k'));
  m->set_voter(true);
  gg.mutable_params()->set_voting_period_blocks(50);
  g.modules["cluster"] = cg.SerializeAsString();
  g.modules["gov"] = gg.SerializeAsString();
  Check(env->ledger->InitGenesis(g).ok(), "genesis");
  env->seq.assign(kAccounts, 0);
}

void CheckState() {
  const ledger::Ledger& l = *env->ledger;
  Check(l.CheckInvariants().ok(), "module invariants");
  auto members = l.Query("cluster", "members", "");
  Check(members.ok(), "cluster members query");
  virtengine::cluster::v1::QueryMembersResponse mr;
  Check(mr.ParseFromString(*members), "cluster members parse");
  bool voter = false;
  for (const auto& m : mr.members()) voter = voter || m.voter();
  Check(voter, "the cluster kept a voter");
  auto params = l.Query("gov", "params", "");
  Check(params.ok(), "gov params query");
  virtengine::gov::v1::QueryParamsResponse pr;
  Check(pr.ParseFromString(*params) && pr.members_size() >= 1,
        "gov params and members");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (env == nullptr) {
    env = new Env();
    for (int i = 0; i < kAccounts; ++i) {
      env->keys.push_back(Key(static_cast<uint8_t>(i + 1), cv1::TX_SIGNATURE));
      env->addresses.push_back(
          ledger::AddressFromPublicKey(env->keys.back().public_key()));
    }
    env->signer =
        std::make_unique<ledger::KeyBlockSigner>(Key(99, cv1::NODE_SIGNATURE));
  }
  if (env->inputs++ % kResetEvery == 0) Fresh();
  if (size < 1 || size > 16384) return 0;
  const size_t type = data[0] % 5;
  const size_t who = (data[0] / 5) % kAccounts;
  google::protobuf::Any any;
  any.set_type_url(kTypes[type]);
  any.set_value(std::string(reinterpret_cast<const char*>(data + 1), size - 1));
  virtengine::tx::v1::TxBody body;
  *body.add_messages() = any;
  virtengine::tx::v1::AuthInfo auth;
  auth.set_public_key(
      std::string(crypto::AsChars(env->keys[who].public_key().view())));
  auth.set_sequence(env->seq[who]);
  auth.mutable_fee()->set_denom("uve");
  auth.mutable_fee()->set_amount(1);
  auto raw = ledger::SignTx(body, auth, kChain, env->keys[who]);
  if (!raw.ok()) return 0;  // e.g. over a size limit
  ledger::Ledger& l = *env->ledger;
  const crypto::Digest32 before = l.state_digest();
  auto tx = l.CheckTx(*raw);
  if (!tx.ok()) {
    l.ResetCheckState();
    Check(l.state_digest() == before, "a refused tx changed the state");
    return 0;
  }
  auto block = l.ExecuteBlock({*tx}, ++env->time, *env->signer);
  Check(block.ok(), "an admitted tx's block commits");
  ++env->seq[who];  // admitted: the sequence is consumed whatever the code
  CheckState();
  return 0;
}
