// Deterministic generator of realistic span batches for tests and benchmarks: a few services,
// traces of several spans with parent links, typed attributes (some high-cardinality), events,
// links and error statuses. Same seed, same batches.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "model/span_batch.h"

namespace ariadne::testing {

struct RandomSpanOptions {
  int services = 5;
  int names = 20;
  int spans_per_trace_max = 8;
  int attributes_per_span = 10;
  double event_probability = 0.1;
  double link_probability = 0.05;
  double error_probability = 0.05;
  uint64_t base_time_unix_nano = 1'764'000'000'000'000'000ULL;
};

class RandomSpans {
 public:
  explicit RandomSpans(uint64_t seed, RandomSpanOptions options = {})
      : rng_(seed), options_(options) {}

  // A batch of about `spans` spans (whole traces), with one resource per service used.
  model::SpanBatch Batch(size_t spans);

 private:
  std::string_view Text(model::SpanBatch* b, const std::string& s) { return b->arena.Copy(s); }
  uint64_t Next() { return rng_(); }

  std::mt19937_64 rng_;
  RandomSpanOptions options_;
  uint64_t clock_ = 0;
};

}  // namespace ariadne::testing
