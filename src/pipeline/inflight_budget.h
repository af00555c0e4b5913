// InflightBudget: bounds the ingest that receivers have handed to the pipeline but the store has
// not yet made durable, in bytes (a decoded batch's memory plus the request body that carried it)
// and in spans. Past either bound the pipeline sheds the batch at once (a retryable error: OTLP
// 503 + Retry-After, X-Ray ThrottledException, a counted UDP drop) instead of queueing it, so an
// overload costs bounded memory and clients back off.
//
// Who calls: Pipeline::Submit acquires, the store's append callback releases. The MemoryTrimmer
// reads in_flight_bytes()/peak to know when a burst is over.
//
// Threads: every method may be called from any thread (atomics only).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "model/span_batch.h"

namespace ariadne::pipeline {

// Approximate heap bytes held by a decoded batch (vectors by capacity, plus the string arena).
inline size_t EstimateBatchBytes(const model::SpanBatch& batch) {
  return batch.arena.bytes_allocated() + batch.spans.capacity() * sizeof(model::Span) +
         batch.attributes.capacity() * sizeof(model::KeyValue) +
         batch.events.capacity() * sizeof(model::Event) +
         batch.links.capacity() * sizeof(model::Link) +
         batch.resources.capacity() * sizeof(model::Resource) +
         batch.scopes.capacity() * sizeof(model::Scope);
}

class InflightBudget {
 public:
  // 0 means no bound for that dimension.
  InflightBudget(size_t max_bytes, size_t max_spans)
      : max_bytes_(max_bytes), max_spans_(max_spans) {}

  // Takes `bytes` and `spans` when both fit (a single batch larger than the whole budget is still
  // admitted when nothing else is in flight, so it can never be refused forever).
  bool TryAcquire(size_t bytes, size_t spans) {
    size_t used = bytes_.load(std::memory_order_relaxed);
    do {
      if (max_bytes_ != 0 && used != 0 && used + bytes > max_bytes_) return Shed(spans);
    } while (!bytes_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
    size_t span_count = spans_.fetch_add(spans, std::memory_order_relaxed);
    if (max_spans_ != 0 && span_count != 0 && span_count + spans > max_spans_) {
      spans_.fetch_sub(spans, std::memory_order_relaxed);
      bytes_.fetch_sub(bytes, std::memory_order_relaxed);
      return Shed(spans);
    }
    size_t now = used + bytes;
    size_t peak = peak_bytes_.load(std::memory_order_relaxed);
    while (now > peak && !peak_bytes_.compare_exchange_weak(peak, now)) {
    }
    return true;
  }
  void Release(size_t bytes, size_t spans) {
    bytes_.fetch_sub(bytes, std::memory_order_relaxed);
    spans_.fetch_sub(spans, std::memory_order_relaxed);
  }

  size_t max_bytes() const { return max_bytes_; }
  size_t in_flight_bytes() const { return bytes_.load(std::memory_order_relaxed); }
  size_t in_flight_spans() const { return spans_.load(std::memory_order_relaxed); }
  uint64_t shed_batches() const { return shed_batches_.load(std::memory_order_relaxed); }
  uint64_t shed_spans() const { return shed_spans_.load(std::memory_order_relaxed); }
  // The highest in_flight_bytes since the last TakePeak (which resets it to zero).
  size_t TakePeak() { return peak_bytes_.exchange(0, std::memory_order_relaxed); }

 private:
  bool Shed(size_t spans) {
    shed_batches_.fetch_add(1, std::memory_order_relaxed);
    shed_spans_.fetch_add(spans, std::memory_order_relaxed);
    return false;
  }

  const size_t max_bytes_;
  const size_t max_spans_;
  std::atomic<size_t> bytes_{0};
  std::atomic<size_t> spans_{0};
  std::atomic<size_t> peak_bytes_{0};
  std::atomic<uint64_t> shed_batches_{0};
  std::atomic<uint64_t> shed_spans_{0};
};

}  // namespace ariadne::pipeline
