#include "api/jaeger_query.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <variant>

#include <nlohmann/json.hpp>

#include "common/json_depth.h"
#include "common/json_writer.h"

namespace ariadne::api::jaeger {
namespace {

constexpr uint64_t kNanosPerMicro = 1000;
constexpr uint64_t kNanosPerMilli = 1'000'000;
constexpr uint64_t kHour = 3600ULL * 1'000'000'000ULL;
constexpr uint64_t kDefaultSearchLookback = 48 * kHour;      // jaeger-query: 2 days
constexpr uint64_t kDefaultDependencyLookback = 24 * kHour;  // jaeger-query: 1 day
constexpr size_t kDefaultLimit = 100;                        // jaeger-query's default
constexpr size_t kMaxLimit = 1000;

std::optional<std::string_view> Param(const Params& params, std::string_view name) {
  for (const auto& [key, value] : params) {
    if (key == name && !value.empty()) return std::string_view(value);
  }
  return std::nullopt;
}

std::optional<uint64_t> ParseUnsigned(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - digit) / 10) return std::nullopt;
    v = v * 10 + digit;
  }
  return v;
}

Status ParseError(std::string_view name, std::string_view what) {
  return Status::InvalidArgument("unable to parse param '" + std::string(name) +
                                 "': " + std::string(what));
}

// A time parameter in `unit` nanoseconds since the epoch; nullopt when absent.
Result<std::optional<uint64_t>> TimeParam(const Params& params, std::string_view name,
                                          uint64_t unit, std::string_view unit_name) {
  auto text = Param(params, name);
  if (!text) return std::optional<uint64_t>();
  auto value = ParseUnsigned(*text);
  if (!value || *value > UINT64_MAX / unit) {
    return ParseError(name, "expected Unix " + std::string(unit_name) + ", got '" +
                                std::string(text->substr(0, 40)) + "'");
  }
  return std::optional<uint64_t>(*value * unit);
}

std::string JaegerKind(std::string_view model_kind) {
  return model_kind == "unspecified" ? std::string() : std::string(model_kind);
}

}  // namespace

Result<uint64_t> ParseGoDuration(std::string_view text) {
  if (text == "0") return uint64_t{0};
  if (text.empty()) return Status::InvalidArgument("empty duration");
  if (text.front() == '+') text.remove_prefix(1);
  if (!text.empty() && text.front() == '-') {
    return Status::InvalidArgument("a duration must not be negative");
  }
  const std::string bad = "invalid duration '" + std::string(text.substr(0, 40)) +
                          "' (use a number with a unit: ns, us, ms, s, m, h, e.g. 1.5s or 1h30m)";
  double total = 0;
  while (!text.empty()) {
    size_t digits = 0;
    while (digits < text.size() &&
           ((text[digits] >= '0' && text[digits] <= '9') || text[digits] == '.')) {
      ++digits;
    }
    if (digits == 0 || text.substr(0, digits) == ".") return Status::InvalidArgument(bad);
    double number = 0;
    try {
      number = std::stod(std::string(text.substr(0, digits)));
    } catch (...) {
      return Status::InvalidArgument(bad);
    }
    text.remove_prefix(digits);
    size_t unit_length = 0;
    while (unit_length < text.size() && !(text[unit_length] >= '0' && text[unit_length] <= '9') &&
           text[unit_length] != '.') {
      ++unit_length;
    }
    const std::string_view unit = text.substr(0, unit_length);
    text.remove_prefix(unit_length);
    double scale;
    if (unit == "ns") {
      scale = 1;
    } else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") {  // µs, μs
      scale = 1e3;
    } else if (unit == "ms") {
      scale = 1e6;
    } else if (unit == "s") {
      scale = 1e9;
    } else if (unit == "m") {
      scale = 60e9;
    } else if (unit == "h") {
      scale = 3600e9;
    } else {
      return Status::InvalidArgument(bad);
    }
    total += number * scale;
  }
  if (!(total < 1.8e19)) return Status::InvalidArgument(bad);
  return static_cast<uint64_t>(total);
}

