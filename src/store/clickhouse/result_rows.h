// Reading ClickHouse's aggregated rows into query results, with the embedded executor's rules
// (query/exec/finish.cc) for what SQL does not decide: a calculation's value from its fields
// (null when no span had a value), HEATMAP buckets from sumMap, RATE_* from per-bucket values,
// breakdown values from (type, text, number) triples, and havings, orders and the limit.
//
// Threads: pure functions / plain values.
#pragma once

#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "query/query_spec.h"

namespace ariadne::store::clickhouse {

// The value range of a HEATMAP (every matching value), shared by every row of a result.
struct HeatRange {
  double lo = 0;
  double hi = 0;
};

double ToDouble(const std::string& field);

// "([0,3],[2,1.5])" (sumMap's answer) → the 40 buckets of the range.
std::vector<query::HeatmapBucket> ParseHeatmap(const std::string& field, const HeatRange& heat);

// Reads one calculation's fields at `*pos` into `row` (RATE_* get null, filled by RateValue).
void ReadCalc(const query::Calculation& calc, const std::vector<std::string>& f, size_t* pos,
              const HeatRange& heat, query::ResultRow* row);

bool IsRate(query::CalcOp op);

// One time bucket's AVG / SUM / MAX state of a RATE_* calculation.
struct BucketValue {
  double sum = 0;
  double weight = 0;
  double max = -std::numeric_limits<double>::infinity();
  double values = 0;
  void Merge(const BucketValue& o);
  static BucketValue Read(query::CalcOp op, const std::vector<std::string>& f, size_t i);
};

// RATE_*: per bucket, the change of the bucket's AVG / SUM / MAX from the previous bucket per
// second; without a bucket, the mean of those rates.
query::ResultValue RateValue(query::CalcOp op, const std::vector<BucketValue>& buckets,
                             double seconds, std::optional<size_t> bucket);

// A breakdown value from its (type, text, number) fields.
query::ResultValue BreakdownValue(const std::string& type, const std::string& str,
                                  const std::string& num);

// Indexes of `rows` that pass the havings, in the spec's order (else the first calculation
// descending), then by breakdowns, at most `limit`.
std::vector<size_t> HavingOrderLimit(const query::QuerySpec& spec,
                                     const std::vector<query::ResultRow>& rows);

}  // namespace ariadne::store::clickhouse
