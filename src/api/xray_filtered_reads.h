// Trace search and the service graph narrowed to the traces an X-Ray filter expression matches:
// GET /api/v1/traces?xray_filter=… and GET /api/v1/service-graph?xray_filter=… (docs/api.md), so
// the web UI can show an X-Ray group's traces and map.
//
// Both use the store's paged trace search (TraceReader::SearchTracePage): the expression is
// evaluated against each trace's summary (Filter::Decide, see filter.h for what a summary cannot
// decide) and only the undecided traces are fetched whole and evaluated with Filter::Matches.
// Trace search passes the span filters down as "some span in the window passes every filter"
// (the rule of SpanStore::SearchTraces) and answers the newest `limit` by trace start from the
// summaries. The service graph fetches the matching traces (it needs their spans) and derives the
// graph with the ServiceGraphBuilder the store uses at ingest.
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
