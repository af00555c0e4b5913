#include "pipeline/pipeline.h"

#include <chrono>
#include <thread>
#include <utility>

namespace ariadne::pipeline {

Pipeline::Pipeline(store::SpanStore* store, IngestMetrics* metrics, PipelineOptions options)
    : store_(store),
      metrics_(metrics),
      options_(std::move(options)),
      inflight_(options_.max_inflight_bytes, options_.max_inflight_spans) {}

uint64_t Pipeline::Now() const {
  if (options_.clock) return options_.clock();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

int Pipeline::AddBatchHook(BatchHook hook) {
  MutexLock lock(&hooks_mu_);
  const int id = next_hook_id_++;
  hooks_.emplace_back(id, std::make_shared<BatchHook>(std::move(hook)));
  return id;
}

void Pipeline::RemoveBatchHook(int id) {
  std::shared_ptr<BatchHook> removed;
  {
    MutexLock lock(&hooks_mu_);
    for (auto it = hooks_.begin(); it != hooks_.end(); ++it) {
      if (it->first == id) {
        removed = std::move(it->second);
        hooks_.erase(it);
        break;
      }
    }
  }
  // Wait out a Submit that copied the hook before it was removed: it holds a reference.
  while (removed && removed.use_count() > 1) std::this_thread::yield();
}

void Pipeline::RunBatchHooks(model::SpanBatch* batch) {
  std::vector<std::shared_ptr<BatchHook>> hooks;
  {
    MutexLock lock(&hooks_mu_);
    if (hooks_.empty()) return;
    for (const auto& [id, hook] : hooks_) hooks.push_back(hook);
  }
  for (const auto& hook : hooks) (*hook)(batch);
}

bool IsRetryable(const Status& status) {
  return status.code() == StatusCode::kResourceExhausted ||
         status.code() == StatusCode::kUnavailable;
}

void Pipeline::Submit(std::string environment, model::SpanBatch batch, uint64_t prior_rejected,
                      std::string prior_message, SubmitCallback done, size_t request_bytes) {
  RunBatchHooks(&batch);
  metrics_->AddReceived(batch.spans.size() + prior_rejected);
  if (prior_rejected > 0) metrics_->AddRejected(RejectReason::kDecode, prior_rejected);

  ValidationReport report = ValidateBatch(batch, options_.validation, Now());
  for (size_t i = 0; i < kRejectReasonCount; ++i) {
    if (report.rejected_by_reason[i] > 0) {
      metrics_->AddRejected(static_cast<RejectReason>(i), report.rejected_by_reason[i]);
    }
  }
  if (report.clamped > 0) metrics_->AddClamped(report.clamped);

  SubmitResult result;
  result.rejected_spans = prior_rejected + report.rejected;
  result.message = std::move(prior_message);
  if (!report.message.empty()) {
    if (!result.message.empty()) result.message += "; ";
    result.message += report.message;
  }
  if (result.rejected_spans > 0 && result.message.empty()) {
    result.message = std::to_string(result.rejected_spans) + " spans rejected";
  }

  const uint64_t span_count = batch.spans.size();
  if (span_count == 0) {
    done(std::move(result));
    return;
  }
  const size_t bytes = EstimateBatchBytes(batch) + request_bytes;
  if (!inflight_.TryAcquire(bytes, span_count)) {
    metrics_->AddShed(span_count);
    result.shed = true;
    result.status = Status::Unavailable(
        "the server is over its in-flight ingest limit (" + std::to_string(inflight_.max_bytes()) +
        " bytes not yet durable; --max-inflight-bytes); retry after a short wait");
    done(std::move(result));
    return;
  }
  IngestMetrics* metrics = metrics_;
  InflightBudget* inflight = &inflight_;
  store_->AppendAsync(std::move(environment), std::move(batch),
                      [metrics, inflight, bytes, span_count, result = std::move(result),
                       done = std::move(done)](Status status) mutable {
                        inflight->Release(bytes, span_count);
                        if (status.ok()) {
                          metrics->AddAccepted(span_count);
                          result.accepted_spans = span_count;
                        } else {
                          metrics->AddFailed(span_count);
                        }
                        result.status = std::move(status);
                        done(std::move(result));
                      });
}

}  // namespace ariadne::pipeline
