// Google Benchmark of the crypto primitives on the hot paths. Run:
//   bazel run -c opt //security/crypto:crypto_bench
// tools/bench.sh collects the figures into tests/load/results/.
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "security/crypto/ed25519.h"
#include "security/crypto/hash.h"
#include "security/crypto/random.h"

namespace virtengine::crypto {
namespace {

namespace v1 = ::virtengine::security::crypto::v1;

void BM_Ed25519Sign(benchmark::State& state) {
  auto key = Ed25519PrivateKey::Generate(v1::TX_SIGNATURE);
  if (!key.ok()) std::abort();
  Bytes msg = RandomBytes(200);
  for (auto _ : state) benchmark::DoNotOptimize(key->Sign(msg));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Ed25519Sign);

void BM_Ed25519Verify(benchmark::State& state) {
  auto key = Ed25519PrivateKey::Generate(v1::TX_SIGNATURE);
  if (!key.ok()) std::abort();
  Bytes msg = RandomBytes(200);
  auto sig = key->Sign(msg);
  if (!sig.ok()) std::abort();
  for (auto _ : state) {
    benchmark::DoNotOptimize(key->public_key().Verify(
        v1::TX_SIGNATURE, msg, ByteView(sig->data(), sig->size())));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Ed25519Verify);

void BM_Sha256(benchmark::State& state) {
  Bytes msg = RandomBytes(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(Sha256(v1::MERKLE, msg));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Sha256)->Arg(64)->Arg(1024);

}  // namespace
}  // namespace virtengine::crypto
