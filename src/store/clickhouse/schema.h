// The ClickHouse schema of the span store (version kSchemaVersion), and EnsureSchema, which
// creates what is missing at start and says what it created. docs/clickhouse.md shows the tables.
//
//   spans        MergeTree, one row per span, PARTITION BY day of start time (UTC, toYYYYMMDD),
//                ORDER BY (environment, service, name, start_ns). Common attributes are promoted
//                to their own columns (kPromoted); every other attribute of the span and of its
//                resource (a span attribute wins over a resource attribute of the same key) sits
//                in parallel arrays attr_keys / attr_types (model::ValueType) / attr_str (text
//                form) / attr_num (number form) / attr_resource (1: from the resource). `raw` keeps
//                the span with its resource, scope, events and links in the WAL's batch encoding
//                (docs/formats/wal.md), so trace by id returns every span exactly as received.
//   trace_index  MergeTree ORDER BY trace_id, partitioned like spans: per inserted block and
//                trace, the earliest and latest span start. Filled by the materialized view
//                trace_index_mv on every insert into spans, so trace by id reads a few index
//                granules and then only the day partitions that hold the trace.
//   xray_config  MergeTree ORDER BY version: the X-Ray groups, sampling rules and tags, a row per
//                saved version (xray_config_table.h), shared by every node. Added to version 1
//                databases when missing (a new table changes nothing existing).
//   xray_sampling_stats  MergeTree by day of report: the SDKs' sampling statistics as every node
//                received them, so the nodes split each rule's reservoir among the fleet's clients.
//   schema_version  one row per applied schema version.
//
// Cluster mode (`?cluster=NAME` in the URL, ClickHouseConfig::cluster): on every server of the
// URL, the MergeTree tables above are created as spans_local / trace_index_local (the view
// trace_index_mv fills trace_index_local from spans_local on the server that stores the rows),
// and `spans` / `trace_index` become Distributed tables over them, sharded by
// cityHash64(trace_id): every span of a trace, and its trace_index rows, land on one shard, and
// reads and writes address the Distributed names exactly as on one server. xray_config and
// xray_sampling_stats are *_local tables plus Distributed ones with a constant sharding key (one
// shard holds them).
// Ariadne creates the tables on each server itself (no ON CLUSTER, so no ZooKeeper needed); the
// cluster must be in every server's remote_servers and the URL must list every server.
//
// SQL keeps to what ClickHouse 18.16 (Debian 12) and current releases both accept: no Map type,
// no TTL clause, no LowCardinality, no CODEC clauses.
//
// Threads: pure functions; EnsureSchema runs statements through the (thread-safe) client.
#pragma once

#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/clickhouse/clickhouse_client.h"

namespace ariadne::store::clickhouse {

constexpr int kSchemaVersion = 1;

// The Distributed tables' sharding expression (cluster mode).
inline constexpr std::string_view kShardingKey = "cityHash64(trace_id)";

// Attribute keys with a column of their own: the value goes there when it is a non-empty
// string (the common case), else into the arrays.
struct PromotedAttribute {
  std::string_view key;
  std::string_view column;
};
inline constexpr PromotedAttribute kPromoted[] = {
    {"service.name", "service"},
    {"http.method", "http_method"},
    {"http.route", "http_route"},
    {"db.system", "db_system"},
};

// The column list of `spans` in insert order (RowBinary rows follow it).
std::string_view SpanColumnList();

// Creates the database, tables and view when missing; checks the stored schema version. Appends
// a line per object created to `*created` (empty when everything existed).
Status EnsureSchema(ClickHouseClient* client, std::vector<std::string>* created);

}  // namespace ariadne::store::clickhouse
