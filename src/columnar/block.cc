// Block, its column types and statistics (block.h): everything but the builder (block_builder.cc)
// and the file format (block_encode.cc, block_decode.cc, block_meta_codec.cc).
#include "columnar/block.h"

#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "columnar/block_internal.h"

namespace ariadne::columnar {

using block_internal::IsStringLike;

// ---- AttributeColumn ----

int64_t AttributeColumn::Find(uint32_t row) const {
  auto it = std::lower_bound(rows.begin(), rows.end(), row);
  if (it == rows.end() || *it != row) return -1;
  return it - rows.begin();
}

model::Value AttributeColumn::Decode(model::ValueType type, uint64_t bits,
                                     const std::vector<std::string>& dict) {
  model::Value v;
  v.type = type;
  switch (type) {
    case model::ValueType::kEmpty:
      break;
    case model::ValueType::kBool:
      v.bool_value = bits != 0;
      break;
    case model::ValueType::kInt:
      v.int_value = static_cast<int64_t>(bits);
      break;
    case model::ValueType::kDouble:
      std::memcpy(&v.double_value, &bits, 8);
      break;
    default:
      v.str = dict[bits];
      break;
  }
  return v;
}

void ServiceCounts::Add(const ServiceCounts& other) {
  if (span_count == 0 || (other.span_count > 0 && other.first_seen < first_seen))
    first_seen = other.first_seen;
  last_seen = std::max(last_seen, other.last_seen);
  span_count += other.span_count;
  root_count += other.root_count;
  error_count += other.error_count;
}

// ---- TraceIdBloom ----

TraceIdBloom::TraceIdBloom(size_t expected_items) {
  size_t bits = std::max<size_t>(64, expected_items * 10);
  bits_.assign((bits + 7) / 8, '\0');
}

TraceIdBloom::Hash TraceIdBloom::HashOf(const model::TraceId& id) {
  const XXH128_hash_t h = XXH3_128bits(id.bytes.data(), id.bytes.size());
  return Hash{h.low64, h.high64};
}

void TraceIdBloom::Add(const model::TraceId& id) {
  const Hash h = HashOf(id);
  const uint64_t nbits = bits_.size() * 8;
  for (int i = 0; i < kHashes; ++i) {
    uint64_t bit = (h.low + static_cast<uint64_t>(i) * h.high) % nbits;
    bits_[bit / 8] = static_cast<char>(bits_[bit / 8] | (1 << (bit % 8)));
  }
}

bool TraceIdBloom::MayContain(const Hash& h) const {
  if (bits_.empty()) return true;
  const uint64_t nbits = bits_.size() * 8;
  for (int i = 0; i < kHashes; ++i) {
    uint64_t bit = (h.low + static_cast<uint64_t>(i) * h.high) % nbits;
    if ((bits_[bit / 8] & (1 << (bit % 8))) == 0) return false;
  }
  return true;
}

TraceIdBloom TraceIdBloom::FromBits(std::string bits) {
  TraceIdBloom bloom;
  bloom.bits_ = std::move(bits);
  return bloom;
}

// ---- ColumnStats, ColumnSet ----

void ColumnStats::Add(const model::Value& v) {
  switch (v.type) {
    case model::ValueType::kEmpty:
      return;
    case model::ValueType::kBool:
      has_bool = true;
      return;
    case model::ValueType::kInt:
      if (!has_int) int_min = int_max = v.int_value;
      has_int = true;
      int_min = std::min(int_min, v.int_value);
      int_max = std::max(int_max, v.int_value);
      return;
    case model::ValueType::kDouble:
      if (std::isnan(v.double_value)) {
        has_nan = true;
        return;
      }
      if (!has_double) double_min = double_max = v.double_value;
      has_double = true;
      double_min = std::min(double_min, v.double_value);
      double_max = std::max(double_max, v.double_value);
      return;
    default:
      if (!has_strings) strings_complete = true;
      has_strings = true;
      if (!strings_complete) return;
      if (std::find(strings.begin(), strings.end(), v.str) != strings.end()) return;
      size_t bytes = v.str.size();
      for (const std::string& s : strings) bytes += s.size();
      if (strings.size() >= kMaxStrings || bytes > kMaxStringBytes) {
        strings_complete = false;
        strings.clear();
        return;
      }
      strings.emplace_back(v.str);
  }
}

void ColumnStats::Finish() {
  if (!strings_complete) strings.clear();
  std::sort(strings.begin(), strings.end());
  strings.erase(std::unique(strings.begin(), strings.end()), strings.end());
}

bool ColumnSet::Contains(const ColumnSet& other) const {
  if ((fixed & other.fixed) != other.fixed) return false;
  if (all_attributes) return true;
  if (other.all_attributes) return false;
  for (const std::string& key : other.attributes)
    if (attributes.find(key) == attributes.end()) return false;
  return true;
}

void ColumnSet::Add(const ColumnSet& other) {
  fixed |= other.fixed;
  if (other.all_attributes) {
    all_attributes = true;
    attributes.clear();
  } else if (!all_attributes) {
    attributes.insert(other.attributes.begin(), other.attributes.end());
  }
}

size_t ColumnSet::Count() const {
  return static_cast<size_t>(__builtin_popcount(fixed)) + (all_attributes ? 1 : attributes.size());
}

// ---- Block ----

std::string_view Block::ServiceName(size_t row) const { return tables.ServiceName(resource[row]); }

void Block::Materialize(const std::vector<uint32_t>& rows, model::SpanBatch* out) const {
  std::unordered_map<uint32_t, uint32_t> resource_map, scope_map;
  for (uint32_t row : rows) {
    model::Span s;
    s.trace_id = trace_id[row];
    s.span_id = span_id[row];
    s.parent_span_id = parent_span_id[row];
    s.trace_state = out->arena.Copy(trace_state.at(row));
    s.name = out->arena.Copy(name.at(row));
    s.kind = static_cast<model::SpanKind>(kind[row]);
    s.status_code = static_cast<model::StatusCode>(status_code[row]);
    s.status_message = out->arena.Copy(status_message.at(row));
    s.start_time_unix_nano = start_unix_nano[row];
    s.end_time_unix_nano = end_unix_nano[row];
    s.flags = flags[row];
    s.dropped_attributes_count = dropped_attributes[row];
    s.dropped_events_count = dropped_events[row];
    s.dropped_links_count = dropped_links[row];
    auto [rit, rnew] = resource_map.try_emplace(resource[row], 0);
    if (rnew) rit->second = out->CopyResourceFrom(tables, resource[row]);
    s.resource_index = rit->second;
    auto [sit, snew] = scope_map.try_emplace(scope[row], 0);
    if (snew) sit->second = out->CopyScopeFrom(tables, scope[row]);
    s.scope_index = sit->second;

    s.attributes.begin = static_cast<uint32_t>(out->attributes.size());
    for (const AttributeColumn& column : attributes) {
      int64_t entry = column.Find(row);
      if (entry < 0) continue;
      model::Value v = column.ValueAt(static_cast<size_t>(entry));
      v.str = out->arena.Copy(v.str);
      out->attributes.push_back({out->arena.Copy(column.key), v});
    }
    s.attributes.count = static_cast<uint32_t>(out->attributes.size()) - s.attributes.begin;

    s.events = {static_cast<uint32_t>(out->events.size()), events[row].count};
    for (uint32_t i = events[row].begin; i < events[row].end(); ++i) {
      model::Event e = tables.events[i];
      e.name = out->arena.Copy(e.name);
      e.attributes = out->CopyAttributes(tables, e.attributes);
      out->events.push_back(e);
    }
    s.links = {static_cast<uint32_t>(out->links.size()), links[row].count};
    for (uint32_t i = links[row].begin; i < links[row].end(); ++i) {
      model::Link l = tables.links[i];
      l.trace_state = out->arena.Copy(l.trace_state);
      l.attributes = out->CopyAttributes(tables, l.attributes);
      out->links.push_back(l);
    }
    out->spans.push_back(s);
  }
}

std::vector<uint32_t> Block::SortedRowsOfTrace(const model::TraceId& id) const {
  auto lo = std::lower_bound(trace_id.begin(), trace_id.end(), id);
  std::vector<uint32_t> rows;
  for (auto it = lo; it != trace_id.end() && *it == id; ++it)
    rows.push_back(static_cast<uint32_t>(it - trace_id.begin()));
  return rows;
}

BlockMeta Block::ComputeMeta() const {
  BlockMeta meta;
  meta.environment = environment;
  meta.num_rows = num_rows;
  // 10 bits per distinct trace (rows are sorted, so a trace's rows are adjacent; an unsorted block
  // only gets a larger filter).
  size_t traces = 0;
  for (size_t row = 0; row < num_rows; ++row)
    traces += row == 0 || !(trace_id[row] == trace_id[row - 1]);
  meta.bloom = TraceIdBloom(traces);
  meta.min_start_unix_nano = num_rows ? UINT64_MAX : 0;
  meta.has_stats = true;
  meta.min_duration_nano = num_rows ? UINT64_MAX : 0;
  std::vector<uint64_t> rows_of_resource(tables.resources.size());
  for (size_t row = 0; row < num_rows; ++row) {
    meta.min_start_unix_nano = std::min(meta.min_start_unix_nano, start_unix_nano[row]);
    meta.max_end_unix_nano = std::max(meta.max_end_unix_nano, end_unix_nano[row]);
    const uint64_t duration =
        end_unix_nano[row] > start_unix_nano[row] ? end_unix_nano[row] - start_unix_nano[row] : 0;
    meta.min_duration_nano = std::min(meta.min_duration_nano, duration);
    meta.max_duration_nano = std::max(meta.max_duration_nano, duration);
    meta.status_code_mask |= static_cast<uint8_t>(1u << (status_code[row] & 7));
    meta.kind_mask |= static_cast<uint8_t>(1u << (kind[row] & 7));
    rows_of_resource[resource[row]]++;
    if (row == 0 || !(trace_id[row] == trace_id[row - 1])) meta.bloom.Add(trace_id[row]);
    ServiceCounts one;
    one.span_count = 1;
    one.root_count = parent_span_id[row].IsZero() ? 1 : 0;
    one.error_count = status_code[row] == static_cast<uint8_t>(model::StatusCode::kError);
    one.first_seen = one.last_seen = start_unix_nano[row];
    meta.services[std::string(ServiceName(row))].Add(one);
  }
  size_t name_bytes = 0;
  for (const std::string& n : name.dict) name_bytes += n.size();
  if (name.dict.size() <= BlockMeta::kMaxNames && name_bytes <= 16384) {
    meta.names_complete = true;
    meta.names = name.dict;
    std::sort(meta.names.begin(), meta.names.end());
    meta.names.erase(std::unique(meta.names.begin(), meta.names.end()), meta.names.end());
  }
  // Attribute keys: resource values (through each row's resource), then span values over them.
  // resource_has[key][i]: resource i gives the key a non-empty value.
  std::map<std::string, std::vector<uint8_t>, std::less<>> resource_has;
  for (uint32_t i = 0; i < tables.resources.size(); ++i) {
    const model::Resource& r = tables.resources[i];
    for (uint32_t a = r.attributes.begin; a < r.attributes.end(); ++a) {
      const model::KeyValue& kv = tables.attributes[a];
      if (kv.value.type == model::ValueType::kEmpty) continue;
      ColumnStats& stats = meta.stats[std::string(kv.key)];
      stats.Add(kv.value);
      auto& has = resource_has[std::string(kv.key)];
      has.resize(tables.resources.size());
      if (!has[i]) stats.present_rows += rows_of_resource[i];
      has[i] = 1;
    }
  }
  for (const AttributeColumn& column : attributes) {
    ColumnStats& stats = meta.stats[column.key];
    auto has = resource_has.find(column.key);
    bool any_string = false;
    for (size_t e = 0; e < column.rows.size(); ++e) {
      const bool from_resource =
          has != resource_has.end() && has->second[resource[column.rows[e]]] != 0;
      const bool present = column.types[e] != model::ValueType::kEmpty;
      if (present && !from_resource) stats.present_rows++;
      if (!present && from_resource) stats.present_rows--;
      if (!IsStringLike(column.types[e]))
        stats.Add(column.ValueAt(e));
      else
        any_string = true;
    }
    if (any_string && column.dict.size() > ColumnStats::kMaxStrings) {
      stats.has_strings = true;
      stats.strings_complete = false;
      stats.strings.clear();
    } else if (any_string) {
      for (const std::string& v : column.dict) stats.Add(model::Value::String(v));
    }
  }
  for (auto& [key, stats] : meta.stats) stats.Finish();
  meta.columns = ComputeColumns();
  return meta;
}

std::map<std::string, BlockMeta::ColumnTypes> Block::ComputeColumns() const {
  std::map<std::string, BlockMeta::ColumnTypes> columns;
  for (const AttributeColumn& column : attributes) {
    auto& c = columns[column.key];
    c.sources |= kColumnFromSpan;
    for (model::ValueType t : column.types)
      c.types |= static_cast<uint16_t>(1u << static_cast<uint8_t>(t));
  }
  for (const model::Resource& r : tables.resources) {
    for (uint32_t i = r.attributes.begin; i < r.attributes.end(); ++i) {
      auto& c = columns[std::string(tables.attributes[i].key)];
      c.sources |= kColumnFromResource;
      c.types |= static_cast<uint16_t>(1u << static_cast<uint8_t>(tables.attributes[i].value.type));
    }
  }
  return columns;
}

namespace {
template <typename T>
uint64_t VectorBytes(const std::vector<T>& v) {
  return v.capacity() * sizeof(T);
}
uint64_t DictBytes(const DictColumn& d) {
  uint64_t bytes = VectorBytes(d.codes) + VectorBytes(d.dict);
  for (const std::string& s : d.dict) bytes += s.capacity() > 15 ? s.capacity() + 1 : 0;
  return bytes;
}
}  // namespace

uint64_t ApproximateBytes(const Block& b) {
  uint64_t bytes = sizeof(Block) + VectorBytes(b.trace_id) + VectorBytes(b.span_id) +
                   VectorBytes(b.parent_span_id) + VectorBytes(b.start_unix_nano) +
                   VectorBytes(b.end_unix_nano) + DictBytes(b.name) + VectorBytes(b.kind) +
                   VectorBytes(b.status_code) + DictBytes(b.status_message) +
                   DictBytes(b.trace_state) + VectorBytes(b.flags) +
                   VectorBytes(b.dropped_attributes) + VectorBytes(b.dropped_events) +
                   VectorBytes(b.dropped_links) + VectorBytes(b.resource) + VectorBytes(b.scope) +
                   VectorBytes(b.events) + VectorBytes(b.links) + VectorBytes(b.attributes);
  for (const AttributeColumn& a : b.attributes) {
    bytes += a.key.capacity() + VectorBytes(a.rows) + VectorBytes(a.types) + VectorBytes(a.values) +
             VectorBytes(a.dict);
    for (const std::string& s : a.dict) bytes += s.capacity() > 15 ? s.capacity() + 1 : 0;
  }
  const model::SpanBatch& t = b.tables;
  bytes += t.arena.bytes_allocated() + VectorBytes(t.resources) + VectorBytes(t.scopes) +
           VectorBytes(t.events) + VectorBytes(t.links) + VectorBytes(t.attributes);
  return bytes;
}

}  // namespace ariadne::columnar
