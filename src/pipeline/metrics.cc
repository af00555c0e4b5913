#include "pipeline/metrics.h"

namespace ariadne::pipeline {

std::string_view RejectReasonLabel(RejectReason reason) {
  switch (reason) {
    case RejectReason::kDecode:
      return "invalid_id_or_encoding";
    case RejectReason::kInvalidId:
      return "zero_id";
    case RejectReason::kMissingTimestamp:
      return "missing_timestamp";
    case RejectReason::kEndBeforeStart:
      return "end_before_start";
    case RejectReason::kTimestampOutOfRange:
      return "timestamp_out_of_range";
    case RejectReason::kCount:
      break;
  }
  return "unknown";
}

std::string_view RejectReasonText(RejectReason reason) {
  switch (reason) {
    case RejectReason::kDecode:
      return "invalid trace, span or parent id";
    case RejectReason::kInvalidId:
      return "all-zero trace or span id";
    case RejectReason::kMissingTimestamp:
      return "start or end time missing (zero)";
    case RejectReason::kEndBeforeStart:
      return "end time before start time";
    case RejectReason::kTimestampOutOfRange:
      return "timestamp out of range (before 2000 or more than a day in the future; "
             "times must be Unix nanoseconds)";
    case RejectReason::kCount:
      break;
  }
  return "unknown";
}

void IngestMetrics::RecordRequest(std::string_view receiver, int http_status) {
  std::lock_guard<std::mutex> lock(requests_mu_);
  auto key = std::make_pair(std::string(receiver), http_status);
  ++requests_[std::move(key)];
}

uint64_t IngestMetrics::requests(std::string_view receiver, int http_status) const {
  std::lock_guard<std::mutex> lock(requests_mu_);
  auto it = requests_.find(std::make_pair(std::string(receiver), http_status));
  return it == requests_.end() ? 0 : it->second;
}

uint64_t IngestMetrics::rejected_total() const {
  uint64_t total = 0;
  for (const auto& counter : rejected_) total += counter.load(std::memory_order_relaxed);
  return total;
}

void IngestMetrics::AppendPrometheus(std::string* out) const {
  auto counter = [out](std::string_view name, std::string_view help) {
    out->append("# HELP ").append(name).append(" ").append(help).append("\n");
    out->append("# TYPE ").append(name).append(" counter\n");
  };
  counter("ariadne_spans_received_total", "Spans received by all receivers, valid or not.");
  out->append("ariadne_spans_received_total ").append(std::to_string(received())).append("\n");
  counter("ariadne_spans_accepted_total", "Spans stored durably and acknowledged.");
  out->append("ariadne_spans_accepted_total ").append(std::to_string(accepted())).append("\n");
  counter("ariadne_spans_rejected_total", "Spans rejected as invalid, by reason.");
  for (size_t i = 0; i < kRejectReasonCount; ++i) {
    auto reason = static_cast<RejectReason>(i);
    out->append("ariadne_spans_rejected_total{reason=\"")
        .append(RejectReasonLabel(reason))
        .append("\"} ")
        .append(std::to_string(rejected(reason)))
        .append("\n");
  }
  counter("ariadne_spans_failed_total",
          "Spans the store could not take (client told to retry: 503).");
  out->append("ariadne_spans_failed_total ").append(std::to_string(failed())).append("\n");
  counter("ariadne_values_clamped_total",
          "Oversized strings truncated and attributes/events/links beyond the limits dropped.");
  out->append("ariadne_values_clamped_total ").append(std::to_string(clamped())).append("\n");
  counter("ariadne_ingest_shed_spans_total",
          "Spans refused at once because too much ingest was in flight, by reason (retryable).");
  out->append("ariadne_ingest_shed_spans_total{reason=\"inflight_limit\"} ")
      .append(std::to_string(shed()))
      .append("\n");
  counter("ariadne_ingest_invalid_utf8_replaced_total",
          "Invalid UTF-8 sequences in ingested strings replaced with U+FFFD at decode time.");
  out->append("ariadne_ingest_invalid_utf8_replaced_total ")
      .append(std::to_string(invalid_utf8()))
      .append("\n");
  counter("ariadne_ingest_requests_total", "Ingest requests by receiver and HTTP status.");
  std::lock_guard<std::mutex> lock(requests_mu_);
  for (const auto& [key, count] : requests_) {
    out->append("ariadne_ingest_requests_total{receiver=\"")
        .append(key.first)
        .append("\",code=\"")
        .append(std::to_string(key.second))
        .append("\"} ")
        .append(std::to_string(count))
        .append("\n");
  }
}

}  // namespace ariadne::pipeline
