#include "security/ratelimit/rate_limiter.h"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "security/ratelimit/clock.h"

namespace virtengine::ratelimit {
namespace {

constexpr int64_t kMaxNs = std::numeric_limits<int64_t>::max();

absl::uint128 CeilDiv(absl::uint128 a, absl::uint128 b) {
  return a / b + (a % b != 0 ? 1 : 0);
}

// A nanosecond count as a Duration, saturating to InfiniteDuration.
absl::Duration NsToDuration(absl::uint128 ns) {
  if (ns > absl::uint128(kMaxNs)) return absl::InfiniteDuration();
  return absl::Nanoseconds(static_cast<int64_t>(ns));
}

}  // namespace

absl::StatusOr<std::unique_ptr<RateLimiter>> RateLimiter::Create(
    const RateLimiterOptions& options, Clock* clock) {
  const std::string max = std::to_string(kMaxTokens);
  if (options.capacity < 1 || options.capacity > kMaxTokens) {
    return absl::InvalidArgumentError("ratelimit: capacity " +
                                      std::to_string(options.capacity) +
                                      " is outside 1.." + max);
  }
  if (options.refill_tokens < 1 || options.refill_tokens > kMaxTokens) {
    return absl::InvalidArgumentError("ratelimit: refill_tokens " +
                                      std::to_string(options.refill_tokens) +
                                      " is outside 1.." + max);
  }
  if (options.refill_period < absl::Nanoseconds(1) ||
      options.refill_period == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        "ratelimit: refill_period " +
        absl::FormatDuration(options.refill_period) +
        " must be at least 1ns and finite");
  }
  if (options.max_keys < 1) {
    return absl::InvalidArgumentError("ratelimit: max_keys must be at least 1");
  }
  if (options.max_key_bytes < 1) {
    return absl::InvalidArgumentError(
        "ratelimit: max_key_bytes must be at least 1");
  }
  if (clock == nullptr) clock = SteadyClock::Get();
  return std::unique_ptr<RateLimiter>(new RateLimiter(options, clock));
}

RateLimiter::RateLimiter(const RateLimiterOptions& options, Clock* clock)
    : options_(options),
      clock_(clock),
      period_ns_(absl::ToInt64Nanoseconds(options.refill_period)),
      full_credit_(absl::uint128(options.capacity) *
                   absl::uint128(static_cast<uint64_t>(
                       absl::ToInt64Nanoseconds(options.refill_period)))) {}

void RateLimiter::Refill(Bucket& b, int64_t now_ns) const {
  // A clock that went backwards refills nothing and keeps updated_ns.
  if (now_ns <= b.updated_ns) return;
  // The difference of two int64 values fits in uint64 when now > updated.
  const uint64_t elapsed =
      static_cast<uint64_t>(now_ns) - static_cast<uint64_t>(b.updated_ns);
  const absl::uint128 added =
      absl::uint128(elapsed) * absl::uint128(options_.refill_tokens);
  b.credit =
      (full_credit_ - b.credit <= added) ? full_credit_ : b.credit + added;
  b.updated_ns = now_ns;
}

int64_t RateLimiter::FullAt(const Bucket& b) const {
  if (b.credit >= full_credit_) return b.updated_ns;
  const absl::uint128 wait =
      CeilDiv(full_credit_ - b.credit, absl::uint128(options_.refill_tokens));
  const absl::int128 at = absl::int128(b.updated_ns) + absl::int128(wait);
  return at > absl::int128(kMaxNs) ? kMaxNs : static_cast<int64_t>(at);
}

void RateLimiter::EvictOne(int64_t now_ns) {
  const auto first = order_.begin();
  if (first == order_.end()) return;
  const auto it = buckets_.find(*first->second);
  if (first->first.first > now_ns) ++evicted_not_full_;
  ++evicted_;
  order_.erase(first);
  buckets_.erase(it);
}

RateDecision RateLimiter::Take(std::string_view key, uint64_t cost) {
  if (cost == 0) return RateDecision{true, absl::ZeroDuration()};
  if (key.size() > options_.max_key_bytes || cost > options_.capacity) {
    absl::MutexLock lock(&mu_);
    ++denied_;
    return RateDecision{false, absl::InfiniteDuration()};
  }
  const int64_t now_ns = absl::ToInt64Nanoseconds(clock_->Now());

  absl::MutexLock lock(&mu_);
  // Heterogeneous lookup (no allocation for keys already present); this
  // abseil build's string_view is its own type, not std::string_view.
  auto it = buckets_.find(absl::string_view(key.data(), key.size()));
  // The bucket's entry in the eviction order is taken out and put back with
  // its new position; reusing the node saves an allocation per request.
  decltype(order_)::node_type order_node;
  if (it == buckets_.end()) {
    if (buckets_.size() >= options_.max_keys) EvictOne(now_ns);
    it = buckets_
             .emplace(std::string(key), Bucket{full_credit_, now_ns, now_ns, 0})
             .first;
  } else {
    order_node =
        order_.extract(OrderKey{it->second.full_at_ns, it->second.last_use});
    Refill(it->second, now_ns);
  }
  Bucket& b = it->second;

  RateDecision decision;
  const absl::uint128 need =
      absl::uint128(cost) * absl::uint128(static_cast<uint64_t>(period_ns_));
  if (b.credit >= need) {
    b.credit -= need;
    decision = RateDecision{true, absl::ZeroDuration()};
    ++allowed_;
  } else {
    decision = RateDecision{
        false, NsToDuration(CeilDiv(need - b.credit,
                                    absl::uint128(options_.refill_tokens)))};
    ++denied_;
  }
  b.last_use = ++seq_;
  b.full_at_ns = FullAt(b);
  const OrderKey position{b.full_at_ns, b.last_use};
  if (order_node.empty()) {
    order_.emplace(position, &it->first);
  } else {
    order_node.key() = position;
    order_.insert(std::move(order_node));
  }
  return decision;
}

bool RateLimiter::Allow(std::string_view key, uint64_t cost) {
  return Take(key, cost).allowed;
}

absl::Status RateLimiter::AllowOrStatus(std::string_view key, uint64_t cost) {
  if (key.size() > options_.max_key_bytes) {
    Take(key, cost);  // counted as denied
    return absl::InvalidArgumentError(
        "rate limit key of " + std::to_string(key.size()) +
        " bytes exceeds limit " + std::to_string(options_.max_key_bytes));
  }
  if (cost > options_.capacity) {
    Take(key, cost);
    return absl::InvalidArgumentError("cost " + std::to_string(cost) +
                                      " exceeds bucket capacity " +
                                      std::to_string(options_.capacity));
  }
  const RateDecision d = Take(key, cost);
  if (d.allowed) return absl::OkStatus();
  // Round up to whole milliseconds: a client that waits this long succeeds.
  const absl::Duration ms = absl::Ceil(d.retry_after, absl::Milliseconds(1));
  return absl::ResourceExhaustedError("rate limit exceeded; retry after " +
                                      absl::FormatDuration(ms));
}

RateLimiterStats RateLimiter::Stats() const {
  absl::MutexLock lock(&mu_);
  RateLimiterStats s;
  s.keys = buckets_.size();
  s.allowed = allowed_;
  s.denied = denied_;
  s.evicted = evicted_;
  s.evicted_not_full = evicted_not_full_;
  return s;
}

}  // namespace virtengine::ratelimit
