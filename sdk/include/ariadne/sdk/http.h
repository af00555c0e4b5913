// Framework-free HTTP instrumentation: what a server middleware and an outgoing-call wrapper do,
// independent of the HTTP library. The cpp-httplib adapters (target ariadne::sdk_httplib) are
// thin layers over these.
//
// Server side (the C++ counterpart of FlaskInstrumentor + XRayMiddleware): extract the remote
// context, start a SERVER span named after the route template with semantic-convention attributes,
// compute the X-Ray segment name (dynamic naming from a host pattern such as AWS_XRAY_URL), and on
// finish record the status code and produce the X-Amzn-Trace-Id response header.
// Client side (RequestsInstrumentor): a CLIENT span and the propagation headers to send.
//
// Threads: HttpServerTracer/HttpClientTracer are immutable after construction; use from any
// thread. The spans they return belong to the calling thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ariadne/sdk/propagation.h"
#include "ariadne/sdk/tracer.h"

namespace ariadne::sdk {

// X-Ray dynamic naming: `host` when it matches `pattern` (X-Ray glob), else `fallback`. An empty
// pattern always yields `fallback`.
std::string XRayDynamicName(std::string_view pattern, std::string_view host,
                            std::string_view fallback);

struct HttpServerTracerOptions {
  Tracer* tracer = nullptr;
  // Extracts the parent and, when X-Ray is on, answers X-Amzn-Trace-Id. Not owned; must outlive
  // the tracer. Null = W3C trace-context only.
  const TextMapPropagator* propagator = nullptr;
  // X-Ray: when true, spans carry aws.xray.segment_name and responses carry X-Amzn-Trace-Id.
  bool xray = false;
  std::string xray_naming_pattern;  // AWS_XRAY_URL
  std::string xray_default_name;    // service name used when the host does not match
};

struct HttpServerRequest {
  std::string_view method;
  std::string_view target;  // path and query as received
  std::string_view route;   // route template, e.g. "/api/activities/@{handle}"; empty if none
  std::string_view host;    // Host header (with port)
  std::string_view scheme = "http";
  std::string_view user_agent;
  std::string_view client_ip;
  std::string_view flavor = "1.1";
};

// A server span in progress plus what the response needs.
struct HttpServerSpan {
  Span span;
  bool xray_sampling_requested = false;
};

class HttpServerTracer {
 public:
  explicit HttpServerTracer(HttpServerTracerOptions options);

  // Starts the SERVER span (not yet current: call span.Activate()).
  HttpServerSpan Start(const HttpServerRequest& request, const TextMapCarrier& headers) const;
  // Records the status (5xx → ERROR), ends the span and, in X-Ray mode, writes the
  // X-Amzn-Trace-Id response header into `response_headers`.
  void Finish(HttpServerSpan& server_span, int status_code, int64_t response_length,
              TextMapCarrier* response_headers) const;

  const HttpServerTracerOptions& options() const { return options_; }

 private:
  HttpServerTracerOptions options_;
  W3CTraceContextPropagator default_propagator_;
};

class HttpClientTracer {
 public:
  // `propagator` is not owned; null = W3C trace-context.
  HttpClientTracer(Tracer* tracer, const TextMapPropagator* propagator);

  // Starts a CLIENT span ("HTTP GET" style name) as a child of the current span and injects the
  // propagation headers into `request_headers`.
  Span Start(std::string_view method, std::string_view url, TextMapCarrier& request_headers) const;
  // Records the status code (0 = transport error) and ends the span.
  void Finish(Span& span, int status_code, std::string_view error = {}) const;

 private:
  Tracer* tracer_;
  const TextMapPropagator* propagator_;
  W3CTraceContextPropagator default_propagator_;
};

}  // namespace ariadne::sdk
