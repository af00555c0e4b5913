// `ariadne serve`: opens the embedded store, starts the OTLP/HTTP and OTLP/gRPC receivers and the
// query API, and runs until SIGTERM/SIGINT, then stops the listeners and closes the store (flush +
// WAL close). SIGHUP reloads the TLS certificate and key (--tls-cert/--tls-key) without closing a
// listener.
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>

#include "api/api_handler.h"
#include "api/auth.h"
#include "api/jaeger_routes.h"
#include "api/static_files.h"
#include "cli/commands.h"
#include "cli/memory_budget.h"
#include "cli/store_config.h"
#include "net/http_server.h"
#include "net/tls.h"
#include "pipeline/keys.h"
#include "pipeline/memory_trimmer.h"
#include "pipeline/metrics.h"
#include "pipeline/pipeline.h"
#include "query/exec/query_budget.h"
#include "receivers/honeycomb/events_receiver.h"
#include "receivers/otlp_grpc/otlp_grpc_server.h"
#include "receivers/otlp_http/otlp_http_receiver.h"
#include "receivers/xray/xray_service.h"
#include "receivers/zipkin/zipkin_receiver.h"
#include "store/clickhouse/clickhouse_store.h"
#include "store/clickhouse/xray_config_table.h"
#include "store/embedded/embedded_store.h"

namespace ariadne::cli {

std::string KeysPath(const std::string& data_dir, const std::string& keys_file) {
  if (!keys_file.empty()) return keys_file;
  return (std::filesystem::path(data_dir) / "keys.json").string();
}

Result<ListenAddress> ParseListenAddress(const std::string& text, const std::string& default_host) {
  std::string host = default_host;
  std::string port_text = text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Status::InvalidArgument("bad address '" + text + "': use [IPv6]:PORT");
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else if (size_t colon = text.rfind(':'); colon != std::string::npos) {
    if (colon > 0) host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port_text) > 65535) {
    return Status::InvalidArgument("bad address '" + text +
                                   "': expected HOST:PORT or PORT (0-65535), e.g. 127.0.0.1:4318");
  }
  return ListenAddress{host, static_cast<uint16_t>(std::stoul(port_text))};
}

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "ariadne serve: %s\n", message.c_str());
  return 1;
}

// --store clickhouse://…: connects, creates the schema when missing and says what it created.
Result<std::unique_ptr<store::SpanStore>> OpenClickHouse(const ServeConfig& config,
                                                         std::string* summary) {
  ARIADNE_ASSIGN_OR_RETURN(store::clickhouse::ClickHouseConfig ch,
                           store::clickhouse::ParseClickHouseUrl(config.store));
  store::clickhouse::ClickHouseStoreOptions options;
  options.config = ch;
  options.wait_for_clickhouse = true;  // unreachable at start: serve, not ready, keep trying
  if (!config.retention.empty()) {
    ARIADNE_ASSIGN_OR_RETURN(options.retention_nano, ParseDurationNanos(config.retention));
  }
  std::vector<std::string> created;
  auto opened = store::clickhouse::OpenClickHouseStore(options, &created);
  if (!opened.ok())
    return Status::Unavailable("cannot open the ClickHouse store: " +
                               std::string(opened.status().message()));
  for (const std::string& line : created)
    std::fprintf(stderr, "ariadne: clickhouse: created %s\n", line.c_str());
  if (Status ready = (*opened)->Ready(); !ready.ok())
    std::fprintf(stderr,
                 "ariadne: clickhouse: %s; until then ingest answers 503 and GET /readyz 503\n",
                 std::string(ready.message()).c_str());
  std::string hosts;
  for (const auto& h : ch.hosts)
    hosts += (hosts.empty() ? "" : ",") + h.host + ":" + std::to_string(h.port);
  *summary = "clickhouse " + hosts + " database " + ch.database +
             (ch.cluster.empty() ? "" : " cluster " + ch.cluster + " (Distributed tables)") +
             (!(*opened)->Ready().ok() ? " (not reachable yet)"
              : created.empty()        ? " (schema found)"
                                       : " (schema created)") +
             ", retention " +
             (options.retention_nano ? config.retention + " (drops day partitions)" : "off");
  return std::unique_ptr<store::SpanStore>(std::move(opened).value());
}

