// Zipkin v2 receiver: the handler behind `POST /api/v2/spans` on the Zipkin port (9411,
// `ariadne serve --zipkin`).
//
// Per request: route (404 elsewhere, with a hint for Zipkin v1's /api/v1/spans; 405 for other
// methods) → Content-Type (`application/x-protobuf` is a zipkin.proto3 ListOfSpans, Thrift is 415,
// JSON and a missing or other type are read as JSON, as Zipkin's own collector does) → key →
// environment (401; the same keys as the OTLP port: `x-honeycomb-team: KEY` or `Authorization:
// Bearer KEY`) → Content-Encoding undone (gzip, deflate, zstd) with a cap on the decompressed size
// (413; corrupt stream 400; unknown encoding 415) → DecodeZipkinJson or DecodeZipkinProto3 (400
// when the body is not a JSON array / a ListOfSpans) → Pipeline::Submit.
//
// Answers are Zipkin's: 202 Accepted with an empty body once the store has made the spans durable
// (or, when some spans were refused, a text body saying which and why); 400 with a text message
// when no span of the request could be stored; 503 + Retry-After when the store cannot keep up.
// Every answer is counted on /metrics under receiver="zipkin".
//
// The route/type/key checks also run from the headers alone (AsHeaderCheck), before the body.
//
// Threads: Handle and the header check run on the HTTP server's I/O threads; the answer may be sent
// from the store's commit thread. The pipeline and keys must outlive the server using this handler.
#pragma once

#include <cstddef>
#include <string>

#include "net/http_server.h"
#include "pipeline/keys.h"
#include "pipeline/pipeline.h"

namespace ariadne::receivers::zipkin {

struct ZipkinReceiverOptions {
  // Cap on the body after Content-Encoding is undone (the raw body cap is the HTTP server's).
  size_t max_decompressed_bytes = 64 * 1024 * 1024;
  // Seconds in the Retry-After header of a 503.
  int retry_after_seconds = 1;
  // Label on /metrics.
  std::string receiver_name = "zipkin";
};

class ZipkinReceiver {
 public:
  ZipkinReceiver(pipeline::Pipeline* pipeline, const pipeline::KeyRegistry* keys,
                 ZipkinReceiverOptions options = {});

  void Handle(net::HttpRequest&& request, net::Responder respond);

  // A handler for net::HttpServer::Start that forwards to Handle.
  net::HttpHandler AsHandler();
  // For HttpServerOptions::on_headers: answers 404/405/415/401 from the headers alone, so a
  // request without a valid key never has its body read.
  net::HeaderCheck AsHeaderCheck();

 private:
  pipeline::Pipeline* pipeline_;
  const pipeline::KeyRegistry* keys_;
  ZipkinReceiverOptions options_;
};

}  // namespace ariadne::receivers::zipkin
