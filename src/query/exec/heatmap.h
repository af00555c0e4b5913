// HEATMAP rendering: 40 equal-width buckets shared by every row of a result.
//
// Contract: two layouts, both with exact counts.
// - Exact (every value kept): buckets split [min, max] of the column over the whole result into
//   kHeatmapBuckets equal parts; a value equal to max counts in the last bucket.
// - Grid (past the exact limit, values in GridHistograms): buckets are whole runs of `m` grid bins
//   of width 2^k, starting at the bin of the smallest value, so each bucket's edges are multiples
//   of 2^k and each value counts in exactly one bucket; the buckets cover [min, max], ending at
//   most one bucket width past max (widths within ~5 % of (max − min) / 40).
//
// Threads: pure functions / plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "query/exec/grid_histogram.h"
#include "query/exec/sample_stats.h"
#include "query/query_spec.h"

namespace ariadne::query::exec {

// Exact layout over the samples of `prepared` (one time bucket's, or all when `bucket` is unset).
std::vector<HeatmapBucket> ExactHeatmap(const PreparedSamples& prepared,
                                        std::optional<uint32_t> bucket, double lo, double hi);

// Grid layout chosen from the histogram of every value of the result.
class HeatmapGrid {
 public:
  explicit HeatmapGrid(const GridHistogram& all);
  // The buckets of `h` (whose bins are at most 2^k wide, as every part of `all` is).
  std::vector<HeatmapBucket> Render(const GridHistogram& h) const;

 private:
  int k_ = 0;
  int64_t first_bin_ = 0;
  int64_t bins_per_bucket_ = 1;
};

}  // namespace ariadne::query::exec
