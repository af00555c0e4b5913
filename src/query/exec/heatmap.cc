#include "query/exec/heatmap.h"

#include <algorithm>
#include <cmath>

namespace ariadne::query::exec {

std::vector<HeatmapBucket> ExactHeatmap(const PreparedSamples& prepared,
                                        std::optional<uint32_t> bucket, double lo, double hi) {
  std::vector<HeatmapBucket> out(kHeatmapBuckets);
  const double width = hi > lo ? (hi - lo) / kHeatmapBuckets : 1;
  for (size_t i = 0; i < kHeatmapBuckets; ++i) {
    out[i].lower = lo + width * static_cast<double>(i);
    out[i].upper = lo + width * static_cast<double>(i + 1);
  }
  const size_t first = bucket ? prepared.begin[*bucket] : 0;
  const size_t last = bucket ? prepared.begin[*bucket + 1] : prepared.samples.size();
  for (size_t k = first; k < last; ++k) {
    const Sample& s = prepared.samples[k];
    // Like the sketched path (GridHistogram::Add), values that are not finite have no band.
    if (!std::isfinite(s.value)) continue;
    const double position = hi > lo ? (s.value - lo) / width : 0;
    if (!(position >= 0)) {
      out[0].count += s.weight;
      continue;
    }
    const size_t i =
        position >= kHeatmapBuckets ? kHeatmapBuckets - 1 : static_cast<size_t>(position);
    out[i].count += s.weight;
  }
  return out;
}

HeatmapGrid::HeatmapGrid(const GridHistogram& all) : k_(all.exponent()) {
  if (all.empty()) return;
  first_bin_ = all.first_bin();
  const int64_t bins = static_cast<int64_t>(all.bins());
  const int64_t n = static_cast<int64_t>(kHeatmapBuckets);
  bins_per_bucket_ = std::max<int64_t>(1, (bins + n - 1) / n);
}

std::vector<HeatmapBucket> HeatmapGrid::Render(const GridHistogram& h) const {
  std::vector<HeatmapBucket> out(kHeatmapBuckets);
  const double width = std::ldexp(1.0, k_) * static_cast<double>(bins_per_bucket_);
  const double lo = std::ldexp(static_cast<double>(first_bin_), k_);
  for (size_t i = 0; i < kHeatmapBuckets; ++i) {
    out[i].lower = lo + width * static_cast<double>(i);
    out[i].upper = lo + width * static_cast<double>(i + 1);
  }
  if (h.empty()) return out;
  const GridHistogram* src = &h;
  GridHistogram coarse;
  if (h.exponent() < k_) {
    coarse = h;
    coarse.CoarsenTo(k_);
    src = &coarse;
  }
  for (size_t i = 0; i < src->bins(); ++i) {
    const int64_t bin = src->first_bin() + static_cast<int64_t>(i) - first_bin_;
    const int64_t b =
        std::clamp<int64_t>(bin / bins_per_bucket_, 0, static_cast<int64_t>(kHeatmapBuckets) - 1);
    out[static_cast<size_t>(b)].count += src->bin_count(i);
  }
  return out;
}

}  // namespace ariadne::query::exec
