#include "store/embedded/column_parts.h"

#include <algorithm>
#include <numeric>
#include <utility>

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

// Copies the columns of fixed unit `bit` from `from` to `to` (moves the row vectors when `from` is
// an rvalue). Tables are appended (always copied), so the indices rows hold stay right as long as
// `to` had none of that unit's tables before.
template <typename B>
void TransferFixed(B&& from, uint32_t bit, Block* to) {
  switch (bit) {
    case ColumnSet::kTraceId:
      to->trace_id = std::forward<B>(from).trace_id;
      break;
    case ColumnSet::kSpanId:
      to->span_id = std::forward<B>(from).span_id;
      break;
    case ColumnSet::kParentSpanId:
      to->parent_span_id = std::forward<B>(from).parent_span_id;
      break;
    case ColumnSet::kStart:
      to->start_unix_nano = std::forward<B>(from).start_unix_nano;
      break;
    case ColumnSet::kEnd:
      to->end_unix_nano = std::forward<B>(from).end_unix_nano;
      break;
    case ColumnSet::kName:
      to->name = std::forward<B>(from).name;
      break;
    case ColumnSet::kKind:
      to->kind = std::forward<B>(from).kind;
      break;
    case ColumnSet::kStatusCode:
      to->status_code = std::forward<B>(from).status_code;
      break;
    case ColumnSet::kStatusMessage:
      to->status_message = std::forward<B>(from).status_message;
      break;
    case ColumnSet::kTraceState:
      to->trace_state = std::forward<B>(from).trace_state;
      break;
    case ColumnSet::kFlagsDropped:
      to->flags = std::forward<B>(from).flags;
      to->dropped_attributes = std::forward<B>(from).dropped_attributes;
      to->dropped_events = std::forward<B>(from).dropped_events;
      to->dropped_links = std::forward<B>(from).dropped_links;
      break;
    case ColumnSet::kResourceScope:
      to->resource = std::forward<B>(from).resource;
      to->scope = std::forward<B>(from).scope;
      CopyResourceTables(from.tables, &to->tables);
      break;
    case ColumnSet::kEventsLinks:
      to->events = std::forward<B>(from).events;
      to->links = std::forward<B>(from).links;
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
    TransferFixed(from, unit.bit, to);
  } else if (unit.all_attributes) {
    to->attributes.insert(to->attributes.end(), from.attributes.begin(), from.attributes.end());
  } else {
    for (const AttributeColumn& column : from.attributes)
      if (column.key == unit.key) to->attributes.push_back(column);
  }
}

void MovePart(Block* from, const ColumnUnit& unit, Block* to) {
  if (unit.bit != 0) {
    TransferFixed(std::move(*from), unit.bit, to);
    return;
  }
  for (AttributeColumn& column : from->attributes)
    if (unit.all_attributes || column.key == unit.key) to->attributes.push_back(std::move(column));
}

uint64_t CachedPart::Bytes() const {
  uint64_t bytes = sizeof(CachedPart) + start_offset.capacity() * sizeof(uint32_t) +
                   start_exceptions.capacity() * sizeof(start_exceptions[0]) +
                   duration.capacity() * sizeof(uint32_t) +
                   end_exceptions.capacity() * sizeof(end_exceptions[0]) + bytes_a.capacity() +
                   bytes_b.capacity() + attribute_values.capacity() * sizeof(uint16_t) +
                   attribute_values32.capacity() * sizeof(uint32_t) +
                   attribute_table.capacity() * sizeof(uint16_t) + attribute_codes.capacity();
  if (block) bytes += columnar::ApproximateBytes(*block);
  return bytes;
}

