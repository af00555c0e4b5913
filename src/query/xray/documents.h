// Spans → X-Ray segment documents, for BatchGetTraces: one document per segment (real or
// inferred), with its subsegments nested as X-Ray returns them. Works for spans from any source:
// X-Ray-specific data is read back from the attributes the decoder wrote (model/xray_attributes.h);
// other attributes of OTLP spans go to metadata namespace "otel".
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
