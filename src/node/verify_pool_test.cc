#include "src/node/verify_pool.h"

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace virtengine::node {
namespace {

TEST(VerifyPoolTest, RunsEveryIndexExactlyOnce) {
  VerifyPool pool(3);
  std::vector<std::atomic<int>> hits(5000);
  pool.ParallelFor(hits.size(), [&](size_t i) { hits[i].fetch_add(1); });
  for (const auto& h : hits) ASSERT_EQ(h.load(), 1);
}

TEST(VerifyPoolTest, UsesPoolThreads) {
  VerifyPool pool(2);
  absl::Mutex mu;
  std::set<std::thread::id> seen;
  std::atomic<int> in_flight{0};
  // Each call waits until another index runs at the same time (or gives up
  // after many spins), so more than one thread must take part.
  pool.ParallelFor(64, [&](size_t) {
    in_flight.fetch_add(1);
    for (int spin = 0; spin < 1000000 && in_flight.load() < 2; ++spin) {
      std::this_thread::yield();
    }
    absl::MutexLock l(&mu);
    seen.insert(std::this_thread::get_id());
    in_flight.fetch_sub(1);
  });
  EXPECT_GE(seen.size(), 2u);
}

TEST(VerifyPoolTest, ConcurrentCallersAndZeroThreads) {
  VerifyPool pool(2);
  std::atomic<long> total{0};
  std::vector<std::thread> callers;
  callers.reserve(4);
  for (int c = 0; c < 4; ++c) {
    callers.emplace_back([&] {
      for (int round = 0; round < 50; ++round) {
        pool.ParallelFor(
            100, [&](size_t i) { total.fetch_add(static_cast<long>(i)); });
      }
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(total.load(), 4L * 50 * (99 * 100 / 2));
  VerifyPool none(0);
  int n = 0;
  none.ParallelFor(10, [&](size_t) { ++n; });
  EXPECT_EQ(n, 10);
  none.ParallelFor(0, [&](size_t) { ++n; });
  EXPECT_EQ(n, 10);
}

}  // namespace
}  // namespace virtengine::node
