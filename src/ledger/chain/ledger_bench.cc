// Per-transaction cost of the ledger's pipeline on signed transfers:
// PreCheckTx (decode + Ed25519 verify; thread-safe part), AdmitTx (sequence,
// fee, gate, dry-run on the check state) and ProposeBlock + ApplyBlock of
// 100-transfer blocks (execution, trees, digest, header signing, one synced
// RocksDB batch). items_per_second is transactions per second.
//
//   bazel run -c opt //src/ledger/chain:ledger_bench --
//     --benchmark_out=/tmp/ledger_bench.json --benchmark_out_format=json
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "src/ledger/chain/ledger.h"
#include "src/ledger/chain/ledger_test_util.h"

namespace virtengine::ledger {
namespace {

using test_util::Account;

constexpr int kAccounts = 256;
constexpr int kBlockTxs = 100;

std::string NewDir() {
  std::string tmpl =
      (std::filesystem::temp_directory_path() / "ve-ledger-bench-XXXXXX")
          .string();
  if (mkdtemp(tmpl.data()) == nullptr) std::abort();
  return tmpl;
}

struct Fixture {
  Fixture() : dir(NewDir()), signer(test_util::NewSigner()) {
    for (int i = 0; i < kAccounts; ++i) {
      accounts.push_back(std::make_unique<Account>(test_util::NewAccount()));
    }
    std::vector<const Account*> funded;
    funded.reserve(accounts.size());
    for (const auto& a : accounts) funded.push_back(a.get());
    auto l = Ledger::Open(dir + "/db");
    if (!l.ok()) std::abort();
    ledger = *std::move(l);
    if (!ledger->InitGenesis(test_util::MakeGenesis(funded, 1'000'000'000))
             .ok()) {
      std::abort();
    }
  }
  ~Fixture() {
    ledger.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  Fixture(const Fixture&) = delete;
  Fixture& operator=(const Fixture&) = delete;

  // One transfer from each of the first `n` accounts, at their next sequence.
  std::vector<std::string> Transfers(int n) {
    std::vector<std::string> out;
    out.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      Account& from = *accounts[static_cast<size_t>(i) % accounts.size()];
      const Account& to =
          *accounts[(static_cast<size_t>(i) + 1) % accounts.size()];
      out.push_back(test_util::Send(from, to.address, 1));
    }
    return out;
  }

  std::string dir;
  std::unique_ptr<KeyBlockSigner> signer;
  std::vector<std::unique_ptr<Account>> accounts;
  std::unique_ptr<Ledger> ledger;
};

void BM_PreCheckTx(benchmark::State& state) {
  Fixture f;
  const std::vector<std::string> raws = f.Transfers(kAccounts);
  size_t i = 0;
  for (auto _ : state) {
    auto tx = f.ledger->PreCheckTx(raws[i++ % raws.size()]);
    if (!tx.ok()) state.SkipWithError("PreCheckTx failed");
    benchmark::DoNotOptimize(tx);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PreCheckTx)->Unit(benchmark::kMicrosecond);

void BM_AdmitTx(benchmark::State& state) {
  Fixture f;
  std::vector<DecodedTx> txs;
  for (const std::string& r : f.Transfers(kAccounts)) {
    txs.push_back(*f.ledger->PreCheckTx(r));
  }
  size_t i = 0;
  for (auto _ : state) {
    if (i == txs.size()) {
      // Every account admitted once: start over from committed state.
      state.PauseTiming();
      f.ledger->ResetCheckState();
      i = 0;
      state.ResumeTiming();
    }
    if (!f.ledger->AdmitTx(txs[i++]).ok()) state.SkipWithError("AdmitTx");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AdmitTx)->Unit(benchmark::kMicrosecond);

void BM_ProposeApply(benchmark::State& state) {
  Fixture f;
  uint64_t index = 0;
  int64_t time = 2000;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<DecodedTx> txs;
    for (const std::string& r : f.Transfers(kBlockTxs)) {
      txs.push_back(*f.ledger->PreCheckTx(r));
    }
    state.ResumeTiming();
    auto block = f.ledger->ProposeBlock(txs, time++, *f.signer);
    if (!block.ok() ||
        !f.ledger->ApplyBlock(block->SerializeAsString(), ++index).ok()) {
      state.SkipWithError("propose/apply failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kBlockTxs);
  state.counters["txs_per_block"] = kBlockTxs;
}
BENCHMARK(BM_ProposeApply)->Unit(benchmark::kMillisecond);

// A follower's cost: ApplyBlock of a block another ledger proposed
// (re-execution without client signature checks).
void BM_FollowerApply(benchmark::State& state) {
  Fixture leader;
  Fixture follower;
  // Same genesis: the follower funds the leader's accounts.
  follower.ledger.reset();
  std::filesystem::remove_all(follower.dir + "/db");
  {
    auto l = Ledger::Open(follower.dir + "/db");
    if (!l.ok()) std::abort();
    follower.ledger = *std::move(l);
    std::vector<const Account*> funded;
    for (const auto& a : leader.accounts) funded.push_back(a.get());
    if (!follower.ledger
             ->InitGenesis(test_util::MakeGenesis(funded, 1'000'000'000))
             .ok()) {
      std::abort();
    }
  }
  uint64_t index = 0;
  int64_t time = 2000;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<DecodedTx> txs;
    for (const std::string& r : leader.Transfers(kBlockTxs)) {
      txs.push_back(*leader.ledger->PreCheckTx(r));
    }
    auto block = leader.ledger->ExecuteBlock(txs, time++, *leader.signer);
    if (!block.ok()) std::abort();
    const std::string bytes = block->SerializeAsString();
    state.ResumeTiming();
    if (!follower.ledger->ApplyBlock(bytes, ++index).ok()) {
      state.SkipWithError("follower apply failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kBlockTxs);
}
BENCHMARK(BM_FollowerApply)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace virtengine::ledger
