// Shared by the cluster and gov module tests: a real ledger (RocksDB under
// TEST_TMPDIR) with the cluster and gov modules, running one signed tx per
// block.
#ifndef VIRTENGINE_SRC_MODULES_CLUSTER_TEST_UTIL_H_
#define VIRTENGINE_SRC_MODULES_CLUSTER_TEST_UTIL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "google/protobuf/any.pb.h"
#include "gtest/gtest.h"
#include "src/api/cluster/v1/cluster.pb.h"
#include "src/api/gov/v1/gov.pb.h"
#include "src/ledger/chain/ledger.h"
#include "src/ledger/chain/ledger_test_util.h"
#include "src/modules/cluster/cluster.h"
#include "src/modules/gov/gov.h"

namespace virtengine::cluster::test_util {

template <typename M>
google::protobuf::Any Pack(const M& m) {
  google::protobuf::Any any;
  any.PackFrom(m, "/");
  return any;
}

// A cluster genesis member whose node key is 32 bytes of `key`.
inline v1::Member Member(uint64_t id, const std::string& raft_address, char key,
                         bool voter) {
  v1::Member m;
  m.set_raft_id(id);
  m.set_raft_address(raft_address);
  m.set_grpc_address("127.0.0.1:9090");
  m.set_node_public_key(std::string(32, key));
  m.set_voter(voter);
  return m;
}

class ModulesTest : public ::testing::Test {
 protected:
  // Opens a fresh ledger (one directory per call) with the cluster and gov
  // modules; `funded` get genesis balances. Check with ASSERT_NO_FATAL_FAILURE.
  void OpenLedger(const std::string& name,
                  const std::vector<const ledger::test_util::Account*>& funded,
                  const v1::GenesisState& cluster_genesis,
                  const gov::v1::GenesisState& gov_genesis) {
    ledger::LedgerOptions o;
    o.extra_modules.push_back(std::make_shared<ClusterModule>());
    o.extra_modules.push_back(std::make_shared<gov::GovModule>());
    static int n = 0;
    auto l = ledger::Ledger::Open(
        ledger::test_util::TempDir(name + "_" + std::to_string(n++)), o);
    ASSERT_TRUE(l.ok()) << l.status();
    ledger_ = *std::move(l);
    ledger::Genesis g = ledger::test_util::MakeGenesis(funded);
    g.modules["cluster"] = cluster_genesis.SerializeAsString();
    g.modules["gov"] = gov_genesis.SerializeAsString();
    absl::Status s = ledger_->InitGenesis(g);
    ASSERT_TRUE(s.ok()) << s;
    signer_ = ledger::test_util::NewSigner();
  }

  // Runs one tx in its own block; returns its result code and log.
  std::pair<uint32_t, std::string> Run(ledger::test_util::Account& from,
                                       const google::protobuf::Any& msg) {
    auto tx = ledger_->PreCheckTx(ledger::test_util::SignedTx(from, {msg}));
    EXPECT_TRUE(tx.ok()) << tx.status();
    if (!tx.ok()) return {~0u, tx.status().ToString()};
    auto b = ledger_->ExecuteBlock({*tx}, 2000 + (t_++), *signer_);
    EXPECT_TRUE(b.ok()) << b.status();
    if (!b.ok()) return {~0u, b.status().ToString()};
    return {b->results(0).code(), b->results(0).log()};
  }

  // The cluster module's "members" query.
  v1::QueryMembersResponse QueryMembers() {
    auto r = ledger_->Query("cluster", "members", "");
    EXPECT_TRUE(r.ok()) << r.status();
    v1::QueryMembersResponse resp;
    EXPECT_TRUE(r.ok() && resp.ParseFromString(*r));
    return resp;
  }

  std::vector<v1::Member> Members() {
    v1::QueryMembersResponse resp = QueryMembers();
    return {resp.members().begin(), resp.members().end()};
  }

  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<ledger::KeyBlockSigner> signer_;
  int64_t t_ = 0;
};

}  // namespace virtengine::cluster::test_util

#endif  // VIRTENGINE_SRC_MODULES_CLUSTER_TEST_UTIL_H_
