#include "store/embedded/trace_rows.h"

#include <algorithm>
#include <unordered_map>

namespace ariadne::store::embedded {

using columnar::AttributeColumn;
using columnar::Block;
using columnar::ColumnSet;
using columnar::DictColumn;

namespace {

const DictColumn& DictOf(const Block& block, uint32_t bit) {
  switch (bit) {
    case ColumnSet::kName:
      return block.name;
    case ColumnSet::kStatusMessage:
      return block.status_message;
    default:
      return block.trace_state;
  }
}

}  // namespace

TraceRows::TraceRows(const BlockColumnParts& parts) {
  for (size_t i = 0; i < parts.units.size(); ++i) {
    const ColumnUnit& unit = parts.units[i];
    const CachedPart* cached = parts.cached.empty() ? nullptr : parts.cached[i].get();
    const Block* block = cached ? cached->block.get() : parts.loaded.get();
    if (unit.bit != 0) {
      Source& source = sources_[__builtin_ctz(unit.bit)];
      source.block = block;
      if (cached && cached->narrowed != CachedPart::Narrowed::kNone) source.part = cached;
    } else if (cached && cached->narrowed == CachedPart::Narrowed::kAttribute) {
      attributes_.push_back({&cached->block->attributes[0], cached});
    } else {
      // Every attribute column, or those of one key (a block read from the file may hold more).
      for (const AttributeColumn& column : block->attributes)
        if (unit.all_attributes || column.key == unit.key)
          attributes_.push_back({&column, nullptr});
    }
  }
}

std::pair<uint32_t, uint32_t> TraceRows::RowsOfTrace(const model::TraceId& id) const {
  const std::vector<model::TraceId>& ids = Of(ColumnSet::kTraceId).block->trace_id;
  auto range = std::equal_range(ids.begin(), ids.end(), id);
  return {static_cast<uint32_t>(range.first - ids.begin()),
          static_cast<uint32_t>(range.second - ids.begin())};
}

std::string_view TraceRows::StringAt(uint32_t bit, uint32_t row) const {
  const Source& source = Of(bit);
  if (source.part) return DictOf(*source.block, bit).dict[source.part->bytes_a[row]];
  return DictOf(*source.block, bit).at(row);
}

void TraceRows::Materialize(uint32_t begin, uint32_t end, model::SpanBatch* out) const {
  const Block& ids = *Of(ColumnSet::kTraceId).block;
  const Block& span_ids = *Of(ColumnSet::kSpanId).block;
  const Block& parents = *Of(ColumnSet::kParentSpanId).block;
  const Source& starts = Of(ColumnSet::kStart);
  const Source& ends = Of(ColumnSet::kEnd);
  const Block& kinds = *Of(ColumnSet::kKind).block;
  const Block& codes = *Of(ColumnSet::kStatusCode).block;
  const Block& flags = *Of(ColumnSet::kFlagsDropped).block;
  const Source& resource_scope = Of(ColumnSet::kResourceScope);
  const Block& events_links = *Of(ColumnSet::kEventsLinks).block;
  const model::SpanBatch& resource_tables = resource_scope.block->tables;
  const model::SpanBatch& event_tables = events_links.tables;

  // Narrowed start times: the exceptions of rows from `begin` on, in row order.
  std::vector<std::pair<uint32_t, uint64_t>>::const_iterator start_exception;
  if (starts.part) {
    const auto& exceptions = starts.part->start_exceptions;
    start_exception =
        std::lower_bound(exceptions.begin(), exceptions.end(), std::make_pair(begin, uint64_t{0}));
  }
  // Narrowed end times: the exceptions of rows from `begin` on, in row order.
  std::vector<std::pair<uint32_t, uint64_t>>::const_iterator exception;
  if (ends.part) {
    const auto& exceptions = ends.part->end_exceptions;
    exception =
        std::lower_bound(exceptions.begin(), exceptions.end(), std::make_pair(begin, uint64_t{0}));
  }
  // The attribute columns with an entry in [begin, end), each with its first such entry (entries
  // are sorted by row); the rows below walk only these (a trace's few rows use few of a block's
  // keys).
  struct Cursor {
    const AttributeSource* source;
    size_t entry;
  };
  std::vector<Cursor> cursors;
  for (const AttributeSource& source : attributes_) {
    if (source.narrowed && source.narrowed->attribute_every_row) {  // entry e is row e
      if (begin < end) cursors.push_back({&source, begin});
      continue;
    }
    const std::vector<uint32_t>& rows = source.column->rows;
    auto first = std::lower_bound(rows.begin(), rows.end(), begin);
    if (first != rows.end() && *first < end)
      cursors.push_back({&source, size_t(first - rows.begin())});
  }
  std::unordered_map<uint32_t, uint32_t> resource_map, scope_map;
  for (uint32_t row = begin; row < end; ++row) {
    model::Span s;
    s.trace_id = ids.trace_id[row];
    s.span_id = span_ids.span_id[row];
    s.parent_span_id = parents.parent_span_id[row];
    s.trace_state = out->arena.Copy(StringAt(ColumnSet::kTraceState, row));
    s.name = out->arena.Copy(StringAt(ColumnSet::kName, row));
    s.kind = static_cast<model::SpanKind>(kinds.kind[row]);
    s.status_code = static_cast<model::StatusCode>(codes.status_code[row]);
    s.status_message = out->arena.Copy(StringAt(ColumnSet::kStatusMessage, row));
    if (starts.part == nullptr) {
      s.start_time_unix_nano = starts.block->start_unix_nano[row];
    } else if (start_exception != starts.part->start_exceptions.end() &&
               start_exception->first == row) {
      s.start_time_unix_nano = start_exception->second;
      ++start_exception;
    } else {
      s.start_time_unix_nano = starts.part->start_base + starts.part->start_offset[row];
    }
    if (ends.part == nullptr) {
      s.end_time_unix_nano = ends.block->end_unix_nano[row];
    } else if (exception != ends.part->end_exceptions.end() && exception->first == row) {
      s.end_time_unix_nano = exception->second;
      ++exception;
    } else {
      s.end_time_unix_nano = s.start_time_unix_nano + ends.part->duration[row];
    }
    s.flags = flags.flags[row];
    s.dropped_attributes_count = flags.dropped_attributes[row];
    s.dropped_events_count = flags.dropped_events[row];
    s.dropped_links_count = flags.dropped_links[row];
    const uint32_t resource = resource_scope.part ? resource_scope.part->bytes_a[row]
                                                  : resource_scope.block->resource[row];
    const uint32_t scope =
        resource_scope.part ? resource_scope.part->bytes_b[row] : resource_scope.block->scope[row];
    auto [rit, rnew] = resource_map.try_emplace(resource, 0);
    if (rnew) rit->second = out->CopyResourceFrom(resource_tables, resource);
    s.resource_index = rit->second;
    auto [sit, snew] = scope_map.try_emplace(scope, 0);
    if (snew) sit->second = out->CopyScopeFrom(resource_tables, scope);
    s.scope_index = sit->second;

    s.attributes.begin = static_cast<uint32_t>(out->attributes.size());
    for (Cursor& cursor : cursors) {
      const AttributeColumn& column = *cursor.source->column;
      const CachedPart* narrowed = cursor.source->narrowed;
      const size_t entry = cursor.entry;
      if (narrowed == nullptr || !narrowed->attribute_every_row) {
        if (entry >= column.rows.size() || column.rows[entry] != row) continue;
      }
      ++cursor.entry;
      model::Value v =
          narrowed ? AttributeColumn::Decode(narrowed->attribute_type,
                                             narrowed->attribute_values32.empty()
                                                 ? uint64_t{narrowed->attribute_values[entry]}
                                                 : uint64_t{narrowed->attribute_values32[entry]},
                                             column.dict)
                   : column.ValueAt(entry);
      v.str = out->arena.Copy(v.str);
      out->attributes.push_back({out->arena.Copy(column.key), v});
    }
    s.attributes.count = static_cast<uint32_t>(out->attributes.size()) - s.attributes.begin;

    const model::Range events = events_links.events[row];
    s.events = {static_cast<uint32_t>(out->events.size()), events.count};
    for (uint32_t i = events.begin; i < events.end(); ++i) {
      model::Event e = event_tables.events[i];
      e.name = out->arena.Copy(e.name);
      e.attributes = out->CopyAttributes(event_tables, e.attributes);
      out->events.push_back(e);
    }
    const model::Range links = events_links.links[row];
    s.links = {static_cast<uint32_t>(out->links.size()), links.count};
    for (uint32_t i = links.begin; i < links.end(); ++i) {
      model::Link l = event_tables.links[i];
      l.trace_state = out->arena.Copy(l.trace_state);
      l.attributes = out->CopyAttributes(event_tables, l.attributes);
      out->links.push_back(l);
    }
    out->spans.push_back(s);
  }
}

}  // namespace ariadne::store::embedded
