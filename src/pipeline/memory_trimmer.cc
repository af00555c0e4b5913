#include "pipeline/memory_trimmer.h"

#include <malloc.h>

#include <algorithm>

namespace ariadne::pipeline {

MemoryTrimmer::MemoryTrimmer(InflightBudget* budget, size_t burst_bytes,
                             std::chrono::milliseconds period)
    : budget_(budget), burst_bytes_(burst_bytes), period_(period), thread_([this] { Run(); }) {}

MemoryTrimmer::~MemoryTrimmer() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void MemoryTrimmer::Run() {
  // What a burst leaves behind is freed in stages: the requests' buffers when they are answered,
  // the head's when the seal the burst triggered has written its block, a second or more later.
  // So after a burst the trim repeats on the next quiet periods too.
  constexpr int kTrimsPerBurst = 3;
  size_t burst_peak = 0;  // the largest in-flight figure since the burst's trims were scheduled
  int trims_due = 0;
  for (;;) {
    {
      std::unique_lock<Mutex> lock(mu_);
      cv_.wait_for(lock, period_, [this]() ARIADNE_NO_THREAD_SAFETY_ANALYSIS { return stopping_; });
      if (stopping_) return;
    }
    burst_peak = std::max(burst_peak, budget_->TakePeak());
    if (burst_peak >= burst_bytes_) {
      trims_due = kTrimsPerBurst;
      burst_peak = 0;
    }
    if (trims_due > 0 && budget_->in_flight_bytes() == 0) {
      malloc_trim(0);
      trims_.fetch_add(1, std::memory_order_relaxed);
      --trims_due;
    }
  }
}

}  // namespace ariadne::pipeline
