#include "columnar/batch_codec.h"

namespace ariadne::columnar {
namespace {

constexpr uint8_t kBatchFormatVersion = 1;

void PutValue(std::string* out, const model::Value& v) {
  out->push_back(static_cast<char>(v.type));
  switch (v.type) {
    case model::ValueType::kEmpty:
      break;
    case model::ValueType::kBool:
      out->push_back(v.bool_value ? 1 : 0);
      break;
    case model::ValueType::kInt:
      PutVarint(out, ZigZag(v.int_value));
      break;
    case model::ValueType::kDouble:
      PutDouble(out, v.double_value);
      break;
    default:
      PutString(out, v.str);
      break;
  }
}

bool GetValue(ByteReader* in, model::Value* v) {
  uint8_t type;
  if (!in->GetByte(&type)) return false;
  if (type > static_cast<uint8_t>(model::ValueType::kKvList)) return in->Fail();
  v->type = static_cast<model::ValueType>(type);
  switch (v->type) {
    case model::ValueType::kEmpty:
      return true;
    case model::ValueType::kBool: {
      uint8_t b;
      if (!in->GetByte(&b)) return false;
      v->bool_value = b != 0;
      return true;
    }
    case model::ValueType::kInt: {
      uint64_t z;
      if (!in->GetVarint(&z)) return false;
      v->int_value = UnZigZag(z);
      return true;
    }
    case model::ValueType::kDouble:
      return in->GetDouble(&v->double_value);
    default:
      return in->GetString(&v->str);
  }
}

bool GetId(ByteReader* in, uint8_t* dst, size_t n) {
  std::string_view raw;
  if (!in->GetBytes(n, &raw)) return false;
  std::memcpy(dst, raw.data(), n);
  return true;
}

}  // namespace

void EncodeAttributes(const model::SpanBatch& batch, model::Range range, std::string* out) {
  PutVarint(out, range.count);
  for (uint32_t i = range.begin; i < range.end(); ++i) {
    PutString(out, batch.attributes[i].key);
    PutValue(out, batch.attributes[i].value);
  }
}

bool DecodeAttributes(ByteReader* in, std::vector<model::KeyValue>* attributes,
                      model::Range* range) {
  uint32_t count;
  if (!in->GetVarint32(&count)) return false;
  if (count > in->remaining()) return in->Fail();  // each entry takes at least one byte
  range->begin = static_cast<uint32_t>(attributes->size());
  range->count = count;
  for (uint32_t i = 0; i < count; ++i) {
    model::KeyValue kv;
    if (!in->GetString(&kv.key) || !GetValue(in, &kv.value)) return false;
    attributes->push_back(kv);
  }
  return true;
}

void EncodeEventsAndLinks(const model::SpanBatch& batch, model::Range events, model::Range links,
                          std::string* out) {
  PutVarint(out, events.count);
  for (uint32_t i = events.begin; i < events.end(); ++i) {
    const model::Event& e = batch.events[i];
    PutFixed64(out, e.time_unix_nano);
    PutString(out, e.name);
    EncodeAttributes(batch, e.attributes, out);
    PutVarint(out, e.dropped_attributes_count);
  }
  PutVarint(out, links.count);
  for (uint32_t i = links.begin; i < links.end(); ++i) {
    const model::Link& l = batch.links[i];
    out->append(l.trace_id.AsStringView());
    out->append(l.span_id.AsStringView());
    PutString(out, l.trace_state);
    EncodeAttributes(batch, l.attributes, out);
    PutVarint(out, l.dropped_attributes_count);
    PutVarint(out, l.flags);
  }
}

bool DecodeEventsAndLinks(ByteReader* in, model::SpanBatch* batch, model::Range* events,
                          model::Range* links) {
  uint32_t count;
  if (!in->GetVarint32(&count) || count > in->remaining()) return in->Fail();
  *events = {static_cast<uint32_t>(batch->events.size()), count};
  for (uint32_t i = 0; i < count; ++i) {
    model::Event e;
    if (!in->GetFixed64(&e.time_unix_nano) || !in->GetString(&e.name) ||
        !DecodeAttributes(in, &batch->attributes, &e.attributes) ||
        !in->GetVarint32(&e.dropped_attributes_count))
      return in->Fail();
    batch->events.push_back(e);
  }
  if (!in->GetVarint32(&count) || count > in->remaining()) return in->Fail();
  *links = {static_cast<uint32_t>(batch->links.size()), count};
  for (uint32_t i = 0; i < count; ++i) {
    model::Link l;
    if (!GetId(in, l.trace_id.bytes.data(), 16) || !GetId(in, l.span_id.bytes.data(), 8) ||
        !in->GetString(&l.trace_state) ||
        !DecodeAttributes(in, &batch->attributes, &l.attributes) ||
        !in->GetVarint32(&l.dropped_attributes_count) || !in->GetVarint32(&l.flags))
      return in->Fail();
    batch->links.push_back(l);
  }
  return true;
}

void EncodeSpanBatch(const model::SpanBatch& batch, std::string* out) {
  out->push_back(static_cast<char>(kBatchFormatVersion));
  PutVarint(out, batch.resources.size());
  for (const model::Resource& r : batch.resources) {
    EncodeAttributes(batch, r.attributes, out);
    PutVarint(out, r.dropped_attributes_count);
    PutString(out, r.schema_url);
  }
  PutVarint(out, batch.scopes.size());
  for (const model::Scope& s : batch.scopes) {
    PutString(out, s.name);
    PutString(out, s.version);
    EncodeAttributes(batch, s.attributes, out);
    PutVarint(out, s.dropped_attributes_count);
    PutString(out, s.schema_url);
  }
  PutVarint(out, batch.spans.size());
  for (const model::Span& s : batch.spans) {
    out->append(s.trace_id.AsStringView());
    out->append(s.span_id.AsStringView());
    out->append(s.parent_span_id.AsStringView());
    PutString(out, s.trace_state);
    PutString(out, s.name);
    out->push_back(static_cast<char>(s.kind));
    out->push_back(static_cast<char>(s.status_code));
    PutString(out, s.status_message);
    PutFixed64(out, s.start_time_unix_nano);
    PutFixed64(out, s.end_time_unix_nano);
    PutVarint(out, s.flags);
    PutVarint(out, s.dropped_attributes_count);
    PutVarint(out, s.dropped_events_count);
    PutVarint(out, s.dropped_links_count);
    PutVarint(out, s.resource_index);
    PutVarint(out, s.scope_index);
    EncodeAttributes(batch, s.attributes, out);
    EncodeEventsAndLinks(batch, s.events, s.links, out);
  }
}

Result<model::SpanBatch> DecodeSpanBatch(std::string_view data) {
  ByteReader in(data);
  model::SpanBatch batch;
  auto corrupt = [&](const char* what) {
    return Status::DataLoss("span batch record is corrupt near byte " +
                            std::to_string(in.position()) + " (" + what + ")");
  };
  uint8_t version;
  if (!in.GetByte(&version) || version != kBatchFormatVersion) return corrupt("format version");
  uint32_t n;
  if (!in.GetVarint32(&n) || n > in.remaining()) return corrupt("resource count");
  batch.resources.resize(n);
  for (model::Resource& r : batch.resources) {
    if (!DecodeAttributes(&in, &batch.attributes, &r.attributes) ||
        !in.GetVarint32(&r.dropped_attributes_count) || !in.GetString(&r.schema_url))
      return corrupt("resource");
  }
  if (!in.GetVarint32(&n) || n > in.remaining()) return corrupt("scope count");
  batch.scopes.resize(n);
  for (model::Scope& s : batch.scopes) {
    if (!in.GetString(&s.name) || !in.GetString(&s.version) ||
        !DecodeAttributes(&in, &batch.attributes, &s.attributes) ||
        !in.GetVarint32(&s.dropped_attributes_count) || !in.GetString(&s.schema_url))
      return corrupt("scope");
  }
  if (!in.GetVarint32(&n) || n > in.remaining()) return corrupt("span count");
  batch.spans.resize(n);
  for (model::Span& s : batch.spans) {
    uint8_t kind, status;
    if (!GetId(&in, s.trace_id.bytes.data(), 16) || !GetId(&in, s.span_id.bytes.data(), 8) ||
        !GetId(&in, s.parent_span_id.bytes.data(), 8) || !in.GetString(&s.trace_state) ||
        !in.GetString(&s.name) || !in.GetByte(&kind) || !in.GetByte(&status) ||
        !in.GetString(&s.status_message) || !in.GetFixed64(&s.start_time_unix_nano) ||
        !in.GetFixed64(&s.end_time_unix_nano) || !in.GetVarint32(&s.flags) ||
        !in.GetVarint32(&s.dropped_attributes_count) || !in.GetVarint32(&s.dropped_events_count) ||
        !in.GetVarint32(&s.dropped_links_count) || !in.GetVarint32(&s.resource_index) ||
        !in.GetVarint32(&s.scope_index) || !DecodeAttributes(&in, &batch.attributes, &s.attributes))
      return corrupt("span");
    if (kind > 5 || status > 2) return corrupt("span kind or status");
    if (s.resource_index >= batch.resources.size() || s.scope_index >= batch.scopes.size())
      return corrupt("span resource or scope index");
    s.kind = static_cast<model::SpanKind>(kind);
    s.status_code = static_cast<model::StatusCode>(status);
    if (!DecodeEventsAndLinks(&in, &batch, &s.events, &s.links)) return corrupt("events or links");
  }
  if (!in.ok() || !in.empty()) return corrupt("trailing bytes");
  return batch;
}

}  // namespace ariadne::columnar
