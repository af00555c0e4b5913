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
// Client gone: while a handler has not answered, the connection is watched; when the client closes
// it (or on Stop) `request.cancel` is set, so long work can stop. Limits per listener (see
// HttpServerOptions): a header-stage check that can refuse before the body is read, a byte budget
// for bodies across connections, a connection cap, idle/slow-sender timeouts, and a pause instead
// of a spin when accept runs out of file descriptors. Counters: stats().
//
// HTTPS: with HttpServerOptions::tls the listener speaks only TLS (OpenSSL through Beast's
// ssl_stream, all inside http_server.cc); every limit above applies the same way, a handshake must
// finish within `tls_handshake_timeout`, and a plain HTTP request gets a plaintext 400.
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
#include "net/tls.h"

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

// Called on the I/O thread once a request's headers are in, before any byte of its body is read
// (`request.body` is empty). Returning a response sends it at once and closes the connection
// without reading the body, so an unauthenticated or unacceptable request costs no body memory.
// Must be quick and must not block.
using HeaderCheck = std::function<std::optional<HttpResponse>(const HttpRequest& headers_only)>;

struct HttpServerOptions {
  int io_threads = 2;
  // Largest request body accepted (after de-chunking, before any Content-Encoding is undone).
  size_t max_body_bytes = 16 * 1024 * 1024;
  // A connection with no request in progress for this long is closed. The same deadline bounds
  // reading one request's header and, separately, its body, and writing a response, so a client
  // that trickles bytes (slowloris) is cut off too.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(60);
  // See HeaderCheck; empty = every request's body is read.
  HeaderCheck on_headers;
  // Bytes of request bodies that all connections of this listener may hold at once (from the
  // start of reading until the handler drops the body); 0 = no bound. A request whose
  // Content-Length does not fit, or a chunked body that grows past it, gets 503 + Retry-After.
  size_t max_buffered_bytes = 0;
  // Open connections at most; one more is accepted and closed at once (counted). 0 = no bound.
  size_t max_connections = 0;
  // When accept fails for lack of file descriptors (EMFILE/ENFILE), accepting pauses this long
  // instead of spinning; the episode is logged once and counted.
  std::chrono::milliseconds accept_backoff = std::chrono::milliseconds(100);
  // Name used in log lines and error messages, e.g. "otlp-http".
  std::string name = "http";
  // When set, the listener speaks only HTTPS: every connection does a TLS handshake with the
  // context's current certificate (see net/tls.h; a reload affects new connections). A plain HTTP
  // request gets a plaintext 400 saying to use https. All the limits above apply as well.
  std::shared_ptr<TlsServerContext> tls;
  // TLS only: a client must finish its handshake within this time, or the connection is closed
  // (so a silent client cannot hold one of `max_connections`).
  std::chrono::milliseconds tls_handshake_timeout = std::chrono::seconds(10);
};

// Counters of one listener, for /metrics.
struct HttpServerStats {
  uint64_t connections_open = 0;
  uint64_t connections_accepted = 0;
  uint64_t connections_refused = 0;     // over max_connections
  uint64_t accept_backoffs = 0;         // accept pauses for lack of file descriptors
  uint64_t rejected_before_body = 0;    // answered by on_headers
  uint64_t body_budget_refused = 0;     // 503s for max_buffered_bytes
  uint64_t body_bytes_buffered = 0;     // now
  uint64_t tls_handshake_failures = 0;  // TLS handshakes that failed or timed out
  uint64_t plaintext_on_tls = 0;        // plain HTTP requests refused by a TLS listener
};

// Prometheus text for the stats of several listeners ({listener="NAME"} labels).
std::string HttpServerStatsPrometheus(
    const std::vector<std::pair<std::string, HttpServerStats>>& listeners);

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
  // Whether the listener speaks HTTPS (HttpServerOptions::tls).
  virtual bool tls() const = 0;
  // A snapshot of the listener's counters.
  virtual HttpServerStats stats() const = 0;

  // Stops accepting, closes every connection and joins the I/O threads. Idempotent.
  virtual void Stop() = 0;
};

}  // namespace ariadne::net
