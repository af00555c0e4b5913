// Aggregation state of one query: per group (one combination of breakdown values), per
// calculation and time bucket, the running aggregates (Agg), and for the calculations that need
// more than running sums, the values themselves (Sample) or, once there are many, a sketch.
//
// Contract:
// - Agg holds COUNT/SUM/AVG/MIN/MAX/RATE_* state; Merge adds another's.
// - PERCENTILE and HEATMAP keep exact samples while a group holds at most kExactSampleLimit of
//   them for that calculation (or always, with the spec's `exact`); past it the group switches to
//   SketchedValues: per time bucket a QuantileSketch (PERCENTILE: relative error ≤ 1 %) or a
//   GridHistogram (HEATMAP: exact counts on a power-of-two grid). Switching and merging keep
//   every value's weight; they never lose a value.
// - COUNT_DISTINCT and CONCURRENCY always keep samples.
//
// Threads: plain values, used by one thread (an executor).
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "model/span_batch.h"
#include "query/exec/grid_histogram.h"
#include "query/exec/quantile_sketch.h"
#include "query/query_spec.h"

namespace ariadne::query::exec {

// A group keeps exact PERCENTILE/HEATMAP samples up to this many per calculation.
constexpr size_t kExactSampleLimit = 8192;
// The totals row is exact when every group is and together they hold at most this many samples.
constexpr size_t kExactTotalsLimit = 65536;

struct Agg {
  double weight = 0;  // COUNT: sum of sample rates of matching spans
  uint64_t spans = 0;
  double weighted_sum = 0;  // SUM/AVG: sum of rate × value over spans with a numeric value
  double value_weight = 0;  // sum of rates over spans with a numeric value
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  uint64_t values = 0;

  void Merge(const Agg& o);
};

struct Sample {
  uint32_t bucket;
  double value;  // the column value; CONCURRENCY: start time (ns)
  double weight;
  uint64_t aux;  // COUNT_DISTINCT: value hash; CONCURRENCY: end time (ns)
};

inline bool NeedsSamples(CalcOp op) {
  return op == CalcOp::kPercentile || op == CalcOp::kHeatmap || op == CalcOp::kCountDistinct ||
         op == CalcOp::kConcurrency;
}
// Whether the calculation's samples may give way to a sketch.
inline bool CanSketch(CalcOp op) { return op == CalcOp::kPercentile || op == CalcOp::kHeatmap; }

// The values of one group and calculation, per time bucket, once past kExactSampleLimit.
struct SketchedValues {
  SketchedValues(CalcOp op, size_t buckets);

  void Add(uint32_t bucket, double value, double weight) {
    if (!quantiles.empty())
      quantiles[bucket].Add(value, weight);
    else
      grids[bucket].Add(value, weight);
  }
  void AddSamples(const std::vector<Sample>& samples);
  void Merge(const SketchedValues& other);
  uint64_t Bytes() const;

  std::vector<QuantileSketch> quantiles;  // PERCENTILE, per time bucket
  std::vector<GridHistogram> grids;       // HEATMAP, per time bucket
  uint64_t charged = 0;                   // bytes charged to the budget for it so far
};

struct Group {
  std::vector<ResultValue> key;
  std::vector<Agg> aggs;                     // [calc * (buckets) + bucket]
  std::vector<std::vector<Sample>> samples;  // per calc (empty unless NeedsSamples)
  // Per calc: set once the calculation switched from samples to sketches.
  std::vector<std::unique_ptr<SketchedValues>> sketched;
};

// A byte string that identifies a key (type and value of each breakdown).
std::string CanonicalKey(const std::vector<ResultValue>& values);
ResultValue ToResultValue(const model::Value& v);
// A weighted count as an integer when it is one.
ResultValue CountValue(double weight);

}  // namespace ariadne::query::exec
