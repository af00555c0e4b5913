// Row selection: which rows of a block lie in a query's time window and dataset and pass its
// filters (docs/query.md's filter semantics: missing values match only does-not-exist, numbers
// compare as numbers, text operators match only text).
//
// Contract: SelectBlockRows returns one byte per row (1 = selected). Each string predicate is
// evaluated at most once per dictionary entry (and once per resource for resource attributes);
// filters on attribute columns read the block's sparse attribute column (rows that have the key)
// and the per-resource values directly, without building a dense per-row view of the column;
// filters on intrinsic columns use the block's ColumnViews.
//
// Threads: pure functions of their arguments.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "columnar/block.h"
#include "model/span_batch.h"
#include "query/exec/column_view.h"
#include "query/query_spec.h"

namespace ariadne::query::exec {

// <0, 0, >0, or nullopt when the value and the literal cannot be compared.
std::optional<int> Compare(const model::Value& v, const Literal& lit);
// Whether value `v` (kEmpty: missing) passes filter `f`.
bool Matches(const model::Value& v, const Filter& f);

std::vector<uint8_t> SelectBlockRows(const QuerySpec& spec, const columnar::Block& block,
                                     ColumnViews* views);

// The rows SelectBlockRows selects, ascending, straight from the sparse entries of the attribute
// column of the spec's only filter — for a single filter on a span attribute (not does-not-exist)
// that no resource of the block carries, where only rows with the key can match; one pass over
// those entries instead of several over dense per-row bytes. nullopt when the spec or block is
// not of that shape (the caller uses SelectBlockRows).
std::optional<std::vector<uint32_t>> SelectSparseRows(const QuerySpec& spec,
                                                      const columnar::Block& block);

}  // namespace ariadne::query::exec
