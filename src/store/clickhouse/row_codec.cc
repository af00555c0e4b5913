#include "store/clickhouse/row_codec.h"

#include <cmath>
#include <cstdio>
#include <cstring>

#include "columnar/batch_codec.h"
#include "query/exec/column_view.h"
#include "query/exec/executor.h"
#include "store/clickhouse/schema.h"

namespace ariadne::store::clickhouse {
namespace {

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}
template <typename T>
void PutFixed(T v, std::string* out) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));  // little-endian hosts only, as ClickHouse itself
  out->append(bytes, sizeof(T));
}
void PutString(std::string_view s, std::string* out) {
  PutVarint(s.size(), out);
  out->append(s);
}

bool IsStringLike(model::ValueType t) {
  return t == model::ValueType::kString || t == model::ValueType::kBytes ||
         t == model::ValueType::kArray || t == model::ValueType::kKvList;
}

double NumberOf(const model::Value& v) {
  switch (v.type) {
    case model::ValueType::kBool:
      return v.bool_value ? 1 : 0;
    case model::ValueType::kInt:
      return static_cast<double>(v.int_value);
    case model::ValueType::kDouble:
      return v.double_value;
    default:
      return 0;
  }
}

// One span's effective attributes: its own, then its resource's keys it does not have.
struct Row {
  std::string_view promoted[std::size(kPromoted)];
  std::vector<const model::KeyValue*> attrs;
  std::vector<uint8_t> from_resource;
};

void CollectAttributes(const model::SpanBatch& batch, const model::Span& span, Row* row) {
  auto add = [&](const model::KeyValue& kv, bool resource) {
    for (const model::KeyValue* seen : row->attrs)
      if (seen->key == kv.key) return;
    for (size_t p = 0; p < std::size(kPromoted); ++p) {
      if (kPromoted[p].key != kv.key) continue;
      if (!row->promoted[p].empty()) return;
      if (kv.value.type == model::ValueType::kString && !kv.value.str.empty()) {
        row->promoted[p] = kv.value.str;
        return;
      }
    }
    row->attrs.push_back(&kv);
    row->from_resource.push_back(resource ? 1 : 0);
  };
  for (uint32_t i = span.attributes.begin; i < span.attributes.end(); ++i)
    add(batch.attributes[i], false);
  const model::Range resource = batch.resources[span.resource_index].attributes;
  for (uint32_t i = resource.begin; i < resource.end(); ++i) {
    // A span attribute wins, promoted or not.
    bool shadowed = false;
    for (uint32_t j = span.attributes.begin; j < span.attributes.end() && !shadowed; ++j)
      shadowed = batch.attributes[j].key == batch.attributes[i].key;
    if (!shadowed) add(batch.attributes[i], true);
  }
}

std::string OneSpanBlob(const model::SpanBatch& batch, size_t index) {
  model::SpanBatch one;
  const model::Span& span = batch.spans[index];
  const uint32_t resource = one.CopyResourceFrom(batch, span.resource_index);
  const uint32_t scope = one.CopyScopeFrom(batch, span.scope_index);
  one.CopySpanFrom(batch, index, resource, scope);
  std::string blob;
  columnar::EncodeSpanBatch(one, &blob);
  return blob;
}

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out->append(buf);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
  out->push_back('"');
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string Number(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.17g", d);
  return buf;
}

}  // namespace

double SpanWeight(const model::SpanBatch& batch, const model::Span& span) {
  double weight = query::SampleRateFromTraceState(span.trace_state);
  for (const char* key : {"SampleRate", "sampleRate"}) {
    const model::Value* v = batch.FindAttribute(span.attributes, key);
    if (v == nullptr) continue;
    double rate = 0;
    if (v->type == model::ValueType::kInt)
      rate = static_cast<double>(v->int_value);
    else if (v->type == model::ValueType::kDouble)
      rate = std::round(v->double_value);
    else if (v->type == model::ValueType::kString)
      rate = query::exec::ParseNumber(v->str).value_or(0);
    else
      continue;
    weight = rate >= 1 ? rate : 1;
  }
  return weight;
}

void EncodeSpanRows(std::string_view environment, const model::SpanBatch& batch, std::string* out) {
  for (size_t i = 0; i < batch.spans.size(); ++i) {
    const model::Span& span = batch.spans[i];
    Row row;
    CollectAttributes(batch, span, &row);
    const model::Scope* scope =
        span.scope_index < batch.scopes.size() ? &batch.scopes[span.scope_index] : nullptr;
    PutString(environment, out);
    PutString(row.promoted[0], out);
    PutString(span.name, out);
    PutFixed<uint64_t>(span.start_time_unix_nano, out);
    PutFixed<uint64_t>(span.end_time_unix_nano, out);
    out->append(span.trace_id.AsStringView());
    out->append(span.span_id.AsStringView());
    out->append(span.parent_span_id.AsStringView());
    PutFixed<uint8_t>(static_cast<uint8_t>(span.kind), out);
    PutFixed<uint8_t>(static_cast<uint8_t>(span.status_code), out);
    PutString(span.status_message, out);
    PutString(span.trace_state, out);
    PutString(scope ? scope->name : std::string_view(), out);
    PutString(scope ? scope->version : std::string_view(), out);
    PutFixed<uint32_t>(span.events.count, out);
    PutFixed<uint32_t>(span.links.count, out);
    PutFixed<double>(SpanWeight(batch, span), out);
    for (size_t p = 1; p < std::size(kPromoted); ++p) PutString(row.promoted[p], out);
    const size_t n = row.attrs.size();
    PutVarint(n, out);
    for (const model::KeyValue* kv : row.attrs) PutString(kv->key, out);
    PutVarint(n, out);
    for (const model::KeyValue* kv : row.attrs)
      PutFixed<uint8_t>(static_cast<uint8_t>(kv->value.type), out);
    PutVarint(n, out);
    for (const model::KeyValue* kv : row.attrs)
      PutString(IsStringLike(kv->value.type) ? kv->value.str : std::string_view(), out);
    PutVarint(n, out);
    for (const model::KeyValue* kv : row.attrs) PutFixed<double>(NumberOf(kv->value), out);
    PutVarint(n, out);
    for (uint8_t r : row.from_resource) PutFixed<uint8_t>(r, out);
    PutString(OneSpanBlob(batch, i), out);
  }
}

