// Pipeline: what every receiver hands its decoded spans to. It validates a batch (validate.h),
// counts what it saw (metrics.h), and appends the valid spans to the store; the receiver's
// callback runs once the store has made them durable, or has refused them.
//
//   receiver → Pipeline::Submit(environment, batch, prior rejections) → SpanStore::AppendAsync
//            ← SubmitResult{status, rejected, message}
//
// Status handling: the store's status is passed through unchanged. kResourceExhausted and
// kUnavailable mean "retry later" (OTLP/HTTP answers 503 + Retry-After — 503 rather than 429
// because the Python exporter retries 503 but not 429); anything else is a server error. A batch
// in which every span was rejected never reaches the store and succeeds with the rejections
// reported (OTLP partial success).
//
// Threads: Submit may be called concurrently from any thread; the callback runs on the caller's
// thread (nothing to store) or on the store's commit thread. The store and metrics must outlive
// the pipeline and every pending callback.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"
#include "model/span_batch.h"
#include "pipeline/metrics.h"
#include "pipeline/validate.h"
#include "store/span_store.h"

namespace ariadne::pipeline {

struct PipelineOptions {
  ValidationOptions validation;
  // Returns the current time in Unix nanoseconds; the system clock when empty.
  std::function<uint64_t()> clock;
};

struct SubmitResult {
  Status status;                // OK when the accepted spans are durable (or there were none)
  uint64_t accepted_spans = 0;  // spans stored
  uint64_t rejected_spans = 0;  // decoder rejections + validation rejections
  std::string message;          // why spans were rejected ("" when none were)
};

class Pipeline {
 public:
  using SubmitCallback = std::function<void(SubmitResult)>;

  Pipeline(store::SpanStore* store, IngestMetrics* metrics, PipelineOptions options = {});

  // `prior_rejected` spans were already left out by the decoder (`prior_message` says why); they
  // count as received and rejected. Calls `done` exactly once.
  void Submit(std::string environment, model::SpanBatch batch, uint64_t prior_rejected,
              std::string prior_message, SubmitCallback done);

  IngestMetrics& metrics() { return *metrics_; }

 private:
  uint64_t Now() const;

  store::SpanStore* store_;
  IngestMetrics* metrics_;
  PipelineOptions options_;
};

// True for store errors a client should retry later (503 + Retry-After on HTTP).
bool IsRetryable(const Status& status);

}  // namespace ariadne::pipeline
