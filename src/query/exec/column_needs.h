// Which columns of a block a query reads: the ColumnSet that QueryExecutor::Consume and SelectRows
// touch for a spec (time window, dataset, filters, breakdowns, calculations, orders, havings, the
// X-Ray trace restriction, and the sample-rate columns every query weighs spans by). The store
// reads and caches only these columns of each block (ReadBlockColumns, ColumnCache).
//
// It mirrors how the executor resolves a column name (query/exec/executor.cc, BuildView): the
// intrinsic names map to fixed columns; any other name is an attribute, looked up through the
// row's resource (so the resource/scope columns and tables come too) and then the span attribute
// column of that key. tests/query/column_needs_test.cc checks, for many random specs, that results
// over blocks holding only these columns equal results over whole blocks.
//
// Threads: pure functions.
#pragma once

#include <string_view>

#include "columnar/block.h"
#include "query/query_spec.h"

namespace ariadne::query {

// Columns needed to resolve one column name as the executor does.
columnar::ColumnSet ColumnsOfName(std::string_view column);

// Columns QueryExecutor::Consume reads for `spec` (with `spec.xray_filter` set, the trace ids too).
columnar::ColumnSet ColumnsForQuery(const QuerySpec& spec);

// ColumnsForQuery(spec) (`needed`) for one block described by `meta`: without the resource/scope
// columns and tables when the only reason for them is a filter on attribute keys that no resource
// of the block carries (meta.columns says where each key occurs; it must list at least every key
// a resource carries, and an empty map keeps the unit), which then match as absent on the
// resource side. (The unit costs column-cache bytes and is widened and copied on every cache hit;
// at 10 M spans the attribute COUNTs of the benchmark did not fit the cache with it.)
columnar::ColumnSet ColumnsForBlock(const QuerySpec& spec, const columnar::ColumnSet& needed,
                                    const columnar::BlockMeta& meta);

// Columns SelectRows reads for `spec` (trace search adds the trace ids and start times it uses).
columnar::ColumnSet ColumnsForSelect(const QuerySpec& spec);

}  // namespace ariadne::query
