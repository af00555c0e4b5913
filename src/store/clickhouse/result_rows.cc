#include "store/clickhouse/result_rows.h"

#include <algorithm>
#include <cstdlib>
#include <limits>

#include "query/exec/aggregation.h"
#include "query/exec/result_order.h"

namespace ariadne::store::clickhouse {

using query::CalcOp;
using query::Calculation;
using query::QuerySpec;
using query::ResultRow;
using query::ResultValue;

double ToDouble(const std::string& field) { return std::strtod(field.c_str(), nullptr); }

// "([0,3],[2,1.5])" → per-bucket counts.
std::vector<query::HeatmapBucket> ParseHeatmap(const std::string& field, const HeatRange& heat) {
  std::vector<query::HeatmapBucket> out(query::kHeatmapBuckets);
  const double width = heat.hi > heat.lo ? (heat.hi - heat.lo) / query::kHeatmapBuckets : 1;
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].lower = heat.lo + width * static_cast<double>(i);
    out[i].upper = heat.lo + width * static_cast<double>(i + 1);
  }
  auto numbers = [](std::string_view list) {
    std::vector<double> v;
    std::string item;
    for (char ch : list) {
      if (ch == ',') {
        if (!item.empty()) v.push_back(std::strtod(item.c_str(), nullptr));
        item.clear();
      } else if (ch != '[' && ch != ']' && ch != ' ') {
        item.push_back(ch);
      }
    }
    if (!item.empty()) v.push_back(std::strtod(item.c_str(), nullptr));
    return v;
  };
  const size_t split = field.find("],[");
  if (split == std::string::npos) return out;
  const std::vector<double> keys = numbers(std::string_view(field).substr(1, split + 1));
  const std::vector<double> counts = numbers(std::string_view(field).substr(split + 2));
  for (size_t i = 0; i < keys.size() && i < counts.size(); ++i) {
    const size_t b = std::min(static_cast<size_t>(keys[i]), query::kHeatmapBuckets - 1);
    out[b].count += counts[i];
  }
  return out;
}

// Reads one calculation's fields at `*pos` into `row`.
void ReadCalc(const Calculation& calc, const std::vector<std::string>& f, size_t* pos,
              const HeatRange& heat, ResultRow* row) {
  size_t& i = *pos;
  switch (calc.op) {
    case CalcOp::kCount:
      row->values.push_back(query::exec::CountValue(ToDouble(f[i++])));
      return;
    case CalcOp::kSum:
    case CalcOp::kMin:
    case CalcOp::kMax:
    case CalcOp::kPercentile: {
      const double v = ToDouble(f[i]);
      const bool any = ToDouble(f[i + 1]) > 0;
      i += 2;
      row->values.push_back(any ? ResultValue(v) : ResultValue());
      return;
    }
    case CalcOp::kAvg: {
      const double sum = ToDouble(f[i]), weight = ToDouble(f[i + 1]);
      const bool any = ToDouble(f[i + 2]) > 0;
      i += 3;
      row->values.push_back(any && weight > 0 ? ResultValue(sum / weight) : ResultValue());
      return;
    }
    case CalcOp::kCountDistinct:
      row->values.push_back(static_cast<int64_t>(std::strtoll(f[i++].c_str(), nullptr, 10)));
      return;
    case CalcOp::kHeatmap:
      row->values.push_back(std::monostate{});
      row->heatmaps.push_back(ParseHeatmap(f[i++], heat));
      return;
    case CalcOp::kRateAvg:
    case CalcOp::kRateSum:
    case CalcOp::kRateMax:
      row->values.push_back(std::monostate{});  // from the buckets, by RateValues
      i += calc.op == CalcOp::kRateAvg ? 3 : 2;
      return;
    default:
      return;
  }
}

bool IsRate(CalcOp op) {
  return op == CalcOp::kRateAvg || op == CalcOp::kRateSum || op == CalcOp::kRateMax;
}

void BucketValue::Merge(const BucketValue& o) {
  sum += o.sum;
  weight += o.weight;
  max = std::max(max, o.max);
  values += o.values;
}

BucketValue BucketValue::Read(CalcOp op, const std::vector<std::string>& f, size_t i) {
  BucketValue v;
  if (op == CalcOp::kRateAvg) {
    v.sum = ToDouble(f[i]);
    v.weight = ToDouble(f[i + 1]);
    v.values = ToDouble(f[i + 2]);
  } else if (op == CalcOp::kRateSum) {
    v.sum = ToDouble(f[i]);
    v.values = ToDouble(f[i + 1]);
  } else {
    v.max = ToDouble(f[i]);
    v.values = ToDouble(f[i + 1]);
  }
  return v;
}

// RATE_* as finish.cc: per bucket, the change of the bucket's AVG / SUM / MAX from the previous
// bucket per second; without a bucket, the mean of those rates.
ResultValue RateValue(CalcOp op, const std::vector<BucketValue>& buckets, double seconds,
                      std::optional<size_t> bucket) {
  auto value = [&](size_t b) -> std::optional<double> {
    const BucketValue& v = buckets[b];
    if (v.values == 0) return std::nullopt;
    if (op == CalcOp::kRateAvg) return v.sum / v.weight;
    if (op == CalcOp::kRateSum) return v.sum;
    return v.max;
  };
  auto rate_at = [&](size_t b) -> std::optional<double> {
    if (b == 0) return std::nullopt;
    auto cur = value(b), prev = value(b - 1);
    if (!cur || !prev) return std::nullopt;
    return (*cur - *prev) / seconds;
  };
  if (bucket) {
    auto r = rate_at(*bucket);
    return r ? ResultValue(*r) : ResultValue();
  }
  double sum = 0;
  int n = 0;
  for (size_t b = 1; b < buckets.size(); ++b) {
    if (auto r = rate_at(b)) {
      sum += *r;
      ++n;
    }
  }
  return n ? ResultValue(sum / n) : ResultValue();
}

ResultValue BreakdownValue(const std::string& type, const std::string& str,
                           const std::string& num) {
  switch (std::atoi(type.c_str())) {
    case 0:
      return std::monostate{};
    case 2:
      return ToDouble(num) != 0;
    case 3:
      return static_cast<int64_t>(ToDouble(num));
    case 4:
      return ToDouble(num);
    default:
      return str;
  }
}

std::vector<size_t> HavingOrderLimit(const QuerySpec& spec, const std::vector<ResultRow>& rows) {
  std::vector<size_t> kept;
  for (size_t r = 0; r < rows.size(); ++r) {
    if (query::exec::PassesHavings(spec, rows[r])) kept.push_back(r);
  }
  return query::exec::OrderAndLimit(spec, rows, std::move(kept));
}

}  // namespace ariadne::store::clickhouse
