#include "store/embedded/column_parts.h"

namespace ariadne::store::embedded {

using columnar::AttributeColumn;
using columnar::Block;
using columnar::ColumnSet;

namespace {

void CopyResourceTables(const model::SpanBatch& from, model::SpanBatch* to) {
  for (uint32_t i = 0; i < from.resources.size(); ++i) to->CopyResourceFrom(from, i);
  for (uint32_t i = 0; i < from.scopes.size(); ++i) to->CopyScopeFrom(from, i);
}

void CopyEventLinkTables(const model::SpanBatch& from, model::SpanBatch* to) {
  to->events.reserve(to->events.size() + from.events.size());
  for (model::Event e : from.events) {
    e.name = to->arena.Copy(e.name);
    e.attributes = to->CopyAttributes(from, e.attributes);
    to->events.push_back(e);
  }
  to->links.reserve(to->links.size() + from.links.size());
  for (model::Link l : from.links) {
    l.trace_state = to->arena.Copy(l.trace_state);
    l.attributes = to->CopyAttributes(from, l.attributes);
    to->links.push_back(l);
  }
}

// Copies the columns of fixed unit `bit` from `from` to `to`. Tables are appended, so the
// indices rows hold stay right as long as `to` had none of that unit's tables before.
void CopyFixed(const Block& from, uint32_t bit, Block* to) {
  switch (bit) {
    case ColumnSet::kTraceId:
      to->trace_id = from.trace_id;
      break;
    case ColumnSet::kSpanId:
      to->span_id = from.span_id;
      break;
    case ColumnSet::kParentSpanId:
      to->parent_span_id = from.parent_span_id;
      break;
    case ColumnSet::kStart:
      to->start_unix_nano = from.start_unix_nano;
      break;
    case ColumnSet::kEnd:
      to->end_unix_nano = from.end_unix_nano;
      break;
    case ColumnSet::kName:
      to->name = from.name;
      break;
    case ColumnSet::kKind:
      to->kind = from.kind;
      break;
    case ColumnSet::kStatusCode:
      to->status_code = from.status_code;
      break;
    case ColumnSet::kStatusMessage:
      to->status_message = from.status_message;
      break;
    case ColumnSet::kTraceState:
      to->trace_state = from.trace_state;
      break;
    case ColumnSet::kFlagsDropped:
      to->flags = from.flags;
      to->dropped_attributes = from.dropped_attributes;
      to->dropped_events = from.dropped_events;
      to->dropped_links = from.dropped_links;
      break;
    case ColumnSet::kResourceScope:
      to->resource = from.resource;
      to->scope = from.scope;
      CopyResourceTables(from.tables, &to->tables);
      break;
    case ColumnSet::kEventsLinks:
      to->events = from.events;
      to->links = from.links;
      CopyEventLinkTables(from.tables, &to->tables);
      break;
    default:
      break;
  }
}

}  // namespace

std::string ColumnUnit::CacheKey() const {
  if (bit != 0) return "#" + std::to_string(__builtin_ctz(bit));
  if (all_attributes) return "*";
  return "a" + key;
}

ColumnSet ColumnUnit::AsSet() const {
  ColumnSet set;
  set.fixed = bit;
  set.all_attributes = bit == 0 && all_attributes;
  if (bit == 0 && !all_attributes) set.attributes.insert(key);
  return set;
}

std::vector<ColumnUnit> UnitsOf(const ColumnSet& columns) {
  std::vector<ColumnUnit> units;
  for (uint32_t bit = 1; bit & ColumnSet::kAllFixed; bit <<= 1)
    if (columns.fixed & bit) units.push_back(ColumnUnit{bit, false, {}});
  if (columns.all_attributes) {
    units.push_back(ColumnUnit{0, true, {}});
  } else {
    for (const std::string& key : columns.attributes) units.push_back(ColumnUnit{0, false, key});
  }
  return units;
}

std::shared_ptr<const Block> CopyPart(const Block& from, const ColumnUnit& unit) {
  auto part = std::make_shared<Block>();
  part->environment = from.environment;
  part->num_rows = from.num_rows;
  AddPart(from, unit, part.get());
  return part;
}

void AddPart(const Block& from, const ColumnUnit& unit, Block* to) {
  if (unit.bit != 0) {
    CopyFixed(from, unit.bit, to);
  } else if (unit.all_attributes) {
    to->attributes.insert(to->attributes.end(), from.attributes.begin(), from.attributes.end());
  } else {
    for (const AttributeColumn& column : from.attributes)
      if (column.key == unit.key) to->attributes.push_back(column);
  }
}

}  // namespace ariadne::store::embedded
