#include "query/exec/quantile_sketch.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>

namespace ariadne::query {

// The fast index's tables for the default accuracy: log2 of mantissas, and every bucket's exact
// upper bound (the largest double IndexByLog puts in it) for magnitudes within the table range.
struct QuantileSketch::Tables {
  std::vector<double> log2_mantissa;
  std::vector<double> upper;
  int32_t first = 0;  // bucket of upper[0]
};

const QuantileSketch::Tables& QuantileSketch::DefaultTables() {
  static const Tables* tables = [] {
    auto* t = new Tables;
    t->log2_mantissa.resize(size_t{1} << kMantissaBits);
    for (size_t k = 0; k < t->log2_mantissa.size(); ++k)
      t->log2_mantissa[k] = std::log2(1.0 + static_cast<double>(k) / t->log2_mantissa.size());
    const double inv_log_gamma = InvLogGamma(kDefaultRelativeAccuracy);
    auto index = [&](double x) { return IndexByLog(x, inv_log_gamma); };
    // Three buckets of margin on either side: IndexOf's first guess is within one bucket.
    const int32_t lo = index(std::ldexp(1.0, -kTableOctaves)) - 3;
    const int32_t hi = index(std::ldexp(1.0, kTableOctaves)) + 3;
    t->first = lo;
    for (int32_t i = lo; i <= hi; ++i) {
      double y = std::exp(static_cast<double>(i) / inv_log_gamma);
      while (index(y) > i) y = std::nextafter(y, 0.0);
      while (index(std::nextafter(y, DBL_MAX)) <= i) y = std::nextafter(y, DBL_MAX);
      t->upper.push_back(y);
    }
    return t;
  }();
  return *tables;
}

QuantileSketch::QuantileSketch(double relative_accuracy)
    : alpha_(relative_accuracy),
      gamma_((1 + relative_accuracy) / (1 - relative_accuracy)),
      inv_log_gamma_(InvLogGamma(relative_accuracy)),
      buckets_per_octave_(std::log(2.0) * inv_log_gamma_),
      min_(std::numeric_limits<double>::infinity()),
      max_(-std::numeric_limits<double>::infinity()) {
  if (relative_accuracy == kDefaultRelativeAccuracy) {
    const Tables& t = DefaultTables();
    bounds_ = t.upper.data();
    bounds_first_ = t.first;
    log2_mantissa_ = t.log2_mantissa.data();
  }
}

double QuantileSketch::ValueOf(int32_t index) const {
  return 2 * std::pow(gamma_, index) / (gamma_ + 1);
}

void QuantileSketch::Store::Add(int32_t index, double weight) {
  if (counts.empty()) {
    offset = index;
    counts.assign(1, 0);
  } else if (index < offset) {
    const int64_t span = static_cast<int64_t>(end()) - index;
    if (span > static_cast<int64_t>(kMaxBucketsPerSign)) {
      counts.front() += weight;  // folded into the lowest bucket kept
      return;
    }
    counts.insert(counts.begin(), static_cast<size_t>(offset - index), 0.0);
    offset = index;
  } else if (index >= end()) {
    const int64_t span = static_cast<int64_t>(index) - offset + 1;
    if (span > static_cast<int64_t>(kMaxBucketsPerSign)) {
      // Fold the lowest buckets so that the range ends at `index`.
      const size_t drop = static_cast<size_t>(span - static_cast<int64_t>(kMaxBucketsPerSign));
      const size_t folded = std::min(drop, counts.size() - 1);
      double sum = 0;
      for (size_t i = 0; i <= folded; ++i) sum += counts[i];
      counts.erase(counts.begin(), counts.begin() + static_cast<std::ptrdiff_t>(folded));
      counts.front() = sum;
      offset += static_cast<int32_t>(drop);
      if (drop > folded) {
        // Everything kept was below the new range: it all becomes the new lowest bucket.
        counts.assign(1, sum);
      }
    }
    counts.resize(static_cast<size_t>(index - offset + 1), 0.0);
  }
  counts[static_cast<size_t>(index - offset)] += weight;
}

void QuantileSketch::Store::Merge(const Store& other) {
  for (size_t i = 0; i < other.counts.size(); ++i)
    if (other.counts[i] != 0) Add(other.offset + static_cast<int32_t>(i), other.counts[i]);
}

void QuantileSketch::AddSlow(double value, double weight) {
  if (!std::isfinite(value) || !(weight > 0) || !std::isfinite(weight)) {
    ++ignored_;
    return;
  }
  ++count_;
  total_weight_ += weight;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  const double magnitude = std::fabs(value);
  if (magnitude < DBL_MIN) {
    zero_weight_ += weight;
  } else if (value > 0) {
    positive_.Add(IndexOf(magnitude), weight);
  } else {
    negative_.Add(IndexOf(magnitude), weight);
  }
}

void QuantileSketch::Merge(const QuantileSketch& other) {
  if (other.count_ == 0) {
    ignored_ += other.ignored_;
    return;
  }
  if (positive_.counts.empty() && positive_.counts.capacity() == 0) {
    positive_ = other.positive_;  // the common case of merging into an empty sketch
  } else {
    positive_.Merge(other.positive_);
  }
  negative_.Merge(other.negative_);
  zero_weight_ += other.zero_weight_;
  total_weight_ += other.total_weight_;
  count_ += other.count_;
  ignored_ += other.ignored_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

std::optional<double> QuantileSketch::Quantile(double p) const {
  if (count_ == 0) return std::nullopt;
  const double target = p * total_weight_ - 1e-9 * total_weight_;
  auto clamp = [&](double v) { return std::min(max_, std::max(min_, v)); };
  double cumulative = 0;
  // Ascending values: negatives from the largest magnitude down, then zero, then positives.
  for (size_t i = negative_.counts.size(); i-- > 0;) {
    if (negative_.counts[i] == 0) continue;
    cumulative += negative_.counts[i];
    if (cumulative >= target) return clamp(-ValueOf(negative_.offset + static_cast<int32_t>(i)));
  }
  if (zero_weight_ > 0) {
    cumulative += zero_weight_;
    if (cumulative >= target) return clamp(0.0);
  }
  for (size_t i = 0; i < positive_.counts.size(); ++i) {
    if (positive_.counts[i] == 0) continue;
    cumulative += positive_.counts[i];
    if (cumulative >= target) return clamp(ValueOf(positive_.offset + static_cast<int32_t>(i)));
  }
  return max_;  // rounding left the target just out of reach: the largest value
}

namespace {

// Weights: varints when every one is a whole number below 2^53 (unweighted or integer sample
// rates), else the doubles' bits.
bool WholeWeights(const std::vector<double>& counts) {
  for (double c : counts)
    if (!(c >= 0 && c < 9007199254740992.0 && c == std::floor(c))) return false;
  return true;
}

void PutWeights(std::string* out, const std::vector<double>& counts) {
  const bool whole = WholeWeights(counts);
  columnar::PutVarint(out, counts.size() * 2 + (whole ? 0 : 1));
  for (double c : counts) {
    if (whole) {
      columnar::PutVarint(out, static_cast<uint64_t>(c));
    } else {
      columnar::PutDouble(out, c);
    }
  }
}

bool GetWeights(columnar::ByteReader* in, size_t max, std::vector<double>* counts) {
  uint64_t n;
  if (!in->GetVarint(&n)) return false;
  const bool whole = (n & 1) == 0;
  n >>= 1;
  if (n > max || n > in->remaining()) return in->Fail();
  counts->resize(n);
  for (double& c : *counts) {
    if (whole) {
      uint64_t v;
      if (!in->GetVarint(&v)) return false;
      c = static_cast<double>(v);
    } else if (!in->GetDouble(&c) || !(c >= 0) || !std::isfinite(c)) {
      return in->Fail();
    }
  }
  return true;
}

}  // namespace

// u8 0 (reserved), double min, double max, varint count, varint ignored, double zero weight,
// double total weight, then per sign (positive, negative): zigzag varint offset and the weights.
void QuantileSketch::EncodeTo(std::string* out) const {
  out->push_back(0);
  columnar::PutDouble(out, min_);
  columnar::PutDouble(out, max_);
  columnar::PutVarint(out, count_);
  columnar::PutVarint(out, ignored_);
  columnar::PutDouble(out, zero_weight_);
  columnar::PutDouble(out, total_weight_);
  for (const Store* store : {&positive_, &negative_}) {
    columnar::PutVarint(out, columnar::ZigZag(store->offset));
    PutWeights(out, store->counts);
  }
}

bool QuantileSketch::DecodeFrom(columnar::ByteReader* in) {
  uint8_t reserved;
  if (!in->GetByte(&reserved) || reserved != 0 || !in->GetDouble(&min_) || !in->GetDouble(&max_) ||
      !in->GetVarint(&count_) || !in->GetVarint(&ignored_) || !in->GetDouble(&zero_weight_) ||
      !in->GetDouble(&total_weight_))
    return in->Fail();
  for (Store* store : {&positive_, &negative_}) {
    uint64_t offset;
    if (!in->GetVarint(&offset)) return false;
    const int64_t o = columnar::UnZigZag(offset);
    if (o < INT32_MIN / 2 || o > INT32_MAX / 2) return in->Fail();
    store->offset = static_cast<int32_t>(o);
    if (!GetWeights(in, kMaxBucketsPerSign, &store->counts)) return in->Fail();
  }
  return in->ok();
}

uint64_t QuantileSketch::MemoryBytes() const {
  return (positive_.counts.capacity() + negative_.counts.capacity()) * sizeof(double);
}

}  // namespace ariadne::query
