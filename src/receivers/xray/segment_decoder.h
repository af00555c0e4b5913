// X-Ray segment documents → the shared span model (model::SpanBatch).
//
// One document is a segment, an in-progress segment, an independently sent subsegment
// (`"type": "subsegment"` with `trace_id` and `parent_id`) or a JSON array of such subsegments.
// Every segment and every embedded or independent subsegment becomes one span; the mapping is
// documented row by row in docs/xray-mapping.md and the attribute keys are in
// model/xray_attributes.h.
//
// Documents as sent: the span of each document's top entity (the segment, an independent
// subsegment, each element of a top-level array) also carries the document's text with the
// whitespace removed (`aws.xray.document`), so BatchGetTraces returns every field as it came
// (query/xray/documents.h).
//
// In-progress documents: they have no end time, so the span is stored with end = start and
// `aws.xray.in_progress = true`. The complete document with the same id arrives later and is stored
// too; readers (the X-Ray API, the filter evaluator) keep only the complete version of an id
// (see query/xray_filter/trace_view.h). Nothing is buffered in memory, so a crash loses nothing.
//
// Called by the UDP daemon listener and by PutTraceSegments. Pure functions: reentrant, no state;
// simdjson stays inside segment_decoder.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "model/span_batch.h"

namespace ariadne::receivers::xray {

struct DecodeLimits {
  size_t max_document_bytes = 1024 * 1024;  // PutTraceSegments documents; UDP is capped at 64 KiB
  int max_subsegment_depth = 64;            // deeper nesting is rejected (stack safety)
};

// What a failed document looked like, for PutTraceSegments' UnprocessedTraceSegments.
struct DecodeError {
  std::string id;          // the document's "id" when it could be read, else ""
  std::string error_code;  // "InvalidJson", "MissingField", "InvalidTraceId", "InvalidId", ...
  std::string message;     // a sentence naming the field
};

// Decodes `document` and appends its spans to `batch` (strings are copied into batch->arena).
// On failure `batch` is left unchanged and `error` (if given) says why. Returns the number of spans
// appended.
//
// Invalid UTF-8 never fails a document (the rule every receiver follows, see otlp_codec.h): a
// document that is not UTF-8 text is repaired (each maximal invalid subpart becomes U+FFFD) and
// decoded. (A \u escape of a lone surrogate is refused by simdjson as InvalidJson.) On success the
// number of replacements is added to `*invalid_utf8_replaced` (if given) for the ingest metrics.
Result<size_t> DecodeSegmentDocument(std::string_view document, model::SpanBatch* batch,
                                     const DecodeLimits& limits = {}, DecodeError* error = nullptr,
                                     uint64_t* invalid_utf8_replaced = nullptr);

// Appends every span of `from` (with resources, scopes, attributes, events and links) to `to`.
void AppendBatch(const model::SpanBatch& from, model::SpanBatch* to);

// The datagram form of the daemon protocol: `{"format": "json", "version": 1}` + "\n" + document.
// Returns the document part, or kInvalidArgument naming the reason: "missing_header" (no newline or
// empty body), "bad_header" (not a JSON object with format json / version 1). The reason label is
// the status message's prefix before ':'.
Result<std::string_view> SplitDaemonDatagram(std::string_view datagram);

}  // namespace ariadne::receivers::xray
