// Honeycomb events → the shared span model (model::SpanBatch).
//
// Bodies: POST /1/events/{dataset} carries one JSON object of fields; POST /1/batch/{dataset} a
// JSON array of {"data": {...}, "time": "RFC 3339 or Unix", "samplerate": N}. Every event becomes
// exactly one span; the mapping (docs/receivers.md, "Honeycomb Events API"):
//
//   trace.trace_id   trace id: 32 hex digits as is; 16 hex digits zero-padded on the left; a UUID
//                    without its dashes; any other string hashed (XXH3-128) to 16 bytes. When the
//                    text was not used as is, the original is kept as `honeycomb.trace_id`.
//   trace.span_id    span id: 16 hex digits as is, any other string hashed (XXH3-64) to 8 bytes
//   trace.parent_id  (originals kept as `honeycomb.span_id` / `honeycomb.parent_id`). The same
//                    hash on both sides keeps parent links intact. Absent or empty parent = root.
//   name             span name (else the dataset)
//   service.name, service_name
//                    resource service.name (service.name wins); else the dataset. The dataset is
//                    also the resource attribute `honeycomb.dataset`.
//   duration_ms      end = start + duration; negative → 0 with `meta.invalid_duration = true`
//   time             start: the batch element's `time`, else X-Honeycomb-Event-Time, else a
//                    `Timestamp` field, else the receive time. More than 1 h in the future → the
//                    receive time (as Honeycomb); before 2000-01-01 → the event is refused.
//   error            true, a non-zero number or a non-empty string → status ERROR (a string also
//                    becomes the status message); status_code 0/1/2 → UNSET/OK/ERROR;
//                    status_message → status message; span.kind or type (server, client, ...) →
//                    kind; trace.trace_state → trace state; library.name/library.version → scope.
//   samplerate       the element's `samplerate`, else X-Honeycomb-Samplerate; when above 1 it is
//                    stored as the integer attribute `SampleRate`, which the query engine uses to
//                    weight COUNT/SUM/AVG/percentiles. The event's own SampleRate/sampleRate
//                    fields are then kept as `honeycomb.SampleRate`/`honeycomb.sampleRate`.
//   other fields     attributes: strings, booleans, 64-bit integers and doubles as they are;
//                    nested objects flattened with dots (`a.b.c`) up to 5 levels, deeper objects
//                    as their JSON text; arrays as JSON text (ValueType::kArray); null skipped.
//                    A field whose name is a built-in query column (status_code, type, span.kind,
//                    error, ...) but whose value does not fit it is kept as `honeycomb.<name>`.
//
// Events without `trace.trace_id` (plain structured events) are stored as spans too, so they answer
// the same query spec: random trace and span ids, kind INTERNAL, the attribute `meta.event = true`.
// An event with a trace id but no span id gets a random span id.
//
// Invalid UTF-8 never fails a body: it is repaired first (each invalid subpart becomes U+FFFD) and
// the replacements are counted.
//
// Threads: pure functions apart from a thread-local random source for synthetic ids; reentrant.
// simdjson stays inside event_decoder.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "model/span_batch.h"

namespace ariadne::receivers::honeycomb {

// Most fields in one event (after flattening), as Honeycomb's limit.
inline constexpr size_t kMaxEventFields = 2000;
// How far an event time may lie ahead of the receive time before it is replaced by it.
inline constexpr uint64_t kMaxFutureNanos = 3600ull * 1'000'000'000;
// Nested objects deeper than this are stored as JSON text.
inline constexpr int kMaxFlattenDepth = 5;

// What the request itself says about its events.
struct EventDefaults {
  std::string_view dataset;                // from the path, percent-decoded
  std::optional<uint64_t> time_unix_nano;  // X-Honeycomb-Event-Time
  int64_t sample_rate = 1;                 // X-Honeycomb-Samplerate
  uint64_t now_unix_nano = 0;              // receive time
};

// The answer for one element of a batch: 202 (decoded) or 400 with a message.
struct EventOutcome {
  int status = 202;
  std::string error;
};

// Decodes the body of POST /1/events: one JSON object. Its span is appended to `batch`; on failure
// `batch` is unchanged and the status is kInvalidArgument with a message for the client.
Status DecodeSingleEvent(std::string_view body, const EventDefaults& defaults,
                         model::SpanBatch* batch, uint64_t* invalid_utf8_replaced = nullptr);

// Decodes the body of POST /1/batch: a JSON array. Returns one outcome per element, in order; the
// spans of the good elements are appended to `batch`, a bad element leaves nothing behind. A body
// that is not a JSON array is kInvalidArgument.
Result<std::vector<EventOutcome>> DecodeEventBatch(std::string_view body,
                                                   const EventDefaults& defaults,
                                                   model::SpanBatch* batch,
                                                   uint64_t* invalid_utf8_replaced = nullptr);

// A sample rate from a header or a `samplerate` member: rounded; missing, unparsable or below 1
// → 1.
int64_t ParseSampleRate(std::string_view text);

}  // namespace ariadne::receivers::honeycomb
