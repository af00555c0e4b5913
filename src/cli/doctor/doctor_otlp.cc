#include <chrono>
#include <string>

#include "ariadne/sdk/otlp_exporter.h"
#include "ariadne/sdk/resource.h"
#include "cli/doctor/doctor.h"
#include "cli/doctor/grpc_export.h"

namespace ariadne::cli::doctor {

// Returns true when a test span should be sent over OTLP.
bool Doctor::CheckOtlpConfig() {
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
  protocol_ = protocol;
  grpc_ = protocol == "grpc";
  if (protocol == "http/json") {
    json_body_ = true;
  } else if (!grpc_ && protocol != "http/protobuf") {
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
        "export " + shown_var + "=http://127.0.0.1:" + (grpc_ ? "4317" : "4318"));
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
  if (grpc_) return CheckGrpcEndpoint(shown_var, raw);
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

  const size_t failures_before = CountFailures();
  if (otlp_target_.port == 4317) {
    Add("otlp.endpoint.grpc_port", Level::kFail,
        "Port 4317 is the OTLP/gRPC port, but the protocol is " + protocol,
        "OTLP over HTTP goes to port 4318; 4317 is where gRPC exporters connect "
        "(OTEL_EXPORTER_OTLP_PROTOCOL=grpc).",
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
          "This variable is used as is (nothing is appended), so spans are posted to " + otlp_url_ +
              ".",
          "export OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=" + fixed +
              "/v1/traces (or set OTEL_EXPORTER_OTLP_ENDPOINT=" + fixed + " instead)");
    } else if (CountFailures() == failures_before) {
      Add("otlp.endpoint", Level::kOk, "OTLP endpoint: spans are posted to " + otlp_url_);
    }
  }

  CheckHeaders();
  return true;
}

