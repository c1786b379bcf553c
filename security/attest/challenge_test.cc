#include "security/attest/challenge.h"

#include <set>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "security/ratelimit/clock.h"

namespace virtengine::attest {
namespace {

TEST(ChallengeTest, SingleUse) {
  ratelimit::ManualClock clock;
  ChallengeRegistry reg(&clock, ChallengeRegistry::Options());
  absl::StatusOr<Challenge> c = reg.Issue();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->expires_at, absl::Seconds(60));
  EXPECT_TRUE(reg.Consume(c->nonce).ok());
  EXPECT_EQ(reg.Consume(c->nonce),
            absl::FailedPreconditionError("challenge replayed"));
}

TEST(ChallengeTest, Expires) {
  ratelimit::ManualClock clock;
  ChallengeRegistry::Options o;
  o.ttl = absl::Seconds(10);
  ChallengeRegistry reg(&clock, o);
  absl::StatusOr<Challenge> c = reg.Issue();
  absl::StatusOr<Challenge> d = reg.Issue();
  ASSERT_TRUE(c.ok() && d.ok());
  clock.Advance(absl::Seconds(9));
  EXPECT_TRUE(reg.Consume(d->nonce).ok());
  clock.Advance(absl::Seconds(1));
  EXPECT_EQ(reg.Consume(c->nonce),
            absl::DeadlineExceededError("challenge expired"));
  // An expired challenge cannot be retried either.
  EXPECT_EQ(reg.Consume(c->nonce),
            absl::FailedPreconditionError("challenge replayed"));
  clock.Advance(absl::Seconds(10));
  EXPECT_EQ(reg.Consume(c->nonce), absl::NotFoundError("unknown challenge"));
  EXPECT_EQ(reg.outstanding(), 0u);
}

TEST(ChallengeTest, UnknownAndMalformed) {
  ratelimit::ManualClock clock;
  ChallengeRegistry reg(&clock, ChallengeRegistry::Options());
  Nonce n{};
  EXPECT_EQ(reg.Consume(n), absl::NotFoundError("unknown challenge"));
  EXPECT_EQ(reg.Consume(crypto::ByteView(n.data(), 31)),
            absl::InvalidArgumentError("challenge nonce is 31 bytes, not 32"));
}

TEST(ChallengeTest, BoundedAndRandom) {
  ratelimit::ManualClock clock;
  ChallengeRegistry::Options o;
  o.max_outstanding = 8;
  ChallengeRegistry reg(&clock, o);
  std::set<Nonce> seen;
  for (int i = 0; i < 8; ++i) {
    absl::StatusOr<Challenge> c = reg.Issue();
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(seen.insert(c->nonce).second);
  }
  EXPECT_EQ(reg.Issue().status().code(), absl::StatusCode::kResourceExhausted);
  // Entries are purged twice a ttl after issue.
  clock.Advance(absl::Seconds(120));
  EXPECT_TRUE(reg.Issue().ok());
}

}  // namespace
}  // namespace virtengine::attest
