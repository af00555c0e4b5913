#include "api/query_routes.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>

#include "api/query_result_json.h"
#include "api/xray_filtered_reads.h"
#include "common/json_depth.h"
#include "common/json_dump.h"
#include "common/time_units.h"
#include "model/ids.h"
#include "query/bubbleup.h"
#include "query/column_check.h"
#include "query/query_spec.h"
#include "query/xray_filter/filter.h"

namespace ariadne::api {
namespace {

using nlohmann::json;
constexpr uint64_t kSecond = kNanosPerSecond;

net::HttpResponse JsonResponse(int status, const json& body) {
  return net::HttpResponse(status, "application/json", DumpJson(body) + "\n");
}
net::HttpResponse JsonError(int status, std::string_view message) {
  return JsonResponse(status, json{{"error", message}, {"status", status}});
}

// Milliseconds from "250", "250ms", "1.5s", "2m", "300us", "1h".
std::optional<double> ParseDurationMs(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.'))
    ++digits;
  if (digits == 0) return std::nullopt;
  double value;
  try {
    value = std::stod(std::string(text.substr(0, digits)));
  } catch (...) {
    return std::nullopt;
  }
  std::string_view unit = text.substr(digits);
  if (unit.empty() || unit == "ms") return value;
  if (unit == "us" || unit == "µs") return value / 1000;
  if (unit == "ns") return value / 1e6;
  if (unit == "s") return value * 1000;
  if (unit == "m") return value * 60'000;
  if (unit == "h") return value * 3'600'000;
  return std::nullopt;
}

std::optional<uint64_t> ParseUnsigned(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

// start/end query parameters in Unix seconds; defaults to the last `default_seconds`.
Result<std::pair<uint64_t, uint64_t>> ParseWindow(const net::HttpRequest& request, uint64_t now,
                                                  uint64_t default_seconds) {
  uint64_t end = now, start = now - std::min(now, default_seconds * kSecond);
  auto seconds_param = [&](const char* name) -> Result<std::optional<uint64_t>> {
    auto text = request.QueryParam(name);
    if (!text) return std::optional<uint64_t>();
    auto v = ParseUnsigned(*text);
    std::optional<uint64_t> nanos = v ? SecondsToNanosChecked(*v) : std::nullopt;
    if (!nanos) return Status::InvalidArgument(std::string(name) + ": must be " + TimeRangeHint());
    return nanos;
  };
  ARIADNE_ASSIGN_OR_RETURN(std::optional<uint64_t> end_param, seconds_param("end"));
  ARIADNE_ASSIGN_OR_RETURN(std::optional<uint64_t> start_param, seconds_param("start"));
  if (end_param) end = *end_param;
  if (start_param) {
    start = *start_param;
  } else if (request.QueryParam("end")) {
    start = end - std::min(end, default_seconds * kSecond);
  }
  if (end <= start) return Status::InvalidArgument("end: must be after start");
  return std::make_pair(start, end);
}

// The HTTP answer to a failed store call: 422 for a query past its limits (the client must narrow
// it), 503 when it was cancelled or the store is unreachable (+ Retry-After), 501 for what is not
// supported, 500 otherwise.
net::HttpResponse StoreError(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      return JsonError(400, status.message());
    case StatusCode::kResourceExhausted:
      return JsonError(422, status.message());
    case StatusCode::kCancelled:
      return JsonError(503, status.message());
    case StatusCode::kUnimplemented:
      return JsonError(501, status.message());
    case StatusCode::kUnavailable: {  // the store's server (ClickHouse) is unreachable
      net::HttpResponse response = JsonError(503, status.message());
      response.SetHeader("Retry-After", "1");
      return response;
    }
    default:
      return JsonError(500, status.message());
  }
}

// A JSON array of filters in the shape of POST /api/v1/query's "filters", validated by the same
// parser (so its messages name filters[i]).
Result<std::vector<query::Filter>> ParseFilterList(std::string_view text, uint64_t now) {
  if (JsonNestingDepth(text) > kMaxRequestJsonNesting)
    return Status::InvalidArgument("filters: nests arrays/objects too deeply");
  json list = json::parse(text, nullptr, false);
  if (list.is_discarded() || !list.is_array())
    return Status::InvalidArgument(
        "filters: must be a JSON array like [{\"column\":\"http.status_code\",\"op\":\">=\","
        "\"value\":500}]");
  json spec = {{"calculations", json::array({{{"op", "COUNT"}}})},
               {"filters", std::move(list)},
               {"time_range", 60}};
  ARIADNE_ASSIGN_OR_RETURN(query::QuerySpec parsed, query::ParseQuerySpec(DumpJson(spec), now));
  return std::move(parsed.filters);
}

// The `xray_filter` query parameter: an X-Ray filter expression (docs/xray.md), or none.
Result<std::optional<query::xray_filter::Filter>> ParseXrayFilterParam(
    const net::HttpRequest& request) {
  auto text = request.QueryParam("xray_filter");
  if (!text || text->find_first_not_of(" \t\r\n") == std::string_view::npos)
    return std::optional<query::xray_filter::Filter>();
  Result<query::xray_filter::Filter> parsed = query::xray_filter::Filter::Parse(*text);
  if (!parsed.ok())
    return Status::InvalidArgument("xray_filter: " + std::string(parsed.status().message()));
  return std::optional<query::xray_filter::Filter>(std::move(parsed).value());
}

constexpr size_t kBubbleUpMaxValues = 1000;

json ResultValueJson(const query::ResultValue& v) {
  switch (v.index()) {
    case 1:
      return std::get<std::string>(v);
    case 2:
      return std::get<int64_t>(v);
    case 3:
      return std::get<double>(v);
    case 4:
      return std::get<bool>(v);
    default:
      return nullptr;
  }
}

json ColumnsJson(const std::vector<store::ColumnInfo>& columns) {
  json out = json::array();
  for (const auto& c : columns) {
    json column = {{"name", c.name}, {"type", c.type}, {"source", c.source}};
    if (!c.description.empty()) column["description"] = c.description;
    out.push_back(std::move(column));
  }
  return out;
}

}  // namespace

QueryRoutes::QueryRoutes(store::SpanStore* store, QueryRoutesOptions options,
                         std::function<uint64_t()> clock)
    : store_(store),
      options_(options),
      clock_(std::move(clock)),
      workers_(std::make_unique<WorkQueue>(std::max<size_t>(1, options.concurrency),
                                           options.max_queued)) {}

query::ExecContext QueryRoutes::ContextFor(const net::HttpRequest& request) const {
  return query::ExecContext{options_.limits, request.cancel};
}

Result<std::vector<query::CatalogColumn>> QueryRoutes::Catalog(std::string_view environment) {
  // Every column any span of the environment ever sent: a column is known for the whole dataset,
  // not only for the window of one query.
  ARIADNE_ASSIGN_OR_RETURN(std::vector<store::ColumnInfo> columns,
                           store_->ListColumns(environment, 0, UINT64_MAX));
  std::vector<query::CatalogColumn> out;
  out.reserve(columns.size());
  for (store::ColumnInfo& c : columns) out.push_back({std::move(c.name), std::move(c.type)});
  return out;
}

uint64_t QueryRoutes::Now() const {
  if (clock_) return clock_();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

bool QueryRoutes::Handle(net::HttpRequest& request, net::Responder& respond) {
  using Method = net::HttpResponse (QueryRoutes::*)(const net::HttpRequest&);
  struct Route {
    const char* path;
    const char* method;
    Method handler;
  };
  static const Route kRoutes[] = {
      {"/api/v1/query", "POST", &QueryRoutes::Query},
      {"/api/v1/columns", "GET", &QueryRoutes::Columns},
      {"/api/v1/traces", "GET", &QueryRoutes::SearchTraces},
      {"/api/v1/service-graph", "GET", &QueryRoutes::ServiceGraph},
      {"/api/v1/bubbleup", "POST", &QueryRoutes::BubbleUp},
  };
  std::string_view path = request.path;
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  for (const Route& route : kRoutes) {
    if (path != route.path) continue;
    if (request.method != route.method) {
      net::HttpResponse response =
          JsonError(405, "use " + std::string(route.method) + " for " + route.path);
      response.SetHeader("Allow", route.method);
      respond(std::move(response));
      return true;
    }
    auto shared_request = std::make_shared<net::HttpRequest>(std::move(request));
    auto shared_respond = std::make_shared<net::Responder>(std::move(respond));
    Method handler = route.handler;
    bool queued = workers_->Submit([this, shared_request, shared_respond, handler] {
      (*shared_respond)((this->*handler)(*shared_request));
    });
    if (!queued) {
      net::HttpResponse busy = JsonError(503, "too many queries are running; retry shortly");
      busy.SetHeader("Retry-After", "1");
      (*shared_respond)(std::move(busy));
    }
    return true;
  }
  return false;
}

net::HttpResponse QueryRoutes::Query(const net::HttpRequest& request) {
  Result<query::QuerySpec> spec = query::ParseQuerySpec(*request.body, Now());
  if (!spec.ok()) {
    int status = spec.status().code() == StatusCode::kUnimplemented ? 501 : 400;
    return JsonError(status, spec.status().message());
  }
  if (auto env = request.QueryParam("environment")) spec->environment = std::string(*env);
  auto catalog = Catalog(spec->environment);
  if (!catalog.ok()) return StoreError(catalog.status());
  if (Status checked = query::CheckColumns(*spec, *catalog); !checked.ok())
    return JsonError(400, checked.message());
  Result<query::QueryResult> result = store_->RunQuery(*spec, ContextFor(request));
  if (!result.ok()) return StoreError(result.status());
  return net::HttpResponse(200, "application/json", QueryResultJson(*spec, *result) + "\n");
}

net::HttpResponse QueryRoutes::Columns(const net::HttpRequest& request) {
  uint64_t range = 7 * 24 * 3600;
  if (auto text = request.QueryParam("time_range")) {
    auto v = ParseUnsigned(*text);
    if (!v || *v == 0 || *v > kMaxUnixSeconds)
      return JsonError(400, "time_range: must be a number of seconds from 1 to " +
                                std::to_string(kMaxUnixSeconds));
    range = *v;
  }
  const uint64_t now = Now();
  auto columns = store_->ListColumns(request.QueryParam("environment").value_or(""),
                                     now - std::min(now, range * kSecond), UINT64_MAX);
  if (!columns.ok()) return StoreError(columns.status());
  return JsonResponse(200, json{{"columns", ColumnsJson(*columns)}});
}

net::HttpResponse QueryRoutes::SearchTraces(const net::HttpRequest& request) {
  store::TraceSearchRequest search;
  Result<std::pair<uint64_t, uint64_t>> window = ParseWindow(request, Now(), 3600);
  if (!window.ok()) return JsonError(400, window.status().message());
  search.start_unix_nano = window->first;
  search.end_unix_nano = window->second;
  search.environment = std::string(request.QueryParam("environment").value_or(""));
  for (const auto& [name, value] : request.query) {
    auto eq = [&](std::string column, query::Literal lit) {
      search.filters.push_back(
          query::Filter{std::move(column), query::FilterOp::kEq, {std::move(lit)}});
    };
    if (name == "service" && !value.empty()) {
      eq("service.name", value);
    } else if (name == "name" && !value.empty()) {
      eq("name", value);
    } else if (name.rfind("attr.", 0) == 0 && name.size() > 5) {
      eq(name.substr(5), value);
    } else if (name == "min_duration" || name == "max_duration") {
      auto ms = ParseDurationMs(value);
      if (!ms) return JsonError(400, name + ": use milliseconds or a duration like 250ms, 1.5s");
      search.filters.push_back(
          query::Filter{"duration_ms",
                        name == "min_duration" ? query::FilterOp::kGe : query::FilterOp::kLe,
                        {*ms}});
    } else if (name == "error") {
      if (value != "true" && value != "false")
        return JsonError(400, "error: must be true or false");
      eq("error", value == "true");
    } else if (name == "filters") {
      // The query's own filters ([{"column", "op", "value"}], as in POST /api/v1/query), so the
      // query page can list the traces behind a query and its selection.
      auto parsed = ParseFilterList(value, Now());
      if (!parsed.ok()) return JsonError(400, parsed.status().message());
      auto catalog = Catalog(search.environment);
      if (!catalog.ok()) return StoreError(catalog.status());
      if (Status checked = query::CheckFilterColumns(*parsed, *catalog); !checked.ok())
        return JsonError(400, checked.message());
      for (query::Filter& f : *parsed) search.filters.push_back(std::move(f));
    } else if (name == "limit") {
      auto v = ParseUnsigned(value);
      if (!v || *v == 0 || *v > 1000) return JsonError(400, "limit: must be from 1 to 1000");
      search.limit = *v;
    } else if (name != "start" && name != "end" && name != "environment" && name != "xray_filter") {
      return JsonError(400, name +
                                ": unknown parameter; use service, name, attr.KEY, min_duration, "
                                "max_duration, error, filters, xray_filter, start, end, limit or "
                                "environment");
    }
  }
  auto xray_filter = ParseXrayFilterParam(request);
  if (!xray_filter.ok()) return JsonError(400, xray_filter.status().message());
  auto found = *xray_filter
                   ? SearchTracesByXrayFilter(store_, search, **xray_filter, ContextFor(request))
                   : store_->SearchTraces(search, ContextFor(request));
  if (!found.ok()) return StoreError(found.status());
  // Newest first by trace start, whatever order the engine found them in.
  SortNewestFirst(&*found);
  json traces = json::array();
  for (const store::TraceSummary& t : *found) {
    traces.push_back({{"trace_id", t.trace_id.ToHex()},
                      {"xray_trace_id", model::FormatXrayTraceId(t.trace_id)},
                      {"environment", t.environment},
                      {"root_service", t.root_service},
                      {"root_name", t.root_name},
                      {"start_time_unix_nano", std::to_string(t.start_unix_nano)},
                      {"duration_ms", static_cast<double>(t.duration_nano) / 1e6},
                      {"span_count", t.span_count},
                      {"services", t.services},
                      {"error_count", t.error_count}});
  }
  return JsonResponse(200, json{{"traces", traces}});
}

net::HttpResponse QueryRoutes::ServiceGraph(const net::HttpRequest& request) {
  Result<std::pair<uint64_t, uint64_t>> window = ParseWindow(request, Now(), 3600);
  if (!window.ok()) return JsonError(400, window.status().message());
  auto xray_filter = ParseXrayFilterParam(request);
  if (!xray_filter.ok()) return JsonError(400, xray_filter.status().message());
  const std::string environment(request.QueryParam("environment").value_or(""));
  // With an X-Ray filter (a group's expression) the graph is built from the matching traces.
  auto graph = *xray_filter
                   ? ServiceGraphByXrayFilter(store_, environment, window->first, window->second,
                                              **xray_filter, ContextFor(request))
                   : store_->GetServiceGraph(environment, window->first, window->second);
  if (!graph.ok()) return StoreError(graph.status());
  json nodes = json::array(), edges = json::array();
  for (const auto& n : graph->nodes)
    nodes.push_back({{"name", n.name},
                     {"kind", n.kind},
                     {"request_count", n.request_count},
                     {"error_count", n.error_count}});
  for (const auto& e : graph->edges)
    edges.push_back({{"source", e.source},
                     {"target", e.target},
                     {"request_count", e.request_count},
                     {"error_count", e.error_count},
                     {"p50_ms", e.p50_ms},
                     {"p95_ms", e.p95_ms},
                     {"p99_ms", e.p99_ms}});
  return JsonResponse(200, json{{"nodes", nodes}, {"edges", edges}});
}

net::HttpResponse QueryRoutes::BubbleUp(const net::HttpRequest& request) {
  if (JsonNestingDepth(*request.body) > kMaxRequestJsonNesting) {
    return JsonError(400, "bubbleup: the body nests arrays/objects deeper than " +
                              std::to_string(kMaxRequestJsonNesting) + " levels");
  }
  json body = json::parse(*request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return JsonError(400, "bubbleup: the body must be a JSON object");
  if (!body.contains("selection") || !body["selection"].is_object())
    return JsonError(
        400,
        "selection: is required ({\"column\", \"min\", \"max\", \"start_time\", \"end_time\"})");
  json selection = body["selection"];
  body.erase("selection");
  // The baseline: the query's window and filters, broken down by each candidate column.
  json base = body;
  base.erase("calculations");
  base.erase("breakdowns");
  base.erase("orders");
  base.erase("havings");
  base["limit"] = 10000;
  Result<query::QuerySpec> base_spec = query::ParseQuerySpec(DumpJson(base), Now());
  if (!base_spec.ok()) return JsonError(400, base_spec.status().message());
  if (auto catalog = Catalog(base_spec->environment); catalog.ok()) {
    if (Status checked = query::CheckColumns(*base_spec, *catalog); !checked.ok())
      return JsonError(400, checked.message());
  }
  // The selection: the same plus the selected band of one column and time.
  query::QuerySpec sel_spec = *base_spec;
  std::string column = selection.value("column", std::string("duration_ms"));
  if (selection.contains("min")) {
    if (!selection["min"].is_number()) return JsonError(400, "selection.min: must be a number");
    sel_spec.filters.push_back({column, query::FilterOp::kGe, {selection["min"].get<double>()}});
  }
  if (selection.contains("max")) {
    if (!selection["max"].is_number()) return JsonError(400, "selection.max: must be a number");
    sel_spec.filters.push_back({column, query::FilterOp::kLe, {selection["max"].get<double>()}});
  }
  for (const char* name : {"start_time", "end_time"}) {
    if (!selection.contains(name) || selection[name].is_null()) continue;
    std::optional<uint64_t> nanos;
    if (selection[name].is_number()) nanos = SecondsToNanosChecked(selection[name].get<double>());
    if (!nanos)
      return JsonError(400, "selection." + std::string(name) + ": must be " + TimeRangeHint());
    if (std::string_view(name) == "start_time")
      sel_spec.start_unix_nano = std::max(sel_spec.start_unix_nano, *nanos);
    else
      sel_spec.end_unix_nano = std::min(sel_spec.end_unix_nano, *nanos);
  }
  if (sel_spec.end_unix_nano <= sel_spec.start_unix_nano)
    return JsonError(400, "selection: empty time range");
  sel_spec.filter_or = false;
  if (base_spec->filter_or && !base_spec->filters.empty())
    return JsonError(400, "filter_combination: BubbleUp needs AND filters");

  auto columns = store_->ListColumns(base_spec->environment, base_spec->start_unix_nano,
                                     base_spec->end_unix_nano);
  if (!columns.ok()) return StoreError(columns.status());
  static const std::set<std::string> kSkip = {"trace.trace_id", "trace.span_id", "trace.parent_id",
                                              "duration_ms", "status_message"};
  query::BubbleUpRequest scan;
  scan.base = *base_spec;
  scan.column = column;
  if (selection.contains("min")) scan.min = selection["min"].get<double>();
  if (selection.contains("max")) scan.max = selection["max"].get<double>();
  scan.selection_start_unix_nano = sel_spec.start_unix_nano;
  scan.selection_end_unix_nano = sel_spec.end_unix_nano;
  // A column with thousands of values (ids) differs between any two samples by chance alone: its
  // score would be noise at the top of the list, so such columns are reported as skipped.
  scan.max_values_per_column = std::min<size_t>(options_.limits.max_groups, kBubbleUpMaxValues);
  for (const store::ColumnInfo& c : *columns)
    if (!kSkip.count(c.name) && c.type != "double" && c.name != column)
      scan.columns.push_back(c.name);
  // One pass over the spans when the engine can; two aggregate queries per column otherwise.
  Result<query::BubbleUpCounts> counts = store_->ScanBubbleUp(scan, ContextFor(request));
  if (counts.status().code() == StatusCode::kUnimplemented)
    counts = CountByQueries(scan, sel_spec, ContextFor(request));
  if (!counts.ok()) return StoreError(counts.status());
  const query::BubbleUpReport report = query::RankBubbleUp(*counts);
  json out = json::array();
  for (const query::BubbleUpRankedColumn& c : report.columns) {
    json values = json::array();
    for (const query::BubbleUpRankedValue& v : c.values)
      values.push_back({{"value", ResultValueJson(v.value)},
                        {"selection", v.selection},
                        {"baseline", v.baseline}});
    out.push_back({{"column", c.column}, {"score", c.score}, {"values", std::move(values)}});
  }
  json skipped = json::array();
  for (const auto& [name, reason] : report.skipped)
    skipped.push_back({{"column", name}, {"reason", reason}});
  return JsonResponse(200, json{{"columns", out},
                                {"skipped_columns", skipped},
                                {"selection_count", report.selection_count},
                                {"baseline_count", report.baseline_count}});
}

Result<query::BubbleUpCounts> QueryRoutes::CountByQueries(const query::BubbleUpRequest& scan,
                                                          const query::QuerySpec& selection,
                                                          const query::ExecContext& context) {
  auto count = [](const query::ResultValue& v) {
    if (auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
    if (auto* d = std::get_if<double>(&v)) return *d;
    return 0.0;
  };
  query::BubbleUpCounts out;
  for (const std::string& name : scan.columns) {
    query::QuerySpec all = scan.base, sel = selection;
    all.breakdowns = sel.breakdowns = {name};
    auto all_result = store_->RunQuery(all, context);
    Result<query::QueryResult> sel_result = all_result.ok()
                                                ? store_->RunQuery(sel, context)
                                                : Result<query::QueryResult>(all_result.status());
    query::BubbleUpColumnCounts column;
    column.column = name;
    if (sel_result.status().code() == StatusCode::kResourceExhausted) {
      // Too many distinct values (or too much memory) to compare: say so and go on.
      column.skipped = std::string(sel_result.status().message());
      out.columns.push_back(std::move(column));
      continue;
    }
    if (!sel_result.ok()) return sel_result.status();
    std::map<std::string, size_t> index;  // value key → position in column.values
    auto entry = [&](const query::ResultValue& v) -> query::BubbleUpValueCount& {
      std::string key = std::to_string(v.index()) + ":" + ResultValueJson(v).dump();
      auto [it, inserted] = index.try_emplace(key, column.values.size());
      if (inserted) column.values.push_back({v, 0, 0});
      return column.values[it->second];
    };
    double all_total = 0, sel_total = 0;
    for (const auto& row : all_result->rows) {
      entry(row.breakdowns[0]).all = count(row.values[0]);
      all_total += count(row.values[0]);
    }
    for (const auto& row : sel_result->rows) {
      entry(row.breakdowns[0]).selection = count(row.values[0]);
      sel_total += count(row.values[0]);
    }
    out.all = all_total;
    out.selection = sel_total;
    out.columns.push_back(std::move(column));
  }
  return out;
}

}  // namespace ariadne::api
