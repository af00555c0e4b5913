// The `ariadne` subcommands as plain functions; src/cli/main.cc (the only CLI11 user) parses the
// command line into these configs and calls them. Each returns the process exit code and prints
// errors that say what to do next.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace ariadne::cli {

struct ListenAddress {
  std::string host;
  uint16_t port = 0;
};

// "HOST:PORT", "[v6]:PORT", ":PORT" or "PORT"; a missing host is `default_host`.
Result<ListenAddress> ParseListenAddress(const std::string& text, const std::string& default_host);

struct ServeConfig {
  std::string data_dir = "./ariadne-data";
  std::string listen_host = "127.0.0.1";
  std::string otlp_http = "4318";
  std::string otlp_grpc = "4317";  // OTLP/gRPC TraceService/Export
  std::string http = "8686";
  std::string keys_file;  // extra keys file besides <data-dir>/keys.json
  size_t max_body_bytes = 16 * 1024 * 1024;
  size_t max_decompressed_bytes = 64 * 1024 * 1024;
  int io_threads = 2;
  std::string ui_dir;  // the built web UI; empty: ui/dist beside the build (api::DefaultUiDir)
  std::string xray = "2000";  // X-Ray daemon (UDP) + X-Ray API (TCP), same port
  std::string xray_environment = "default";
  std::string xray_access_key;  // ID:SECRET; empty = X-Ray API signatures not checked
  // ID:SECRET of a second X-Ray API key that may only call the read operations.
  std::string xray_read_access_key;
  std::string zipkin = "9411";  // Zipkin v2 listener (POST /api/v2/spans); "" or "off": none
  size_t zipkin_max_connections = 256;
  // One memory budget split into shares (cli/memory_budget.h); the limits below that are not set
  // explicitly (the *_set flags) derive from it.
  uint64_t memory_limit_bytes = 1ULL << 30;
  bool query_memory_limit_set = false;
  bool otlp_max_buffered_bytes_set = false;
  bool max_inflight_bytes_set = false;
  // Query limits (api::QueryRoutesOptions; defaults there and in query/exec_context.h).
  size_t query_max_groups = 10'000;
  uint64_t query_memory_limit_bytes = 256ULL << 20;
  size_t query_concurrency = 2;
  size_t query_queue = 64;
  // Availability limits (issue 10): connections, body bytes, in-flight ingest.
  size_t otlp_max_connections = 512;
  size_t otlp_grpc_max_connections = 512;  // --otlp-grpc-max-connections
  size_t http_max_connections = 256;
  size_t xray_max_connections = 256;
  size_t otlp_max_buffered_bytes = 256 * 1024 * 1024;
  int idle_timeout_seconds = 60;
  size_t max_inflight_bytes = 512 * 1024 * 1024;
  // Access control (docs/security.md).
  bool allow_open = false;                // serve a non-loopback address without any key
  std::vector<std::string> public_urls;   // names the API/UI answers to besides loopback/IPs
  std::vector<std::string> cors_origins;  // browser origins allowed to send OTLP spans
  // Store retention and recovery (issue 11; cli/store_config.h, docs/operations.md).
  std::string retention;     // e.g. 7d; empty: --store-config's, else keep until max-disk
  std::string max_disk;      // e.g. 50GiB; empty: --store-config's, else auto
  std::string store_config;  // JSON with per-environment retention / max_disk
  bool recover_manifest = false;
  // The embedded store's trace-summary index (EmbeddedStoreOptions::trace_index); on unless
  // --no-trace-index.
  bool trace_index = true;
  // Which engine holds the spans: "embedded" (in --data-dir) or a clickhouse:// URL
  // (docs/clickhouse.md).
  std::string store = "embedded";
  // TLS (docs/tls.md): PEM certificate chain and key for every TCP listener (OTLP/HTTP, API/UI,
  // X-Ray API); both or neither. Reloaded on SIGHUP.
  std::string tls_cert;
  std::string tls_key;
  // Which listeners use them: a comma list of otlp-http, otlp-grpc, http, xray, zipkin. (X-Ray SDKs
  // ask the X-Ray port for sampling rules over plain HTTP; leave xray out for them.)
  std::string tls_listeners = "otlp-http,otlp-grpc,http,xray,zipkin";
};
int RunServe(const ServeConfig& config);

// How the CLI's clients check an https:// server: `ca_file` (PEM) instead of the system's trust
// store; `insecure` skips verification.
struct ClientTlsConfig {
  std::string ca_file;
  bool insecure = false;
};

struct TraceConfig {
  std::string trace_id;
  std::string server = "http://127.0.0.1:8686";
  std::string environment;
  std::string key;  // read key (--key, else $ARIADNE_KEY)
  bool json = false;
  ClientTlsConfig tls;
};
int RunTrace(const TraceConfig& config);

struct QueryConfig {
  std::string server = "http://127.0.0.1:8686";
  std::string file;  // a JSON spec; flags override its fields
  uint64_t time_range = 0;
  std::vector<std::string> calculations;  // "COUNT", "P99(duration_ms)"
  std::vector<std::string> filters;       // "http.status_code >= 500"
  bool filter_or = false;
  std::vector<std::string> breakdowns;
  std::vector<std::string> orders;   // "P99(duration_ms) desc", "service.name"
  std::vector<std::string> havings;  // "COUNT > 10"
  uint64_t limit = 0;
  std::string dataset;
  std::string environment;
  std::string key;  // read key (--key, else $ARIADNE_KEY)
  bool json = false;
  ClientTlsConfig tls;
};
int RunQuery(const QueryConfig& config);

struct KeysConfig {
  std::string data_dir = "./ariadne-data";
  std::string keys_file;  // overrides <data-dir>/keys.json
  std::string environment;
  std::string role = "ingest";  // ingest | read | admin
  std::string id_or_prefix;     // keys revoke
};
int RunKeysCreate(const KeysConfig& config);
int RunKeysList(const KeysConfig& config);
int RunKeysRevoke(const KeysConfig& config);

// The read key for API calls: `flag` when set, else $ARIADNE_KEY, else "".
std::string ApiKeyFrom(const std::string& flag);

struct DoctorConfig {
  std::string server = "http://127.0.0.1:8686";  // query API the test spans are read back from
  double timeout_seconds = 10;                   // how long to wait for each test span
  std::string key;  // read key for reading the test spans back (--key, else $ARIADNE_KEY)
  bool json = false;
  ClientTlsConfig tls;  // for https:// servers; OTEL_EXPORTER_OTLP_CERTIFICATE also counts
};
// Checks the tracing environment variables of the calling shell, sends test spans through OTLP
// and X-Ray, reads them back; 0 when everything works, 1 when it found a problem.
int RunDoctor(const DoctorConfig& config);

struct CompactConfig {
  std::string data_dir = "./ariadne-data";
  bool include_recent = false;  // also merge windows that have not settled (the current hour)
  bool trace_index = true;      // write trace-summary side files for merged blocks, as serve does
};
// Merges the small blocks of a stopped server's data directory; 0 when done, 1 on an error.
int RunCompact(const CompactConfig& config);

// <data-dir>/keys.json unless `keys_file` is set.
std::string KeysPath(const std::string& data_dir, const std::string& keys_file);

}  // namespace ariadne::cli
