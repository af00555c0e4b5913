// Span validation beyond decoding: what the pipeline checks before a batch goes to the store.
//
// Rejected (left out of the batch, counted by reason, reported to the client as partial success):
//   - an all-zero trace or span id;
//   - a zero start or end time;
//   - an end time before the start time;
//   - a start time before 2000-01-01 (almost always seconds or milliseconds sent as nanoseconds)
//     or more than `max_future_skew` ahead of the server clock.
// Clamped (kept, counted in `clamped`):
//   - strings (names, status messages, string attribute values) longer than `max_string_bytes`
//     are cut at a UTF-8 character boundary;
//   - attributes, events and links beyond the per-span limits are dropped and added to the span's
//     dropped_*_count, as an SDK with span limits would have done;
//   - an unknown span kind becomes UNSPECIFIED, an unknown status code UNSET.
//
// Threads: ValidateBatch is reentrant.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "model/span_batch.h"
#include "pipeline/metrics.h"

namespace ariadne::pipeline {

struct ValidationOptions {
  uint64_t max_future_skew_nano = 24ull * 3600 * 1'000'000'000;  // one day
  uint64_t min_time_unix_nano = 946'684'800ull * 1'000'000'000;  // 2000-01-01T00:00:00Z
  size_t max_string_bytes = 64 * 1024;
  uint32_t max_attributes_per_span = 1024;
  uint32_t max_events_per_span = 1024;
  uint32_t max_links_per_span = 1024;
};

struct ValidationReport {
  uint64_t rejected = 0;
  std::array<uint64_t, kRejectReasonCount> rejected_by_reason{};
  uint64_t clamped = 0;
  // "2 spans rejected: end time before start time (span 00f067aa0ba902b7), ..." or "".
  std::string message;
};

// Removes invalid spans from `batch` (keeping the order of the rest) and clamps oversized values.
// `now_unix_nano` is the server's clock (injected so tests are deterministic).
ValidationReport ValidateBatch(model::SpanBatch& batch, const ValidationOptions& options,
                               uint64_t now_unix_nano);

}  // namespace ariadne::pipeline
