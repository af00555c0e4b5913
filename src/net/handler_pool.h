// HandlerPool: runs slow request handlers (store reads, trace scans) on a small bounded pool of
// worker threads, so the HTTP server's I/O threads keep answering health checks, X-Ray sampling
// calls and ingest while a heavy read is running. One pool per kind of work (X-Ray reads, API
// trace reads); the analysis queries of QueryRoutes have their own.
//
// Run never blocks: when `max_queued` tasks already wait, the `busy` answer is sent at once (503 or
// the protocol's throttling error) and counted. A task whose client went away before a worker
// picked it up (its CancelFlag is set) is skipped: nobody would read the answer.
//
// Threads: Run and rejected() may be called from any thread. The destructor runs the tasks still
// queued and joins the workers, so whatever the tasks use must outlive the pool.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

#include "common/cancel.h"
#include "common/work_queue.h"
#include "net/http_server.h"

namespace ariadne::net {

class HandlerPool {
 public:
  HandlerPool(size_t threads, size_t max_queued) : queue_(threads, max_queued) {}

  // Runs `work` on a worker and answers `respond` with its response; `busy()` answers instead
  // when the queue is full.
  void Run(CancelFlagPtr cancel, Responder respond, std::function<HttpResponse()> work,
           const std::function<HttpResponse()>& busy) {
    auto task = [cancel, respond, work = std::move(work), this]() mutable {
      if (cancel && cancel->cancelled()) {
        skipped_.fetch_add(1, std::memory_order_relaxed);
        return;  // the responder's destructor answers the (gone) client
      }
      respond(work());
    };
    if (!queue_.Submit(std::move(task))) {
      rejected_.fetch_add(1, std::memory_order_relaxed);
      respond(busy());
    }
  }

  // Requests answered `busy` because the queue was full.
  uint64_t rejected() const { return rejected_.load(std::memory_order_relaxed); }
  // Requests skipped because their client had gone away.
  uint64_t skipped() const { return skipped_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> rejected_{0};
  std::atomic<uint64_t> skipped_{0};
  WorkQueue queue_;  // last: joined first, while the counters still exist
};

}  // namespace ariadne::net
