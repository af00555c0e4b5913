// Zipkin v2 JSON (the body of `POST /api/v2/spans`: a JSON array of span objects), or its protobuf
// form (below) → the shared span model (model::SpanBatch). docs/receivers.md has the mapping as a
// table; in short:
//
//   traceId (16 or 32 hex; shorter is left-padded with zeros, as Zipkin does)
//                          → trace_id; a 64-bit id fills the low 8 bytes, the high 8 stay zero
//                            (OpenTelemetry's Zipkin translation)
//   id, parentId           → span_id, parent_span_id (a parentId equal to id, or all zeros: root)
//   name, kind             → name, kind (CLIENT/SERVER/PRODUCER/CONSUMER; without kind, a
//                            `span.kind` tag is used, else UNSPECIFIED)
//   timestamp, duration    → start, end (microseconds → nanoseconds); a span without a timestamp
//                            cannot be placed in time and is rejected
//   localEndpoint          → resource service.name (plus tags that are resource attributes:
//                            service.*, telemetry.*, host.*, os.*, process.*, container.*, k8s.*,
//                            cloud.*, deployment.*, faas.*, device.*); ipv4/ipv6/port → span
//                            attributes net.host.ip / net.host.port
//   remoteEndpoint         → peer.service, net.peer.ip, net.peer.port
//   tags                   → span attributes (string values; JSON numbers and booleans are kept
//                            typed). Consumed instead: otel.status_code, otel.status_description,
//                            error (status ERROR; its text, unless "true", is the status message),
//                            otel.scope.name/version and otel.library.name/version (the scope),
//                            w3c.tracestate, otel.dropped_{attributes,events,links}_count
//   annotations            → events (value = name, timestamp = time)
//   shared: true           → the server half of a span whose id the client also used: it gets a
//                            span id of its own (derived from the shared id, so a resend maps to
//                            the same id), the shared id as its parent, and zipkin.shared = true
//   debug                  → ignored
//
// Bad spans never take good ones down: a span object that cannot be mapped (missing or malformed
// ids, no timestamp, an unknown kind, a tag value that is an object/array) is left out and counted
// in `rejected_spans`, the first few reasons in `rejection_message`. Only a body that is not a JSON
// array fails as a whole (kInvalidArgument with a message saying what to send). Zipkin v1 JSON
// (binaryAnnotations, annotation endpoints) is recognised and refused with a pointer to JSON v2.
//
// Invalid UTF-8 never fails a span: a body that is not UTF-8 text is repaired (each maximal invalid
// subpart becomes U+FFFD) and decoded; the replacements are counted in `invalid_utf8_replaced`.
//
// Threads: reentrant (simdjson's parser is per thread); simdjson stays inside zipkin_decoder.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "model/ids.h"
#include "model/span_batch.h"

namespace ariadne::receivers::zipkin {

struct DecodedSpans {
  model::SpanBatch batch;
  uint64_t rejected_spans = 0;
  std::string rejection_message;  // "" when nothing was rejected
  uint64_t invalid_utf8_replaced = 0;
};

Result<DecodedSpans> DecodeZipkinJson(std::string_view body);

// Zipkin v2 protobuf: the body is a zipkin.proto3 ListOfSpans (zipkin_proto_decoder.cc has the
// field numbers). The mapping is the JSON one above (trace_id of 8 or 16 bytes, id and parent_id of
// 8, kind 1–4, timestamp/duration in microseconds, ipv4/ipv6 as 4/16 bytes shown as text, tags a
// string map). A Span that does not parse or map is left out and counted like a bad JSON span; a
// body that is not a ListOfSpans fails as a whole (kInvalidArgument saying what to send). Strings
// that are not UTF-8 are repaired and counted in `invalid_utf8_replaced`.
Result<DecodedSpans> DecodeZipkinProto3(std::string_view body);

// A Zipkin trace id (1–32 hex digits) as 16 bytes, left-padded with zeros; nullopt when it is not
// hex or longer than 32 digits.
std::optional<model::TraceId> ParseZipkinTraceId(std::string_view hex);
// A Zipkin span id (1–16 hex digits), left-padded; nullopt otherwise.
std::optional<model::SpanId> ParseZipkinSpanId(std::string_view hex);

// The span id a shared server span is stored under (see above): a fixed mix of `shared_id`, never
// zero and never equal to it.
model::SpanId SharedServerSpanId(const model::SpanId& shared_id);

}  // namespace ariadne::receivers::zipkin
