// SQL expressions over the `spans` table (schema.h) that give a query column the value
// docs/query.md defines, and filters with the embedded executor's semantics (row_filter.h).
//
// A column is three expressions: its type (model::ValueType as UInt8, 0 when the row has no
// value), its text (string-like values; '' otherwise) and its number (int, double, bool as 0/1;
// 0 otherwise). Intrinsic columns come from fixed columns; any other name is a span attribute,
// else the span's resource attribute (merged at insert, span first), from its promoted column or
// the attribute arrays.
//
// Comparisons follow query::exec::Compare: strings against a string literal compare as text, a
// numeric literal compares with text that spells a number, bools compare with true/false; a
// row without a value matches only does-not-exist.
//
// Threads: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "query/query_spec.h"

namespace ariadne::store::clickhouse {

struct ColumnSql {
  std::string type;
  std::string str;
  std::string num;
  // Whether the value counts for SUM/AVG/MIN/MAX/percentiles/HEATMAP (int or double).
  std::string IsNumber() const { return "(" + type + " IN (3, 4))"; }
  std::string IsPresent() const { return "(" + type + " != 0)"; }
};

ColumnSql ColumnExpr(std::string_view column);

// The WHERE condition of one filter.
std::string FilterExpr(const query::Filter& filter);

// A double as a SQL literal that reads back as the same double.
std::string SqlDouble(double d);

}  // namespace ariadne::store::clickhouse
