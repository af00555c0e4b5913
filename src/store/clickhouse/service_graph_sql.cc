#include "store/clickhouse/service_graph_sql.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>

#include "store/clickhouse/row_codec.h"
#include "store/service_graph_rules.h"

namespace ariadne::store::clickhouse {
namespace {

constexpr uint64_t kMinuteNano = kGraphBucketNano;
constexpr std::string_view kZero = "toFixedString(unhex('0000000000000000'), 8)";
constexpr std::string_view kDuration = "if(end_ns > start_ns, end_ns - start_ns, 0) / 1e6";
constexpr std::string_view kStats =
    "count(), countIf(status_code = 2), quantile(0.5)(d), quantile(0.95)(d), quantile(0.99)(d)";
std::string Attr(std::string_view key) {
  return "attr_str[indexOf(attr_keys, " + SqlString(key) + ")]";
}

// A CLIENT span decoded from an X-Ray subsegment of namespace remote/aws.
std::string XrayCall() { return Attr(kXrayNamespaceAttribute) + " != ''"; }

// ClientTargetOf's remote peer: an X-Ray subsegment's name, else the first of kPeerAttributes
// that is set ('' when none).
std::string PeerExpression() {
  std::string sql = "multiIf(" + XrayCall() + ", name, ";
  for (std::string_view key : kPeerAttributes) sql += Attr(key) + " != '', " + Attr(key) + ", ";
  return sql + "'')";
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
  const std::string db_name = Attr(kDbNameAttribute);
  const std::string database_edges =
      "SELECT service, multiIf(" + XrayCall() + ", name, " + db_name + " != '', " + db_name +
      ", db_system) AS target, " + std::string(kStats) + " FROM (SELECT *, " + d +
      " FROM spans WHERE " + window +
      " AND kind = 3 AND db_system != '') GROUP BY service, target" + settings;
  const std::string remote_edges =
      "SELECT service, peer, " + std::string(kStats) +
      " FROM (SELECT environment, trace_id, span_id AS parent_id, service, status_code, " + d +
      ", " + PeerExpression() + " AS peer FROM spans WHERE " + window +
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

  GraphAssembly graph;
  auto add_edges = [&](const std::string& sql, GraphNodeKind target_kind) -> Status {
    ARIADNE_ASSIGN_OR_RETURN(std::string text, client->Query(sql));
    for (const auto& row : ParseTsv(text)) {
      if (row.size() < 7) continue;
      const uint64_t requests = std::strtoull(row[2].c_str(), nullptr, 10);
      const uint64_t errors = std::strtoull(row[3].c_str(), nullptr, 10);
      graph.AddEdge(row[0], row[1], requests, errors, std::atof(row[4].c_str()),
                    std::atof(row[5].c_str()), std::atof(row[6].c_str()));
      if (target_kind != GraphNodeKind::kService)
        graph.AddNode(row[1], target_kind, requests, errors);
    }
    return Status::Ok();
  };
  ARIADNE_RETURN_IF_ERROR(add_edges(parent_edges, GraphNodeKind::kService));
  ARIADNE_RETURN_IF_ERROR(add_edges(database_edges, GraphNodeKind::kDatabase));
  ARIADNE_RETURN_IF_ERROR(add_edges(remote_edges, GraphNodeKind::kRemote));
  ARIADNE_ASSIGN_OR_RETURN(std::string text, client->Query(service_nodes));
  for (const auto& row : ParseTsv(text)) {
    if (row.size() < 3) continue;
    graph.AddNode(row[0], GraphNodeKind::kService, std::strtoull(row[1].c_str(), nullptr, 10),
                  std::strtoull(row[2].c_str(), nullptr, 10));
  }
  return std::move(graph).Finish();
}

}  // namespace ariadne::store::clickhouse
