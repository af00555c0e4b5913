// cpp-httplib adapters for the SDK's HTTP instrumentation (target ariadne::sdk_httplib; the core
// SDK stays framework-free).
//
//   httplib::Server svr;
//   svr.set_tcp_nodelay(true);
//   ariadne::sdk::HttpServerTracer server_tracer({.tracer = &tracer, ...});
//   ariadne::sdk::TracedRoutes routes(svr, server_tracer);
//   routes.Get("/api/activities/@{handle}", [](const httplib::Request& req, httplib::Response& res)
//   {
//     ariadne::sdk::CurrentSpan()->SetAttribute("app.handle", req.matches[1].str());
//   });
//
// Each route template's `{name}` placeholders match one path segment (`[^/]+`) and appear in
// order in req.matches. Every request through a traced route gets a SERVER span named after the
// template that is the current span while the handler runs.
//
// Threads: register routes before svr.listen(); handlers run on httplib's worker threads.
#pragma once

#include <httplib.h>

#include <string>
#include <string_view>

#include "ariadne/sdk/http.h"

namespace ariadne::sdk {

// Header carrier over httplib's (case-insensitive) header map.
class HttplibHeaderCarrier final : public TextMapCarrier {
 public:
  explicit HttplibHeaderCarrier(httplib::Headers& headers) : headers_(&headers), const_(nullptr) {}
  explicit HttplibHeaderCarrier(const httplib::Headers& headers)
      : headers_(nullptr), const_(&headers) {}
  std::string_view Get(std::string_view key) const override;
  void Set(std::string_view key, std::string_view value) override;

 private:
  httplib::Headers* headers_;
  const httplib::Headers* const_;
};

// "/api/messages/@{handle}" → "/api/messages/@([^/]+)" (other regex metacharacters escaped).
std::string RouteTemplateToRegex(std::string_view route);

class TracedRoutes {
 public:
  using Handler = httplib::Server::Handler;

  TracedRoutes(httplib::Server& server, const HttpServerTracer& tracer)
      : server_(server), tracer_(tracer) {}

  TracedRoutes& Get(std::string_view route, Handler handler);
  TracedRoutes& Post(std::string_view route, Handler handler);
  TracedRoutes& Put(std::string_view route, Handler handler);
  TracedRoutes& Delete(std::string_view route, Handler handler);

  // Wraps `handler` so it runs inside a SERVER span for `route` (for registering by hand).
  Handler Wrap(std::string route, Handler handler) const;

 private:
  httplib::Server& server_;
  const HttpServerTracer& tracer_;
};

// An outgoing request through httplib::Client with a CLIENT span and propagated headers. `base_url`
// is the client's scheme://host:port (for the span's http.url).
httplib::Result TracedGet(httplib::Client& client, const HttpClientTracer& tracer,
                          std::string_view base_url, const std::string& path,
                          httplib::Headers headers = {});
httplib::Result TracedPost(httplib::Client& client, const HttpClientTracer& tracer,
                           std::string_view base_url, const std::string& path,
                           const std::string& body, const std::string& content_type,
                           httplib::Headers headers = {});

}  // namespace ariadne::sdk
