#include "query/exec/sample_stats.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace ariadne::query::exec {

PreparedSamples Prepare(const CalcOp op, double percentile, std::vector<Sample> samples,
                        size_t buckets, uint64_t granularity_nano, uint64_t window_start,
                        bool by_bucket) {
  PreparedSamples p;
  // The whole-scope percentile first, selecting in place: bucketing reorders the samples anyway.
  if (op == CalcOp::kPercentile && !samples.empty())
    p.total_percentile =
        WeightedPercentile(samples.data(), samples.data() + samples.size(), percentile);
  if (!by_bucket && op != CalcOp::kConcurrency) {
    p.samples = std::move(samples);
    return p;
  }
  // Counting sort by time bucket: O(n), and each bucket's samples end up contiguous.
  p.begin.assign(buckets + 1, 0);
  for (const Sample& s : samples) p.begin[s.bucket + 1]++;
  for (size_t b = 0; b < buckets; ++b) p.begin[b + 1] += p.begin[b];
  {
    // In place (American flag sort): no second buffer for tens of millions of samples.
    std::vector<uint32_t> next(p.begin.begin(), p.begin.end() - 1);
    for (size_t b = 0; b < buckets; ++b) {
      while (next[b] < p.begin[b + 1]) {
        Sample& s = samples[next[b]];
        if (s.bucket == b) {
          ++next[b];
        } else {
          std::swap(s, samples[next[s.bucket]++]);
        }
      }
    }
  }
  if (op == CalcOp::kConcurrency) {
    // One sweep over span starts and ends (ends first at equal times); each bucket's value is the
    // most spans in flight inside it, counting those carried in from earlier buckets.
    std::vector<std::pair<double, double>> events;
    events.reserve(samples.size() * 2);
    for (const Sample& s : samples) {
      events.emplace_back(s.value, s.weight);
      events.emplace_back(static_cast<double>(s.aux), -s.weight);
    }
    std::sort(events.begin(), events.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first < b.first : a.second < b.second;
    });
    p.concurrency.assign(buckets, 0);
    double current = 0;
    size_t e = 0;
    for (size_t b = 0; b < buckets; ++b) {
      const double hi = static_cast<double>(window_start + (b + 1) * granularity_nano);
      double best = current;  // carried in
      while (e < events.size() && events[e].first < hi) {
        current += events[e].second;
        best = std::max(best, current);
        ++e;
      }
      p.concurrency[b] = std::max(0.0, best);
      p.concurrency_total = std::max(p.concurrency_total, p.concurrency[b]);
    }
  }
  p.samples = std::move(samples);
  return p;
}

// Weighted nearest rank: the smallest value whose cumulative weight (in ascending value order)
// reaches p × total weight. Quickselect with weights: expected O(n); reorders [first, last).
double WeightedPercentile(Sample* first, Sample* last, double p) {
  double total = 0;
  bool unit_weights = true;
  for (const Sample* s = first; s != last; ++s) {
    total += s->weight;
    unit_weights &= s->weight == 1.0;
  }
  auto by_value = [](const Sample& a, const Sample& b) { return a.value < b.value; };
  if (unit_weights) {
    // Plain nearest rank: the ⌈p·n⌉-th smallest value, one selection.
    const double n = static_cast<double>(last - first);
    size_t rank = static_cast<size_t>(std::ceil(p * n - 1e-9 * n));
    if (rank < 1) rank = 1;
    Sample* kth = first + (std::min<size_t>(rank, static_cast<size_t>(last - first)) - 1);
    std::nth_element(first, kth, last, by_value);
    return kth->value;
  }
  double target = p * total - 1e-9 * total;
  while (last - first > 16) {
    Sample* mid = first + (last - first) / 2;
    std::nth_element(first, mid, last, by_value);
    double left = 0;
    for (const Sample* s = first; s != mid; ++s) left += s->weight;
    if (left >= target) {
      last = mid;  // the answer is among the values at or below the pivot
    } else if (left + mid->weight >= target) {
      return mid->value;
    } else {
      target -= left + mid->weight;
      first = mid + 1;
    }
  }
  std::sort(first, last, by_value);
  double cumulative = 0;
  for (Sample* s = first; s != last; ++s) {
    cumulative += s->weight;
    if (cumulative >= target) return s->value;
  }
  return (last - 1)->value;
}

}  // namespace ariadne::query::exec
