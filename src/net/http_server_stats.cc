// Prometheus rendering of HttpServerStats (see http_server.h).
#include <string>
#include <utility>
#include <vector>

#include "net/http_server.h"

namespace ariadne::net {

std::string HttpServerStatsPrometheus(
    const std::vector<std::pair<std::string, HttpServerStats>>& listeners) {
  struct Metric {
    const char* name;
    const char* type;
    const char* help;
    uint64_t HttpServerStats::*field;
  };
  static constexpr Metric kMetrics[] = {
      {"ariadne_http_connections_open", "gauge", "Open connections per listener.",
       &HttpServerStats::connections_open},
      {"ariadne_http_connections_accepted_total", "counter", "Connections accepted.",
       &HttpServerStats::connections_accepted},
      {"ariadne_http_connections_refused_total", "counter",
       "Connections closed at once because the listener had max connections open.",
       &HttpServerStats::connections_refused},
      {"ariadne_http_accept_backoffs_total", "counter",
       "Accept pauses because the process ran out of file descriptors (EMFILE/ENFILE).",
       &HttpServerStats::accept_backoffs},
      {"ariadne_http_rejected_before_body_total", "counter",
       "Requests answered from their headers alone (bad key, type or size), body not read.",
       &HttpServerStats::rejected_before_body},
      {"ariadne_http_body_budget_refused_total", "counter",
       "Requests answered 503 because the listener's body byte budget was full.",
       &HttpServerStats::body_budget_refused},
      {"ariadne_http_body_bytes_buffered", "gauge",
       "Bytes of request bodies held now (reserved against the listener's budget).",
       &HttpServerStats::body_bytes_buffered},
      {"ariadne_http_tls_handshake_failures_total", "counter",
       "TLS handshakes that failed or did not finish within the handshake timeout.",
       &HttpServerStats::tls_handshake_failures},
      {"ariadne_http_plaintext_on_tls_total", "counter",
       "Plain HTTP requests refused with 400 by a listener that speaks HTTPS.",
       &HttpServerStats::plaintext_on_tls},
  };
  std::string out;
  for (const Metric& metric : kMetrics) {
    out.append("# HELP ").append(metric.name).append(" ").append(metric.help).append("\n");
    out.append("# TYPE ").append(metric.name).append(" ").append(metric.type).append("\n");
    for (const auto& [listener, stats] : listeners) {
      out.append(metric.name)
          .append("{listener=\"")
          .append(listener)
          .append("\"} ")
          .append(std::to_string(stats.*(metric.field)))
          .append("\n");
    }
  }
  return out;
}

}  // namespace ariadne::net
