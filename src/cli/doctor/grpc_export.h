// One OTLP/gRPC Export call, the way a gRPC exporter makes it: `TraceService/Export` on HOST:PORT
// with the given metadata (the key as `x-honeycomb-team` or `authorization`), over TLS when asked
// (verified against `ca_file`, or the system's roots when empty). `ariadne doctor` uses it to
// check an OTEL_EXPORTER_OTLP_PROTOCOL=grpc setup for real. gRPC headers stay in the .cc file.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ariadne::cli::doctor {

struct GrpcTarget {
  std::string host;
  uint16_t port = 0;
  bool tls = false;
  std::string ca_file;  // PEM roots for TLS; "" = the system's trust store
  bool verify = true;   // false: TLS without checking the certificate (--insecure)
};

struct GrpcAnswer {
  int code = 0;          // gRPC status code (0 OK, 14 UNAVAILABLE, 16 UNAUTHENTICATED, …)
  std::string message;   // the status message
  std::string response;  // the response message bytes (ExportTraceServiceResponse) when OK
};

// Sends `request` (an encoded ExportTraceServiceRequest) and waits at most `timeout` for the
// answer. Never fails as a whole: a connection problem is UNAVAILABLE (or DEADLINE_EXCEEDED), as a
// gRPC exporter sees it.
GrpcAnswer ExportOverGrpc(const GrpcTarget& target, const std::string& request,
                          const std::vector<std::pair<std::string, std::string>>& metadata,
                          std::chrono::milliseconds timeout);

// Whether a TCP connection to host:port opens within `timeout`: tells "nothing listens" from
// "something listens but does not speak gRPC".
bool TcpConnects(const std::string& host, uint16_t port, std::chrono::milliseconds timeout);

// The name of a gRPC status code ("UNAUTHENTICATED").
std::string GrpcCodeName(int code);

}  // namespace ariadne::cli::doctor
