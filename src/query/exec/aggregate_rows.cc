#include "query/exec/aggregate_rows.h"

#include <algorithm>

namespace ariadne::query::exec {
namespace {

// Calls body.template operator()<kWeighted, kBuckets>() for the variant `in` needs.
template <typename Body>
void Dispatch(const RowsToAggregate& in, Body&& body) {
  if (in.weight != nullptr) {
    if (in.bucket != nullptr) {
      body.template operator()<true, true>();
    } else {
      body.template operator()<true, false>();
    }
  } else if (in.bucket != nullptr) {
    body.template operator()<false, true>();
  } else {
    body.template operator()<false, false>();
  }
}

// `value(i, row, &x)` tells whether the row has a numeric value and gives it.
template <bool kWeighted, bool kBuckets, typename ValueFn>
void ValueLoop(const RowsToAggregate& in, ValueFn value, bool keeps_values, GroupTargets* t) {
  Agg* const* aggs = t->aggs.data();
  for (size_t i = in.begin; i < in.end; ++i) {
    const uint32_t row = in.sel[i];
    const uint32_t gi = in.group[i];
    const uint32_t bucket = kBuckets ? in.bucket[i] : 0;
    Agg& agg = aggs[gi][bucket];
    const double w = kWeighted ? in.weight[row] : 1.0;
    agg.weight += w;
    agg.spans++;
    double x;
    if (!value(i, row, &x)) continue;
    agg.weighted_sum += w * x;
    agg.value_weight += w;
    agg.min = std::min(agg.min, x);
    agg.max = std::max(agg.max, x);
    agg.values++;
    if (!keeps_values) continue;
    if (QuantileSketch* q = t->quantiles[gi]) {
      q[bucket].Add(x, w);
    } else if (GridHistogram* h = t->grids[gi]) {
      h[bucket].Add(x, w);
    } else {
      t->samples[gi]->push_back(Sample{bucket, x, w, 0});
    }
  }
}

}  // namespace

void AggregateCounts(const RowsToAggregate& in, GroupTargets* t) {
  Dispatch(in, [&]<bool kWeighted, bool kBuckets>() {
    Agg* const* aggs = t->aggs.data();
    for (size_t i = in.begin; i < in.end; ++i) {
      Agg& agg = aggs[in.group[i]][kBuckets ? in.bucket[i] : 0];
      agg.weight += kWeighted ? in.weight[in.sel[i]] : 1.0;
      agg.spans++;
    }
  });
}

void AggregateValues(const RowsToAggregate& in, const double* values, bool keeps_values,
                     GroupTargets* t) {
  Dispatch(in, [&]<bool kWeighted, bool kBuckets>() {
    ValueLoop<kWeighted, kBuckets>(
        in,
        [values](size_t i, uint32_t, double* x) {
          *x = values[i];
          return true;
        },
        keeps_values, t);
  });
}

void AggregateViewValues(const RowsToAggregate& in, const ColumnView& view, bool keeps_values,
                         GroupTargets* t) {
  const uint8_t* type = view.type.data();
  const double* num = view.num.data();
  Dispatch(in, [&]<bool kWeighted, bool kBuckets>() {
    ValueLoop<kWeighted, kBuckets>(
        in,
        [type, num](size_t, uint32_t row, double* x) {
          const uint8_t ty = type[row];
          if (!IsNumeric(ty) || ty == static_cast<uint8_t>(model::ValueType::kBool)) return false;
          *x = num[row];
          return true;
        },
        keeps_values, t);
  });
}

void AggregateCountDistinct(const RowsToAggregate& in, const ColumnView* view, GroupTargets* t) {
  for (size_t i = in.begin; i < in.end; ++i) {
    const uint32_t row = in.sel[i];
    const uint32_t gi = in.group[i];
    const uint32_t bucket = in.bucket ? in.bucket[i] : 0;
    Agg& agg = t->aggs[gi][bucket];
    agg.weight += in.weight ? in.weight[row] : 1.0;
    agg.spans++;
    if (view != nullptr && view->type[row] != kNull)
      t->samples[gi]->push_back(Sample{bucket, 0, 1, HashValue(*view, row)});
  }
}

void AggregateConcurrency(const RowsToAggregate& in, const columnar::Block& block,
                          GroupTargets* t) {
  for (size_t i = in.begin; i < in.end; ++i) {
    const uint32_t row = in.sel[i];
    const uint32_t gi = in.group[i];
    const uint32_t bucket = in.bucket ? in.bucket[i] : 0;
    Agg& agg = t->aggs[gi][bucket];
    const double w = in.weight ? in.weight[row] : 1.0;
    agg.weight += w;
    agg.spans++;
    t->samples[gi]->push_back(
        Sample{bucket, static_cast<double>(block.start_unix_nano[row]), w,
               std::max(block.end_unix_nano[row], block.start_unix_nano[row])});
  }
}

}  // namespace ariadne::query::exec