Result<store::TraceSearchRequest> ParseTraceSearch(const Params& params, uint64_t now_unix_nano) {
  store::TraceSearchRequest search;
  auto service = Param(params, "service");
  if (!service) return Status::InvalidArgument("parameter 'service' is required");
  auto eq = [&](std::string column, std::string value) {
    search.filters.push_back(
        query::Filter{std::move(column), query::FilterOp::kEq, {query::Literal(std::move(value))}});
  };
  eq("service.name", std::string(*service));
  if (auto operation = Param(params, "operation")) eq("name", std::string(*operation));

  // Tags: `tag=key:value` (repeatable) and `tags={"key": "value", …}` (repeatable).
  std::map<std::string, std::string> tags;
  for (const auto& [name, value] : params) {
    if (name == "tag") {
      const size_t colon = value.find(':');
      if (colon == std::string::npos) {
        return Status::InvalidArgument(
            "malformed 'tag' parameter, expecting key:value, received: " + value);
      }
      tags[value.substr(0, colon)] = value.substr(colon + 1);
    } else if (name == "tags" && !value.empty()) {
      nlohmann::json parsed = JsonNestingDepth(value) > kMaxRequestJsonNesting
                                  ? nlohmann::json()
                                  : nlohmann::json::parse(value, nullptr, false);
      if (!parsed.is_object()) {
        return Status::InvalidArgument(
            "malformed 'tags' parameter: expected a JSON object of strings such as "
            "{\"http.status_code\":\"500\"}");
      }
      for (const auto& [key, tag_value] : parsed.items()) {
        if (!tag_value.is_string()) {
          return Status::InvalidArgument("malformed 'tags' parameter: the value of '" + key +
                                         "' must be a string");
        }
        tags[key] = tag_value.get<std::string>();
      }
    }
  }
  for (auto& [key, value] : tags) eq(key, value);

  std::optional<uint64_t> min_duration, max_duration;
  for (const char* name : {"minDuration", "maxDuration"}) {
    auto text = Param(params, name);
    if (!text) continue;
    Result<uint64_t> nanos = ParseGoDuration(*text);
    if (!nanos.ok()) return ParseError(name, nanos.status().message());
    (std::string_view(name) == "minDuration" ? min_duration : max_duration) = *nanos;
  }
  if (min_duration && max_duration && *max_duration < *min_duration) {
    return Status::InvalidArgument("'maxDuration' should be greater than 'minDuration'");
  }
  if (min_duration) {
    search.filters.push_back(query::Filter{
        "duration_ms", query::FilterOp::kGe, {static_cast<double>(*min_duration) / 1e6}});
  }
  if (max_duration) {
    search.filters.push_back(query::Filter{
        "duration_ms", query::FilterOp::kLe, {static_cast<double>(*max_duration) / 1e6}});
  }

  ARIADNE_ASSIGN_OR_RETURN(std::optional<uint64_t> end,
                           TimeParam(params, "end", kNanosPerMicro, "microseconds"));
  ARIADNE_ASSIGN_OR_RETURN(std::optional<uint64_t> start,
                           TimeParam(params, "start", kNanosPerMicro, "microseconds"));
  // `end` is inclusive to the microsecond; the store's window is half-open.
  search.end_unix_nano = end ? *end + kNanosPerMicro : now_unix_nano;
  search.start_unix_nano =
      start ? *start
            : search.end_unix_nano - std::min(search.end_unix_nano, kDefaultSearchLookback);
  if (search.end_unix_nano <= search.start_unix_nano) {
    return Status::InvalidArgument("'end' must be after 'start' (both Unix microseconds)");
  }

  search.limit = kDefaultLimit;
  if (auto text = Param(params, "limit")) {
    auto limit = ParseUnsigned(*text);
    if (!limit) return ParseError("limit", "expected a whole number");
    if (*limit > 0) search.limit = std::min<uint64_t>(*limit, kMaxLimit);
  }
  return search;
}

JaegerQuery::JaegerQuery(store::SpanStore* store, std::function<uint64_t()> clock)
    : store_(store), clock_(std::move(clock)) {}

