#include "security/ratelimit/clock.h"

#include <chrono>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace virtengine::ratelimit {

absl::Duration SteadyClock::Now() {
  return absl::FromChrono(std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::steady_clock::now().time_since_epoch()));
}

SteadyClock* SteadyClock::Get() {
  static SteadyClock* const clock = new SteadyClock();
  return clock;
}

absl::Duration ManualClock::Now() {
  absl::MutexLock lock(&mu_);
  return now_;
}

void ManualClock::Advance(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  now_ += d;
}

void ManualClock::Set(absl::Duration t) {
  absl::MutexLock lock(&mu_);
  now_ = t;
}

}  // namespace virtengine::ratelimit
