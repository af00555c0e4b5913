// QuerySpec: an aggregate query in Honeycomb's semantics (calculations, filters, breakdowns,
// havings, orders, limit, time range, granularity), and QueryResult, the answer every store engine
// returns for it. docs/query.md is the user-facing description.
//
// ParseQuerySpec turns the JSON a client posts to /api/v1/query into a validated spec; every error
// names the field and the problem ("calculations[1].column: P99 needs a column"). Engines receive
// only validated specs. ResultToJson renders a result in Honeycomb's shape:
//   {"data": {"results": [{"data": {"service.name": "cart", "COUNT": 12,
//                                    "P99(duration_ms)": 8.5}}],
//             "series": [{"time": "…", "data": {…}}], "totals": {…}}, "meta": {…}}
//
// Threads: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace ariadne::query {

enum class CalcOp : uint8_t {
  kCount,
  kConcurrency,
  kSum,
  kAvg,
  kMin,
  kMax,
  kCountDistinct,
  kPercentile,  // P001 … P999; the fraction is in Calculation::percentile
  kHeatmap,
  kRateAvg,
  kRateSum,
  kRateMax,
};

enum class FilterOp : uint8_t {
  kEq,
  kNe,
  kGt,
  kGe,
  kLt,
  kLe,
  kStartsWith,
  kDoesNotStartWith,
  kEndsWith,
  kDoesNotEndWith,
  kContains,
  kDoesNotContain,
  kExists,
  kDoesNotExist,
  kIn,
  kNotIn,
};

// A literal in a filter: string, integer, floating point or boolean.
using Literal = std::variant<std::string, int64_t, double, bool>;

struct Calculation {
  CalcOp op = CalcOp::kCount;
  std::string column;     // empty for COUNT and CONCURRENCY
  double percentile = 0;  // 0.5 for P50, 0.999 for P999
  std::string op_name;    // as written by the user, upper case: "P99", "COUNT_DISTINCT"
  std::string label;      // "COUNT", "P99(duration_ms)"
};

struct Filter {
  std::string column;
  FilterOp op = FilterOp::kEq;
  std::vector<Literal> values;  // one value; several for in/not-in; none for exists
};

struct Order {
  // Either a calculation (index into QuerySpec::calculations) or a breakdown column.
  std::optional<size_t> calculation;
  std::string column;
  bool descending = false;
};

enum class CompareOp : uint8_t { kEq, kNe, kGt, kGe, kLt, kLe };

struct Having {
  size_t calculation = 0;  // index into QuerySpec::calculations
  CompareOp op = CompareOp::kGt;
  double value = 0;
};

struct QuerySpec {
  std::string environment;  // empty: every environment
  std::string dataset;      // a service.name, or empty / "__all__" for every service
  uint64_t start_unix_nano = 0;
  uint64_t end_unix_nano = 0;  // exclusive
  uint64_t granularity_seconds = 0;
  std::vector<Calculation> calculations;
  std::vector<Filter> filters;
  bool filter_or = false;
  std::vector<std::string> breakdowns;
  std::vector<Order> orders;
  std::vector<Having> havings;
  size_t limit = 1000;
  std::string xray_filter;  // an X-Ray filter expression; evaluated per trace when set
  // Percentiles and HEATMAP from every value, however many (more memory and time); false: exact
  // up to a few thousand values per group, then from a sketch (docs/query.md, "Percentiles").
  bool exact = false;

  // ⌈window / granularity⌉, without overflow (ParseQuerySpec keeps it at most kMaxBuckets).
  size_t bucket_count() const {
    const uint64_t window = end_unix_nano - start_unix_nano;
    const uint64_t width = granularity_seconds * 1'000'000'000ULL;
    if (width == 0) return 1;
    return static_cast<size_t>(window / width + (window % width != 0));
  }
};

constexpr size_t kDefaultLimit = 1000;
constexpr size_t kMaxLimit = 10000;
constexpr uint64_t kDefaultTimeRangeSeconds = 7200;
constexpr size_t kHeatmapBuckets = 40;
// Most time buckets per series (as Honeycomb): a finer granularity over the range is refused.
constexpr uint64_t kMaxBuckets = 1000;

// Parses and validates a spec. `now_unix_nano` anchors `time_range`.
Result<QuerySpec> ParseQuerySpec(std::string_view json, uint64_t now_unix_nano);

// "COUNT", "P99(duration_ms)", "HEATMAP(duration_ms)".
std::string CalculationLabel(const Calculation& calc);

// A value in a result: absent (null), text, or a number. Breakdown values keep their type.
using ResultValue = std::variant<std::monostate, std::string, int64_t, double, bool>;

struct HeatmapBucket {
  double lower = 0;
  double upper = 0;
  double count = 0;
};

struct ResultRow {
  std::vector<ResultValue> breakdowns;               // one per QuerySpec::breakdowns
  std::vector<ResultValue> values;                   // one per calculation (null for HEATMAP)
  std::vector<std::vector<HeatmapBucket>> heatmaps;  // one per HEATMAP calculation
};

struct SeriesPoint {
  uint64_t time_unix_nano = 0;  // bucket start
  std::vector<ResultRow> rows;  // one per result group present in the bucket
};

struct QueryResult {
  std::vector<ResultRow> rows;      // after having/order/limit
  std::vector<SeriesPoint> series;  // per granularity bucket, for the groups in `rows`
  ResultRow totals;                 // calculations over every matching span, no breakdown
  uint64_t blocks_scanned = 0;
  uint64_t blocks_skipped = 0;
  uint64_t spans_scanned = 0;
  uint64_t spans_matched = 0;
  bool sample_rate_weighted = false;  // true when some matching span had a sample rate > 1
};

std::string ResultToJson(const QuerySpec& spec, const QueryResult& result);

}  // namespace ariadne::query
