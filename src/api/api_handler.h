// ApiHandler: the HTTP routes of the query port (8686).
//
//   GET /api/v1/traces/{trace_id}   every span of a trace as JSON (32-hex or X-Ray id; 400 for a
//                                   malformed id, 404 when unknown); ?environment=NAME narrows it
//   GET /api/v1/services            services with span and error counts; ?environment=NAME
//   GET /api/v1/info                the addresses this server listens on (ServerInfo)
//   GET /healthz                    liveness
//   GET /readyz                     readiness: 503 with the reason while the store is not ready
//                                   (SpanStore::Ready, e.g. ClickHouse not reachable yet)
//   GET /metrics                    Prometheus text: ingest counters, store stats, process RSS
// plus the analysis routes of QueryRoutes (query, columns, trace search, service graph, BubbleUp).
// Anything else under /api is a 404 JSON error ({"error": "...", "status": 404}).
//
// The JSON shape of a trace is pinned by tests/api/api_test.cc. The two store reads (a trace, the
// services) run on a bounded read pool (503 + Retry-After when it is full), never on the HTTP
// server's I/O thread, so /healthz and /metrics answer while reads are slow.
//
// Threads: Handle may run concurrently; store and metrics must outlive the handler.
#pragma once

#include <memory>
#include <string>

#include "api/query_routes.h"
#include "api/server_info.h"
#include "net/handler_pool.h"
#include "net/http_server.h"
#include "pipeline/metrics.h"
#include "store/span_store.h"

namespace ariadne::api {

struct ApiHandlerOptions {
  size_t read_threads = 2;  // workers for GET /api/v1/traces/{id} and /api/v1/services
  size_t read_queue = 64;   // reads waiting beyond these get 503
};

class ApiHandler {
 public:
  ApiHandler(store::SpanStore* store, const pipeline::IngestMetrics* metrics,
             QueryRoutesOptions query_options = {}, ApiHandlerOptions options = {});

  void Handle(net::HttpRequest&& request, net::Responder respond);
  net::HttpHandler AsHandler();

  // What GET /api/v1/info reports; `ariadne serve` fills it once its listeners are bound.
  ServerInfo* server_info() { return &server_info_; }

 private:
  net::HttpResponse GetTrace(const net::HttpRequest& request, std::string_view id_text);
  static net::HttpResponse Unavailable(const Status& status);
  net::HttpResponse ListServices(const net::HttpRequest& request);
  net::HttpResponse Metrics();

  store::SpanStore* store_;
  const pipeline::IngestMetrics* metrics_;
  std::unique_ptr<QueryRoutes> query_routes_;
  ServerInfo server_info_;
  std::unique_ptr<net::HandlerPool> reads_;  // last: joined before the rest goes away
};

// The JSON document GET /api/v1/traces/{id} returns (exposed for tests and tools).
std::string TraceToJson(const model::TraceId& id, const store::TraceResult& trace);

// Resident set size of this process in bytes (0 when /proc is unavailable).
uint64_t ProcessRssBytes();

}  // namespace ariadne::api
