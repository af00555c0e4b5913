// Checks a validated QuerySpec against the column catalog (what GET /api/v1/columns lists), so a
// query that names a column no span ever sent, runs a numeric calculation over text, or compares a
// column with a value that can never match is refused with a message instead of answering an
// empty chart:
//
//   calculations[0].column: unknown column 'nonexistent_col' (did you mean 'duration_ms'?) …
//   filters[0].value: 'tru' can never match error, which holds booleans; use true or false
//
// Who calls it: the query API (POST /api/v1/query, GET /api/v1/traces?filters=…) before running a
// query. The engines themselves stay permissive (an unknown column is simply absent).
//
// Threads: pure functions over plain values.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "query/query_spec.h"

namespace ariadne::query {

// One column of the catalog; `type` is string, int, double, bool or mixed.
struct CatalogColumn {
  std::string name;
  std::string type;
};

// kInvalidArgument naming the field (calculations[i].column, filters[i].column,
// filters[i].value, breakdowns[i], orders[i].column) for the first problem found; OK otherwise.
Status CheckColumns(const QuerySpec& spec, const std::vector<CatalogColumn>& catalog);

// The same checks for a list of filters alone (trace search); fields are named `field`[i].
Status CheckFilterColumns(const std::vector<Filter>& filters,
                          const std::vector<CatalogColumn>& catalog,
                          const std::string& field = "filters");

}  // namespace ariadne::query
