// The executor's per-row aggregation loops: given the selected rows of a block with their group,
// time bucket and weight, update each group's running aggregates (Agg) and its samples or
// sketches for one calculation.
//
// Contract: every selected row adds its weight and 1 span to its (group, bucket) Agg; rows with a
// numeric, non-bool value also add to the sums, min, max and value count, and, for calculations
// that keep values, to the group's sketch for that bucket (QuantileSketch or GridHistogram) when
// it has one, else to its samples (whose capacity the caller reserved). The loops are specialized
// for unweighted rows and for a single time bucket; the arithmetic per Agg is the same in every
// variant, row by row in selection order.
//
// Threads: pure functions over their arguments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "columnar/block.h"
#include "query/exec/aggregation.h"
#include "query/exec/column_view.h"

namespace ariadne::query::exec {

// Selected rows [begin, end) of one block: positions into the arrays below.
struct RowsToAggregate {
  const uint32_t* sel;     // row of each position
  const uint32_t* group;   // group of each position
  const uint32_t* bucket;  // time bucket of each position; null: all in bucket 0
  const double* weight;    // sample rate by row; null: every row weighs 1
  size_t begin;
  size_t end;
};

// Per group, where one calculation's state lives.
struct GroupTargets {
  explicit GroupTargets(size_t groups)
      : aggs(groups), samples(groups), quantiles(groups), grids(groups) {}
  std::vector<Agg*> aggs;                     // [bucket]
  std::vector<std::vector<Sample>*> samples;  // exact values while not sketched
  std::vector<QuantileSketch*> quantiles;     // [bucket] or null
  std::vector<GridHistogram*> grids;          // [bucket] or null
};

// Weight and span count only (COUNT and calculations without a column).
void AggregateCounts(const RowsToAggregate& in, GroupTargets* t);
// values[position] of every selected row (all numeric; duration_ms).
void AggregateValues(const RowsToAggregate& in, const double* values, bool keeps_values,
                     GroupTargets* t);
// The numeric, non-bool rows of `view`.
void AggregateViewValues(const RowsToAggregate& in, const ColumnView& view, bool keeps_values,
                         GroupTargets* t);
// COUNT_DISTINCT: a hash sample per row with a value (`view` null: counts only).
void AggregateCountDistinct(const RowsToAggregate& in, const ColumnView* view, GroupTargets* t);
// CONCURRENCY: a (start, end) sample per row.
void AggregateConcurrency(const RowsToAggregate& in, const columnar::Block& block, GroupTargets* t);

// Each row's sample rate: its SampleRate (or sampleRate) attribute, rounded, at least 1; else its
// trace state's `ot=th:` threshold; else 1. Empty when every row's rate is 1. (executor.cc)
std::vector<double> RowWeights(const columnar::Block& block);

}  // namespace ariadne::query::exec
