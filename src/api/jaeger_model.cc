#include "api/jaeger_model.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <utility>

namespace ariadne::api::jaeger {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Base64(std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  for (size_t i = 0; i < data.size(); i += 3) {
    const size_t n = std::min<size_t>(3, data.size() - i);
    uint32_t bits = 0;
    for (size_t k = 0; k < 3; ++k) {
      bits = bits << 8 | (k < n ? static_cast<uint8_t>(data[i + k]) : 0);
    }
    for (size_t k = 0; k < 4; ++k) {
      out.push_back(k <= n ? kAlphabet[bits >> (18 - 6 * k) & 63] : '=');
    }
  }
  return out;
}

void WriteKeyValue(JsonWriter& w, std::string_view key, const model::Value& value) {
  w.BeginObject();
  w.Member("key", key);
  switch (value.type) {
    case model::ValueType::kBool:
      w.Member("type", "bool");
      w.Key("value");
      w.Bool(value.bool_value);
      break;
    case model::ValueType::kInt:
      w.Member("type", "int64");
      w.Key("value");
      w.Int(value.int_value);
      break;
    case model::ValueType::kDouble:
      w.Member("type", "float64");
      w.Key("value");
      w.Double(value.double_value);
      break;
    case model::ValueType::kBytes:
      w.Member("type", "binary");
      w.Member("value", Base64(value.str));
      break;
    case model::ValueType::kEmpty:
      w.Member("type", "string");
      w.Member("value", "");
      break;
    default:  // string, and arrays / kvlists as their JSON text
      w.Member("type", "string");
      w.Member("value", value.str);
      break;
  }
  w.EndObject();
}

void WriteStringTag(JsonWriter& w, std::string_view key, std::string_view value) {
  WriteKeyValue(w, key, model::Value::String(value));
}

void WriteAttributes(JsonWriter& w, const model::SpanBatch& batch, model::Range range) {
  for (uint32_t i = range.begin; i < range.end() && i < batch.attributes.size(); ++i) {
    WriteKeyValue(w, batch.attributes[i].key, batch.attributes[i].value);
  }
}

void WriteReference(JsonWriter& w, std::string_view type, const model::TraceId& trace_id,
                    const model::SpanId& span_id) {
  w.BeginObject();
  w.Member("refType", type);
  w.Member("traceID", TraceIdString(trace_id));
  w.Member("spanID", span_id.ToHex());
  w.EndObject();
}

// Process ids: one per distinct (service name, resource attributes), p1, p2, … in order of use.
class Processes {
 public:
  explicit Processes(const model::SpanBatch& batch) : batch_(batch) {}

  const std::string& IdOf(uint32_t resource_index) {
    auto known = by_resource_.find(resource_index);
    if (known != by_resource_.end()) return known->second;
    std::string key = KeyOf(resource_index);
    auto [it, inserted] = by_key_.try_emplace(std::move(key), "");
    if (inserted) {
      it->second = "p" + std::to_string(order_.size() + 1);
      order_.push_back(resource_index);
    }
    return by_resource_.emplace(resource_index, it->second).first->second;
  }

  void Write(JsonWriter& w) const {
    w.BeginObject();
    for (size_t i = 0; i < order_.size(); ++i) {
      w.Key("p" + std::to_string(i + 1));
      w.BeginObject();
      w.Member("serviceName", batch_.ServiceName(order_[i]));
      w.Key("tags");
      w.BeginArray();
      if (order_[i] < batch_.resources.size()) {
        const model::Range range = batch_.resources[order_[i]].attributes;
        for (uint32_t a = range.begin; a < range.end() && a < batch_.attributes.size(); ++a) {
          if (batch_.attributes[a].key == "service.name") continue;
          WriteKeyValue(w, batch_.attributes[a].key, batch_.attributes[a].value);
        }
      }
      w.EndArray();
      w.EndObject();
    }
    w.EndObject();
  }

 private:
  std::string KeyOf(uint32_t resource_index) const {
    std::string key;
    if (resource_index >= batch_.resources.size()) return key;
    const model::Range range = batch_.resources[resource_index].attributes;
    for (uint32_t a = range.begin; a < range.end() && a < batch_.attributes.size(); ++a) {
      const model::KeyValue& kv = batch_.attributes[a];
      key.append(kv.key).push_back('\0');
      key.push_back(static_cast<char>(kv.value.type));
      switch (kv.value.type) {
        case model::ValueType::kBool:
        case model::ValueType::kInt:
        case model::ValueType::kDouble:
          key.append(std::to_string(kv.value.int_value));
          break;
        default:
          key.append(kv.value.str);
      }
      key.push_back('\0');
    }
    return key;
  }

