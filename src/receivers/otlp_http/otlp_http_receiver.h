// OTLP/HTTP trace receiver: the handler behind `POST /v1/traces` on port 4318.
//
// Per request: route (404 elsewhere, 405 for other methods, CORS preflight on OPTIONS) →
// Content-Type (application/x-protobuf, application/protobuf or application/json, parameters
// ignored; else 415) → key → environment (401) → Content-Encoding undone with a cap on the
// decompressed size (413; corrupt stream 400; unknown encoding 415) → decode (400 with a
// google.rpc.Status body) → Pipeline::Submit. The 200 with ExportTraceServiceResponse (with
// partial_success when spans were rejected) is sent only after the store acknowledged durability;
// kResourceExhausted/kUnavailable from the store become 503 + Retry-After. Every answer is encoded
// like the request (protobuf or JSON).
//
// The route/type/key checks also run from the headers alone (AsHeaderCheck), before the body.
//
// Threads: Handle and the header check run on the HTTP server's I/O threads; the answer may be sent
// from the store's commit thread. The pipeline, keys and metrics must outlive the server using this
// handler.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "net/http_server.h"
#include "pipeline/keys.h"
#include "pipeline/pipeline.h"

namespace ariadne::receivers::otlp_http {

struct OtlpHttpOptions {
  // Cap on the body after Content-Encoding is undone (the raw body cap is the HTTP server's).
  size_t max_decompressed_bytes = 64 * 1024 * 1024;
  // Seconds in the Retry-After header of a 503.
  int retry_after_seconds = 1;
  // Label on /metrics.
  std::string receiver_name = "otlp_http";
  // Browser origins allowed to send spans (--cors-origin, e.g. "http://localhost:3000"; "*" allows
  // any, for a public ingest endpoint). Only a listed Origin is answered with
  // Access-Control-Allow-Origin; others get no CORS headers, so the browser refuses.
  std::vector<std::string> cors_origins;
};

class OtlpHttpReceiver {
 public:
  OtlpHttpReceiver(pipeline::Pipeline* pipeline, const pipeline::KeyRegistry* keys,
                   OtlpHttpOptions options = {});

  void Handle(net::HttpRequest&& request, net::Responder respond);

  // A handler for net::HttpServer::Start that forwards to Handle.
  net::HttpHandler AsHandler();
  // For HttpServerOptions::on_headers: answers 404/405/415/401 from the headers alone, so a
  // request without a valid key never has its body read. OPTIONS passes (CORS preflight).
  net::HeaderCheck AsHeaderCheck();

 private:
  // The Access-Control-Allow-Origin value for `request`, or "" when its Origin is not allowed.
  std::string AllowedOrigin(const net::HttpRequest& request) const;
  void AddCors(const net::HttpRequest& request, net::HttpResponse& response) const;

  pipeline::Pipeline* pipeline_;
  const pipeline::KeyRegistry* keys_;
  OtlpHttpOptions options_;
};

}  // namespace ariadne::receivers::otlp_http
