// Hand-computed answers for every calculation, filter operator, having, order and limit, on a
// small fixed set of spans, in the head and after sealing (both must answer identically).
#include <gtest/gtest.h>

#include <cmath>

#include "query/exec/executor.h"
#include "query/query_spec.h"
#include "store/embedded/embedded_store.h"
#include "tests/store/store_test_util.h"

namespace ariadne::query {
namespace {

constexpr uint64_t kSecond = 1'000'000'000ULL;
constexpr uint64_t kBase = 1'700'000'000ULL * kSecond;

struct SpanSpec {
  const char* service;
  const char* name;
  uint64_t start_offset_s;
  double duration_ms;
  std::vector<model::KeyValue> attrs;
  bool error = false;
  const char* trace_state = "";
};

// Ten spans: durations 10..100 ms, services a/b, some attributes missing or of mixed types.
model::SpanBatch GoldenBatch() {
  model::SpanBatch b;
  auto s = [&](std::string_view t) { return b.arena.Copy(t); };
  for (const char* svc : {"a", "b"}) {
    uint32_t begin = static_cast<uint32_t>(b.attributes.size());
    b.attributes.push_back({s("service.name"), model::Value::String(s(svc))});
    b.resources.push_back({{begin, 1}, 0, {}});
  }
  b.scopes.push_back({s("lib"), s("1"), {0, 0}, 0, {}});
  std::vector<SpanSpec> specs = {
      {"a",
       "GET /home",
       0,
       10,
       {{"http.status_code", model::Value::Int(200)}, {"user", model::Value::String("u1")}}},
      {"a",
       "GET /home",
       10,
       20,
       {{"http.status_code", model::Value::Int(200)}, {"user", model::Value::String("u2")}}},
      {"a",
       "GET /home",
       20,
       30,
       {{"http.status_code", model::Value::Int(500)}, {"user", model::Value::String("u1")}},
       true},
      {"a", "POST /items", 30, 40, {{"http.status_code", model::Value::Int(201)}}},
      {"a", "POST /items", 40, 50, {{"http.status_code", model::Value::String("503")}}, true},
      {"b",
       "query",
       50,
       60,
       {{"db.rows", model::Value::Int(5)}, {"cached", model::Value::Bool(true)}}},
      {"b",
       "query",
       60,
       70,
       {{"db.rows", model::Value::Double(7.5)}, {"cached", model::Value::Bool(false)}}},
      {"b", "query", 70, 80, {{"SampleRate", model::Value::Int(10)}}},
      {"b", "update", 80, 90, {{"db.rows", model::Value::Int(1)}}, false, "ot=th:8"},  // keep 1/2
      {"b", "update", 90, 100, {}},
  };
  uint64_t id = 1;
  for (const SpanSpec& sp : specs) {
    model::Span span;
    span.trace_id.bytes[15] = static_cast<uint8_t>(id);
    span.trace_id.bytes[0] = 1;
    span.span_id.bytes[7] = static_cast<uint8_t>(id++);
    span.name = s(sp.name);
    span.resource_index = std::string_view(sp.service) == "a" ? 0 : 1;
    span.start_time_unix_nano = kBase + sp.start_offset_s * kSecond;
    span.end_time_unix_nano =
        span.start_time_unix_nano + static_cast<uint64_t>(sp.duration_ms * 1e6);
    span.status_code = sp.error ? model::StatusCode::kError : model::StatusCode::kUnset;
    span.trace_state = s(sp.trace_state);
    span.kind = model::SpanKind::kServer;
    span.attributes.begin = static_cast<uint32_t>(b.attributes.size());
    for (model::KeyValue kv : sp.attrs) {
      kv.key = s(kv.key);
      kv.value.str = s(kv.value.str);
      b.attributes.push_back(kv);
    }
    span.attributes.count = static_cast<uint32_t>(sp.attrs.size());
    b.spans.push_back(span);
  }
  return b;
}

class GoldenTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    store::embedded::EmbeddedStoreOptions options;
    options.data_dir = dir_.path();
    auto store = store::embedded::OpenEmbeddedStore(options);
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    ASSERT_TRUE(store_->Append("prod", GoldenBatch()).ok());
    if (GetParam()) {
      ASSERT_TRUE(store_->Admin()->Flush().ok());  // sealed block instead of the head
    }
  }

