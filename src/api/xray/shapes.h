// The X-Ray API's response shapes (botocore's xray model): sampling rule records, groups, trace
// summaries, service graphs, error bodies. Pure functions from the sampling module's and the query
// layer's results to JSON. Internal to src/api/xray.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "net/http_server.h"
#include "query/xray/service_graph.h"
#include "query/xray_filter/trace_view.h"
#include "sampling/config_store.h"

namespace ariadne::api::xray {

// 200 with the JSON body and an x-amzn-RequestId.
net::HttpResponse JsonResponse(const nlohmann::json& body);
// X-Ray's error form: HTTP status + x-amzn-ErrorType + {"__type", "message"}.
net::HttpResponse XrayError(int status, const std::string& code, const std::string& message);

nlohmann::json RuleRecord(const sampling::SamplingRule& rule,
                          const sampling::XrayConfigStore& config);
nlohmann::json GroupJson(const sampling::XrayGroup& group, const sampling::XrayConfigStore& config);
// A TraceSummary of GetTraceSummaries.
nlohmann::json TraceSummaryJson(const query::xray_filter::TraceView& view);
// The Services list of GetServiceGraph / GetTraceGraph.
nlohmann::json ServicesJson(const query::xray::XrayServiceGraph& graph);
// "2024-05-01T12:00:00Z".
std::string IsoTime(double epoch_seconds);

}  // namespace ariadne::api::xray
