// SearchTracePageSql: TraceReader::SearchTracePage on ClickHouse, paged in SQL so a page never
// transfers the window (docs/clickhouse.md, "Paged trace search").
//
// One candidate statement per round: ClickHouse groups the spans of the traces trace_index places
// in the window (GROUP BY environment, trace_id), computes each trace's order key (earliest span
// start), latest start, end, error count and root span, applies the trace-level filter that
// SQL can decide (root service/name, duration, has_error, the "some span matches" span filters
// as countIf(...) > 0) in HAVING, resumes after the token as a keyset condition, orders by
// (start, trace id) and answers LIMIT rows. The candidates' spans are then fetched whole (one
// statement) and summarized here (SummarizeTrace: the X-Ray facts need the whole trace), which
// applies what SQL cannot (root_fault, annotations) and the caller's `refine`. When those reject
// candidates, further rounds (doubling, at most kMaxRounds for a page with a limit) fill the
// page; a page cut short by the bound still carries `next` (the last trace examined).
//
// Assumes, as GetTraceNear does, that a trace's spans start within a day of each other: spans
// from a day before the window to a day after it are read.
//
// Threads: reentrant; the client is thread-safe.
#pragma once

#include <cstddef>

#include "common/status.h"
#include "query/exec_context.h"
#include "store/clickhouse/clickhouse_client.h"
#include "store/trace_reader.h"

namespace ariadne::store::clickhouse {

inline constexpr size_t kMaxTracePageRounds = 12;

// `max_rounds`: candidate statements per page with a limit (tests lower it).
Result<TracePage> SearchTracePageSql(ClickHouseClient* client, const TracePageRequest& request,
                                     const query::ExecContext& context,
                                     size_t max_rounds = kMaxTracePageRounds);

}  // namespace ariadne::store::clickhouse
