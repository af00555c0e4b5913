#include "cli/doctor/test_span.h"

#include <string_view>

#include <nlohmann/json.hpp>

#include "cli/doctor/doctor_util.h"
#include "common/json_dump.h"

namespace ariadne::cli::doctor {
namespace {

using Json = nlohmann::json;

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}
void PutBytes(std::string& out, int field, std::string_view bytes) {
  PutVarint(out, (static_cast<uint64_t>(field) << 3) | 2);
  PutVarint(out, bytes.size());
  out.append(bytes);
}
void PutFixed64(std::string& out, int field, uint64_t v) {
  PutVarint(out, (static_cast<uint64_t>(field) << 3) | 1);
  for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}
void PutVarintField(std::string& out, int field, uint64_t v) {
  PutVarint(out, static_cast<uint64_t>(field) << 3);
  PutVarint(out, v);
}
std::string KeyValueProto(std::string_view key, std::string_view value) {
  std::string any, kv;
  PutBytes(any, 1, value);  // AnyValue.string_value
  PutBytes(kv, 1, key);
  PutBytes(kv, 2, any);
  return kv;
}
std::string ErrorMessageRaw(const std::string& body) {
  if (!body.empty() && body.front() == '{') {
    Json j = Json::parse(body, nullptr, false);
    if (j.is_object() && j.contains("message") && j["message"].is_string()) return j["message"];
    return body;
  }
  size_t pos = 0;
  auto varint = [&](uint64_t& v) {
    v = 0;
    for (int shift = 0; pos < body.size() && shift < 64; shift += 7) {
      uint8_t b = static_cast<uint8_t>(body[pos++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  };
  while (pos < body.size()) {
    uint64_t tag = 0, v = 0;
    if (!varint(tag)) break;
    const int wire = static_cast<int>(tag & 7);
    if (wire == 0) {
      if (!varint(v)) break;
    } else if (wire == 2) {
      if (!varint(v) || v > body.size() - pos) break;
      if ((tag >> 3) == 2) return body.substr(pos, v);
      pos += v;
    } else {
      break;
    }
  }
  return body;
}

}  // namespace

std::string EncodeProtobuf(const TestSpan& s) {
  std::string resource;
  for (const auto& [k, v] : s.resource) PutBytes(resource, 1, KeyValueProto(k, v));
  std::string scope;
  PutBytes(scope, 1, "ariadne-doctor");
  std::string span;
  PutBytes(span, 1, HexToBytes(s.trace_id));
  PutBytes(span, 2, HexToBytes(s.span_id));
  PutBytes(span, 5, s.name);
  PutVarintField(span, 6, 1);  // SPAN_KIND_INTERNAL
  PutFixed64(span, 7, s.start_ns);
  PutFixed64(span, 8, s.end_ns);
  PutBytes(span, 9, KeyValueProto("ariadne.doctor", "test span"));
  std::string scope_spans;
  PutBytes(scope_spans, 1, scope);
  PutBytes(scope_spans, 2, span);
  std::string resource_spans;
  PutBytes(resource_spans, 1, resource);
  PutBytes(resource_spans, 2, scope_spans);
  std::string request;
  PutBytes(request, 1, resource_spans);
  return request;
}

std::string EncodeJson(const TestSpan& s) {
  Json attrs = Json::array();
  for (const auto& [k, v] : s.resource)
    attrs.push_back({{"key", k}, {"value", {{"stringValue", v}}}});
  Json span = {
      {"traceId", s.trace_id},
      {"spanId", s.span_id},
      {"name", s.name},
      {"kind", 1},
      {"startTimeUnixNano", std::to_string(s.start_ns)},
      {"endTimeUnixNano", std::to_string(s.end_ns)},
      {"attributes", {{{"key", "ariadne.doctor"}, {"value", {{"stringValue", "test span"}}}}}}};
  Json request = {
      {"resourceSpans",
       {{{"resource", {{"attributes", attrs}}},
         {"scopeSpans", {{{"scope", {{"name", "ariadne-doctor"}}}, {"spans", {span}}}}}}}}};
  return DumpJson(request);
}

// The `message` of a google.rpc.Status error body, protobuf or JSON.

std::string ErrorMessage(const std::string& body) { return Trim(ErrorMessageRaw(body)); }

std::string EncodeZipkinJson(const TestSpan& s) {
  std::string service;
  Json tags = Json::object();
  for (const auto& [k, v] : s.resource) {
    if (k == "service.name") {
      service = v;
    } else {
      tags[k] = v;
    }
  }
  tags["ariadne.doctor"] = "test span";
  Json span = {{"traceId", s.trace_id},
               {"id", s.span_id},
               {"name", s.name},
               {"timestamp", s.start_ns / 1000},
               {"duration", (s.end_ns - s.start_ns) / 1000},
               {"localEndpoint", {{"serviceName", service}}},
               {"tags", tags}};
  return DumpJson(Json::array({span}));
}

}  // namespace ariadne::cli::doctor
