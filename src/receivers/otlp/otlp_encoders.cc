// The response half of otlp_codec.h: ExportTraceServiceResponse and google.rpc.Status, encoded by
// hand (a few bytes each; tests parse them back with libprotobuf). JSON forms omit default-valued
// fields the way proto3 JSON printers do, except that a Status always carries code and message.

#include "receivers/otlp/otlp_codec.h"
#include "receivers/otlp/otlp_internal.h"

namespace ariadne::receivers::otlp {
namespace {

void PutVarint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>(value | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void PutLenField(std::string& out, uint32_t field, std::string_view payload) {
  PutVarint(out, field << 3 | 2);
  PutVarint(out, payload.size());
  out.append(payload);
}

}  // namespace

std::string EncodeProtobufResponse(uint64_t rejected_spans, std::string_view error_message) {
  if (rejected_spans == 0 && error_message.empty()) return "";  // empty message, partial unset
  std::string partial;
  if (rejected_spans != 0) {
    PutVarint(partial, 1 << 3 | 0);
    PutVarint(partial, rejected_spans);
  }
  if (!error_message.empty()) PutLenField(partial, 2, error_message);
  std::string out;
  PutLenField(out, 1, partial);
  return out;
}

std::string EncodeJsonResponse(uint64_t rejected_spans, std::string_view error_message) {
  if (rejected_spans == 0 && error_message.empty()) return "{}";
  std::string out = "{\"partialSuccess\":{";
  if (rejected_spans != 0) {
    out += "\"rejectedSpans\":\"";  // int64 is a decimal string in OTLP/JSON
    internal::AppendJsonUint(out, rejected_spans);
    out += "\"";
  }
  if (!error_message.empty()) {
    if (rejected_spans != 0) out += ",";
    out += "\"errorMessage\":";
    internal::AppendJsonString(out, error_message);
  }
  out += "}}";
  return out;
}

std::string EncodeProtobufStatus(int32_t code, std::string_view message) {
  std::string out;
  if (code != 0) {
    PutVarint(out, 1 << 3 | 0);
    // int32 negatives are sign-extended to 64 bits on the wire.
    PutVarint(out, static_cast<uint64_t>(static_cast<int64_t>(code)));
  }
  if (!message.empty()) PutLenField(out, 2, message);
  return out;
}

std::string EncodeJsonStatus(int32_t code, std::string_view message) {
  std::string out = "{\"code\":";
  internal::AppendJsonInt(out, code);
  out += ",\"message\":";
  internal::AppendJsonString(out, message);
  out += "}";
  return out;
}

}  // namespace ariadne::receivers::otlp
