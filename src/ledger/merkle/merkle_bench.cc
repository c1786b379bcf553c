// Google Benchmark of the ledger Merkle tree at 1e5 leaves: append
// throughput, root, proof generation and verification. Run:
//   bazel run -c opt //src/ledger/merkle:merkle_bench
// tools/bench.sh collects the figures into tests/load/results/.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "src/ledger/merkle/node_store.h"
#include "src/ledger/merkle/tree.h"
#include "src/ledger/merkle/verify.h"

namespace virtengine::ledger::merkle {
namespace {

constexpr uint64_t kLeaves = 100000;

// A 32-byte leaf (a transaction hash in the ledger) that varies with i.
std::array<uint8_t, 32> Leaf(uint64_t i) {
  std::array<uint8_t, 32> leaf{};
  for (int b = 0; b < 8; ++b) leaf[b] = static_cast<uint8_t>(i >> (8 * b));
  return leaf;
}

void Check(bool ok) {
  if (!ok) std::abort();
}

// A committed tree of kLeaves leaves, built once.
struct Fixture {
  MemoryNodeStore store;
  MerkleTree tree{&store};
  Fixture() {
    NodeBatch batch;
    for (uint64_t i = 0; i < kLeaves; ++i) {
      Check(tree.Append(Leaf(i), &batch).ok());
    }
    Check(store.Write(batch).ok());
  }
};

Fixture& Shared() {
  static Fixture* f = new Fixture();
  return *f;
}

// Builds a 1e5-leaf tree per iteration, committing a batch per "block" of
// state.range(0) leaves. Items = leaves appended.
void BM_Append(benchmark::State& state) {
  const auto block = static_cast<uint64_t>(state.range(0));
  for (auto _ : state) {
    MemoryNodeStore store;
    MerkleTree tree(&store);
    NodeBatch batch;
    for (uint64_t i = 0; i < kLeaves; ++i) {
      Check(tree.Append(Leaf(i), &batch).ok());
      if ((i + 1) % block == 0) {
        Check(store.Write(batch).ok());
        batch.clear();
      }
    }
    Check(store.Write(batch).ok());
    benchmark::DoNotOptimize(tree.Root());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kLeaves));
}
BENCHMARK(BM_Append)->Arg(1)->Arg(1000)->Unit(benchmark::kMillisecond);

// Append alone (no store writes), on a growing tree: the hashing cost.
void BM_AppendLeafHashOnly(benchmark::State& state) {
  MemoryNodeStore store;
  MerkleTree tree(&store);
  NodeBatch batch;
  uint64_t i = 0;
  for (auto _ : state) {
    batch.clear();
    Check(tree.Append(Leaf(i++), &batch).ok());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AppendLeafHashOnly);

void BM_Root(benchmark::State& state) {
  Fixture& f = Shared();
  for (auto _ : state) benchmark::DoNotOptimize(f.tree.Root());
}
BENCHMARK(BM_Root);

// Proofs at the current size (state.range(0) == 0) or at an older size
// (1: 3/4 of the tree, read from the store).
void BM_InclusionProof(benchmark::State& state) {
  Fixture& f = Shared();
  const uint64_t size = state.range(0) == 0 ? kLeaves : kLeaves * 3 / 4 + 1;
  uint64_t m = 0;
  for (auto _ : state) {
    auto proof = f.tree.InclusionProof(m, size);
    Check(proof.ok());
    benchmark::DoNotOptimize(proof);
    m = (m + 7919) % size;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InclusionProof)->Arg(0)->Arg(1);

void BM_ConsistencyProof(benchmark::State& state) {
  Fixture& f = Shared();
  uint64_t m = 1;
  for (auto _ : state) {
    auto proof = f.tree.ConsistencyProof(m, kLeaves);
    Check(proof.ok());
    benchmark::DoNotOptimize(proof);
    m = 1 + (m + 7919) % (kLeaves - 1);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ConsistencyProof);

void BM_VerifyInclusion(benchmark::State& state) {
  Fixture& f = Shared();
  const uint64_t m = kLeaves / 3;
  auto proof = f.tree.InclusionProof(m, kLeaves);
  auto leaf = f.tree.LeafHash(m);
  auto root = f.tree.Root();
  Check(proof.ok() && leaf.ok() && root.ok());
  for (auto _ : state) {
    absl::Status s = VerifyInclusion(*leaf, m, kLeaves, *proof, *root);
    Check(s.ok());
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyInclusion);

}  // namespace
}  // namespace virtengine::ledger::merkle
