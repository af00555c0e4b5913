#include "store/column_catalog.h"

#include <utility>

namespace ariadne::store {

const std::vector<IntrinsicColumn>& IntrinsicColumns() {
  static const std::vector<IntrinsicColumn> kColumns = {
      {"name", "string", "Span name (the operation)."},
      {"service.name", "string", "Service that sent the span (resource attribute service.name)."},
      {"duration_ms", "double", "End minus start, in milliseconds."},
      {"span.kind", "string", "Span kind: server, client, producer, consumer or internal."},
      {"status_code", "int", "Status code: 0 unset, 1 ok, 2 error."},
      {"status_message", "string", "Status message (set with an error status)."},
      {"error", "bool", "True when the status code is error."},
      {"trace.trace_id", "string", "Trace id (32 hex digits)."},
      {"trace.span_id", "string", "Span id (16 hex digits)."},
      {"trace.parent_id", "string", "Parent span id; absent on a root span."},
      {"trace.trace_state", "string", "W3C tracestate of the span's context; absent when empty."},
      {"span.num_events", "int", "Number of events on the span."},
      {"span.num_links", "int", "Number of links on the span."},
      {"library.name", "string", "Instrumentation scope name."},
      {"library.version", "string", "Instrumentation scope version."},
  };
  return kColumns;
}

void ColumnCatalogBuilder::AddAttribute(std::string_view name, uint32_t type_mask, bool from_span) {
  auto it = keys_.find(name);
  if (it == keys_.end()) it = keys_.emplace(std::string(name), Seen{}).first;
  it->second.type_mask |= type_mask;
  it->second.from_span |= from_span;
}

std::vector<ColumnInfo> ColumnCatalogBuilder::Finish() const {
  std::vector<ColumnInfo> out;
  out.reserve(IntrinsicColumns().size() + keys_.size());
  for (const IntrinsicColumn& c : IntrinsicColumns())
    out.push_back(
        {std::string(c.name), std::string(c.type), "intrinsic", std::string(c.description)});
  // By model::ValueType: empty, string, bool, int, double, bytes, array, kvlist (the last three
  // are stored as text).
  static const char* kTypeNames[] = {"empty",  "string", "bool",   "int",
                                     "double", "string", "string", "string"};
  for (const auto& [name, seen] : keys_) {
    if (name == "service.name") continue;  // the intrinsic, which is this resource attribute
    std::string type;
    for (int t = 1; t <= 7; ++t) {
      if (!(seen.type_mask & (1u << t))) continue;
      if (type.empty())
        type = kTypeNames[t];
      else if (type != kTypeNames[t])
        type = "mixed";
    }
    if (type.empty()) type = "string";
    out.push_back({name, std::move(type), seen.from_span ? "span" : "resource", ""});
  }
  return out;
}

}  // namespace ariadne::store
