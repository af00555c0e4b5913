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

// The spans of `where` with `svc`: the span's service, or for a span with none (an X-Ray
// subsegment sent alone) its parent's, else its grandparent's (both looked up in `wide`); a
// non-root span left with none is left out, as the embedded engine leaves it out. `columns` are
// computed inside, where the spans' own columns are in scope.
std::string Resolved(const std::string& columns, const std::string& where,
                     const std::string& wide) {
  const std::string zero(kZero);
  // One JOIN per SELECT (older ClickHouse servers take no more), and the service-less spans (few)
  // always on the right, where ClickHouse builds its hash table; the window's spans stream by on
  // the left. Aliases sit a level down where they would shadow a column of the same SELECT.
  const std::string parents =
      "SELECT environment, trace_id, child AS span_id, p1, gp FROM (SELECT environment, trace_id, "
      "span_id AS parent_id, p1, gp FROM (SELECT environment, trace_id, span_id, service AS p1, "
      "parent_id AS gp FROM spans WHERE " +
      wide +
      ")) ALL INNER JOIN (SELECT environment, trace_id, parent_id, span_id AS child FROM spans "
      "WHERE " +
      wide + " AND service = '' AND parent_id != " + zero +
      ") USING (environment, trace_id, parent_id)";
  const std::string grandparents =
      "SELECT environment, trace_id, child AS span_id, p2 AS rservice FROM (SELECT environment, "
      "trace_id, span_id AS gp, service AS p2 FROM spans WHERE " +
      wide + ") ALL INNER JOIN (SELECT environment, trace_id, span_id AS child, gp FROM (" +
      parents + ") WHERE p1 = '') USING (environment, trace_id, gp)";
  const std::string resolution = "SELECT environment, trace_id, span_id, p1 AS rservice FROM (" +
                                 parents + ") WHERE p1 != '' UNION ALL " + grandparents;
  return "(SELECT " + columns + ", if(service != '' OR parent_id = " + zero +
         ", service, rservice) AS svc FROM spans ANY LEFT JOIN (" + resolution +
         ") USING (environment, trace_id, span_id) WHERE " + where +
         " AND (svc != '' OR parent_id = " + zero + "))";
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
  const std::string zero(kZero);
  // Edges into a span from its parent: another service, or the same one entered again (a
  // SERVER/CONSUMER child: a self-edge).
  const std::string parent_edges =
      "SELECT p_service, svc, " + std::string(kStats) +
      " FROM (SELECT environment, trace_id, parent_id, svc, kind, status_code, d FROM " +
      Resolved("environment, trace_id, parent_id, kind, status_code, " + d,
               window + " AND parent_id != " + zero, wide) +
      ") ANY INNER JOIN (SELECT environment, trace_id, span_id AS parent_id, svc AS p_service "
      "FROM " +
      Resolved("environment, trace_id, span_id", wide, wide) +
      ") USING (environment, trace_id, parent_id) WHERE p_service != svc OR kind IN (2, 5) "
      "GROUP BY p_service, svc" +
      settings;
  const std::string db_name = Attr(kDbNameAttribute);
  const std::string database_edges =
      "SELECT svc, multiIf(" + XrayCall() + ", name, " + db_name + " != '', " + db_name +
      ", db_system) AS target, " + std::string(kStats) + " FROM " +
      Resolved("name, attr_keys, attr_str, db_system, status_code, " + d,
               window + " AND kind = 3 AND db_system != ''", wide) +
      " GROUP BY svc, target" + settings;
  // A call is answered by a child of another service or one entering a service.
  const std::string remote_edges =
      "SELECT svc, peer, " + std::string(kStats) +
      " FROM (SELECT environment, trace_id, span_id AS parent_id, svc, status_code, d, peer FROM " +
      Resolved("environment, trace_id, span_id, status_code, " + d + ", " + PeerExpression() +
                   " AS peer",
               window + " AND kind = 3 AND db_system = ''", wide) +
      ") ANY LEFT JOIN (SELECT environment, trace_id, parent_id, groupUniqArray(svc) AS "
      "child_services, max(kind IN (2, 5)) AS entered FROM " +
      Resolved("environment, trace_id, parent_id, kind", window + " AND parent_id != " + zero,
               wide) +
      " GROUP BY environment, trace_id, parent_id) USING (environment, trace_id, parent_id) "
      "WHERE peer != '' AND entered = 0 AND length(arrayFilter(x -> x != svc, child_services)) "
      "= 0 GROUP BY svc, peer" +
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
