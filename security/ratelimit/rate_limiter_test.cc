#include "security/ratelimit/rate_limiter.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "security/ratelimit/clock.h"

namespace virtengine::ratelimit {
namespace {

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

std::unique_ptr<RateLimiter> Make(const RateLimiterOptions& o, Clock* clock) {
  auto r = RateLimiter::Create(o, clock);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *std::move(r) : nullptr;
}

RateLimiterOptions Opts(uint64_t capacity, uint64_t refill_tokens,
                        absl::Duration period, size_t max_keys = 1000) {
  RateLimiterOptions o;
  o.capacity = capacity;
  o.refill_tokens = refill_tokens;
  o.refill_period = period;
  o.max_keys = max_keys;
  return o;
}

TEST(RateLimiterTest, RejectsBadOptions) {
  ManualClock clock;
  RateLimiterOptions o;
  o.capacity = 0;
  EXPECT_EQ(Msg(RateLimiter::Create(o, &clock).status()),
            "ratelimit: capacity 0 is outside 1..1099511627776");
  o = RateLimiterOptions();
  o.refill_tokens = kMaxTokens + 1;
  EXPECT_EQ(Msg(RateLimiter::Create(o, &clock).status()),
            "ratelimit: refill_tokens 1099511627777 is outside "
            "1..1099511627776");
  o = RateLimiterOptions();
  o.refill_period = absl::ZeroDuration();
  EXPECT_EQ(Msg(RateLimiter::Create(o, &clock).status()),
            "ratelimit: refill_period 0 must be at least 1ns and finite");
  o.refill_period = absl::InfiniteDuration();
  EXPECT_FALSE(RateLimiter::Create(o, &clock).ok());
  o = RateLimiterOptions();
  o.max_keys = 0;
  EXPECT_EQ(Msg(RateLimiter::Create(o, &clock).status()),
            "ratelimit: max_keys must be at least 1");
  o = RateLimiterOptions();
  o.max_key_bytes = 0;
  EXPECT_EQ(RateLimiter::Create(o, &clock).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RateLimiterTest, BurstUpToCapacityThenDeny) {
  ManualClock clock;
  auto rl = Make(Opts(5, 1, absl::Seconds(1)), &clock);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(rl->Allow("peer")) << i;
  const RateDecision d = rl->Take("peer");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, absl::Seconds(1));
  EXPECT_FALSE(rl->Allow("peer"));
  const RateLimiterStats s = rl->Stats();
  EXPECT_EQ(s.allowed, 5u);
  EXPECT_EQ(s.denied, 2u);
  EXPECT_EQ(s.keys, 1u);
}

TEST(RateLimiterTest, RefillsAtTheConfiguredRateUpToCapacity) {
  ManualClock clock;
  auto rl = Make(Opts(5, 2, absl::Seconds(1)), &clock);  // one token / 500ms
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(rl->Allow("k"));
  ASSERT_FALSE(rl->Allow("k"));
  clock.Advance(absl::Milliseconds(499));
  EXPECT_FALSE(rl->Allow("k"));
  clock.Advance(absl::Milliseconds(1));
  EXPECT_TRUE(rl->Allow("k"));
  EXPECT_FALSE(rl->Allow("k"));
  clock.Advance(absl::Seconds(2));  // four tokens
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(rl->Allow("k")) << i;
  EXPECT_FALSE(rl->Allow("k"));
  // A long idle time refills to capacity, not beyond.
  clock.Advance(absl::Hours(24));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(rl->Allow("k")) << i;
  EXPECT_FALSE(rl->Allow("k"));
}

TEST(RateLimiterTest, RetryAfterIsExact) {
  ManualClock clock;
  // Three tokens per second: one token every 333333333.33ns.
  auto rl = Make(Opts(1, 3, absl::Seconds(1)), &clock);
  ASSERT_TRUE(rl->Allow("k"));
  const RateDecision d = rl->Take("k");
  ASSERT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, absl::Nanoseconds(333333334));
  clock.Advance(d.retry_after - absl::Nanoseconds(1));
  EXPECT_FALSE(rl->Allow("k"));
  clock.Advance(absl::Nanoseconds(1));
  EXPECT_TRUE(rl->Allow("k"));
}

TEST(RateLimiterTest, FractionalRefillAccumulatesWithoutDrift) {
  ManualClock clock;
  // 7 tokens per 3 seconds; over 30 seconds exactly 70 tokens accrue no
  // matter how the time is sliced.
  auto rl = Make(Opts(1000, 7, absl::Seconds(3)), &clock);
  ASSERT_TRUE(rl->Allow("k", 1000));
  int allowed = 0;
  for (int step = 0; step < 30000; ++step) {
    clock.Advance(absl::Milliseconds(1));
    if (rl->Allow("k")) ++allowed;
  }
  EXPECT_EQ(allowed, 70);
}

TEST(RateLimiterTest, AllowOrStatusReportsRetryAfter) {
  ManualClock clock;
  auto rl = Make(Opts(2, 3, absl::Seconds(1)), &clock);
  EXPECT_TRUE(rl->AllowOrStatus("k").ok());
  EXPECT_TRUE(rl->AllowOrStatus("k").ok());
  const absl::Status s = rl->AllowOrStatus("k");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Msg(s), "rate limit exceeded; retry after 334ms");
  auto slow = Make(Opts(1, 2, absl::Minutes(1)), &clock);
  ASSERT_TRUE(slow->AllowOrStatus("k").ok());
  EXPECT_EQ(Msg(slow->AllowOrStatus("k")),
            "rate limit exceeded; retry after 30s");
  EXPECT_EQ(Msg(slow->AllowOrStatus("k")),
            "rate limit exceeded; retry after 30s");
  clock.Advance(absl::Milliseconds(29500));
  EXPECT_EQ(Msg(slow->AllowOrStatus("k")),
            "rate limit exceeded; retry after 500ms");
}

