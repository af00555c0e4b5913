// RunQuerySql: answers an aggregate query (query::QuerySpec) with SQL on ClickHouse, the same
// result the embedded executor gives (query/exec/finish.cc), and says what it pushed down.
//
// Pushed down (in SQL): the time window, environment, dataset and filters (AND/OR,
// every operator, attribute filters) in WHERE; breakdowns and time buckets in GROUP BY; COUNT,
// SUM, AVG, MIN, MAX, COUNT_DISTINCT (uniqExact), P001…P999 (`exact`: nearest rank over the
// sorted values, or quantileExactWeighted when spans carry sample rates; otherwise ClickHouse's
// `quantile`), HEATMAP (a first statement finds the value range, then sumMap counts the 40
// buckets). One to three statements per query: heatmap range (if any), groups WITH TOTALS (with
// breakdowns, or without time buckets), groups per time bucket (WITH TOTALS without breakdowns).
// Done here on the aggregated rows (few): havings, orders, limit, and picking the series of the
// groups that made the limit, and RATE_* (from the per-bucket AVG / SUM / MAX). Not supported
// (kUnimplemented, the message says so): CONCURRENCY. An X-Ray filter expression restricts to the
// traces it matches (`trace_ids`, chosen by the caller from whole traces).
//
// Threads: reentrant; the client is thread-safe.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "model/ids.h"
#include "query/exec_context.h"
#include "query/query_spec.h"
#include "store/clickhouse/clickhouse_client.h"

namespace ariadne::store::clickhouse {

// `trace_ids` non-null: only spans of these traces count.
Result<query::QueryResult> RunQuerySql(ClickHouseClient* client, const query::QuerySpec& spec,
                                       const query::ExecContext& context,
                                       const std::vector<model::TraceId>* trace_ids);

// The WHERE condition for a window, environment, dataset and filters (shared with trace search).
std::string WhereClause(const query::QuerySpec& spec);

}  // namespace ariadne::store::clickhouse
