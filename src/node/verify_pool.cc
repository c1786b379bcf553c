#include "src/node/verify_pool.h"

#include <algorithm>
#include <atomic>

namespace virtengine::node {

struct VerifyPool::Job {
  const std::function<void(size_t)>* fn = nullptr;
  size_t n = 0;
  std::atomic<size_t> next{0};
  absl::Mutex mu;
  size_t done ABSL_GUARDED_BY(mu) = 0;
  int workers ABSL_GUARDED_BY(mu) = 0;  // pool threads inside RunShare
};

VerifyPool::VerifyPool(size_t threads) {
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i)
    threads_.emplace_back([this] { Worker(); });
}

VerifyPool::~VerifyPool() {
  {
    absl::MutexLock l(&mu_);
    stop_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

void VerifyPool::RunShare(Job* job) {
  size_t mine = 0;
  for (;;) {
    const size_t i = job->next.fetch_add(1);
    if (i >= job->n) break;
    (*job->fn)(i);
    ++mine;
  }
  absl::MutexLock l(&job->mu);
  job->done += mine;
}

void VerifyPool::Worker() {
  for (;;) {
    Job* job = nullptr;
    {
      absl::MutexLock l(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stop_ || !queue_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping
      job = queue_.front();
      // A job stays queued until its indexes are all handed out, so every
      // idle worker joins it.
      if (job->next.load() >= job->n) {
        queue_.erase(queue_.begin());
        continue;
      }
      absl::MutexLock jl(&job->mu);
      ++job->workers;
    }
    RunShare(job);
    absl::MutexLock jl(&job->mu);
    --job->workers;
  }
}

void VerifyPool::ParallelFor(size_t n, const std::function<void(size_t)>& fn) {
  if (n == 0) return;
  Job job;
  job.fn = &fn;
  job.n = n;
  if (n > 1 && !threads_.empty()) {
    absl::MutexLock l(&mu_);
    queue_.push_back(&job);
  }
  RunShare(&job);
  {
    absl::MutexLock l(&mu_);
    queue_.erase(std::remove(queue_.begin(), queue_.end(), &job), queue_.end());
  }
  // No worker can pick the job up any more; wait for those inside it.
  absl::MutexLock jl(&job.mu);
  auto finished = [&job]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(job.mu) {
    return job.done == job.n && job.workers == 0;
  };
  job.mu.Await(absl::Condition(&finished));
}

}  // namespace virtengine::node
