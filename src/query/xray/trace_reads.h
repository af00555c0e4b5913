// XrayTraceReader: the X-Ray reads over the span store — traces matching a filter expression in a
// time window (GetTraceSummaries, GetServiceGraph), single traces (BatchGetTraces, GetTraceGraph)
// and the services a filter names that never sent data (the groups view). It selects and
// aggregates; the X-Ray API (src/api/xray) turns the results into JSON.
//
// Order and paging: traces come in the store's paged-search order (TraceReader::SearchTracePage) —
// each trace's earliest span start, then its id; a trace is in the window when the range of its
// span starts overlaps it. The filter expression is evaluated against each trace's summary first
// (Filter::Decide); only what the summary cannot decide, and the traces a page returns, are
// fetched whole (GetTraceNear, with the summary's times as the hint). A page ends with the
// position of the last trace it returned (TracePosition); the next page resumes the store's
// search strictly after it, so earlier pages are never filtered again. A trace stored after its
// position was passed is not returned (as with X-Ray's own paging).
//
// Threads: stateless apart from the borrowed store; any number of reads may run at once. The store
// must outlive the reader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/cancel.h"
#include "common/status.h"
#include "model/ids.h"
#include "query/xray/service_graph.h"
#include "query/xray_filter/filter.h"
#include "query/xray_filter/trace_view.h"
#include "store/span_store.h"

namespace ariadne::query::xray {

// Where a page of matching traces stopped: the window it belongs to and the order key of the last
// trace returned.
struct TracePosition {
  uint64_t window_start_nano = 0;
  uint64_t first_start_nano = 0;  // the trace's earliest span start
  model::TraceId trace_id;
};

struct MatchingTracesRequest {
  uint64_t start_nano = 0;  // window [start_nano, end_nano)
  uint64_t end_nano = 0;
  const xray_filter::Filter* filter = nullptr;  // null: every trace
  const xray_filter::GroupResolver* groups = nullptr;
  std::optional<TracePosition> after;  // resume strictly after this position
  size_t limit = 100;                  // traces to return; 0 = no limit
  CancelFlagPtr cancel;                // set: stop early
  // TimeRangeType TraceId: keep only traces whose X-Ray id carries a time (its first 8 hex digits,
  // epoch seconds) in [first, second]; the caller widens the scan window to reach them.
  std::optional<std::pair<uint64_t, uint64_t>> trace_id_seconds;
  // SamplingStrategy FixedRate: keep this fraction of the matching traces, chosen by trace id (the
  // same traces on every page and every call).
  double sample_fraction = 1.0;
  // Set: a trace whose summary this answers false for is skipped before it is fetched (the caller
  // needs nothing from it, e.g. a time series of services it has no segment of).
  std::function<bool(const store::TraceSummary&)> wanted;
  // Set: a matching trace whose summary decided the filter is passed here first (a caller that
  // needs only the summary's facts); when it answers false (the facts do not hold what it needs)
  // the trace is fetched and passed to `visit`, as the traces the summary cannot decide are.
  std::function<bool(const store::TraceSummary&)> visit_summary;
};

struct MatchingTracesPage {
  size_t processed = 0;               // traces looked at (X-Ray's TracesProcessedCount)
  std::optional<TracePosition> next;  // set when more matching traces follow
};

class XrayTraceReader {
 public:
  // `environment` "" reads every environment.
  XrayTraceReader(store::SpanStore* store, std::string environment)
      : store_(store), environment_(std::move(environment)) {}

  // Calls `visit` for each matching trace of the page, in window order.
  Result<MatchingTracesPage> MatchingTraces(
      const MatchingTracesRequest& request,
      const std::function<void(const xray_filter::TraceView&)>& visit) const;

  // Every span of one trace; kNotFound when there is none.
  Result<store::TraceResult> Trace(const model::TraceId& id) const;
  // The same, where the caller knows when the trace happened (a summary's start time): engines
  // with time partitions read only those around it.
  Result<store::TraceResult> TraceNear(const model::TraceId& id,
                                       const store::TraceTimeHint& hint) const;

  // The service graph of the matching traces in the window.
  Result<XrayServiceGraph> ServiceGraph(uint64_t start_nano, uint64_t end_nano,
                                        const xray_filter::Filter& filter,
                                        const xray_filter::GroupResolver* groups,
                                        const CancelFlagPtr& cancel) const;

  // The graph of the given traces (unknown ids are skipped). A trace with a hint (the time its
  // X-Ray id names) is read near that time first, and everywhere only when it is not there.
  struct TraceRef {
    model::TraceId id;
    std::optional<store::TraceTimeHint> hint;
  };
  Result<XrayServiceGraph> TraceGraph(const std::vector<TraceRef>& traces) const;
  // One trace, near `hint` first when set (BatchGetTraces, GetTraceGraph).
  Result<store::TraceResult> TraceHinted(const TraceRef& trace) const;

  // GetTimeSeriesServiceStatistics: per `period_seconds` bucket of segment start time, the summed
  // statistics of the segments of matching traces that belong to `services` (empty: each trace's
  // entry segment, TraceView::root()). Entry segments come from the trace summaries' root facts
  // where the summary decides the filter, with no trace fetched; with `services`, only traces
  // whose summary lists a segment of one of them are fetched.
  Result<std::map<uint64_t, XrayGraphStats>> TimeSeries(uint64_t start_nano, uint64_t end_nano,
                                                        const xray_filter::Filter& filter,
                                                        const xray_filter::GroupResolver* groups,
                                                        const std::vector<std::string>& services,
                                                        uint64_t period_seconds,
                                                        const CancelFlagPtr& cancel) const;

  // The service names `filter` selects by name that no stored span carries.
  Result<std::vector<std::string>> UnknownServices(const xray_filter::Filter& filter) const;

 private:
  store::SpanStore* store_;
  std::string environment_;
};

}  // namespace ariadne::query::xray
