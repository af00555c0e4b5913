// SpanExporter: sends a batch of finished, sampled spans somewhere (OTLP/HTTP, X-Ray UDP, memory).
//
// Threads: a processor never calls Export concurrently on one exporter; Shutdown may race with
// nothing else.
#pragma once

#include <chrono>
#include <mutex>
#include <span>
#include <vector>

#include "ariadne/sdk/span_data.h"

namespace ariadne::sdk {

enum class ExportResult { kSuccess, kFailure };

class SpanExporter {
 public:
  virtual ~SpanExporter() = default;
  virtual ExportResult Export(std::span<const SpanDataRef> spans) = 0;
  virtual bool ForceFlush(std::chrono::milliseconds timeout) { return true; }
  virtual void Shutdown() {}
};

// Keeps every exported span in memory (for tests and for `ariadne doctor`-style checks).
class InMemorySpanExporter final : public SpanExporter {
 public:
  ExportResult Export(std::span<const SpanDataRef> spans) override {
    std::lock_guard lock(mu_);
    spans_.insert(spans_.end(), spans.begin(), spans.end());
    return ExportResult::kSuccess;
  }
  std::vector<SpanDataRef> Take() {
    std::lock_guard lock(mu_);
    return std::move(spans_);
  }

 private:
  std::mutex mu_;
  std::vector<SpanDataRef> spans_;
};

}  // namespace ariadne::sdk