  QueryResult Run(const std::string& body_fields) {
    std::string json = R"({"start_time": 1700000000, "end_time": 1700000100, "granularity": 50)" +
                       std::string(body_fields.empty() ? "" : ", ") + body_fields + "}";
    Result<QuerySpec> spec = ParseQuerySpec(json, kBase);
    EXPECT_TRUE(spec.ok()) << spec.status().ToString();
    spec_ = *spec;
    Result<QueryResult> r = store_->RunQuery(*spec);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : QueryResult{};
  }

  double Total(const std::string& fields, size_t calc = 0) {
    QueryResult r = Run(fields);
    const ResultValue& v = r.totals.values.at(calc);
    if (auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
    if (auto* d = std::get_if<double>(&v)) return *d;
    return NAN;
  }

  double Count(const std::string& filter) {
    return Total(R"("calculations":[{"op":"COUNT"}], "filters":[)" + filter + "]");
  }

  testing::TempDir dir_;
  std::unique_ptr<store::SpanStore> store_;
  QuerySpec spec_;
};

TEST_P(GoldenTest, CountIsWeightedBySampleRateAndTraceState) {
  // 8 spans of weight 1, one with SampleRate 10, one with ot=th:8 (kept with p=1/2 → 2).
  EXPECT_DOUBLE_EQ(Total(""), 20);
  EXPECT_TRUE(Run("").sample_rate_weighted);
}

TEST_P(GoldenTest, EveryFilterOperator) {
  EXPECT_DOUBLE_EQ(Count(R"({"column":"name","op":"=","value":"GET /home"})"), 3);
  EXPECT_DOUBLE_EQ(Count(R"({"column":"name","op":"!=","value":"GET /home"})"), 17);
  // Mixed types: 500 (int) and "503" (string) both compare as numbers against 500.
  EXPECT_DOUBLE_EQ(Count(R"({"column":"http.status_code","op":">=","value":500})"), 2);
  EXPECT_DOUBLE_EQ(Count(R"({"column":"http.status_code","op":">","value":500})"), 1);
  EXPECT_DOUBLE_EQ(Count(R"({"column":"http.status_code","op":"<","value":201})"), 2);
  EXPECT_DOUBLE_EQ(Count(R"({"column":"http.status_code","op":"<=","value":201})"), 3);
  EXPECT_DOUBLE_EQ(Count(R"({"column":"name","op":"starts-with","value":"GET"})"), 3);
  EXPECT_DOUBLE_EQ(Count(R"({"column":"name","op":"does-not-start-with","value":"GET"})"), 17);
  EXPECT_DOUBLE_EQ(Count(R"({"column":"name","op":"ends-with","value":"items"})"), 2);
  EXPECT_DOUBLE_EQ(Count(R"({"column":"name","op":"does-not-end-with","value":"items"})"), 18);
  EXPECT_DOUBLE_EQ(Count(R"({"column":"name","op":"contains","value":"dat"})"), 3);
  EXPECT_DOUBLE_EQ(Count(R"({"column":"name","op":"does-not-contain","value":"dat"})"), 17);
  // Missing attributes: only exists/does-not-exist see them; != does not match absent values.
  EXPECT_DOUBLE_EQ(Count(R"({"column":"user","op":"exists"})"), 3);
  EXPECT_DOUBLE_EQ(Count(R"({"column":"user","op":"does-not-exist"})"), 17);
  EXPECT_DOUBLE_EQ(Count(R"({"column":"user","op":"!=","value":"u1"})"), 1);
  EXPECT_DOUBLE_EQ(Count(R"({"column":"user","op":"in","value":["u1","u9"]})"), 2);
  EXPECT_DOUBLE_EQ(Count(R"({"column":"user","op":"not-in","value":["u1"]})"), 1);
  EXPECT_DOUBLE_EQ(Count(R"({"column":"cached","op":"=","value":true})"), 1);
  EXPECT_DOUBLE_EQ(Count(R"({"column":"error","op":"=","value":true})"), 2);
  EXPECT_DOUBLE_EQ(Count(R"({"column":"service.name","op":"=","value":"b"})"), 15);
  EXPECT_DOUBLE_EQ(Count(R"({"column":"duration_ms","op":">","value":85})"),
                   3);  // 90 (×2) + 100
  EXPECT_DOUBLE_EQ(Count(R"({"column":"nothing","op":"=","value":"x"})"), 0);
}

TEST_P(GoldenTest, FilterCombinationOr) {
  EXPECT_DOUBLE_EQ(
      Total(
          R"("filters":[{"column":"name","op":"=","value":"query"},{"column":"user","op":"=","value":"u2"}],"filter_combination":"OR")"),
      13);
}

TEST_P(GoldenTest, NumericCalculationsAreWeightedWhereHoneycombWeights) {
  // duration_ms values 10..100; weights 1 except 80 (×10) and 90 (×2).
  const double weighted_sum = 10 + 20 + 30 + 40 + 50 + 60 + 70 + 800 + 180 + 100;
  EXPECT_NEAR(Total(R"("calculations":[{"op":"SUM","column":"duration_ms"}])"), weighted_sum, 1e-6);
  EXPECT_NEAR(Total(R"("calculations":[{"op":"AVG","column":"duration_ms"}])"), weighted_sum / 20,
              1e-6);
  EXPECT_NEAR(Total(R"("calculations":[{"op":"MIN","column":"duration_ms"}])"), 10, 1e-6);
  EXPECT_NEAR(Total(R"("calculations":[{"op":"MAX","column":"duration_ms"}])"), 100, 1e-6);
  // Weighted nearest rank over 20 units: P50 → 10th unit = 80 ms (units 8..17 are the 80 ms span).
  EXPECT_NEAR(Total(R"("calculations":[{"op":"P50","column":"duration_ms"}])"), 80, 1e-6);
  EXPECT_NEAR(Total(R"("calculations":[{"op":"P99","column":"duration_ms"}])"), 100, 1e-6);
  EXPECT_NEAR(Total(R"("calculations":[{"op":"P001","column":"duration_ms"}])"), 10, 1e-6);
  EXPECT_NEAR(Total(R"("calculations":[{"op":"P25","column":"duration_ms"}])"), 50, 1e-6);
  // COUNT_DISTINCT is not weighted; strings, ints and doubles are distinct values.
  EXPECT_DOUBLE_EQ(Total(R"("calculations":[{"op":"COUNT_DISTINCT","column":"user"}])"), 2);
  EXPECT_DOUBLE_EQ(Total(R"("calculations":[{"op":"COUNT_DISTINCT","column":"db.rows"}])"), 3);
  // Non-numeric values are ignored by SUM; a column with none gives null.
  EXPECT_NEAR(Total(R"("calculations":[{"op":"SUM","column":"db.rows"}])"), 5 + 7.5 + 2 * 1, 1e-9);
  EXPECT_TRUE(std::isnan(Total(R"("calculations":[{"op":"AVG","column":"user"}])")));
}

TEST_P(GoldenTest, BreakdownsOrdersHavingsAndLimit) {
  QueryResult r = Run(
      R"("breakdowns":["service.name","name"],"calculations":[{"op":"COUNT"},{"op":"MAX","column":"duration_ms"}],
                        "orders":[{"op":"MAX","column":"duration_ms","order":"descending"}],
                        "havings":[{"calculate_op":"COUNT","op":">=","value":2}],"limit":3)");
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(std::get<std::string>(r.rows[0].breakdowns[1]), "update");  // max 100
  EXPECT_EQ(std::get<int64_t>(r.rows[0].values[0]), 3);                 // 1 + 2
  EXPECT_EQ(std::get<std::string>(r.rows[1].breakdowns[1]), "query");   // max 80
  EXPECT_EQ(std::get<std::string>(r.rows[2].breakdowns[1]), "POST /items");
  r = Run(R"("breakdowns":["user"],"orders":[{"column":"user","order":"ascending"}])");
  ASSERT_EQ(r.rows.size(), 3u);  // null, u1, u2
  EXPECT_EQ(r.rows[0].breakdowns[0].index(), 0u);
  EXPECT_EQ(std::get<std::string>(r.rows[1].breakdowns[0]), "u1");
  EXPECT_EQ(std::get<int64_t>(r.rows[1].values[0]), 2);
}

TEST_P(GoldenTest, SeriesHasOneBucketPerGranularity) {
  QueryResult r = Run(R"("calculations":[{"op":"COUNT"}])");
  ASSERT_EQ(r.series.size(), 2u);
  EXPECT_EQ(r.series[0].time_unix_nano, kBase);
  EXPECT_EQ(std::get<int64_t>(r.series[0].rows.at(0).values[0]), 5);   // offsets 0..40
  EXPECT_EQ(std::get<int64_t>(r.series[1].rows.at(0).values[0]), 15);  // 50..90, weighted
}

TEST_P(GoldenTest, HeatmapCountsSpansPerDurationBand) {
  QueryResult r = Run(R"("calculations":[{"op":"HEATMAP","column":"duration_ms"}])");
  ASSERT_EQ(r.totals.heatmaps.size(), 1u);
  const auto& buckets = r.totals.heatmaps[0];
  ASSERT_EQ(buckets.size(), kHeatmapBuckets);
  EXPECT_DOUBLE_EQ(buckets.front().lower, 10);
  EXPECT_DOUBLE_EQ(buckets.back().upper, 100);
  double total = 0;
  for (const auto& b : buckets) total += b.count;
  EXPECT_DOUBLE_EQ(total, 20);
  EXPECT_DOUBLE_EQ(buckets.back().count, 1);  // the 100 ms span
}

TEST_P(GoldenTest, ConcurrencyIsTheMostSpansInFlight) {
  // Spans are 10 s apart and last at most 100 ms: never two at once, but weight counts.
  EXPECT_DOUBLE_EQ(Total(R"("calculations":[{"op":"CONCURRENCY"}])"),
                   10);  // the SampleRate 10 span
  EXPECT_DOUBLE_EQ(
      Total(
          R"("calculations":[{"op":"CONCURRENCY"}],"filters":[{"column":"service.name","op":"=","value":"a"}])"),
      1);
}

TEST_P(GoldenTest, RateIsChangePerSecondBetweenBuckets) {
  // RATE_MAX over db.rows: bucket 0 has no values; so no rate. Over duration_ms: bucket 0 max 50,
  // bucket 1 max 100 → (100 − 50) / 50 s = 1.
  EXPECT_TRUE(std::isnan(Total(R"("calculations":[{"op":"RATE_MAX","column":"db.rows"}])")));
  EXPECT_NEAR(Total(R"("calculations":[{"op":"RATE_MAX","column":"duration_ms"}])"), 1.0, 1e-9);
}

TEST_P(GoldenTest, EmptyResultHasZeroCountAndNoRows) {
  QueryResult r =
      Run(R"("filters":[{"column":"name","op":"=","value":"nope"}],"breakdowns":["name"])");
  EXPECT_TRUE(r.rows.empty());
  EXPECT_EQ(std::get<int64_t>(r.totals.values[0]), 0);
}

TEST_P(GoldenTest, DatasetLimitsToOneService) {
  Result<QuerySpec> spec =
      ParseQuerySpec(R"({"start_time":1700000000,"end_time":1700000100,"dataset":"a"})", kBase);
  ASSERT_TRUE(spec.ok());
  Result<QueryResult> r = store_->RunQuery(*spec);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<int64_t>(r->totals.values[0]), 5);
}

