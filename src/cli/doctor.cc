// `ariadne doctor`: reads the tracing environment variables an app would read, explains them,
// spots the usual mistakes, sends one test span down every configured path (OTLP/HTTP and X-Ray
// UDP), reads it back through the query API and prints a verdict with a fix for every problem.
//
// The interpretation of the variables is the SDK's own (ariadne::sdk's endpoint resolution,
// header parsing and daemon address parsing), so what doctor says is what an app would do.
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ariadne/sdk/otlp_exporter.h"
#include "ariadne/sdk/resource.h"
#include "ariadne/sdk/xray_exporter.h"
#include "ariadne/sdk/xray_sampler.h"
#include "cli/commands.h"
#include "common/json_dump.h"
#include "net/http_client.h"
#include "query/xray_filter/filter.h"

namespace ariadne::cli {
namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

enum class Level { kOk, kInfo, kWarn, kFail };

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kOk:
      return "ok";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kFail:
      return "fail";
  }
  return "info";
}

std::string_view LevelMark(Level level) {
  switch (level) {
    case Level::kOk:
      return "\u2713";  // ✓
    case Level::kInfo:
      return "\u00b7";  // ·
    case Level::kWarn:
      return "!";
    case Level::kFail:
      return "\u2717";  // ✗
  }
  return " ";
}

struct Finding {
  std::string id;  // stable, for --json consumers and tests: "otlp.endpoint.double_path"
  Level level;
  std::string title;
  std::string detail;
  std::string fix;
};

struct EnvEntry {
  std::string name;
  std::optional<std::string> value;
  std::string meaning;
  bool secret = false;
};

