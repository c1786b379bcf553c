#ifndef VIRTENGINE_SRC_NODE_VERIFY_POOL_H_
#define VIRTENGINE_SRC_NODE_VERIFY_POOL_H_

#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace virtengine::node {

// A fixed pool of worker threads for signature verification: a batch of
// txs is checked on every core at once, off the consensus thread.
class VerifyPool {
 public:
  explicit VerifyPool(size_t threads);
  ~VerifyPool();
  VerifyPool(const VerifyPool&) = delete;
  VerifyPool& operator=(const VerifyPool&) = delete;

  // Runs fn(0) ... fn(n-1) across the pool and the calling thread; returns
  // when all are done. Safe to call from several threads at once.
  void ParallelFor(size_t n, const std::function<void(size_t)>& fn);

 private:
  struct Job;
  void Worker();
  static void RunShare(Job* job);

  absl::Mutex mu_;
  std::vector<Job*> queue_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace virtengine::node

#endif  // VIRTENGINE_SRC_NODE_VERIFY_POOL_H_
