// ExactHeatmap: the HEATMAP bands of small (exact) groups.
#include "query/exec/heatmap.h"

#include <gtest/gtest.h>

#include <limits>

#include "query/exec/sample_stats.h"

namespace ariadne::query::exec {
namespace {

PreparedSamples SamplesOf(std::initializer_list<double> values) {
  PreparedSamples prepared;
  for (double v : values) prepared.samples.push_back(Sample{0, v, 1.0, 0});
  return prepared;
}

double Total(const std::vector<HeatmapBucket>& buckets) {
  double total = 0;
  for (const HeatmapBucket& b : buckets) total += b.count;
  return total;
}

TEST(ExactHeatmapTest, ValuesThatAreNotFiniteHaveNoBand) {
  // A double attribute may hold NaN or ±inf; such a value used to be cast to a band index
  // (undefined behaviour, and counted in the last band in practice).
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const PreparedSamples prepared =
      SamplesOf({1.0, std::numeric_limits<double>::quiet_NaN(), kInf, -kInf, 5.0});
  const std::vector<HeatmapBucket> buckets = ExactHeatmap(prepared, std::nullopt, 1.0, 5.0);
  ASSERT_EQ(buckets.size(), kHeatmapBuckets);
  EXPECT_EQ(Total(buckets), 2.0);
  EXPECT_EQ(buckets.front().count, 1.0);
  EXPECT_EQ(buckets.back().count, 1.0);
}

TEST(ExactHeatmapTest, EveryFiniteValueLandsInTheBandThatHoldsIt) {
  const PreparedSamples prepared = SamplesOf({0.0, 2.5, 7.5, 10.0});
  const std::vector<HeatmapBucket> buckets = ExactHeatmap(prepared, std::nullopt, 0.0, 10.0);
  EXPECT_EQ(Total(buckets), 4.0);
  for (const HeatmapBucket& b : buckets) {
    if (b.count == 0) continue;
    const bool holds = (b.lower <= 0.0 && 0.0 < b.upper) || (b.lower <= 2.5 && 2.5 < b.upper) ||
                       (b.lower <= 7.5 && 7.5 < b.upper) || b.upper == 10.0;
    EXPECT_TRUE(holds) << b.lower << ".." << b.upper;
  }
  EXPECT_EQ(buckets.back().count, 1.0);  // the largest value closes the last band
}

}  // namespace
}  // namespace ariadne::query::exec
