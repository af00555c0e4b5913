// GridHistogram: exact weighted counts of values on a grid of equal-width bins whose width is a
// power of two and whose edges are multiples of it; mergeable. HEATMAP uses it once a result is
// too large to keep every value.
//
//   GridHistogram h;
//   h.Add(12.5, weight);              // bin ⌊x / 2^k⌋
//   h.Merge(other);                   // union; the coarser grid wins
//   h.CoarsenTo(k);                   // every HEATMAP row on one common grid
//
// Contract: the bin width 2^k starts as fine as the first value allows and doubles (adjacent bins
// merge, exactly) whenever the values seen span more than kMaxBins bins, so a histogram never
// holds more than kMaxBins bins and its width is at most 2 × (max − min) / kMaxBins past the first
// doubling. Counts are never approximated: a value counts in exactly one bin. Reporting wider
// buckets made of whole bins (Count over a bin range) therefore gives exact counts. Non-finite
// values and non-positive weights are ignored.
//
// Threads: a plain value; not synchronized.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "columnar/coding.h"

namespace ariadne::query {

class GridHistogram {
 public:
  static constexpr size_t kMaxBins = 1024;

  void Add(double value, double weight = 1.0);
  void Merge(const GridHistogram& other);
  // Widens the bins to 2^k (no-op when they already are at least that wide).
  void CoarsenTo(int k);

  bool empty() const { return counts_.empty(); }
  int exponent() const { return k_; }  // bin width 2^k
  double width() const;
  // Bins [first_bin(), first_bin() + bins()) hold the values; bin b is [b·width, (b+1)·width).
  int64_t first_bin() const { return first_; }
  size_t bins() const { return counts_.size(); }
  double bin_count(size_t i) const { return counts_[i]; }
  double min() const { return min_; }
  double max() const { return max_; }
  double total_weight() const { return total_; }
  uint64_t MemoryBytes() const { return counts_.capacity() * sizeof(double); }

  // Serialized form (block pre-aggregates, docs/formats/block.md): appends to `out`. Decode
  // replaces this histogram with what `in` holds and reads past it; false (with `in` failed) on
  // malformed input.
  void EncodeTo(std::string* out) const;
  bool DecodeFrom(columnar::ByteReader* in);

  // Index of the bin of `value` at exponent k.
  static int64_t BinOf(double value, int k);

 private:
  int k_ = -1074;  // the finest grid until the first value chooses one
  int64_t first_ = 0;
  std::vector<double> counts_;
  double min_ = 0;
  double max_ = 0;
  double total_ = 0;
};

}  // namespace ariadne::query