TEST_P(GoldenTest, XrayFilterExpressionChoosesWholeTraces) {
  // Every golden span is its own trace; service("b") keeps the traces that touch service b.
  QueryResult r = Run(R"j("xray_filter": "service(\"b\")")j");
  EXPECT_EQ(std::get<int64_t>(r.totals.values[0]), 15);
  r = Run(R"j("xray_filter": "service(\"b\") AND duration >= 0.085")j");  // 90 ms (x2) + 100 ms
  EXPECT_EQ(std::get<int64_t>(r.totals.values[0]), 3);
  Result<QuerySpec> bad = ParseQuerySpec(R"j({"xray_filter": "service(\"b\" AND"})j", kBase);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("column 13"), std::string::npos) << bad.status().message();
}

INSTANTIATE_TEST_SUITE_P(HeadAndBlock, GoldenTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "SealedBlock" : "Head"; });

TEST(SampleRateTest, TraceStateThresholdGivesTheAdjustedCount) {
  EXPECT_DOUBLE_EQ(SampleRateFromTraceState(""), 1);
  EXPECT_DOUBLE_EQ(SampleRateFromTraceState("ot=th:8"), 2);
  EXPECT_DOUBLE_EQ(SampleRateFromTraceState("vendor=x, ot=rv:abc;th:c"), 4);
  EXPECT_DOUBLE_EQ(SampleRateFromTraceState("ot=th:0"), 1);
  EXPECT_DOUBLE_EQ(SampleRateFromTraceState("ot=th:zz"), 1);
}

}  // namespace
}  // namespace ariadne::query
