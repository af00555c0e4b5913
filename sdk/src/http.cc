#include "ariadne/sdk/http.h"

#include "ariadne/sdk/xray_sampler.h"
#include "internal/env.h"

namespace ariadne::sdk {

std::string XRayDynamicName(std::string_view pattern, std::string_view host,
                            std::string_view fallback) {
  if (!pattern.empty() && !host.empty() && XRayWildcardMatch(pattern, host)) {
    return std::string(host);
  }
  return std::string(fallback);
}

// ---------------------------------------------------------------------------------------------
// Server

HttpServerTracer::HttpServerTracer(HttpServerTracerOptions options)
    : options_(std::move(options)) {}

HttpServerSpan HttpServerTracer::Start(const HttpServerRequest& request,
                                       const TextMapCarrier& headers) const {
  const TextMapPropagator& propagator =
      options_.propagator != nullptr ? *options_.propagator : default_propagator_;
  ExtractedContext extracted;
  const bool has_parent = propagator.Extract(headers, extracted);

  std::string_view path = request.target.substr(0, request.target.find('?'));
  std::string_view host_name = request.host.substr(0, request.host.rfind(':'));
  int64_t host_port = 0;
  if (size_t colon = request.host.rfind(':'); colon != std::string_view::npos) {
    host_port = internal::ParseInt(request.host.substr(colon + 1), 0);
  } else {
    host_name = request.host;
  }
  std::string segment_name;
  if (options_.xray) {
    segment_name =
        XRayDynamicName(options_.xray_naming_pattern, request.host, options_.xray_default_name);
  }

  KeyValueArg attrs[12];
  size_t n = 0;
  attrs[n++] = {"http.method", request.method};
  attrs[n++] = {"http.scheme", request.scheme};
  attrs[n++] = {"http.target", request.target};
  attrs[n++] = {"http.flavor", request.flavor};
  if (!request.host.empty()) attrs[n++] = {"http.host", request.host};
  if (!host_name.empty()) attrs[n++] = {"net.host.name", host_name};
  if (host_port != 0) attrs[n++] = {"net.host.port", host_port};
  if (!request.route.empty()) attrs[n++] = {"http.route", request.route};
  if (!request.user_agent.empty()) attrs[n++] = {"user_agent.original", request.user_agent};
  if (!request.client_ip.empty()) attrs[n++] = {"http.client_ip", request.client_ip};
  if (options_.xray) attrs[n++] = {"aws.xray.segment_name", std::string_view(segment_name)};

  StartSpanOptions start;
  start.kind = SpanKind::kServer;
  start.new_root = true;  // a request never inherits the thread's leftover context
  if (has_parent) {
    start.parent = &extracted.context;
    start.parent_decision_deferred = extracted.decision_deferred();
  }
  start.attributes = std::span<const KeyValueArg>(attrs, n);
  // Span name: the route template (as the seed's Flask instrumentation names spans); the path
  // when no route matched.
  std::string_view name = !request.route.empty() ? request.route : path;

  HttpServerSpan out;
  out.span = options_.tracer->StartSpan(name.empty() ? std::string_view("HTTP") : name, start);
  out.xray_sampling_requested = has_parent && extracted.sampled == SampledHint::kRequested;
  return out;
}

void HttpServerTracer::Finish(HttpServerSpan& server_span, int status_code, int64_t response_length,
                              TextMapCarrier* response_headers) const {
  Span& span = server_span.span;
  span.SetAttribute("http.status_code", static_cast<int64_t>(status_code));
  if (response_length > 0) span.SetAttribute("http.response_content_length", response_length);
  // Server spans: 5xx is an error, 4xx is the client's problem (semantic conventions).
  if (status_code >= 500) span.SetStatus(StatusCode::kError);
  const SpanContext ctx = span.context();
  span.End();
  if (options_.xray && response_headers != nullptr) {
    response_headers->Set("X-Amzn-Trace-Id",
                          XRayPropagator::FormatResponseHeader(
                              ctx.trace_id, server_span.xray_sampling_requested, ctx.IsSampled()));
  }
}

// ---------------------------------------------------------------------------------------------
// Client

HttpClientTracer::HttpClientTracer(Tracer* tracer, const TextMapPropagator* propagator)
    : tracer_(tracer), propagator_(propagator) {}

Span HttpClientTracer::Start(std::string_view method, std::string_view url,
                             TextMapCarrier& request_headers) const {
  // scheme://host[:port]/path
  std::string_view rest = url;
  std::string_view scheme = "http";
  if (size_t p = rest.find("://"); p != std::string_view::npos) {
    scheme = rest.substr(0, p);
    rest = rest.substr(p + 3);
  }
  std::string_view authority = rest.substr(0, rest.find('/'));
  std::string_view peer = authority;
  int64_t port = scheme == "https" ? 443 : 80;
  if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    peer = authority.substr(0, colon);
    port = internal::ParseInt(authority.substr(colon + 1), port);
  }
  std::string name = "HTTP " + std::string(method);
  const KeyValueArg attrs[] = {
      {"http.method", method}, {"http.url", url}, {"net.peer.name", peer}, {"net.peer.port", port}};
  StartSpanOptions start;
  start.kind = SpanKind::kClient;
  start.attributes = attrs;
  Span span = tracer_->StartSpan(name, start);
  const TextMapPropagator& propagator = propagator_ != nullptr ? *propagator_ : default_propagator_;
  propagator.Inject(span.context(), request_headers);
  return span;
}

void HttpClientTracer::Finish(Span& span, int status_code, std::string_view error) const {
  if (status_code > 0) {
    span.SetAttribute("http.status_code", static_cast<int64_t>(status_code));
    // Client spans: any 4xx/5xx is an error.
    if (status_code >= 400) span.SetStatus(StatusCode::kError);
  } else {
    span.SetStatus(StatusCode::kError, error.empty() ? "transport error" : error);
  }
  span.End();
}

}  // namespace ariadne::sdk
