// Nonce freshness for remote attestation. A verifier issues a challenge
// (32 random bytes from security/crypto's CSPRNG) to a prover; the prover
// quotes with it as qualifying data; the verifier consumes it exactly once,
// before it expires. The clock is injected (tests drive it).
#ifndef VIRTENGINE_SECURITY_ATTEST_CHALLENGE_H_
#define VIRTENGINE_SECURITY_ATTEST_CHALLENGE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "security/crypto/bytes.h"
#include "security/ratelimit/clock.h"

namespace virtengine::attest {

inline constexpr size_t kNonceBytes = 32;
using Nonce = std::array<uint8_t, kNonceBytes>;

struct Challenge {
  Nonce nonce{};
  absl::Duration expires_at;  // on the registry's clock
};

class ChallengeRegistry {
 public:
  struct Options {
    absl::Duration ttl = absl::Seconds(60);
    // Challenges outstanding at once; Issue refuses beyond this
    // (ResourceExhausted) so that a flood cannot grow memory.
    size_t max_outstanding = 4096;
  };

  // `clock` must outlive the registry.
  ChallengeRegistry(ratelimit::Clock* clock, Options options)
      : clock_(clock), options_(options) {}

  absl::StatusOr<Challenge> Issue() ABSL_LOCKS_EXCLUDED(mu_);

  // Marks the challenge used. Errors (distinct):
  //   InvalidArgument      "challenge nonce is N bytes, not 32"
  //   NotFound             "unknown challenge"
  //   FailedPrecondition   "challenge replayed" (consumed before)
  //   DeadlineExceeded     "challenge expired"
  // An expired challenge is remembered (as expired) until twice its ttl has
  // passed, then forgotten (and then reported as unknown).
  absl::Status Consume(crypto::ByteView nonce) ABSL_LOCKS_EXCLUDED(mu_);

  size_t outstanding() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Entry {
    absl::Duration expires_at;
    bool used = false;
  };
  void PurgeLocked(absl::Duration now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  ratelimit::Clock* clock_;
  Options options_;
  mutable absl::Mutex mu_;
  std::map<Nonce, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace virtengine::attest

#endif  // VIRTENGINE_SECURITY_ATTEST_CHALLENGE_H_
