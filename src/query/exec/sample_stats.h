// Exact statistics over a group's samples: Prepare sorts a calculation's samples by time bucket
// (counting sort, in place) and computes what needs every sample at once (the whole-scope
// percentile, CONCURRENCY's sweep); WeightedPercentile is the exact weighted nearest rank.
//
// Contract: WeightedPercentile(first, last, p) returns the smallest value whose cumulative weight
// (in ascending value order) reaches p × total weight (with unit weights the ⌈p·n⌉-th smallest),
// reordering [first, last); expected O(n). After Prepare with `by_bucket`, time bucket b's samples
// are samples[begin[b], begin[b + 1]).
//
// Threads: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "query/exec/aggregation.h"

namespace ariadne::query::exec {

// Samples of one group and calculation, grouped by time bucket so that each bucket's values are
// a contiguous slice.
struct PreparedSamples {
  std::vector<Sample> samples;
  std::vector<uint32_t> begin;  // bucket b is samples[begin[b], begin[b + 1]) (when bucketed)
  std::optional<double> total_percentile;  // PNN over every sample
  std::vector<double> concurrency;         // CONCURRENCY per bucket
  double concurrency_total = 0;
};

// `by_bucket` is false for the totals row, which needs no time series: its samples are then left
// in any order.
PreparedSamples Prepare(CalcOp op, double percentile, std::vector<Sample> samples, size_t buckets,
                        uint64_t granularity_nano, uint64_t window_start, bool by_bucket);

double WeightedPercentile(Sample* first, Sample* last, double p);

}  // namespace ariadne::query::exec
