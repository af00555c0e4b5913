// Trace search and the service graph narrowed to the traces an X-Ray filter expression matches:
// GET /api/v1/traces?xray_filter=… and GET /api/v1/service-graph?xray_filter=… (docs/api.md), so
// the web UI can show an X-Ray group's traces and map.
//
// Both walk every trace with a span in the window (SpanStore::ForEachTrace) and evaluate the
// expression on the whole trace (query/xray_filter); the cost grows with the traces in the
// window, not with the matches, so callers keep windows short. Trace search additionally keeps
// only traces with one span that passes every span filter inside the window (the same rule as
// SpanStore::SearchTraces) and answers the newest `limit` by trace start. The service graph is
// derived from the matching traces' spans with the ServiceGraphBuilder the store uses at ingest.
//
// Errors: the store's; kCancelled once the context's cancel flag is set (checked per trace).
// Threads: stateless functions; safe from any thread as the store is.
#pragma once

#include <string_view>
#include <vector>

#include "common/status.h"
#include "query/exec_context.h"
#include "store/span_store.h"

namespace ariadne::query::xray_filter {
class Filter;
}

namespace ariadne::api {

Result<std::vector<store::TraceSummary>> SearchTracesByXrayFilter(
    store::SpanStore* store, const store::TraceSearchRequest& request,
    const query::xray_filter::Filter& filter, const query::ExecContext& context);

Result<store::ServiceGraph> ServiceGraphByXrayFilter(store::SpanStore* store,
                                                     std::string_view environment,
                                                     uint64_t start_unix_nano,
                                                     uint64_t end_unix_nano,
                                                     const query::xray_filter::Filter& filter,
                                                     const query::ExecContext& context);

// Sorts trace summaries newest first by trace start (ties: trace id), the order of every trace
// list the API answers.
void SortNewestFirst(std::vector<store::TraceSummary>* traces);

}  // namespace ariadne::api
