// QueryExecutor::Finish: turns the accumulated groups into a QueryResult — each group's
// calculations (exactly from samples, or from sketches past the exact limit), the totals row,
// havings, orders, limit, and the time series of the groups that made it.
//
// Contract (docs/query.md): PERCENTILE is exact weighted nearest rank while every value was kept
// (the group held at most kExactSampleLimit, or the spec asked for `exact`), else within 1 %
// relative error (QuantileSketch); the totals row is exact when every group is and together they
// hold at most kExactTotalsLimit values. HEATMAP counts are always exact; its buckets span
// [min, max] exactly when every value was kept, else they lie on a power-of-two grid (heatmap.h).
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <unordered_set>

#include "query/exec/aggregation.h"
#include "query/exec/executor.h"
#include "query/exec/executor_state.h"
#include "query/exec/heatmap.h"
#include "query/exec/result_order.h"
#include "query/exec/sample_stats.h"

namespace ariadne::query {
namespace {

using exec::Agg;
using exec::CountValue;
using exec::Group;
using exec::NeedsSamples;
using exec::PreparedSamples;
using exec::Sample;
using exec::WeightedPercentile;

// What one row (a group's or the totals) has for one calculation beyond its Aggs.
struct CalcData {
  PreparedSamples prepared;                        // exact: the values
  const exec::SketchedValues* sketched = nullptr;  // sketched: per time bucket
  std::optional<QuantileSketch> whole;             // sketched PERCENTILE: every bucket merged
  std::optional<GridHistogram> whole_grid;         // grid HEATMAP: every bucket merged
};

ResultValue Compute(const Calculation& calc, const Agg& agg, CalcData* data,
                    std::optional<uint32_t> bucket, size_t buckets, uint64_t granularity_nano,
                    const Agg* bucket_aggs) {
  PreparedSamples* prepared = &data->prepared;
  switch (calc.op) {
    case CalcOp::kCount:
      return CountValue(agg.weight);
    case CalcOp::kSum:
      return agg.values ? ResultValue(agg.weighted_sum) : ResultValue();
    case CalcOp::kAvg:
      return agg.values && agg.value_weight > 0 ? ResultValue(agg.weighted_sum / agg.value_weight)
                                                : ResultValue();
    case CalcOp::kMin:
      return agg.values ? ResultValue(agg.min) : ResultValue();
    case CalcOp::kMax:
      return agg.values ? ResultValue(agg.max) : ResultValue();
    case CalcOp::kCountDistinct: {
      const Sample* first = prepared->samples.data() + (bucket ? prepared->begin[*bucket] : 0);
      const Sample* last = prepared->samples.data() +
                           (bucket ? prepared->begin[*bucket + 1] : prepared->samples.size());
      std::unordered_set<uint64_t> seen;
      for (const Sample* s = first; s != last; ++s) seen.insert(s->aux);
      return static_cast<int64_t>(seen.size());
    }
    case CalcOp::kPercentile: {
      if (bucket && data->sketched != nullptr) {
        std::optional<double> q = data->sketched->quantiles[*bucket].Quantile(calc.percentile);
        return q ? ResultValue(*q) : ResultValue();
      }
      if (!bucket && data->whole) {
        std::optional<double> q = data->whole->Quantile(calc.percentile);
        return q ? ResultValue(*q) : ResultValue();
      }
      if (bucket) {
        Sample* first = prepared->samples.data() + prepared->begin[*bucket];
        Sample* last = prepared->samples.data() + prepared->begin[*bucket + 1];
        if (first == last) return std::monostate{};
        return WeightedPercentile(first, last, calc.percentile);
      }
      if (!prepared->total_percentile) return std::monostate{};
      return *prepared->total_percentile;
    }
    case CalcOp::kConcurrency:
      return CountValue(bucket ? prepared->concurrency[*bucket] : prepared->concurrency_total);
    case CalcOp::kRateAvg:
    case CalcOp::kRateSum:
    case CalcOp::kRateMax: {
      // Per bucket: AVG/SUM/MAX of the column; rate = change from the previous bucket per second.
      auto bucket_value = [&](size_t b) -> std::optional<double> {
        const Agg& a = bucket_aggs[b];
        if (a.values == 0) return std::nullopt;
        if (calc.op == CalcOp::kRateAvg) return a.weighted_sum / a.value_weight;
        if (calc.op == CalcOp::kRateSum) return a.weighted_sum;
        return a.max;
      };
      const double seconds = static_cast<double>(granularity_nano) / 1e9;
      auto rate_at = [&](size_t b) -> std::optional<double> {
        if (b == 0) return std::nullopt;
        auto cur = bucket_value(b), prev = bucket_value(b - 1);
        if (!cur || !prev) return std::nullopt;
        return (*cur - *prev) / seconds;
      };
      if (bucket) {
        auto r = rate_at(*bucket);
        return r ? ResultValue(*r) : ResultValue();
      }
      double sum = 0;
      int n = 0;
      for (size_t b = 1; b < buckets; ++b) {
        if (auto r = rate_at(b)) {
          sum += *r;
          ++n;
        }
      }
      return n ? ResultValue(sum / n) : ResultValue();
    }
    case CalcOp::kHeatmap:
      return std::monostate{};
  }
  return std::monostate{};
}

}  // namespace

Result<QueryResult> QueryExecutor::Finish() {
  State& st = *state_;
  ARIADNE_RETURN_IF_ERROR(st.failed);
  ARIADNE_RETURN_IF_ERROR(st.CheckCancelled());
  const QuerySpec& spec = st.spec;
  const size_t ncalc = spec.calculations.size();
  const size_t nb = st.buckets;
  QueryResult result = std::move(st.counters);

  // Per calculation: whether the totals come from sketches (some group went past the exact
  // limit, or all groups together hold too many values). A HEATMAP whose totals do renders every
  // row from grids, so that all rows share one layout: groups still holding samples switch now.
  std::vector<uint8_t> sketched_totals(ncalc, 0);
  for (size_t c = 0; c < ncalc; ++c) {
    const CalcOp op = spec.calculations[c].op;
    if (!exec::CanSketch(op)) continue;
    size_t all = 0;
    bool any = false;
    for (const Group& g : st.groups) {
      all += g.samples[c].size();
      any |= g.sketched[c] != nullptr;
    }
    sketched_totals[c] = any || (!spec.exact && all > exec::kExactTotalsLimit);
    if (op != CalcOp::kHeatmap || !sketched_totals[c]) continue;
    for (Group& g : st.groups) {
      if (g.sketched[c]) continue;
      g.sketched[c] = std::make_unique<exec::SketchedValues>(op, nb);
      g.sketched[c]->AddSamples(g.samples[c]);
      st.charge.Release(g.samples[c].capacity() * sizeof(Sample));
      std::vector<Sample>().swap(g.samples[c]);
      ARIADNE_RETURN_IF_ERROR(st.ChargeSketches(g));
    }
  }

  // What Finish holds besides the groups: the totals' copy of every sample, CONCURRENCY's
  // start/end events and COUNT_DISTINCT's set for the largest group, and a result row per group.
  BudgetCharge finish_charge(st.budget);
  {
    uint64_t bytes = st.groups.size() *
                     (sizeof(ResultRow) + (spec.breakdowns.size() + ncalc) * sizeof(ResultValue) +
                      ncalc * sizeof(CalcData));
    for (size_t c = 0; c < ncalc; ++c) {
      if (!NeedsSamples(spec.calculations[c].op)) continue;
      size_t all = 0, largest = 0;
      for (const Group& g : st.groups) {
        all += g.samples[c].size();
        largest = std::max(largest, g.samples[c].size());
      }
      const bool totals_copy = !(spec.breakdowns.empty() && st.groups.size() == 1);
      if (totals_copy && !sketched_totals[c]) bytes += all * sizeof(Sample);
      if (spec.calculations[c].op == CalcOp::kConcurrency) bytes += 2 * all * 16;
      if (spec.calculations[c].op == CalcOp::kCountDistinct) bytes += largest * 48;
    }
    ARIADNE_RETURN_IF_ERROR(finish_charge.Add(bytes));
  }
  Status merged_charge;  // the first failure to charge a merged sketch
  auto charge_merged = [&](uint64_t bytes) {
    Status s = finish_charge.Add(bytes);
    if (merged_charge.ok()) merged_charge = std::move(s);
  };

  // Heatmap layouts are shared by every row so rows can be compared: from the range of every
  // value (exact), or from the histogram of every value (grid).
  std::vector<double> heat_lo(ncalc, 0), heat_hi(ncalc, 0);
  std::vector<std::optional<GridHistogram>> totals_grid(ncalc);
  std::vector<std::optional<exec::HeatmapGrid>> heat_grid(ncalc);
  for (size_t c = 0; c < ncalc; ++c) {
    if (spec.calculations[c].op != CalcOp::kHeatmap) continue;
    if (sketched_totals[c]) {
      GridHistogram all;
      for (const Group& g : st.groups)
        for (const GridHistogram& h : g.sketched[c]->grids) all.Merge(h);
      charge_merged(all.MemoryBytes());
      heat_grid[c].emplace(all);
      totals_grid[c] = std::move(all);
      continue;
    }
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const Group& g : st.groups)
      for (const Sample& s : g.samples[c]) {
        lo = std::min(lo, s.value);
        hi = std::max(hi, s.value);
      }
    if (lo <= hi) {
      heat_lo[c] = lo;
      heat_hi[c] = hi;
    }
  }
  ARIADNE_RETURN_IF_ERROR(merged_charge);