namespace {

// The DictColumn of dictionary-coded unit `bit`, or null.
const columnar::DictColumn* DictOf(const Block& block, uint32_t bit) {
  switch (bit) {
    case ColumnSet::kName:
      return &block.name;
    case ColumnSet::kStatusMessage:
      return &block.status_message;
    case ColumnSet::kTraceState:
      return &block.trace_state;
    default:
      return nullptr;
  }
}
columnar::DictColumn* DictOf(Block* block, uint32_t bit) {
  return const_cast<columnar::DictColumn*>(DictOf(static_cast<const Block&>(*block), bit));
}

std::shared_ptr<Block> EmptyPart(const Block& from) {
  auto part = std::make_shared<Block>();
  part->environment = from.environment;
  part->num_rows = from.num_rows;
  return part;
}

template <typename Narrow, typename Wide>
bool AllBelow(const std::vector<Wide>& values, uint64_t limit) {
  return std::all_of(values.begin(), values.end(),
                     [limit](Wide v) { return static_cast<uint64_t>(v) < limit; });
}

// (assign converts element by element without zero-filling first.)
template <typename Wide, typename Narrow>
void Widen(const std::vector<Narrow>& from, std::vector<Wide>* to) {
  to->assign(from.begin(), from.end());
}

bool NarrowStart(const Block& from, CachedPart* cached) {
  const size_t rows = from.num_rows;
  if (from.start_unix_nano.size() != rows || rows == 0) return false;
  const uint64_t* start = from.start_unix_nano.data();
  const uint64_t base = *std::min_element(start, start + rows);
  std::vector<uint32_t> offset(rows);
  std::vector<std::pair<uint32_t, uint64_t>> exceptions;
  for (size_t r = 0; r < rows; ++r) {
    const uint64_t d = start[r] - base;
    if (d <= UINT32_MAX) {
      offset[r] = static_cast<uint32_t>(d);
    } else {
      offset[r] = 0;
      exceptions.emplace_back(static_cast<uint32_t>(r), start[r]);
    }
  }
  if (exceptions.size() > rows / 64) return false;  // narrowing would save little
  cached->block = EmptyPart(from);
  cached->narrowed = CachedPart::Narrowed::kStart;
  cached->start_base = base;
  cached->start_offset = std::move(offset);
  cached->start_exceptions = std::move(exceptions);
  return true;
}

bool NarrowEnd(const Block& from, CachedPart* cached) {
  const size_t rows = from.num_rows;
  if (from.end_unix_nano.size() != rows || from.start_unix_nano.size() != rows) return false;
  std::vector<uint32_t> duration(rows);
  std::vector<std::pair<uint32_t, uint64_t>> exceptions;
  const uint64_t* start = from.start_unix_nano.data();
  const uint64_t* end = from.end_unix_nano.data();
  for (size_t r = 0; r < rows; ++r) {
    const uint64_t d = end[r] - start[r];  // wraps when end < start: an exception below
    if (end[r] >= start[r] && d <= UINT32_MAX) {
      duration[r] = static_cast<uint32_t>(d);
    } else {
      exceptions.emplace_back(static_cast<uint32_t>(r), end[r]);
    }
  }
  if (exceptions.size() > rows / 64) return false;  // narrowing would save little
  cached->block = EmptyPart(from);
  cached->narrowed = CachedPart::Narrowed::kEnd;
  cached->duration = std::move(duration);
  cached->end_exceptions = std::move(exceptions);
  return true;
}

bool NarrowResourceScope(const Block& from, CachedPart* cached) {
  const size_t rows = from.num_rows;
  if (from.tables.resources.size() > 256 || from.tables.scopes.size() > 256 ||
      from.resource.size() != rows || from.scope.size() != rows)
    return false;
  auto part = EmptyPart(from);
  CopyResourceTables(from.tables, &part->tables);
  cached->block = std::move(part);
  cached->narrowed = CachedPart::Narrowed::kResourceScope;
  cached->bytes_a.assign(from.resource.begin(), from.resource.end());
  cached->bytes_b.assign(from.scope.begin(), from.scope.end());
  return true;
}

bool NarrowDict(const Block& from, uint32_t bit, CachedPart* cached) {
  const columnar::DictColumn* dict = DictOf(from, bit);
  if (dict == nullptr || dict->dict.size() > 256 || dict->codes.size() != from.num_rows)
    return false;
  auto part = EmptyPart(from);
  DictOf(part.get(), bit)->dict = dict->dict;
  cached->block = std::move(part);
  cached->narrowed = CachedPart::Narrowed::kDictCodes;
  // One string: every code is 0 (codes index the dictionary), nothing per row to keep.
  cached->dict_constant = dict->dict.size() == 1;
  if (!cached->dict_constant) cached->bytes_a.assign(dict->codes.begin(), dict->codes.end());
  return true;
}

// When `values` (each below 2^16) hold at most 256 distinct ones: fills `cached`'s
// attribute_table with them and attribute_codes with each entry's index into it.
bool CodeValues(const std::vector<uint64_t>& values, CachedPart* cached) {
  if (values.empty()) return false;
  const uint64_t max = *std::max_element(values.begin(), values.end());
  std::vector<int16_t> code_of(max + 1, -1);  // direct map: values are below 2^16
  std::vector<uint16_t> table;
  std::vector<uint8_t> codes(values.size());
  for (size_t e = 0; e < values.size(); ++e) {
    int16_t& code = code_of[values[e]];
    if (code < 0) {
      if (table.size() == 256) return false;
      code = static_cast<int16_t>(table.size());
      table.push_back(static_cast<uint16_t>(values[e]));
    }
    codes[e] = static_cast<uint8_t>(code);
  }
  cached->attribute_table = std::move(table);
  cached->attribute_codes = std::move(codes);
  return true;
}

bool NarrowAttribute(const Block& from, const ColumnUnit& unit, CachedPart* cached) {
  const AttributeColumn* column = nullptr;
  for (const AttributeColumn& c : from.attributes) {
    if (c.key != unit.key) continue;
    if (column != nullptr) return false;  // more than one column of the key: kept as read
    column = &c;
  }
  if (column == nullptr || column->types.empty() || column->types.size() != column->values.size())
    return false;
  const model::ValueType type = column->types[0];
  if (type == model::ValueType::kDouble) return false;  // double bits rarely fit
  for (model::ValueType t : column->types)
    if (t != type) return false;
  const bool fits16 = AllBelow<uint16_t>(column->values, 1u << 16);
  if (!fits16 && !AllBelow<uint32_t>(column->values, uint64_t{1} << 32)) return false;
  const std::vector<uint32_t>& rows = column->rows;
  bool every_row = rows.size() == from.num_rows;
  for (size_t e = 0; every_row && e < rows.size(); ++e) every_row = rows[e] == e;
  auto part = EmptyPart(from);
  AttributeColumn narrow;
  narrow.key = column->key;
  if (!every_row) narrow.rows = rows;
  narrow.dict = column->dict;
  part->attributes.push_back(std::move(narrow));
  cached->block = std::move(part);
  cached->narrowed = CachedPart::Narrowed::kAttribute;
  cached->attribute_type = type;
  cached->attribute_every_row = every_row;
  if (fits16 && CodeValues(column->values, cached)) {
    // one byte per entry (CodeValues filled the table and codes)
  } else if (fits16) {
    cached->attribute_values.assign(column->values.begin(), column->values.end());
  } else {
    cached->attribute_values32.assign(column->values.begin(), column->values.end());
  }
  return true;
}

}  // namespace

