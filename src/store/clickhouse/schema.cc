#include "store/clickhouse/schema.h"

#include <chrono>

namespace ariadne::store::clickhouse {
namespace {

constexpr std::string_view kColumns =
    "environment, service, name, start_ns, end_ns, trace_id, span_id, parent_id, kind, "
    "status_code, status_message, trace_state, scope_name, scope_version, num_events, num_links, "
    "weight, http_method, http_route, db_system, attr_keys, attr_types, attr_str, attr_num, "
    "attr_resource, raw";

std::string SpansTable(const std::string& db) {
  return "CREATE TABLE IF NOT EXISTS " + db +
         ".spans (\n"
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

std::string TraceIndexTable(const std::string& db) {
  return "CREATE TABLE IF NOT EXISTS " + db +
         ".trace_index (\n"
         "  environment String,\n"
         "  trace_id FixedString(16),\n"
         "  min_start_ns UInt64,\n"
         "  max_start_ns UInt64\n"
         ") ENGINE = MergeTree\n"
         "PARTITION BY toYYYYMMDD(toDateTime(intDiv(min_start_ns, 1000000000), 'UTC'))\n"
         "ORDER BY trace_id\n"
         "SETTINGS index_granularity = 1024";
}

std::string TraceIndexView(const std::string& db) {
  return "CREATE MATERIALIZED VIEW IF NOT EXISTS " + db + ".trace_index_mv TO " + db +
         ".trace_index AS SELECT environment, trace_id, min(start_ns) AS min_start_ns, "
         "max(start_ns) AS max_start_ns FROM " +
         db + ".spans GROUP BY environment, trace_id";
}

}  // namespace

std::string_view SpanColumnList() { return kColumns; }

Status EnsureSchema(ClickHouseClient* client, std::vector<std::string>* created) {
  const std::string& db = client->config().database;
  ARIADNE_ASSIGN_OR_RETURN(
      std::string existing,
      client->Query("SELECT name FROM system.tables WHERE database = '" + db + "' FORMAT TSV",
                    false));
  auto exists = [&](std::string_view name) {
    return ("\n" + existing).find("\n" + std::string(name) + "\n") != std::string::npos;
  };
  ARIADNE_ASSIGN_OR_RETURN(
      std::string databases,
      client->Query("SELECT count() FROM system.databases WHERE name = '" + db + "'", false));
  if (databases.rfind("0", 0) == 0) {
    ARIADNE_RETURN_IF_ERROR(client->Query("CREATE DATABASE IF NOT EXISTS " + db, false).status());
    created->push_back("database " + db);
  }
  struct Object {
    std::string_view name;
    std::string sql;
  };
  const Object objects[] = {
      {"schema_version",
       "CREATE TABLE IF NOT EXISTS " + db +
           ".schema_version (version UInt32, applied_unix_nano UInt64, note String) "
           "ENGINE = TinyLog"},
      {"spans", SpansTable(db)},
      {"trace_index", TraceIndexTable(db)},
      {"trace_index_mv", TraceIndexView(db)},
  };
  for (const Object& object : objects) {
    if (exists(object.name)) continue;
    ARIADNE_RETURN_IF_ERROR(client->Query(object.sql, false).status());
    created->push_back("table " + db + "." + std::string(object.name));
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
    created->push_back("schema_version " + std::to_string(kSchemaVersion));
  }
  return Status::Ok();
}

}  // namespace ariadne::store::clickhouse
