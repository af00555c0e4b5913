// XrayService: everything behind `ariadne serve --xray HOST:PORT` in one object — the durable
// groups/rules store (<data-dir>/xray-config.json, or ClickHouse's xray_config table), the
// sampling-targets state, the X-Ray API on TCP and the daemon protocol on UDP, both on the same
// port number (TCP is bound first; with port 0 UDP then takes the port TCP got, retrying with a
// fresh port if that UDP port is taken).
//
// Threads: Start/Stop from the serving thread; the listeners run their own threads. The pipeline
// and store must outlive the service.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "net/http_server.h"
#include "pipeline/pipeline.h"
#include "sampling/config_backend.h"
#include "sampling/sampling_targets.h"
#include "store/span_store.h"

namespace ariadne::receivers::xray {

struct XrayServiceConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 2000;
  std::string environment = "default";
  std::string access_key;  // "ID:SECRET"; empty = signatures not checked
  // "ID:SECRET" of a key allowed the read operations only (needs access_key).
  std::string read_access_key;
  std::string data_dir;
  // Where groups and sampling rules live: null = <data_dir>/xray-config.json; `ariadne serve
  // --store clickhouse://…` passes the shared ClickHouse table
  // (store/clickhouse/xray_config_table.h).
  std::function<std::unique_ptr<sampling::XrayConfigBackend>()> config_backend;
  // Sampling statistics shared with other nodes (the reservoir split across the fleet); null =
  // this node's clients only.
  std::function<std::unique_ptr<sampling::FleetStatistics>()> fleet_statistics;
  int io_threads = 1;
  size_t max_body_bytes = 8 * 1024 * 1024;
  size_t max_connections = 256;  // of the TCP listener (0: no bound)
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(60);
  // HTTPS on the X-Ray API (TCP) listener; null = plain HTTP. UDP is unaffected.
  std::shared_ptr<net::TlsServerContext> tls;
};

class XrayService {
 public:
  virtual ~XrayService() = default;

  static Result<std::unique_ptr<XrayService>> Start(const XrayServiceConfig& config,
                                                    pipeline::Pipeline* pipeline,
                                                    store::SpanStore* store);

  // "127.0.0.1:2000" as bound (the same port for UDP and TCP).
  virtual std::string address() const = 0;
  // One line for the operator about request signing.
  virtual std::string auth_note() const = 0;
  // The X-Ray API for in-process callers that authenticated their user themselves (the web UI's
  // /api/v1/xray/<Operation> route on the query port, behind its key checks): the same operations
  // as the TCP listener, without asking for a SigV4 signature.
  virtual void HandleTrusted(net::HttpRequest&& request, net::Responder respond) = 0;
  // The /api/v1/xray/... views for the query port (see XrayApiHandler::HandleQuery).
  virtual void HandleQuery(net::HttpRequest&& request, net::Responder respond) = 0;
  // The X-Ray API listener's connection counters.
  virtual net::HttpServerStats tcp_stats() const = 0;
  // ariadne_xray_* counters in Prometheus text format.
  virtual void AppendPrometheus(std::string* out) const = 0;
  virtual void Stop() = 0;
};

}  // namespace ariadne::receivers::xray
