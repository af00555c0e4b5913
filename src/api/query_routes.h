// QueryRoutes: the analysis endpoints of the query API (docs/api.md):
//
//   POST /api/v1/query          Honeycomb-style aggregate query → results, series, totals
//   GET  /api/v1/columns        columns with types, for autocomplete
//   GET  /api/v1/traces?…       trace search (service, name, attr.KEY, durations, error, window)
//   GET  /api/v1/service-graph  services and the calls between them
//   POST /api/v1/bubbleup       which attribute values set a selection apart from the baseline
//
// Every request runs on a small worker pool (QueryRoutesOptions::concurrency threads), never on
// the HTTP I/O threads; when `max_queued` requests already wait for it, the answer is 503 with
// Retry-After. Each query runs within QueryRoutesOptions::limits (groups, memory) and stops when
// its request's cancel flag is set (the client went away): a query past a limit is answered 422
// with a message that says how to narrow it.
//
// Threads: Handle may be called concurrently; the store must outlive this object.
#pragma once

#include <functional>
#include <memory>

#include "common/work_queue.h"
#include "net/http_server.h"
#include "query/column_check.h"
#include "query/exec_context.h"
#include "store/span_store.h"

namespace ariadne::api {

// `ariadne serve` flags: --query-concurrency, --query-queue, --query-max-groups,
// --query-memory-limit.
struct QueryRoutesOptions {
  size_t concurrency = 2;  // queries (and BubbleUps, trace searches, …) running at once
  size_t max_queued = 64;  // waiting for a worker; past it 503 + Retry-After
  query::QueryLimits limits;
};

class QueryRoutes {
 public:
  explicit QueryRoutes(store::SpanStore* store, QueryRoutesOptions options = {},
                       std::function<uint64_t()> clock = {});

  // Returns false when `request` is not one of these routes (nothing was answered).
  bool Handle(net::HttpRequest& request, net::Responder& respond);

 private:
  net::HttpResponse Query(const net::HttpRequest& request);
  net::HttpResponse Columns(const net::HttpRequest& request);
  net::HttpResponse SearchTraces(const net::HttpRequest& request);
  net::HttpResponse ServiceGraph(const net::HttpRequest& request);
  net::HttpResponse BubbleUp(const net::HttpRequest& request);
  // BubbleUp's counts from two aggregate queries per candidate column, for engines without
  // SpanStore::ScanBubbleUp.
  Result<query::BubbleUpCounts> CountByQueries(const query::BubbleUpRequest& scan,
                                               const query::QuerySpec& selection,
                                               const query::ExecContext& context);
  // The column catalog of `environment` (all when empty), for query::CheckColumns.
  Result<std::vector<query::CatalogColumn>> Catalog(std::string_view environment);
  uint64_t Now() const;
  query::ExecContext ContextFor(const net::HttpRequest& request) const;

  store::SpanStore* store_;
  QueryRoutesOptions options_;
  std::function<uint64_t()> clock_;
  std::unique_ptr<WorkQueue> workers_;
};

}  // namespace ariadne::api
