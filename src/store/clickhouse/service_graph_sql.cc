#include "store/clickhouse/service_graph_sql.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>

#include "store/clickhouse/row_codec.h"

namespace ariadne::store::clickhouse {
namespace {

constexpr uint64_t kMinuteNano = 60ULL * 1'000'000'000ULL;
constexpr std::string_view kZero = "toFixedString(unhex('0000000000000000'), 8)";
constexpr std::string_view kDuration = "if(end_ns > start_ns, end_ns - start_ns, 0) / 1e6";
constexpr std::string_view kStats =
    "count(), countIf(status_code = 2), quantile(0.5)(d), quantile(0.95)(d), quantile(0.99)(d)";
constexpr uint8_t kService = 0, kDatabase = 1, kRemote = 2;
constexpr const char* kKindNames[] = {"service", "database", "remote"};

struct Edge {
  uint64_t requests = 0, errors = 0;
  double p50 = 0, p95 = 0, p99 = 0;
};
struct Node {
  uint8_t kind = kService;
  uint64_t requests = 0, errors = 0;
};

std::string Attr(std::string_view key) {
  return "attr_str[indexOf(attr_keys, " + SqlString(key) + ")]";
}

}  // namespace

Result<ServiceGraph> GetServiceGraphSql(ClickHouseClient* client, std::string_view environment,
                                        uint64_t start_unix_nano, uint64_t end_unix_nano) {
  const uint64_t first = start_unix_nano / kMinuteNano, last = end_unix_nano / kMinuteNano;
  const std::string env = environment.empty() ? "" : " AND environment = " + SqlString(environment);
  const std::string window = "start_ns >= " + std::to_string(first * kMinuteNano) +
                             " AND start_ns < " + std::to_string((last + 1) * kMinuteNano) + env;
  // Parents may start up to an hour before the window.
  const uint64_t early = first * kMinuteNano > 3600 * 1'000'000'000ULL
                             ? first * kMinuteNano - 3600 * 1'000'000'000ULL
                             : 0;
  const std::string wide = "start_ns >= " + std::to_string(early) + " AND start_ns < " +
                           std::to_string((last + 1) * kMinuteNano) + env;
  const std::string settings = " SETTINGS distributed_product_mode = 'local' FORMAT TabSeparated";
  const std::string d = std::string(kDuration) + " AS d";
  const std::string parent_edges =
      "SELECT p_service, service, " + std::string(kStats) +
      " FROM (SELECT environment, trace_id, parent_id, service, status_code, " + d +
      " FROM spans WHERE " + window + " AND parent_id != " + std::string(kZero) +
      ") ANY INNER JOIN (SELECT environment, trace_id, span_id AS parent_id, service AS "
      "p_service FROM spans WHERE " +
      wide +
      ") USING (environment, trace_id, parent_id) WHERE p_service != service GROUP BY "
      "p_service, service" +
      settings;
  const std::string peer = "if(" + Attr("peer.service") + " != '', " + Attr("peer.service") + ", ";
  const std::string database_edges =
      "SELECT service, " + peer + "db_system) AS target, " + std::string(kStats) +
      " FROM (SELECT *, " + d + " FROM spans WHERE " + window +
      " AND kind = 3 AND db_system != '') GROUP BY service, target" + settings;
  const std::string remote_edges =
      "SELECT service, peer, " + std::string(kStats) +
      " FROM (SELECT environment, trace_id, span_id AS parent_id, service, status_code, " + d +
      ", multiIf(" + Attr("peer.service") + " != '', " + Attr("peer.service") + ", " +
      Attr("server.address") + " != '', " + Attr("server.address") + ", " + Attr("net.peer.name") +
      ") AS peer FROM spans WHERE " + window +
      " AND kind = 3 AND db_system = '') ANY LEFT JOIN (SELECT environment, trace_id, parent_id, "
      "groupUniqArray(service) AS child_services FROM spans WHERE " +
      window + " AND parent_id != " + std::string(kZero) +
      " GROUP BY environment, trace_id, parent_id) USING (environment, trace_id, parent_id) "
      "WHERE peer != '' AND length(arrayFilter(x -> x != service, child_services)) = 0 GROUP BY "
      "service, peer" +
      settings;
  const std::string service_nodes =
      "SELECT service, count(), countIf(status_code = 2) FROM spans WHERE " + window +
      " AND (kind IN (2, 5) OR parent_id = " + std::string(kZero) + ") GROUP BY service" + settings;

  std::map<std::pair<std::string, std::string>, Edge> edges;
  std::map<std::string, Node> nodes;
  auto add_edges = [&](const std::string& sql, int target_kind) -> Status {
    ARIADNE_ASSIGN_OR_RETURN(std::string text, client->Query(sql));
    for (const auto& row : ParseTsv(text)) {
      if (row.size() < 7) continue;
      Edge& e = edges[{row[0], row[1]}];
      const uint64_t requests = std::strtoull(row[2].c_str(), nullptr, 10);
      const uint64_t errors = std::strtoull(row[3].c_str(), nullptr, 10);
      if (requests > e.requests) {  // the larger contribution's latencies
        e.p50 = std::atof(row[4].c_str());
        e.p95 = std::atof(row[5].c_str());
        e.p99 = std::atof(row[6].c_str());
      }
      e.requests += requests;
      e.errors += errors;
      if (target_kind != kService) {
        Node& n = nodes[row[1]];
        n.kind = std::max<uint8_t>(n.kind, static_cast<uint8_t>(target_kind));
        n.requests += requests;
        n.errors += errors;
      }
    }
    return Status::Ok();
  };
  ARIADNE_RETURN_IF_ERROR(add_edges(parent_edges, kService));
  ARIADNE_RETURN_IF_ERROR(add_edges(database_edges, kDatabase));
  ARIADNE_RETURN_IF_ERROR(add_edges(remote_edges, kRemote));
  ARIADNE_ASSIGN_OR_RETURN(std::string text, client->Query(service_nodes));
  for (const auto& row : ParseTsv(text)) {
    if (row.size() < 3) continue;
    Node& n = nodes[row[0]];
    n.requests += std::strtoull(row[1].c_str(), nullptr, 10);
    n.errors += std::strtoull(row[2].c_str(), nullptr, 10);
  }
  ServiceGraph graph;
  for (const auto& [key, e] : edges) {
    nodes.try_emplace(key.first);
    nodes.try_emplace(key.second);
    graph.edges.push_back(
        ServiceGraphEdge{key.first, key.second, e.requests, e.errors, e.p50, e.p95, e.p99});
  }
  for (const auto& [name, n] : nodes)
    graph.nodes.push_back(ServiceGraphNode{name, kKindNames[n.kind], n.requests, n.errors});
  return graph;
}

}  // namespace ariadne::store::clickhouse
