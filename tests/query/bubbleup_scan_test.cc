// BubbleUpScan (one pass) against the definition it replaces: for each candidate column, COUNT
// broken down by that column over the baseline query and over the selection (two executor runs
// per column). The counts per value must be equal, for several selections and filters, with the
// blocks split over two scans that are merged.
#include "query/exec/bubbleup_scan.h"

#include <gtest/gtest.h>

#include <map>

#include "columnar/block.h"
#include "query/exec/executor.h"
#include "tests/common/random_spans.h"

namespace ariadne::query {
namespace {

using columnar::Block;

std::vector<std::shared_ptr<const Block>> MakeBlocks(uint64_t* lo, uint64_t* hi) {
  std::vector<std::shared_ptr<const Block>> blocks;
  *lo = UINT64_MAX;
  *hi = 0;
  for (int i = 0; i < 5; ++i) {
    testing::RandomSpanOptions o;
    o.services = 2 + i;
    o.error_probability = 0.1 * i;
    o.base_time_unix_nano =
        1'764'000'000'000'000'000ULL + static_cast<uint64_t>(i) * 60'000'000'000ULL;
    testing::RandomSpans gen(7 + i, o);
    model::SpanBatch batch = gen.Batch(400);
    for (const model::Span& s : batch.spans) {
      *lo = std::min(*lo, s.start_time_unix_nano);
      *hi = std::max(*hi, s.start_time_unix_nano);
    }
    columnar::BlockBuilder builder("prod");
    builder.Append(batch);
    blocks.push_back(builder.Seal());
  }
  return blocks;
}

QuerySpec CountBy(const QuerySpec& base, const std::string& column) {
  QuerySpec spec = base;
  Calculation count;
  count.op = CalcOp::kCount;
  count.op_name = count.label = "COUNT";
  spec.calculations = {count};
  spec.breakdowns = {column};
  spec.limit = kMaxLimit;
  spec.granularity_seconds = 3600;
  return spec;
}

std::string Key(const ResultValue& v) {
  switch (v.index()) {
    case 1:
      return "s" + std::get<std::string>(v);
    case 2:
      return "i" + std::to_string(std::get<int64_t>(v));
    case 3:
      return "d" + std::to_string(std::get<double>(v));
    case 4:
      return std::get<bool>(v) ? "btrue" : "bfalse";
    default:
      return "n";
  }
}

std::map<std::string, double> Counts(const QuerySpec& spec,
                                     const std::vector<std::shared_ptr<const Block>>& blocks) {
  QueryExecutor executor(spec);
  for (const auto& block : blocks) EXPECT_TRUE(executor.Consume(*block).ok());
  Result<QueryResult> result = executor.Finish();
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  std::map<std::string, double> out;
  for (const ResultRow& row : result->rows)
    out[Key(row.breakdowns[0])] = static_cast<double>(std::get<int64_t>(row.values[0]));
  return out;
}

TEST(BubbleUpScanTest, OnePassCountsEqualTwoBreakdownQueriesPerColumn) {
  uint64_t lo, hi;
  const auto blocks = MakeBlocks(&lo, &hi);
  const std::vector<std::string> columns = {
      "service.name", "name",       "span.kind",     "error",
      "status_code",  "http.route", "user.id",       "http.status_code",
      "app.cached",   "host.name",  "no.such.column"};
  struct Case {
    std::vector<Filter> filters;
    std::optional<double> min, max;
    uint64_t sel_from, sel_to;  // fractions of the window, in percent
  };
  const std::vector<Case> cases = {
      {{}, 5.0, std::nullopt, 0, 100},
      {{}, std::nullopt, 2.0, 30, 70},
      {{{"service.name", FilterOp::kNe, {std::string("svc-1")}}}, 1.0, 50.0, 10, 90},
      {{{"error", FilterOp::kEq, {true}}}, 0.0, 1e9, 0, 50},
  };
  for (const Case& c : cases) {
    BubbleUpRequest request;
    request.base.start_unix_nano = lo;
    request.base.end_unix_nano = hi + 1;
    request.base.filters = c.filters;
    request.column = "duration_ms";
    request.min = c.min;
    request.max = c.max;
    const uint64_t span = hi + 1 - lo;
    request.selection_start_unix_nano = lo + span / 100 * c.sel_from;
    request.selection_end_unix_nano = c.sel_to == 100 ? hi + 1 : lo + span / 100 * c.sel_to;
    request.columns = columns;

    exec::BubbleUpScan first(request, nullptr), second(request, nullptr);
    for (size_t b = 0; b < blocks.size(); ++b)
      ASSERT_TRUE((b % 2 ? second : first).Consume(*blocks[b]).ok());
    ASSERT_TRUE(first.Merge(std::move(second)).ok());
    const BubbleUpCounts counts = first.Finish();

    QuerySpec selection = request.base;
    if (c.min) selection.filters.push_back({"duration_ms", FilterOp::kGe, {*c.min}});
    if (c.max) selection.filters.push_back({"duration_ms", FilterOp::kLe, {*c.max}});
    selection.start_unix_nano = request.selection_start_unix_nano;
    selection.end_unix_nano = request.selection_end_unix_nano;
    ASSERT_EQ(counts.columns.size(), columns.size());
    double all_total = 0, sel_total = 0;
    for (const auto& [k, n] : Counts(CountBy(request.base, "name"), blocks)) all_total += n;
    for (const auto& [k, n] : Counts(CountBy(selection, "name"), blocks)) sel_total += n;
    EXPECT_EQ(counts.all, all_total);
    EXPECT_EQ(counts.selection, sel_total);
    EXPECT_GT(counts.selection, 0);
    for (const BubbleUpColumnCounts& column : counts.columns) {
      SCOPED_TRACE(column.column);
      EXPECT_TRUE(column.skipped.empty());
      std::map<std::string, double> all, sel;
      for (const BubbleUpValueCount& v : column.values) {
        all[Key(v.value)] = v.all;
        if (v.selection > 0) sel[Key(v.value)] = v.selection;
      }
      EXPECT_EQ(all, Counts(CountBy(request.base, column.column), blocks));
      EXPECT_EQ(sel, Counts(CountBy(selection, column.column), blocks));
    }
  }
}

TEST(BubbleUpScanTest, ColumnWithTooManyValuesIsSkippedNotFailed) {
  uint64_t lo, hi;
  const auto blocks = MakeBlocks(&lo, &hi);
  BubbleUpRequest request;
  request.base.start_unix_nano = lo;
  request.base.end_unix_nano = hi + 1;
  request.column = "duration_ms";
  request.selection_start_unix_nano = lo;
  request.selection_end_unix_nano = hi + 1;
  request.columns = {"trace.span_id", "span.kind"};
  request.max_values_per_column = 50;
  exec::BubbleUpScan scan(request, nullptr);
  for (const auto& block : blocks) ASSERT_TRUE(scan.Consume(*block).ok());
  const BubbleUpCounts counts = scan.Finish();
  EXPECT_NE(counts.columns[0].skipped.find("more than 50 distinct values"), std::string::npos);
  EXPECT_TRUE(counts.columns[1].skipped.empty());
  const BubbleUpReport report = RankBubbleUp(counts);
  ASSERT_EQ(report.skipped.size(), 1u);
  EXPECT_EQ(report.skipped[0].first, "trace.span_id");
}

}  // namespace
}  // namespace ariadne::query
