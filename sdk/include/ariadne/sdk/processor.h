// Span processors receive every recorded span when it ends and hand sampled ones to an exporter.
// SimpleSpanProcessor exports synchronously (for tests); BatchSpanProcessor queues spans in a
// bounded lock-free ring and exports from a background thread, dropping (and counting) spans when
// the ring is full so the request thread never waits.
//
// Threads: OnEnd is called concurrently from every thread that ends spans. ForceFlush and Shutdown
// may be called from any thread; after Shutdown, OnEnd drops.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "ariadne/sdk/exporter.h"
#include "ariadne/sdk/span_data.h"

namespace ariadne::sdk {

class SpanProcessor {
 public:
  virtual ~SpanProcessor() = default;
  // Called on the thread that ended the span; must not block.
  virtual void OnEnd(SpanDataRef&& span) = 0;
  // Exports everything received so far; false when `timeout` passed first.
  virtual bool ForceFlush(std::chrono::milliseconds timeout) = 0;
  virtual bool Shutdown(std::chrono::milliseconds timeout) = 0;
};

// Exports each sampled span inside OnEnd (serialised by a mutex).
class SimpleSpanProcessor final : public SpanProcessor {
 public:
  explicit SimpleSpanProcessor(std::unique_ptr<SpanExporter> exporter);
  void OnEnd(SpanDataRef&& span) override;
  bool ForceFlush(std::chrono::milliseconds timeout) override;
  bool Shutdown(std::chrono::milliseconds timeout) override;

 private:
  std::mutex mu_;
  std::unique_ptr<SpanExporter> exporter_;
  bool shut_down_ = false;
};

struct BatchSpanProcessorOptions {
  size_t max_queue_size = 2048;                    // OTEL_BSP_MAX_QUEUE_SIZE
  std::chrono::milliseconds schedule_delay{5000};  // OTEL_BSP_SCHEDULE_DELAY
  size_t max_export_batch_size = 512;              // OTEL_BSP_MAX_EXPORT_BATCH_SIZE
  // Reads the OTEL_BSP_* variables over the defaults above.
  static BatchSpanProcessorOptions FromEnvironment();
};

class BatchSpanProcessor final : public SpanProcessor {
 public:
  BatchSpanProcessor(std::unique_ptr<SpanExporter> exporter, BatchSpanProcessorOptions options);
  ~BatchSpanProcessor() override;

  void OnEnd(SpanDataRef&& span) override;
  bool ForceFlush(std::chrono::milliseconds timeout) override;
  bool Shutdown(std::chrono::milliseconds timeout) override;

  // Spans dropped because the queue was full (or after shutdown).
  uint64_t dropped_spans() const { return dropped_.load(std::memory_order_relaxed); }
  uint64_t exported_spans() const { return exported_.load(std::memory_order_relaxed); }

 private:
  struct Cell {
    std::atomic<size_t> sequence;
    SpanDataRef span;
  };
  bool TryPush(SpanDataRef&& span);
  bool TryPop(SpanDataRef& out);
  size_t ApproximateSize() const;
  void Run();
  void ExportBatch(std::vector<SpanDataRef>& batch);

  std::unique_ptr<SpanExporter> exporter_;
  const BatchSpanProcessorOptions options_;

  // Bounded MPMC ring: each cell's sequence number tells producers and the consumer whose turn
  // it is, so neither side takes a lock.
  std::unique_ptr<Cell[]> cells_;
  size_t mask_;
  alignas(64) std::atomic<size_t> enqueue_pos_{0};
  alignas(64) std::atomic<size_t> dequeue_pos_{0};
  alignas(64) std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> exported_{0};
  std::atomic<bool> wake_requested_{false};
  std::atomic<bool> shut_down_{false};

  std::mutex mu_;
  std::condition_variable wake_cv_;
  std::condition_variable flushed_cv_;
  uint64_t flush_requests_ = 0;  // guarded by mu_
  uint64_t flush_done_ = 0;      // guarded by mu_
  bool stop_ = false;            // guarded by mu_
  std::thread worker_;
};

}  // namespace ariadne::sdk
