#include "tools/gen/otlp_request.h"

#include <map>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace ariadne::gen {
namespace {

namespace otlp = opentelemetry::proto;

void SetValue(const model::Value& v, otlp::common::v1::AnyValue* out) {
  switch (v.type) {
    case model::ValueType::kEmpty:
      break;
    case model::ValueType::kString:
      out->set_string_value(std::string(v.str));
      break;
    case model::ValueType::kBool:
      out->set_bool_value(v.bool_value);
      break;
    case model::ValueType::kInt:
      out->set_int_value(v.int_value);
      break;
    case model::ValueType::kDouble:
      out->set_double_value(v.double_value);
      break;
    // Arrays and kvlists are carried as their JSON text: the generator does not produce them.
    default:
      out->set_bytes_value(std::string(v.str));
      break;
  }
}

template <typename Repeated>
void AddAttributes(const model::SpanBatch& b, model::Range r, Repeated* out) {
  for (uint32_t i = r.begin; i < r.end(); ++i) {
    auto* kv = out->Add();
    kv->set_key(std::string(b.attributes[i].key));
    SetValue(b.attributes[i].value, kv->mutable_value());
  }
}

}  // namespace

std::string EncodeOtlpRequest(const model::SpanBatch& batch) {
  otlp::collector::trace::v1::ExportTraceServiceRequest request;
  std::map<std::pair<uint32_t, uint32_t>, otlp::trace::v1::ScopeSpans*> groups;
  std::map<uint32_t, otlp::trace::v1::ResourceSpans*> resources;
  for (const model::Span& s : batch.spans) {
    auto& rs = resources[s.resource_index];
    if (rs == nullptr) {
      rs = request.add_resource_spans();
      AddAttributes(batch, batch.resources[s.resource_index].attributes,
                    rs->mutable_resource()->mutable_attributes());
    }
    auto& ss = groups[{s.resource_index, s.scope_index}];
    if (ss == nullptr) {
      ss = rs->add_scope_spans();
      const model::Scope& scope = batch.scopes[s.scope_index];
      ss->mutable_scope()->set_name(std::string(scope.name));
      ss->mutable_scope()->set_version(std::string(scope.version));
    }
    auto* span = ss->add_spans();
    span->set_trace_id(std::string(s.trace_id.AsStringView()));
    span->set_span_id(std::string(s.span_id.AsStringView()));
    if (!s.parent_span_id.IsZero())
      span->set_parent_span_id(std::string(s.parent_span_id.AsStringView()));
    span->set_name(std::string(s.name));
    span->set_kind(static_cast<otlp::trace::v1::Span::SpanKind>(s.kind));
    span->set_start_time_unix_nano(s.start_time_unix_nano);
    span->set_end_time_unix_nano(s.end_time_unix_nano);
    span->set_flags(s.flags);
    if (!s.trace_state.empty()) span->set_trace_state(std::string(s.trace_state));
    AddAttributes(batch, s.attributes, span->mutable_attributes());
    if (s.status_code != model::StatusCode::kUnset) {
      span->mutable_status()->set_code(
          static_cast<otlp::trace::v1::Status::StatusCode>(s.status_code));
      span->mutable_status()->set_message(std::string(s.status_message));
    }
    for (uint32_t i = s.events.begin; i < s.events.end(); ++i) {
      auto* e = span->add_events();
      e->set_time_unix_nano(batch.events[i].time_unix_nano);
      e->set_name(std::string(batch.events[i].name));
      AddAttributes(batch, batch.events[i].attributes, e->mutable_attributes());
    }
  }
  return request.SerializeAsString();
}

}  // namespace ariadne::gen
