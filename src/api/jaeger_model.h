// Jaeger's query-service JSON (the `/api/...` shapes the Jaeger UI and Grafana's Jaeger data source
// read), rendered from the span model. Pure functions; jaeger_query.h decides what to read.
//
// Envelope (jaeger-query's structuredResponse):
//   {"data": …, "total": N, "limit": 0, "offset": 0, "errors": null | [{"code", "msg", "traceID"}]}
//
// Trace (ui.Trace): {"traceID", "spans": [Span], "processes": {"p1": Process, …}, "warnings": null}
// Span (ui.Span):   {"traceID", "spanID", "operationName", "references": [{"refType": "CHILD_OF" |
//                   "FOLLOWS_FROM", "traceID", "spanID"}], "startTime" (µs), "duration" (µs),
//                   "tags": [KeyValue], "logs": [{"timestamp" (µs), "fields": [KeyValue]}],
//                   "processID", "warnings": null} (+ "flags" when non-zero)
// Process:          {"serviceName", "tags": [KeyValue]}
// KeyValue:         {"key", "type": "string" | "bool" | "int64" | "float64" | "binary", "value"}
//
// The mapping follows OpenTelemetry's Jaeger translation: the parent is a CHILD_OF reference,
// links are FOLLOWS_FROM; the resource is the process (service.name → serviceName, the other
// resource attributes → its tags; identical resources share a process id, numbered p1, p2, … in
// order of first use); span attributes are tags, followed by otel.scope.name/version, span.kind,
// otel.status_code/otel.status_description, error = true for ERROR spans and w3c.tracestate; events
// are logs whose first field is event = NAME. Array and kvlist values are string tags holding their
// JSON text; bytes are binary (base64). Trace ids are printed as Jaeger does: 16 hex digits when
// the high 8 bytes are zero (a 64-bit Zipkin id), else 32. Spans are ordered by start time.
//
// Threads: reentrant.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json_writer.h"
#include "model/ids.h"
#include "store/span_store.h"

namespace ariadne::api::jaeger {

// 16 hex digits when the high half is zero, else 32 (Jaeger's TraceID.String()).
std::string TraceIdString(const model::TraceId& id);

// 1–32 hex digits (left-padded with zeros, as Jaeger's TraceIDFromString) or the X-Ray form;
// nullopt otherwise or when all zero.
std::optional<model::TraceId> ParseTraceId(std::string_view text);

// Writes one ui.Trace for the spans of `trace` (which must all share `id`).
void WriteTrace(JsonWriter& w, const model::TraceId& id, const store::TraceResult& trace);

struct Error {
  int code = 0;  // omitted when 0 (as for a missing trace among several asked for)
  std::string msg;
  std::string trace_id;  // omitted when empty
};

// The structuredResponse envelope around already-rendered `data_json`.
std::string Envelope(std::string_view data_json, uint64_t total, const std::vector<Error>& errors);

// {"data": null, "total": 0, …, "errors": [{"code": code, "msg": msg}]}: how jaeger-query answers
// a failed request (with `code` as the HTTP status too).
std::string ErrorEnvelope(int code, std::string_view msg);

}  // namespace ariadne::api::jaeger
