#include "security/attest/challenge.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "security/crypto/random.h"

namespace virtengine::attest {

void ChallengeRegistry::PurgeLocked(absl::Duration now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (now >= it->second.expires_at + options_.ttl) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

absl::StatusOr<Challenge> ChallengeRegistry::Issue() {
  const absl::Duration now = clock_->Now();
  absl::MutexLock lock(&mu_);
  PurgeLocked(now);
  if (entries_.size() >= options_.max_outstanding) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "too many outstanding challenges (", options_.max_outstanding, ")"));
  }
  Challenge c;
  do {
    crypto::RandomFill(absl::MakeSpan(c.nonce));
  } while (entries_.count(c.nonce) != 0);
  c.expires_at = now + options_.ttl;
  entries_[c.nonce] = Entry{c.expires_at, false};
  return c;
}

absl::Status ChallengeRegistry::Consume(crypto::ByteView nonce) {
  if (nonce.size() != kNonceBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "challenge nonce is ", nonce.size(), " bytes, not ", kNonceBytes));
  }
  Nonce key{};
  std::copy(nonce.begin(), nonce.end(), key.begin());
  const absl::Duration now = clock_->Now();
  absl::MutexLock lock(&mu_);
  PurgeLocked(now);
  auto it = entries_.find(key);
  if (it == entries_.end()) return absl::NotFoundError("unknown challenge");
  if (it->second.used)
    return absl::FailedPreconditionError("challenge replayed");
  it->second.used = true;
  if (now >= it->second.expires_at) {
    return absl::DeadlineExceededError("challenge expired");
  }
  return absl::OkStatus();
}

size_t ChallengeRegistry::outstanding() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

}  // namespace virtengine::attest