  // Per group, the calculations' values prepared once: samples sorted by time bucket, or the
  // sketches of every time bucket merged for the group's own row.
  auto group_data = [&](Group& g) {
    std::vector<CalcData> data(ncalc);
    for (size_t c = 0; c < ncalc; ++c) {
      const Calculation& calc = spec.calculations[c];
      if (!NeedsSamples(calc.op)) continue;
      if (const exec::SketchedValues* sketched = g.sketched[c].get()) {
        data[c].sketched = sketched;
        if (calc.op == CalcOp::kPercentile) {
          QuantileSketch& whole = data[c].whole.emplace();
          for (const QuantileSketch& q : sketched->quantiles) whole.Merge(q);
          charge_merged(whole.MemoryBytes());
        } else {
          GridHistogram& whole = data[c].whole_grid.emplace();
          for (const GridHistogram& h : sketched->grids) whole.Merge(h);
          charge_merged(whole.MemoryBytes());
        }
        continue;
      }
      data[c].prepared = exec::Prepare(calc.op, calc.percentile, std::move(g.samples[c]), nb,
                                       st.granularity_nano, spec.start_unix_nano, true);
    }
    return data;
  };
  auto row_for = [&](const std::vector<ResultValue>& key, const std::vector<Agg>& aggs,
                     std::vector<CalcData>& data, std::optional<uint32_t> bucket) {
    ResultRow row;
    row.breakdowns = key;
    for (size_t c = 0; c < ncalc; ++c) {
      const Calculation& calc = spec.calculations[c];
      const Agg* per_bucket = aggs.data() + c * nb;
      Agg merged;
      if (bucket) {
        merged = per_bucket[*bucket];
      } else {
        for (size_t b = 0; b < nb; ++b) merged.Merge(per_bucket[b]);
      }
      row.values.push_back(
          Compute(calc, merged, &data[c], bucket, nb, st.granularity_nano, per_bucket));
      if (calc.op != CalcOp::kHeatmap) continue;
      if (heat_grid[c]) {
        const GridHistogram& h = bucket ? data[c].sketched->grids[*bucket] : *data[c].whole_grid;
        row.heatmaps.push_back(heat_grid[c]->Render(h));
      } else {
        row.heatmaps.push_back(
            exec::ExactHeatmap(data[c].prepared, bucket, heat_lo[c], heat_hi[c]));
      }
    }
    return row;
  };

