// RealisticSpans: a seeded generator of production-like traces, shared by the benchmarks and
// `ariadne-gen` so that Ariadne and its peers (ClickHouse) are measured on the same rows.
//
// Shape (as in ../shared/docs/dependencies.md): 20 services × 10 span names each, traces of 1–19
// spans, log-normal durations (median ≈ 2 ms), 1 % errors, and 10 attributes per span —
// http.method, http.route, http.status_code, net.peer.name, db.system, db.rows, user.id (10,000
// values), app.request_id (a unique random 16-hex string), app.feature_flag, app.cart_value.
//
// Threads: one generator per thread.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "model/span_batch.h"

namespace ariadne::gen {

struct RealisticOptions {
  int services = 20;
  int names_per_service = 10;
  int max_spans_per_trace = 19;
  double error_rate = 0.01;
  uint64_t start_unix_nano = 0;            // 0 = now
  uint64_t trace_interval_nano = 200'000;  // start-time spacing of consecutive traces
};

class RealisticSpans {
 public:
  explicit RealisticSpans(uint64_t seed, RealisticOptions options = {});

  // Whole traces until the batch holds at least `min_spans` spans.
  model::SpanBatch Batch(size_t min_spans);

 private:
  std::mt19937_64 rng_;
  RealisticOptions options_;
  uint64_t clock_;
};

}  // namespace ariadne::gen
