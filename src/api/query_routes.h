// QueryRoutes: the analysis endpoints of the query API (docs/api.md):
//
//   POST /api/v1/query          Honeycomb-style aggregate query → results, series, totals
//   GET  /api/v1/columns        columns with types, for autocomplete
//   GET  /api/v1/traces?…       trace search (service, name, attr.KEY, durations, error, window)
//   GET  /api/v1/service-graph  services and the calls between them
//   POST /api/v1/bubbleup       which attribute values set a selection apart from the baseline
//
// Every request runs on a small worker pool, never on the HTTP I/O threads; when the pool is full
// the answer is 503 with Retry-After.
//
// Threads: Handle may be called concurrently; the store must outlive this object.
#pragma once

#include <functional>
#include <memory>

#include "common/work_queue.h"
#include "net/http_server.h"
#include "store/span_store.h"

namespace ariadne::api {

class QueryRoutes {
 public:
  explicit QueryRoutes(store::SpanStore* store, std::function<uint64_t()> clock = {});

  // Returns false when `request` is not one of these routes (nothing was answered).
  bool Handle(net::HttpRequest& request, net::Responder& respond);

 private:
  net::HttpResponse Query(const net::HttpRequest& request);
  net::HttpResponse Columns(const net::HttpRequest& request);
  net::HttpResponse SearchTraces(const net::HttpRequest& request);
  net::HttpResponse ServiceGraph(const net::HttpRequest& request);
  net::HttpResponse BubbleUp(const net::HttpRequest& request);
  uint64_t Now() const;

  store::SpanStore* store_;
  std::function<uint64_t()> clock_;
  std::unique_ptr<WorkQueue> workers_;
};

}  // namespace ariadne::api
