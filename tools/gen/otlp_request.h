// Encodes a SpanBatch as an OTLP ExportTraceServiceRequest (protobuf bytes), through the
// libprotobuf-generated classes: the reference encoding, used by benchmarks and ariadne-gen.
//
// Threads: reentrant.
#pragma once

#include <string>

#include "model/span_batch.h"

namespace ariadne::gen {

std::string EncodeOtlpRequest(const model::SpanBatch& batch);

}  // namespace ariadne::gen
