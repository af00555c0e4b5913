// QuantileSketch: a mergeable, weighted quantile sketch with a relative-error guarantee
// (DDSketch-style log-bucketed histogram).
//
//   QuantileSketch s;                 // relative accuracy α = 1 %
//   s.Add(12.5, /*weight=*/1);        // weight = the span's sample rate
//   s.Merge(other);                   // the union of both inputs
//   std::optional<double> p99 = s.Quantile(0.99);
//
// Contract: Quantile(p) answers the weighted nearest-rank p-quantile (the smallest value whose
// cumulative weight, in ascending order, reaches p × total weight — the executor's exact
// definition) within relative error α: |answer − exact| ≤ α·|exact|, for positive and negative
// values alike, provided |exact| is a normal double (magnitudes below DBL_MIN count as 0, which
// is then answered exactly). Positive x lands in bucket i = ⌈log_γ x⌉, γ = (1 + α) / (1 − α),
// i.e. (γ^(i−1), γ^i] (computed from the double's exponent and mantissa bits and a table of
// the exact bucket bounds, not with a log per value; IndexByLog is the definition), answered by the
// point 2γ^i / (γ + 1) whose relative distance to anything in the bucket is at most α; negatives
// mirror that; 0 has its own bucket. The answer is clamped to the exact min and max seen, so
// constant inputs answer exactly. Non-finite values (NaN, ±inf) and non-positive weights are
// ignored and counted in ignored().
//
// Merge is exact union: the merged sketch is bucket for bucket what adding both inputs to one
// sketch gives (up to floating-point summation order of the weights). Both sketches must have the
// same accuracy.
//
// Memory: each sign keeps a dense range of bucket weights between its lowest and highest bucket
// seen; at α = 1 %, one decade of values takes ~115 buckets (8 bytes each). A range wider than
// kMaxBucketsPerSign (about 10^35 at α = 1 %) folds its lowest buckets into one, as DDSketch
// does, which costs accuracy only for the quantiles of the folded (smallest-magnitude) values.
//
// Threads: a plain value; not synchronized.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "columnar/coding.h"

namespace ariadne::query {

class QuantileSketch {
 public:
  static constexpr double kDefaultRelativeAccuracy = 0.01;
  static constexpr size_t kMaxBucketsPerSign = 4096;

  // REQUIRES: 0 < relative_accuracy < 1.
  explicit QuantileSketch(double relative_accuracy = kDefaultRelativeAccuracy);

  void Add(double value, double weight = 1.0) {
    // Fast path: a positive value in a bucket the sketch already has.
    if (value >= kMinNormal && value <= kMaxFinite && weight > 0 && weight <= kMaxFinite) {
      const uint32_t slot = static_cast<uint32_t>(IndexOf(value) - positive_.offset);
      if (slot < positive_.counts.size()) {
        positive_.counts[slot] += weight;
        ++count_;
        total_weight_ += weight;
        min_ = value < min_ ? value : min_;
        max_ = value > max_ ? value : max_;
        return;
      }
    }
    AddSlow(value, weight);
  }
  // REQUIRES: other.relative_accuracy() == relative_accuracy().
  void Merge(const QuantileSketch& other);

  // The weighted nearest-rank p-quantile (0 ≤ p ≤ 1) within the relative accuracy; nullopt when
  // nothing was added.
  std::optional<double> Quantile(double p) const;

  double relative_accuracy() const { return alpha_; }
  double total_weight() const { return total_weight_; }
  uint64_t count() const { return count_; }  // values added (not weights)
  uint64_t ignored() const { return ignored_; }
  bool empty() const { return count_ == 0; }
  double min() const { return min_; }
  double max() const { return max_; }
  // Heap bytes held (bucket storage), for a query's memory budget.
  uint64_t MemoryBytes() const;

  // Serialized form (block pre-aggregates, docs/formats/block.md): appends to `out`. Decode
  // replaces this sketch's contents with what `in` holds and reads past it; false (with `in`
  // failed) on malformed input. Both sketches must have the default accuracy.
  void EncodeTo(std::string* out) const;
  bool DecodeFrom(columnar::ByteReader* in);

