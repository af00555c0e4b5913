// The test span `ariadne doctor` sends down each configured path, in the encodings the paths take
// (OTLP protobuf for http/protobuf and gRPC, OTLP JSON, Zipkin v2 JSON), and the reading of an
// OTLP error body.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ariadne::cli::doctor {

struct TestSpan {
  std::string trace_id;  // 32 hex
  std::string span_id;   // 16 hex
  std::string name;
  uint64_t start_ns = 0;
  uint64_t end_ns = 0;
  std::vector<std::pair<std::string, std::string>> resource;  // service.name first
};

// ExportTraceServiceRequest with the one span (field numbers: protocols.md §1.6).
std::string EncodeProtobuf(const TestSpan& s);
// The same request as OTLP/JSON.
std::string EncodeJson(const TestSpan& s);
// A Zipkin v2 JSON array with the span (localEndpoint.serviceName = service.name).
std::string EncodeZipkinJson(const TestSpan& s);

// The `message` of a google.rpc.Status error body, protobuf or JSON, trimmed; else the body.
std::string ErrorMessage(const std::string& body);

}  // namespace ariadne::cli::doctor
