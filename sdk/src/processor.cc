#include "ariadne/sdk/processor.h"

#include <bit>

#include "internal/env.h"

namespace ariadne::sdk {

// ---------------------------------------------------------------------------------------------
// SimpleSpanProcessor

SimpleSpanProcessor::SimpleSpanProcessor(std::unique_ptr<SpanExporter> exporter)
    : exporter_(std::move(exporter)) {}

void SimpleSpanProcessor::OnEnd(SpanDataRef&& span) {
  if (!span->context().IsSampled()) return;
  std::lock_guard lock(mu_);
  if (shut_down_) return;
  exporter_->Export(std::span<const SpanDataRef>(&span, 1));
}

bool SimpleSpanProcessor::ForceFlush(std::chrono::milliseconds timeout) {
  std::lock_guard lock(mu_);
  return exporter_->ForceFlush(timeout);
}

bool SimpleSpanProcessor::Shutdown(std::chrono::milliseconds timeout) {
  std::lock_guard lock(mu_);
  if (shut_down_) return true;
  shut_down_ = true;
  exporter_->ForceFlush(timeout);
  exporter_->Shutdown();
  return true;
}

// ---------------------------------------------------------------------------------------------
// BatchSpanProcessor

BatchSpanProcessorOptions BatchSpanProcessorOptions::FromEnvironment() {
  BatchSpanProcessorOptions o;
  o.max_queue_size = internal::EnvInt("OTEL_BSP_MAX_QUEUE_SIZE", o.max_queue_size);
  o.schedule_delay = std::chrono::milliseconds(
      internal::EnvInt("OTEL_BSP_SCHEDULE_DELAY", o.schedule_delay.count()));
  o.max_export_batch_size =
      internal::EnvInt("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", o.max_export_batch_size);
  if (o.max_queue_size == 0) o.max_queue_size = 2048;
  if (o.max_export_batch_size == 0 || o.max_export_batch_size > o.max_queue_size) {
    o.max_export_batch_size = o.max_queue_size;
  }
  return o;
}

BatchSpanProcessor::BatchSpanProcessor(std::unique_ptr<SpanExporter> exporter,
                                       BatchSpanProcessorOptions options)
    : exporter_(std::move(exporter)), options_(options) {
  const size_t capacity = std::bit_ceil(std::max<size_t>(options_.max_queue_size, 2));
  cells_ = std::make_unique<Cell[]>(capacity);
  for (size_t i = 0; i < capacity; ++i) cells_[i].sequence.store(i, std::memory_order_relaxed);
  mask_ = capacity - 1;
  worker_ = std::thread([this] { Run(); });
}

BatchSpanProcessor::~BatchSpanProcessor() { Shutdown(std::chrono::seconds(10)); }

size_t BatchSpanProcessor::ApproximateSize() const {
  const size_t enq = enqueue_pos_.load(std::memory_order_relaxed);
  const size_t deq = dequeue_pos_.load(std::memory_order_relaxed);
  return enq >= deq ? enq - deq : 0;
}

bool BatchSpanProcessor::TryPush(SpanDataRef&& span) {
  size_t pos = enqueue_pos_.load(std::memory_order_relaxed);
  for (;;) {
    Cell& cell = cells_[pos & mask_];
    const size_t seq = cell.sequence.load(std::memory_order_acquire);
    const intptr_t diff = static_cast<intptr_t>(seq) - static_cast<intptr_t>(pos);
    if (diff == 0) {
      if (enqueue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
        cell.span = std::move(span);
        cell.sequence.store(pos + 1, std::memory_order_release);
        return true;
      }
    } else if (diff < 0) {
      return false;  // full
    } else {
      pos = enqueue_pos_.load(std::memory_order_relaxed);
    }
  }
}

bool BatchSpanProcessor::TryPop(SpanDataRef& out) {
  size_t pos = dequeue_pos_.load(std::memory_order_relaxed);
  for (;;) {
    Cell& cell = cells_[pos & mask_];
    const size_t seq = cell.sequence.load(std::memory_order_acquire);
    const intptr_t diff = static_cast<intptr_t>(seq) - static_cast<intptr_t>(pos + 1);
    if (diff == 0) {
      if (dequeue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
        out = std::move(cell.span);
        cell.sequence.store(pos + mask_ + 1, std::memory_order_release);
        return true;
      }
    } else if (diff < 0) {
      return false;  // empty
    } else {
      pos = dequeue_pos_.load(std::memory_order_relaxed);
    }
  }
}

void BatchSpanProcessor::OnEnd(SpanDataRef&& span) {
  if (!span->context().IsSampled()) return;
  if (shut_down_.load(std::memory_order_relaxed) || ApproximateSize() >= options_.max_queue_size ||
      !TryPush(std::move(span))) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (ApproximateSize() >= options_.max_export_batch_size &&
      !wake_requested_.exchange(true, std::memory_order_acq_rel)) {
    // If the worker holds the mutex it is awake and will see wake_requested_; otherwise the
    // notify reaches it. Either way the request thread never waits.
    std::unique_lock lock(mu_, std::try_to_lock);
    wake_cv_.notify_one();
  }
}

void BatchSpanProcessor::ExportBatch(std::vector<SpanDataRef>& batch) {
  if (batch.empty()) return;
  if (exporter_->Export(batch) == ExportResult::kSuccess) {
    exported_.fetch_add(batch.size(), std::memory_order_relaxed);
  }
  batch.clear();
}

void BatchSpanProcessor::Run() {
  std::vector<SpanDataRef> batch;
  batch.reserve(options_.max_export_batch_size);
  for (;;) {
    uint64_t flush_target = 0;
    bool stopping = false;
    {
      std::unique_lock lock(mu_);
      wake_cv_.wait_for(lock, options_.schedule_delay, [&] {
        return stop_ || flush_requests_ != flush_done_ ||
               wake_requested_.load(std::memory_order_acquire);
      });
      flush_target = flush_requests_;
      stopping = stop_;
    }
    wake_requested_.store(false, std::memory_order_release);
    SpanDataRef span;
    while (TryPop(span)) {
      batch.push_back(std::move(span));
      if (batch.size() >= options_.max_export_batch_size) ExportBatch(batch);
    }
    ExportBatch(batch);
    if (flush_target != 0) exporter_->ForceFlush(std::chrono::seconds(10));
    {
      std::lock_guard lock(mu_);
      if (flush_target > flush_done_) flush_done_ = flush_target;
    }
    flushed_cv_.notify_all();
    if (stopping) return;
  }
}

bool BatchSpanProcessor::ForceFlush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (stop_) return true;
  const uint64_t target = ++flush_requests_;
  wake_cv_.notify_one();
  return flushed_cv_.wait_for(lock, timeout, [&] { return flush_done_ >= target; });
}

bool BatchSpanProcessor::Shutdown(std::chrono::milliseconds timeout) {
  {
    std::lock_guard lock(mu_);
    if (stop_) return true;
    shut_down_.store(true);
    stop_ = true;
    ++flush_requests_;
  }
  wake_cv_.notify_one();
  if (worker_.joinable()) worker_.join();
  exporter_->Shutdown();
  return true;
}

}  // namespace ariadne::sdk