TEST(RateLimiterTest, CostsAndImpossibleRequests) {
  ManualClock clock;
  auto rl = Make(Opts(5, 1, absl::Seconds(1)), &clock);
  EXPECT_TRUE(rl->Allow("k", 3));
  EXPECT_FALSE(rl->Allow("k", 3));
  EXPECT_TRUE(rl->Allow("k", 2));
  // Cost 0 is allowed and creates no bucket.
  EXPECT_TRUE(rl->Allow("other", 0));
  EXPECT_EQ(rl->Stats().keys, 1u);
  // Above capacity: never allowed.
  const RateDecision d = rl->Take("fresh", 6);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, absl::InfiniteDuration());
  const absl::Status s = rl->AllowOrStatus("fresh", 6);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Msg(s), "cost 6 exceeds bucket capacity 5");
  EXPECT_EQ(rl->Stats().keys, 1u);
}

TEST(RateLimiterTest, RefusesOversizedKeys) {
  ManualClock clock;
  auto rl = Make(Opts(5, 1, absl::Seconds(1)), &clock);
  const std::string key(257, 'k');
  EXPECT_FALSE(rl->Allow(key));
  const absl::Status s = rl->AllowOrStatus(key);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Msg(s), "rate limit key of 257 bytes exceeds limit 256");
  EXPECT_TRUE(rl->Allow(std::string(256, 'k')));
  EXPECT_EQ(rl->Stats().keys, 1u);
  EXPECT_EQ(rl->Stats().denied, 2u);
}

TEST(RateLimiterTest, KeysAreIsolated) {
  ManualClock clock;
  auto rl = Make(Opts(3, 1, absl::Seconds(10)), &clock);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(rl->Allow("alice"));
  EXPECT_FALSE(rl->Allow("alice"));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(rl->Allow("bob")) << i;
  EXPECT_FALSE(rl->Allow("bob"));
  // Keys are compared as bytes: no case folding, no trimming.
  EXPECT_TRUE(rl->Allow("Alice"));
  EXPECT_TRUE(rl->Allow("alice "));
  EXPECT_TRUE(rl->Allow(std::string("alice\0", 6)));
  EXPECT_FALSE(rl->Allow("alice"));
}

