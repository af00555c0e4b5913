#include "api/xray/read_ops.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <vector>

#include "api/xray/control_ops.h"
#include "api/xray/operations.h"
#include "api/xray/request_fields.h"
#include "api/xray/shapes.h"
#include "query/xray/documents.h"

namespace ariadne::api::xray {

using query::xray::TracePosition;
using query::xray_filter::Filter;
using query::xray_filter::TraceView;

namespace {

constexpr char kTokenPrefix[] = "ariadne-tp1-";
constexpr double kTraceIdScanSlack = 3600;

uint64_t ToNanos(double seconds) {
  return seconds <= 0 ? 0ull : static_cast<uint64_t>(seconds * 1e9);
}

}  // namespace

std::string EncodeTraceSummaryToken(const TracePosition& position) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s%" PRIu64 "-%" PRIu64 "-", kTokenPrefix,
                position.window_start_nano, position.first_start_nano);
  return buf + position.trace_id.ToHex();
}

std::optional<TracePosition> DecodeTraceSummaryToken(const std::string& token) {
  const std::string prefix = kTokenPrefix;
  if (token.rfind(prefix, 0) != 0) return std::nullopt;
  TracePosition position;
  unsigned long long window = 0, first = 0;
  int consumed = 0;
  if (std::sscanf(token.c_str() + prefix.size(), "%llu-%llu-%n", &window, &first, &consumed) != 2)
    return std::nullopt;
  auto id = model::ParseAnyTraceId(token.substr(prefix.size() + consumed));
  if (!id) return std::nullopt;
  position.window_start_nano = window;
  position.first_start_nano = first;
  position.trace_id = *id;
  return position;
}

bool XrayReadOps::Handles(const std::string& path) {
  return IsXrayOperationOf(path, XrayFamily::kReads);
}

nlohmann::json XrayReadOps::Run(const std::string& path, const json& body) {
  if (path == "/TraceSummaries") return GetTraceSummaries(body);
  if (path == "/Traces") return BatchGetTraces(body);
  if (path == "/ServiceGraph") return GetServiceGraph(body);
  if (path == "/TraceGraph") return GetTraceGraph(body);
  if (path == "/TimeSeriesServiceStatistics") return GetTimeSeriesServiceStatistics(body);
  throw ApiError{404, "UnknownOperationException", "no X-Ray operation at POST " + path};
}

query::xray_filter::GroupResolver XrayReadOps::Groups() const {
  sampling::XrayConfigStore* config = config_;
  return [config](std::string_view key, bool is_arn) -> std::optional<std::string> {
    auto group =
        is_arn ? config->GetGroup("", std::string(key)) : config->GetGroup(std::string(key), "");
    if (!group.ok()) return std::nullopt;
    return group->filter_expression;
  };
}

Filter XrayReadOps::GroupFilter(const json& body) const {
  std::string filter_text;
  auto group_name = OptString(body, "GroupName");
  auto group_arn = OptString(body, "GroupARN");
  if (group_name || group_arn) {
    auto group = config_->GetGroup(group_name.value_or(""), group_arn.value_or(""));
    if (!group.ok()) ThrowStatus(group.status());
    filter_text = group->filter_expression;
  }
  return ParseFilterOrThrow(filter_text, "FilterExpression");
}

