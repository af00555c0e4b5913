// ScanPool: a small fixed set of helper threads that share the per-block work of one scan (a
// query's blocks) with the thread that asks, so a query uses the machine's cores without starting
// a thread per request.
//
// Run(tasks, max_workers, fn) calls fn(worker, task) once for every task in [0, tasks): on the
// caller's thread as worker 0 and on up to max_workers − 1 helpers as workers 1, 2, … (each worker
// id is used by one thread at a time, so the caller can keep one accumulator per worker). Tasks are
// handed out in order to whichever worker is free, so a slow block does not hold up the others'
// share. When fn returns false no further task is started (the first error, a cancelled query).
// Run returns once every started call has returned; a helper busy with another query's scan simply
// does not join, and the caller does the work alone — so Run never waits for a free helper, and
// concurrent queries cannot deadlock on the pool.
//
// Threads: Run may be called from any thread, also concurrently. Shared() lives for the process.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "common/thread_annotations.h"

namespace ariadne::query::exec {

class ScanPool {
 public:
  explicit ScanPool(size_t helpers);
  ~ScanPool();  // waits for running calls, then joins the helpers
  ScanPool(const ScanPool&) = delete;
  ScanPool& operator=(const ScanPool&) = delete;

  // The process's pool: one helper per core beyond the first (at least one, at most 7).
  static ScanPool& Shared();

  size_t helpers() const { return threads_.size(); }

  void Run(size_t tasks, size_t max_workers, const std::function<bool(size_t, size_t)>& fn);

 private:
  struct Job;
  void HelperLoop();

  Mutex mu_;
  std::condition_variable_any cv_;
  std::deque<std::shared_ptr<Job>> queue_ ARIADNE_GUARDED_BY(mu_);  // one entry per helper slot
  bool stopping_ ARIADNE_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace ariadne::query::exec
