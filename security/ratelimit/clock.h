// The monotonic clock the rate limiter reads. Injected, so that tests (and
// deterministic replays) drive time themselves.
#ifndef VIRTENGINE_SECURITY_RATELIMIT_CLOCK_H_
#define VIRTENGINE_SECURITY_RATELIMIT_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace virtengine::ratelimit {

class Clock {
 public:
  virtual ~Clock() = default;
  // Time elapsed since a fixed, arbitrary origin. Implementations must be
  // thread-safe and should never go backwards; the rate limiter tolerates a
  // clock that does (it then simply refills nothing).
  virtual absl::Duration Now() = 0;
};

// std::chrono::steady_clock. Stateless; one instance may be shared.
class SteadyClock final : public Clock {
 public:
  absl::Duration Now() override;
  // A process-wide instance (never destroyed).
  static SteadyClock* Get();
};

// A clock that moves only when told to: for tests, and for state machines
// whose time comes from block headers.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(absl::Duration start = absl::ZeroDuration())
      : now_(start) {}
  absl::Duration Now() override ABSL_LOCKS_EXCLUDED(mu_);
  void Advance(absl::Duration d) ABSL_LOCKS_EXCLUDED(mu_);
  // Sets the time; may move it backwards (to test clients' tolerance).
  void Set(absl::Duration t) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Mutex mu_;
  absl::Duration now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace virtengine::ratelimit

#endif  // VIRTENGINE_SECURITY_RATELIMIT_CLOCK_H_