nlohmann::json XrayReadOps::GetTraceSummaries(const json& body) {
  double start = ReqTime(body, "StartTime");
  double end = ReqTime(body, "EndTime");
  if (end < start) Invalid("EndTime must not be before StartTime");
  const std::string range_type = OptString(body, "TimeRangeType").value_or("Event");
  if (range_type != "TraceId" && range_type != "Event" && range_type != "Service") {
    Invalid("TimeRangeType must be TraceId, Event or Service, got '" + range_type + "'");
  }
  double sample_fraction = 1.0;
  if (const json* strategy = Member(body, "SamplingStrategy")) {
    if (!strategy->is_object()) Invalid("SamplingStrategy must be an object");
    const std::string name = OptString(*strategy, "Name", "SamplingStrategy.").value_or("");
    if (name != "PartialScan" && name != "FixedRate") {
      Invalid("SamplingStrategy.Name must be PartialScan or FixedRate, got '" + name + "'");
    }
    auto value = OptDouble(*strategy, "Value", "SamplingStrategy.");
    if (name == "FixedRate") {
      if (!value || *value < 0 || *value > 1) {
        Invalid("SamplingStrategy.Value must be between 0 and 1 for FixedRate");
      }
      // Sampling: false asks for every trace whatever the strategy says.
      if (OptBool(body, "Sampling").value_or(true)) sample_fraction = *value;
    }
  }
  Filter filter =
      ParseFilterOrThrow(OptString(body, "FilterExpression").value_or(""), "FilterExpression");
  auto groups = Groups();
  query::xray::MatchingTracesRequest request;
  request.start_nano = ToNanos(start);
  request.end_nano = ToNanos(end) + 1;
  request.filter = &filter;
  request.groups = &groups;
  request.limit = limits_.trace_summaries_page;
  request.cancel = cancel_;
  request.sample_fraction = sample_fraction;
  if (range_type == "TraceId") {
    // The window applies to the time in the trace id (when the trace began); its segments may
    // have been recorded up to kTraceIdScanSlack seconds later.
    request.trace_id_seconds = {static_cast<uint64_t>(std::max(0.0, start)),
                                static_cast<uint64_t>(std::max(0.0, end))};
    request.end_nano = ToNanos(end + kTraceIdScanSlack) + 1;
  }
  if (auto token = OptString(body, "NextToken"); token && !token->empty()) {
    request.after = DecodeTraceSummaryToken(*token);
    if (!request.after) Invalid("NextToken '" + *token + "' is not a token this server issued");
    if (request.after->window_start_nano != request.start_nano) {
      Invalid(
          "NextToken belongs to a request with another StartTime; send the same StartTime, "
          "EndTime and FilterExpression as the first page");
    }
  }
  json summaries = json::array();
  auto page = reader_->MatchingTraces(request, [&summaries](const TraceView& view) {
    summaries.push_back(TraceSummaryJson(view));
  });
  if (!page.ok()) ThrowStatus(page.status());
  json out = {{"TraceSummaries", summaries},
              {"ApproximateTime", std::floor(clock_())},
              {"TracesProcessedCount", page->processed}};
  if (page->next) out["NextToken"] = EncodeTraceSummaryToken(*page->next);
  return out;
}

nlohmann::json XrayReadOps::BatchGetTraces(const json& body) {
  ParseOffsetToken(body);
  json traces = json::array(), unprocessed = json::array();
  for (const std::string& text : ReqStringList(body, "TraceIds", limits_.max_batch_get_ids)) {
    auto id = model::ParseAnyTraceId(text);
    if (!id) {
      unprocessed.push_back(text);
      continue;
    }
    // An X-Ray id names the second its trace started: read only the time around it first, and
    // everywhere when nothing is there (an id whose time is off, e.g. a clock that was wrong).
    Result<store::TraceResult> trace =
        reader_->TraceHinted({*id, XrayTraceIdTimeHint(text, clock_())});
    if (!trace.ok() || trace->spans.spans.empty()) {
      if (!trace.ok() && !trace.status().IsNotFound()) ThrowStatus(trace.status());
      unprocessed.push_back(text);
      continue;
    }
    TraceView view = TraceView::Build(trace->spans);
    json segments = json::array();
    for (const query::xray::SegmentDocument& doc : query::xray::EncodeSegmentDocuments(view)) {
      segments.push_back({{"Id", doc.id}, {"Document", doc.document}});
    }
    traces.push_back({{"Id", model::FormatXrayTraceId(*id)},
                      {"Duration", view.duration()},
                      {"LimitExceeded", false},
                      {"Segments", segments}});
  }
  return {{"Traces", traces}, {"UnprocessedTraceIds", unprocessed}};
}