std::string Display(const net::HttpServer& server) {
  std::string host = server.bound_host();
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return (server.tls() ? "https://" : "") + host + ":" + std::to_string(server.bound_port());
}

// --tls-cert/--tls-key/--tls-listeners → the context (null without TLS) and which listeners use it.
struct ServeTls {
  std::shared_ptr<net::TlsServerContext> context;
  bool otlp = false;
  bool grpc = false;
  bool http = false;
  bool xray = false;
  bool zipkin = false;
};

Result<ServeTls> LoadServeTls(const ServeConfig& config) {
  ServeTls tls;
  if (config.tls_cert.empty() != config.tls_key.empty()) {
    return Status::InvalidArgument(
        "--tls-cert and --tls-key go together: give the PEM certificate and its private key");
  }
  if (config.tls_cert.empty()) return tls;
  size_t start = 0;
  while (start <= config.tls_listeners.size()) {
    size_t comma = config.tls_listeners.find(',', start);
    std::string name = config.tls_listeners.substr(
        start, comma == std::string::npos ? std::string::npos : comma - start);
    if (name == "otlp-http") {
      tls.otlp = true;
    } else if (name == "otlp-grpc") {
      tls.grpc = true;
    } else if (name == "http") {
      tls.http = true;
    } else if (name == "xray") {
      tls.xray = true;
    } else if (name == "zipkin") {
      tls.zipkin = true;
    } else if (!name.empty()) {
      return Status::InvalidArgument("--tls-listeners: unknown listener '" + name +
                                     "'; use a comma list of otlp-http, otlp-grpc, http, xray, "
                                     "zipkin");
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  ARIADNE_ASSIGN_OR_RETURN(tls.context,
                           net::TlsServerContext::Load(config.tls_cert, config.tls_key));
  return tls;
}

// Raises the soft open-files limit to the hard limit: every connection costs a descriptor, and
// the default soft limit (often 1024) is far below what the listeners' caps allow together.
void RaiseFileLimit() {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    struct rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  std::fprintf(stderr, "ariadne: open file limit %llu\n",
               static_cast<unsigned long long>(limit.rlim_cur));
}

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::string InflightPrometheus(const pipeline::InflightBudget* inflight,
                               const pipeline::MemoryTrimmer* trimmer) {
  std::string out;
  out +=
      "# HELP ariadne_memory_trims_total Times freed heap was returned to the system after an "
      "ingest burst.\n";
  out += "# TYPE ariadne_memory_trims_total counter\n";
  out += "ariadne_memory_trims_total " + std::to_string(trimmer->trims()) + "\n";
  out += "# HELP ariadne_ingest_inflight_bytes Ingest bytes accepted but not yet durable.\n";
  out += "# TYPE ariadne_ingest_inflight_bytes gauge\n";
  out += "ariadne_ingest_inflight_bytes " + std::to_string(inflight->in_flight_bytes()) + "\n";
  out += "# HELP ariadne_ingest_inflight_spans Spans accepted but not yet durable.\n";
  out += "# TYPE ariadne_ingest_inflight_spans gauge\n";
  out += "ariadne_ingest_inflight_spans " + std::to_string(inflight->in_flight_spans()) + "\n";
  return out;
}

}  // namespace

int RunServe(const ServeConfig& config) {
  RaiseFileLimit();
  auto otlp_address = ParseListenAddress(config.otlp_http, config.listen_host);
  if (!otlp_address.ok())
    return Fail("--otlp-http: " + std::string(otlp_address.status().message()));
  auto grpc_address = ParseListenAddress(config.otlp_grpc, config.listen_host);
  if (!grpc_address.ok())
    return Fail("--otlp-grpc: " + std::string(grpc_address.status().message()));
  auto http_address = ParseListenAddress(config.http, config.listen_host);
  if (!http_address.ok()) return Fail("--http: " + std::string(http_address.status().message()));
  auto xray_address = ParseListenAddress(config.xray, config.listen_host);
  if (!xray_address.ok()) return Fail("--xray: " + std::string(xray_address.status().message()));
  // --zipkin '' or off: no Zipkin listener.
  const bool zipkin_enabled = !config.zipkin.empty() && config.zipkin != "off";
  auto zipkin_address =
      ParseListenAddress(zipkin_enabled ? config.zipkin : "0", config.listen_host);
  if (!zipkin_address.ok()) {
    return Fail("--zipkin: " + std::string(zipkin_address.status().message()) +
                " (or off to run without the Zipkin listener)");
  }

  // Spans, keys and settings are private: everything the server creates is owner-only (0700
  // directories, 0600 files), whatever the caller's umask.
  umask(077);

  auto tls = LoadServeTls(config);
  if (!tls.ok()) return Fail(std::string(tls.status().message()));

  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    return Fail("cannot create data directory " + config.data_dir + ": " + ec.message() +
                " (choose another with --data-dir)");
  }
  if (chmod(config.data_dir.c_str(), 0700) != 0) {
    std::fprintf(stderr, "ariadne: WARNING: cannot make %s owner-only (chmod 0700 failed)\n",
                 config.data_dir.c_str());
  }

  // Keys: <data-dir>/keys.json plus --keys-file; plain-text keys files are rewritten hashed.
  pipeline::KeyRegistry keys;
  for (const std::string& path : {KeysPath(config.data_dir, ""), config.keys_file}) {
    if (path.empty()) continue;
    if (!config.keys_file.empty() && path == config.keys_file && !std::filesystem::exists(path)) {
      return Fail("keys file " + path +
                  " does not exist (create keys with `ariadne keys create "
                  "--env NAME --keys-file " +
                  path + "`)");
    }
    auto loaded = pipeline::KeyRegistry::LoadFileMigrating(path);
    if (!loaded.ok()) return Fail(std::string(loaded.status().message()));
    Status merged = keys.Merge(*loaded);
    if (!merged.ok()) return Fail(std::string(merged.message()));
  }
  // Without keys anyone who reaches a port reads and writes everything: only on loopback, unless
  // the operator says so.
  if (keys.empty() && !config.allow_open) {
    for (const ListenAddress* address :
         {&*otlp_address, &*grpc_address, &*http_address, &*zipkin_address}) {
      if (IsLoopbackHost(address->host)) continue;
      return Fail("refusing to listen on " + address->host +
                  " without any key: anyone who can reach it could read every trace and change "
                  "sampling. Create keys first (`ariadne keys create --role admin --data-dir " +
                  config.data_dir +
                  "`, and `--role ingest --env NAME` for senders), or pass "
                  "--allow-open to serve it open on purpose (see docs/security.md)");
    }
  }
  for (const std::string& url : config.public_urls) {
    if (api::OriginOfUrl(url).empty()) {
      return Fail("--public-url " + url +
                  ": expected an http(s) URL such as "
                  "https://tracing.example.com");
    }
  }

  // Block the stop signals before any thread starts, so only sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGHUP);  // reload, handled in the loop at the end
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // One memory budget: the shares that no flag sets explicitly derive from --memory-limit.
  const MemoryShares shares =
      SplitMemoryLimit(config.memory_limit_bytes, config.query_concurrency, config.trace_index);
  const uint64_t query_memory_limit =
      config.query_memory_limit_set ? config.query_memory_limit_bytes : shares.query_per_query;
  const size_t max_inflight_bytes =
      config.max_inflight_bytes_set ? config.max_inflight_bytes : shares.ingest_inflight;
  const size_t otlp_max_buffered_bytes =
      config.otlp_max_buffered_bytes_set ? config.otlp_max_buffered_bytes : shares.otlp_buffered;

  store::embedded::EmbeddedStoreOptions store_options;
  store_options.data_dir = config.data_dir;
  store_options.head_max_spans = shares.head_max_spans;
  store_options.max_head_spans_while_sealing = shares.head_spans_while_sealing;
  store_options.max_wal_buffer_bytes = shares.wal_buffered;
  store_options.column_cache_bytes = shares.column_cache;
  store_options.trace_index = config.trace_index;
  store_options.trace_summary_bytes = shares.trace_summaries;
  store_options.graph_max_unpaired = shares.graph_max_unpaired;
  store_options.recover_manifest = config.recover_manifest;
  std::string retention_summary;
  auto retention = BuildRetentionConfig({config.retention, config.max_disk, config.store_config},
                                        config.data_dir, &retention_summary);
  if (!retention.ok()) return Fail(std::string(retention.status().message()));
  store_options.maintenance.retention = *retention;
  store_options.maintenance.compaction.enabled = true;
  const bool clickhouse = config.store.rfind("clickhouse://", 0) == 0;
  if (!clickhouse && !config.store.empty() && config.store != "embedded")
    return Fail("--store " + config.store +
                ": expected `embedded` (the default) or clickhouse://HOST:PORT/DATABASE");
  auto open_embedded = [&]() -> Result<std::unique_ptr<store::SpanStore>> {
    auto embedded = store::embedded::OpenEmbeddedStore(store_options);
    if (!embedded.ok()) return embedded.status();
    return std::unique_ptr<store::SpanStore>(std::move(embedded).value());
  };
  auto opened = clickhouse ? OpenClickHouse(config, &retention_summary) : open_embedded();
  if (!opened.ok() && clickhouse) return Fail(std::string(opened.status().message()));
  if (!opened.ok()) {
    return Fail("cannot open the span store in " + config.data_dir + ": " +
                std::string(opened.status().message()));
  }
  std::unique_ptr<store::SpanStore> span_store = std::move(opened).value();

  pipeline::IngestMetrics metrics;
  pipeline::PipelineOptions pipeline_options;
  pipeline_options.max_inflight_bytes = max_inflight_bytes;
  pipeline::Pipeline pipeline(span_store.get(), &metrics, pipeline_options);
  // After an ingest burst, give the freed heap back (RSS otherwise stays at the burst's peak).
  // A burst: in-flight bytes reached half the bound (or 64 MiB, whichever is less).
  const size_t burst_bytes =
      max_inflight_bytes == 0 ? size_t{64} * 1024 * 1024
                              : std::min<size_t>(size_t{64} * 1024 * 1024, max_inflight_bytes / 2);
  // Seals and compactions free a head or merged blocks at once: trim after those too.
  std::function<uint64_t()> bulk_free_events;
  if (store::StoreAdmin* admin = span_store->Admin()) {
    bulk_free_events = [admin] {
      const store::StoreStats stats = admin->Stats();
      return stats.blocks + stats.compactions + stats.retention_blocks_removed;
    };
  }
  pipeline::MemoryTrimmer trimmer(&pipeline.inflight(), burst_bytes, std::move(bulk_free_events));
  receivers::otlp_http::OtlpHttpOptions otlp_options;
  otlp_options.max_decompressed_bytes = config.max_decompressed_bytes;
  otlp_options.cors_origins = config.cors_origins;
  receivers::otlp_http::OtlpHttpReceiver otlp_receiver(&pipeline, &keys, otlp_options);
  // The Honeycomb Events API (/1/events, /1/batch, /1/auth) shares the OTLP/HTTP port.
  receivers::honeycomb::EventsOptions events_options;
  events_options.max_decompressed_bytes = config.max_decompressed_bytes;
  receivers::honeycomb::EventsReceiver events_receiver(&pipeline, &keys, events_options);
  api::QueryRoutesOptions query_options;
  query_options.concurrency = config.query_concurrency;
  query_options.max_queued = config.query_queue;
  query_options.limits.max_groups = config.query_max_groups;
  query_options.limits.memory_limit_bytes = query_memory_limit;
  api::ApiHandler api_handler(span_store.get(), &metrics, query_options);
  // The Jaeger-compatible query API (/api/services, /api/traces, …) in front of the API routes.
  api::JaegerRoutesOptions jaeger_options;
  jaeger_options.threads = config.query_concurrency;
  jaeger_options.max_queued = config.query_queue;
  jaeger_options.limits = query_options.limits;
  api::JaegerRoutes jaeger_routes(span_store.get(), jaeger_options);
  api::StaticFiles ui_files(config.ui_dir.empty() ? api::DefaultUiDir() : config.ui_dir);

  net::HttpServerOptions otlp_server_options;
  otlp_server_options.name = "otlp-http";
  otlp_server_options.max_body_bytes = config.max_body_bytes;
  otlp_server_options.io_threads = config.io_threads;
  otlp_server_options.max_connections = config.otlp_max_connections;
  otlp_server_options.max_buffered_bytes = otlp_max_buffered_bytes;
  otlp_server_options.idle_timeout = std::chrono::seconds(config.idle_timeout_seconds);
  otlp_server_options.on_headers = events_receiver.MountHeaderCheck(otlp_receiver.AsHeaderCheck());
  if (tls->otlp) otlp_server_options.tls = tls->context;
  auto otlp_server =
      net::HttpServer::Start(otlp_address->host, otlp_address->port,
                             events_receiver.Mount(otlp_receiver.AsHandler()), otlp_server_options);
  if (!otlp_server.ok()) {
    (void)span_store->Close();
    return Fail(std::string(otlp_server.status().message()));
  }
  // OTLP/gRPC (TraceService/Export) feeds the same pipeline with the same keys.
  receivers::otlp_grpc::OtlpGrpcOptions grpc_options;
  grpc_options.max_decompressed_bytes = config.max_decompressed_bytes;
  grpc_options.idle_timeout_seconds = config.idle_timeout_seconds;
  grpc_options.max_connections = config.otlp_grpc_max_connections;
  if (tls->grpc) {
    grpc_options.tls_cert_file = config.tls_cert;
    grpc_options.tls_key_file = config.tls_key;
    grpc_options.tls_state_dir = (std::filesystem::path(config.data_dir) / "tls").string();
  }
  auto grpc_server = receivers::otlp_grpc::OtlpGrpcServer::Start(
      grpc_address->host, grpc_address->port, &pipeline, &keys, grpc_options);
  if (!grpc_server.ok()) {
    (*otlp_server)->Stop();
    (void)span_store->Close();
    return Fail("--otlp-grpc: " + std::string(grpc_server.status().message()));
  }
  net::HttpServerOptions api_server_options;
  api_server_options.name = "http";
  api_server_options.max_body_bytes = 1024 * 1024;
  api_server_options.io_threads = 1;
  api_server_options.max_connections = config.http_max_connections;
  api_server_options.idle_timeout = std::chrono::seconds(config.idle_timeout_seconds);
  if (tls->http) api_server_options.tls = tls->context;
  // X-Ray: UDP daemon protocol + X-Ray API on one port; its counters join /metrics.
  receivers::xray::XrayServiceConfig xray_config;
  xray_config.host = xray_address->host;
  xray_config.port = xray_address->port;
  xray_config.environment = config.xray_environment;
  xray_config.access_key = config.xray_access_key;
  xray_config.read_access_key = config.xray_read_access_key;
  xray_config.data_dir = config.data_dir;
  if (clickhouse) {
    // Groups and sampling rules in ClickHouse, so every node sees the same (docs/scale-out.md).
    auto ch = store::clickhouse::ParseClickHouseUrl(config.store);
    if (!ch.ok()) return Fail(std::string(ch.status().message()));
    xray_config.config_backend = [ch = *ch]() -> std::unique_ptr<sampling::XrayConfigBackend> {
      return std::make_unique<store::clickhouse::ClickHouseConfigBackend>(
          std::make_unique<store::clickhouse::ClickHouseClient>(ch, std::chrono::seconds(30)));
    };
    xray_config.fleet_statistics = [ch = *ch]() -> std::unique_ptr<sampling::FleetStatistics> {
      return std::make_unique<store::clickhouse::ClickHouseFleetStatistics>(
          std::make_unique<store::clickhouse::ClickHouseClient>(ch, std::chrono::seconds(5)));
    };
  }
  xray_config.max_connections = config.xray_max_connections;
  xray_config.idle_timeout = std::chrono::seconds(config.idle_timeout_seconds);
  if (tls->xray) xray_config.tls = tls->context;
  auto xray = receivers::xray::XrayService::Start(xray_config, &pipeline, span_store.get());
  if (!xray.ok()) {
    (*otlp_server)->Stop();
    (*grpc_server)->Stop();
    (void)span_store->Close();
    return Fail("--xray: " + std::string(xray.status().message()));
  }
  // Zipkin v2 (POST /api/v2/spans) on its own port, the same keys and pipeline as OTLP/HTTP.
  receivers::zipkin::ZipkinReceiverOptions zipkin_options;
  zipkin_options.max_decompressed_bytes = config.max_decompressed_bytes;
  receivers::zipkin::ZipkinReceiver zipkin_receiver(&pipeline, &keys, zipkin_options);
  std::unique_ptr<net::HttpServer> zipkin_server;
  if (zipkin_enabled) {
    net::HttpServerOptions zipkin_server_options = otlp_server_options;
    zipkin_server_options.name = "zipkin";
    zipkin_server_options.max_connections = config.zipkin_max_connections;
    // Its own share of buffered request bodies: a quarter of the OTLP listener's.
    zipkin_server_options.max_buffered_bytes = otlp_max_buffered_bytes / 4;
    zipkin_server_options.on_headers = zipkin_receiver.AsHeaderCheck();
    zipkin_server_options.tls = tls->zipkin ? tls->context : nullptr;
    auto started = net::HttpServer::Start(zipkin_address->host, zipkin_address->port,
                                          zipkin_receiver.AsHandler(), zipkin_server_options);
    if (!started.ok()) {
      (*otlp_server)->Stop();
      (*grpc_server)->Stop();
      (*xray)->Stop();
      (void)span_store->Close();
      return Fail("--zipkin: " + std::string(started.status().message()) +
                  " (choose another port, or --zipkin off)");
    }
    zipkin_server = std::move(started).value();
  }
  net::HttpHandler api_and_jaeger = jaeger_routes.Wrap(api_handler.AsHandler());
  // The UI reaches the X-Ray API (groups, sampling rules) through /api/v1/xray/<Operation>, in
  // process. ApiAuth already allowed the call (an admin key for changes), so no SigV4 is asked for
  // even with --xray-access-key.
  net::HttpHandler api_routes = api::WithXrayProxy(
      api::WithStaticFiles(api_and_jaeger, &ui_files),
      [xray_service = xray->get()](net::HttpRequest&& request, net::Responder respond) {
        xray_service->HandleTrusted(std::move(request), std::move(respond));
      });
  // The API server is started below; /metrics reads its counters through this.
  std::atomic<net::HttpServer*> api_server_slot{nullptr};
  receivers::otlp_grpc::OtlpGrpcServer* grpc = grpc_server->get();  // for its /metrics counters
  net::HttpHandler api_routes_with_xray = [&api_routes, &api_server_slot, otlp = otlp_server->get(),
                                           xray_service = xray->get(), zipkin = zipkin_server.get(),
                                           inflight = &pipeline.inflight(), trimmer = &trimmer,
                                           shares, grpc, store = span_store.get()](
                                              net::HttpRequest&& request, net::Responder respond) {
    // GET /api/v1/xray/{groups,sampling,trace-summaries} are read-only views; POSTs under the same
    // prefix are X-Ray API operations that the proxy hands to the X-Ray API handler.
    if (request.method == "GET" && request.path.rfind("/api/v1/xray/", 0) == 0) {
      return xray_service->HandleQuery(std::move(request), std::move(respond));
    }
    if (request.path != "/metrics") return api_routes(std::move(request), std::move(respond));
    std::vector<std::pair<std::string, net::HttpServerStats>> listeners = {
        {"otlp-http", otlp->stats()}, {"xray", xray_service->tcp_stats()}};
    if (zipkin != nullptr) listeners.emplace_back("zipkin", zipkin->stats());
    {  // The OTLP/gRPC listener's connection counters (its cap: --otlp-grpc-max-connections).
      const receivers::otlp_grpc::ConnectionGateStats g = grpc->connection_stats();
      net::HttpServerStats stats;
      stats.connections_open = g.connections_open;
      stats.connections_accepted = g.connections_accepted;
      stats.connections_refused = g.connections_refused;
      stats.accept_backoffs = g.accept_backoffs;
      listeners.emplace_back("otlp-grpc", stats);
    }
    if (net::HttpServer* api = api_server_slot.load()) listeners.emplace_back("http", api->stats());
    api_routes(std::move(request), [xray_service, respond, inflight, trimmer, shares, store,
                                    listeners = std::move(listeners)](net::HttpResponse response) {
      if (response.status == 200) {
        xray_service->AppendPrometheus(&response.body);
        response.body += net::HttpServerStatsPrometheus(listeners);
        response.body += InflightPrometheus(inflight, trimmer);
        store::StoreAdmin* admin = store->Admin();  // nullptr for ClickHouse: no head, no cache
        const store::StoreStats stats = admin != nullptr ? admin->Stats() : store::StoreStats{};
        MemoryUse use;
        use.head = stats.head_bytes;
        // In flight: the decoded batches and bodies, and the WAL's framed copies of those batches.
        use.ingest = inflight->in_flight_bytes() + stats.wal_buffer_bytes;
        use.column_cache = stats.column_cache_bytes;
        use.trace_summaries = stats.trace_summary_bytes;
        use.query = query::QueryBudget::AllQueriesBytes();
        response.body += MemoryPrometheus(shares, use);
      }
      respond(std::move(response));
    });
  };
  // Host, cross-site, key and session checks in front of every route (src/api/auth.h).
  api::ApiAuthOptions auth_options;
  auth_options.public_urls = config.public_urls;
  auth_options.xray_environment = config.xray_environment;
  api::ApiAuth auth(&keys, auth_options);
  auto api_server = net::HttpServer::Start(http_address->host, http_address->port,
                                           auth.Wrap(api_routes_with_xray), api_server_options);
  if (!api_server.ok()) {
    if (zipkin_server) zipkin_server->Stop();
    (*otlp_server)->Stop();
    (*grpc_server)->Stop();
    (*xray)->Stop();
    (void)span_store->Close();
    return Fail(std::string(api_server.status().message()));
  }
  api_server_slot.store(api_server->get());
  {
    // GET /api/v1/info: the UI's setup help shows these addresses.
    std::vector<api::ListenerInfo> listeners;
    auto add = [&listeners](std::string name, std::string protocol, std::string transport,
                            const std::string& address, bool use_tls) {
      api::ListenerInfo info{std::move(name), std::move(protocol), std::move(transport), "", 0,
                             use_tls};
      if (api::SplitHostPort(address, &info.host, &info.port)) listeners.push_back(std::move(info));
    };
    add("otlp-http", "OTLP/HTTP", "tcp", Display(**otlp_server), tls->otlp);
    {
      std::string grpc_host = (*grpc_server)->bound_host();
      if (grpc_host.find(':') != std::string::npos) grpc_host = "[" + grpc_host + "]";
      add("otlp-grpc", "OTLP/gRPC", "tcp",
          grpc_host + ":" + std::to_string((*grpc_server)->bound_port()), (*grpc_server)->tls());
    }
    add("xray-udp", "X-Ray daemon", "udp", (*xray)->address(), false);
    add("xray-tcp", "X-Ray API", "tcp", (*xray)->address(), tls->xray);
    add("http", "API and web UI", "tcp", Display(**api_server), tls->http);
    if (zipkin_server) add("zipkin", "Zipkin v2", "tcp", Display(*zipkin_server), tls->zipkin);
    api_handler.server_info()->SetListeners(std::move(listeners));
  }

  if (keys.empty()) {
    std::fprintf(stderr,
                 "WARNING: no keys configured: the server is OPEN. Every span is accepted without "
                 "a key into environment 'default', and anyone who reaches the API/UI port reads "
                 "every trace and changes sampling.\n"
                 "         Create keys with `ariadne keys create --role ingest|read|admin "
                 "--data-dir %s` and restart to require them (docs/security.md).\n",
                 config.data_dir.c_str());
  } else {
    size_t counts[3] = {0, 0, 0};
    for (const pipeline::KeyEntry& entry : keys.entries()) ++counts[static_cast<int>(entry.role)];
    std::fprintf(stderr,
                 "ariadne: keys loaded: %zu ingest, %zu read, %zu admin; requests without a "
                 "known key get 401 (the API and UI need a read or admin key)\n",
                 counts[0], counts[1], counts[2]);
    if (counts[1] + counts[2] == 0) {
      std::fprintf(stderr,
                   "WARNING: no read or admin key exists, so the API and the web UI refuse every "
                   "read. Create one with `ariadne keys create --role admin --data-dir %s` (or "
                   "--role read) and restart.\n",
                   config.data_dir.c_str());
    }
  }
  std::fprintf(stderr, "ariadne: data directory %s\n", config.data_dir.c_str());
  std::fprintf(stderr, "ariadne: %s\n", DescribeShares(shares).c_str());
  std::fprintf(stderr, "ariadne: store: %s\n", retention_summary.c_str());
  std::fprintf(stderr, "ariadne: web UI %s %s\n",
               ui_files.available() ? "from" : "NOT BUILT (run ./scripts/build-ui) in",
               ui_files.root().c_str());
  std::fprintf(stderr, "ariadne: %s\n", (*xray)->auth_note().c_str());
  if (tls->context) {
    std::fprintf(
        stderr, "ariadne: TLS certificate %s (sha256 %s); send SIGHUP to reload it and %s\n",
        config.tls_cert.c_str(), tls->context->Fingerprint().c_str(), config.tls_key.c_str());
  }
  std::fflush(stderr);
  std::printf("listening otlp-http %s\n", Display(**otlp_server).c_str());
  std::printf("listening xray %s%s\n", tls->xray ? "https://" : "", (*xray)->address().c_str());
  std::printf("listening http %s\n", Display(**api_server).c_str());
  // Printed last, so scripts that wait for the first three lines keep working.
  {
    std::string grpc_host = (*grpc_server)->bound_host();
    if (grpc_host.find(':') != std::string::npos) grpc_host = "[" + grpc_host + "]";
    std::printf("listening otlp-grpc %s%s:%u\n", (*grpc_server)->tls() ? "https://" : "",
                grpc_host.c_str(), static_cast<unsigned>((*grpc_server)->bound_port()));
  }
  if (zipkin_server) std::printf("listening zipkin %s\n", Display(*zipkin_server).c_str());
  std::fflush(stdout);

  int signal_number = 0;
  for (;;) {
    sigwait(&stop_signals, &signal_number);
    if (signal_number != SIGHUP) break;
    if (!tls->context) {
      std::fprintf(stderr, "ariadne: SIGHUP received; nothing to reload (no --tls-cert)\n");
    } else if (Status reloaded = tls->context->Reload(); reloaded.ok()) {
      std::fprintf(stderr,
                   "ariadne: TLS certificate reloaded (sha256 %s); new connections use it\n",
                   tls->context->Fingerprint().c_str());
      // The gRPC listener re-reads its copy of the pair within a second.
      if (Status grpc_reloaded = (*grpc_server)->ReloadTls(); !grpc_reloaded.ok()) {
        std::fprintf(stderr,
                     "ariadne: OTLP/gRPC TLS reload failed, still serving the previous "
                     "certificate there: %s\n",
                     std::string(grpc_reloaded.message()).c_str());
      }
    } else {
      std::fprintf(stderr,
                   "ariadne: TLS reload failed, still serving the previous certificate: %s\n",
                   std::string(reloaded.message()).c_str());
    }
    std::fflush(stderr);
  }
  std::fprintf(stderr, "ariadne: %s received, shutting down\n",
               signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  (*otlp_server)->Stop();
  (*grpc_server)->Stop();
  if (zipkin_server) zipkin_server->Stop();
  (*api_server)->Stop();
  (*xray)->Stop();
  Status closed = span_store->Close();
  if (!closed.ok()) {
    std::fprintf(stderr, "ariadne: closing the span store failed: %s\n", closed.ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "ariadne: stopped cleanly\n");
  return 0;
}

}  // namespace ariadne::cli
