#include "api/xray_filtered_reads.h"

#include <algorithm>
#include <deque>

#include "columnar/block.h"
#include "query/exec/executor.h"
#include "query/xray_filter/filter.h"
#include "query/xray_filter/trace_view.h"
#include "store/service_graph.h"

namespace ariadne::api {
namespace {

bool Cancelled(const query::ExecContext& context) {
  return context.cancel && context.cancel->cancelled();
}

// True when one span of `trace` lies in the window and passes every filter (the rule of
// SpanStore::SearchTraces), evaluated by the query engine's own row selection.
bool HasMatchingSpan(const store::TraceResult& trace, const store::TraceSearchRequest& request) {
  if (request.filters.empty()) {
    for (const model::Span& s : trace.spans.spans)
      if (s.start_time_unix_nano >= request.start_unix_nano &&
          s.start_time_unix_nano < request.end_unix_nano)
        return true;
    return false;
  }
  query::QuerySpec spec;
  spec.start_unix_nano = request.start_unix_nano;
  spec.end_unix_nano = request.end_unix_nano;
  spec.filters = request.filters;
  columnar::BlockBuilder builder(trace.environments.empty() ? "" : trace.environments[0]);
  builder.Append(trace.spans);
  std::vector<uint8_t> selected = query::SelectRows(spec, builder.block());
  return std::find(selected.begin(), selected.end(), 1) != selected.end();
}

}  // namespace

void SortNewestFirst(std::vector<store::TraceSummary>* traces) {
  std::stable_sort(traces->begin(), traces->end(),
                   [](const store::TraceSummary& a, const store::TraceSummary& b) {
                     if (a.start_unix_nano != b.start_unix_nano)
                       return a.start_unix_nano > b.start_unix_nano;
                     return a.trace_id < b.trace_id;
                   });
}

Result<std::vector<store::TraceSummary>> SearchTracesByXrayFilter(
    store::SpanStore* store, const store::TraceSearchRequest& request,
    const query::xray_filter::Filter& filter, const query::ExecContext& context) {
  // ForEachTrace visits oldest first: keep the newest `limit` matches as they come.
  std::deque<store::TraceSummary> newest;
  Status walked =
      store->ForEachTrace(request.start_unix_nano, request.end_unix_nano, request.environment,
                          [&](const store::TraceResult& trace) {
                            if (Cancelled(context)) return false;
                            if (trace.spans.spans.empty() || !HasMatchingSpan(trace, request))
                              return true;
                            if (!filter.Matches(query::xray_filter::TraceView::Build(trace.spans)))
                              return true;
                            newest.push_back(store::SummarizeTrace(trace));
                            if (newest.size() > request.limit) newest.pop_front();
                            return true;
                          });
  ARIADNE_RETURN_IF_ERROR(walked);
  if (Cancelled(context))
    return Status(StatusCode::kCancelled, "trace search: cancelled (its client went away)");
  std::vector<store::TraceSummary> out(newest.begin(), newest.end());
  SortNewestFirst(&out);
  return out;
}

Result<store::ServiceGraph> ServiceGraphByXrayFilter(store::SpanStore* store,
                                                     std::string_view environment,
                                                     uint64_t start_unix_nano,
                                                     uint64_t end_unix_nano,
                                                     const query::xray_filter::Filter& filter,
                                                     const query::ExecContext& context) {
  store::ServiceGraphBuilder builder;
  Status walked = store->ForEachTrace(
      start_unix_nano, end_unix_nano, environment, [&](const store::TraceResult& trace) {
        if (Cancelled(context)) return false;
        if (trace.spans.spans.empty()) return true;
        if (!filter.Matches(query::xray_filter::TraceView::Build(trace.spans))) return true;
        // Ingest time only drives the pairing window; every span of a trace arrives together.
        builder.Observe(trace.environments.empty() ? "" : trace.environments[0], trace.spans, 1);
        return true;
      });
  ARIADNE_RETURN_IF_ERROR(walked);
  if (Cancelled(context))
    return Status(StatusCode::kCancelled, "service graph: cancelled (its client went away)");
  // Client calls nobody answered within the matching traces become edges to their peers.
  builder.Expire(UINT64_MAX);
  return builder.Get(environment, start_unix_nano, end_unix_nano);
}

}  // namespace ariadne::api
