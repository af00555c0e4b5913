// Block pruning: whether any row of a sealed block may match a query, decided from the block's
// meta alone (environment, time range, services, per-column statistics), before any column is
// read. A false answer is a proof that no row matches; true means "read it".
//
// What prunes (docs/formats/block.md describes the statistics):
//   - environment, the time window (start times) and the dataset (service names in the block);
//   - filters (AND: one filter that no row can pass; OR: every filter) on
//       duration_ms (min/max duration), status_code and error (status codes present),
//       span.kind / type (kinds present), name (every span name, when the block has few),
//       attribute keys (resource and span values together: rows with a value; int and double
//       min/max; every distinct string, when few) — a key the block lacks matches only
//       does-not-exist.
// Comparison follows the executor's semantics (docs/query.md): numbers compare as numbers, text
// that spells a number compares with a numeric literal, a missing value passes only does-not-exist.
// Anything the statistics cannot decide (other intrinsic columns, version-1 blocks without
// statistics, NaN values, text with too many distinct values) counts as a possible match.
//
// Threads: pure functions.
#pragma once

#include "columnar/block.h"
#include "query/query_spec.h"

namespace ariadne::query {

// False only when no row of the block described by `meta` can match `spec`.
bool BlockMayMatch(const QuerySpec& spec, const columnar::BlockMeta& meta);

// False only when no row can pass filter `f` (ignoring the time window).
bool FilterMayMatch(const Filter& f, const columnar::BlockMeta& meta);

}  // namespace ariadne::query
