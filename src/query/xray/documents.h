// Segment documents for BatchGetTraces: one document per segment (real or inferred), with its
// subsegments nested as X-Ray returns them.
//
// A segment that arrived as an X-Ray document comes back as sent: the decoder keeps each
// document's text (model::xray::kDocument) on the span of its top entity, and that text is
// returned unchanged — every field, number spelling and unknown key. Independently sent
// subsegments (their own stored documents) are placed into the `subsegments` of their parent
// node, in start-time order, as X-Ray merges them; a complete independent version replaces an
// embedded in-progress one. A document that had subsegments placed into it is re-serialized
// (keys in their sent order; numbers keep their value, not necessarily their spelling). A stored
// subsegment document whose parent never arrived is returned as its own entry, once.
//
// Spans that did not come as X-Ray documents (OTLP, Zipkin, ...) are rendered from the span
// model: X-Ray data from the attributes the decoder maps (model/xray_attributes.h), other
// attributes of OTLP spans in metadata namespace "otel".
//
// Threads: pure functions.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "query/xray_filter/trace_view.h"

namespace ariadne::query::xray {

struct SegmentDocument {
  std::string id;        // 16 hex
  std::string document;  // JSON text
};

std::vector<SegmentDocument> EncodeSegmentDocuments(const query::xray_filter::TraceView& view);

}  // namespace ariadne::query::xray
