// Honeycomb Events API receiver, served on the OTLP/HTTP port (where Honeycomb SDKs and libhoney
// point): `POST /1/events/{dataset}`, `POST /1/batch/{dataset}` and `GET /1/auth`.
//
// Per request: route (404 for other /1/ paths, 405 for other methods) → Content-Type (JSON, or
// none / text/plain / form-encoded as curl sends it; anything else 400) → key from
// X-Honeycomb-Team or `Authorization: Bearer` → environment (401) → Content-Encoding (gzip, zstd,
// deflate) undone with the OTLP cap on the decompressed size (413) → event_decoder.h → one
// Pipeline::Submit per request. Answers, sent only after the store made the spans durable:
//   /1/events  200 with an empty body; a bad event 400 {"error": "..."}
//   /1/batch   200 with one {"status":202} or {"status":400,"error":"..."} per element, in order;
//              a bad element never takes the good ones down
//   either     503 + Retry-After {"error": ...} when the store cannot take the spans (nothing of
//              the request was stored; retry it), 500 when storing failed otherwise
//   /1/auth    200 {"team":{...},"environment":{"name","slug"},"api_key_access":{...}} for a
//              valid key (or any request on an open server), else 401
//
// The route/type/key checks also run from the headers alone (ScreenHeaders), before the body.
// Mount() puts the routes in front of another handler (the OTLP receiver) on the same listener.
//
// Threads: Handle runs on the HTTP server's I/O threads; the answer may be sent from the store's
// commit thread. The pipeline and keys must outlive the server using this handler.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "net/http_server.h"
#include "pipeline/keys.h"
#include "pipeline/pipeline.h"

namespace ariadne::receivers::honeycomb {

struct EventsOptions {
  // Cap on the body after Content-Encoding is undone (the raw body cap is the HTTP server's).
  size_t max_decompressed_bytes = 64 * 1024 * 1024;
  // Seconds in the Retry-After header of a 503.
  int retry_after_seconds = 1;
  // Label on /metrics.
  std::string receiver_name = "honeycomb_events";
  // Team name and slug answered by /1/auth.
  std::string team = "ariadne";
};

class EventsReceiver {
 public:
  EventsReceiver(pipeline::Pipeline* pipeline, const pipeline::KeyRegistry* keys,
                 EventsOptions options = {});

  // True for the paths this receiver answers (everything under /1/).
  static bool Owns(const net::HttpRequest& request);

  void Handle(net::HttpRequest&& request, net::Responder respond);

  // Requests under /1/ go to Handle, everything else to `other`.
  net::HttpHandler Mount(net::HttpHandler other);
  // The header-stage check for the mounted listener: ours for /1/ paths, `other`'s elsewhere.
  net::HeaderCheck MountHeaderCheck(net::HeaderCheck other);

 private:
  // The answer when the headers alone refuse the request; else nullopt and, for ingest routes,
  // the key's environment in `*environment`.
  std::optional<net::HttpResponse> ScreenHeaders(const net::HttpRequest& request,
                                                 std::string* environment) const;
  net::HttpResponse Auth(const net::HttpRequest& request) const;

  pipeline::Pipeline* pipeline_;
  const pipeline::KeyRegistry* keys_;
  EventsOptions options_;
};

}  // namespace ariadne::receivers::honeycomb
