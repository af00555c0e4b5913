// The X-Ray API's trace reads: GetTraceSummaries (with TimeRangeType and SamplingStrategy),
// BatchGetTraces, GetServiceGraph, GetTraceGraph and GetTimeSeriesServiceStatistics. They read the
// request JSON, ask the query layer (query/xray/trace_reads.h) and shape the answer. They may scan
// many traces, so the router runs them on its read pool, never on a listener's I/O thread.
//
// GetTraceSummaries pages by position: its NextToken ("ariadne-tp1-…") encodes the window start
// and the order key of the last trace returned, so the next page resumes there instead of
// re-reading earlier pages. A token used with another StartTime is refused.
//
// One instance per request. Errors are thrown as ApiError (request_fields.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/cancel.h"
#include "query/xray/trace_id_time.h"
#include "query/xray/trace_reads.h"
#include "sampling/config_store.h"
#include "sampling/sampling_targets.h"

namespace ariadne::api::xray {

struct ReadLimits {
  size_t trace_summaries_page = 100;
  size_t max_batch_get_ids = 100;
};

class XrayReadOps {
 public:
  XrayReadOps(const query::xray::XrayTraceReader* reader, sampling::XrayConfigStore* config,
              ReadLimits limits, sampling::Clock clock, CancelFlagPtr cancel)
      : reader_(reader),
        config_(config),
        limits_(limits),
        clock_(std::move(clock)),
        cancel_(std::move(cancel)) {}

  static bool Handles(const std::string& path);
  nlohmann::json Run(const std::string& path, const nlohmann::json& body);

  nlohmann::json GetTraceSummaries(const nlohmann::json& body);

 private:
  using json = nlohmann::json;
  json BatchGetTraces(const json& body);
  json GetServiceGraph(const json& body);
  json GetTraceGraph(const json& body);
  json GetTimeSeriesServiceStatistics(const json& body);
  query::xray_filter::GroupResolver Groups() const;
  // The filter of the group named by GroupName / GroupARN (none: the empty filter, every trace).
  query::xray_filter::Filter GroupFilter(const json& body) const;

  const query::xray::XrayTraceReader* reader_;
  sampling::XrayConfigStore* config_;
  ReadLimits limits_;
  sampling::Clock clock_;
  CancelFlagPtr cancel_;
};

// The time hint of an X-Ray trace id (query/xray/trace_id_time.h), used by BatchGetTraces and
// GetTraceGraph.
using query::xray::kXrayIdTimeMarginNano;
using query::xray::XrayTraceIdTimeHint;

// The page token of GetTraceSummaries (exposed for tests).
std::string EncodeTraceSummaryToken(const query::xray::TracePosition& position);
// nullopt when `token` is not one this server issued.
std::optional<query::xray::TracePosition> DecodeTraceSummaryToken(const std::string& token);

}  // namespace ariadne::api::xray
