#include "query/exec/grid_histogram.h"

#include <algorithm>
#include <cmath>

namespace ariadne::query {
namespace {

constexpr int kMinExponent = -1074;  // the smallest subnormal double

// ⌊b / 2^d⌋ for d ≥ 0.
int64_t FloorShift(int64_t b, int d) {
  if (d <= 0) return b;
  if (d >= 63) return b < 0 ? -1 : 0;
  return b >= 0 ? (b >> d) : -(((-b) - 1) >> d) - 1;
}

// The finest exponent at which `value`'s bin index fits comfortably in 62 bits.
int MinExponentFor(double value) {
  int e = 0;
  std::frexp(value, &e);                  // |value| < 2^e
  return std::max(kMinExponent, e - 53);  // finer bins than the ulp would be empty
}

// The smallest d ≥ 0 with bins [lo, hi] at k + d spanning at most kMaxBins.
int DoublingsToFit(int64_t lo, int64_t hi) {
  int d = 0;
  while (FloorShift(hi, d) - FloorShift(lo, d) + 1 > static_cast<int64_t>(GridHistogram::kMaxBins))
    ++d;
  return d;
}

}  // namespace

int64_t GridHistogram::BinOf(double value, int k) {
  return static_cast<int64_t>(std::floor(std::ldexp(value, -k)));
}

double GridHistogram::width() const { return std::ldexp(1.0, k_); }

void GridHistogram::CoarsenTo(int k) {
  if (k <= k_) return;
  const int d = k - k_;
  k_ = k;
  if (counts_.empty()) return;
  const int64_t last = first_ + static_cast<int64_t>(counts_.size()) - 1;
  const int64_t new_first = FloorShift(first_, d);
  std::vector<double> merged(static_cast<size_t>(FloorShift(last, d) - new_first + 1), 0.0);
  for (size_t i = 0; i < counts_.size(); ++i)
    merged[static_cast<size_t>(FloorShift(first_ + static_cast<int64_t>(i), d) - new_first)] +=
        counts_[i];
  first_ = new_first;
  counts_ = std::move(merged);
}

void GridHistogram::Add(double value, double weight) {
  if (!std::isfinite(value) || !(weight > 0) || !std::isfinite(weight)) return;
  if (counts_.empty()) {
    k_ = std::max(k_, MinExponentFor(value));
    first_ = BinOf(value, k_);
    counts_.assign(1, weight);
    min_ = max_ = value;
    total_ = weight;
    return;
  }
  CoarsenTo(MinExponentFor(value));
  int64_t b = BinOf(value, k_);
  const int64_t last = first_ + static_cast<int64_t>(counts_.size()) - 1;
  if (b < first_ || b > last) {
    const int d = DoublingsToFit(std::min(b, first_), std::max(b, last));
    if (d > 0) {
      CoarsenTo(k_ + d);
      b = BinOf(value, k_);
    }
    if (b < first_) {
      counts_.insert(counts_.begin(), static_cast<size_t>(first_ - b), 0.0);
      first_ = b;
    } else if (b >= first_ + static_cast<int64_t>(counts_.size())) {
      counts_.resize(static_cast<size_t>(b - first_ + 1), 0.0);
    }
  }
  counts_[static_cast<size_t>(b - first_)] += weight;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  total_ += weight;
}

void GridHistogram::Merge(const GridHistogram& other) {
  if (other.counts_.empty()) return;
  if (counts_.empty()) {
    const int k = std::max(k_, other.k_);
    *this = other;
    CoarsenTo(k);
    return;
  }
  GridHistogram coarse;
  const GridHistogram* src = &other;
  if (other.k_ < k_) {
    coarse = other;
    coarse.CoarsenTo(k_);
    src = &coarse;
  } else {
    CoarsenTo(other.k_);
  }
  auto last_of = [](const GridHistogram& h) {
    return h.first_ + static_cast<int64_t>(h.counts_.size()) - 1;
  };
  const int d =
      DoublingsToFit(std::min(first_, src->first_), std::max(last_of(*this), last_of(*src)));
  if (d > 0) {
    if (src != &coarse) {
      coarse = other;
      src = &coarse;
    }
    CoarsenTo(k_ + d);
    coarse.CoarsenTo(k_);
  }
  const int64_t lo = std::min(first_, src->first_);
  const int64_t hi = std::max(last_of(*this), last_of(*src));
  if (lo < first_) {
    counts_.insert(counts_.begin(), static_cast<size_t>(first_ - lo), 0.0);
    first_ = lo;
  }
  counts_.resize(static_cast<size_t>(hi - first_ + 1), 0.0);
  for (size_t i = 0; i < src->counts_.size(); ++i)
    counts_[static_cast<size_t>(src->first_ - first_) + i] += src->counts_[i];
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  total_ += other.total_;
}

// zigzag varint k, zigzag varint first bin, varint 2n (+1: the weights are doubles' bits, else
// varints), the n weights, double min, double max, double total.
void GridHistogram::EncodeTo(std::string* out) const {
  columnar::PutVarint(out, columnar::ZigZag(k_));
  columnar::PutVarint(out, columnar::ZigZag(first_));
  bool whole = true;
  for (double c : counts_) whole = whole && c >= 0 && c < 9007199254740992.0 && c == std::floor(c);
  columnar::PutVarint(out, counts_.size() * 2 + (whole ? 0 : 1));
  for (double c : counts_) {
    if (whole) {
      columnar::PutVarint(out, static_cast<uint64_t>(c));
    } else {
      columnar::PutDouble(out, c);
    }
  }
  columnar::PutDouble(out, min_);
  columnar::PutDouble(out, max_);
  columnar::PutDouble(out, total_);
}

bool GridHistogram::DecodeFrom(columnar::ByteReader* in) {
  uint64_t k, first, n;
  if (!in->GetVarint(&k) || !in->GetVarint(&first) || !in->GetVarint(&n)) return in->Fail();
  const int64_t kk = columnar::UnZigZag(k);
  const bool whole = (n & 1) == 0;
  n >>= 1;
  if (kk < kMinExponent || kk > 2048 || n > kMaxBins || n > in->remaining()) return in->Fail();
  k_ = static_cast<int>(kk);
  first_ = columnar::UnZigZag(first);
  if (first_ > (int64_t{1} << 62) || first_ < -(int64_t{1} << 62)) return in->Fail();
  counts_.resize(n);
  for (double& c : counts_) {
    if (whole) {
      uint64_t v;
      if (!in->GetVarint(&v)) return false;
      c = static_cast<double>(v);
    } else if (!in->GetDouble(&c) || !(c >= 0) || !std::isfinite(c)) {
      return in->Fail();
    }
  }
  return in->GetDouble(&min_) && in->GetDouble(&max_) && in->GetDouble(&total_);
}

}  // namespace ariadne::query
