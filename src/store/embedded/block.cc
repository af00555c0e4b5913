#include "store/embedded/block.h"

#include <xxhash.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "store/embedded/batch_codec.h"
#include "store/embedded/coding.h"

namespace ariadne::store::embedded {
namespace {

constexpr char kBlockMagic[8] = {'A', 'R', 'I', 'A', 'D', 'N', 'E', 'B'};
constexpr uint32_t kBlockFormatVersion = 2;  // 1: no column statistics in the meta
constexpr int kZstdLevel = 3;
constexpr size_t kFooterSize = 8 * 4 + 4 + 8;

bool IsStringLike(model::ValueType t) {
  return t == model::ValueType::kString || t == model::ValueType::kBytes ||
         t == model::ValueType::kArray || t == model::ValueType::kKvList;
}

uint64_t ValueBits(const model::Value& v) {
  switch (v.type) {
    case model::ValueType::kBool:
      return v.bool_value ? 1 : 0;
    case model::ValueType::kInt:
      return static_cast<uint64_t>(v.int_value);
    case model::ValueType::kDouble: {
      uint64_t bits;
      std::memcpy(&bits, &v.double_value, 8);
      return bits;
    }
    default:
      return 0;
  }
}

// Copies the events and links of `from` (which has no spans) into `to`, keeping their order so
// that ranges into them stay valid.
void CopyTables(const model::SpanBatch& from, model::SpanBatch* to) {
  for (uint32_t i = 0; i < from.resources.size(); ++i) to->CopyResourceFrom(from, i);
  for (uint32_t i = 0; i < from.scopes.size(); ++i) to->CopyScopeFrom(from, i);
  for (const model::Event& e : from.events) {
    model::Event copy = e;
    copy.name = to->arena.Copy(e.name);
    copy.attributes = to->CopyAttributes(from, e.attributes);
    to->events.push_back(copy);
  }
  for (const model::Link& l : from.links) {
    model::Link copy = l;
    copy.trace_state = to->arena.Copy(l.trace_state);
    copy.attributes = to->CopyAttributes(from, l.attributes);
    to->links.push_back(copy);
  }
}

template <typename T>
std::vector<T> Permute(const std::vector<T>& in, const std::vector<uint32_t>& order) {
  std::vector<T> out;
  out.reserve(order.size());
  for (uint32_t row : order) out.push_back(in[row]);
  return out;
}

DictColumn PermuteDict(const DictColumn& in, const std::vector<uint32_t>& order) {
  DictColumn out;
  out.dict = in.dict;
  out.codes = Permute(in.codes, order);
  return out;
}

}  // namespace

// ---- AttributeColumn ----

int64_t AttributeColumn::Find(uint32_t row) const {
  auto it = std::lower_bound(rows.begin(), rows.end(), row);
  if (it == rows.end() || *it != row) return -1;
  return it - rows.begin();
}

model::Value AttributeColumn::ValueAt(size_t entry) const {
  model::Value v;
  v.type = types[entry];
  uint64_t bits = values[entry];
  switch (v.type) {
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

void TraceIdBloom::Add(const model::TraceId& id) {
  XXH128_hash_t h = XXH3_128bits(id.bytes.data(), id.bytes.size());
  const uint64_t nbits = bits_.size() * 8;
  for (int i = 0; i < kHashes; ++i) {
    uint64_t bit = (h.low64 + static_cast<uint64_t>(i) * h.high64) % nbits;
    bits_[bit / 8] = static_cast<char>(bits_[bit / 8] | (1 << (bit % 8)));
  }
}

bool TraceIdBloom::MayContain(const model::TraceId& id) const {
  if (bits_.empty()) return true;
  XXH128_hash_t h = XXH3_128bits(id.bytes.data(), id.bytes.size());
  const uint64_t nbits = bits_.size() * 8;
  for (int i = 0; i < kHashes; ++i) {
    uint64_t bit = (h.low64 + static_cast<uint64_t>(i) * h.high64) % nbits;
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
  meta.bloom = TraceIdBloom(num_rows);
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

// ---- BlockBuilder ----

BlockBuilder::BlockBuilder(std::string environment) { block_.environment = std::move(environment); }

uint32_t BlockBuilder::Intern(DictColumn* column, StringMap<uint32_t>* index,
                              std::string_view value) {
  auto it = index->find(value);
  if (it != index->end()) return it->second;
  uint32_t code = static_cast<uint32_t>(column->dict.size());
  column->dict.emplace_back(value);
  index->emplace(std::string(value), code);
  return code;
}

void BlockBuilder::AppendAttribute(std::string_view key, const model::Value& value, uint32_t row) {
  auto it = attribute_column_index_.find(key);
  if (it == attribute_column_index_.end()) {
    it = attribute_column_index_.emplace(std::string(key), block_.attributes.size()).first;
    block_.attributes.push_back(AttributeColumn{std::string(key), {}, {}, {}, {}});
    attribute_dict_index_.emplace_back();
    raw_strings_.push_back(false);
  }
  AttributeColumn& column = block_.attributes[it->second];
  uint64_t bits = ValueBits(value);
  if (IsStringLike(value.type)) {
    auto& dict_index = attribute_dict_index_[it->second];
    if (raw_strings_[it->second]) {
      // Nearly every value is new (request ids and the like): hashing buys nothing, so values are
      // appended as they come and the dictionary may hold repeats. Readers treat dictionary
      // entries as values, never as distinct-value counts, so answers do not change.
      bits = column.dict.size();
      column.dict.emplace_back(value.str);
    } else {
      auto dit = dict_index.find(value.str);
      if (dit != dict_index.end()) {
        bits = dit->second;
      } else {
        const uint32_t code = static_cast<uint32_t>(column.dict.size());
        dict_index.emplace(std::string(value.str), code);
        column.dict.emplace_back(value.str);
        bits = code;
        if (dict_index.size() > kRawStringThreshold &&
            dict_index.size() * 10 > column.rows.size() * 9) {
          // Frees the map: nothing may point into it past this line.
          raw_strings_[it->second] = true;
          StringMap<uint32_t>().swap(dict_index);
        }
      }
    }
  }
  if (!column.rows.empty() && column.rows.back() == row) {  // duplicate key in one span: last wins
    column.types.back() = value.type;
    column.values.back() = bits;
    return;
  }
  column.rows.push_back(row);
  column.types.push_back(value.type);
  column.values.push_back(bits);
}

void BlockBuilder::Append(const model::SpanBatch& batch) {
  std::vector<int64_t> resource_map(batch.resources.size(), -1);
  std::vector<int64_t> scope_map(batch.scopes.size(), -1);
  std::vector<ServiceCounts*> service_of_resource(batch.resources.size(), nullptr);
  std::string key;
  for (const model::Span& span : batch.spans) {
    const uint32_t row = static_cast<uint32_t>(block_.num_rows);
    if (resource_map[span.resource_index] < 0) {
      const model::Resource& r = batch.resources[span.resource_index];
      key.clear();
      EncodeAttributes(batch, r.attributes, &key);
      PutVarint(&key, r.dropped_attributes_count);
      PutString(&key, r.schema_url);
      auto it = resource_index_.find(key);
      if (it == resource_index_.end())
        it =
            resource_index_.emplace(key, block_.tables.CopyResourceFrom(batch, span.resource_index))
                .first;
      resource_map[span.resource_index] = it->second;
    }
    if (scope_map[span.scope_index] < 0) {
      const model::Scope& s = batch.scopes[span.scope_index];
      key.clear();
      PutString(&key, s.name);
      PutString(&key, s.version);
      EncodeAttributes(batch, s.attributes, &key);
      PutVarint(&key, s.dropped_attributes_count);
      PutString(&key, s.schema_url);
      auto it = scope_index_.find(key);
      if (it == scope_index_.end())
        it = scope_index_.emplace(key, block_.tables.CopyScopeFrom(batch, span.scope_index)).first;
      scope_map[span.scope_index] = it->second;
    }
    block_.trace_id.push_back(span.trace_id);
    block_.span_id.push_back(span.span_id);
    block_.parent_span_id.push_back(span.parent_span_id);
    block_.start_unix_nano.push_back(span.start_time_unix_nano);
    block_.end_unix_nano.push_back(span.end_time_unix_nano);
    block_.name.codes.push_back(Intern(&block_.name, &name_index_, span.name));
    block_.kind.push_back(static_cast<uint8_t>(span.kind));
    block_.status_code.push_back(static_cast<uint8_t>(span.status_code));
    block_.status_message.codes.push_back(
        Intern(&block_.status_message, &status_message_index_, span.status_message));
    block_.trace_state.codes.push_back(
        Intern(&block_.trace_state, &trace_state_index_, span.trace_state));
    block_.flags.push_back(span.flags);
    block_.dropped_attributes.push_back(span.dropped_attributes_count);
    block_.dropped_events.push_back(span.dropped_events_count);
    block_.dropped_links.push_back(span.dropped_links_count);
    block_.resource.push_back(static_cast<uint32_t>(resource_map[span.resource_index]));
    block_.scope.push_back(static_cast<uint32_t>(scope_map[span.scope_index]));
    for (uint32_t i = span.attributes.begin; i < span.attributes.end(); ++i)
      AppendAttribute(batch.attributes[i].key, batch.attributes[i].value, row);

    model::SpanBatch& tables = block_.tables;
    block_.events.push_back({static_cast<uint32_t>(tables.events.size()), span.events.count});
    for (uint32_t i = span.events.begin; i < span.events.end(); ++i) {
      model::Event e = batch.events[i];
      e.name = tables.arena.Copy(e.name);
      e.attributes = tables.CopyAttributes(batch, e.attributes);
      tables.events.push_back(e);
    }
    block_.links.push_back({static_cast<uint32_t>(tables.links.size()), span.links.count});
    for (uint32_t i = span.links.begin; i < span.links.end(); ++i) {
      model::Link l = batch.links[i];
      l.trace_state = tables.arena.Copy(l.trace_state);
      l.attributes = tables.CopyAttributes(batch, l.attributes);
      tables.links.push_back(l);
    }

    auto [last, first_of_trace] = last_row_of_trace_.try_emplace(span.trace_id, row);
    previous_row_in_trace_.push_back(first_of_trace ? UINT32_MAX : last->second);
    last->second = row;
    ServiceCounts one;
    one.span_count = 1;
    one.root_count = span.is_root() ? 1 : 0;
    one.error_count = span.status_code == model::StatusCode::kError;
    one.first_seen = one.last_seen = span.start_time_unix_nano;
    ServiceCounts*& counts = service_of_resource[span.resource_index];
    if (counts == nullptr) counts = &services_[std::string(batch.ServiceNameOf(span))];
    counts->Add(one);
    block_.num_rows++;
  }
}

std::vector<uint32_t> BlockBuilder::RowsOfTrace(const model::TraceId& id) const {
  std::vector<uint32_t> rows;
  auto it = last_row_of_trace_.find(id);
  if (it == last_row_of_trace_.end()) return rows;
  for (uint32_t row = it->second; row != UINT32_MAX; row = previous_row_in_trace_[row])
    rows.push_back(row);
  std::reverse(rows.begin(), rows.end());
  return rows;
}

std::shared_ptr<const Block> BlockBuilder::Seal() const {
  const Block& in = block_;
  std::vector<uint32_t> order(in.num_rows);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    if (!(in.trace_id[a] == in.trace_id[b])) return in.trace_id[a] < in.trace_id[b];
    if (in.start_unix_nano[a] != in.start_unix_nano[b])
      return in.start_unix_nano[a] < in.start_unix_nano[b];
    return a < b;
  });
  std::vector<uint32_t> new_row_of(in.num_rows);
  for (uint32_t i = 0; i < order.size(); ++i) new_row_of[order[i]] = i;

  auto out = std::make_shared<Block>();
  out->environment = in.environment;
  out->num_rows = in.num_rows;
  out->trace_id = Permute(in.trace_id, order);
  out->span_id = Permute(in.span_id, order);
  out->parent_span_id = Permute(in.parent_span_id, order);
  out->start_unix_nano = Permute(in.start_unix_nano, order);
  out->end_unix_nano = Permute(in.end_unix_nano, order);
  out->name = PermuteDict(in.name, order);
  out->kind = Permute(in.kind, order);
  out->status_code = Permute(in.status_code, order);
  out->status_message = PermuteDict(in.status_message, order);
  out->trace_state = PermuteDict(in.trace_state, order);
  out->flags = Permute(in.flags, order);
  out->dropped_attributes = Permute(in.dropped_attributes, order);
  out->dropped_events = Permute(in.dropped_events, order);
  out->dropped_links = Permute(in.dropped_links, order);
  out->resource = Permute(in.resource, order);
  out->scope = Permute(in.scope, order);
  out->events = Permute(in.events, order);
  out->links = Permute(in.links, order);
  CopyTables(in.tables, &out->tables);

  std::vector<size_t> column_order(in.attributes.size());
  std::iota(column_order.begin(), column_order.end(), 0);
  std::sort(column_order.begin(), column_order.end(),
            [&](size_t a, size_t b) { return in.attributes[a].key < in.attributes[b].key; });
  for (size_t c : column_order) {
    const AttributeColumn& src = in.attributes[c];
    std::vector<uint32_t> entries(src.rows.size());
    std::iota(entries.begin(), entries.end(), 0);
    std::sort(entries.begin(), entries.end(), [&](uint32_t a, uint32_t b) {
      return new_row_of[src.rows[a]] < new_row_of[src.rows[b]];
    });
    AttributeColumn dst;
    dst.key = src.key;
    dst.dict = src.dict;
    dst.rows.reserve(entries.size());
    for (uint32_t e : entries) {
      dst.rows.push_back(new_row_of[src.rows[e]]);
      dst.types.push_back(src.types[e]);
      dst.values.push_back(src.values[e]);
    }
    out->attributes.push_back(std::move(dst));
  }
  return out;
}

// ---- File format ----

namespace {

void PutDict(std::string* out, const DictColumn& column) {
  PutVarint(out, column.dict.size());
  for (const std::string& s : column.dict) PutString(out, s);
  for (uint32_t code : column.codes) PutVarint(out, code);
}

bool GetDict(ByteReader* in, size_t rows, DictColumn* column) {
  uint64_t n;
  if (!in->GetVarint(&n) || n > in->remaining()) return in->Fail();
  column->dict.resize(n);
  for (std::string& s : column->dict) {
    std::string_view v;
    if (!in->GetString(&v)) return false;
    s.assign(v);
  }
  column->codes.resize(rows);
  for (uint32_t& code : column->codes)
    if (!in->GetVarint32(&code) || code >= n) return in->Fail();
  return true;
}

template <typename T>
void PutVarints(std::string* out, const std::vector<T>& values) {
  for (T v : values) PutVarint(out, v);
}

template <typename T>
bool GetVarints(ByteReader* in, size_t rows, std::vector<T>* values) {
  values->resize(rows);
  for (T& v : *values) {
    uint64_t wide;
    if (!in->GetVarint(&wide)) return false;
    v = static_cast<T>(wide);
  }
  return true;
}

using Section = SectionInfo;

uint32_t Crc(std::string_view data) {
  return static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

class SectionWriter {
 public:
  explicit SectionWriter(std::string* file) : file_(file) {}
  void Add(std::string name, const std::string& raw) {
    Section s;
    s.name = std::move(name);
    s.offset = file_->size();
    s.raw = raw.size();
    size_t bound = ZSTD_compressBound(raw.size());
    file_->resize(file_->size() + bound);
    size_t n = ZSTD_compress(file_->data() + s.offset, bound, raw.data(), raw.size(), kZstdLevel);
    // Compression into a buffer of ZSTD_compressBound bytes cannot fail.
    file_->resize(s.offset + n);
    s.compressed = n;
    s.crc = Crc(std::string_view(file_->data() + s.offset, n));
    sections_.push_back(std::move(s));
  }
  const std::vector<Section>& sections() const { return sections_; }

 private:
  std::string* file_;
  std::vector<Section> sections_;
};

void EncodeMeta(const BlockMeta& meta, std::string* out) {
  PutVarint(out, meta.id);
  PutVarint(out, meta.checkpoint);
  PutString(out, meta.environment);
  PutVarint(out, meta.num_rows);
  PutFixed64(out, meta.min_start_unix_nano);
  PutFixed64(out, meta.max_end_unix_nano);
  PutVarint(out, meta.services.size());
  for (const auto& [name, c] : meta.services) {
    PutString(out, name);
    PutVarint(out, c.span_count);
    PutVarint(out, c.root_count);
    PutVarint(out, c.error_count);
    PutFixed64(out, c.first_seen);
    PutFixed64(out, c.last_seen);
  }
  PutString(out, meta.bloom.bits());
  PutVarint(out, meta.columns.size());
  for (const auto& [name, c] : meta.columns) {
    PutString(out, name);
    PutVarint(out, c.types);
    out->push_back(static_cast<char>(c.sources));
  }
  if (!meta.has_stats) return;  // a version-1 meta ends here
  PutVarint(out, meta.min_duration_nano);
  PutVarint(out, meta.max_duration_nano);
  out->push_back(static_cast<char>(meta.status_code_mask));
  out->push_back(static_cast<char>(meta.kind_mask));
  out->push_back(static_cast<char>(meta.names_complete ? 1 : 0));
  if (meta.names_complete) {
    PutVarint(out, meta.names.size());
    for (const std::string& n : meta.names) PutString(out, n);
  }
  PutVarint(out, meta.stats.size());
  for (const auto& [key, st] : meta.stats) {
    PutString(out, key);
    PutVarint(out, st.present_rows);
    const uint8_t flags = (st.has_int ? 1 : 0) | (st.has_double ? 2 : 0) | (st.has_nan ? 4 : 0) |
                          (st.has_bool ? 8 : 0) | (st.has_strings ? 16 : 0) |
                          (st.strings_complete ? 32 : 0);
    out->push_back(static_cast<char>(flags));
    if (st.has_int) {
      PutVarint(out, ZigZag(st.int_min));
      PutVarint(out, ZigZag(st.int_max));
    }
    if (st.has_double) {
      PutDouble(out, st.double_min);
      PutDouble(out, st.double_max);
    }
    if (st.strings_complete) {
      PutVarint(out, st.strings.size());
      for (const std::string& v : st.strings) PutString(out, v);
    }
  }
}

bool DecodeStats(ByteReader* in, BlockMeta* meta) {
  uint8_t names_complete;
  if (!in->GetVarint(&meta->min_duration_nano) || !in->GetVarint(&meta->max_duration_nano) ||
      !in->GetByte(&meta->status_code_mask) || !in->GetByte(&meta->kind_mask) ||
      !in->GetByte(&names_complete))
    return false;
  meta->names_complete = names_complete != 0;
  if (meta->names_complete) {
    uint64_t n;
    if (!in->GetVarint(&n) || n > in->remaining()) return false;
    for (uint64_t i = 0; i < n; ++i) {
      std::string_view v;
      if (!in->GetString(&v)) return false;
      meta->names.emplace_back(v);
    }
  }
  uint64_t keys;
  if (!in->GetVarint(&keys) || keys > in->remaining()) return false;
  for (uint64_t i = 0; i < keys; ++i) {
    std::string_view key;
    ColumnStats st;
    uint8_t flags;
    if (!in->GetString(&key) || !in->GetVarint(&st.present_rows) || !in->GetByte(&flags))
      return false;
    st.has_int = flags & 1;
    st.has_double = flags & 2;
    st.has_nan = flags & 4;
    st.has_bool = flags & 8;
    st.has_strings = flags & 16;
    st.strings_complete = flags & 32;
    if (st.has_int) {
      uint64_t lo, hi;
      if (!in->GetVarint(&lo) || !in->GetVarint(&hi)) return false;
      st.int_min = UnZigZag(lo);
      st.int_max = UnZigZag(hi);
    }
    if (st.has_double && (!in->GetDouble(&st.double_min) || !in->GetDouble(&st.double_max)))
      return false;
    if (st.strings_complete) {
      uint64_t n;
      if (!in->GetVarint(&n) || n > in->remaining()) return false;
      for (uint64_t j = 0; j < n; ++j) {
        std::string_view v;
        if (!in->GetString(&v)) return false;
        st.strings.emplace_back(v);
      }
    }
    meta->stats[std::string(key)] = std::move(st);
  }
  meta->has_stats = true;
  return in->ok();
}

bool DecodeMeta(std::string_view data, BlockMeta* meta) {
  ByteReader in(data);
  uint64_t services;
  std::string_view env, bloom;
  if (!in.GetVarint(&meta->id) || !in.GetVarint(&meta->checkpoint) || !in.GetString(&env) ||
      !in.GetVarint(&meta->num_rows) || !in.GetFixed64(&meta->min_start_unix_nano) ||
      !in.GetFixed64(&meta->max_end_unix_nano) || !in.GetVarint(&services) ||
      services > in.remaining())
    return false;
  meta->environment.assign(env);
  for (uint64_t i = 0; i < services; ++i) {
    std::string_view name;
    ServiceCounts c;
    if (!in.GetString(&name) || !in.GetVarint(&c.span_count) || !in.GetVarint(&c.root_count) ||
        !in.GetVarint(&c.error_count) || !in.GetFixed64(&c.first_seen) ||
        !in.GetFixed64(&c.last_seen))
      return false;
    meta->services[std::string(name)] = c;
  }
  if (!in.GetString(&bloom)) return false;
  meta->bloom = TraceIdBloom::FromBits(std::string(bloom));
  uint64_t columns;
  if (!in.GetVarint(&columns) || columns > in.remaining()) return false;
  for (uint64_t i = 0; i < columns; ++i) {
    std::string_view name;
    uint64_t types;
    uint8_t sources;
    if (!in.GetString(&name) || !in.GetVarint(&types) || !in.GetByte(&sources)) return false;
    meta->columns[std::string(name)] =
        BlockMeta::ColumnTypes{static_cast<uint16_t>(types), sources};
  }
  if (in.ok() && !in.empty() && !DecodeStats(&in, meta)) return false;
  return in.ok() && in.empty();
}

Status Corrupt(const std::string& what) {
  return Status::DataLoss("block file is corrupt: " + what +
                          "; move it out of the data directory to start without it");
}

struct Footer {
  uint64_t meta_offset = 0, meta_len = 0, dir_offset = 0, dir_len = 0;
  uint32_t crc = 0;
};

// `tail` is the last kFooterSize bytes of a file of `file_size` bytes.
Result<Footer> ParseFooter(std::string_view tail, uint64_t file_size) {
  if (tail.size() != kFooterSize || std::memcmp(tail.data() + kFooterSize - 8, kBlockMagic, 8) != 0)
    return Corrupt("bad magic or too short");
  Footer f;
  f.meta_offset = DecodeFixed64(tail.data());
  f.meta_len = DecodeFixed64(tail.data() + 8);
  f.dir_offset = DecodeFixed64(tail.data() + 16);
  f.dir_len = DecodeFixed64(tail.data() + 24);
  f.crc = DecodeFixed32(tail.data() + 32);
  const uint64_t limit = file_size - kFooterSize;
  if (f.meta_offset > limit || f.meta_len > limit - f.meta_offset || f.dir_offset > limit ||
      f.dir_len > limit - f.dir_offset)
    return Corrupt("footer offsets out of range");
  return f;
}

Status CheckHeader(std::string_view head, uint32_t* version) {
  if (head.size() < 12 || std::memcmp(head.data(), kBlockMagic, 8) != 0)
    return Corrupt("bad magic or too short");
  *version = DecodeFixed32(head.data() + 8);
  if (*version != 1 && *version != kBlockFormatVersion)
    return Corrupt("unsupported format version " + std::to_string(*version));
  return Status::Ok();
}

// Checks the footer CRC over meta and directory, then decodes both into `meta`.
Status ParseMetaAndDirectory(std::string_view meta_bytes, std::string_view dir,
                             const Footer& footer, uint64_t file_size, BlockMeta* meta) {
  uLong c = crc32(0L, reinterpret_cast<const Bytef*>(meta_bytes.data()),
                  static_cast<uInt>(meta_bytes.size()));
  c = crc32(c, reinterpret_cast<const Bytef*>(dir.data()), static_cast<uInt>(dir.size()));
  if (static_cast<uint32_t>(c) != footer.crc) return Corrupt("footer checksum mismatch");
  const uint64_t limit = file_size - kFooterSize;
  ByteReader in(dir);
  uint64_t n;
  if (!in.GetVarint(&n) || n > dir.size()) return Corrupt("section directory");
  for (uint64_t i = 0; i < n; ++i) {
    Section s;
    std::string_view name;
    if (!in.GetString(&name) || !in.GetVarint(&s.offset) || !in.GetVarint(&s.compressed) ||
        !in.GetVarint(&s.raw) || !in.GetFixed32(&s.crc))
      return Corrupt("section directory");
    if (s.offset > limit || s.compressed > limit - s.offset) return Corrupt("section bounds");
    s.name.assign(name);
    meta->sections.push_back(std::move(s));
  }
  if (!DecodeMeta(meta_bytes, meta)) return Status::DataLoss("block meta section is corrupt");
  meta->file_bytes = file_size;
  return Status::Ok();
}

Result<BlockMeta> ParseLayout(std::string_view file) {
  if (file.size() < sizeof(kBlockMagic) + 4 + kFooterSize) return Corrupt("bad magic or too short");
  BlockMeta meta;
  ARIADNE_RETURN_IF_ERROR(CheckHeader(file.substr(0, 12), &meta.format_version));
  ARIADNE_ASSIGN_OR_RETURN(Footer footer,
                           ParseFooter(file.substr(file.size() - kFooterSize), file.size()));
  ARIADNE_RETURN_IF_ERROR(ParseMetaAndDirectory(file.substr(footer.meta_offset, footer.meta_len),
                                                file.substr(footer.dir_offset, footer.dir_len),
                                                footer, file.size(), &meta));
  return meta;
}

// Checks and decompresses one section from `compressed`, its stored bytes.
Result<std::string> ReadSection(std::string_view compressed, const Section& s) {
  if (compressed.size() != s.compressed || Crc(compressed) != s.crc)
    return Status::DataLoss("block section '" + s.name + "' failed its checksum");
  std::string raw(s.raw, '\0');
  size_t n = ZSTD_decompress(raw.data(), raw.size(), compressed.data(), compressed.size());
  if (ZSTD_isError(n) || n != s.raw)
    return Status::DataLoss("block section '" + s.name + "' does not decompress");
  return raw;
}

// The ColumnSet bit a section belongs to (0 for attribute sections and unknown names).
uint32_t SectionBit(const std::string& name) {
  static const std::map<std::string, uint32_t, std::less<>> kBits = {
      {"trace_id", ColumnSet::kTraceId},
      {"span_id", ColumnSet::kSpanId},
      {"parent_span_id", ColumnSet::kParentSpanId},
      {"start", ColumnSet::kStart},
      {"duration", ColumnSet::kEnd},
      {"name", ColumnSet::kName},
      {"kind", ColumnSet::kKind},
      {"status_code", ColumnSet::kStatusCode},
      {"status_message", ColumnSet::kStatusMessage},
      {"trace_state", ColumnSet::kTraceState},
      {"flags_dropped", ColumnSet::kFlagsDropped},
      {"resource_scope", ColumnSet::kResourceScope},
      {"tables", ColumnSet::kResourceScope},
      {"events_links", ColumnSet::kEventsLinks},
  };
  auto it = kBits.find(name);
  return it == kBits.end() ? 0 : it->second;
}

bool SectionNeeded(const Section& s, const ColumnSet& needed) {
  if (s.name.rfind("attr:", 0) == 0) return needed.HasAttribute(std::string_view(s.name).substr(5));
  const uint32_t bit = SectionBit(s.name);
  return bit != 0 && (needed.fixed & bit) != 0;
}

// Decodes section `name` (raw bytes) into `block`, whose num_rows is set. Sections come in file
// order, so span_id precedes parent_span_id and start precedes duration.
Status DecodeSection(const std::string& name, const std::string& raw, Block* block) {
  const size_t rows = block->num_rows;
  auto bad = [](const std::string& section) {
    return Status::DataLoss("block section '" + section + "' is malformed");
  };
  ByteReader in(raw);
  if (name == "trace_id") {
    block->trace_id.reserve(rows);
    while (!in.empty() && in.ok()) {
      std::string_view id;
      uint64_t run;
      if (!in.GetBytes(16, &id) || !in.GetVarint(&run) || run > rows - block->trace_id.size())
        return bad(name);
      block->trace_id.insert(block->trace_id.end(), run, *model::TraceId::FromBytes(id));
    }
    if (block->trace_id.size() != rows) return bad(name);
  } else if (name == "span_id") {
    if (raw.size() != rows * 8) return bad(name);
    block->span_id.resize(rows);
    for (size_t r = 0; r < rows; ++r) std::memcpy(block->span_id[r].bytes.data(), &raw[r * 8], 8);
  } else if (name == "parent_span_id") {
    block->parent_span_id.resize(rows);
    for (size_t r = 0; r < rows; ++r) {
      uint64_t code;
      if (!in.GetVarint(&code)) return bad(name);
      if (code == 1) {
        std::string_view id;
        if (!in.GetBytes(8, &id)) return bad(name);
        block->parent_span_id[r] = *model::SpanId::FromBytes(id);
      } else if (code >= 2) {
        int64_t parent_row = static_cast<int64_t>(r) - UnZigZag(code - 2);
        if (parent_row < 0 || static_cast<uint64_t>(parent_row) >= rows) return bad(name);
        if (block->span_id.size() != rows) return bad("span_id before parent_span_id");
        block->parent_span_id[r] = block->span_id[parent_row];
      }
    }
  } else if (name == "start") {
    block->start_unix_nano.resize(rows);
    uint64_t previous = 0;
    for (uint64_t& start : block->start_unix_nano) {
      uint64_t z;
      if (!in.GetVarint(&z)) return bad(name);
      start = previous + static_cast<uint64_t>(UnZigZag(z));
      previous = start;
    }
  } else if (name == "duration") {
    if (block->start_unix_nano.size() != rows) return bad("start before duration");
    block->end_unix_nano.resize(rows);
    for (size_t r = 0; r < rows; ++r) {
      uint64_t z;
      if (!in.GetVarint(&z)) return bad(name);
      block->end_unix_nano[r] = block->start_unix_nano[r] + static_cast<uint64_t>(UnZigZag(z));
    }
  } else if (name == "name") {
    if (!GetDict(&in, rows, &block->name)) return bad(name);
  } else if (name == "kind" || name == "status_code") {
    if (raw.size() != rows) return bad(name);
    auto& target = name == "kind" ? block->kind : block->status_code;
    target.assign(raw.begin(), raw.end());
  } else if (name == "status_message") {
    if (!GetDict(&in, rows, &block->status_message)) return bad(name);
  } else if (name == "trace_state") {
    if (!GetDict(&in, rows, &block->trace_state)) return bad(name);
  } else if (name == "flags_dropped") {
    if (!GetVarints(&in, rows, &block->flags) ||
        !GetVarints(&in, rows, &block->dropped_attributes) ||
        !GetVarints(&in, rows, &block->dropped_events) ||
        !GetVarints(&in, rows, &block->dropped_links))
      return bad(name);
  } else if (name == "resource_scope") {
    if (!GetVarints(&in, rows, &block->resource) || !GetVarints(&in, rows, &block->scope))
      return bad(name);
  } else if (name == "tables") {
    ARIADNE_ASSIGN_OR_RETURN(model::SpanBatch tables, DecodeSpanBatch(raw));
    for (uint32_t i = 0; i < tables.resources.size(); ++i)
      block->tables.CopyResourceFrom(tables, i);
    for (uint32_t i = 0; i < tables.scopes.size(); ++i) block->tables.CopyScopeFrom(tables, i);
  } else if (name == "events_links") {
    model::SpanBatch& t = block->tables;
    block->events.resize(rows);
    block->links.resize(rows);
    // Decode into a scratch batch whose views point into `raw`, then copy into the block.
    model::SpanBatch scratch;
    for (size_t r = 0; r < rows; ++r) {
      model::Range events, links;
      if (!DecodeEventsAndLinks(&in, &scratch, &events, &links)) return bad(name);
      block->events[r] = {static_cast<uint32_t>(t.events.size()), events.count};
      for (uint32_t i = events.begin; i < events.end(); ++i) {
        model::Event e = scratch.events[i];
        e.name = t.arena.Copy(e.name);
        e.attributes = t.CopyAttributes(scratch, e.attributes);
        t.events.push_back(e);
      }
      block->links[r] = {static_cast<uint32_t>(t.links.size()), links.count};
      for (uint32_t i = links.begin; i < links.end(); ++i) {
        model::Link l = scratch.links[i];
        l.trace_state = t.arena.Copy(l.trace_state);
        l.attributes = t.CopyAttributes(scratch, l.attributes);
        t.links.push_back(l);
      }
    }
  } else if (name.rfind("attr:", 0) == 0) {
    AttributeColumn column;
    column.key = name.substr(5);
    uint64_t n;
    if (!in.GetVarint(&n) || n > rows) return bad(name);
    column.rows.resize(n);
    uint32_t row = 0;
    for (size_t i = 0; i < n; ++i) {
      uint32_t delta;
      if (!in.GetVarint32(&delta)) return bad(name);
      row += delta;
      if (row >= rows || (i > 0 && delta == 0)) return bad(name);
      column.rows[i] = row;
    }
    column.types.resize(n);
    for (auto& t : column.types) {
      uint8_t b;
      if (!in.GetByte(&b) || b > static_cast<uint8_t>(model::ValueType::kKvList)) return bad(name);
      t = static_cast<model::ValueType>(b);
    }
    column.values.resize(n);
    for (size_t i = 0; i < n; ++i) {
      switch (column.types[i]) {
        case model::ValueType::kEmpty:
          break;
        case model::ValueType::kBool: {
          uint8_t b;
          if (!in.GetByte(&b)) return bad(name);
          column.values[i] = b;
          break;
        }
        case model::ValueType::kInt: {
          uint64_t z;
          if (!in.GetVarint(&z)) return bad(name);
          column.values[i] = static_cast<uint64_t>(UnZigZag(z));
          break;
        }
        case model::ValueType::kDouble:
          if (!in.GetFixed64(&column.values[i])) return bad(name);
          break;
        default:
          if (!in.GetVarint(&column.values[i])) return bad(name);
          break;
      }
    }
    uint64_t dict_size;
    if (!in.GetVarint(&dict_size) || dict_size > in.remaining()) return bad(name);
    column.dict.resize(dict_size);
    for (std::string& s : column.dict) {
      std::string_view v;
      if (!in.GetString(&v)) return bad(name);
      s.assign(v);
    }
    for (size_t i = 0; i < n; ++i)
      if (IsStringLike(column.types[i]) && column.values[i] >= dict_size) return bad(name);
    block->attributes.push_back(std::move(column));
  }
  if (!in.ok()) return bad(name);
  return Status::Ok();
}

// Checks that the columns of `want` are all there with one entry per row, and that row
// references stay in range.
Status CheckColumns(const Block& b, const ColumnSet& want) {
  const size_t rows = b.num_rows;
  auto lacks = [&](uint32_t bit, size_t size) { return want.Has(bit) && size != rows; };
  if (lacks(ColumnSet::kTraceId, b.trace_id.size()) ||
      lacks(ColumnSet::kSpanId, b.span_id.size()) ||
      lacks(ColumnSet::kParentSpanId, b.parent_span_id.size()) ||
      lacks(ColumnSet::kStart, b.start_unix_nano.size()) ||
      lacks(ColumnSet::kEnd, b.end_unix_nano.size()) ||
      lacks(ColumnSet::kName, b.name.codes.size()) || lacks(ColumnSet::kKind, b.kind.size()) ||
      lacks(ColumnSet::kStatusCode, b.status_code.size()) ||
      lacks(ColumnSet::kStatusMessage, b.status_message.codes.size()) ||
      lacks(ColumnSet::kTraceState, b.trace_state.codes.size()) ||
      lacks(ColumnSet::kFlagsDropped, b.flags.size()) ||
      lacks(ColumnSet::kResourceScope, b.resource.size()) ||
      lacks(ColumnSet::kEventsLinks, b.events.size()))
    return Status::DataLoss("block file lacks a required column");
  for (size_t r = 0; r < rows; ++r) {
    if ((want.Has(ColumnSet::kResourceScope) &&
         (b.resource[r] >= b.tables.resources.size() || b.scope[r] >= b.tables.scopes.size())) ||
        (want.Has(ColumnSet::kKind) && b.kind[r] > 5) ||
        (want.Has(ColumnSet::kStatusCode) && b.status_code[r] > 2))
      return Status::DataLoss("block file has an out-of-range resource, scope, kind or status");
  }
  return Status::Ok();
}

}  // namespace

std::string EncodeBlockFile(const Block& block, const BlockMeta& meta) {
  std::string file(kBlockMagic, 8);
  PutFixed32(&file, kBlockFormatVersion);
  SectionWriter writer(&file);
  const size_t rows = block.num_rows;
  std::string raw;

  // Trace ids: run-length encoded (a sealed block keeps each trace's spans together).
  for (size_t row = 0; row < rows;) {
    size_t end = row + 1;
    while (end < rows && block.trace_id[end] == block.trace_id[row]) ++end;
    raw.append(block.trace_id[row].AsStringView());
    PutVarint(&raw, end - row);
    row = end;
  }
  writer.Add("trace_id", raw);

  raw.clear();
  for (const model::SpanId& id : block.span_id) raw.append(id.AsStringView());
  writer.Add("span_id", raw);

  // Parent ids: mostly another span of the same trace in this block, written as a row distance.
  raw.clear();
  std::unordered_map<uint64_t, uint32_t> row_of_span;
  row_of_span.reserve(rows);
  for (uint32_t row = 0; row < rows; ++row) {
    uint64_t key;
    std::memcpy(&key, block.span_id[row].bytes.data(), 8);
    row_of_span.emplace(key, row);
  }
  for (uint32_t row = 0; row < rows; ++row) {
    const model::SpanId& parent = block.parent_span_id[row];
    if (parent.IsZero()) {
      PutVarint(&raw, 0);
      continue;
    }
    uint64_t key;
    std::memcpy(&key, parent.bytes.data(), 8);
    auto it = row_of_span.find(key);
    if (it != row_of_span.end() && block.trace_id[it->second] == block.trace_id[row]) {
      PutVarint(&raw, ZigZag(static_cast<int64_t>(row) - it->second) + 2);
    } else {
      PutVarint(&raw, 1);
      raw.append(parent.AsStringView());
    }
  }
  writer.Add("parent_span_id", raw);

  raw.clear();
  uint64_t previous = 0;
  for (uint64_t start : block.start_unix_nano) {
    PutVarint(&raw, ZigZag(static_cast<int64_t>(start - previous)));
    previous = start;
  }
  writer.Add("start", raw);

  raw.clear();
  for (size_t row = 0; row < rows; ++row)
    PutVarint(&raw,
              ZigZag(static_cast<int64_t>(block.end_unix_nano[row] - block.start_unix_nano[row])));
  writer.Add("duration", raw);

  raw.clear();
  PutDict(&raw, block.name);
  writer.Add("name", raw);
  raw.assign(block.kind.begin(), block.kind.end());
  writer.Add("kind", raw);
  raw.assign(block.status_code.begin(), block.status_code.end());
  writer.Add("status_code", raw);
  raw.clear();
  PutDict(&raw, block.status_message);
  writer.Add("status_message", raw);
  raw.clear();
  PutDict(&raw, block.trace_state);
  writer.Add("trace_state", raw);
  raw.clear();
  PutVarints(&raw, block.flags);
  PutVarints(&raw, block.dropped_attributes);
  PutVarints(&raw, block.dropped_events);
  PutVarints(&raw, block.dropped_links);
  writer.Add("flags_dropped", raw);
  raw.clear();
  PutVarints(&raw, block.resource);
  PutVarints(&raw, block.scope);
  writer.Add("resource_scope", raw);

  // Resources and scopes as a span-less batch; events and links per row.
  raw.clear();
  model::SpanBatch tables_only;
  for (uint32_t i = 0; i < block.tables.resources.size(); ++i)
    tables_only.CopyResourceFrom(block.tables, i);
  for (uint32_t i = 0; i < block.tables.scopes.size(); ++i)
    tables_only.CopyScopeFrom(block.tables, i);
  EncodeSpanBatch(tables_only, &raw);
  writer.Add("tables", raw);
  raw.clear();
  for (size_t row = 0; row < rows; ++row)
    EncodeEventsAndLinks(block.tables, block.events[row], block.links[row], &raw);
  writer.Add("events_links", raw);

  for (const AttributeColumn& column : block.attributes) {
    raw.clear();
    PutVarint(&raw, column.rows.size());
    uint32_t prev_row = 0;
    for (uint32_t row : column.rows) {
      PutVarint(&raw, row - prev_row);
      prev_row = row;
    }
    for (model::ValueType t : column.types) raw.push_back(static_cast<char>(t));
    for (size_t i = 0; i < column.values.size(); ++i) {
      switch (column.types[i]) {
        case model::ValueType::kEmpty:
          break;
        case model::ValueType::kBool:
          raw.push_back(static_cast<char>(column.values[i]));
          break;
        case model::ValueType::kInt:
          PutVarint(&raw, ZigZag(static_cast<int64_t>(column.values[i])));
          break;
        case model::ValueType::kDouble:
          PutFixed64(&raw, column.values[i]);
          break;
        default:
          PutVarint(&raw, column.values[i]);
          break;
      }
    }
    PutVarint(&raw, column.dict.size());
    for (const std::string& s : column.dict) PutString(&raw, s);
    writer.Add("attr:" + column.key, raw);
  }

  std::string meta_bytes;
  EncodeMeta(meta, &meta_bytes);
  uint64_t meta_offset = file.size();
  file += meta_bytes;
  std::string dir;
  PutVarint(&dir, writer.sections().size());
  for (const Section& s : writer.sections()) {
    PutString(&dir, s.name);
    PutVarint(&dir, s.offset);
    PutVarint(&dir, s.compressed);
    PutVarint(&dir, s.raw);
    PutFixed32(&dir, s.crc);
  }
  uint64_t dir_offset = file.size();
  file += dir;
  PutFixed64(&file, meta_offset);
  PutFixed64(&file, meta_bytes.size());
  PutFixed64(&file, dir_offset);
  PutFixed64(&file, dir.size());
  uLong c = crc32(0L, reinterpret_cast<const Bytef*>(meta_bytes.data()),
                  static_cast<uInt>(meta_bytes.size()));
  c = crc32(c, reinterpret_cast<const Bytef*>(dir.data()), static_cast<uInt>(dir.size()));
  PutFixed32(&file, static_cast<uint32_t>(c));
  file.append(kBlockMagic, 8);
  return file;
}

Result<BlockMeta> DecodeBlockMeta(std::string_view file) { return ParseLayout(file); }

Result<std::shared_ptr<const Block>> DecodeBlockFile(std::string_view file) {
  ARIADNE_ASSIGN_OR_RETURN(BlockMeta meta, ParseLayout(file));
  auto block = std::make_shared<Block>();
  block->environment = meta.environment;
  block->num_rows = meta.num_rows;
  for (const Section& section : meta.sections) {
    ARIADNE_ASSIGN_OR_RETURN(std::string raw,
                             ReadSection(file.substr(section.offset, section.compressed), section));
    ARIADNE_RETURN_IF_ERROR(DecodeSection(section.name, raw, block.get()));
  }
  ColumnSet all = ColumnSet::All();
  ARIADNE_RETURN_IF_ERROR(CheckColumns(*block, all));
  return std::shared_ptr<const Block>(std::move(block));
}

Result<BlockMeta> ReadBlockMeta(Env* env, const std::string& path) {
  ARIADNE_ASSIGN_OR_RETURN(uint64_t size, env->FileSize(path));
  if (size < sizeof(kBlockMagic) + 4 + kFooterSize) return Corrupt("bad magic or too short");
  BlockMeta meta;
  ARIADNE_ASSIGN_OR_RETURN(std::string head, env->ReadFileRange(path, 0, 12));
  ARIADNE_RETURN_IF_ERROR(CheckHeader(head, &meta.format_version));
  ARIADNE_ASSIGN_OR_RETURN(std::string tail,
                           env->ReadFileRange(path, size - kFooterSize, kFooterSize));
  ARIADNE_ASSIGN_OR_RETURN(Footer footer, ParseFooter(tail, size));
  // Meta and directory are adjacent in files this code writes; read the span covering both.
  const uint64_t from = std::min(footer.meta_offset, footer.dir_offset);
  const uint64_t to =
      std::max(footer.meta_offset + footer.meta_len, footer.dir_offset + footer.dir_len);
  ARIADNE_ASSIGN_OR_RETURN(std::string bytes,
                           env->ReadFileRange(path, from, static_cast<size_t>(to - from)));
  if (bytes.size() != to - from) return Corrupt("file shorter than its footer says");
  std::string_view view(bytes);
  ARIADNE_RETURN_IF_ERROR(ParseMetaAndDirectory(
      view.substr(footer.meta_offset - from, footer.meta_len),
      view.substr(footer.dir_offset - from, footer.dir_len), footer, size, &meta));
  return meta;
}

Result<std::shared_ptr<const Block>> ReadBlockColumns(Env* env, const std::string& path,
                                                      const BlockMeta& meta, ColumnSet needed) {
  needed.Close();
  std::vector<const Section*> wanted;
  for (const Section& s : meta.sections)
    if (SectionNeeded(s, needed)) wanted.push_back(&s);
  std::sort(wanted.begin(), wanted.end(),
            [](const Section* a, const Section* b) { return a->offset < b->offset; });
  auto block = std::make_shared<Block>();
  block->environment = meta.environment;
  block->num_rows = meta.num_rows;
  // Sections close together are read with one pread; a gap of unneeded bytes up to this size is
  // cheaper to read than to seek over.
  constexpr uint64_t kMaxGap = 64 * 1024;
  for (size_t i = 0; i < wanted.size();) {
    size_t j = i + 1;
    uint64_t end = wanted[i]->offset + wanted[i]->compressed;
    while (j < wanted.size() && wanted[j]->offset <= end + kMaxGap) {
      end = std::max(end, wanted[j]->offset + wanted[j]->compressed);
      ++j;
    }
    const uint64_t from = wanted[i]->offset;
    ARIADNE_ASSIGN_OR_RETURN(std::string bytes,
                             env->ReadFileRange(path, from, static_cast<size_t>(end - from)));
    std::string_view view(bytes);
    for (size_t k = i; k < j; ++k) {
      const Section& s = *wanted[k];
      std::string_view compressed =
          s.offset - from < view.size() ? view.substr(s.offset - from, s.compressed) : "";
      ARIADNE_ASSIGN_OR_RETURN(std::string raw, ReadSection(compressed, s));
      ARIADNE_RETURN_IF_ERROR(DecodeSection(s.name, raw, block.get()));
    }
    i = j;
  }
  ARIADNE_RETURN_IF_ERROR(CheckColumns(*block, needed));
  return std::shared_ptr<const Block>(std::move(block));
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

}  // namespace ariadne::store::embedded
