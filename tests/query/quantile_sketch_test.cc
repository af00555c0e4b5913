// QuantileSketch and GridHistogram against exact answers: the sketch's relative-error bound on
// several distributions (log-normal, uniform, heavy tail, constants, negatives, tiny groups,
// weights), merge = union, and the grid histogram's exact counts under merging and coarsening.
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "query/exec/grid_histogram.h"
#include "query/exec/quantile_sketch.h"

namespace ariadne::query {
namespace {

using Weighted = std::vector<std::pair<double, double>>;  // value, weight

// The executor's exact definition: the smallest value whose cumulative weight reaches p × total.
double ExactQuantile(Weighted values, double p) {
  std::sort(values.begin(), values.end());
  double total = 0;
  for (const auto& [v, w] : values) total += w;
  const double target = p * total - 1e-9 * total;
  double cumulative = 0;
  for (const auto& [v, w] : values) {
    cumulative += w;
    if (cumulative >= target) return v;
  }
  return values.back().first;
}

constexpr double kQuantiles[] = {0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1};

void ExpectWithinBound(const Weighted& values, const QuantileSketch& sketch,
                       const std::string& what) {
  const double alpha = sketch.relative_accuracy();
  for (double p : kQuantiles) {
    const double exact = ExactQuantile(values, p);
    std::optional<double> got = sketch.Quantile(p);
    ASSERT_TRUE(got.has_value()) << what;
    EXPECT_LE(std::fabs(*got - exact), alpha * std::fabs(exact) * (1 + 1e-9) + 1e-300)
        << what << " p=" << p << " exact=" << exact << " sketch=" << *got;
  }
}

QuantileSketch SketchOf(const Weighted& values, double alpha = 0.01) {
  QuantileSketch s(alpha);
  for (const auto& [v, w] : values) s.Add(v, w);
  return s;
}

Weighted Generate(const std::string& kind, size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  Weighted out;
  std::lognormal_distribution<double> lognormal(1.0, 1.5);
  std::uniform_real_distribution<double> uniform(0.0, 1000.0);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (size_t i = 0; i < n; ++i) {
    double v = 0;
    if (kind == "lognormal") v = lognormal(rng);
    if (kind == "uniform") v = uniform(rng);
    if (kind == "pareto") v = 1.0 / std::pow(1.0 - unit(rng), 1.0 / 1.1);  // heavy tail
    if (kind == "constant") v = 42.125;
    if (kind == "mixed-sign") v = uniform(rng) - 500.0;
    if (kind == "with-zeros") v = i % 5 == 0 ? 0.0 : lognormal(rng);
    if (kind == "wide") v = std::pow(10.0, unit(rng) * 24 - 12);  // 1e-12 … 1e12
    out.emplace_back(v, 1.0);
  }
  return out;
}

TEST(QuantileSketchTest, StaysWithinTheRelativeErrorBoundOnManyDistributions) {
  for (const char* kind :
       {"lognormal", "uniform", "pareto", "constant", "mixed-sign", "with-zeros", "wide"}) {
    for (size_t n : {1, 2, 3, 7, 100, 50'000}) {
      Weighted values = Generate(kind, n, static_cast<uint32_t>(n));
      ExpectWithinBound(values, SketchOf(values), std::string(kind) + " n=" + std::to_string(n));
    }
  }
}

TEST(QuantileSketchTest, HonoursOtherAccuracies) {
  Weighted values = Generate("lognormal", 20'000, 5);
  for (double alpha : {0.005, 0.02, 0.05})
    ExpectWithinBound(values, SketchOf(values, alpha), "alpha=" + std::to_string(alpha));
}

TEST(QuantileSketchTest, WeightsCountAsThatManyCopies) {
  std::mt19937 rng(3);
  Weighted weighted = Generate("lognormal", 5'000, 9);
  Weighted expanded;
  for (auto& [v, w] : weighted) {
    w = static_cast<double>(1 + rng() % 20);
    for (int i = 0; i < static_cast<int>(w); ++i) expanded.emplace_back(v, 1.0);
  }
  QuantileSketch a = SketchOf(weighted), b = SketchOf(expanded);
  EXPECT_DOUBLE_EQ(a.total_weight(), b.total_weight());
  ExpectWithinBound(weighted, a, "weighted");
  for (double p : kQuantiles) EXPECT_EQ(a.Quantile(p), b.Quantile(p)) << p;
}

TEST(QuantileSketchTest, ConstantsAndSingleValuesAreExact) {
  QuantileSketch s;
  s.Add(7.3);
  for (double p : kQuantiles) EXPECT_EQ(s.Quantile(p), 7.3);
  QuantileSketch zeros;
  for (int i = 0; i < 10; ++i) zeros.Add(0.0);
  EXPECT_EQ(zeros.Quantile(0.5), 0.0);
  QuantileSketch negative;
  negative.Add(-3.5, 2);
  EXPECT_EQ(negative.Quantile(0.99), -3.5);
  EXPECT_FALSE(QuantileSketch().Quantile(0.5).has_value());
}

TEST(QuantileSketchTest, IgnoresNonFiniteValuesAndNonPositiveWeights) {
  QuantileSketch s;
  s.Add(std::nan(""));
  s.Add(INFINITY);
  s.Add(5.0, 0);
  s.Add(5.0, -1);
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.ignored(), 4u);
  s.Add(5.0);
  EXPECT_EQ(s.Quantile(0.5), 5.0);
}

TEST(QuantileSketchTest, MergeIsTheUnionOfItsInputs) {
  for (const char* kind : {"lognormal", "mixed-sign", "with-zeros", "wide"}) {
    Weighted all = Generate(kind, 30'000, 11);
    // Split unevenly into parts, sketch each, merge in a tree.
    std::vector<QuantileSketch> parts(7);
    for (size_t i = 0; i < all.size(); ++i)
      parts[(i * i) % parts.size()].Add(all[i].first, all[i].second);
    QuantileSketch merged;
    for (size_t i = 1; i < parts.size(); ++i) parts[0].Merge(parts[i]);
    merged.Merge(parts[0]);
    QuantileSketch direct = SketchOf(all);
    EXPECT_EQ(merged.count(), direct.count());
    EXPECT_NEAR(merged.total_weight(), direct.total_weight(), 1e-9 * direct.total_weight());
    for (double p : kQuantiles) EXPECT_EQ(merged.Quantile(p), direct.Quantile(p)) << kind << p;
    ExpectWithinBound(all, merged, std::string("merged ") + kind);
  }
}

TEST(QuantileSketchTest, MemoryStaysSmallForLatencyLikeData) {
  QuantileSketch s;
  for (const auto& [v, w] : Generate("lognormal", 200'000, 1)) s.Add(v, w);
  // Seven-ish decades at 1 %: well under 1,000 buckets.
  EXPECT_LT(s.MemoryBytes(), 1000u * sizeof(double) * 2);
}

TEST(QuantileSketchTest, ExtremeRangesFoldTheLowestBucketsButKeepTheHighQuantiles) {
  QuantileSketch s;
  Weighted values;
  for (int e = -300; e <= 300; e += 3) values.emplace_back(std::pow(10.0, e), 1.0);
  for (const auto& [v, w] : values) s.Add(v, w);
  EXPECT_LE(s.MemoryBytes(), (QuantileSketch::kMaxBucketsPerSign + 64) * sizeof(double) * 2);
  for (double p : {0.95, 0.99, 1.0}) {
    const double exact = ExactQuantile(values, p);
    EXPECT_LE(std::fabs(*s.Quantile(p) - exact), 0.01 * exact * (1 + 1e-9)) << p;
  }
}

// ---- GridHistogram ----

double CountIn(const Weighted& values, double lo, double hi) {
  double n = 0;
  for (const auto& [v, w] : values)
    if (v >= lo && v < hi) n += w;
  return n;
}

void ExpectExactBins(const Weighted& values, const GridHistogram& h, const std::string& what) {
  ASSERT_LE(h.bins(), GridHistogram::kMaxBins) << what;
  double total = 0;
  for (size_t i = 0; i < h.bins(); ++i) {
    const double lo = static_cast<double>(h.first_bin() + static_cast<int64_t>(i)) * h.width();
    EXPECT_DOUBLE_EQ(h.bin_count(i), CountIn(values, lo, lo + h.width())) << what << " bin " << i;
    total += h.bin_count(i);
  }
  EXPECT_DOUBLE_EQ(total, CountIn(values, -INFINITY, INFINITY)) << what;
}

// The bucket index comes from the double's bits and a table of bucket bounds; the log-based
// definition is the oracle, on bucket boundaries (and the doubles next to them), the edges of the
// table's range, and random values over the whole range of normal doubles.
TEST(QuantileSketchTest, FastBucketIndexIsTheLogIndexEverywhere) {
  const QuantileSketch sketch;  // the default accuracy has the fast index
  size_t checked = 0;
  auto check = [&](double x) {
    ASSERT_EQ(sketch.BucketIndex(x), sketch.IndexByLog(x)) << "x=" << x;
    ++checked;
  };
  const double log_gamma = std::log(1.01 / 0.99);
  for (int32_t i = -4500; i <= 4500; ++i) {  // every bucket of the table, and past its ends
    double y = std::exp(i * log_gamma);
    for (int k = 0; k < 4; ++k) y = std::nextafter(y, 0.0);
    for (int k = 0; k < 9; ++k, y = std::nextafter(y, DBL_MAX)) check(y);
  }
  for (int e = -1022; e <= 1023; ++e) {  // powers of two, and their neighbours
    const double p = std::ldexp(1.0, e);
    check(p);
    if (e > -1022) check(std::nextafter(p, 0.0));
    check(std::nextafter(p, DBL_MAX));
  }
  check(DBL_MIN);
  check(DBL_MAX);
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> exponent(-1022, 1023.99);
  std::uniform_real_distribution<double> latency(-20, 40);
  for (int n = 0; n < 200000; ++n) {
    check(std::exp2(exponent(rng)));
    check(std::exp2(latency(rng)));
    if (HasFailure()) return;
  }
  EXPECT_GT(checked, 400000u);
}

TEST(QuantileSketchTest, EdgeValuesLandWhereTheDefinitionPutsThem) {
  QuantileSketch s;
  s.Add(0.0);
  s.Add(-0.0);
  s.Add(std::numeric_limits<double>::denorm_min());  // subnormals count as 0
  s.Add(DBL_MIN / 3);
  s.Add(std::numeric_limits<double>::infinity());  // ignored
  s.Add(-std::numeric_limits<double>::infinity());
  s.Add(std::nan(""));
  EXPECT_EQ(s.count(), 4u);
  EXPECT_EQ(s.ignored(), 3u);
  EXPECT_EQ(*s.Quantile(1), 0.0);  // answered from the 0 bucket
  s.Add(DBL_MAX);
  s.Add(1e300);
  s.Add(DBL_MIN);
  EXPECT_EQ(*s.Quantile(1), DBL_MAX);
  const double p90 = *s.Quantile(0.9);  // 7 values: the 7th (0.9 × 7 = 6.3 → rank 7)
  EXPECT_EQ(p90, DBL_MAX);
  const double p80 = *s.Quantile(0.8);  // rank 6: 1e300
  EXPECT_LE(std::fabs(p80 - 1e300), 0.01 * 1e300);
  // The smallest normals have buckets of their own (not folded into 0).
  QuantileSketch tiny;
  for (double x : {DBL_MIN, 1.5 * DBL_MIN, 3 * DBL_MIN}) tiny.Add(x);
  EXPECT_LE(std::fabs(*tiny.Quantile(0.5) - 1.5 * DBL_MIN), 0.01 * 1.5 * DBL_MIN);
  EXPECT_LE(std::fabs(*tiny.Quantile(0) - DBL_MIN), 0.01 * DBL_MIN);
}

TEST(GridHistogramTest, CountsEveryValueInExactlyOneBinOfBoundedNumber) {
  for (const char* kind : {"lognormal", "uniform", "mixed-sign", "constant", "with-zeros"}) {
    Weighted values = Generate(kind, 20'000, 4);
    GridHistogram h;
    for (const auto& [v, w] : values) h.Add(v, w);
    ExpectExactBins(values, h, kind);
    if (std::string(kind) != "constant") {
      // Fine enough: at most 2 × range / kMaxBins wide.
      EXPECT_LE(h.width(), 2 * (h.max() - h.min()) / GridHistogram::kMaxBins) << kind;
    }
  }
}

TEST(GridHistogramTest, MergeAndCoarsenKeepCountsExact) {
  Weighted a = Generate("lognormal", 10'000, 1), b = Generate("mixed-sign", 10'000, 2);
  GridHistogram ha, hb;
  for (const auto& [v, w] : a) ha.Add(v, 2 * w);
  for (const auto& [v, w] : b) hb.Add(v, w);
  for (auto& [v, w] : a) w *= 2;
  ha.Merge(hb);
  Weighted all = a;
  all.insert(all.end(), b.begin(), b.end());
  ExpectExactBins(all, ha, "merged");
  ha.CoarsenTo(ha.exponent() + 3);
  ExpectExactBins(all, ha, "coarsened");
  GridHistogram empty;
  empty.Merge(ha);
  ExpectExactBins(all, empty, "merged into empty");
}

}  // namespace
}  // namespace ariadne::query
