// OTLP trace codec: ExportTraceServiceRequest bodies (protobuf and OTLP/JSON) into SpanBatches,
// and ExportTraceServiceResponse / google.rpc.Status bodies out.
//
// Decoders never stop at an invalid span: a span whose trace id is not 16 non-zero bytes, whose
// span id is not 8 non-zero bytes, or whose parent id is neither empty nor 8 bytes is left out and
// counted in `rejected_spans`, with the first few reasons in `rejection_message`; its neighbours
// are decoded as usual. Only a body that cannot be parsed at all fails the whole request
// (kInvalidArgument, message says where). A link whose ids are not 16/8 non-zero bytes is dropped
// and added to its span's dropped_links_count. Array and kvlist attribute values are stored as
// compact JSON text (kArray / kKvList); both decoders produce identical text for the same value.
//
// Invalid UTF-8 (OTLP requires UTF-8 strings): never rejects a span. The protobuf walker repairs
// each string that is not valid UTF-8 (every maximal invalid subpart becomes U+FFFD); the JSON
// decoder, whose whole body must be UTF-8 text, repairs the body the same way when it is not and
// then decodes it (a \u escape of a lone surrogate is not JSON simdjson accepts: that request is
// refused with 400). Either way the replacements are counted in `invalid_utf8_replaced` (the
// receiver adds it to ariadne_ingest_invalid_utf8_replaced_total). Nothing downstream ever sees
// invalid UTF-8. Bytes values (AnyValue.bytes_value) are not text and are kept as they are.
//
// The protobuf path is a hand-written zero-copy walker over the wire format (libprotobuf is its
// test oracle); string_views in the batch point into `body`, which the batch retains. The JSON
// path uses simdjson On-Demand and copies strings into the batch's arena.
//
// Threads: all functions are reentrant.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "model/span_batch.h"

namespace ariadne::receivers::otlp {

struct DecodedRequest {
  model::SpanBatch batch;
  uint64_t rejected_spans = 0;
  std::string rejection_message;       // empty when nothing was rejected
  uint64_t invalid_utf8_replaced = 0;  // U+FFFD substitutions made in strings (see above)
};

// `body` is the (already decompressed) protobuf ExportTraceServiceRequest.
Result<DecodedRequest> DecodeProtobufRequest(std::shared_ptr<const std::string> body);

// `body` is an OTLP/JSON ExportTraceServiceRequest.
Result<DecodedRequest> DecodeJsonRequest(std::string_view body);

// ExportTraceServiceResponse; partial_success is set only when rejected_spans > 0 or the message
// is non-empty. Protobuf bytes / OTLP JSON text respectively.
std::string EncodeProtobufResponse(uint64_t rejected_spans, std::string_view error_message);
std::string EncodeJsonResponse(uint64_t rejected_spans, std::string_view error_message);

// google.rpc.Status for 4xx/5xx answers.
std::string EncodeProtobufStatus(int32_t code, std::string_view message);
std::string EncodeJsonStatus(int32_t code, std::string_view message);

}  // namespace ariadne::receivers::otlp
