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
// The protobuf walker does not validate UTF-8 in strings.
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
  std::string rejection_message;  // empty when nothing was rejected
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
