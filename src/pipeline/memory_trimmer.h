// MemoryTrimmer: gives memory back to the operating system after an ingest burst. glibc keeps
// freed heap pages in its arenas, so after a burst the process stays at its peak size even when
// idle. One background thread calls malloc_trim(0) in each of the next three periods in which the
// pipeline has nothing in flight after either
//  - an ingest burst (in-flight bytes peaked above `burst_bytes`), or
//  - a change of `bulk_free_events` (the store's seals and compactions: each frees a head or the
//    merged blocks' buffers at once, often seconds after the burst that caused it).
//
// Threads: one background thread, started by the constructor and joined by the destructor. The
// budget must outlive the trimmer. trims() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <thread>

#include "common/thread_annotations.h"
#include "pipeline/inflight_budget.h"

namespace ariadne::pipeline {

class MemoryTrimmer {
 public:
  MemoryTrimmer(InflightBudget* budget, size_t burst_bytes,
                std::function<uint64_t()> bulk_free_events = {},
                std::chrono::milliseconds period = std::chrono::seconds(1));
  ~MemoryTrimmer();
  MemoryTrimmer(const MemoryTrimmer&) = delete;
  MemoryTrimmer& operator=(const MemoryTrimmer&) = delete;

  // malloc_trim calls made so far.
  uint64_t trims() const { return trims_.load(std::memory_order_relaxed); }

 private:
  void Run();

  InflightBudget* budget_;
  const size_t burst_bytes_;
  const std::function<uint64_t()> bulk_free_events_;
  const std::chrono::milliseconds period_;
  std::atomic<uint64_t> trims_{0};
  Mutex mu_;
  std::condition_variable_any cv_;
  bool stopping_ ARIADNE_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: started after everything it reads
};

}  // namespace ariadne::pipeline