std::shared_ptr<const CachedPart> MakeCachedPart(const Block& from, const ColumnUnit& unit) {
  auto cached = std::make_shared<CachedPart>();
  bool narrowed = false;
  if (unit.bit == ColumnSet::kStart) {
    narrowed = NarrowStart(from, cached.get());
  } else if (unit.bit == ColumnSet::kEnd) {
    narrowed = NarrowEnd(from, cached.get());
  } else if (unit.bit == ColumnSet::kResourceScope) {
    narrowed = NarrowResourceScope(from, cached.get());
  } else if (DictOf(from, unit.bit) != nullptr) {
    narrowed = NarrowDict(from, unit.bit, cached.get());
  } else if (unit.bit == 0 && !unit.all_attributes) {
    narrowed = NarrowAttribute(from, unit, cached.get());
  }
  if (!narrowed) cached->block = CopyPart(from, unit);
  return cached;
}

std::shared_ptr<const CachedPart> WithEarlierForms(std::shared_ptr<const CachedPart> part) {
  if (!part->Compact()) return part;
  auto earlier = std::make_shared<CachedPart>(*part);
  if (earlier->dict_constant) {
    earlier->dict_constant = false;
    earlier->bytes_a.assign(earlier->block->num_rows, 0);
  }
  if (!earlier->attribute_codes.empty()) {
    earlier->attribute_values.resize(earlier->attribute_codes.size());
    for (size_t e = 0; e < earlier->attribute_codes.size(); ++e)
      earlier->attribute_values[e] = earlier->attribute_table[earlier->attribute_codes[e]];
    std::vector<uint8_t>().swap(earlier->attribute_codes);  // freed, not just emptied
    std::vector<uint16_t>().swap(earlier->attribute_table);
  }
  return earlier;
}