TEST(RateLimiterTest, MemoryStaysBoundedUnderManyKeys) {
  ManualClock clock;
  auto rl = Make(Opts(5, 1, absl::Seconds(1), 1000), &clock);
  for (int i = 0; i < 100000; ++i) {
    // Every key is new, so every bucket starts full and allows.
    ASSERT_TRUE(rl->Allow("key-" + std::to_string(i))) << i;
    if (i % 997 == 0) {
      ASSERT_LE(rl->Stats().keys, 1000u) << i;
    }
  }
  const RateLimiterStats s = rl->Stats();
  EXPECT_EQ(s.keys, 1000u);
  EXPECT_EQ(s.evicted, 99000u);
  EXPECT_EQ(s.allowed, 100000u);
  // The most recent keys are still tracked.
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(rl->Allow("key-99999"));
  EXPECT_FALSE(rl->Allow("key-99999"));
}

TEST(RateLimiterTest, EvictsFullBucketsBeforeDrainedOnes) {
  ManualClock clock;
  auto rl = Make(Opts(10, 1, absl::Seconds(1), 3), &clock);
  ASSERT_TRUE(rl->Allow("heavy", 10));  // drained: full again in 10s
  ASSERT_TRUE(rl->Allow("a"));          // full again in 1s
  ASSERT_TRUE(rl->Allow("b"));          // full again in 1s
  // Table full. "heavy" is the least recently used, but evicting it would
  // forgive 10 tokens; "a" (1 token, older than "b") goes instead.
  ASSERT_TRUE(rl->Allow("c"));
  RateLimiterStats s = rl->Stats();
  EXPECT_EQ(s.evicted, 1u);
  EXPECT_EQ(s.evicted_not_full, 1u);
  EXPECT_FALSE(rl->Allow("heavy"));  // its debt was kept

  clock.Advance(absl::Seconds(2));  // "b" and "c" are full again
  ASSERT_TRUE(rl->Allow("d"));      // evicts "b": full, so nothing is lost
  s = rl->Stats();
  EXPECT_EQ(s.evicted, 2u);
  EXPECT_EQ(s.evicted_not_full, 1u);
  ASSERT_TRUE(rl->Allow("e"));  // evicts "c" (full; "d" is not)
  EXPECT_EQ(rl->Stats().evicted_not_full, 1u);
  // heavy regained 2 tokens in 2s, no more.
  EXPECT_TRUE(rl->Allow("heavy", 2));
  EXPECT_FALSE(rl->Allow("heavy"));
}

TEST(RateLimiterTest, TiesAreBrokenLeastRecentlyUsed) {
  ManualClock clock;
  auto rl = Make(Opts(3, 1, absl::Seconds(1), 2), &clock);
  ASSERT_TRUE(rl->Allow("x", 3));
  ASSERT_TRUE(rl->Allow("y", 3));
  // Both drained at the same instant; "x" is older, so it is evicted and its
  // debt forgiven: the bounded table fails open for that one key, and the
  // stats say so.
  ASSERT_TRUE(rl->Allow("z"));
  EXPECT_EQ(rl->Stats().evicted_not_full, 1u);
  EXPECT_FALSE(rl->Allow("y"));
  EXPECT_TRUE(rl->Allow("x"));  // a new, full bucket
}

TEST(RateLimiterTest, ToleratesAClockThatGoesBackwards) {
  ManualClock clock(absl::Seconds(100));
  auto rl = Make(Opts(2, 1, absl::Seconds(1)), &clock);
  ASSERT_TRUE(rl->Allow("k", 2));
  clock.Set(absl::Seconds(50));
  EXPECT_FALSE(rl->Allow("k"));  // no refill from going back
  clock.Set(absl::Seconds(100));
  EXPECT_FALSE(rl->Allow("k"));  // nor from coming back
  clock.Set(absl::Seconds(101));
  EXPECT_TRUE(rl->Allow("k"));
  EXPECT_FALSE(rl->Allow("k"));
}