  // Totals first: they need every group's samples before the groups' own are moved. Without
  // breakdowns the single group is the totals row, so nothing is copied.
  const bool totals_are_the_group = spec.breakdowns.empty() && st.groups.size() == 1;
  if (!totals_are_the_group) {
    std::vector<Agg> all_aggs(ncalc * nb);
    for (const Group& g : st.groups)
      for (size_t i = 0; i < all_aggs.size(); ++i) all_aggs[i].Merge(g.aggs[i]);
    std::vector<CalcData> all_data(ncalc);
    for (size_t c = 0; c < ncalc; ++c) {
      const Calculation& calc = spec.calculations[c];
      if (!NeedsSamples(calc.op)) continue;
      if (calc.op == CalcOp::kHeatmap && sketched_totals[c]) {
        all_data[c].whole_grid = std::move(totals_grid[c]);
        continue;
      }
      if (calc.op == CalcOp::kPercentile && sketched_totals[c]) {
        QuantileSketch& whole = all_data[c].whole.emplace();
        for (const Group& g : st.groups) {
          if (g.sketched[c]) {
            for (const QuantileSketch& q : g.sketched[c]->quantiles) whole.Merge(q);
          } else {
            for (const Sample& s : g.samples[c]) whole.Add(s.value, s.weight);
          }
        }
        charge_merged(whole.MemoryBytes());
        continue;
      }
      std::vector<Sample> all;
      for (const Group& g : st.groups)
        all.insert(all.end(), g.samples[c].begin(), g.samples[c].end());
      all_data[c].prepared = exec::Prepare(calc.op, calc.percentile, std::move(all), nb,
                                           st.granularity_nano, spec.start_unix_nano, false);
    }
    result.totals = row_for({}, all_aggs, all_data, std::nullopt);
  }
  ARIADNE_RETURN_IF_ERROR(merged_charge);

