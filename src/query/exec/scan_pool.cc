#include "query/exec/scan_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>

namespace ariadne::query::exec {

// One Run call. The caller's stack owns `fn`; a helper calls it only after registering in
// `running` before the caller closed the job, and the caller waits for every registered helper,
// so `fn` outlives every call of it. The Job
// itself is shared, since a helper may still look at it (and find nothing left) after Run returned.
struct ScanPool::Job {
  const std::function<bool(size_t, size_t)>* fn;
  size_t tasks;
  size_t max_workers;
  std::atomic<size_t> next_task{0};
  std::atomic<size_t> next_worker{1};  // 0 is the caller
  std::atomic<bool> stop{false};
  Mutex mu;
  std::condition_variable_any done_cv;
  size_t running ARIADNE_GUARDED_BY(mu) = 0;   // helpers inside Work()
  bool closed ARIADNE_GUARDED_BY(mu) = false;  // Run is returning: no helper may start Work()

  // Claims and runs tasks until none is left or one asked to stop.
  void Work(size_t worker) {
    while (!stop.load(std::memory_order_relaxed)) {
      const size_t task = next_task.fetch_add(1, std::memory_order_relaxed);
      if (task >= tasks) return;
      if (!(*fn)(worker, task)) stop.store(true, std::memory_order_relaxed);
    }
  }
};

ScanPool::ScanPool(size_t helpers) {
  for (size_t i = 0; i < helpers; ++i) threads_.emplace_back([this] { HelperLoop(); });
}

ScanPool::~ScanPool() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

ScanPool& ScanPool::Shared() {
  static ScanPool* pool = [] {
    const size_t cores = std::max(1u, std::thread::hardware_concurrency());
    return new ScanPool(std::clamp<size_t>(cores - 1, 1, 7));
  }();
  return *pool;
}

void ScanPool::HelperLoop() {
  for (;;) {
    std::shared_ptr<Job> job;
    {
      MutexLock lock(&mu_);
      cv_.wait(mu_, [&]() ARIADNE_REQUIRES(mu_) { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    {
      MutexLock lock(&job->mu);
      if (job->closed) continue;
      ++job->running;
    }
    const size_t worker = job->next_worker.fetch_add(1, std::memory_order_relaxed);
    if (worker < job->max_workers) job->Work(worker);
    {
      MutexLock lock(&job->mu);
      --job->running;
    }
    job->done_cv.notify_all();
  }
}

void ScanPool::Run(size_t tasks, size_t max_workers,
                   const std::function<bool(size_t, size_t)>& fn) {
  if (tasks == 0) return;
  const size_t helpers_wanted = std::min({max_workers, tasks, threads_.size() + 1}) - 1;
  if (helpers_wanted == 0) {
    for (size_t task = 0; task < tasks; ++task)
      if (!fn(0, task)) return;
    return;
  }
  auto job = std::make_shared<Job>();
  job->fn = &fn;
  job->tasks = tasks;
  job->max_workers = max_workers;
  {
    MutexLock lock(&mu_);
    for (size_t i = 0; i < helpers_wanted; ++i) queue_.push_back(job);
  }
  if (helpers_wanted == 1) {
    cv_.notify_one();
  } else {
    cv_.notify_all();
  }
  job->Work(0);
  // No task is left to claim: withdraw the slots no helper took, then wait for those that did.
  {
    MutexLock lock(&mu_);
    queue_.erase(std::remove(queue_.begin(), queue_.end(), job), queue_.end());
  }
  MutexLock lock(&job->mu);
  job->closed = true;
  job->done_cv.wait(job->mu, [&]() ARIADNE_REQUIRES(job->mu) { return job->running == 0; });
}

}  // namespace ariadne::query::exec
