// HttpServer: a small asynchronous HTTP/1.1 server (Boost.Beast underneath, kept out of this
// header) shared by the OTLP/HTTP receiver and the query API.
//
// What it does for every connection: keep-alive, TCP_NODELAY, `Expect: 100-continue`, request
// bodies with Content-Length or `Transfer-Encoding: chunked` (the OpenTelemetry JS exporters send
// chunked bodies without a length). The body limit is enforced while reading, so an endless chunked
// stream costs at most `max_body_bytes`: such a request gets 413 and the connection is closed. A
// request Beast cannot parse gets 400 and the connection is closed. Requests on one connection are
// answered in order: the next request is read only after the previous response has been written,
// so pipelined requests are safe.
//
// Handlers are asynchronous: a handler receives the request and a `respond` function, and may call
// `respond` later from any thread (the OTLP receiver answers only after the store made the spans
// durable). `respond` must be called at most once; if the handler drops it without calling it the
// client gets a 500. After Stop() calls to `respond` are ignored.
//
// Threads: the handler runs on one of `io_threads` I/O threads and must not block for long. Start,
// bound_port and Stop may be called from any thread; Stop is idempotent and joins the I/O threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/cancel.h"
#include "common/status.h"

namespace ariadne::net {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// ASCII case-insensitive comparison (header names, media types, encodings).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// Decodes %XX escapes (and '+' as space when `plus_is_space`); invalid escapes are kept as is.
std::string PercentDecode(std::string_view text, bool plus_is_space);

struct HttpRequest {
  std::string method;  // as sent, e.g. "POST"
  std::string target;  // as sent, e.g. "/api/v1/traces/abc?x=1"
  std::string path;    // target without the query string (not percent-decoded)
  std::vector<std::pair<std::string, std::string>> query;  // decoded name/value pairs, in order
  HeaderList headers;                                      // in arrival order, names as sent
  std::shared_ptr<const std::string> body;                 // never null (empty when no body)
  std::string remote_address;                              // "ip:port"
  // Set by the server when the client goes away before the response is written; long handlers
  // poll it and stop early. Never null.
  CancelFlagPtr cancel = std::make_shared<CancelFlag>();

  // First header named `name` (case-insensitive), or nullopt.
  std::optional<std::string_view> Header(std::string_view name) const;
  // First query parameter named `name` (case-sensitive), or nullopt.
  std::optional<std::string_view> QueryParam(std::string_view name) const;
};

// Sets request->target to `target` (as sent, e.g. "/api/v1/traces?service=a%20b&limit=5") and
// fills request->path (the part before '?', not decoded) and request->query (decoded pairs, in
// order; a part without '=' has an empty value). The server calls it for every request; the HTTP
// request fuzzer (fuzz/http_request_fuzzer.cc) calls it on what Beast parsed.
void ParseRequestTarget(std::string_view target, HttpRequest* request);

struct HttpResponse {
  int status = 200;
  HeaderList headers;  // Content-Length is added by the server
  std::string body;

  HttpResponse() = default;
  HttpResponse(int status_code, std::string content_type, std::string body_text);
  HttpResponse& SetHeader(std::string name, std::string value);
  std::optional<std::string_view> Header(std::string_view name) const;
};

using Responder = std::function<void(HttpResponse)>;
using HttpHandler = std::function<void(HttpRequest&&, Responder respond)>;

struct HttpServerOptions {
  int io_threads = 2;
  // Largest request body accepted (after de-chunking, before any Content-Encoding is undone).
  size_t max_body_bytes = 16 * 1024 * 1024;
  // A connection with no request in progress for this long is closed; also bounds each read/write.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(60);
  // Name used in log lines and error messages, e.g. "otlp-http".
  std::string name = "http";
};

class HttpServer {
 public:
  virtual ~HttpServer() = default;

  // Binds `host:port` (port 0 picks a free port) and starts serving on background threads.
  // kUnavailable with an actionable message when the address cannot be bound.
  static Result<std::unique_ptr<HttpServer>> Start(const std::string& host, uint16_t port,
                                                   HttpHandler handler,
                                                   HttpServerOptions options = {});

  // The port actually bound (useful with port 0).
  virtual uint16_t bound_port() const = 0;
  // The host as bound, e.g. "127.0.0.1".
  virtual std::string bound_host() const = 0;

  // Stops accepting, closes every connection and joins the I/O threads. Idempotent.
  virtual void Stop() = 0;
};

}  // namespace ariadne::net
