// OTLP/HTTP protobuf exporter: encodes spans as an ExportTraceServiceRequest by hand (field numbers
// from protocols.md §1.6; no libprotobuf dependency) and POSTs them with libcurl, optionally
// gzip-compressed, retrying 429/502/503/504 and transport errors with exponential backoff and
// jitter, honouring Retry-After, within the per-export timeout.
//
// Configuration (protocols.md §1.7): OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (as is) or
// OTEL_EXPORTER_OTLP_ENDPOINT (+ "/v1/traces"), OTEL_EXPORTER_OTLP_HEADERS and
// OTEL_EXPORTER_OTLP_TRACES_HEADERS, OTEL_EXPORTER_OTLP_COMPRESSION=gzip,
// OTEL_EXPORTER_OTLP_TIMEOUT (ms), OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE or
// OTEL_EXPORTER_OTLP_CERTIFICATE (a PEM CA file for an https:// endpoint, e.g. the self-signed
// certificate of `ariadne serve --tls-cert`; without it the system's trust store is used).
//
// Threads: Export is called by one processor thread at a time.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "ariadne/sdk/exporter.h"

namespace ariadne::sdk {

struct OtlpHttpExporterOptions {
  std::string url = "http://localhost:4318/v1/traces";
  std::vector<std::pair<std::string, std::string>> headers;
  bool gzip = false;
  std::chrono::milliseconds timeout{10000};  // budget for one Export including retries
  int max_attempts = 6;
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{32000};
  std::string ca_file;  // PEM CA certificate(s) for an https:// url; empty: system trust store

  static OtlpHttpExporterOptions FromEnvironment();
};

// The traces URL from the two endpoint variables' values (either may be empty).
std::string ResolveOtlpTracesUrl(std::string_view generic_endpoint,
                                 std::string_view traces_endpoint);

// Parses a Retry-After value (delta-seconds or HTTP-date) into a delay; negative when absent or
// malformed.
std::chrono::milliseconds ParseRetryAfter(std::string_view value);

// Appends the protobuf encoding of an ExportTraceServiceRequest holding `spans` (grouped by
// resource and instrumentation scope) to `out`.
void EncodeExportTraceServiceRequest(std::span<const SpanDataRef> spans, std::string& out);

// gzip (RFC 1952) of `data`.
std::string GzipCompress(std::string_view data);

class OtlpHttpExporter final : public SpanExporter {
 public:
  explicit OtlpHttpExporter(OtlpHttpExporterOptions options);
  ~OtlpHttpExporter() override;

  ExportResult Export(std::span<const SpanDataRef> spans) override;
  void Shutdown() override;

  const OtlpHttpExporterOptions& options() const { return options_; }

  // Counters for tests and diagnostics.
  uint64_t requests_sent() const { return requests_.load(); }
  uint64_t failed_exports() const { return failures_.load(); }
  // Delays slept between attempts, most recent export.
  std::vector<std::chrono::milliseconds> last_retry_delays() const;
  std::string last_error() const;

  // Replaces the sleep between retries (tests measure instead of waiting).
  void SetSleepForTest(std::function<void(std::chrono::milliseconds)> sleep);

 private:
  OtlpHttpExporterOptions options_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> failures_{0};
  std::atomic<bool> shut_down_{false};
  mutable std::mutex stats_mu_;
  std::vector<std::chrono::milliseconds> last_delays_;
  std::string last_error_;
  std::function<void(std::chrono::milliseconds)> sleep_;
};

}  // namespace ariadne::sdk