  // Rows per group, then having, order, limit.
  std::vector<std::vector<CalcData>> group_prepared(st.groups.size());
  std::vector<ResultRow> rows;
  std::vector<size_t> row_group;
  for (size_t gi = 0; gi < st.groups.size(); ++gi) {
    if (gi % 4096 == 4095) {
      ARIADNE_RETURN_IF_ERROR(st.CheckCancelled());
      ARIADNE_RETURN_IF_ERROR(merged_charge);
    }
    Group& g = st.groups[gi];
    group_prepared[gi] = group_data(g);
    ResultRow row = row_for(g.key, g.aggs, group_prepared[gi], std::nullopt);
    if (totals_are_the_group) result.totals = row;
    if (!exec::PassesHavings(spec, row)) continue;
    rows.push_back(std::move(row));
    row_group.push_back(gi);
  }
  ARIADNE_RETURN_IF_ERROR(merged_charge);
  std::vector<size_t> order_idx(rows.size());
  std::iota(order_idx.begin(), order_idx.end(), 0);
  order_idx = exec::OrderAndLimit(spec, rows, std::move(order_idx));
  for (size_t i : order_idx) result.rows.push_back(rows[i]);

  // Series for the groups that made it into the result.
  for (size_t b = 0; b < nb; ++b) {
    SeriesPoint point;
    point.time_unix_nano = spec.start_unix_nano + b * st.granularity_nano;
    for (size_t i : order_idx) {
      const size_t gi = row_group[i];
      const Group& g = st.groups[gi];
      bool present = false;
      for (size_t c = 0; c < ncalc && !present; ++c) present = g.aggs[c * nb + b].spans > 0;
      if (!present) continue;
      point.rows.push_back(row_for(g.key, g.aggs, group_prepared[gi], static_cast<uint32_t>(b)));
    }
    result.series.push_back(std::move(point));
  }
  return result;
}

}  // namespace ariadne::query
