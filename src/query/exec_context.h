// ExecContext: what one query run may use and whether anyone still waits for it — its limits
// (QueryLimits) and the cancel flag of the request it answers.
//
// Who fills it: the query API (api::QueryRoutes) from the server's flags (--query-max-groups,
// --query-memory-limit) and the request's CancelFlag. Who reads it: the store's query paths
// (SpanStore::RunQuery, SearchTraces) and the executor, through a QueryBudget
// (query/exec/query_budget.h). A default-constructed context has the default limits and no cancel
// flag.
//
// Threads: plain values; the cancel flag may be set from any thread while a query runs.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/cancel.h"

namespace ariadne::query {

constexpr size_t kDefaultMaxGroups = 10'000;
constexpr uint64_t kDefaultQueryMemoryLimit = 256ULL << 20;  // 256 MiB

struct QueryLimits {
  // Most distinct breakdown groups one query may build (Honeycomb's breakdown limit); past it the
  // query fails with kResourceExhausted. 0: no limit.
  size_t max_groups = kDefaultMaxGroups;
  // Most bytes of working state (groups, samples for percentiles / COUNT_DISTINCT / HEATMAP /
  // CONCURRENCY, per-block column views) one query may hold; past it the query fails with
  // kResourceExhausted. 0: no limit.
  uint64_t memory_limit_bytes = kDefaultQueryMemoryLimit;
};

struct ExecContext {
  QueryLimits limits;
  CancelFlagPtr cancel;  // null: never cancelled
};

}  // namespace ariadne::query
