// JaegerRoutes: the Jaeger-compatible query API on the query port (8686), so that Grafana's Jaeger
// data source, the Jaeger UI and scripts written against jaeger-query work unchanged:
//
//   GET /api/services                       service names
//   GET /api/services/{service}/operations  operation names of a service (legacy form)
//   GET /api/operations?service=&spanKind=  [{"name", "spanKind"}]
//   GET /api/traces?service=&operation=&tags=&minDuration=&maxDuration=&start=&end=&limit=
//                                           (or ?traceID=…&traceID=…) whole traces
//   GET /api/traces/{traceID}               one trace
//   GET /api/dependencies?endTs=&lookback=  service → service call counts
//
// Every answer is jaeger-query's envelope ({"data", "total", "limit", "offset", "errors"}; shapes
// in jaeger_model.h); a failed request is {"data": null, …, "errors": [{"code", "msg"}]} with the
// same HTTP status: 400 for a bad parameter, 404 for an unknown trace, 405 for a method other than
// GET, 422 past the query limits, 503 (+ Retry-After) when the worker queue is full, 500 otherwise.
// What each route reads and how parameters are taken is JaegerQuery's business (jaeger_query.h);
// this class only routes, runs the reads on its worker pool (never on the HTTP I/O threads) and
// maps statuses. Keys and environments are ApiAuth's (auth.h), in front, as for /api/v1.
//
// Threads: Handle may be called concurrently; the store must outlive this object.
#pragma once

#include <functional>
#include <memory>

#include "api/jaeger_query.h"
#include "net/handler_pool.h"
#include "net/http_server.h"
#include "query/exec_context.h"
#include "store/span_store.h"

namespace ariadne::api {

struct JaegerRoutesOptions {
  size_t threads = 2;      // reads running at once
  size_t max_queued = 64;  // waiting beyond these get 503
  query::QueryLimits limits;
};

class JaegerRoutes {
 public:
  explicit JaegerRoutes(store::SpanStore* store, JaegerRoutesOptions options = {},
                        std::function<uint64_t()> clock = {});

  // True for the paths above (answered, possibly later from a worker); false when `request` is
  // not one of them (nothing was answered and `request`/`respond` are untouched).
  bool Handle(net::HttpRequest& request, net::Responder& respond);

  // `inner` behind these routes: everything that is not a Jaeger path goes to `inner`.
  net::HttpHandler Wrap(net::HttpHandler inner);

 private:
  net::HttpResponse Run(const net::HttpRequest& request) const;

  jaeger::JaegerQuery query_;
  JaegerRoutesOptions options_;
  std::unique_ptr<net::HandlerPool> workers_;  // last: joined before the rest goes away
};

}  // namespace ariadne::api