void AddCachedPart(const CachedPart& part, const ColumnUnit& unit, Block* to) {
  switch (part.narrowed) {
    case CachedPart::Narrowed::kNone:
      AddPart(*part.block, unit, to);
      return;
    case CachedPart::Narrowed::kStart: {
      const size_t rows = part.start_offset.size();
      to->start_unix_nano.resize(rows);
      const uint32_t* offset = part.start_offset.data();
      uint64_t* start = to->start_unix_nano.data();
      const uint64_t base = part.start_base;
      for (size_t r = 0; r < rows; ++r) start[r] = base + offset[r];
      for (const auto& [row, value] : part.start_exceptions) start[row] = value;
      return;
    }
    case CachedPart::Narrowed::kEnd: {
      const size_t rows = part.duration.size();
      to->end_unix_nano.assign(to->start_unix_nano.begin(), to->start_unix_nano.begin() + rows);
      const uint32_t* duration = part.duration.data();
      uint64_t* end = to->end_unix_nano.data();
      for (size_t r = 0; r < rows; ++r) end[r] += duration[r];
      for (const auto& [row, value] : part.end_exceptions) end[row] = value;
      return;
    }
    case CachedPart::Narrowed::kResourceScope:
      Widen(part.bytes_a, &to->resource);
      Widen(part.bytes_b, &to->scope);
      CopyResourceTables(part.block->tables, &to->tables);
      return;
    case CachedPart::Narrowed::kDictCodes: {
      columnar::DictColumn* dict = DictOf(to, unit.bit);
      dict->dict = DictOf(*part.block, unit.bit)->dict;
      if (part.dict_constant) {
        dict->codes.assign(part.block->num_rows, 0);
      } else {
        Widen(part.bytes_a, &dict->codes);
      }
      return;
    }
    case CachedPart::Narrowed::kAttribute: {
      const AttributeColumn& narrow = part.block->attributes[0];
      AttributeColumn column;
      column.key = narrow.key;
      if (!part.attribute_codes.empty()) {
        const size_t n = part.attribute_codes.size();
        column.values.resize(n);
        const uint8_t* const codes = part.attribute_codes.data();
        const uint16_t* const table = part.attribute_table.data();
        uint64_t* const values = column.values.data();
        for (size_t e = 0; e < n; ++e) values[e] = table[codes[e]];
      } else if (!part.attribute_values32.empty()) {
        Widen(part.attribute_values32, &column.values);
      } else {
        Widen(part.attribute_values, &column.values);
      }
      if (part.attribute_every_row) {
        column.rows.resize(column.values.size());
        std::iota(column.rows.begin(), column.rows.end(), 0u);
      } else {
        column.rows = narrow.rows;
      }
      column.dict = narrow.dict;
      column.types.assign(column.values.size(), part.attribute_type);
      to->attributes.push_back(std::move(column));
      return;
    }
  }
}

}  // namespace ariadne::store::embedded
