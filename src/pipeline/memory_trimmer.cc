#include "pipeline/memory_trimmer.h"

#include <malloc.h>

#include <algorithm>
#include <utility>

namespace ariadne::pipeline {

MemoryTrimmer::MemoryTrimmer(InflightBudget* budget, size_t burst_bytes,
                             std::function<uint64_t()> bulk_free_events,
                             std::chrono::milliseconds period)
    : budget_(budget),
      burst_bytes_(burst_bytes),
      bulk_free_events_(std::move(bulk_free_events)),
      period_(period),
      thread_([this] { Run(); }) {}

MemoryTrimmer::~MemoryTrimmer() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void MemoryTrimmer::Run() {
  // A few trims per event: what one leaves behind is freed in stages (a request's buffers when it
  // is answered, a seal's as each block is written).
  constexpr int kTrimsPerBurst = 3;
  size_t burst_peak = 0;  // the largest in-flight figure since the burst's trims were scheduled
  int trims_due = 0;
  uint64_t events_seen = bulk_free_events_ ? bulk_free_events_() : 0;
  for (;;) {
    {
      MutexLock lock(&mu_);
      cv_.wait_for(mu_, period_, [this]() ARIADNE_NO_THREAD_SAFETY_ANALYSIS { return stopping_; });
      if (stopping_) return;
    }
    burst_peak = std::max(burst_peak, budget_->TakePeak());
    if (burst_peak >= burst_bytes_) {
      trims_due = kTrimsPerBurst;
      burst_peak = 0;
    }
    if (bulk_free_events_) {
      const uint64_t events = bulk_free_events_();
      if (events != events_seen) trims_due = kTrimsPerBurst;
      events_seen = events;
    }
    if (trims_due > 0 && budget_->in_flight_bytes() == 0) {
      malloc_trim(0);
      trims_.fetch_add(1, std::memory_order_relaxed);
      --trims_due;
    }
  }
}

}  // namespace ariadne::pipeline
