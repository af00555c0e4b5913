// BubbleUp: which attribute values set a selection of spans apart from the rest (the baseline).
//
// BubbleUpRequest names the baseline (a QuerySpec's window, environment, dataset and AND filters),
// the selection inside it (a band of one numeric column and a time range) and the candidate
// columns. A store engine counts, in one pass over the baseline's spans, how many spans have each
// value of each candidate column, inside the selection and in all (SpanStore::ScanBubbleUp, with
// query::exec::BubbleUpScan doing the counting for the embedded engine). RankBubbleUp turns those
// counts into the answer of POST /api/v1/bubbleup: per column the distribution of its values in
// the selection and in the baseline (the spans outside the selection), scored by total variation
// distance ½·Σ|selection(v) − baseline(v)| and ordered by it, with the values that differ most.
//
// Counts are of spans (not weighted by sample rate): only shares are compared.
//
// Threads: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "query/query_spec.h"

namespace ariadne::query {

struct BubbleUpRequest {
  QuerySpec base;      // window, environment, dataset, filters (AND); calculations unused
  std::string column;  // the selection's column (duration_ms for a latency heatmap)
  std::optional<double> min, max;
  uint64_t selection_start_unix_nano = 0;  // within base's window
  uint64_t selection_end_unix_nano = 0;    // exclusive
  std::vector<std::string> columns;        // candidates
  size_t max_values_per_column = 10'000;   // more distinct values: the column is skipped
};

struct BubbleUpValueCount {
  ResultValue value;     // monostate: the span has no value for the column
  double all = 0;        // spans of the baseline query (selection included) with this value
  double selection = 0;  // of which in the selection
};

struct BubbleUpColumnCounts {
  std::string column;
  std::vector<BubbleUpValueCount> values;
  std::string skipped;  // non-empty: not compared, and why
};

struct BubbleUpCounts {
  std::vector<BubbleUpColumnCounts> columns;
  double all = 0;        // spans matching the baseline query
  double selection = 0;  // of which in the selection
};

struct BubbleUpRankedValue {
  ResultValue value;
  double selection = 0;  // share of the selection's spans
  double baseline = 0;   // share of the other spans
};

struct BubbleUpRankedColumn {
  std::string column;
  double score = 0;
  std::vector<BubbleUpRankedValue> values;  // the most different first, at most `top`
};

struct BubbleUpReport {
  std::vector<BubbleUpRankedColumn> columns;                 // highest score first
  std::vector<std::pair<std::string, std::string>> skipped;  // column, reason
  double selection_count = 0;
  double baseline_count = 0;
};

BubbleUpReport RankBubbleUp(const BubbleUpCounts& counts, size_t top = 10);

}  // namespace ariadne::query
