// Zipkin: OTEL_EXPORTER_ZIPKIN_ENDPOINT (the OpenTelemetry Zipkin exporter's variable, used as is;
// default http://localhost:9411/api/v2/spans) selected by OTEL_TRACES_EXPORTER=zipkin or set on its
// own. Doctor posts one Zipkin v2 JSON span there and reads it back.
#include <string>

#include "cli/doctor/doctor.h"

namespace ariadne::cli::doctor {

bool Doctor::CheckZipkinConfig() {
  std::string url = Value("OTEL_EXPORTER_ZIPKIN_ENDPOINT");
  const bool selected = Lower(Value("OTEL_TRACES_EXPORTER")).find("zipkin") != std::string::npos;
  if (url.empty() && !selected) return false;
  zipkin_configured_ = true;
  if (url.empty()) {
    url = "http://localhost:9411/api/v2/spans";
    Add("zipkin.endpoint.default", Level::kInfo,
        "OTEL_TRACES_EXPORTER=zipkin without OTEL_EXPORTER_ZIPKIN_ENDPOINT: the exporter posts "
        "to " +
            url);
  }
  zipkin_url_ = url;
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    Add("zipkin.endpoint.scheme", Level::kFail,
        "OTEL_EXPORTER_ZIPKIN_ENDPOINT='" + url + "' does not start with http:// or https://",
        "The Zipkin exporter needs the full URL of the spans endpoint.",
        "export OTEL_EXPORTER_ZIPKIN_ENDPOINT=http://" + url);
    return false;
  }
  auto parsed = net::ParseHttpUrl(url);
  if (!parsed.ok()) {
    Add("zipkin.endpoint.invalid", Level::kFail,
        "OTEL_EXPORTER_ZIPKIN_ENDPOINT='" + url + "' is not a valid URL",
        std::string(parsed.status().message()),
        "export OTEL_EXPORTER_ZIPKIN_ENDPOINT=http://127.0.0.1:9411/api/v2/spans");
    return false;
  }
  zipkin_target_ = *parsed;
  std::string path = zipkin_target_.path;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (path != "/api/v2/spans") {
    Add("zipkin.endpoint.path", Level::kFail,
        "OTEL_EXPORTER_ZIPKIN_ENDPOINT does not end in /api/v2/spans",
        "The Zipkin exporter posts to the URL as is (nothing is appended), so spans would go to " +
            zipkin_target_.path + ".",
        "export OTEL_EXPORTER_ZIPKIN_ENDPOINT=" +
            url.substr(0, url.find('/', url.find("://") + 3)) + "/api/v2/spans");
    return false;
  }
  Add("zipkin.endpoint", Level::kOk, "Zipkin endpoint: spans are posted to " + url);
  return true;
}

void Doctor::SendZipkin() {
  TestSpan span = MakeSpan(RandomHex(rng_, 16), "ariadne doctor (Zipkin)");
  zipkin_trace_id_ = span.trace_id;
  const std::string where = zipkin_target_.host + ":" + std::to_string(zipkin_target_.port);
  net::HttpClient client(zipkin_target_.host, zipkin_target_.port, io_timeout_);
  Secure(&client, zipkin_target_.tls, config_.tls.ca_file);
  auto response =
      client.Request("POST", zipkin_target_.path,
                     {{"Content-Type", "application/json"}, {"User-Agent", "ariadne-doctor"}},
                     EncodeZipkinJson(span));
  const std::string fix_port =
      "point OTEL_EXPORTER_ZIPKIN_ENDPOINT at Ariadne's Zipkin port (printed by `ariadne serve` "
      "as `listening zipkin HOST:PORT`; default http://127.0.0.1:9411/api/v2/spans)";
  if (!response.ok()) {
    Add("zipkin.unreachable", Level::kFail, "Zipkin: nothing answers at " + where,
        std::string(response.status().message()) + ". The exporter's spans are dropped.",
        "start `ariadne serve` (Zipkin listens on 9411 unless --zipkin says otherwise), or " +
            fix_port);
    return;
  }
  const int status = response->status;
  if (status == 202 || status == 200) {
    Add("zipkin.sent", Level::kOk,
        "Zipkin: the receiver accepted the test span (JSON v2 to " + zipkin_url_ + ")");
    ReadBack("zipkin", "Zipkin", zipkin_trace_id_, span.span_id, deadline_);
    return;
  }
  const std::string body = Trim(response->body.substr(0, 300));
  if (status == 401) {
    Add("zipkin.key", Level::kFail, "Zipkin: 401 — this server requires a key", body,
        "Zipkin exporters send no key from the environment: configure the exporter's headers "
        "in code (x-honeycomb-team: KEY), or send over OTLP with OTEL_EXPORTER_OTLP_HEADERS");
    return;
  }
  if (status == 404 || status == 405) {
    Add("zipkin.not_zipkin", Level::kFail,
        "Zipkin: " + where + " is not a Zipkin receiver (" + std::to_string(status) + " for POST " +
            zipkin_target_.path + ")",
        body, fix_port);
    return;
  }
  Add("zipkin.rejected", Level::kFail,
      "Zipkin: " + where + " answered " + std::to_string(status) + " for the test span", body,
      "see the server's message above");
}

}  // namespace ariadne::cli::doctor
