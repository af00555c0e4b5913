// Havings, orders and the limit of an aggregate query, applied to finished result rows. Every
// engine uses these (the embedded executor's Finish, the ClickHouse engine after its SQL), so the
// same rows come back in the same order whichever engine answered.
#pragma once

#include <cstddef>
#include <vector>

#include "query/query_spec.h"

namespace ariadne::query::exec {

// Whether `row` passes every having of `spec`; a calculation without a numeric value fails.
bool PassesHavings(const QuerySpec& spec, const ResultRow& row);

// `candidates` (indexes into `rows`) sorted as the spec asks — its orders, else the first
// calculation that is not HEATMAP descending; then the breakdowns ascending — and cut to
// spec.limit. Values compare null first, then bools, numbers, strings.
std::vector<size_t> OrderAndLimit(const QuerySpec& spec, const std::vector<ResultRow>& rows,
                                  std::vector<size_t> candidates);

}  // namespace ariadne::query::exec
