// BlockBuilder (block.h): the mutable head of one environment, and sealing it into a sorted Block.
#include <algorithm>
#include <cstring>
#include <numeric>

#include "columnar/batch_codec.h"
#include "columnar/block.h"
#include "columnar/block_internal.h"
#include "columnar/coding.h"

namespace ariadne::columnar {
namespace {

using block_internal::IsStringLike;

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

}  // namespace ariadne::columnar