void EncodeSpanRowsJson(std::string_view environment, const model::SpanBatch& batch,
                        std::string* out) {
  for (size_t i = 0; i < batch.spans.size(); ++i) {
    const model::Span& span = batch.spans[i];
    Row row;
    CollectAttributes(batch, span, &row);
    const model::Scope* scope =
        span.scope_index < batch.scopes.size() ? &batch.scopes[span.scope_index] : nullptr;
    auto field = [&](std::string_view name) {
      out->append(out->back() == '{' ? "\"" : ",\"").append(name).append("\":");
    };
    out->push_back('{');
    field("environment");
    AppendJsonString(environment, out);
    field("service");
    AppendJsonString(row.promoted[0], out);
    field("name");
    AppendJsonString(span.name, out);
    field("start_ns");
    out->append(std::to_string(span.start_time_unix_nano));
    field("end_ns");
    out->append(std::to_string(span.end_time_unix_nano));
    field("trace_id");
    AppendJsonString(span.trace_id.ToHex(), out);
    field("span_id");
    AppendJsonString(span.span_id.ToHex(), out);
    field("parent_id");
    AppendJsonString(span.parent_span_id.ToHex(), out);
    field("kind");
    out->append(std::to_string(static_cast<int>(span.kind)));
    field("status_code");
    out->append(std::to_string(static_cast<int>(span.status_code)));
    field("status_message");
    AppendJsonString(span.status_message, out);
    field("trace_state");
    AppendJsonString(span.trace_state, out);
    field("scope_name");
    AppendJsonString(scope ? scope->name : std::string_view(), out);
    field("scope_version");
    AppendJsonString(scope ? scope->version : std::string_view(), out);
    field("num_events");
    out->append(std::to_string(span.events.count));
    field("num_links");
    out->append(std::to_string(span.links.count));
    field("weight");
    out->append(Number(SpanWeight(batch, span)));
    for (size_t p = 1; p < std::size(kPromoted); ++p) {
      field(kPromoted[p].column);
      AppendJsonString(row.promoted[p], out);
    }
    auto array = [&](std::string_view name, auto&& each) {
      field(name);
      out->push_back('[');
      for (size_t a = 0; a < row.attrs.size(); ++a) {
        if (a) out->push_back(',');
        each(a);
      }
      out->push_back(']');
    };
    array("attr_keys", [&](size_t a) { AppendJsonString(row.attrs[a]->key, out); });
    array("attr_types", [&](size_t a) {
      out->append(std::to_string(static_cast<int>(row.attrs[a]->value.type)));
    });
    array("attr_str", [&](size_t a) {
      const model::Value& v = row.attrs[a]->value;
      AppendJsonString(IsStringLike(v.type) ? v.str : std::string_view(), out);
    });
    array("attr_num", [&](size_t a) { out->append(Number(NumberOf(row.attrs[a]->value))); });
    array("attr_resource", [&](size_t a) { out->append(row.from_resource[a] ? "1" : "0"); });
    field("raw");
    AppendJsonString(Hex(OneSpanBlob(batch, i)), out);
    out->append("}\n");
  }
}

bool RowBinaryReader::ReadString(std::string_view* out) {
  uint64_t n = 0;
  int shift = 0;
  while (true) {
    if (pos_ >= data_.size() || shift > 63) return false;
    const uint8_t b = static_cast<uint8_t>(data_[pos_++]);
    n |= static_cast<uint64_t>(b & 0x7F) << shift;
    if (!(b & 0x80)) break;
    shift += 7;
  }
  return ReadFixed(n, out);
}

bool RowBinaryReader::ReadUInt64(uint64_t* out) {
  std::string_view bytes;
  if (!ReadFixed(8, &bytes)) return false;
  std::memcpy(out, bytes.data(), 8);
  return true;
}

bool RowBinaryReader::ReadFixed(size_t n, std::string_view* out) {
  if (data_.size() - pos_ < n) return false;
  *out = data_.substr(pos_, n);
  pos_ += n;
  return true;
}

std::vector<std::vector<std::string>> ParseTsv(std::string_view text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    any = true;
    if (c == '\t') {
      row.push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
      any = false;
    } else if (c == '\\' && i + 1 < text.size()) {
      const char e = text[++i];
      switch (e) {
        case 't':
          field.push_back('\t');
          break;
        case 'n':
          field.push_back('\n');
          break;
        case 'r':
          field.push_back('\r');
          break;
        case '0':
          field.push_back('\0');
          break;
        case 'b':
          field.push_back('\b');
          break;
        case 'f':
          field.push_back('\f');
          break;
        default:
          field.push_back(e);
      }
    } else {
      field.push_back(c);
    }
  }
  if (any) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string SqlString(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

std::string SqlId(std::string_view bytes) {
  return "toFixedString(unhex('" + Hex(bytes) + "'), " + std::to_string(bytes.size()) + ")";
}

}  // namespace ariadne::store::clickhouse
