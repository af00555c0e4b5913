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
  size_t burst_peak = 0;  // the largest in-flight figure since the last trim
  for (;;) {
    {
      std::unique_lock<Mutex> lock(mu_);
      cv_.wait_for(lock, period_, [this]() ARIADNE_NO_THREAD_SAFETY_ANALYSIS { return stopping_; });
      if (stopping_) return;
    }
    burst_peak = std::max(burst_peak, budget_->TakePeak());
    if (burst_peak >= burst_bytes_ && budget_->in_flight_bytes() == 0) {
      malloc_trim(0);
      trims_.fetch_add(1, std::memory_order_relaxed);
      burst_peak = 0;
    }
  }
}

}  // namespace ariadne::pipeline
