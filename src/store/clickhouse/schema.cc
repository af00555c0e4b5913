#include "store/clickhouse/schema.h"

#include <chrono>

namespace ariadne::store::clickhouse {
namespace {

constexpr std::string_view kColumns =
    "environment, service, name, start_ns, end_ns, trace_id, span_id, parent_id, kind, "
    "status_code, status_message, trace_state, scope_name, scope_version, num_events, num_links, "
    "weight, http_method, http_route, db_system, attr_keys, attr_types, attr_str, attr_num, "
    "attr_resource, raw";

std::string SpansTable(const std::string& db, std::string_view table) {
  return "CREATE TABLE IF NOT EXISTS " + db + "." + std::string(table) +
         " (\n"
         "  environment String,\n"
         "  service String,\n"
         "  name String,\n"
         "  start_ns UInt64,\n"
         "  end_ns UInt64,\n"
         "  trace_id FixedString(16),\n"
         "  span_id FixedString(8),\n"
         "  parent_id FixedString(8),\n"
         "  kind UInt8,\n"
         "  status_code UInt8,\n"
         "  status_message String,\n"
         "  trace_state String,\n"
         "  scope_name String,\n"
         "  scope_version String,\n"
         "  num_events UInt32,\n"
         "  num_links UInt32,\n"
         "  weight Float64,\n"
         "  http_method String,\n"
         "  http_route String,\n"
         "  db_system String,\n"
         "  attr_keys Array(String),\n"
         "  attr_types Array(UInt8),\n"
         "  attr_str Array(String),\n"
         "  attr_num Array(Float64),\n"
         "  attr_resource Array(UInt8),\n"
         "  raw String\n"
         ") ENGINE = MergeTree\n"
         "PARTITION BY toYYYYMMDD(toDateTime(intDiv(start_ns, 1000000000), 'UTC'))\n"
         "ORDER BY (environment, service, name, start_ns)\n"
         "SETTINGS index_granularity = 8192";
}

std::string TraceIndexTable(const std::string& db, std::string_view table) {
  return "CREATE TABLE IF NOT EXISTS " + db + "." + std::string(table) +
         " (\n"
         "  environment String,\n"
         "  trace_id FixedString(16),\n"
         "  min_start_ns UInt64,\n"
         "  max_start_ns UInt64\n"
         ") ENGINE = MergeTree\n"
         "PARTITION BY toYYYYMMDD(toDateTime(intDiv(min_start_ns, 1000000000), 'UTC'))\n"
         "ORDER BY trace_id\n"
         "SETTINGS index_granularity = 1024";
}

std::string TraceIndexView(const std::string& db, std::string_view spans, std::string_view index) {
  return "CREATE MATERIALIZED VIEW IF NOT EXISTS " + db + ".trace_index_mv TO " + db + "." +
         std::string(index) +
         " AS SELECT environment, trace_id, min(start_ns) AS min_start_ns, "
         "max(start_ns) AS max_start_ns FROM " +
         db + "." + std::string(spans) + " GROUP BY environment, trace_id";
}

// The X-Ray configuration, a row per version (xray_config_table.h).
std::string XrayConfigTable(const std::string& db, std::string_view table) {
  return "CREATE TABLE IF NOT EXISTS " + db + "." + std::string(table) +
         " (version UInt64, writer String, written_unix_nano UInt64, document String) "
         "ENGINE = MergeTree ORDER BY version";
}

// The SDKs' sampling statistics of every node (xray_config_table.h).
std::string SamplingStatsTable(const std::string& db, std::string_view table) {
  return "CREATE TABLE IF NOT EXISTS " + db + "." + std::string(table) +
         " (rule String, client_id String, node String, reported_unix_s Float64, "
         "request_count Int64, sampled_count Int64, borrow_count Int64) ENGINE = MergeTree "
         "PARTITION BY toYYYYMMDD(toDateTime(toUInt32(reported_unix_s), 'UTC')) "
         "ORDER BY (rule, reported_unix_s)";
}

// A Distributed table over `local` on every shard of `cluster`, rows placed by trace id.
std::string DistributedTable(const std::string& db, std::string_view table, std::string_view local,
                             const std::string& cluster) {
  return "CREATE TABLE IF NOT EXISTS " + db + "." + std::string(table) + " AS " + db + "." +
         std::string(local) + " ENGINE = Distributed(" + cluster + ", " + db + ", " +
         std::string(local) + ", " + std::string(kShardingKey) + ")";
}

// The tables of one server: with `cluster` the local MergeTree tables and the Distributed
// tables over them, else the MergeTree tables under the names the reads use. `where` names the
// server in the lines added to `*created` (cluster mode).
Status EnsureServerSchema(ClickHouseClient* client, const std::string& where,
                          std::vector<std::string>* created) {
  const std::string& db = client->config().database;
  const std::string& cluster = client->config().cluster;
  ARIADNE_ASSIGN_OR_RETURN(
      std::string existing,
      client->Query(
          "SELECT name, engine FROM system.tables WHERE database = '" + db + "' FORMAT TSV",
          false));
  auto engine_of = [&](std::string_view name) -> std::string {
    const std::string key = "\n" + std::string(name) + "\t";
    const std::string all = "\n" + existing;
    const auto at = all.find(key);
    if (at == std::string::npos) return "";
    const auto end = all.find('\n', at + key.size());
    return all.substr(at + key.size(),
                      end == std::string::npos ? std::string::npos : end - at - key.size());
  };
  const std::string spans_engine = engine_of("spans");
  if (!spans_engine.empty() && (spans_engine == "Distributed") != !cluster.empty())
    return Status::FailedPrecondition(
        "the ClickHouse database " + db + where + " was created " +
        (cluster.empty() ? "for a cluster (its spans table is Distributed); add ?cluster=NAME to "
                           "--store"
                         : "for a single server (its spans table is " + spans_engine +
                               "); point --store at another database for the cluster"));
  ARIADNE_ASSIGN_OR_RETURN(
      std::string databases,
      client->Query("SELECT count() FROM system.databases WHERE name = '" + db + "'", false));
  if (databases.rfind("0", 0) == 0) {
    ARIADNE_RETURN_IF_ERROR(client->Query("CREATE DATABASE IF NOT EXISTS " + db, false).status());
    created->push_back("database " + db + where);
  }
  struct Object {
    std::string_view name;
    std::string sql;
  };
  std::vector<Object> objects = {
      {"schema_version",
       "CREATE TABLE IF NOT EXISTS " + db +
           ".schema_version (version UInt32, applied_unix_nano UInt64, note String) "
           "ENGINE = TinyLog"}};
  if (cluster.empty()) {
    objects.push_back({"spans", SpansTable(db, "spans")});
    objects.push_back({"trace_index", TraceIndexTable(db, "trace_index")});
    objects.push_back({"trace_index_mv", TraceIndexView(db, "spans", "trace_index")});
    objects.push_back({"xray_config", XrayConfigTable(db, "xray_config")});
    objects.push_back({"xray_sampling_stats", SamplingStatsTable(db, "xray_sampling_stats")});
  } else {
    objects.push_back({"spans_local", SpansTable(db, "spans_local")});
    objects.push_back({"trace_index_local", TraceIndexTable(db, "trace_index_local")});
    objects.push_back({"trace_index_mv", TraceIndexView(db, "spans_local", "trace_index_local")});
    objects.push_back({"spans", DistributedTable(db, "spans", "spans_local", cluster)});
    objects.push_back(
        {"trace_index", DistributedTable(db, "trace_index", "trace_index_local", cluster)});
    // One shard holds every configuration version (constant sharding key).
    objects.push_back({"xray_config_local", XrayConfigTable(db, "xray_config_local")});
    objects.push_back({"xray_config", "CREATE TABLE IF NOT EXISTS " + db + ".xray_config AS " + db +
                                          ".xray_config_local ENGINE = Distributed(" + cluster +
                                          ", " + db + ", xray_config_local, 0)"});
    objects.push_back(
        {"xray_sampling_stats_local", SamplingStatsTable(db, "xray_sampling_stats_local")});
    objects.push_back({"xray_sampling_stats",
                       "CREATE TABLE IF NOT EXISTS " + db + ".xray_sampling_stats AS " + db +
                           ".xray_sampling_stats_local ENGINE = "
                           "Distributed(" +
                           cluster + ", " + db + ", xray_sampling_stats_local, 0)"});
  }
  for (const Object& object : objects) {
    if (!engine_of(object.name).empty()) continue;
    ARIADNE_RETURN_IF_ERROR(client->Query(object.sql, false).status());
    created->push_back("table " + db + "." + std::string(object.name) + where);
  }
  ARIADNE_ASSIGN_OR_RETURN(std::string version, client->Query("SELECT max(version), count() FROM " +
                                                                  db + ".schema_version FORMAT TSV",
                                                              false));
  const int stored = std::atoi(version.c_str());
  const bool any = version.find('\t') != std::string::npos &&
                   std::atoi(version.c_str() + version.find('\t') + 1) > 0;
  if (any && stored > kSchemaVersion)
    return Status::FailedPrecondition(
        "the ClickHouse database " + db + " holds schema version " + std::to_string(stored) +
        ", newer than this ariadne understands (" + std::to_string(kSchemaVersion) +
        "); upgrade ariadne or point --store at another database");
  if (!any) {
    const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    ARIADNE_RETURN_IF_ERROR(client
                                ->Query("INSERT INTO " + db + ".schema_version VALUES (" +
                                            std::to_string(kSchemaVersion) + ", " +
                                            std::to_string(now) + ", 'created by ariadne')",
                                        false)
                                .status());
    created->push_back("schema_version " + std::to_string(kSchemaVersion) + where);
  }
  return Status::Ok();
}

}  // namespace

std::string_view SpanColumnList() { return kColumns; }

Status EnsureSchema(ClickHouseClient* client, std::vector<std::string>* created) {
  const ClickHouseConfig& config = client->config();
  if (config.cluster.empty()) return EnsureServerSchema(client, "", created);
  for (size_t i = 0; i < config.hosts.size(); ++i) {
    std::unique_ptr<ClickHouseClient> one = client->ForHost(i);
    const std::string where =
        " on " + config.hosts[i].host + ":" + std::to_string(config.hosts[i].port);
    ARIADNE_ASSIGN_OR_RETURN(
        std::string servers,
        one->Query("SELECT count() FROM system.clusters WHERE cluster = '" + config.cluster + "'",
                   false));
    const size_t count = static_cast<size_t>(std::atoi(servers.c_str()));
    if (count == 0)
      return Status::FailedPrecondition(
          "ClickHouse" + where + " has no cluster " + config.cluster +
          " in its remote_servers; add it there (docs/scale-out.md) or fix ?cluster= in --store");
    if (count > config.hosts.size())
      return Status::FailedPrecondition(
          "the ClickHouse cluster " + config.cluster + " has " + std::to_string(count) +
          " servers but --store names " + std::to_string(config.hosts.size()) +
          "; list every server of the cluster so ariadne can create its local tables on each");
    ARIADNE_RETURN_IF_ERROR(EnsureServerSchema(one.get(), where, created));
  }
  return Status::Ok();
}

}  // namespace ariadne::store::clickhouse
