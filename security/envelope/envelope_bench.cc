// Google Benchmark of envelope sealing and opening at 1 KiB and 1 MiB with 1
// and 5 recipients. Run:
//   bazel run -c opt //security/envelope:envelope_bench --
//     --benchmark_min_time=0.05
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <vector>

#include "security/crypto/random.h"
#include "security/envelope/envelope.h"

namespace virtengine::envelope {
namespace {

struct Setup {
  std::vector<EnvelopePrivateKey> keys;
  std::vector<EnvelopeRecipientKey> pubs;
  Bytes plain;

  Setup(size_t size, size_t recipients) : plain(crypto::RandomBytes(size)) {
    for (size_t i = 0; i < recipients; ++i) {
      auto k = EnvelopePrivateKey::Generate();
      if (!k.ok()) std::abort();
      pubs.push_back(k->public_key());
      keys.push_back(std::move(*k));
    }
  }
};

void BM_Seal(benchmark::State& state) {
  Setup s(static_cast<size_t>(state.range(0)),
          static_cast<size_t>(state.range(1)));
  for (auto _ : state) {
    auto env = Seal(s.plain, s.pubs);
    if (!env.ok()) std::abort();
    benchmark::DoNotOptimize(env->data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          state.range(0));
}

// Opens with the last recipient's key (its entry is found last).
void BM_Open(benchmark::State& state) {
  Setup s(static_cast<size_t>(state.range(0)),
          static_cast<size_t>(state.range(1)));
  auto env = Seal(s.plain, s.pubs);
  if (!env.ok()) std::abort();
  for (auto _ : state) {
    auto out = Open(*env, s.keys.back());
    if (!out.ok()) std::abort();
    benchmark::DoNotOptimize(out->data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          state.range(0));
}

void Sizes(benchmark::internal::Benchmark* b) {
  for (int64_t size : {int64_t{1} << 10, int64_t{1} << 20}) {
    for (int64_t recipients : {1, 5}) b->Args({size, recipients});
  }
  b->ArgNames({"bytes", "recipients"});
}

BENCHMARK(BM_Seal)->Apply(Sizes);
BENCHMARK(BM_Open)->Apply(Sizes);

}  // namespace
}  // namespace virtengine::envelope
