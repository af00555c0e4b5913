// Small hand-built SpanBatches for pipeline tests.
#pragma once

#include <cstdint>
#include <string>

#include "model/span_batch.h"

namespace ariadne::pipeline::testing {

inline constexpr uint64_t kNow = 1'764'000'000'000'000'000ull;  // 2025-11-24T16:00:00Z

inline model::TraceId TraceIdOf(uint8_t n) {
  model::TraceId id;
  id.bytes.fill(0);
  id.bytes[0] = 0xAB;
  id.bytes[15] = n;
  return id;
}
inline model::SpanId SpanIdOf(uint8_t n) {
  model::SpanId id;
  id.bytes.fill(0);
  id.bytes[0] = 0xCD;
  id.bytes[7] = n;
  return id;
}

// A batch with one resource (service.name=`service`) and one scope.
inline model::SpanBatch NewBatch(std::string_view service = "svc") {
  model::SpanBatch batch;
  model::Resource resource;
  resource.attributes = {0, 1};
  batch.attributes.push_back(
      {batch.arena.Copy("service.name"), model::Value::String(batch.arena.Copy(service))});
  batch.resources.push_back(resource);
  model::Scope scope;
  scope.name = batch.arena.Copy("test-scope");
  batch.scopes.push_back(scope);
  return batch;
}

// Appends a span of trace 1 with span id `n`, start/end as given.
inline model::Span& AddSpan(model::SpanBatch& batch, uint8_t n, uint64_t start, uint64_t end,
                            uint8_t trace = 1) {
  model::Span span;
  span.trace_id = TraceIdOf(trace);
  span.span_id = SpanIdOf(n);
  span.name = batch.arena.Copy("span-" + std::to_string(n));
  span.kind = model::SpanKind::kInternal;
  span.start_time_unix_nano = start;
  span.end_time_unix_nano = end;
  span.attributes = {static_cast<uint32_t>(batch.attributes.size()), 0};
  batch.spans.push_back(span);
  return batch.spans.back();
}

}  // namespace ariadne::pipeline::testing
