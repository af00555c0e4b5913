#include "query/exec/aggregation.h"

#include <algorithm>
#include <cmath>

namespace ariadne::query::exec {

void Agg::Merge(const Agg& o) {
  weight += o.weight;
  spans += o.spans;
  weighted_sum += o.weighted_sum;
  value_weight += o.value_weight;
  min = std::min(min, o.min);
  max = std::max(max, o.max);
  values += o.values;
}

SketchedValues::SketchedValues(CalcOp op, size_t buckets) {
  if (op == CalcOp::kPercentile)
    quantiles.resize(buckets);
  else
    grids.resize(buckets);
}

void SketchedValues::AddSamples(const std::vector<Sample>& samples) {
  for (const Sample& s : samples) Add(s.bucket, s.value, s.weight);
}

void SketchedValues::Merge(const SketchedValues& other) {
  for (size_t b = 0; b < quantiles.size() && b < other.quantiles.size(); ++b)
    quantiles[b].Merge(other.quantiles[b]);
  for (size_t b = 0; b < grids.size() && b < other.grids.size(); ++b)
    grids[b].Merge(other.grids[b]);
}

uint64_t SketchedValues::Bytes() const {
  uint64_t bytes = sizeof(SketchedValues) + quantiles.capacity() * sizeof(QuantileSketch) +
                   grids.capacity() * sizeof(GridHistogram);
  for (const QuantileSketch& q : quantiles) bytes += q.MemoryBytes();
  for (const GridHistogram& g : grids) bytes += g.MemoryBytes();
  return bytes;
}

std::string CanonicalKey(const std::vector<ResultValue>& values) {
  std::string key;
  for (const ResultValue& v : values) {
    key.push_back(static_cast<char>('0' + v.index()));
    switch (v.index()) {
      case 1: {
        const std::string& s = std::get<std::string>(v);
        uint32_t n = static_cast<uint32_t>(s.size());
        key.append(reinterpret_cast<const char*>(&n), 4);
        key += s;
        break;
      }
      case 2: {
        int64_t i = std::get<int64_t>(v);
        key.append(reinterpret_cast<const char*>(&i), 8);
        break;
      }
      case 3: {
        double d = std::get<double>(v);
        key.append(reinterpret_cast<const char*>(&d), 8);
        break;
      }
      case 4:
        key.push_back(std::get<bool>(v) ? 1 : 0);
        break;
      default:
        break;
    }
  }
  return key;
}

ResultValue ToResultValue(const model::Value& v) {
  switch (v.type) {
    case model::ValueType::kEmpty:
      return std::monostate{};
    case model::ValueType::kBool:
      return v.bool_value;
    case model::ValueType::kInt:
      return v.int_value;
    case model::ValueType::kDouble:
      return v.double_value;
    default:
      return std::string(v.str);
  }
}

ResultValue CountValue(double weight) {
  if (weight == std::floor(weight) && std::fabs(weight) < 9e15) return static_cast<int64_t>(weight);
  return weight;
}

}  // namespace ariadne::query::exec
