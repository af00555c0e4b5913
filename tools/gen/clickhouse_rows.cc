#include "tools/gen/clickhouse_rows.h"

#include <charconv>
#include <cstring>
#include <string_view>
#include <vector>

namespace ariadne::gen {
namespace {

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutString(std::string_view s, std::string* out) {
  PutVarint(s.size(), out);
  out->append(s);
}

template <typename T>
void PutFixed(T v, std::string* out) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));  // x86-64 is little-endian, as RowBinary wants
  out->append(bytes, sizeof(T));
}

std::string ValueText(const model::Value& v) {
  char buf[64];
  switch (v.type) {
    case model::ValueType::kBool:
      return v.bool_value ? "true" : "false";
    case model::ValueType::kInt: {
      auto r = std::to_chars(buf, buf + sizeof(buf), v.int_value);
      return std::string(buf, r.ptr);
    }
    case model::ValueType::kDouble: {
      auto r = std::to_chars(buf, buf + sizeof(buf), v.double_value);
      return std::string(buf, r.ptr);
    }
    case model::ValueType::kEmpty:
      return "";
    default:
      return std::string(v.str);
  }
}

// The promoted span attributes, in column order.
constexpr std::string_view kPromoted[] = {"http.method",   "http.route", "http.status_code",
                                          "net.peer.name", "db.system",  "user.id"};
constexpr size_t kStatusCodeSlot = 2;

}  // namespace

void AppendClickHouseRows(const model::SpanBatch& batch, std::string* out) {
  std::vector<std::string_view> keys;
  std::vector<std::string> values;
  for (const model::Span& s : batch.spans) {
    out->append(reinterpret_cast<const char*>(s.trace_id.bytes.data()), 16);
    out->append(reinterpret_cast<const char*>(s.span_id.bytes.data()), 8);
    out->append(reinterpret_cast<const char*>(s.parent_span_id.bytes.data()), 8);
    PutString(batch.ServiceName(s.resource_index), out);
    PutString(s.name, out);
    PutFixed<uint8_t>(static_cast<uint8_t>(s.kind), out);
    PutFixed<uint64_t>(s.start_time_unix_nano, out);
    PutFixed<uint64_t>(s.duration_nano(), out);
    PutFixed<uint8_t>(static_cast<uint8_t>(s.status_code), out);
    PutString(s.status_message, out);

    const model::KeyValue* promoted[std::size(kPromoted)] = {};
    keys.clear();
    values.clear();
    for (uint32_t i = s.attributes.begin; i < s.attributes.end(); ++i) {
      const model::KeyValue& kv = batch.attributes[i];
      size_t slot = 0;
      while (slot < std::size(kPromoted) && kPromoted[slot] != kv.key) ++slot;
      if (slot < std::size(kPromoted)) {
        promoted[slot] = &kv;
      } else {
        keys.push_back(kv.key);
        values.push_back(ValueText(kv.value));
      }
    }
    for (size_t slot = 0; slot < std::size(kPromoted); ++slot) {
      if (slot == kStatusCodeSlot) {
        int64_t code = promoted[slot] && promoted[slot]->value.type == model::ValueType::kInt
                           ? promoted[slot]->value.int_value
                           : 0;
        PutFixed<uint16_t>(static_cast<uint16_t>(code), out);
      } else {
        PutString(promoted[slot] ? ValueText(promoted[slot]->value) : std::string(), out);
      }
    }
    PutVarint(keys.size(), out);
    for (std::string_view k : keys) PutString(k, out);
    PutVarint(values.size(), out);
    for (const std::string& v : values) PutString(v, out);

    keys.clear();
    values.clear();
    const model::Resource& resource = batch.resources[s.resource_index];
    for (uint32_t i = resource.attributes.begin; i < resource.attributes.end(); ++i) {
      const model::KeyValue& kv = batch.attributes[i];
      if (kv.key == "service.name") continue;
      keys.push_back(kv.key);
      values.push_back(ValueText(kv.value));
    }
    PutVarint(keys.size(), out);
    for (std::string_view k : keys) PutString(k, out);
    PutVarint(values.size(), out);
    for (const std::string& v : values) PutString(v, out);
  }
}

}  // namespace ariadne::gen
