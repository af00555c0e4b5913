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
// Overload: bytes and spans in flight (handed to the store, not yet durable) are bounded; a batch
// past the bound is shed at once with kUnavailable (OTLP/HTTP 503 + Retry-After, X-Ray
// ThrottledException, a counted UDP drop) and counted on /metrics.
//
// Threads: Submit may be called concurrently from any thread; the callback runs on the caller's
// thread (nothing to store) or on the store's commit thread. The store and metrics must outlive
// the pipeline and every pending callback.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "model/span_batch.h"
#include "pipeline/inflight_budget.h"
#include "pipeline/metrics.h"
#include "pipeline/validate.h"
#include "store/span_store.h"

namespace ariadne::pipeline {

struct PipelineOptions {
  ValidationOptions validation;
  // In-flight bounds (see InflightBudget): bytes of decoded batches plus their request bodies,
  // and spans, accepted but not yet durable. 0 = no bound.
  size_t max_inflight_bytes = 512 * 1024 * 1024;
  size_t max_inflight_spans = 0;
  // Returns the current time in Unix nanoseconds; the system clock when empty.
  std::function<uint64_t()> clock;
};

struct SubmitResult {
  Status status;                // OK when the accepted spans are durable (or there were none)
  bool shed = false;            // refused at once for the in-flight bound (status kUnavailable)
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
  // `request_bytes`: the size of the request body the batch came in (held until the answer),
  // counted against the in-flight byte bound with the batch. Past the bound `done` gets
  // kUnavailable with `shed` set, at once.
  void Submit(std::string environment, model::SpanBatch batch, uint64_t prior_rejected,
              std::string prior_message, SubmitCallback done, size_t request_bytes = 0);

  IngestMetrics& metrics() { return *metrics_; }
  InflightBudget& inflight() { return inflight_; }

  // Batch hooks: called by Submit on every batch, before validation, on the submitting thread,
  // to annotate spans in place (the X-Ray receiver's sample weights, sampling/sample_weights.h).
  // A hook must be cheap for batches it does not care about. Add/Remove may be called at any
  // time; after RemoveBatchHook returns the hook is never called again. Returns an id.
  using BatchHook = std::function<void(model::SpanBatch*)>;
  int AddBatchHook(BatchHook hook);
  void RemoveBatchHook(int id);

 private:
  uint64_t Now() const;
  void RunBatchHooks(model::SpanBatch* batch);

  store::SpanStore* store_;
  IngestMetrics* metrics_;
  PipelineOptions options_;
  InflightBudget inflight_;
  // Hooks are held by shared_ptr so Submit runs them outside the lock.
  Mutex hooks_mu_;
  int next_hook_id_ ARIADNE_GUARDED_BY(hooks_mu_) = 1;
  std::vector<std::pair<int, std::shared_ptr<BatchHook>>> hooks_ ARIADNE_GUARDED_BY(hooks_mu_);
};

// True for store errors a client should retry later (503 + Retry-After on HTTP).
bool IsRetryable(const Status& status);

}  // namespace ariadne::pipeline
