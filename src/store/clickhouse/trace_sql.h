// Trace-level reads on ClickHouse: trace by id (through trace_index, so only the day partitions
// that hold the trace are read), whole traces of a window (ForEachTrace), trace search with
// summaries computed by ClickHouse, services and columns. The SpanStore contracts of these
// operations are in store/span_store.h; this file only turns them into SQL.
//
// Threads: reentrant; the client is thread-safe.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "query/exec_context.h"
#include "store/clickhouse/clickhouse_client.h"
#include "store/span_store.h"

namespace ariadne::store::clickhouse {

// `hint` (optional) restricts the trace_index lookup to the day partitions around it: the trace's
// earliest span starts at most a day before the hint's window and not after it.
Result<TraceResult> GetTraceSql(ClickHouseClient* client, const model::TraceId& id,
                                std::string_view environment, const TraceTimeHint& hint = {});

// Traces with a span starting in the window, ordered by their earliest such start; fetched in
// pages of `page` traces (a statement for the ids, then two per page).
Status ForEachTraceSql(ClickHouseClient* client, uint64_t start_unix_nano, uint64_t end_unix_nano,
                       std::string_view environment,
                       const std::function<bool(const TraceResult&)>& visit, size_t page = 200);

// Every span of the traces `keys` ((environment, trace id) pairs), read from the day partitions
// trace_index names for them; a key with no span stored is missing from the answer.
using TraceKey = std::pair<std::string, model::TraceId>;
// `start_range` ([earliest, latest] span start of those traces), when the caller knows it, saves
// the trace_index lookup.
Result<std::map<TraceKey, TraceResult>> GetTracesSql(
    ClickHouseClient* client, const std::vector<TraceKey>& keys,
    std::optional<std::pair<uint64_t, uint64_t>> start_range = std::nullopt);

Result<std::vector<TraceSummary>> SearchTracesSql(ClickHouseClient* client,
                                                  const TraceSearchRequest& request,
                                                  const query::ExecContext& context);

Result<std::vector<ServiceSummary>> ListServicesSql(ClickHouseClient* client,
                                                    std::string_view environment);

Result<std::vector<ColumnInfo>> ListColumnsSql(ClickHouseClient* client,
                                               std::string_view environment,
                                               uint64_t start_unix_nano, uint64_t end_unix_nano);

}  // namespace ariadne::store::clickhouse