 private:
  // Weights of buckets [offset, offset + counts.size()) of one sign.
  struct Store {
    int32_t offset = 0;
    std::vector<double> counts;
    void Add(int32_t index, double weight);
    void Merge(const Store& other);
    int32_t end() const { return offset + static_cast<int32_t>(counts.size()); }
  };

  static constexpr double kMinNormal = 2.2250738585072014e-308;  // DBL_MIN
  static constexpr double kMaxFinite = 1.7976931348623157e308;   // DBL_MAX

  void AddSlow(double value, double weight);
  // REQUIRES: magnitude ≥ DBL_MIN, finite.
  int32_t IndexOf(double magnitude) const {
    if (bounds_ != nullptr) {
      uint64_t bits;
      std::memcpy(&bits, &magnitude, 8);
      const int32_t octave = static_cast<int32_t>(bits >> 52) - 1023;  // magnitude > 0
      if (octave >= -kTableOctaves && octave < kTableOctaves) {
        // log2(magnitude) from the exponent and a table of the mantissa's top bits (error below
        // 0.002, i.e. under 0.1 bucket), then at most a step or two against the exact bucket
        // bounds, so the answer is IndexByLog's.
        const double log2 =
            octave + log2_mantissa_[(bits >> (52 - kMantissaBits)) & ((1u << kMantissaBits) - 1)];
        const double t = log2 * buckets_per_octave_;
        int32_t i = static_cast<int32_t>(t);
        i += static_cast<double>(i) < t ? 1 : 0;
        const double* upper = bounds_ - bounds_first_;  // upper[i]: bucket i's upper bound
        while (magnitude > upper[i]) ++i;
        while (magnitude <= upper[i - 1]) --i;
        return i;
      }
    }
    return IndexByLog(magnitude, inv_log_gamma_);
  }

 public:
  // The bucket of `magnitude` (≥ DBL_MIN, finite) by definition: ⌈log(magnitude) / log γ⌉ as
  // computed with std::log. IndexOf gives the same answer faster; exposed for tests.
  int32_t IndexByLog(double magnitude) const { return IndexByLog(magnitude, inv_log_gamma_); }
  // What Add uses (for tests).
  int32_t BucketIndex(double magnitude) const { return IndexOf(magnitude); }

 private:
  static double InvLogGamma(double alpha) { return 1.0 / std::log((1 + alpha) / (1 - alpha)); }
  static int32_t IndexByLog(double magnitude, double inv_log_gamma) {
    // ⌈t⌉ without a libm call (|t| < 2^31 for every finite double at any useful accuracy).
    const double t = std::log(magnitude) * inv_log_gamma;
    const int32_t i = static_cast<int32_t>(t);  // truncates toward 0
    return i + (static_cast<double>(i) < t ? 1 : 0);
  }
  // The table that makes IndexOf fast covers magnitudes in [2^-kTableOctaves, 2^kTableOctaves)
  // (outside it, std::log); only the default accuracy has one.
  static constexpr int32_t kTableOctaves = 128;
  static constexpr int kMantissaBits = 10;
  struct Tables;
  static const Tables& DefaultTables();

  double ValueOf(int32_t index) const;  // the bucket's answer point

  double alpha_;
  double gamma_;
  double inv_log_gamma_;
  double buckets_per_octave_;       // log 2 / log γ
  const double* bounds_ = nullptr;  // upper bounds of buckets bounds_first_, …, or null
  int32_t bounds_first_ = 0;
  const double* log2_mantissa_ = nullptr;  // log2(1 + k / 2^kMantissaBits)
  Store positive_;
  Store negative_;  // by the magnitude's index
  double zero_weight_ = 0;
  double total_weight_ = 0;
  uint64_t count_ = 0;
  uint64_t ignored_ = 0;
  double min_;
  double max_;
};

}  // namespace ariadne::query
