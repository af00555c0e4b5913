// The `ariadne` executable: command-line parsing only (the project's one CLI11 user; it costs
// 3-4 s to compile, see docs/dependencies.md). The work happens in the Run* functions.
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace {

// --ca-file / --insecure for the commands that talk to an https:// server.
void AddClientTlsOptions(CLI::App* command, ariadne::cli::ClientTlsConfig* tls) {
  command->add_option("--ca-file", tls->ca_file,
                      "PEM CA certificate(s) to verify an https:// server with (default: the "
                      "system's trust store)");
  command->add_flag("--insecure", tls->insecure,
                    "Do not verify the https:// server's certificate (testing only)");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ariadne::cli;
  CLI::App app{"Ariadne: self-hosted distributed tracing (OTLP in, traces out)", "ariadne"};
  app.require_subcommand(1);

  ServeConfig serve;
  CLI::App* serve_cmd =
      app.add_subcommand("serve", "Run the server: OTLP/HTTP and OTLP/gRPC ingest, store, API");
  serve_cmd->add_option("--data-dir", serve.data_dir, "Where spans and keys live")
      ->capture_default_str();
  serve_cmd
      ->add_option("--listen", serve.listen_host,
                   "Default host of every listener (0.0.0.0 to accept remote clients)")
      ->capture_default_str();
  serve_cmd->add_option("--otlp-http", serve.otlp_http, "OTLP/HTTP listener, HOST:PORT or PORT")
      ->capture_default_str();
  serve_cmd
      ->add_option("--otlp-grpc", serve.otlp_grpc,
                   "OTLP/gRPC listener (TraceService/Export), HOST:PORT or PORT")
      ->capture_default_str();
  serve_cmd->add_option("--http", serve.http, "Query API listener, HOST:PORT or PORT")
      ->capture_default_str();
  serve_cmd->add_option("--keys-file", serve.keys_file,
                        "Extra ingest keys file (besides DATA_DIR/keys.json)");
  serve_cmd
      ->add_option("--max-body-bytes", serve.max_body_bytes,
                   "Largest OTLP request body as sent (413 beyond)")
      ->capture_default_str();
  serve_cmd
      ->add_option("--max-decompressed-bytes", serve.max_decompressed_bytes,
                   "Largest OTLP request body after decompression (413 beyond)")
      ->capture_default_str();
  serve_cmd->add_option("--io-threads", serve.io_threads, "I/O threads of the OTLP listener")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  serve_cmd
      ->add_option("--xray", serve.xray,
                   "X-Ray listener, HOST:PORT or PORT: daemon protocol on UDP and the X-Ray API on "
                   "TCP, same port")
      ->capture_default_str();
  serve_cmd
      ->add_option("--xray-environment", serve.xray_environment,
                   "Environment that X-Ray segments are stored in")
      ->capture_default_str();
  serve_cmd
      ->add_option("--zipkin", serve.zipkin,
                   "Zipkin v2 listener (POST /api/v2/spans), HOST:PORT or PORT; off: none")
      ->capture_default_str();
  serve_cmd
      ->add_option("--zipkin-max-connections", serve.zipkin_max_connections,
                   "Open connections on the Zipkin listener at most (0: no bound)")
      ->capture_default_str();
  serve_cmd->add_option("--xray-access-key", serve.xray_access_key,
                        "ID:SECRET: require SigV4 signatures with this key on the X-Ray API");
  serve_cmd->add_option("--xray-read-access-key", serve.xray_read_access_key,
                        "ID:SECRET: a second SigV4 key for the X-Ray API that may only call the "
                        "read operations (Get*, List*, BatchGetTraces); needs --xray-access-key");
  serve_cmd->add_option("--ui-dir", serve.ui_dir,
                        "Folder of the built web UI (default: ui/dist of the source tree)");
  // Retention and disk use (docs/operations.md, "Retention and disk use").
  serve_cmd->add_option("--retention", serve.retention,
                        "Drop spans older than this, e.g. 7d, 12h (default: off; max-disk bounds)");
  serve_cmd->add_option("--max-disk", serve.max_disk,
                        "Most bytes of block files, oldest dropped first, e.g. 50GiB (default: "
                        "half the free space at start; 0: no limit)");
  serve_cmd->add_option("--store-config", serve.store_config,
                        "JSON file with per-environment retention and max_disk");
  serve_cmd->add_flag("--recover-manifest", serve.recover_manifest,
                      "Rebuild a missing or damaged manifest from the block files");
  serve_cmd->add_flag("--trace-index,!--no-trace-index", serve.trace_index,
                      "Embedded store: keep the trace-summary index that X-Ray filters and trace "
                      "search use (default on; about 150 bytes per trace are outside "
                      "--memory-limit)");
  serve_cmd->add_option("--store", serve.store,
                        "Where spans live: embedded (default, in --data-dir) or "
                        "clickhouse://[USER[:PASSWORD]@]HOST:PORT[,HOST:PORT...]/DATABASE"
                        "[?cluster=NAME] (docs/clickhouse.md, docs/scale-out.md)");
  // Query limits (docs/operations.md).
  serve_cmd
      ->add_option("--query-max-groups", serve.query_max_groups,
                   "Most breakdown groups one query may make (0: no limit); past it: 422")
      ->capture_default_str();
  serve_cmd
      ->add_option("--memory-limit", serve.memory_limit_bytes,
                   "Memory budget of the server, e.g. 1GiB, 4GiB: split into head, ingest, column "
                   "cache and query shares (docs/operations.md); the limits below that are not "
                   "set derive from it")
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::Range(uint64_t{16} << 20, UINT64_MAX))
      ->capture_default_str();
  serve_cmd
      ->add_option("--query-memory-limit", serve.query_memory_limit_bytes,
                   "Most memory one query may hold, e.g. 256MiB, 1GiB (0: no limit); past it: 422 "
                   "(default: the query share of --memory-limit over --query-concurrency)")
      ->transform(CLI::AsSizeValue(false))
      ->each([&serve](const std::string&) { serve.query_memory_limit_set = true; });
  serve_cmd
      ->add_option("--query-concurrency", serve.query_concurrency,
                   "Queries, trace searches and BubbleUps run at once")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  serve_cmd
      ->add_option("--query-queue", serve.query_queue,
                   "Queries that may wait for a worker; past it: 503 + Retry-After")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  // Availability limits: connections, buffered bodies, in-flight ingest (docs/operations.md).
  serve_cmd
      ->add_option("--otlp-max-connections", serve.otlp_max_connections,
                   "Open connections on the OTLP listener at most (more are closed at once; 0: "
                   "no bound)")
      ->capture_default_str();
  serve_cmd
      ->add_option("--otlp-grpc-max-connections", serve.otlp_grpc_max_connections,
                   "Open connections on the OTLP/gRPC listener at most (more are closed at once; "
                   "0: no bound)")
      ->capture_default_str();
  serve_cmd
      ->add_option("--http-max-connections", serve.http_max_connections,
                   "Open connections on the query API listener at most (0: no bound)")
      ->capture_default_str();
  serve_cmd
      ->add_option("--xray-max-connections", serve.xray_max_connections,
                   "Open connections on the X-Ray API listener at most (0: no bound)")
      ->capture_default_str();
  serve_cmd
      ->add_option("--otlp-max-buffered-bytes", serve.otlp_max_buffered_bytes,
                   "Request body bytes all OTLP connections may hold at once (503 + Retry-After "
                   "beyond; 0: no bound; default: half the ingest share of --memory-limit)")
      ->each([&serve](const std::string&) { serve.otlp_max_buffered_bytes_set = true; });
  serve_cmd
      ->add_option("--idle-timeout", serve.idle_timeout_seconds,
                   "Seconds a connection may sit idle, or take to send one request's header or "
                   "body, before it is closed")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  serve_cmd
      ->add_option("--max-inflight-bytes", serve.max_inflight_bytes,
                   "Bytes of ingest (request bodies and decoded spans) accepted but not yet "
                   "durable, at most; past it ingest answers 429 + Retry-After (0: no bound; "
                   "default: 7/8 of the ingest share of --memory-limit; the WAL's buffers "
                   "have the rest)")
      ->each([&serve](const std::string&) { serve.max_inflight_bytes_set = true; });

  // Access control (docs/security.md).
  serve_cmd->add_flag("--allow-open", serve.allow_open,
                      "Serve a non-loopback address even though no key exists (anyone who "
                      "reaches it reads and writes everything)");
  serve_cmd->add_option("--public-url", serve.public_urls,
                        "URL people use to reach the API/UI, e.g. https://tracing.example.com "
                        "(its name is accepted in Host and Origin; repeatable)");
  serve_cmd->add_option("--cors-origin", serve.cors_origins,
                        "Browser origin allowed to send OTLP spans, e.g. http://localhost:3000 "
                        "(repeatable; '*' for any)");
  serve_cmd->add_option("--tls-cert", serve.tls_cert,
                        "PEM certificate (chain) for TLS on the OTLP/HTTP, OTLP/gRPC, API/UI and "
                        "X-Ray TCP listeners; needs --tls-key; reloaded on SIGHUP");
  serve_cmd->add_option("--tls-key", serve.tls_key, "PEM private key of --tls-cert");
  serve_cmd
      ->add_option(
          "--tls-listeners", serve.tls_listeners,
          "Listeners that speak TLS with --tls-cert: comma list of otlp-http, otlp-grpc, "
          "http, xray, zipkin (leave out xray when X-Ray SDKs fetch sampling rules from it)")
      ->capture_default_str();

  TraceConfig trace;
  CLI::App* trace_cmd = app.add_subcommand("trace", "Print one trace as a tree");
  trace_cmd->add_option("trace_id", trace.trace_id, "32-hex or X-Ray trace id")->required();
  trace_cmd->add_option("--server", trace.server, "Query API base URL")->capture_default_str();
  trace_cmd->add_option("--environment", trace.environment, "Only spans of this environment");
  trace_cmd->add_flag("--json", trace.json, "Print the API's JSON instead of the tree");
  trace_cmd->add_option("--key", trace.key, "Read key (default: $ARIADNE_KEY)");
  AddClientTlsOptions(trace_cmd, &trace.tls);

  QueryConfig query;
  CLI::App* query_cmd = app.add_subcommand("query", "Run an aggregate query and print a table");
  query_cmd->footer(R"(Examples:
  ariadne query --calc COUNT --calc 'P99(duration_ms)' --by service.name
  ariadne query --where 'http.status_code >= 500' --by name --order 'COUNT desc' --limit 10
  ariadne query --calc 'HEATMAP(duration_ms)' --dataset Cruddur --time-range 600
  ariadne query --where 'user.id in u1,u2' --where 'error = true' --or --calc COUNT
  ariadne query --file spec.json            (a Honeycomb query spec; see docs/query.md)
Filter ops: = != > >= < <= starts-with does-not-start-with ends-with does-not-end-with
            contains does-not-contain exists does-not-exist in not-in)");
  query_cmd->add_option("--server", query.server, "Query API base URL")->capture_default_str();
  query_cmd->add_option("--file", query.file, "Query spec (JSON) to run; flags override it");
  query_cmd->add_option("--time-range", query.time_range, "Seconds back from now (default 7200)");
  query_cmd->add_option("--calc", query.calculations, "Calculation: COUNT, P99(duration_ms), ...");
  query_cmd->add_option("--where", query.filters, "Filter: 'COLUMN OP VALUE'");
  query_cmd->add_flag("--or", query.filter_or, "Combine filters with OR instead of AND");
  query_cmd->add_option("--by", query.breakdowns, "Break down (group) by a column");
  query_cmd->add_option("--order", query.orders,
                        "Order: a calculation or breakdown, 'desc' to reverse");
  query_cmd->add_option("--having", query.havings, "Keep groups: 'CALC OP NUMBER'");
  query_cmd->add_option("--limit", query.limit, "Most groups to return");
  query_cmd->add_option("--dataset", query.dataset, "Only this service (Honeycomb dataset)");
  query_cmd->add_option("--environment", query.environment, "Only this environment");
  query_cmd->add_flag("--json", query.json, "Print the API's JSON instead of a table");
  query_cmd->add_option("--key", query.key, "Read key (default: $ARIADNE_KEY)");
  AddClientTlsOptions(query_cmd, &query.tls);

  KeysConfig keys;
  CLI::App* keys_cmd = app.add_subcommand("keys", "Manage API keys (ingest, read, admin)");
  keys_cmd->require_subcommand(1);
  CLI::App* create_cmd =
      keys_cmd->add_subcommand("create", "Create a key; it is printed once, only its hash is kept");
  create_cmd
      ->add_option("--role", keys.role,
                   "ingest: send spans; read: API, CLI and UI; admin: read plus X-Ray groups "
                   "and sampling rules")
      ->check(CLI::IsMember({"ingest", "read", "admin"}))
      ->capture_default_str();
  create_cmd->add_option("--env", keys.environment,
                         "Environment the key sends to (required for ingest) or is limited to");
  create_cmd->add_option("--data-dir", keys.data_dir, "Data directory of the server")
      ->capture_default_str();
  create_cmd->add_option("--keys-file", keys.keys_file, "Keys file (default DATA_DIR/keys.json)");
  CLI::App* list_cmd = keys_cmd->add_subcommand("list", "List keys");
  list_cmd->add_option("--data-dir", keys.data_dir, "Data directory of the server")
      ->capture_default_str();
  list_cmd->add_option("--keys-file", keys.keys_file, "Keys file (default DATA_DIR/keys.json)");
  CLI::App* revoke_cmd = keys_cmd->add_subcommand("revoke", "Remove a key (by id or prefix)");
  revoke_cmd->add_option("id", keys.id_or_prefix, "The key's id or prefix (see `keys list`)")
      ->required();
  revoke_cmd->add_option("--data-dir", keys.data_dir, "Data directory of the server")
      ->capture_default_str();
  revoke_cmd->add_option("--keys-file", keys.keys_file, "Keys file (default DATA_DIR/keys.json)");

  DoctorConfig doctor;
  CLI::App* doctor_cmd = app.add_subcommand(
      "doctor", "Check this shell's tracing variables, send test spans, read them back");
  doctor_cmd->add_option("--server", doctor.server, "Query API base URL")->capture_default_str();
  doctor_cmd->add_option("--timeout", doctor.timeout_seconds, "Seconds to wait for each test span")
      ->capture_default_str();
  doctor_cmd->add_flag("--json", doctor.json, "Print the findings as JSON");
  doctor_cmd->add_option("--key", doctor.key,
                         "Read key for reading the test spans back (default: $ARIADNE_KEY)");
  AddClientTlsOptions(doctor_cmd, &doctor.tls);

  CompactConfig compact;
  CLI::App* compact_cmd = app.add_subcommand(
      "compact", "Merge the small blocks of a stopped server's data directory now");
  compact_cmd->add_option("--data-dir", compact.data_dir, "Data directory of the server")
      ->capture_default_str();
  compact_cmd->add_flag("--include-recent", compact.include_recent,
                        "Also merge windows that have not settled yet (the current hour)");
  compact_cmd->add_flag("!--no-trace-index", compact.trace_index,
                        "Do not write trace-summary side files (as serve --no-trace-index)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    if (*serve_cmd) return RunServe(serve);
    if (*trace_cmd) return RunTrace(trace);
    if (*query_cmd) return RunQuery(query);
    if (*create_cmd) return RunKeysCreate(keys);
    if (*list_cmd) return RunKeysList(keys);
    if (*revoke_cmd) return RunKeysRevoke(keys);
    if (*doctor_cmd) return RunDoctor(doctor);
    if (*compact_cmd) return RunCompact(compact);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ariadne: unexpected error: %s\n", e.what());
    return 1;
  }
  return 2;
}
