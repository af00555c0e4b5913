// OTLP requests built with libprotobuf (an oracle independent of our decoder).
#pragma once

#include <chrono>
#include <string>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace ariadne::testing {

namespace otlp_pb = opentelemetry::proto;

inline uint64_t NowNanos() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

inline std::string Bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

// 16-byte trace id 0x4bf92f3577b34da6a3ce929d0e0e47NN.
inline std::string TraceIdBytes(int last = 0x36) {
  return Bytes({0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e,
                0x47, last});
}
inline std::string SpanIdBytes(int last) {
  return Bytes({0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, last});
}

inline void AddString(google::protobuf::RepeatedPtrField<otlp_pb::common::v1::KeyValue>* attrs,
                      const std::string& key, const std::string& value) {
  auto* kv = attrs->Add();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
}

// A server span with a child: typed attributes, an event, a link, ERROR status on the child.
inline otlp_pb::collector::trace::v1::ExportTraceServiceRequest RichRequest(uint64_t start,
                                                                            int trace_last = 0x36) {
  otlp_pb::collector::trace::v1::ExportTraceServiceRequest request;
  auto* rs = request.add_resource_spans();
  rs->set_schema_url("https://opentelemetry.io/schemas/1.21.0");
  AddString(rs->mutable_resource()->mutable_attributes(), "service.name", "Cruddur");
  AddString(rs->mutable_resource()->mutable_attributes(), "host.name", "web-1");
  rs->mutable_resource()->set_dropped_attributes_count(1);
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("cruddur.backend");
  ss->mutable_scope()->set_version("1.2.3");
  AddString(ss->mutable_scope()->mutable_attributes(), "scope.attr", "s");

  auto* server = ss->add_spans();
  server->set_trace_id(TraceIdBytes(trace_last));
  server->set_span_id(SpanIdBytes(0x01));
  server->set_name("GET /api/activities/home");
  server->set_kind(otlp_pb::trace::v1::Span::SPAN_KIND_SERVER);
  server->set_start_time_unix_nano(start);
  server->set_end_time_unix_nano(start + 120'500'000);
  server->set_trace_state("ot=th:0");
  server->set_flags(0x101);
  AddString(server->mutable_attributes(), "http.method", "GET");
  server->mutable_status()->set_code(otlp_pb::trace::v1::Status::STATUS_CODE_OK);

  auto* child = ss->add_spans();
  child->set_trace_id(TraceIdBytes(trace_last));
  child->set_span_id(SpanIdBytes(0x02));
  child->set_parent_span_id(SpanIdBytes(0x01));
  child->set_name("db.query");
  child->set_kind(otlp_pb::trace::v1::Span::SPAN_KIND_CLIENT);
  child->set_start_time_unix_nano(start + 10'000'000);
  child->set_end_time_unix_nano(start + 22'250'000);
  child->set_dropped_attributes_count(2);
  auto* attrs = child->mutable_attributes();
  AddString(attrs, "db.system", "postgresql");
  {
    auto* kv = attrs->Add();
    kv->set_key("db.rows");
    kv->mutable_value()->set_int_value(-42);
  }
  {
    auto* kv = attrs->Add();
    kv->set_key("cache.hit");
    kv->mutable_value()->set_bool_value(true);
  }
  {
    auto* kv = attrs->Add();
    kv->set_key("ratio");
    kv->mutable_value()->set_double_value(0.25);
  }
  {
    auto* kv = attrs->Add();
    kv->set_key("blob");
    kv->mutable_value()->set_bytes_value(Bytes({0x00, 0xff, 0x10}));
  }
  {
    auto* kv = attrs->Add();
    kv->set_key("tags");
    auto* array = kv->mutable_value()->mutable_array_value();
    array->add_values()->set_string_value("a");
    array->add_values()->set_int_value(7);
  }
  {
    auto* kv = attrs->Add();
    kv->set_key("nested");
    auto* list = kv->mutable_value()->mutable_kvlist_value();
    auto* inner = list->add_values();
    inner->set_key("k");
    inner->mutable_value()->set_string_value("v");
  }
  auto* event = child->add_events();
  event->set_time_unix_nano(start + 15'000'000);
  event->set_name("exception");
  AddString(event->mutable_attributes(), "exception.message", "connection refused");
  auto* link = child->add_links();
  link->set_trace_id(TraceIdBytes(0x99));
  link->set_span_id(SpanIdBytes(0x77));
  link->set_trace_state("x=1");
  link->set_flags(1);
  AddString(link->mutable_attributes(), "link.kind", "follows");
  child->mutable_status()->set_code(otlp_pb::trace::v1::Status::STATUS_CODE_ERROR);
  child->mutable_status()->set_message("connection refused");
  return request;
}

}  // namespace ariadne::testing