TEST(RateLimiterTest, ExtremeRatesStayExact) {
  ManualClock clock;
  auto fast = Make(Opts(kMaxTokens, kMaxTokens, absl::Nanoseconds(1)), &clock);
  EXPECT_TRUE(fast->Allow("k", kMaxTokens));
  EXPECT_FALSE(fast->Allow("k"));
  clock.Advance(absl::Nanoseconds(1));
  EXPECT_TRUE(fast->Allow("k", kMaxTokens));
  // One token per ~285 years: retry-after is exact while it fits in an
  // int64 of nanoseconds and saturates to infinity beyond; nothing overflows.
  auto slow = Make(Opts(kMaxTokens, 1, absl::Hours(2500000)), &clock);
  EXPECT_TRUE(slow->Allow("k", kMaxTokens));
  EXPECT_EQ(slow->Take("k").retry_after, absl::Hours(2500000));
  EXPECT_EQ(slow->Take("k", 2).retry_after, absl::InfiniteDuration());
  clock.Advance(absl::Hours(1000000));
  EXPECT_FALSE(slow->Allow("k"));
  EXPECT_EQ(slow->Take("k").retry_after, absl::Hours(1500000));
}

TEST(RateLimiterTest, ConcurrentCallersNeverExceedCapacityPlusRefill) {
  ManualClock clock;
  constexpr uint64_t kCapacity = 100;
  auto rl = Make(Opts(kCapacity, 10, absl::Seconds(1)), &clock);
  constexpr int kThreads = 4;
  constexpr int kAttempts = 20000;
  constexpr int kTicks = 50;  // 50 x 100ms = 5s = 50 tokens
  std::atomic<uint64_t> allowed{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < kAttempts; ++i) {
        if (rl->Allow("shared")) allowed.fetch_add(1);
      }
    });
  }
  go.store(true);
  for (int i = 0; i < kTicks; ++i) {
    clock.Advance(absl::Milliseconds(100));
    std::this_thread::yield();
  }
  for (auto& th : threads) th.join();
  const uint64_t refill = 10 * kTicks / 10;  // 10 tokens/s over kTicks x 0.1s
  EXPECT_LE(allowed.load(), kCapacity + refill);
  EXPECT_GE(allowed.load(), kCapacity);  // the burst is always available
  const RateLimiterStats s = rl->Stats();
  EXPECT_EQ(s.allowed, allowed.load());
  EXPECT_EQ(s.allowed + s.denied, uint64_t{kThreads} * kAttempts);
  // After the run, the bucket holds what the clock says and no more.
  clock.Advance(absl::Hours(1));
  uint64_t after = 0;
  while (rl->Allow("shared")) ++after;
  EXPECT_EQ(after, kCapacity);
}

TEST(RateLimiterTest, ConcurrentEvictionKeepsTheBound) {
  ManualClock clock;
  auto rl = Make(Opts(3, 1, absl::Seconds(1), 200), &clock);
  constexpr int kThreads = 4;
  constexpr int kOps = 20000;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kOps; ++i) {
        rl->Allow("k" + std::to_string((i * 7 + t * 13) % 1500));
        if (i % 1000 == 0) clock.Advance(absl::Milliseconds(10));
        if (i % 500 == 0) {
          EXPECT_LE(rl->Stats().keys, 200u);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  const RateLimiterStats s = rl->Stats();
  EXPECT_LE(s.keys, 200u);
  EXPECT_EQ(s.allowed + s.denied, uint64_t{kThreads} * kOps);
  EXPECT_GT(s.evicted, 0u);
}

TEST(RateLimiterTest, DefaultClockIsMonotonic) {
  auto rl = RateLimiter::Create(RateLimiterOptions());
  ASSERT_TRUE(rl.ok()) << rl.status();
  EXPECT_TRUE((*rl)->Allow("k"));
  const absl::Duration a = SteadyClock::Get()->Now();
  const absl::Duration b = SteadyClock::Get()->Now();
  EXPECT_LE(a, b);
}

}  // namespace
}  // namespace virtengine::ratelimit
