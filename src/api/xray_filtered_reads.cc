#include "api/xray_filtered_reads.h"

#include <algorithm>

#include "query/xray/trace_id_time.h"
#include "query/xray_filter/filter.h"
#include "query/xray_filter/trace_view.h"
#include "store/service_graph.h"

namespace ariadne::api {
namespace {

bool Cancelled(const query::ExecContext& context) {
  return context.cancel && context.cancel->cancelled();
}

store::TraceVerdict Verdict(const query::xray_filter::Filter& filter,
                            const store::TraceSummary& summary) {
  switch (filter.Decide(summary.xray)) {
    case query::xray_filter::Filter::Verdict::kYes:
      return store::TraceVerdict::kYes;
    case query::xray_filter::Filter::Verdict::kNo:
      return store::TraceVerdict::kNo;
    case query::xray_filter::Filter::Verdict::kUnknown:
      break;
  }
  return store::TraceVerdict::kUnknown;
}

// Decides an entry the summary left open by its whole trace (the one the engine sent with the
// entry, else fetched). `trace` receives it.
Result<bool> MatchesWhole(store::SpanStore* store, const store::TracePageEntry& entry,
                          const query::xray_filter::Filter& filter,
                          std::shared_ptr<const store::TraceResult>* trace) {
  if (entry.trace) {
    *trace = entry.trace;
  } else {
    const store::TraceTimeHint hint = query::xray::TraceStartsHint(
        entry.summary.start_unix_nano, entry.summary.last_span_start_unix_nano);
    auto fetched = store->GetTraceNear(entry.summary.trace_id, entry.summary.environment, hint);
    if (fetched.status().IsNotFound()) return false;
    if (!fetched.ok()) return fetched.status();
    *trace = std::make_shared<const store::TraceResult>(std::move(*fetched));
  }
  if (entry.decided) return true;
  return filter.Matches(query::xray_filter::TraceView::Build((*trace)->spans));
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
  std::vector<store::TraceSummary> out;
  if (request.limit == 0) return out;
  store::TracePageRequest search;
  search.environment = request.environment;
  search.start_unix_nano = request.start_unix_nano;
  search.end_unix_nano = request.end_unix_nano;
  search.filter.span_filters = request.filters;
  search.order = store::TraceOrder::kNewestFirst;
  search.filter.annotations = filter.RequiredAnnotations();
  search.limit = request.limit;
  search.refine = [&filter](const store::TraceSummary& s) { return Verdict(filter, s); };
  while (out.size() < request.limit) {
    ARIADNE_ASSIGN_OR_RETURN(store::TracePage page, store->SearchTracePage(search, context));
    for (store::TracePageEntry& entry : page.traces) {
      if (Cancelled(context))
        return Status(StatusCode::kCancelled, "trace search: cancelled (its client went away)");
      if (!entry.decided) {
        std::shared_ptr<const store::TraceResult> trace;
        ARIADNE_ASSIGN_OR_RETURN(bool matches, MatchesWhole(store, entry, filter, &trace));
        if (!matches) continue;
      }
      out.push_back(std::move(entry.summary));
      if (out.size() == request.limit) break;
    }
    if (!page.next) break;
    search.after = page.next;
  }
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
  store::TracePageRequest search;
  search.environment = std::string(environment);
  search.start_unix_nano = start_unix_nano;
  search.end_unix_nano = end_unix_nano;
  search.limit = 0;
  search.filter.annotations = filter.RequiredAnnotations();
  search.refine = [&filter](const store::TraceSummary& s) { return Verdict(filter, s); };
  ARIADNE_ASSIGN_OR_RETURN(store::TracePage page, store->SearchTracePage(search, context));
  for (const store::TracePageEntry& entry : page.traces) {
    if (Cancelled(context))
      return Status(StatusCode::kCancelled, "service graph: cancelled (its client went away)");
    // The graph needs every span of the matching traces.
    std::shared_ptr<const store::TraceResult> trace;
    ARIADNE_ASSIGN_OR_RETURN(bool matches, MatchesWhole(store, entry, filter, &trace));
    if (!matches || trace->spans.spans.empty()) continue;
    // Ingest time only drives the pairing window; every span of a trace arrives together.
    builder.Observe(trace->environments.empty() ? "" : trace->environments[0], trace->spans, 1);
  }
  if (Cancelled(context))
    return Status(StatusCode::kCancelled, "service graph: cancelled (its client went away)");
  // Client calls nobody answered within the matching traces become edges to their peers.
  builder.Expire(UINT64_MAX);
  return builder.Get(environment, start_unix_nano, end_unix_nano);
}

}  // namespace ariadne::api
