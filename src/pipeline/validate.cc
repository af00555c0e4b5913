#include "pipeline/validate.h"

#include <optional>

namespace ariadne::pipeline {
namespace {

constexpr size_t kMaxReasonsInMessage = 3;

// Longest prefix of `text` no longer than `limit` bytes that does not split a UTF-8 sequence.
std::string_view TruncateUtf8(std::string_view text, size_t limit) {
  if (text.size() <= limit) return text;
  size_t cut = limit;
  // Step back over continuation bytes (10xxxxxx) so the cut lands on a character start.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut);
}

std::optional<RejectReason> Check(const model::Span& span, const ValidationOptions& options,
                                  uint64_t now_unix_nano) {
  if (span.trace_id.IsZero() || span.span_id.IsZero()) return RejectReason::kInvalidId;
  if (span.start_time_unix_nano == 0 || span.end_time_unix_nano == 0) {
    return RejectReason::kMissingTimestamp;
  }
  if (span.end_time_unix_nano < span.start_time_unix_nano) return RejectReason::kEndBeforeStart;
  if (span.start_time_unix_nano < options.min_time_unix_nano ||
      span.start_time_unix_nano > now_unix_nano + options.max_future_skew_nano) {
    return RejectReason::kTimestampOutOfRange;
  }
  return std::nullopt;
}

}  // namespace

ValidationReport ValidateBatch(model::SpanBatch& batch, const ValidationOptions& options,
                               uint64_t now_unix_nano) {
  ValidationReport report;
  std::string examples;
  size_t examples_count = 0;

  size_t kept = 0;
  for (size_t span_idx = 0; span_idx < batch.spans.size(); ++span_idx) {
    model::Span& span = batch.spans[span_idx];
    if (auto reason = Check(span, options, now_unix_nano)) {
      ++report.rejected;
      ++report.rejected_by_reason[static_cast<size_t>(*reason)];
      if (examples_count < kMaxReasonsInMessage) {
        if (examples_count > 0) examples += "; ";
        examples += std::string(RejectReasonText(*reason)) + " (span " + span.span_id.ToHex() + ")";
        ++examples_count;
      }
      continue;
    }
    // Clamp the kept span.
    if (static_cast<uint8_t>(span.kind) > static_cast<uint8_t>(model::SpanKind::kConsumer)) {
      span.kind = model::SpanKind::kUnspecified;
      ++report.clamped;
    }
    if (static_cast<uint8_t>(span.status_code) > static_cast<uint8_t>(model::StatusCode::kError)) {
      span.status_code = model::StatusCode::kUnset;
      ++report.clamped;
    }
    if (span.attributes.count > options.max_attributes_per_span) {
      span.dropped_attributes_count += span.attributes.count - options.max_attributes_per_span;
      span.attributes.count = options.max_attributes_per_span;
      ++report.clamped;
    }
    if (span.events.count > options.max_events_per_span) {
      span.dropped_events_count += span.events.count - options.max_events_per_span;
      span.events.count = options.max_events_per_span;
      ++report.clamped;
    }
    if (span.links.count > options.max_links_per_span) {
      span.dropped_links_count += span.links.count - options.max_links_per_span;
      span.links.count = options.max_links_per_span;
      ++report.clamped;
    }
    for (std::string_view* text : {&span.name, &span.status_message, &span.trace_state}) {
      if (text->size() > options.max_string_bytes) {
        *text = TruncateUtf8(*text, options.max_string_bytes);
        ++report.clamped;
      }
    }
    if (kept != span_idx) batch.spans[kept] = span;
    ++kept;
  }
  batch.spans.resize(kept);

  for (model::KeyValue& attribute : batch.attributes) {
    if (attribute.value.type == model::ValueType::kString &&
        attribute.value.str.size() > options.max_string_bytes) {
      attribute.value.str = TruncateUtf8(attribute.value.str, options.max_string_bytes);
      ++report.clamped;
    }
  }
  for (model::Event& event : batch.events) {
    if (event.name.size() > options.max_string_bytes) {
      event.name = TruncateUtf8(event.name, options.max_string_bytes);
      ++report.clamped;
    }
  }

  if (report.rejected > 0) {
    report.message = std::to_string(report.rejected) +
                     (report.rejected == 1 ? " span rejected: " : " spans rejected: ") + examples;
    if (report.rejected > examples_count) report.message += "; ...";
  }
  return report;
}

}  // namespace ariadne::pipeline
