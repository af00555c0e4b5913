#include "model/span_batch.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ariadne::model {

std::string_view StringArena::Copy(std::string_view text) {
  if (text.empty()) return {};
  if (text.size() > kChunkSize / 4) {
    // Large strings get a chunk of their own so they do not waste the rest of the current one.
    auto chunk = std::make_unique<char[]>(text.size());
    std::memcpy(chunk.get(), text.data(), text.size());
    std::string_view view(chunk.get(), text.size());
    bytes_allocated_ += text.size();
    // Keep the current chunk current: insert the big one before it.
    if (chunks_.empty()) {
      chunks_.push_back(std::move(chunk));
      chunk_used_ = kChunkSize;  // no open chunk yet
    } else {
      chunks_.insert(chunks_.end() - 1, std::move(chunk));
    }
    return view;
  }
  if (chunk_used_ + text.size() > kChunkSize) {
    chunks_.push_back(std::make_unique<char[]>(kChunkSize));
    chunk_used_ = 0;
    bytes_allocated_ += kChunkSize;
  }
  char* dst = chunks_.back().get() + chunk_used_;
  std::memcpy(dst, text.data(), text.size());
  chunk_used_ += text.size();
  return std::string_view(dst, text.size());
}

std::string_view SpanKindName(SpanKind kind) {
  switch (kind) {
    case SpanKind::kUnspecified:
      return "unspecified";
    case SpanKind::kInternal:
      return "internal";
    case SpanKind::kServer:
      return "server";
    case SpanKind::kClient:
      return "client";
    case SpanKind::kProducer:
      return "producer";
    case SpanKind::kConsumer:
      return "consumer";
  }
  return "unspecified";
}

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kUnset:
      return "unset";
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kError:
      return "error";
  }
  return "unset";
}

std::string_view ValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kEmpty:
      return "empty";
    case ValueType::kString:
      return "string";
    case ValueType::kBool:
      return "bool";
    case ValueType::kInt:
      return "int";
    case ValueType::kDouble:
      return "double";
    case ValueType::kBytes:
      return "bytes";
    case ValueType::kArray:
      return "array";
    case ValueType::kKvList:
      return "kvlist";
  }
  return "empty";
}

bool Value::operator==(const Value& other) const {
  if (type != other.type) return false;
  switch (type) {
    case ValueType::kEmpty:
      return true;
    case ValueType::kBool:
      return bool_value == other.bool_value;
    case ValueType::kInt:
      return int_value == other.int_value;
    case ValueType::kDouble:
      return double_value == other.double_value ||
             (std::isnan(double_value) && std::isnan(other.double_value));
    default:
      return str == other.str;
  }
}

Range SpanBatch::CopyAttributes(const SpanBatch& other, Range range) {
  Range out{static_cast<uint32_t>(attributes.size()), range.count};
  for (uint32_t i = range.begin; i < range.end(); ++i) {
    KeyValue kv = other.attributes[i];
    kv.key = arena.Copy(kv.key);
    kv.value.str = arena.Copy(kv.value.str);
    attributes.push_back(kv);
  }
  return out;
}

uint32_t SpanBatch::CopyResourceFrom(const SpanBatch& other, uint32_t resource_index) {
  Resource r = other.resources[resource_index];
  r.attributes = CopyAttributes(other, r.attributes);
  r.schema_url = arena.Copy(r.schema_url);
  resources.push_back(r);
  return static_cast<uint32_t>(resources.size() - 1);
}

uint32_t SpanBatch::CopyScopeFrom(const SpanBatch& other, uint32_t scope_index) {
  Scope s = other.scopes[scope_index];
  s.name = arena.Copy(s.name);
  s.version = arena.Copy(s.version);
  s.schema_url = arena.Copy(s.schema_url);
  s.attributes = CopyAttributes(other, s.attributes);
  scopes.push_back(s);
  return static_cast<uint32_t>(scopes.size() - 1);
}

void SpanBatch::CopySpanFrom(const SpanBatch& other, size_t index, uint32_t resource_index,
                             uint32_t scope_index) {
  Span s = other.spans[index];
  s.trace_state = arena.Copy(s.trace_state);
  s.name = arena.Copy(s.name);
  s.status_message = arena.Copy(s.status_message);
  s.resource_index = resource_index;
  s.scope_index = scope_index;
  s.attributes = CopyAttributes(other, s.attributes);
  Range events_range{static_cast<uint32_t>(events.size()), s.events.count};
  for (uint32_t i = s.events.begin; i < s.events.end(); ++i) {
    Event e = other.events[i];
    e.name = arena.Copy(e.name);
    e.attributes = CopyAttributes(other, e.attributes);
    events.push_back(e);
  }
  s.events = events_range;
  Range links_range{static_cast<uint32_t>(links.size()), s.links.count};
  for (uint32_t i = s.links.begin; i < s.links.end(); ++i) {
    Link l = other.links[i];
    l.trace_state = arena.Copy(l.trace_state);
    l.attributes = CopyAttributes(other, l.attributes);
    links.push_back(l);
  }
  s.links = links_range;
  spans.push_back(s);
}

SpanBatch SpanBatch::Clone() const {
  SpanBatch out;
  out.resources.reserve(resources.size());
  out.scopes.reserve(scopes.size());
  out.spans.reserve(spans.size());
  for (uint32_t i = 0; i < resources.size(); ++i) out.CopyResourceFrom(*this, i);
  for (uint32_t i = 0; i < scopes.size(); ++i) out.CopyScopeFrom(*this, i);
  for (size_t i = 0; i < spans.size(); ++i)
    out.CopySpanFrom(*this, i, spans[i].resource_index, spans[i].scope_index);
  return out;
}

std::string_view SpanBatch::ServiceName(uint32_t resource_index) const {
  if (resource_index >= resources.size()) return {};
  const Value* v = FindAttribute(resources[resource_index].attributes, "service.name");
  if (v == nullptr || v->type != ValueType::kString) return {};
  return v->str;
}

const Value* SpanBatch::FindAttribute(Range range, std::string_view key) const {
  for (uint32_t i = range.begin; i < range.end(); ++i)
    if (attributes[i].key == key) return &attributes[i].value;
  return nullptr;
}

}  // namespace ariadne::model