std::optional<std::string> GetEnv(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// A key shown in output: enough to recognise it, not enough to use it.
std::string Mask(std::string_view secret) {
  if (secret.empty()) return "(empty)";
  if (secret.size() <= 8) return std::string(secret.substr(0, 2)) + "\u2026";
  return std::string(secret.substr(0, 6)) + "\u2026 (" + std::to_string(secret.size()) +
         " characters)";
}

std::string RandomHex(std::mt19937_64& rng, size_t bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  while (out.size() < bytes * 2) {
    uint64_t word = rng();
    for (int i = 0; i < 16 && out.size() < bytes * 2; ++i) {
      out += kDigits[word & 0xf];
      word >>= 4;
    }
  }
  if (out.find_first_not_of('0') == std::string::npos) out.back() = '1';  // all-zero is invalid
  return out;
}

std::string HexToBytes(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// A minimal OTLP protobuf encoding of one span (field numbers: protocols.md §1.6).

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}
void PutBytes(std::string& out, int field, std::string_view bytes) {
  PutVarint(out, (static_cast<uint64_t>(field) << 3) | 2);
  PutVarint(out, bytes.size());
  out.append(bytes);
}
void PutFixed64(std::string& out, int field, uint64_t v) {
  PutVarint(out, (static_cast<uint64_t>(field) << 3) | 1);
  for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}
void PutVarintField(std::string& out, int field, uint64_t v) {
  PutVarint(out, static_cast<uint64_t>(field) << 3);
  PutVarint(out, v);
}
std::string KeyValueProto(std::string_view key, std::string_view value) {
  std::string any, kv;
  PutBytes(any, 1, value);  // AnyValue.string_value
  PutBytes(kv, 1, key);
  PutBytes(kv, 2, any);
  return kv;
}

struct TestSpan {
  std::string trace_id;  // 32 hex
  std::string span_id;   // 16 hex
  std::string name;
  uint64_t start_ns = 0;
  uint64_t end_ns = 0;
  std::vector<std::pair<std::string, std::string>> resource;  // service.name first
};

std::string EncodeProtobuf(const TestSpan& s) {
  std::string resource;
  for (const auto& [k, v] : s.resource) PutBytes(resource, 1, KeyValueProto(k, v));
  std::string scope;
  PutBytes(scope, 1, "ariadne-doctor");
  std::string span;
  PutBytes(span, 1, HexToBytes(s.trace_id));
  PutBytes(span, 2, HexToBytes(s.span_id));
  PutBytes(span, 5, s.name);
  PutVarintField(span, 6, 1);  // SPAN_KIND_INTERNAL
  PutFixed64(span, 7, s.start_ns);
  PutFixed64(span, 8, s.end_ns);
  PutBytes(span, 9, KeyValueProto("ariadne.doctor", "test span"));
  std::string scope_spans;
  PutBytes(scope_spans, 1, scope);
  PutBytes(scope_spans, 2, span);
  std::string resource_spans;
  PutBytes(resource_spans, 1, resource);
  PutBytes(resource_spans, 2, scope_spans);
  std::string request;
  PutBytes(request, 1, resource_spans);
  return request;
}

std::string EncodeJson(const TestSpan& s) {
  Json attrs = Json::array();
  for (const auto& [k, v] : s.resource)
    attrs.push_back({{"key", k}, {"value", {{"stringValue", v}}}});
  Json span = {
      {"traceId", s.trace_id},
      {"spanId", s.span_id},
      {"name", s.name},
      {"kind", 1},
      {"startTimeUnixNano", std::to_string(s.start_ns)},
      {"endTimeUnixNano", std::to_string(s.end_ns)},
      {"attributes", {{{"key", "ariadne.doctor"}, {"value", {{"stringValue", "test span"}}}}}}};
  Json request = {
      {"resourceSpans",
       {{{"resource", {{"attributes", attrs}}},
         {"scopeSpans", {{{"scope", {{"name", "ariadne-doctor"}}}, {"spans", {span}}}}}}}}};
  return DumpJson(request);
}

// The `message` of a google.rpc.Status error body, protobuf or JSON.
std::string ErrorMessageRaw(const std::string& body);
std::string ErrorMessage(const std::string& body) { return Trim(ErrorMessageRaw(body)); }
std::string ErrorMessageRaw(const std::string& body) {
  if (!body.empty() && body.front() == '{') {
    Json j = Json::parse(body, nullptr, false);
    if (j.is_object() && j.contains("message") && j["message"].is_string()) return j["message"];
    return body;
  }
  size_t pos = 0;
  auto varint = [&](uint64_t& v) {
    v = 0;
    for (int shift = 0; pos < body.size() && shift < 64; shift += 7) {
      uint8_t b = static_cast<uint8_t>(body[pos++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  };
  while (pos < body.size()) {
    uint64_t tag = 0, v = 0;
    if (!varint(tag)) break;
    const int wire = static_cast<int>(tag & 7);
    if (wire == 0) {
      if (!varint(v)) break;
    } else if (wire == 2) {
      if (!varint(v) || v > body.size() - pos) break;
      if ((tag >> 3) == 2) return body.substr(pos, v);
      pos += v;
    } else {
      break;
    }
  }
  return body;
}

// ---------------------------------------------------------------------------------------------

class Doctor {
 public:
  explicit Doctor(const DoctorConfig& config)
      : config_(config),
        deadline_(std::chrono::milliseconds(static_cast<int64_t>(config.timeout_seconds * 1000))),
        io_timeout_(std::min<std::chrono::milliseconds>(deadline_, std::chrono::seconds(5))),
        rng_(std::random_device{}()) {}

  int Run() {
    ReadEnvironment();
    CheckServer();
    ResolveServiceName();
    const bool otlp = CheckOtlpConfig();
    const bool xray = CheckXRayConfig();
    if (!otlp_configured_ && !xray_configured_) {
      Add("config.nothing", Level::kFail, "No tracing destination is configured",
          "Neither OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT nor "
          "AWS_XRAY_DAEMON_ADDRESS is set, so an app would not send spans to Ariadne.",
          "export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 (and/or "
          "AWS_XRAY_DAEMON_ADDRESS=127.0.0.1:2000)");
    }
    if (otlp) SendOtlp();
    if (xray) SendXRay();
    if (xray_api_ok_) CheckGroups();
    return Report();
  }

 private:
  void Add(std::string id, Level level, std::string title, std::string detail = {},
           std::string fix = {}) {
    findings_.push_back(
        {std::move(id), level, std::move(title), std::move(detail), std::move(fix)});
  }

  size_t CountFailures() const {
    return static_cast<size_t>(
        std::count_if(findings_.begin(), findings_.end(),
                      [](const Finding& f) { return f.level == Level::kFail; }));
  }

  void Explain(const char* name, std::string meaning, bool secret = false) {
    env_.push_back({name, GetEnv(name), std::move(meaning), secret});
  }

  static std::string Value(const char* name) {
    auto v = GetEnv(name);
    return v ? Trim(*v) : std::string();
  }
  static bool IsSet(const char* name) { return !Value(name).empty(); }

  // --- environment ---------------------------------------------------------------------------

  void ReadEnvironment() {
    const std::string generic = Value("OTEL_EXPORTER_OTLP_ENDPOINT");
    const std::string traces = Value("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    Explain("OTEL_EXPORTER_OTLP_ENDPOINT",
            generic.empty() ? "not set: OTel SDKs default to http://localhost:4318"
                            : "base URL of the OTLP receiver; the SDK appends /v1/traces and "
                              "posts spans to " +
                                  sdk::ResolveOtlpTracesUrl(generic, ""));
    Explain("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            traces.empty() ? "not set: the generic endpoint above is used"
                           : "full URL for spans, used as is (nothing appended); it wins over "
                             "OTEL_EXPORTER_OTLP_ENDPOINT");
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

  // --- the query server ----------------------------------------------------------------------

  void CheckServer() {
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

  // --- service name --------------------------------------------------------------------------

  void ResolveServiceName() {
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

  static std::vector<std::string> Split(const std::string& s, char sep) {
    std::vector<std::string> out;
    if (s.empty()) return out;
    size_t start = 0;
    while (true) {
      size_t pos = s.find(sep, start);
      out.push_back(s.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
      if (pos == std::string::npos) break;
      start = pos + 1;
    }
    return out;
  }

  // --- OTLP configuration ----------------------------------------------------------------------

  // Returns true when a test span should be sent over OTLP.
  bool CheckOtlpConfig() {
    const std::string generic = Value("OTEL_EXPORTER_OTLP_ENDPOINT");
    const std::string traces = Value("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    const std::string api_key = Value("HONEYCOMB_API_KEY");
    otlp_configured_ = !generic.empty() || !traces.empty();
    if (!otlp_configured_) {
      if (!api_key.empty()) {
        otlp_configured_ = true;
        Add("otlp.endpoint.unset", Level::kFail, "HONEYCOMB_API_KEY is set but no OTLP endpoint is",
            "Without OTEL_EXPORTER_OTLP_ENDPOINT, Honeycomb-style apps (and Cruddur) send to "
            "https://api.honeycomb.io, and plain OTel SDKs to http://localhost:4318.",
            "export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318");
      } else {
        Add("otlp.skipped", Level::kInfo,
            "OTLP is not configured (no OTEL_EXPORTER_OTLP_ENDPOINT); not testing it");
      }
      return false;
    }

    // Protocol.
    std::string protocol = Lower(Value("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"));
    if (protocol.empty()) protocol = Lower(Value("OTEL_EXPORTER_OTLP_PROTOCOL"));
    if (protocol.empty()) protocol = "http/protobuf";
    const bool grpc = protocol == "grpc";
    if (protocol == "http/json") {
      json_body_ = true;
    } else if (!grpc && protocol != "http/protobuf") {
      Add("otlp.protocol.unknown", Level::kFail,
          "OTEL_EXPORTER_OTLP_PROTOCOL='" + protocol + "' is not a protocol SDKs know",
          "The values are grpc, http/protobuf and http/json.",
          "export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf");
      return false;
    }

    otlp_url_ = sdk::ResolveOtlpTracesUrl(generic, traces);
    const std::string shown_var =
        traces.empty() ? "OTEL_EXPORTER_OTLP_ENDPOINT" : "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
    const std::string raw = traces.empty() ? generic : traces;
    if (raw.rfind("http://", 0) != 0 && raw.rfind("https://", 0) != 0) {
      Add("otlp.endpoint.scheme", Level::kFail,
          shown_var + "='" + raw + "' does not start with http:// or https://",
          "SDKs need a full URL; without a scheme they reject it or misread the host as a scheme.",
          "export " + shown_var + "=http://" + raw);
      return false;
    }
    if (raw.rfind("https://", 0) == 0 && raw.find("honeycomb.io") != std::string::npos) {
      Add("otlp.endpoint.honeycomb", Level::kFail,
          shown_var + " still points at Honeycomb (" + raw + ")",
          "Spans go to Honeycomb, not to Ariadne.",
          "export " + shown_var + "=http://127.0.0.1:4318");
      return false;
    }
    if (raw.rfind("https://", 0) == 0) {
      // TLS (`ariadne serve --tls-cert`): the SDK must trust the server's certificate.
      otlp_ca_file_ = config_.tls.ca_file;
      for (const char* name :
           {"OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "OTEL_EXPORTER_OTLP_CERTIFICATE"}) {
        if (auto v = GetEnv(name); v && !v->empty() && otlp_ca_file_.empty()) otlp_ca_file_ = *v;
      }
      Add("otlp.endpoint.https", Level::kInfo, shown_var + " uses https://",
          otlp_ca_file_.empty()
              ? "The SDK verifies the server's certificate against the system's trust store."
              : "doctor verifies the server's certificate with CA file " + otlp_ca_file_ + ".",
          "for a self-signed certificate, point the SDK at it: "
          "OTEL_EXPORTER_OTLP_CERTIFICATE=FILE (Node also NODE_EXTRA_CA_CERTS=FILE), and pass "
          "doctor --ca-file FILE");
    }
    auto parsed = net::ParseHttpUrl(otlp_url_);
    if (!parsed.ok()) {
      Add("otlp.endpoint.invalid", Level::kFail, shown_var + "='" + raw + "' is not a valid URL",
          std::string(parsed.status().message()),
          "export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318");
      return false;
    }
    otlp_target_ = *parsed;
    if (raw.find("://") != std::string::npos &&
        raw.find(':', raw.find("://") + 3) == std::string::npos) {
      Add("otlp.endpoint.no_port", Level::kWarn, shown_var + " has no port, so SDKs use port 80",
          "Ariadne's OTLP/HTTP port is 4318 unless `ariadne serve --otlp-http` says otherwise.",
          "add the port, e.g. http://" + otlp_target_.host + ":4318");
    }

    if (grpc) {
      Add("otlp.protocol.grpc", Level::kFail,
          "OTEL_EXPORTER_OTLP_PROTOCOL=grpc, but Ariadne receives OTLP over HTTP only",
          "A gRPC exporter would connect to " + otlp_target_.host + ":" +
              std::to_string(otlp_target_.port) + " with HTTP/2 and get no answer it understands.",
          "export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf and "
          "OTEL_EXPORTER_OTLP_ENDPOINT=http://" +
              otlp_target_.host + ":4318");
      return false;
    }
    const size_t failures_before = CountFailures();
    if (otlp_target_.port == 4317) {
      Add("otlp.endpoint.grpc_port", Level::kFail,
          "Port 4317 is the OTLP/gRPC port, but the protocol is " + protocol,
          "OTLP over HTTP goes to port 4318; 4317 is where gRPC exporters connect.",
          "export " + shown_var + "=" + ReplacePort(raw, 4318));
    }

    // The endpoint path.
    if (traces.empty()) {
      std::string base = generic;
      while (!base.empty() && base.back() == '/') base.pop_back();
      if (EndsWith(base, "/v1/traces")) {
        const std::string fixed = base.substr(0, base.size() - std::string("/v1/traces").size());
        Add("otlp.endpoint.double_path", Level::kFail,
            "OTEL_EXPORTER_OTLP_ENDPOINT already ends in /v1/traces",
            "It is a base URL: the SDK appends /v1/traces and would post to " + otlp_url_ +
                " (/v1/traces twice), which the receiver answers with 404.",
            "export OTEL_EXPORTER_OTLP_ENDPOINT=" + fixed +
                " (without /v1/traces), or put the full URL in "
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
      } else if (CountFailures() == failures_before) {
        Add("otlp.endpoint", Level::kOk, "OTLP endpoint: spans are posted to " + otlp_url_);
      }
    } else {
      if (!generic.empty()) {
        Add("otlp.endpoint.both", Level::kInfo,
            "Both endpoint variables are set; OTEL_EXPORTER_OTLP_TRACES_ENDPOINT wins for spans");
      }
      if (!EndsWith(otlp_target_.path, "/v1/traces")) {
        std::string fixed = traces;
        while (!fixed.empty() && fixed.back() == '/') fixed.pop_back();
        Add("otlp.traces_endpoint.path", Level::kFail,
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT does not end in /v1/traces",
            "This variable is used as is (nothing is appended), so spans are posted to " +
                otlp_url_ + ".",
            "export OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=" + fixed +
                "/v1/traces (or set OTEL_EXPORTER_OTLP_ENDPOINT=" + fixed + " instead)");
      } else if (CountFailures() == failures_before) {
        Add("otlp.endpoint", Level::kOk, "OTLP endpoint: spans are posted to " + otlp_url_);
      }
    }

    CheckHeaders();
    return true;
  }

  static std::string ReplacePort(const std::string& url, int port) {
    size_t host_start = url.find("://");
    host_start = host_start == std::string::npos ? 0 : host_start + 3;
    size_t path = url.find('/', host_start);
    std::string authority =
        url.substr(host_start, path == std::string::npos ? path : path - host_start);
    size_t colon = authority.rfind(':');
    if (colon != std::string::npos) authority = authority.substr(0, colon);
    return url.substr(0, host_start) + authority + ":" + std::to_string(port) +
           (path == std::string::npos ? "" : url.substr(path));
  }

  void CheckHeaders() {
    const char* var = IsSet("OTEL_EXPORTER_OTLP_TRACES_HEADERS")
                          ? "OTEL_EXPORTER_OTLP_TRACES_HEADERS"
                          : "OTEL_EXPORTER_OTLP_HEADERS";
    const std::string raw = Value(var);
    for (const std::string& member : Split(raw, ',')) {
      const std::string m = Trim(member);
      if (m.empty()) continue;
      size_t eq = m.find('=');
      if (eq == std::string::npos) {
        size_t colon = m.find(':');
        if (colon != std::string::npos) {
          Add("headers.colon", Level::kFail,
              std::string(var) + " member '" + m.substr(0, colon) + ": …' uses ':'",
              "Members are key=value (like W3C baggage), not HTTP's 'Name: value'; SDKs drop "
              "this one.",
              std::string("export ") + var + "=" + Trim(m.substr(0, colon)) + "=" +
                  (Lower(Trim(m.substr(0, colon))) == "x-honeycomb-team" ? "${HONEYCOMB_API_KEY}"
                                                                         : "VALUE"));
        } else {
          Add("headers.malformed", Level::kFail,
              std::string(var) + " member '" + m + "' has no '=' and is dropped", "",
              "write members as key=value separated by commas");
        }
      } else if (Trim(m.substr(0, eq)).empty()) {
        Add("headers.malformed", Level::kFail,
            std::string(var) + " member '" + m + "' has an empty key and is dropped", "",
            "write members as key=value separated by commas");
      }
    }
    for (auto& [k, v] : sdk::ParseKeyValueList(raw)) headers_.emplace_back(Lower(k), v);

    const std::string api_key = Value("HONEYCOMB_API_KEY");
    for (const auto& [k, v] : headers_) {
      if (k == "x-honeycomb-team" || k == "authorization") {
        has_key_header_ = true;
        key_value_ = v;
        if (k == "authorization" && Lower(v).rfind("bearer ", 0) == 0) {
          key_value_ = Trim(v.substr(7));
        }
      }
    }
    if (has_key_header_ && key_value_.empty()) {
      key_empty_ = true;  // judged after the send: harmless without keys, 401 with them
    } else if (has_key_header_ && !api_key.empty() && api_key != key_value_) {
      Add("key.differs", Level::kWarn,
          "The key in " + std::string(var) + " differs from HONEYCOMB_API_KEY",
          "The SDK sends the header's key (" + Mask(key_value_) + "); HONEYCOMB_API_KEY (" +
              Mask(api_key) + ") is not used.",
          std::string("export ") + var + "=x-honeycomb-team=${HONEYCOMB_API_KEY}");
    } else if (!has_key_header_ && !api_key.empty()) {
      Add("key.not_in_headers", Level::kWarn,
          "HONEYCOMB_API_KEY is set but " + std::string(var) + " carries no x-honeycomb-team",
          "Plain OpenTelemetry SDKs do not read HONEYCOMB_API_KEY (Honeycomb's distros and "
          "Cruddur add it themselves); doctor sends what a plain SDK sends.",
          std::string("export ") + var + "=x-honeycomb-team=${HONEYCOMB_API_KEY}");
    }
  }

  // --- OTLP send -------------------------------------------------------------------------------

  TestSpan MakeSpan(std::string trace_id, std::string name) {
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

  void SendOtlp() {
    TestSpan span = MakeSpan(RandomHex(rng_, 16), "ariadne doctor (OTLP)");
    otlp_trace_id_ = span.trace_id;
    const std::string body = json_body_ ? EncodeJson(span) : EncodeProtobuf(span);
    net::HeaderList headers = {
        {"Content-Type", json_body_ ? "application/json" : "application/x-protobuf"},
        {"User-Agent", "ariadne-doctor"}};
    for (const auto& [k, v] : headers_) {
      if (k != "content-type" && k != "content-length" && k != "host") headers.emplace_back(k, v);
    }
    const std::string where = otlp_target_.host + ":" + std::to_string(otlp_target_.port);
    net::HttpClient client(otlp_target_.host, otlp_target_.port, io_timeout_);
    Secure(&client, otlp_target_.tls, otlp_ca_file_);
    auto response = client.Request("POST", otlp_target_.path, headers, body);
    if (!response.ok()) {
      Add("otlp.unreachable", Level::kFail, "OTLP: nothing answers at " + where,
          std::string(response.status().message()) +
              ". The SDK's exports fail and its spans "
              "are dropped.",
          "start `ariadne serve`, or point OTEL_EXPORTER_OTLP_ENDPOINT at its OTLP/HTTP port "
          "(printed as `listening otlp-http HOST:PORT`; default http://127.0.0.1:4318)");
      return;
    }
    const int status = response->status;
    const std::string message = ErrorMessage(response->body);
    if (status == 200) {
      Add("otlp.sent", Level::kOk,
          "OTLP: the receiver accepted the test span (" +
              std::string(json_body_ ? "http/json" : "http/protobuf") + " to " + otlp_url_ + ")");
      if (key_empty_) {
        Add("key.empty", Level::kWarn,
            "x-honeycomb-team is empty, accepted only because this "
            "server has no keys",
            "With no keys every request goes to environment 'default'. Once keys exist (`ariadne "
            "keys create`) this app gets 401" +
                std::string(IsSet("HONEYCOMB_API_KEY")
                                ? "."
                                : "; HONEYCOMB_API_KEY is unset, so "
                                  "x-honeycomb-team=${HONEYCOMB_API_KEY} expanded to nothing."),
            "export HONEYCOMB_API_KEY=<key>, then set "
            "OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team=${HONEYCOMB_API_KEY} again");
      }
      ReadBack("otlp", "OTLP", otlp_trace_id_, span.span_id, deadline_);
      return;
    }
    if (status == 401) {
      if (message.find("unknown") != std::string::npos) {
        Add("key.unknown", Level::kFail, "OTLP: the server rejects the key (401 unknown API key)",
            "The key sent (" + Mask(key_value_) + ") is not one of the server's keys.",
            "use a key from `ariadne keys list --data-dir DIR` (or create one with `ariadne keys "
            "create --env NAME`) in OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team=KEY");
      } else if (key_empty_) {
        const bool key_unset = !IsSet("HONEYCOMB_API_KEY");
        Add("key.empty", Level::kFail,
            "OTLP: 401 — x-honeycomb-team is empty" +
                std::string(key_unset ? " (HONEYCOMB_API_KEY is not set)" : ""),
            std::string(key_unset ? "OTEL_EXPORTER_OTLP_HEADERS was written as "
                                    "x-honeycomb-team=${HONEYCOMB_API_KEY} while "
                                    "HONEYCOMB_API_KEY was unset, so the key expanded to "
                                    "nothing. "
                                  : "") +
                "This server has keys and answers: " + message,
            "export HONEYCOMB_API_KEY=<a key from `ariadne keys list`>, then "
            "export OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team=${HONEYCOMB_API_KEY}");
      } else {
        Add("key.missing", Level::kFail, "OTLP: 401 — no key is sent, and this server requires one",
            message,
            "export OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team=<a key from `ariadne keys "
            "list`>");
      }
      return;
    }
    const bool doubled = otlp_target_.path.find("/v1/traces/v1/traces") != std::string::npos;
    if ((status == 404 || status == 405) && !doubled && otlp_target_.path == "/v1/traces") {
      const bool is_query_api =
          server_ok_ && otlp_target_.host == server_.host && otlp_target_.port == server_.port;
      Add("otlp.not_otlp", Level::kFail,
          "OTLP: " + where + " is not an OTLP/HTTP receiver (" + std::to_string(status) +
              " for POST /v1/traces)",
          (is_query_api ? "That is Ariadne's query API (--server), not its OTLP port. "
                        : "Something listens there (the query API or the X-Ray port?), but it "
                          "does not take OTLP. ") +
              message,
          "point OTEL_EXPORTER_OTLP_ENDPOINT at the OTLP/HTTP port (printed by `ariadne serve` as "
          "`listening otlp-http HOST:PORT`; default http://127.0.0.1:4318)");
      return;
    }
    if (status == 404) {
      Add("otlp.not_found", Level::kFail,
          "OTLP: " + where + " answered 404 for POST " + otlp_target_.path,
          doubled ? "The path has /v1/traces twice (see the endpoint finding)."
                  : "Ariadne accepts spans at POST /v1/traces only. " + message,
          doubled ? "drop /v1/traces from OTEL_EXPORTER_OTLP_ENDPOINT"
                  : "use a base URL in OTEL_EXPORTER_OTLP_ENDPOINT (http://HOST:4318); the SDK "
                    "adds /v1/traces");
      return;
    }
    Add("otlp.rejected", Level::kFail,
        "OTLP: " + where + " answered " + std::to_string(status) + " for the test span", message,
        status == 415 ? "send application/x-protobuf or application/json"
                      : "see the server's message above");
  }

  // Polls the query API for `trace_id` until `span_id` shows up or `budget` passes.
  bool ReadBack(const std::string& id, const std::string& label, const std::string& trace_id,
                const std::string& span_id, std::chrono::milliseconds budget,
                const std::string& not_found_detail = {}, const std::string& not_found_fix = {}) {
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
        : last.empty() ? "The span went somewhere, but not to the server behind --server."
                       : last,
        not_found_fix.empty()
            ? "make sure the endpoint and --server belong to the same `ariadne serve` (or raise "
              "--timeout)"
            : not_found_fix);
    return false;
  }

  // --- X-Ray -----------------------------------------------------------------------------------

  bool CheckXRayConfig() {
    const std::string address = Value("AWS_XRAY_DAEMON_ADDRESS");
    xray_configured_ = !address.empty() || IsSet("AWS_XRAY_URL");
    if (!xray_configured_) {
      Add("xray.skipped", Level::kInfo,
          "X-Ray is not configured (no AWS_XRAY_DAEMON_ADDRESS); not testing it");
      return false;
    }
    if (address.empty()) {
      Add("xray.address.default", Level::kInfo,
          "AWS_XRAY_DAEMON_ADDRESS is not set; X-Ray SDKs use 127.0.0.1:2000");
    } else if (!sdk::ParseXRayDaemonAddress(address, daemon_)) {
      Add("xray.address.invalid", Level::kFail,
          "AWS_XRAY_DAEMON_ADDRESS='" + address + "' is not a daemon address",
          "The forms are HOST:PORT (UDP and TCP on the same address) or "
          "'tcp:HOST:PORT udp:HOST:PORT'; X-Ray SDKs refuse it or fall back to 127.0.0.1:2000.",
          "export AWS_XRAY_DAEMON_ADDRESS=127.0.0.1:2000 (the address `ariadne serve` prints as "
          "`listening xray HOST:PORT`)");
      return false;
    }
    const std::string udp = daemon_.udp_host + ":" + std::to_string(daemon_.udp_port);
    const std::string tcp = daemon_.tcp_host + ":" + std::to_string(daemon_.tcp_port);
    Add("xray.address", Level::kOk,
        udp == tcp
            ? "X-Ray daemon address: " + udp + " (segments over UDP, sampling over TCP)"
            : "X-Ray daemon address: segments to UDP " + udp + ", sampling API on TCP " + tcp);
    if (const std::string pattern = Value("AWS_XRAY_URL"); !pattern.empty()) {
      Add("xray.naming", Level::kInfo,
          "AWS_XRAY_URL: requests to hosts matching '" + pattern +
              "' are named after the host; others '" + xray_name_ + "'");
    }
    return true;
  }

  void SendXRay() {
    const std::string tcp = daemon_.tcp_host + ":" + std::to_string(daemon_.tcp_port);
    const std::string udp = daemon_.udp_host + ":" + std::to_string(daemon_.udp_port);
    const std::string fix_address =
        "start `ariadne serve` (it listens for X-Ray on 127.0.0.1:2000, or --xray HOST:PORT), or "
        "set AWS_XRAY_DAEMON_ADDRESS to the address it prints as `listening xray HOST:PORT`";
    // UDP never reports errors, so ask the X-Ray API on the TCP side of the daemon address.
    {
      net::HttpClient client(daemon_.tcp_host, daemon_.tcp_port, io_timeout_);
      auto response =
          client.Request("POST", "/GetSamplingRules", {{"Content-Type", "application/json"}}, "{}");
      if (response.ok() && response->status == 400 &&
          response->body.find("speaks HTTPS") != std::string::npos) {
        // The X-Ray port was started with TLS: X-Ray SDKs ask it for sampling rules over plain
        // HTTP, so they cannot; doctor itself goes on over TLS.
        daemon_tls_ = true;
        Add("xray.daemon_tls", Level::kWarn,
            "X-Ray: the X-Ray API on " + tcp + " speaks HTTPS only",
            "X-Ray SDKs ask the daemon address for sampling rules over plain HTTP, so they fall "
            "back to their local rules (segments over UDP still arrive).",
            "keep the X-Ray port plain: `ariadne serve --tls-listeners otlp-http,http`");
        Secure(&client, true, config_.tls.ca_file);
        response = client.Request("POST", "/GetSamplingRules",
                                  {{"Content-Type", "application/json"}}, "{}");
      }
      if (!response.ok()) {
        Add("xray.daemon_unreachable", Level::kFail,
            "X-Ray: nothing listens on " + tcp + " (no X-Ray daemon there)",
            std::string(response.status().message()) +
                ". UDP gives no errors, so SDKs send segments to " + udp +
                " into the void and fall back to local sampling rules.",
            fix_address);
      } else if (response->status != 200) {
        Add("xray.not_daemon", Level::kFail,
            "X-Ray: " + tcp + " answered " + std::to_string(response->status) +
                " to POST /GetSamplingRules",
            "Something listens there, but it is not an X-Ray daemon or Ariadne's X-Ray port.",
            fix_address);
      } else {
        xray_api_ok_ = true;
        Json j = Json::parse(response->body, nullptr, false);
        std::string rules;
        size_t count = 0;
        if (j.is_object() && j.contains("SamplingRuleRecords") &&
            j["SamplingRuleRecords"].is_array()) {
          for (const auto& record : j["SamplingRuleRecords"]) {
            const Json& rule = record.contains("SamplingRule") ? record["SamplingRule"] : record;
            if (!rule.is_object()) continue;
            ++count;
            if (!rules.empty()) rules += ", ";
            rules += rule.value("RuleName", "?");
          }
        }
        Add("xray.daemon", Level::kOk,
            "X-Ray: the sampling API answers on " + tcp + " (" + std::to_string(count) +
                " sampling rule" + (count == 1 ? "" : "s") + (rules.empty() ? "" : ": " + rules) +
                ")");
      }
    }

    // The segment: what an X-Ray SDK sends for one sampled request.
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const double end_s = std::chrono::duration<double>(now).count();
    char epoch[16];
    std::snprintf(
        epoch, sizeof(epoch), "%08x",
        static_cast<unsigned>(std::chrono::duration_cast<std::chrono::seconds>(now).count()));
    const std::string random = RandomHex(rng_, 12);
    const std::string xray_id = std::string("1-") + epoch + "-" + random;
    const std::string segment_id = RandomHex(rng_, 8);
    Json segment = {{"name", xray_name_},  {"id", segment_id},
                    {"trace_id", xray_id}, {"start_time", end_s - 0.002},
                    {"end_time", end_s},   {"annotations", {{"ariadne_doctor", true}}}};
    const std::string datagram = "{\"format\": \"json\", \"version\": 1}\n" + DumpJson(segment);
    if (Status st = SendUdp(daemon_.udp_host, daemon_.udp_port, datagram); !st.ok()) {
      Add("xray.udp_failed", Level::kFail, "X-Ray: cannot send a segment to UDP " + udp,
          std::string(st.message()), fix_address);
      return;
    }
    Add("xray.sent", Level::kInfo,
        "X-Ray: sent a test segment to UDP " + udp + " (trace " + xray_id + ")");
    // Nobody listening on TCP makes it very likely nobody reads UDP there either: wait less.
    const auto budget = xray_api_ok_ ? deadline_
                                     : std::min<std::chrono::milliseconds>(
                                           deadline_, std::chrono::milliseconds(1500));
    ReadBack("xray", "X-Ray", xray_id, segment_id, budget,
             xray_api_ok_ ? std::string() : "nothing listens at the daemon address (see above)",
             xray_api_ok_ ? "the daemon at " + udp +
                                " is not the server behind --server, or it dropped the datagram "
                                "(check `curl SERVER/metrics | grep xray`)"
                          : fix_address);
  }

  static Status SendUdp(const std::string& host, uint16_t port, const std::string& payload) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* result = nullptr;
    const std::string port_text = std::to_string(port);
    int rc = getaddrinfo(host.c_str(), port_text.c_str(), &hints, &result);
    if (rc != 0) return Status::Unavailable("cannot resolve " + host + ": " + gai_strerror(rc));
    Status status = Status::Unavailable("no usable address for " + host);
    for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
      int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
      if (fd < 0) continue;
      ssize_t n = sendto(fd, payload.data(), payload.size(), 0, ai->ai_addr, ai->ai_addrlen);
      close(fd);
      if (n == static_cast<ssize_t>(payload.size())) {
        status = Status::Ok();
        break;
      }
      status = Status::Unavailable("sendto failed");
    }
    freeaddrinfo(result);
    return status;
  }

  // The X-Ray groups' filter expressions must name the service this app reports as.
  void CheckGroups() {
    const std::string tcp = daemon_.tcp_host + ":" + std::to_string(daemon_.tcp_port);
    net::HttpClient client(daemon_.tcp_host, daemon_.tcp_port, io_timeout_);
    Secure(&client, daemon_tls_, config_.tls.ca_file);
    std::vector<std::pair<std::string, std::string>> groups;  // name, filter
    std::string token;
    for (int page = 0; page < 20; ++page) {
      Json request = Json::object();
      if (!token.empty()) request["NextToken"] = token;
      auto response = client.Request("POST", "/Groups", {{"Content-Type", "application/json"}},
                                     DumpJson(request));
      if (!response.ok() || response->status != 200) {
        Add("xray.groups_unreadable", Level::kInfo,
            "X-Ray: groups not checked (POST /Groups on " + tcp + " answered " +
                (response.ok() ? std::to_string(response->status)
                               : std::string(response.status().message())) +
                ")");
        return;
      }
      Json j = Json::parse(response->body, nullptr, false);
      if (!j.is_object()) return;
      for (const auto& g : j.value("Groups", Json::array())) {
        if (!g.is_object()) continue;
        std::string filter = g.contains("FilterExpression") && g["FilterExpression"].is_string()
                                 ? g["FilterExpression"].get<std::string>()
                                 : "";
        groups.emplace_back(g.value("GroupName", ""), filter);
      }
      token = j.contains("NextToken") && j["NextToken"].is_string()
                  ? j["NextToken"].get<std::string>()
                  : "";
      if (token.empty()) break;
    }

    std::set<std::string> known = KnownServices();
    const std::string pattern = Value("AWS_XRAY_URL");
    for (const auto& [name, filter] : groups) {
      if (Trim(filter).empty()) continue;
      auto parsed = query::xray_filter::Filter::Parse(filter);
      if (!parsed.ok()) {
        Add("xray.group_invalid", Level::kWarn,
            "X-Ray: group '" + name + "' has a filter that does not parse",
            std::string(parsed.status().message()), "fix the group's filter expression");
        continue;
      }
      std::vector<std::string> names = parsed->ReferencedServices();
      if (names.empty()) continue;
      bool ours = false;
      for (const auto& n : names) {
        if (n == xray_name_ || n == service_ ||
            (!pattern.empty() && sdk::XRayWildcardMatch(pattern, n))) {
          ours = true;
        }
      }
      if (ours) {
        Add("xray.group", Level::kOk,
            "X-Ray: group '" + name + "' selects this service (" + filter + ")");
        continue;
      }
      std::vector<std::string> unknown;
      for (const auto& n : names) {
        if (!known.count(n)) unknown.push_back(n);
      }
      if (unknown.empty()) {
        Add("xray.group_other", Level::kInfo,
            "X-Ray: group '" + name + "' is about other services (" + filter + ")");
        continue;
      }
      const std::string& bad = unknown.front();
      std::string hint;
      if (bad.find('$') != std::string::npos) {
        hint = " The '$' is a shell variable that was meant to be expanded or quoted away.";
      } else if (!bad.empty() && bad.front() == '-') {
        hint =
            " It looks like the shell expanded a variable such as $backend to nothing "
            "(double quotes around the filter).";
      }
      std::string fixed = filter;
      for (const auto& n : unknown) {
        const std::string quoted = "\"" + n + "\"";
        for (size_t pos = fixed.find(quoted); pos != std::string::npos;
             pos = fixed.find(quoted, pos + xray_name_.size() + 2)) {
          fixed.replace(pos, quoted.size(), "\"" + xray_name_ + "\"");
        }
      }
      std::string quoted_names;
      for (const auto& n : unknown) {
        if (!quoted_names.empty()) quoted_names += ", ";
        quoted_names += "\"" + n + "\"";
      }
      Add("xray.group_service", Level::kFail,
          "X-Ray: group '" + name + "' names service " + quoted_names + ", not '" + xray_name_ +
              "'",
          "Its filter " + filter +
              " refers to a service that never sent data, while this app "
              "reports as '" +
              xray_name_ + "', so the group matches none of its traces." + hint,
          "aws --endpoint-url http://" + tcp + " xray update-group --group-name " + name +
              " --filter-expression '" + fixed + "'");
    }
  }

  std::set<std::string> KnownServices() {
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

  // --- report ----------------------------------------------------------------------------------

  int Report() {
    size_t fails = 0, warns = 0;
    for (const auto& f : findings_) {
      fails += f.level == Level::kFail;
      warns += f.level == Level::kWarn;
    }
    if (config_.json) {
      Json out;
      out["ok"] = fails == 0;
      out["problems"] = fails;
      out["warnings"] = warns;
      out["service_name"] = service_;
      out["server"] = config_.server;
      Json env = Json::array();
      for (const auto& e : env_) {
        Json item = {{"name", e.name}, {"set", e.value.has_value()}, {"meaning", e.meaning}};
        if (e.value) item["value"] = e.secret ? MaskHeaders(*e.value) : *e.value;
        env.push_back(std::move(item));
      }
      out["environment"] = std::move(env);
      Json list = Json::array();
      for (const auto& f : findings_) {
        list.push_back({{"id", f.id},
                        {"level", LevelName(f.level)},
                        {"title", f.title},
                        {"detail", f.detail},
                        {"fix", f.fix}});
      }
      out["findings"] = std::move(list);
      out["otlp"] = {{"configured", otlp_configured_},
                     {"url", otlp_url_},
                     {"trace_id", otlp_trace_id_},
                     {"read_back", otlp_read_back_}};
      out["xray"] = {{"configured", xray_configured_}, {"read_back", xray_read_back_}};
      std::printf("%s\n", DumpJson(out, 2).c_str());
      return fails == 0 ? 0 : 1;
    }

    std::printf("ariadne doctor: what an app with this environment would do\n\nEnvironment\n");
    for (const auto& e : env_) {
      if (e.value) {
        std::printf("  %s=%s\n", e.name.c_str(),
                    (e.secret ? MaskHeaders(*e.value) : *e.value).c_str());
        std::printf("      %s\n", e.meaning.c_str());
      } else {
        std::string_view rest = e.meaning;
        if (rest.rfind("not set", 0) == 0) rest.remove_prefix(7);
        while (!rest.empty() && (rest.front() == ':' || rest.front() == ' ')) rest.remove_prefix(1);
        std::printf("  %s is not set%s%s\n", e.name.c_str(), rest.empty() ? "" : " \u2014 ",
                    std::string(rest).c_str());
      }
    }
    std::printf("\nChecks\n");
    for (const auto& f : findings_) {
      std::printf("  %s %s\n", std::string(LevelMark(f.level)).c_str(), f.title.c_str());
      if (!f.detail.empty() && f.level != Level::kOk) std::printf("      %s\n", f.detail.c_str());
      if (!f.fix.empty() && (f.level == Level::kFail || f.level == Level::kWarn)) {
        std::printf("      fix: %s\n", f.fix.c_str());
      }
    }
    std::printf("\n");
    if (fails == 0) {
      std::string paths;
      if (otlp_read_back_) paths = "OTLP";
      if (xray_read_back_) paths += paths.empty() ? "X-Ray" : " and X-Ray";
      std::printf(
          "Verdict: everything works%s%s\n",
          paths.empty() ? "" : (" — test spans arrived through " + paths).c_str(),
          warns ? (" (" + std::to_string(warns) + " warning" + (warns == 1 ? "" : "s") + " above)")
                      .c_str()
                : "");
    } else {
      std::printf("Verdict: %zu problem%s found — see the fixes above\n", fails,
                  fails == 1 ? "" : "s");
    }
    std::fflush(stdout);
    return fails == 0 ? 0 : 1;
  }

  // Header lists and keys with their values masked.
  static std::string MaskHeaders(const std::string& value) {
    if (value.find('=') == std::string::npos) return Mask(value);
    std::string out;
    for (const std::string& member : Split(value, ',')) {
      if (!out.empty()) out += ",";
      size_t eq = member.find('=');
      if (eq == std::string::npos) {
        out += member;
        continue;
      }
      const std::string key = Lower(Trim(member.substr(0, eq)));
      const std::string v = Trim(member.substr(eq + 1));
      out += member.substr(0, eq + 1);
      out += (key == "x-honeycomb-team" || key == "authorization") ? (v.empty() ? "" : Mask(v)) : v;
    }
    return out;
  }

  // Adds `Authorization: Bearer KEY` when a read key was given (--key or $ARIADNE_KEY).
  net::HeaderList ReadHeaders(net::HeaderList headers) const {
    if (!read_key_.empty()) headers.emplace_back("Authorization", "Bearer " + read_key_);
    return headers;
  }
  // The "error" of a JSON error body, else the body.
  static std::string ErrorText(const std::string& body) {
    Json j = Json::parse(body, nullptr, false);
    if (j.is_object() && j.contains("error") && j["error"].is_string()) {
      return j["error"].get<std::string>();
    }
    return body.substr(0, 300);
  }

  // TLS for an https:// target, verified with `ca_file` (or the system's trust store).
  void Secure(net::HttpClient* client, bool tls, const std::string& ca_file) const {
    if (tls) client->UseTls({ca_file, !config_.tls.insecure});
  }

  const DoctorConfig& config_;
  const std::string read_key_ = ApiKeyFrom(config_.key);
  const std::chrono::milliseconds deadline_;
  const std::chrono::milliseconds io_timeout_;
  std::mt19937_64 rng_;
  std::vector<EnvEntry> env_;
  std::vector<Finding> findings_;

  net::ParsedUrl server_;
  bool server_ok_ = false;

  std::string service_;
  std::string service_source_;
  std::string xray_name_;
  std::vector<std::pair<std::string, std::string>> resource_;

  bool otlp_configured_ = false;
  bool json_body_ = false;
  std::string otlp_url_;
  net::ParsedUrl otlp_target_;
  std::string otlp_ca_file_;  // https OTLP endpoint: --ca-file or OTEL_EXPORTER_OTLP_*CERTIFICATE
  bool daemon_tls_ = false;   // the X-Ray TCP port answered "use https"
  std::vector<std::pair<std::string, std::string>> headers_;
  bool has_key_header_ = false;
  bool key_empty_ = false;
  std::string key_value_;
  std::string otlp_trace_id_;
  bool otlp_read_back_ = false;

  bool xray_configured_ = false;
  sdk::XRayDaemonAddress daemon_;
  bool xray_api_ok_ = false;
  bool xray_read_back_ = false;
};

}  // namespace

int RunDoctor(const DoctorConfig& config) {
  if (!(config.timeout_seconds > 0)) {
    std::fprintf(stderr, "ariadne doctor: --timeout must be a positive number of seconds\n");
    return 2;
  }
  Doctor doctor(config);
  return doctor.Run();
}

}  // namespace ariadne::cli
