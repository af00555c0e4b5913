// OTLP/gRPC trace receiver: `opentelemetry.proto.collector.trace.v1.TraceService/Export` on port
// 4317, served by gRPC C++'s callback API.
//
// Per call: key from the metadata (`x-honeycomb-team`, or `authorization: Bearer KEY`) →
// environment (UNAUTHENTICATED) → the raw request bytes, already un-gzipped by gRPC
// (`grpc-encoding: gzip`), capped at `max_decompressed_bytes` by gRPC itself (RESOURCE_EXHAUSTED,
// no RetryInfo: never retried) → the same zero-copy protobuf walker as OTLP/HTTP
// (otlp::DecodeProtobufRequest; libprotobuf never parses the request: the method is registered
// as a raw ByteBuffer method) → Pipeline::Submit. The call completes only after the pipeline
// reports the spans durable: OK with an ExportTraceServiceResponse (partial_success set when
// spans were rejected). Undecodable bytes are INVALID_ARGUMENT; when the store cannot keep up
// (the HTTP receiver's 503 cases) the answer is UNAVAILABLE, or RESOURCE_EXHAUSTED when the store
// said so, both with a google.rpc.RetryInfo detail so clients retry after `retry_after_seconds`.
// Other methods and services are UNIMPLEMENTED (gRPC's own answer).
//
// Connections: with `max_connections` the listening socket is ConnectionGate's, which closes a
// connection beyond the cap at once and hands the others to gRPC; without it gRPC listens itself.
//
// TLS (optional): the certificate and key are checked here (the key must belong to the
// certificate), then written as one PEM file into `tls_state_dir` that gRPC's file watcher
// re-reads every `tls_refresh_seconds`. ReloadTls() re-reads the operator's files and replaces that
// copy atomically only when the new pair is valid, so a bad pair never reaches gRPC; new
// connections use the new pair within `tls_refresh_seconds`, open ones keep theirs.
//
// Metrics: every answer is counted in IngestMetrics::RecordRequest(receiver_name, code) with the
// HTTP equivalent of its gRPC status (200 OK, 400 INVALID_ARGUMENT, 401 UNAUTHENTICATED, 429
// RESOURCE_EXHAUSTED, 503 UNAVAILABLE, 500 INTERNAL), so /metrics shows both receivers alike;
// spans are counted by the pipeline.
//
// gRPC and protobuf headers stay in the .cc files of this folder.
//
// Threads: calls run on gRPC's callback threads and complete on the store's commit thread. Stop()
// and ReloadTls() are called by the owner, one at a time (any thread). The pipeline, keys and
// metrics must outlive the server.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "receivers/otlp_grpc/connection_gate.h"

namespace ariadne::pipeline {
class KeyRegistry;
class Pipeline;
}  // namespace ariadne::pipeline

namespace ariadne::receivers::otlp_grpc {

struct OtlpGrpcOptions {
  // Largest request message after gzip is undone (gRPC answers RESOURCE_EXHAUSTED beyond).
  size_t max_decompressed_bytes = 64 * 1024 * 1024;
  // retry_delay of the RetryInfo detail on UNAVAILABLE / RESOURCE_EXHAUSTED.
  int retry_after_seconds = 1;
  // Label on /metrics.
  std::string receiver_name = "otlp_grpc";
  // Connections idle this long are closed (0: never).
  int idle_timeout_seconds = 60;
  // Concurrent calls per connection at most.
  int max_concurrent_streams = 100;
  // Open connections at most (connection_gate.h): more are closed at once, open ones are kept.
  // 0: no bound (gRPC's own listener).
  size_t max_connections = 0;
  // TLS: PEM certificate chain and private key, both or neither (plaintext).
  std::string tls_cert_file;
  std::string tls_key_file;
  // Directory (created 0700) for the PEM copy gRPC watches; required with TLS.
  std::string tls_state_dir;
  int tls_refresh_seconds = 1;
};

class OtlpGrpcServer {
 public:
  // Binds `host:port` (port 0: a free port) and starts serving. kInvalidArgument for a bad
  // certificate/key, kUnavailable when the address cannot be bound.
  static Result<std::unique_ptr<OtlpGrpcServer>> Start(const std::string& host, uint16_t port,
                                                       pipeline::Pipeline* pipeline,
                                                       const pipeline::KeyRegistry* keys,
                                                       OtlpGrpcOptions options);
  ~OtlpGrpcServer();
  OtlpGrpcServer(const OtlpGrpcServer&) = delete;
  OtlpGrpcServer& operator=(const OtlpGrpcServer&) = delete;

  // Stops accepting calls, cancels the ones still waiting after a short grace period and waits
  // for their handlers. Idempotent.
  void Stop();

  // Re-reads the certificate and key (see the header comment). OK without TLS (nothing to do).
  Status ReloadTls();

  const std::string& bound_host() const;
  uint16_t bound_port() const;
  bool tls() const;
  // Connections open, accepted and refused (all zero without max_connections).
  ConnectionGateStats connection_stats() const;

  struct Impl;

 private:
  explicit OtlpGrpcServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ariadne::receivers::otlp_grpc
