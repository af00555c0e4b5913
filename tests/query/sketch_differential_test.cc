// Differential test of the sketch path: groups large enough (more than kExactSampleLimit values)
// that percentiles come from QuantileSketch and HEATMAP from grid histograms, in a real embedded
// store (sealed blocks plus a live head, two scan threads). Percentiles must be within the
// documented 1 % relative error of the naive reference evaluator and everything else exact;
// with "exact": true everything is exact; HEATMAP bucket counts are exact for the buckets reported.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <random>
#include <thread>

#include "query/exec/aggregation.h"
#include "query/query_spec.h"
#include "store/embedded/embedded_store.h"
#include "tests/common/random_spans.h"
#include "tests/query/reference_evaluator.h"
#include "tests/store/store_test_util.h"

namespace ariadne::query {
namespace {

constexpr double kRelativeError = 0.01;

class SketchDifferentialTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    store::embedded::EmbeddedStoreOptions options;
    options.data_dir = dir_->path();
    options.head_max_spans = 8000;  // several sealed blocks plus a live head
    auto store = store::embedded::OpenEmbeddedStore(options);
    ASSERT_TRUE(store.ok());
    store_ = store->release();
    testing::RandomSpanOptions gen_options;
    gen_options.services = 3;
    testing::RandomSpans gen(5, gen_options);
    rows_ = new std::vector<testing::ReferenceRow>();
    for (int i = 0; i < 20; ++i) {
      model::SpanBatch batch = gen.Batch(2500);
      if (i % 4 == 0) {
        // Some spans carry a sample rate, so the sketches are weighted.
        for (size_t s = 0; s < batch.spans.size(); s += 5) {
          model::Span& span = batch.spans[s];
          model::Range old = span.attributes;
          uint32_t begin = static_cast<uint32_t>(batch.attributes.size());
          for (uint32_t a = old.begin; a < old.end(); ++a)
            batch.attributes.push_back(batch.attributes[a]);
          batch.attributes.push_back(
              {batch.arena.Copy("SampleRate"), model::Value::Int(1 + static_cast<int64_t>(s % 7))});
          span.attributes = {begin, old.count + 1};
        }
      }
      for (const model::Span& s : batch.spans) {
        lo_ = std::min(lo_, s.start_time_unix_nano);
        hi_ = std::max(hi_, s.start_time_unix_nano);
      }
      auto more = testing::ReferenceRows(batch);
      rows_->insert(rows_->end(), more.begin(), more.end());
      ASSERT_TRUE(store_->Append("prod", std::move(batch)).ok());
    }
    for (int i = 0; i < 1000 && store_->Admin()->Stats().blocks < 2; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  static void TearDownTestSuite() {
    delete store_;
    delete rows_;
    delete dir_;
  }

  QuerySpec BaseSpec() const {
    QuerySpec spec;
    spec.start_unix_nano = lo_;
    spec.end_unix_nano = hi_ + 1;
    spec.granularity_seconds = std::max<uint64_t>(1, (hi_ + 1 - lo_) / 1'000'000'000ULL / 6 + 1);
    spec.limit = kMaxLimit;
    return spec;
  }

  static Calculation Calc(CalcOp op, const char* name, const char* column, double p = 0) {
    Calculation c;
    c.op = op;
    c.op_name = name;
    c.column = column;
    c.percentile = p;
    c.label = CalculationLabel(c);
    return c;
  }

  static inline testing::TempDir* dir_ = nullptr;
  static inline store::SpanStore* store_ = nullptr;
  static inline std::vector<testing::ReferenceRow>* rows_ = nullptr;
  static inline uint64_t lo_ = UINT64_MAX, hi_ = 0;
};

// Compares engine and reference group by group: percentiles within `percentile_error` relative
// error, everything else to 1e-9.
void ExpectClose(const QuerySpec& spec, const testing::ReferenceResult& want,
                 const testing::ReferenceResult& got, double percentile_error,
                 const std::string& context) {
  ASSERT_EQ(want.size(), got.size()) << context;
  for (const auto& [key, values] : want) {
    auto it = got.find(key);
    ASSERT_NE(it, got.end()) << "missing group " << key << "\n" << context;
    for (size_t i = 0; i < values.size(); ++i) {
      if (std::isnan(values[i])) {
        EXPECT_TRUE(std::isnan(it->second[i])) << key << " calc " << i << "\n" << context;
        continue;
      }
      const bool percentile = spec.calculations[i].op == CalcOp::kPercentile;
      const double tolerance = percentile
                                   ? percentile_error * std::fabs(values[i]) * (1 + 1e-9) + 1e-12
                                   : 1e-9 * std::max(1.0, std::fabs(values[i]));
      EXPECT_NEAR(values[i], it->second[i], tolerance)
          << key << " " << spec.calculations[i].label << "\n"
          << context;
    }
  }
}

TEST_F(SketchDifferentialTest, PercentilesOfLargeGroupsAreWithinTheBoundAndExactWhenAsked) {
  ASSERT_GT(rows_->size() / 3, exec::kExactSampleLimit);  // each service's group is sketched
  std::mt19937 rng(99);
  static const char* kBreakdowns[] = {"service.name", "span.kind", "error"};
  static const char* kColumns[] = {"duration_ms", "http.status_code", "app.ratio"};
  static const std::pair<const char*, double> kPercentiles[] = {
      {"P001", 0.001}, {"P10", 0.1}, {"P50", 0.5}, {"P75", 0.75}, {"P99", 0.99}, {"P999", 0.999}};
  bool saw_large_group = false;
  for (int round = 0; round < 10; ++round) {
    QuerySpec spec = BaseSpec();
    if (round % 3 == 1) {
      spec.start_unix_nano = lo_ + rng() % ((hi_ - lo_) / 2);  // a slice: time pruning too
    }
    for (size_t i = 0, n = rng() % 3; i < n; ++i)
      spec.breakdowns.push_back(kBreakdowns[rng() % std::size(kBreakdowns)]);
    if (round % 4 == 3) {
      Filter f;
      f.column = "http.status_code";
      f.op = FilterOp::kLt;
      f.values.push_back(int64_t{500});
      spec.filters.push_back(f);
    }
    spec.calculations.push_back(Calc(CalcOp::kCount, "COUNT", ""));
    for (int i = 0; i < 3; ++i) {
      const auto& [name, p] = kPercentiles[rng() % std::size(kPercentiles)];
      spec.calculations.push_back(
          Calc(CalcOp::kPercentile, name, kColumns[rng() % std::size(kColumns)], p));
    }
    spec.calculations.push_back(Calc(CalcOp::kAvg, "AVG", "duration_ms"));
    const testing::ReferenceResult want = testing::RunReference(spec, *rows_);
    for (const auto& [key, values] : want) saw_large_group |= values[0] > exec::kExactSampleLimit;

    Result<QueryResult> sketched = store_->RunQuery(spec);
    ASSERT_TRUE(sketched.ok()) << sketched.status().ToString();
    ExpectClose(spec, want, testing::FromEngine(spec, *sketched), kRelativeError,
                "sketch, round " + std::to_string(round));

    spec.exact = true;
    Result<QueryResult> exact = store_->RunQuery(spec);
    ASSERT_TRUE(exact.ok()) << exact.status().ToString();
    ExpectClose(spec, want, testing::FromEngine(spec, *exact), 0,
                "exact, round " + std::to_string(round));
    if (HasFailure()) break;
  }
  EXPECT_TRUE(saw_large_group);
}

TEST_F(SketchDifferentialTest, SketchedPercentilesDifferFromExactOnesSomewhere) {
  // Guards the test above against a sketch path that silently stayed exact.
  QuerySpec spec = BaseSpec();
  spec.breakdowns = {"service.name"};
  for (const auto& [name, p] : {std::pair<const char*, double>{"P50", 0.5},
                                {"P90", 0.9},
                                {"P99", 0.99},
                                {"P75", 0.75},
                                {"P25", 0.25},
                                {"P10", 0.1}})
    spec.calculations.push_back(Calc(CalcOp::kPercentile, name, "duration_ms", p));
  Result<QueryResult> sketched = store_->RunQuery(spec);
  spec.exact = true;
  Result<QueryResult> exact = store_->RunQuery(spec);
  ASSERT_TRUE(sketched.ok() && exact.ok());
  auto a = testing::FromEngine(spec, *sketched), b = testing::FromEngine(spec, *exact);
  bool differs = false;
  for (const auto& [key, values] : a)
    for (size_t i = 0; i < values.size(); ++i) differs |= values[i] != b[key][i];
  EXPECT_TRUE(differs);
}

TEST_F(SketchDifferentialTest, HeatmapCountsOfLargeResultsAreExactPerReportedBucket) {
  QuerySpec spec = BaseSpec();
  spec.breakdowns = {"service.name"};
  spec.calculations.push_back(Calc(CalcOp::kHeatmap, "HEATMAP", "duration_ms"));
  Result<QueryResult> result = store_->RunQuery(spec);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->rows.size(), 3u);
  // (service, duration, weight) of every span, flat.
  struct Flat {
    std::string service;
    double duration;
    double weight;
  };
  std::vector<Flat> flat;
  for (const testing::ReferenceRow& r : *rows_)
    flat.push_back({std::get<std::string>(r.columns.at("service.name")),
                    std::get<double>(r.columns.at("duration_ms")), r.weight});
  auto check = [&](const ResultRow& row, const std::string& service) {
    ASSERT_EQ(row.heatmaps.size(), 1u);
    const auto& buckets = row.heatmaps[0];
    ASSERT_EQ(buckets.size(), kHeatmapBuckets);
    std::vector<double> expected(kHeatmapBuckets, 0);
    double expected_total = 0, reported_total = 0;
    for (const Flat& f : flat) {
      if (!service.empty() && f.service != service) continue;
      expected_total += f.weight;
      for (size_t i = 0; i < kHeatmapBuckets; ++i)
        if (f.duration >= buckets[i].lower && f.duration < buckets[i].upper)
          expected[i] += f.weight;
    }
    for (size_t i = 0; i < kHeatmapBuckets; ++i) {
      EXPECT_EQ(buckets[i].count, expected[i])
          << service << " [" << buckets[i].lower << ", " << buckets[i].upper << ")";
      reported_total += buckets[i].count;
    }
    EXPECT_EQ(reported_total, expected_total) << service;
    // The layout starts at the smallest value of the result.
    if (service.empty()) {
      EXPECT_GT(buckets[0].count, 0);
    }
  };
  for (const ResultRow& row : result->rows) check(row, std::get<std::string>(row.breakdowns[0]));
  check(result->totals, "");
  // Every row shares one layout.
  for (size_t i = 0; i < kHeatmapBuckets; ++i)
    EXPECT_EQ(result->rows[0].heatmaps[0][i].lower, result->totals.heatmaps[0][i].lower);
}

}  // namespace
}  // namespace ariadne::query