void Doctor::CheckHeaders() {
  const char* var = IsSet("OTEL_EXPORTER_OTLP_TRACES_HEADERS") ? "OTEL_EXPORTER_OTLP_TRACES_HEADERS"
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

void Doctor::SendOtlp() {
  TestSpan span = MakeSpan(RandomHex(rng_, 16), "ariadne doctor (OTLP)");
  otlp_trace_id_ = span.trace_id;
  if (grpc_) {
    SendOtlpGrpc(span);
    return;
  }
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
    ReportEmptyKeyAccepted();
    ReadBack("otlp", "OTLP", otlp_trace_id_, span.span_id, deadline_);
    return;
  }
  if (status == 401) {
    ReportKeyRejected(message);
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
                : "Ariadne's OTLP/HTTP port takes spans at POST /v1/traces (OTLP/gRPC has a port "
                  "of its own, 4317, and Honeycomb events go to /1/events and /1/batch). " +
                      message,
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

bool Doctor::CheckGrpcEndpoint(const std::string& shown_var, const std::string& raw) {
  // gRPC exporters take the endpoint as HOST:PORT (the scheme says TLS or not); no path is added.
  otlp_url_ = raw;
  auto parsed = net::ParseHttpUrl(raw);
  if (!parsed.ok()) {
    Add("otlp.endpoint.invalid", Level::kFail, shown_var + "='" + raw + "' is not a valid URL",
        std::string(parsed.status().message()), "export " + shown_var + "=http://127.0.0.1:4317");
    return false;
  }
  otlp_target_ = *parsed;
  const std::string where = otlp_target_.host + ":" + std::to_string(otlp_target_.port);
  const size_t failures_before = CountFailures();
  if (raw.find(':', raw.find("://") + 3) == std::string::npos) {
    Add("otlp.endpoint.no_port", Level::kWarn,
        shown_var + " has no port, so gRPC exporters use port " + std::to_string(otlp_target_.port),
        "Ariadne's OTLP/gRPC port is 4317 unless `ariadne serve --otlp-grpc` says otherwise.",
        "add the port, e.g. " + ReplacePort(raw, 4317));
  }
  if (otlp_target_.port == 4318) {
    Add("otlp.endpoint.http_port", Level::kFail,
        "Port 4318 is the OTLP/HTTP port, but the protocol is grpc",
        "gRPC exporters connect to port 4317 (`ariadne serve --otlp-grpc`); 4318 takes OTLP over "
        "HTTP/1.1.",
        "export " + shown_var + "=" + ReplacePort(raw, 4317) +
            " (or keep the port and export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf)");
  }
  if (otlp_target_.path != "/" && !otlp_target_.path.empty()) {
    Add("otlp.endpoint.grpc_path", Level::kInfo,
        shown_var + " has a path (" + otlp_target_.path + "), which gRPC exporters ignore",
        "Over gRPC the method name says where spans go (TraceService/Export); only HOST:PORT "
        "counts.",
        "export " + shown_var + "=" + raw.substr(0, raw.find('/', raw.find("://") + 3)));
  }
  if (CountFailures() == failures_before) {
    Add("otlp.endpoint", Level::kOk,
        "OTLP endpoint: gRPC exporters call TraceService/Export on " + where +
            (otlp_target_.tls ? " over TLS" : " (plaintext)"));
  }
  CheckHeaders();
  return true;
}

void Doctor::SendOtlpGrpc(const TestSpan& span) {
  std::vector<std::pair<std::string, std::string>> metadata;  // gRPC sets user-agent itself
  for (const auto& [k, v] : headers_) {
    if (k == "content-type" || k == "content-length" || k == "host" || k == "te" ||
        k == "user-agent" || k.rfind("grpc-", 0) == 0 || k.rfind(':', 0) == 0) {
      continue;
    }
    metadata.emplace_back(k, v);
  }
  const std::string where = otlp_target_.host + ":" + std::to_string(otlp_target_.port);
  GrpcTarget target{otlp_target_.host, otlp_target_.port, otlp_target_.tls, otlp_ca_file_,
                    !config_.tls.insecure};
  const GrpcAnswer answer = ExportOverGrpc(target, EncodeProtobuf(span), metadata, io_timeout_);
  const std::string code = GrpcCodeName(answer.code);
  if (answer.code == 0) {
    Add("otlp.sent", Level::kOk,
        "OTLP: the receiver accepted the test span (grpc, TraceService/Export on " + where +
            (otlp_target_.tls ? " over TLS" : "") + ")");
    ReportEmptyKeyAccepted();
    ReadBack("otlp", "OTLP", otlp_trace_id_, span.span_id, deadline_);
    return;
  }
  if (answer.code == 16) {  // UNAUTHENTICATED
    ReportKeyRejected(answer.message);
    return;
  }
  if (answer.code == 12) {  // UNIMPLEMENTED
    Add("otlp.not_otlp", Level::kFail,
        "OTLP: " + where + " speaks gRPC but has no TraceService (UNIMPLEMENTED)", answer.message,
        "point OTEL_EXPORTER_OTLP_ENDPOINT at Ariadne's OTLP/gRPC port (printed by `ariadne "
        "serve` as `listening otlp-grpc HOST:PORT`; default http://127.0.0.1:4317)");
    return;
  }
  if (answer.code == 14 || answer.code == 4) {  // UNAVAILABLE, DEADLINE_EXCEEDED
    if (!TcpConnects(otlp_target_.host, otlp_target_.port, io_timeout_)) {
      Add("otlp.unreachable", Level::kFail, "OTLP: nothing answers at " + where,
          code + ": " + answer.message + ". The SDK's gRPC exports fail and its spans are dropped.",
          "start `ariadne serve`, or point OTEL_EXPORTER_OTLP_ENDPOINT at its OTLP/gRPC port "
          "(printed as `listening otlp-grpc HOST:PORT`; default http://127.0.0.1:4317)");
      return;
    }
    const bool is_query_api =
        server_ok_ && otlp_target_.host == server_.host && otlp_target_.port == server_.port;
    const bool tls_mismatch = answer.message.find("SSL") != std::string::npos ||
                              answer.message.find("ssl") != std::string::npos ||
                              answer.message.find("handshake") != std::string::npos;
    Add("otlp.not_grpc", Level::kFail,
        "OTLP: " + where + " accepts connections but the gRPC call fails (" + code + ")",
        (is_query_api ? "That is Ariadne's query API (--server), not its OTLP/gRPC port. "
         : tls_mismatch
             ? "The TLS handshake failed: the scheme (http:// or https://) does not match the "
               "port, or the certificate is not trusted. "
             : "Something listens there, but not a gRPC server (Ariadne's OTLP/HTTP port?). ") +
            answer.message,
        tls_mismatch ? "use https:// only for a port `ariadne serve` prints as "
                       "`listening otlp-grpc https://…`, and trust its certificate with "
                       "OTEL_EXPORTER_OTLP_CERTIFICATE=FILE (doctor: --ca-file FILE)"
                     : "point OTEL_EXPORTER_OTLP_ENDPOINT at the OTLP/gRPC port (printed by "
                       "`ariadne serve` as `listening otlp-grpc HOST:PORT`; default "
                       "http://127.0.0.1:4317)");
    return;
  }
  Add("otlp.rejected", Level::kFail, "OTLP: " + where + " answered " + code + " for the test span",
      answer.message,
      answer.code == 8 ? "the server is busy (RESOURCE_EXHAUSTED): retry, or see /metrics"
                       : "see the server's message above");
}

void Doctor::ReportKeyRejected(const std::string& message) {
  if (message.find("unknown") != std::string::npos) {
    Add("key.unknown", Level::kFail,
        "OTLP: the server rejects the key (" + std::string(grpc_ ? "UNAUTHENTICATED" : "401") +
            " unknown API key)",
        "The key sent (" + Mask(key_value_) + ") is not one of the server's keys.",
        "use a key from `ariadne keys list --data-dir DIR` (or create one with `ariadne keys "
        "create --env NAME`) in OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team=KEY");
  } else if (key_empty_) {
    const bool key_unset = !IsSet("HONEYCOMB_API_KEY");
    Add("key.empty", Level::kFail,
        "OTLP: " + std::string(grpc_ ? "UNAUTHENTICATED" : "401") + " — x-honeycomb-team is empty" +
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
    Add("key.missing", Level::kFail,
        "OTLP: " + std::string(grpc_ ? "UNAUTHENTICATED" : "401") +
            " — no key is sent, and this server requires one",
        message,
        "export OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team=<a key from `ariadne keys "
        "list`>");
  }
}

void Doctor::ReportEmptyKeyAccepted() {
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
}
}  // namespace ariadne::cli::doctor