uint64_t JaegerQuery::Now() const {
  if (clock_) return clock_();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

Result<Answer> JaegerQuery::Services(std::string_view environment) const {
  ARIADNE_ASSIGN_OR_RETURN(std::vector<store::ServiceSummary> services,
                           store_->ListServices(environment));
  std::set<std::string> names;
  for (const store::ServiceSummary& service : services) {
    if (!service.name.empty()) names.insert(service.name);
  }
  Answer answer;
  JsonWriter w(&answer.data_json);
  w.BeginArray();
  for (const std::string& name : names) w.String(name);
  w.EndArray();
  answer.total = names.size();
  return answer;
}

Result<std::vector<JaegerQuery::Operation>> JaegerQuery::ReadOperations(
    std::string_view service, std::string_view environment,
    const query::ExecContext& context) const {
  query::QuerySpec spec;
  spec.environment = std::string(environment);
  spec.start_unix_nano = 0;
  spec.end_unix_nano = Now() + 24 * kHour;  // the pipeline accepts spans up to a day ahead
  // One time bucket for the whole window: no series is wanted.
  spec.granularity_seconds = spec.end_unix_nano / 1'000'000'000ULL + 1;
  query::Calculation count;
  count.op = query::CalcOp::kCount;
  count.op_name = "COUNT";
  count.label = "COUNT";
  spec.calculations.push_back(count);
  spec.filters.push_back(
      query::Filter{"service.name", query::FilterOp::kEq, {query::Literal(std::string(service))}});
  spec.breakdowns = {"name", "span.kind"};
  spec.limit = query::kMaxLimit;
  ARIADNE_ASSIGN_OR_RETURN(query::QueryResult result, store_->RunQuery(spec, context));
  std::vector<Operation> operations;
  for (const query::ResultRow& row : result.rows) {
    if (row.breakdowns.size() != 2) continue;
    const auto* name = std::get_if<std::string>(&row.breakdowns[0]);
    const auto* kind = std::get_if<std::string>(&row.breakdowns[1]);
    operations.push_back(
        Operation{name ? *name : std::string(), kind ? JaegerKind(*kind) : std::string()});
  }
  std::sort(operations.begin(), operations.end(), [](const Operation& a, const Operation& b) {
    return a.name != b.name ? a.name < b.name : a.span_kind < b.span_kind;
  });
  return operations;
}

Result<Answer> JaegerQuery::Operations(std::string_view service, std::string_view span_kind,
                                       std::string_view environment,
                                       const query::ExecContext& context) const {
  if (service.empty()) return Status::InvalidArgument("parameter 'service' is required");
  static constexpr std::string_view kKinds[] = {"server", "client", "producer", "consumer",
                                                "internal"};
  if (!span_kind.empty() &&
      std::find(std::begin(kKinds), std::end(kKinds), span_kind) == std::end(kKinds)) {
    return Status::InvalidArgument("unsupported span kind '" + std::string(span_kind) +
                                   "': use server, client, producer, consumer or internal");
  }
  ARIADNE_ASSIGN_OR_RETURN(std::vector<Operation> operations,
                           ReadOperations(service, environment, context));
  Answer answer;
  JsonWriter w(&answer.data_json);
  w.BeginArray();
  for (const Operation& operation : operations) {
    if (!span_kind.empty() && operation.span_kind != span_kind) continue;
    w.BeginObject();
    w.Member("name", operation.name);
    w.Member("spanKind", operation.span_kind);
    w.EndObject();
    ++answer.total;
  }
  w.EndArray();
  return answer;
}

Result<Answer> JaegerQuery::OperationNames(std::string_view service, std::string_view environment,
                                           const query::ExecContext& context) const {
  ARIADNE_ASSIGN_OR_RETURN(std::vector<Operation> operations,
                           ReadOperations(service, environment, context));
  std::set<std::string> names;
  for (const Operation& operation : operations) names.insert(operation.name);
  Answer answer;
  JsonWriter w(&answer.data_json);
  w.BeginArray();
  for (const std::string& name : names) w.String(name);
  w.EndArray();
  answer.total = names.size();
  return answer;
}

Result<Answer> JaegerQuery::FindTraces(const Params& params, std::string_view environment,
                                       const query::ExecContext& context) const {
  Answer answer;
  JsonWriter w(&answer.data_json);
  std::vector<model::TraceId> ids;
  for (const auto& [name, value] : params) {
    if (name != "traceID") continue;
    auto id = ParseTraceId(value);
    if (!id) {
      return Status::InvalidArgument("cannot parse traceID param: '" + value.substr(0, 40) +
                                     "' is not a hex trace id");
    }
    ids.push_back(*id);
  }
  if (ids.empty()) {
    ARIADNE_ASSIGN_OR_RETURN(store::TraceSearchRequest search, ParseTraceSearch(params, Now()));
    search.environment = std::string(environment);
    ARIADNE_ASSIGN_OR_RETURN(std::vector<store::TraceSummary> found,
                             store_->SearchTraces(search, context));
    for (const store::TraceSummary& summary : found) ids.push_back(summary.trace_id);
  }
  // Found by id (asked for, or from the search): whole traces, in that order.
  w.BeginArray();
  for (const model::TraceId& id : ids) {
    if (context.cancel && context.cancel->cancelled()) {
      return Status(StatusCode::kCancelled, "the client went away");
    }
    Result<store::TraceResult> trace = store_->GetTrace(id, environment);
    if (!trace.ok() && !trace.status().IsNotFound()) return trace.status();
    if (!trace.ok() || trace->spans.spans.empty()) {
      answer.errors.push_back(Error{0, "trace not found", TraceIdString(id)});
      continue;
    }
    WriteTrace(w, id, *trace);
  }
  w.EndArray();
  return answer;
}

Result<Answer> JaegerQuery::GetTrace(std::string_view id_text, std::string_view environment) const {
  auto id = ParseTraceId(id_text);
  if (!id) {
    return Status::InvalidArgument("cannot parse trace id '" + std::string(id_text.substr(0, 40)) +
                                   "': expected 1 to 32 hex digits");
  }
  Result<store::TraceResult> trace = store_->GetTrace(*id, environment);
  if (!trace.ok() && !trace.status().IsNotFound()) return trace.status();
  if (!trace.ok() || trace->spans.spans.empty()) return Status::NotFound("trace not found");
  Answer answer;
  JsonWriter w(&answer.data_json);
  w.BeginArray();
  WriteTrace(w, *id, *trace);
  w.EndArray();
  return answer;
}

Result<Answer> JaegerQuery::Dependencies(const Params& params, std::string_view environment) const {
  ARIADNE_ASSIGN_OR_RETURN(std::optional<uint64_t> end_ts,
                           TimeParam(params, "endTs", kNanosPerMilli, "milliseconds"));
  uint64_t lookback = kDefaultDependencyLookback;
  if (auto text = Param(params, "lookback")) {
    auto millis = ParseUnsigned(*text);
    if (!millis || *millis > UINT64_MAX / kNanosPerMilli) {
      return ParseError("lookback", "expected a number of milliseconds");
    }
    lookback = *millis * kNanosPerMilli;
  }
  const uint64_t end = end_ts ? *end_ts : Now();
  const uint64_t start = end - std::min(end, lookback);
  if (end <= start) return Status::InvalidArgument("'lookback' must be more than 0 ms");
  ARIADNE_ASSIGN_OR_RETURN(store::ServiceGraph graph,
                           store_->GetServiceGraph(environment, start, end));
  const std::string service(Param(params, "service").value_or(""));
  std::map<std::pair<std::string, std::string>, uint64_t> links;
  for (const store::ServiceGraphEdge& edge : graph.edges) {
    if (!service.empty() && edge.source != service && edge.target != service) continue;
    links[{edge.source, edge.target}] += edge.request_count;
  }
  Answer answer;
  JsonWriter w(&answer.data_json);
  w.BeginArray();
  for (const auto& [pair, calls] : links) {
    w.BeginObject();
    w.Member("parent", pair.first);
    w.Member("child", pair.second);
    w.Key("callCount");
    w.Uint(calls);
    w.EndObject();
  }
  w.EndArray();
  return answer;
}

}  // namespace ariadne::api::jaeger
