// Per-key token buckets with bounded memory.
//
// Each key (an account, a peer address, a method+caller pair: any string)
// owns a bucket of `capacity` tokens that refills continuously at
// `refill_tokens` per `refill_period`; a request of cost c is allowed when
// the bucket holds at least c tokens, which it then takes. A new key starts
// with a full bucket. Token arithmetic is exact (integers, no floating
// point): the same clock readings always give the same decisions.
//
// Memory is bounded: at most `max_keys` buckets, each key at most
// `max_key_bytes` bytes. When a new key arrives and the table is full, the
// bucket that is fully refilled soonest is evicted (ties: the least recently
// used). A bucket that is already full carries no state (a new bucket starts
// full), so evicting it changes no decision; if no bucket is full, the one
// evicted forgives the least debt. A flood of fresh keys, each of which has
// taken only a little, therefore evicts its own buckets before the drained
// bucket of a heavy user. Stats() counts evictions of buckets that were not
// yet full.
//
// Thread-safe: one absl::Mutex around the table; the clock is read before the
// lock is taken.
#ifndef VIRTENGINE_SECURITY_RATELIMIT_RATE_LIMITER_H_
#define VIRTENGINE_SECURITY_RATELIMIT_RATE_LIMITER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/node_hash_map.h"
#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "security/ratelimit/clock.h"

namespace virtengine::ratelimit {

// Largest accepted capacity and refill_tokens (keeps the arithmetic exact).
inline constexpr uint64_t kMaxTokens = uint64_t{1} << 40;

struct RateLimiterOptions {
  uint64_t capacity = 10;      // burst size, tokens (1..kMaxTokens)
  uint64_t refill_tokens = 1;  // tokens added per refill_period (1..kMax)
  absl::Duration refill_period = absl::Seconds(1);  // > 0, >= 1ns, finite
  size_t max_keys = 10000;     // buckets kept at most (>= 1)
  size_t max_key_bytes = 256;  // longer keys are refused (>= 1)
};

struct RateDecision {
  bool allowed = false;
  // When denied: how long until the bucket holds the requested tokens (exact,
  // rounded up to the nanosecond); InfiniteDuration for a request that can
  // never be allowed (cost above capacity, key too long). Zero when allowed.
  absl::Duration retry_after;
};

struct RateLimiterStats {
  size_t keys = 0;                // buckets held now
  uint64_t allowed = 0;           // requests allowed
  uint64_t denied = 0;            // requests denied (incl. invalid ones)
  uint64_t evicted = 0;           // buckets evicted
  uint64_t evicted_not_full = 0;  // ...of which were not yet full
};

class RateLimiter {
 public:
  // InvalidArgument "ratelimit: <option> ..." for options out of range.
  // `clock` is not owned and must outlive the limiter; nullptr means
  // SteadyClock::Get().
  static absl::StatusOr<std::unique_ptr<RateLimiter>> Create(
      const RateLimiterOptions& options, Clock* clock = nullptr);

  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Takes `cost` tokens from `key`'s bucket if it holds them. A cost of 0 is
  // always allowed and touches nothing. A key longer than max_key_bytes or a
  // cost above capacity is denied.
  RateDecision Take(std::string_view key, uint64_t cost = 1)
      ABSL_LOCKS_EXCLUDED(mu_);
  bool Allow(std::string_view key, uint64_t cost = 1) ABSL_LOCKS_EXCLUDED(mu_);
  // OK when allowed; ResourceExhausted
  //   "rate limit exceeded; retry after 334ms"
  // (retry-after rounded up to the millisecond) when denied; InvalidArgument
  //   "rate limit key of N bytes exceeds limit M"
  //   "cost N exceeds bucket capacity M"
  // for requests that can never be allowed.
  absl::Status AllowOrStatus(std::string_view key, uint64_t cost = 1)
      ABSL_LOCKS_EXCLUDED(mu_);

  RateLimiterStats Stats() const ABSL_LOCKS_EXCLUDED(mu_);
  const RateLimiterOptions& options() const { return options_; }

 private:
  // Credit is kept in units of 1/period_ns_ token: a token is period_ns_
  // units and every elapsed nanosecond adds refill_tokens units.
  struct Bucket {
    absl::uint128 credit;
    int64_t updated_ns;  // clock reading the credit is valid for
    int64_t full_at_ns;  // when credit reaches capacity with no more takes
    uint64_t last_use;   // sequence number of the latest request
  };
  using OrderKey = std::pair<int64_t, uint64_t>;  // (full_at_ns, last_use)

  RateLimiter(const RateLimiterOptions& options, Clock* clock);

  void Refill(Bucket& b, int64_t now_ns) const;
  int64_t FullAt(const Bucket& b) const;
  void EvictOne(int64_t now_ns) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const RateLimiterOptions options_;
  Clock* const clock_;
  const int64_t period_ns_;
  const absl::uint128 full_credit_;  // capacity * period_ns_

  mutable absl::Mutex mu_;
  absl::node_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
  // Eviction order: soonest full first, then least recently used. Points at
  // the keys in buckets_ (node_hash_map keeps them in place).
  std::map<OrderKey, const std::string*> order_ ABSL_GUARDED_BY(mu_);
  uint64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t allowed_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t denied_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t evicted_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t evicted_not_full_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace virtengine::ratelimit

#endif  // VIRTENGINE_SECURITY_RATELIMIT_RATE_LIMITER_H_
