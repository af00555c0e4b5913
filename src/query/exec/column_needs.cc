#include "query/exec/column_needs.h"

namespace ariadne::query {

using columnar::ColumnSet;

ColumnSet ColumnsOfName(std::string_view column) {
  ColumnSet s;
  if (column == "name") {
    s.fixed = ColumnSet::kName;
  } else if (column == "status_message") {
    s.fixed = ColumnSet::kStatusMessage;
  } else if (column == "trace.trace_state") {
    s.fixed = ColumnSet::kTraceState;
  } else if (column == "duration_ms") {
    s.fixed = ColumnSet::kStart | ColumnSet::kEnd;
  } else if (column == "status_code" || column == "error") {
    s.fixed = ColumnSet::kStatusCode;
  } else if (column == "span.num_events" || column == "span.num_links") {
    s.fixed = ColumnSet::kEventsLinks;
  } else if (column == "span.kind" || column == "type") {
    s.fixed = ColumnSet::kKind;
  } else if (column == "trace.trace_id") {
    s.fixed = ColumnSet::kTraceId;
  } else if (column == "trace.span_id") {
    s.fixed = ColumnSet::kSpanId;
  } else if (column == "trace.parent_id") {
    s.fixed = ColumnSet::kParentSpanId | ColumnSet::kSpanId;
  } else if (column == "library.name" || column == "library.version") {
    s.fixed = ColumnSet::kResourceScope;
  } else {
    // Resource attribute (through the row's resource), then the span attribute column.
    s.fixed = ColumnSet::kResourceScope;
    s.attributes.emplace(column);
  }
  return s;
}

ColumnSet ColumnsForSelect(const QuerySpec& spec) {
  ColumnSet s;
  s.fixed = ColumnSet::kStart;  // the time window
  if (!spec.dataset.empty()) s.fixed |= ColumnSet::kResourceScope;
  for (const Filter& f : spec.filters) s.Add(ColumnsOfName(f.column));
  s.Close();
  return s;
}

namespace {

// ColumnsForQuery without what filters need; the filters' columns are added by the callers.
ColumnSet ColumnsBesidesFilters(const QuerySpec& spec) {
  ColumnSet s;
  s.fixed = ColumnSet::kStart;  // the time window
  if (!spec.dataset.empty()) s.fixed |= ColumnSet::kResourceScope;
  // Sample rates: the tracestate threshold and the SampleRate attribute of every row.
  s.fixed |= ColumnSet::kTraceState;
  s.attributes.emplace("SampleRate");
  s.attributes.emplace("sampleRate");
  if (!spec.xray_filter.empty()) s.fixed |= ColumnSet::kTraceId;
  for (const std::string& b : spec.breakdowns) s.Add(ColumnsOfName(b));
  for (const Calculation& c : spec.calculations) {
    if (!c.column.empty()) s.Add(ColumnsOfName(c.column));
    if (c.op == CalcOp::kConcurrency) s.fixed |= ColumnSet::kStart | ColumnSet::kEnd;
  }
  for (const Order& o : spec.orders)
    if (!o.calculation && !o.column.empty()) s.Add(ColumnsOfName(o.column));
  return s;
}

}  // namespace

ColumnSet ColumnsForQuery(const QuerySpec& spec) {
  ColumnSet s = ColumnsBesidesFilters(spec);
  for (const Filter& f : spec.filters) s.Add(ColumnsOfName(f.column));
  s.Close();
  return s;
}

ColumnSet ColumnsForBlock(const QuerySpec& spec, const ColumnSet& needed,
                          const columnar::BlockMeta& meta) {
  // An empty map says nothing (a meta copied without it): keep the unit.
  if (!needed.Has(ColumnSet::kResourceScope) || meta.columns.empty()) return needed;
  ColumnSet without_filters = ColumnsBesidesFilters(spec);
  for (const Filter& f : spec.filters) {
    ColumnSet of = ColumnsOfName(f.column);
    if (of.attributes.empty()) {
      without_filters.Add(of);  // an intrinsic column (library.name needs the scopes)
      continue;
    }
    auto it = meta.columns.find(f.column);
    if (it != meta.columns.end() && (it->second.sources & columnar::kColumnFromResource) != 0)
      return needed;  // some resource carries the key
  }
  if (without_filters.Has(ColumnSet::kResourceScope)) return needed;
  ColumnSet s = needed;
  s.fixed &= ~static_cast<uint32_t>(ColumnSet::kResourceScope);
  return s;
}

}  // namespace ariadne::query