  const model::SpanBatch& batch_;
  std::map<uint32_t, std::string> by_resource_;
  std::map<std::string, std::string> by_key_;
  std::vector<uint32_t> order_;
};

void WriteSpan(JsonWriter& w, const model::SpanBatch& batch, const model::Span& span,
               const std::string& process_id) {
  w.BeginObject();
  w.Member("traceID", TraceIdString(span.trace_id));
  w.Member("spanID", span.span_id.ToHex());
  if ((span.flags & 0xff) != 0) {
    w.Key("flags");
    w.Uint(span.flags & 0xff);
  }
  w.Member("operationName", span.name);
  w.Key("references");
  w.BeginArray();
  if (!span.is_root()) WriteReference(w, "CHILD_OF", span.trace_id, span.parent_span_id);
  for (uint32_t i = span.links.begin; i < span.links.end() && i < batch.links.size(); ++i) {
    WriteReference(w, "FOLLOWS_FROM", batch.links[i].trace_id, batch.links[i].span_id);
  }
  w.EndArray();
  w.Key("startTime");
  w.Uint(span.start_time_unix_nano / 1000);
  w.Key("duration");
  w.Uint(span.duration_nano() / 1000);
  w.Key("tags");
  w.BeginArray();
  WriteAttributes(w, batch, span.attributes);
  if (span.scope_index < batch.scopes.size()) {
    const model::Scope& scope = batch.scopes[span.scope_index];
    if (!scope.name.empty()) WriteStringTag(w, "otel.scope.name", scope.name);
    if (!scope.version.empty()) WriteStringTag(w, "otel.scope.version", scope.version);
  }
  if (span.kind != model::SpanKind::kUnspecified) {
    WriteStringTag(w, "span.kind", model::SpanKindName(span.kind));
  }
  if (span.status_code == model::StatusCode::kOk) {
    WriteStringTag(w, "otel.status_code", "OK");
  } else if (span.status_code == model::StatusCode::kError) {
    WriteStringTag(w, "otel.status_code", "ERROR");
    WriteKeyValue(w, "error", model::Value::Bool(true));
  }
  if (!span.status_message.empty()) {
    WriteStringTag(w, "otel.status_description", span.status_message);
  }
  if (!span.trace_state.empty()) WriteStringTag(w, "w3c.tracestate", span.trace_state);
  w.EndArray();
  w.Key("logs");
  w.BeginArray();
  for (uint32_t i = span.events.begin; i < span.events.end() && i < batch.events.size(); ++i) {
    const model::Event& event = batch.events[i];
    w.BeginObject();
    w.Key("timestamp");
    w.Uint(event.time_unix_nano / 1000);
    w.Key("fields");
    w.BeginArray();
    WriteStringTag(w, "event", event.name);
    WriteAttributes(w, batch, event.attributes);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Member("processID", process_id);
  w.Key("warnings");
  w.Null();
  w.EndObject();
}

void WriteErrors(JsonWriter& w, const std::vector<Error>& errors) {
  if (errors.empty()) {
    w.Null();
    return;
  }
  w.BeginArray();
  for (const Error& error : errors) {
    w.BeginObject();
    if (error.code != 0) {
      w.Key("code");
      w.Int(error.code);
    }
    w.Member("msg", error.msg);
    if (!error.trace_id.empty()) w.Member("traceID", error.trace_id);
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

std::string TraceIdString(const model::TraceId& id) {
  std::string hex = id.ToHex();
  if (hex.compare(0, 16, "0000000000000000") == 0) return hex.substr(16);
  return hex;
}

std::optional<model::TraceId> ParseTraceId(std::string_view text) {
  if (auto xray = model::ParseXrayTraceId(text)) {
    if (xray->IsZero()) return std::nullopt;
    return xray;
  }
  if (text.empty() || text.size() > 32) return std::nullopt;
  std::string hex(32 - text.size(), '0');
  for (char c : text) {
    if (HexDigit(c) < 0) return std::nullopt;
    hex.push_back(c);
  }
  auto id = model::TraceId::FromHex(hex);
  if (!id || id->IsZero()) return std::nullopt;
  return id;
}

void WriteTrace(JsonWriter& w, const model::TraceId& id, const store::TraceResult& trace) {
  const model::SpanBatch& batch = trace.spans;
  std::vector<size_t> order(batch.spans.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return batch.spans[a].start_time_unix_nano < batch.spans[b].start_time_unix_nano;
  });
  Processes processes(batch);
  w.BeginObject();
  w.Member("traceID", TraceIdString(id));
  w.Key("spans");
  w.BeginArray();
  for (size_t index : order) {
    const model::Span& span = batch.spans[index];
    WriteSpan(w, batch, span, processes.IdOf(span.resource_index));
  }
  w.EndArray();
  w.Key("processes");
  processes.Write(w);
  w.Key("warnings");
  w.Null();
  w.EndObject();
}

std::string Envelope(std::string_view data_json, uint64_t total, const std::vector<Error>& errors) {
  std::string out;
  out.reserve(data_json.size() + 96);
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("data");
  w.Raw(data_json);
  w.Key("total");
  w.Uint(total);
  w.Key("limit");
  w.Int(0);
  w.Key("offset");
  w.Int(0);
  w.Key("errors");
  WriteErrors(w, errors);
  w.EndObject();
  out.push_back('\n');
  return out;
}

std::string ErrorEnvelope(int code, std::string_view msg) {
  return Envelope("null", 0, {Error{code, std::string(msg), ""}});
}

}  // namespace ariadne::api::jaeger