nlohmann::json XrayReadOps::GetServiceGraph(const json& body) {
  double start = ReqTime(body, "StartTime");
  double end = ReqTime(body, "EndTime");
  if (end < start) Invalid("EndTime must not be before StartTime");
  ParseOffsetToken(body);
  Filter filter = GroupFilter(body);
  auto groups = Groups();
  auto graph = reader_->ServiceGraph(ToNanos(start), ToNanos(end) + 1, filter, &groups, cancel_);
  if (!graph.ok()) ThrowStatus(graph.status());
  return {{"StartTime", start},
          {"EndTime", end},
          {"Services", ServicesJson(*graph)},
          {"ContainsOldGroupVersions", false}};
}

nlohmann::json XrayReadOps::GetTimeSeriesServiceStatistics(const json& body) {
  double start = ReqTime(body, "StartTime");
  double end = ReqTime(body, "EndTime");
  if (end < start) Invalid("EndTime must not be before StartTime");
  ParseOffsetToken(body);
  const int64_t period = OptInt(body, "Period").value_or(60);
  if (period < 60 || period % 60 != 0) Invalid("Period must be a multiple of 60 seconds");
  Filter filter = GroupFilter(body);
  // The entity selector names the node(s) to chart, in filter syntax: service("name") or
  // id(name: "name", type: "...").
  std::vector<std::string> services;
  if (auto selector = OptString(body, "EntitySelectorExpression"); selector && !selector->empty()) {
    services = ParseFilterOrThrow(*selector, "EntitySelectorExpression").ReferencedServices();
    if (services.empty()) {
      Invalid("EntitySelectorExpression must name a service, e.g. service(\"backend-flask\")");
    }
  }
  auto groups = Groups();
  auto series = reader_->TimeSeries(ToNanos(start), ToNanos(end) + 1, filter, &groups, services,
                                    static_cast<uint64_t>(period), cancel_);
  if (!series.ok()) ThrowStatus(series.status());
  json points = json::array();
  for (const auto& [bucket, stats] : *series) {
    json histogram = json::array();
    for (const auto& [value, count] : stats.histogram) {
      histogram.push_back({{"Value", value}, {"Count", count}});
    }
    points.push_back(
        {{"Timestamp", static_cast<double>(bucket)},
         {"ServiceSummaryStatistics",
          {{"OkCount", stats.ok},
           {"ErrorStatistics",
            {{"ThrottleCount", stats.throttle},
             {"OtherCount", stats.error_other},
             {"TotalCount", stats.throttle + stats.error_other}}},
           {"FaultStatistics", {{"OtherCount", stats.fault}, {"TotalCount", stats.fault}}},
           {"TotalCount", stats.total},
           {"TotalResponseTime", stats.total_response_time}}},
         {"ResponseTimeHistogram", histogram}});
  }
  return {{"TimeSeriesServiceStatistics", points}, {"ContainsOldGroupVersions", false}};
}

nlohmann::json XrayReadOps::GetTraceGraph(const json& body) {
  ParseOffsetToken(body);
  // Like BatchGetTraces: each X-Ray id is read near the second it names first.
  std::vector<query::xray::XrayTraceReader::TraceRef> traces;
  for (const std::string& text : ReqStringList(body, "TraceIds", limits_.max_batch_get_ids)) {
    if (auto id = model::ParseAnyTraceId(text))
      traces.push_back({*id, XrayTraceIdTimeHint(text, clock_())});
  }
  auto graph = reader_->TraceGraph(traces);
  if (!graph.ok()) ThrowStatus(graph.status());
  return {{"Services", ServicesJson(*graph)}};
}

}  // namespace ariadne::api::xray
