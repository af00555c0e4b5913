#include "cli/doctor/doctor.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include <nlohmann/json.hpp>

#include "ariadne/sdk/otlp_exporter.h"
#include "ariadne/sdk/resource.h"

namespace ariadne::cli::doctor {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

Doctor::Doctor(const DoctorConfig& config)
    : config_(config),
      read_key_(ApiKeyFrom(config.key)),
      deadline_(std::chrono::milliseconds(static_cast<int64_t>(config.timeout_seconds * 1000))),
      io_timeout_(std::min<std::chrono::milliseconds>(deadline_, std::chrono::seconds(5))),
      rng_(std::random_device{}()) {}

int Doctor::Run() {
  ReadEnvironment();
  CheckServer();
  ResolveServiceName();
  const bool otlp = CheckOtlpConfig();
  const bool zipkin = CheckZipkinConfig();
  const bool xray = CheckXRayConfig();
  if (!otlp_configured_ && !zipkin_configured_ && !xray_configured_) {
    Add("config.nothing", Level::kFail, "No tracing destination is configured",
        "Neither OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT nor "
        "OTEL_EXPORTER_ZIPKIN_ENDPOINT nor AWS_XRAY_DAEMON_ADDRESS is set, so an app would not "
        "send spans to Ariadne.",
        "export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 (and/or "
        "AWS_XRAY_DAEMON_ADDRESS=127.0.0.1:2000)");
  }
  if (otlp) SendOtlp();
  if (zipkin) SendZipkin();
  if (xray) SendXRay();
  if (xray_api_ok_) CheckGroups();
  return Report();
}

void Doctor::Add(std::string id, Level level, std::string title, std::string detail,
                 std::string fix) {
  findings_.push_back({std::move(id), level, std::move(title), std::move(detail), std::move(fix)});
}

size_t Doctor::CountFailures() const {
  return static_cast<size_t>(
      std::count_if(findings_.begin(), findings_.end(),
                    [](const Finding& f) { return f.level == Level::kFail; }));
}

void Doctor::Explain(const char* name, std::string meaning, bool secret) {
  env_.push_back({name, GetEnv(name), std::move(meaning), secret});
}

void Doctor::ReadEnvironment() {
  const std::string generic = Value("OTEL_EXPORTER_OTLP_ENDPOINT");
  const std::string traces = Value("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  std::string protocol = Lower(Value("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"));
  if (protocol.empty()) protocol = Lower(Value("OTEL_EXPORTER_OTLP_PROTOCOL"));
  const bool grpc = protocol == "grpc";
  Explain("OTEL_EXPORTER_OTLP_ENDPOINT",
          generic.empty() ? "not set: OTel SDKs default to http://localhost:4318 (grpc: 4317)"
          : grpc ? "address of the OTLP/gRPC receiver (HOST:PORT; the scheme says TLS or not)"
                 : "base URL of the OTLP receiver; the SDK appends /v1/traces and "
                   "posts spans to " +
                       sdk::ResolveOtlpTracesUrl(generic, ""));
  Explain("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
          traces.empty() ? "not set: the generic endpoint above is used"
                         : "full URL for spans, used as is (nothing appended); it wins over "
                           "OTEL_EXPORTER_OTLP_ENDPOINT");
  if (IsSet("OTEL_EXPORTER_ZIPKIN_ENDPOINT") || IsSet("OTEL_TRACES_EXPORTER")) {
    Explain("OTEL_TRACES_EXPORTER",
            IsSet("OTEL_TRACES_EXPORTER")
                ? "which exporter the SDK uses: otlp (default), zipkin, console, none"
                : "not set: otlp");
    Explain("OTEL_EXPORTER_ZIPKIN_ENDPOINT",
            IsSet("OTEL_EXPORTER_ZIPKIN_ENDPOINT")
                ? "full URL the Zipkin exporter posts JSON v2 spans to (nothing appended)"
                : "not set: http://localhost:9411/api/v2/spans");
  }
  Explain("OTEL_EXPORTER_OTLP_PROTOCOL",
          IsSet("OTEL_EXPORTER_OTLP_PROTOCOL")
              ? "wire protocol: grpc (port 4317), http/protobuf or http/json (port 4318)"
              : "not set: http/protobuf (OTLP over HTTP, port 4318)");
  if (IsSet("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")) {
    Explain("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            "wire protocol for spans; wins over OTEL_EXPORTER_OTLP_PROTOCOL");
  }
  Explain("OTEL_EXPORTER_OTLP_HEADERS",
          IsSet("OTEL_EXPORTER_OTLP_HEADERS")
              ? "extra request headers, key=value pairs separated by commas; "
                "x-honeycomb-team=KEY carries the ingest key"
              : "not set: no extra headers (fine while the server has no keys)",
          true);
  if (IsSet("OTEL_EXPORTER_OTLP_TRACES_HEADERS")) {
    Explain("OTEL_EXPORTER_OTLP_TRACES_HEADERS",
            "headers for spans only; wins over OTEL_EXPORTER_OTLP_HEADERS", true);
  }
  Explain("HONEYCOMB_API_KEY",
          IsSet("HONEYCOMB_API_KEY")
              ? "the ingest key; it reaches the server only through "
                "x-honeycomb-team=${HONEYCOMB_API_KEY} in OTEL_EXPORTER_OTLP_HEADERS (or a "
                "Honeycomb distro / Cruddur adding it)"
              : "not set: if OTEL_EXPORTER_OTLP_HEADERS was written as "
                "x-honeycomb-team=${HONEYCOMB_API_KEY}, the key in it is empty",
          true);
  Explain("OTEL_SERVICE_NAME", IsSet("OTEL_SERVICE_NAME")
                                   ? "service.name of every span (wins over the other two)"
                                   : "not set");
  Explain("OTEL_RESOURCE_ATTRIBUTES",
          IsSet("OTEL_RESOURCE_ATTRIBUTES")
              ? "resource attributes key=value,key=value; its service.name counts only when "
                "OTEL_SERVICE_NAME is unset"
              : "not set");
  Explain("HONEYCOMB_SERVICE_NAME",
          IsSet("HONEYCOMB_SERVICE_NAME")
              ? "service name read by Honeycomb's distros and Cruddur (plain OTel SDKs ignore "
                "it)"
              : "not set");
  Explain("AWS_XRAY_DAEMON_ADDRESS",
          IsSet("AWS_XRAY_DAEMON_ADDRESS")
              ? "where X-Ray SDKs send segments (UDP) and ask for sampling rules (TCP, same "
                "address unless written as 'tcp:HOST:PORT udp:HOST:PORT')"
              : "not set: X-Ray SDKs use 127.0.0.1:2000");
  Explain("AWS_XRAY_URL", IsSet("AWS_XRAY_URL")
                              ? "X-Ray dynamic naming: requests whose Host matches this pattern "
                                "are named after the host, others after the service"
                              : "not set");
  if (IsSet("AWS_XRAY_TRACING_NAME")) {
    Explain("AWS_XRAY_TRACING_NAME", "overrides the segment (service) name of X-Ray SDKs");
  }
}

void Doctor::CheckServer() {
  auto url = net::ParseHttpUrl(config_.server);
  if (!url.ok()) {
    Add("server.url", Level::kFail, "--server " + config_.server + " is not usable",
        std::string(url.status().message()), "pass --server http://HOST:PORT");
    return;
  }
  server_ = *url;
  while (!server_.path.empty() && server_.path.back() == '/') server_.path.pop_back();
  net::HttpClient client(server_.host, server_.port, io_timeout_);
  Secure(&client, server_.tls, config_.tls.ca_file);
  auto response = client.Request("GET", server_.path + "/healthz");
  if (!response.ok()) {
    Add("server.down", Level::kFail,
        "Ariadne's query API at " + config_.server + " does not answer",
        std::string(response.status().message()) +
            ". Without it doctor cannot read the test spans back.",
        "start the server (`ariadne serve`) or point doctor at it with --server "
        "http://HOST:PORT (the address it prints as `listening http HOST:PORT`)");
    return;
  }
  if (response->status == 400 && response->body.find("speaks HTTPS") != std::string::npos) {
    Add("server.needs_https", Level::kFail,
        "Ariadne's query API at " + config_.server + " speaks HTTPS only",
        "the server runs with --tls-cert; plain http:// requests are refused",
        "pass --server https://" + server_.host + ":" + std::to_string(server_.port) +
            " (and --ca-file FILE for a self-signed certificate)");
    return;
  }
  if (response->status != 200) {
    Add("server.unhealthy", Level::kFail,
        config_.server + "/healthz answered " + std::to_string(response->status),
        "this is not Ariadne's query API, or it is unhealthy",
        "pass --server with the address `ariadne serve` prints as `listening http HOST:PORT`");
    return;
  }
  server_ok_ = true;
  Add("server.up", Level::kOk, "Ariadne's query API answers at " + config_.server);
}

void Doctor::ResolveServiceName() {
  const std::string otel = Value("OTEL_SERVICE_NAME");
  std::string from_attributes;
  for (const auto& [k, v] : sdk::ParseKeyValueList(Value("OTEL_RESOURCE_ATTRIBUTES"))) {
    if (k == "service.name")
      from_attributes = v;
    else
      resource_.emplace_back(k, v);
  }
  for (const std::string& member : Split(Value("OTEL_RESOURCE_ATTRIBUTES"), ',')) {
    if (!Trim(member).empty() && member.find('=') == std::string::npos) {
      Add("resource.malformed", Level::kWarn,
          "OTEL_RESOURCE_ATTRIBUTES member '" + Trim(member) + "' has no '=' and is ignored", "",
          "write members as key=value separated by commas");
    }
  }
  const std::string honeycomb = Value("HONEYCOMB_SERVICE_NAME");
  if (!otel.empty()) {
    service_ = otel;
    service_source_ = "OTEL_SERVICE_NAME";
  } else if (!from_attributes.empty()) {
    service_ = from_attributes;
    service_source_ = "service.name in OTEL_RESOURCE_ATTRIBUTES";
  } else if (!honeycomb.empty()) {
    service_ = honeycomb;
    service_source_ = "HONEYCOMB_SERVICE_NAME";
    Add("service.honeycomb_only", Level::kWarn,
        "Only HONEYCOMB_SERVICE_NAME names the service ('" + honeycomb + "')",
        "Honeycomb's distros and Cruddur read it; plain OpenTelemetry SDKs do not, and report "
        "unknown_service instead.",
        "export OTEL_SERVICE_NAME=" + honeycomb);
  } else {
    service_ = "unknown_service";
    service_source_ = "the SDK default";
    Add("service.unset", Level::kWarn, "No service name is set",
        "Spans arrive as unknown_service (or unknown_service:<executable>), which makes them "
        "hard to find and breaks per-service views.",
        "export OTEL_SERVICE_NAME=my-service");
  }
  if (!otel.empty() && !from_attributes.empty() && from_attributes != otel) {
    Add("service.attributes_overridden", Level::kInfo,
        "service.name='" + from_attributes +
            "' in OTEL_RESOURCE_ATTRIBUTES is overridden by "
            "OTEL_SERVICE_NAME='" +
            otel + "'");
  }
  if (!otel.empty() && !honeycomb.empty() && honeycomb != otel) {
    Add("service.mismatch", Level::kWarn,
        "OTEL_SERVICE_NAME='" + otel + "' and HONEYCOMB_SERVICE_NAME='" + honeycomb + "' differ",
        "OTel SDKs use '" + otel +
            "'; a Honeycomb distro may use the other, so the same app "
            "can show up under two names.",
        "set both to the same name (or unset HONEYCOMB_SERVICE_NAME)");
  }
  xray_name_ = Value("AWS_XRAY_TRACING_NAME");
  if (xray_name_.empty()) xray_name_ = service_;
  Add("service.name", otel.empty() && from_attributes.empty() ? Level::kInfo : Level::kOk,
      "Service name: '" + service_ + "' (from " + service_source_ + ")");
}

// Polls the query API for `trace_id` until `span_id` shows up or `budget` passes.
bool Doctor::ReadBack(const std::string& id, const std::string& label, const std::string& trace_id,
                      const std::string& span_id, std::chrono::milliseconds budget,
                      const std::string& not_found_detail, const std::string& not_found_fix) {
  if (!server_ok_) {
    Add(id + ".read_back_skipped", Level::kInfo,
        label + ": not read back (the query API does not answer)");
    return false;
  }
  const auto end = Clock::now() + budget;
  net::HttpClient client(server_.host, server_.port, io_timeout_);
  Secure(&client, server_.tls, config_.tls.ca_file);
  std::string last;
  while (true) {
    auto response = client.Request("GET", server_.path + "/api/v1/traces/" + trace_id,
                                   ReadHeaders({{"Accept", "application/json"}}));
    if (response.ok() && (response->status == 401 || response->status == 403)) {
      // The server has keys: reading back needs a read (or admin) key.
      Add(id + ".read_key", Level::kFail,
          label + ": the query API at " + config_.server + " refused to read the span back (" +
              std::to_string(response->status) + ")",
          ErrorText(response->body),
          read_key_.empty()
              ? "pass a read key: ariadne doctor --key KEY (or export ARIADNE_KEY=KEY); create "
                "one with `ariadne keys create --role read`"
              : "the key given is not a read or admin key for this environment; check "
                "`ariadne keys list`");
      return false;
    }
    if (response.ok() && response->status == 421) {
      // The server does not answer to the name in --server (its DNS-rebinding defence).
      Add(id + ".host", Level::kFail,
          label + ": the query API at " + config_.server + " does not answer to that name (421)",
          ErrorText(response->body),
          "start the server with --public-url " + config_.server +
              " (or use its IP address in --server)");
      return false;
    }
    if (response.ok() && response->status == 200) {
      Json j = Json::parse(response->body, nullptr, false);
      if (j.is_object() && j.contains("spans") && j["spans"].is_array()) {
        for (const auto& s : j["spans"]) {
          if (s.value("span_id", "") != span_id) continue;
          const std::string svc = s.value("service_name", "");
          const std::string env = s.value("environment", "");
          Add(id + ".read_back", Level::kOk,
              label + ": test span read back from " + config_.server + " (trace " + trace_id +
                  ", service '" + svc + "', environment '" + env + "')");
          if (id == "otlp") otlp_read_back_ = true;
          if (id == "xray") xray_read_back_ = true;
          if (id == "zipkin") zipkin_read_back_ = true;
          return true;
        }
      }
    } else if (!response.ok()) {
      last = std::string(response.status().message());
      client.Close();
    }
    if (Clock::now() >= end) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const double seconds = static_cast<double>(budget.count()) / 1000.0;
  char secs[32];
  std::snprintf(secs, sizeof(secs), "%.1f", seconds);
  Add(id + ".not_found", Level::kFail,
      label + ": test span " + trace_id + " not found on " + config_.server + " after " + secs +
          " s",
      !not_found_detail.empty() ? not_found_detail
      : last.empty()            ? "The span went somewhere, but not to the server behind --server."
                                : last,
      not_found_fix.empty()
          ? "make sure the endpoint and --server belong to the same `ariadne serve` (or raise "
            "--timeout)"
          : not_found_fix);
  return false;
}

std::set<std::string> Doctor::KnownServices() {
  std::set<std::string> out;
  if (!server_ok_) return out;
  net::HttpClient client(server_.host, server_.port, io_timeout_);
  Secure(&client, server_.tls, config_.tls.ca_file);
  auto response = client.Request("GET", server_.path + "/api/v1/services", ReadHeaders({}));
  if (!response.ok() || response->status != 200) return out;
  Json j = Json::parse(response->body, nullptr, false);
  if (!j.is_object()) return out;
  for (const auto& s : j.value("services", Json::array())) {
    if (s.is_object()) out.insert(s.value("name", ""));
  }
  return out;
}

// Adds `Authorization: Bearer KEY` when a read key was given (--key or $ARIADNE_KEY).
net::HeaderList Doctor::ReadHeaders(net::HeaderList headers) const {
  if (!read_key_.empty()) headers.emplace_back("Authorization", "Bearer " + read_key_);
  return headers;
}

// TLS for an https:// target, verified with `ca_file` (or the system's trust store).
void Doctor::Secure(net::HttpClient* client, bool tls, const std::string& ca_file) const {
  if (tls) client->UseTls({ca_file, !config_.tls.insecure});
}

TestSpan Doctor::MakeSpan(std::string trace_id, std::string name) {
  TestSpan s;
  s.trace_id = std::move(trace_id);
  s.span_id = RandomHex(rng_, 8);
  s.name = std::move(name);
  const uint64_t now =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  s.start_ns = now - 2'000'000;
  s.end_ns = now;
  s.resource.emplace_back("service.name", service_);
  for (const auto& kv : resource_) s.resource.push_back(kv);
  return s;
}

}  // namespace ariadne::cli::doctor

namespace ariadne::cli {

int RunDoctor(const DoctorConfig& config) {
  if (!(config.timeout_seconds > 0)) {
    std::fprintf(stderr, "ariadne doctor: --timeout must be a positive number of seconds\n");
    return 2;
  }
  doctor::Doctor doctor(config);
  return doctor.Run();
}

}  // namespace ariadne::cli
