// Block pre-aggregates: per sealed block, per time slice and (service.name, span name) group, what
// the common questions need without touching rows — span count, error count, sample-weighted
// count, the weighted sum, min and max of duration_ms — and per time slice and service a
// QuantileSketch and a GridHistogram of duration_ms (both weighted by the spans' sample rates,
// exactly as the row path adds them; per service rather than per group because sketches are most
// of the bytes). Time slices are aligned to multiples of their width (1 s, 2 s, 5 s, … 1 h: the
// finest that gives at most kMaxSlices slices), so a query's time buckets — whole seconds from a
// whole-second start — mostly hold whole slices, and series stay exact per bucket.
//
// Written into the block meta at seal and compaction (BlockMeta::pre_aggregates, format 4:
// docs/formats/block.md), used by QueryExecutor::ConsumePreAggregated for blocks whose every slice
// lies inside the window and inside one time bucket of a query that PreAggregatable accepts.
//
// Contract: BuildPreAggregates adds every row once; the service of a row is its resource's
// service.name (absent: no value). A block where service.name is a span attribute, or a
// non-string resource value, gets none (null): rows answer for it. DecodePreAggregates checks
// the structure (kDataLoss when malformed); sketches are decoded only when a query needs them.
//
// Threads: pure functions.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "columnar/block.h"
#include "common/status.h"
#include "query/exec/grid_histogram.h"
#include "query/exec/quantile_sketch.h"
#include "query/query_spec.h"

namespace ariadne::query::exec {

// A (service, span name) pair of the block.
struct PreAggregateGroup {
  uint32_t service = 0;  // index into PreAggregates::services
  std::string_view name;
};

struct PreAggregateService {
  bool has_service = false;  // false: the rows' resource has no service.name
  std::string_view name;
};

// One group's rows within a slice.
struct PreAggregateCounts {
  uint32_t group = 0;  // index into PreAggregates::groups
  uint64_t spans = 0;
  uint64_t errors = 0;      // status code error
  double weight = 0;        // sum of sample rates
  double weighted_sum = 0;  // sum of rate × duration_ms
  double min_ms = 0, max_ms = 0;
};

// One service's duration sketches within a slice.
struct PreAggregateSketches {
  uint32_t service = 0;
  std::string_view quantiles;  // QuantileSketch::EncodeTo of duration_ms
  std::string_view grid;       // GridHistogram::EncodeTo of duration_ms
};

struct PreAggregateSlice {
  uint64_t min_start_unix_nano = 0;  // of the rows in the slice
  uint64_t max_start_unix_nano = 0;
  std::vector<PreAggregateCounts> counts;
  std::vector<PreAggregateSketches> sketches;
};

struct PreAggregates {
  std::vector<PreAggregateService> services;
  std::vector<PreAggregateGroup> groups;
  uint64_t slice_nano = 0;
  std::vector<PreAggregateSlice> slices;  // string views into the decoded bytes
};

constexpr size_t kMaxSlices = 16;

// The pre-aggregates of `block` (every column decoded), or null when it cannot have them.
std::shared_ptr<const std::string> BuildPreAggregates(const columnar::Block& block);

// Parses `bytes` (views into it).
Status DecodePreAggregates(std::string_view bytes, PreAggregates* out);

// Whether `spec` can be answered from pre-aggregates (for blocks whose slices lie inside its
// window and buckets): no X-Ray filter, not exact, filters and breakdowns only on service.name
// and name, calculations COUNT or SUM, AVG, MIN, MAX, P-percentiles and HEATMAP of duration_ms —
// and for percentiles and HEATMAP (per-service sketches) no filter or breakdown on name.
bool PreAggregatable(const QuerySpec& spec);

}  // namespace ariadne::query::exec
