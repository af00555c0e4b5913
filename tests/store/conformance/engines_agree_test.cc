// Storage conformance suite, part 2: the embedded engine and ClickHouse get the same spans and
// must give the same answers to every question — aggregate queries (every calculation and filter
// operator, breakdowns by typed attributes, havings, orders, limits, sample-rate weights,
// percentiles, HEATMAP, RATE_*, time series, X-Ray filters), trace search summaries, whole traces
// of a window, services, columns and the service graph. The embedded engine is the reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "store/clickhouse/clickhouse_store.h"
#include "tests/common/random_spans.h"
#include "tests/common/span_equality.h"
#include "tests/store/conformance/clickhouse_process.h"
#include "tests/store/conformance/conformance_util.h"
#include "tests/store/conformance/engines.h"
#include "tests/store/store_test_util.h"

namespace ariadne::testing {
namespace {

using namespace conformance;  // NOLINT: test helpers
using query::CalcOp;
using query::Calculation;
using query::Filter;
using query::FilterOp;
using query::QuerySpec;

// ---------------------------------------------------------------------------------------------
// The embedded engine and ClickHouse, same spans, same answers.

bool Near(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::fabs(a - b) <= 1e-9 * std::max({1.0, std::fabs(a), std::fabs(b)});
}

void ExpectSameValue(const query::ResultValue& a, const query::ResultValue& b,
                     const std::string& where) {
  if (a.index() == 3 && b.index() == 3) {
    EXPECT_TRUE(Near(std::get<double>(a), std::get<double>(b)))
        << where << ": " << std::get<double>(a) << " vs " << std::get<double>(b);
    return;
  }
  EXPECT_TRUE(a == b) << where << ": kinds " << a.index() << " vs " << b.index();
}

void ExpectSameRow(const query::ResultRow& a, const query::ResultRow& b, const std::string& where) {
  ASSERT_EQ(a.breakdowns.size(), b.breakdowns.size()) << where;
  for (size_t i = 0; i < a.breakdowns.size(); ++i)
    ExpectSameValue(a.breakdowns[i], b.breakdowns[i], where + " breakdown " + std::to_string(i));
  ASSERT_EQ(a.values.size(), b.values.size()) << where;
  for (size_t i = 0; i < a.values.size(); ++i)
    ExpectSameValue(a.values[i], b.values[i], where + " value " + std::to_string(i));
  ASSERT_EQ(a.heatmaps.size(), b.heatmaps.size()) << where;
  for (size_t h = 0; h < a.heatmaps.size(); ++h) {
    ASSERT_EQ(a.heatmaps[h].size(), b.heatmaps[h].size()) << where;
    for (size_t i = 0; i < a.heatmaps[h].size(); ++i) {
      EXPECT_TRUE(Near(a.heatmaps[h][i].lower, b.heatmaps[h][i].lower)) << where << " bucket " << i;
      EXPECT_TRUE(Near(a.heatmaps[h][i].upper, b.heatmaps[h][i].upper)) << where << " bucket " << i;
      EXPECT_EQ(a.heatmaps[h][i].count, b.heatmaps[h][i].count) << where << " bucket " << i;
    }
  }
}

void ExpectSameResult(const query::QueryResult& a, const query::QueryResult& b,
                      const std::string& what) {
  EXPECT_EQ(a.spans_matched, b.spans_matched) << what;
  EXPECT_EQ(a.sample_rate_weighted, b.sample_rate_weighted) << what;
  ExpectSameRow(a.totals, b.totals, what + " totals");
  ASSERT_EQ(a.rows.size(), b.rows.size()) << what;
  for (size_t r = 0; r < a.rows.size(); ++r)
    ExpectSameRow(a.rows[r], b.rows[r], what + " row " + std::to_string(r));
  ASSERT_EQ(a.series.size(), b.series.size()) << what;
  for (size_t p = 0; p < a.series.size(); ++p) {
    EXPECT_EQ(a.series[p].time_unix_nano, b.series[p].time_unix_nano) << what;
    ASSERT_EQ(a.series[p].rows.size(), b.series[p].rows.size()) << what << " point " << p;
    for (size_t r = 0; r < a.series[p].rows.size(); ++r)
      ExpectSameRow(a.series[p].rows[r], b.series[p].rows[r],
                    what + " point " + std::to_string(p) + " row " + std::to_string(r));
  }
}

class EnginesAgreeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!EngineSkipReason(Engine::kClickHouse).empty()) return;
    embedded_ = OpenEngine(Engine::kEmbedded).release();
    clickhouse_ = OpenEngine(Engine::kClickHouse).release();
    if (embedded_ == nullptr || clickhouse_ == nullptr) return;
    RandomSpans prod_gen(31), dev_gen(32);
    model::SpanBatch prod = prod_gen.Batch(4000), dev = dev_gen.Batch(600);
    model::SpanBatch sampled = SampledSpans(300);
    for (store::SpanStore* s : {embedded_, clickhouse_}) {
      ASSERT_TRUE(AppendInChunks(*s, "prod", prod, 700).ok());
      ASSERT_TRUE(AppendInChunks(*s, "dev", dev, 700).ok());
      ASSERT_TRUE(AppendInChunks(*s, "sampled", sampled, 700).ok());
    }
  }
  // Spans that carry sample rates: a SampleRate attribute (int, double or text) on most, none
  // on every seventh.
  static model::SpanBatch SampledSpans(int n) {
    model::SpanBatch b;
    b.attributes.push_back({b.arena.Copy("service.name"), model::Value::String(b.arena.Copy("s"))});
    b.resources.push_back(model::Resource{{0, 1}, 0, {}});
    b.scopes.push_back(model::Scope{});
    for (int i = 0; i < n; ++i) {
      model::Span span;
      span.trace_id.bytes[0] = 7;
      span.trace_id.bytes[15] = static_cast<uint8_t>(i / 3 + 1);
      span.span_id.bytes[7] = static_cast<uint8_t>(i + 1);
      span.span_id.bytes[6] = static_cast<uint8_t>(i / 256 + 1);
      span.name = b.arena.Copy("op-" + std::to_string(i % 4));
      span.start_time_unix_nano = kBase + static_cast<uint64_t>(i) * 3'000'000;
      span.end_time_unix_nano =
          span.start_time_unix_nano + 1'000'000 * static_cast<uint64_t>(1 + i % 37);
      span.attributes.begin = static_cast<uint32_t>(b.attributes.size());
      const model::Value rate = i % 3 == 0   ? model::Value::Int(1 + i % 5)
                                : i % 3 == 1 ? model::Value::Double(2.4 + i % 4)
                                             : model::Value::String(b.arena.Copy("10"));
      if (i % 7 != 0) b.attributes.push_back({b.arena.Copy("SampleRate"), rate});
      span.attributes.count = static_cast<uint32_t>(b.attributes.size()) - span.attributes.begin;
      b.spans.push_back(span);
    }
    return b;
  }
  static void TearDownTestSuite() {
    for (store::SpanStore* s : {embedded_, clickhouse_}) {
      if (s != nullptr) (void)s->Close();
      delete s;
    }
    embedded_ = clickhouse_ = nullptr;
  }
  void SetUp() override {
    const std::string skip = EngineSkipReason(Engine::kClickHouse);
    if (!skip.empty()) GTEST_SKIP() << skip;
    ASSERT_NE(embedded_, nullptr);
    ASSERT_NE(clickhouse_, nullptr);
  }

  // Returns how many spans matched (the embedded engine's count).
  uint64_t ExpectSameQuery(const QuerySpec& spec, const std::string& what) {
    auto a = embedded_->RunQuery(spec);
    auto b = clickhouse_->RunQuery(spec);
    EXPECT_TRUE(a.ok()) << what << ": " << a.status().ToString();
    EXPECT_TRUE(b.ok()) << what << ": " << b.status().ToString();
    if (!a.ok() || !b.ok()) return 0;
    ExpectSameResult(*a, *b, what);
    return a->spans_matched;
  }

  static store::SpanStore* embedded_;
  static store::SpanStore* clickhouse_;
};
store::SpanStore* EnginesAgreeTest::embedded_ = nullptr;
store::SpanStore* EnginesAgreeTest::clickhouse_ = nullptr;

TEST_F(EnginesAgreeTest, CountP99AndHeatmapByServiceWithAFilter) {
  ExpectSameQuery(Spec({Calc(CalcOp::kCount), Calc(CalcOp::kPercentile, "duration_ms", 0.99),
                        Calc(CalcOp::kHeatmap, "duration_ms")},
                       {F("http.status_code", FilterOp::kEq, {int64_t{503}})}, {"service.name"}),
                  "COUNT, P99, HEATMAP by service where http.status_code = 503");
}

TEST_F(EnginesAgreeTest, EveryCalculationBrokenDownByTypedAttributes) {
  ExpectSameQuery(
      Spec({Calc(CalcOp::kCount), Calc(CalcOp::kSum, "app.ratio"), Calc(CalcOp::kAvg, "app.ratio"),
            Calc(CalcOp::kMin, "duration_ms"), Calc(CalcOp::kMax, "duration_ms"),
            Calc(CalcOp::kCountDistinct, "user.id"), Calc(CalcOp::kPercentile, "app.ratio", 0.5)},
           {}, {"http.status_code", "app.cached"}),
      "breakdown by an int and a bool attribute");
  ExpectSameQuery(Spec({Calc(CalcOp::kCount), Calc(CalcOp::kAvg, "duration_ms")}, {},
                       {"http.route", "span.kind"}),
                  "breakdown by a string attribute and an intrinsic");
}

TEST_F(EnginesAgreeTest, SampleRatesWeighEveryCalculation) {
  QuerySpec spec = Spec(
      {Calc(CalcOp::kCount), Calc(CalcOp::kSum, "duration_ms"), Calc(CalcOp::kAvg, "duration_ms"),
       Calc(CalcOp::kMax, "duration_ms"), Calc(CalcOp::kPercentile, "duration_ms", 0.5),
       Calc(CalcOp::kPercentile, "duration_ms", 0.95), Calc(CalcOp::kHeatmap, "duration_ms")},
      {}, {"name"});
  spec.environment = "sampled";
  auto a = embedded_->RunQuery(spec);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_TRUE(a->sample_rate_weighted);
  EXPECT_GT(std::get<int64_t>(a->totals.values[0]), 300);  // weighted: more than the spans
  ExpectSameQuery(spec, "sample-rate weighted calculations");
}

TEST_F(EnginesAgreeTest, TimeBucketedSeries) {
  QuerySpec spec = Spec({Calc(CalcOp::kCount), Calc(CalcOp::kPercentile, "duration_ms", 0.5),
                         Calc(CalcOp::kHeatmap, "duration_ms")},
                        {}, {"service.name"});
  spec.end_unix_nano = kBase + 10 * kSecond;
  spec.granularity_seconds = 1;
  ExpectSameQuery(spec, "per-second series by service");
  spec.breakdowns.clear();
  ExpectSameQuery(spec, "per-second series, no breakdown");
  spec.calculations = {Calc(CalcOp::kRateAvg, "duration_ms"), Calc(CalcOp::kRateSum, "app.ratio"),
                       Calc(CalcOp::kRateMax, "duration_ms"), Calc(CalcOp::kCount)};
  ExpectSameQuery(spec, "RATE_* without breakdown");
  spec.breakdowns = {"service.name"};
  ExpectSameQuery(spec, "RATE_* by service");
}

TEST_F(EnginesAgreeTest, EveryFilterOperator) {
  const std::vector<std::pair<std::string, std::vector<Filter>>> cases = {
      {"int = string literal", {F("http.status_code", FilterOp::kEq, {std::string("503")})}},
      {"int != ", {F("http.status_code", FilterOp::kNe, {int64_t{200}})}},
      {"double >", {F("app.ratio", FilterOp::kGt, {50.5})}},
      {"double <= int", {F("app.ratio", FilterOp::kLe, {int64_t{20}})}},
      {"duration >=", {F("duration_ms", FilterOp::kGe, {10.0})}},
      {"duration <", {F("duration_ms", FilterOp::kLt, {int64_t{5}})}},
      {"bool = true", {F("app.cached", FilterOp::kEq, {true})}},
      {"bool = 'false'", {F("app.cached", FilterOp::kEq, {std::string("false")})}},
      {"starts-with", {F("name", FilterOp::kStartsWith, {std::string("op-1")})}},
      {"does-not-start-with",
       {F("http.route", FilterOp::kDoesNotStartWith, {std::string("/api/r1")})}},
      {"ends-with", {F("user.id", FilterOp::kEndsWith, {std::string("7")})}},
      {"does-not-end-with", {F("name", FilterOp::kDoesNotEndWith, {std::string("3")})}},
      {"contains", {F("http.route", FilterOp::kContains, {std::string("r2")})}},
      {"does-not-contain", {F("status_message", FilterOp::kDoesNotContain, {std::string("down")})}},
      {"exists", {F("status_message", FilterOp::kExists)}},
      {"does-not-exist", {F("trace.parent_id", FilterOp::kDoesNotExist)}},
      {"missing attribute does-not-exist", {F("no.such.key", FilterOp::kDoesNotExist)}},
      {"in", {F("service.name", FilterOp::kIn, {std::string("svc-1"), std::string("svc-3")})}},
      {"not-in", {F("http.status_code", FilterOp::kNotIn, {int64_t{200}, int64_t{404}})}},
      {"resource attribute", {F("host.name", FilterOp::kEq, {std::string("host-1")})}},
      {"span.kind", {F("span.kind", FilterOp::kEq, {std::string("client")})}},
      {"two filters AND",
       {F("error", FilterOp::kEq, {true}),
        F("http.route", FilterOp::kStartsWith, {std::string("/api/r1")})}},
  };
  const uint64_t all = ExpectSameQuery(Spec({Calc(CalcOp::kCount)}), "no filter");
  for (const auto& [name, filters] : cases) {
    const uint64_t matched = ExpectSameQuery(
        Spec({Calc(CalcOp::kCount), Calc(CalcOp::kAvg, "duration_ms")}, filters, {"service.name"}),
        name);
    // Each case selects some spans but not all (else it would not tell engines apart).
    EXPECT_GT(matched, 0u) << name;
    if (name != "missing attribute does-not-exist") {
      EXPECT_LT(matched, all) << name;
    }
  }
  QuerySpec any = Spec({Calc(CalcOp::kCount)},
                       {F("error", FilterOp::kEq, {true}), F("app.ratio", FilterOp::kGt, {100.0})});
  any.filter_or = true;
  ExpectSameQuery(any, "two filters OR");
}

TEST_F(EnginesAgreeTest, HavingsOrdersLimitsDatasetsAndEnvironments) {
  QuerySpec spec = Spec({Calc(CalcOp::kCount), Calc(CalcOp::kMax, "duration_ms")}, {}, {"name"});
  query::Having having;
  having.calculation = 0;
  having.op = query::CompareOp::kGt;
  having.value = 150;
  spec.havings = {having};
  query::Order by_name;
  by_name.column = "name";
  by_name.descending = true;
  spec.orders = {by_name};
  spec.limit = 7;
  ExpectSameQuery(spec, "having COUNT > 150, order by name desc, limit 7");
  spec = Spec({Calc(CalcOp::kCount), Calc(CalcOp::kPercentile, "duration_ms", 0.9)}, {}, {"name"});
  spec.dataset = "svc-1";
  spec.environment = "dev";
  ExpectSameQuery(spec, "dataset svc-1 in dev");
  spec.environment = "nowhere";
  ExpectSameQuery(spec, "an environment without spans");
}

TEST_F(EnginesAgreeTest, XrayFilterExpressionsRestrictToMatchingTraces) {
  QuerySpec spec = Spec({Calc(CalcOp::kCount), Calc(CalcOp::kPercentile, "duration_ms", 0.9)}, {},
                        {"service.name"});
  spec.xray_filter = "service(\"svc-1\") AND duration >= 0.04";
  const uint64_t matched = ExpectSameQuery(spec, "X-Ray filter");
  EXPECT_GT(matched, 0u);
}

TEST_F(EnginesAgreeTest, ColumnsAndServiceGraph) {
  auto a = embedded_->ListColumns("", kBase, kBase + 60 * kSecond);
  auto b = clickhouse_->ListColumns("", kBase, kBase + 60 * kSecond);
  ASSERT_TRUE(a.ok() && b.ok());
  auto as_map = [](const std::vector<store::ColumnInfo>& columns) {
    std::map<std::string, std::string> out;
    for (const auto& c : columns) out[c.name] = c.type + "/" + c.source;
    return out;
  };
  const auto columns = as_map(*a);
  EXPECT_EQ(columns.at("http.status_code"), "int/span");
  EXPECT_EQ(columns.at("host.name"), "string/resource");
  EXPECT_EQ(columns, as_map(*b));
  // Per environment, the whole catalog in the same order, descriptions included.
  for (const char* environment : {"prod", "dev", "sampled", "nowhere"}) {
    auto ea = embedded_->ListColumns(environment, 0, UINT64_MAX);
    auto eb = clickhouse_->ListColumns(environment, 0, UINT64_MAX);
    ASSERT_TRUE(ea.ok() && eb.ok()) << environment;
    ASSERT_EQ(ea->size(), eb->size()) << environment;
    for (size_t i = 0; i < ea->size(); ++i) {
      const store::ColumnInfo& x = (*ea)[i];
      const store::ColumnInfo& y = (*eb)[i];
      EXPECT_EQ(std::tie(x.name, x.type, x.source, x.description),
                std::tie(y.name, y.type, y.source, y.description))
          << environment << " column " << i;
    }
  }
  auto ga = embedded_->GetServiceGraph("prod", 0, kBase + 3600 * kSecond);
  auto gb = clickhouse_->GetServiceGraph("prod", 0, kBase + 3600 * kSecond);
  ASSERT_TRUE(ga.ok() && gb.ok());
  ASSERT_FALSE(ga->edges.empty());
  ASSERT_EQ(ga->edges.size(), gb->edges.size());
  for (size_t i = 0; i < ga->edges.size(); ++i) {
    EXPECT_EQ(ga->edges[i].source, gb->edges[i].source);
    EXPECT_EQ(ga->edges[i].target, gb->edges[i].target);
    EXPECT_EQ(ga->edges[i].request_count, gb->edges[i].request_count);
  }
}

TEST_F(EnginesAgreeTest, TraceSearchSummaries) {
  store::TraceSearchRequest request;
  request.start_unix_nano = kBase;
  request.end_unix_nano = kBase + 60 * kSecond;
  request.filters = {F("http.status_code", FilterOp::kEq, {int64_t{503}}),
                     F("duration_ms", FilterOp::kGt, {30.0})};
  request.limit = 25;
  auto a = embedded_->SearchTraces(request);
  auto b = clickhouse_->SearchTraces(request);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_EQ(a->size(), b->size());
  ASSERT_GT(a->size(), 0u);
  for (size_t i = 0; i < a->size(); ++i) {
    const store::TraceSummary &x = (*a)[i], &y = (*b)[i];
    EXPECT_EQ(x.trace_id, y.trace_id) << i;
    EXPECT_EQ(x.environment, y.environment) << i;
    EXPECT_EQ(x.root_service, y.root_service) << i;
    EXPECT_EQ(x.root_name, y.root_name) << i;
    EXPECT_EQ(x.start_unix_nano, y.start_unix_nano) << i;
    EXPECT_EQ(x.duration_nano, y.duration_nano) << i;
    EXPECT_EQ(x.span_count, y.span_count) << i;
    EXPECT_EQ(x.error_count, y.error_count) << i;
    EXPECT_EQ(x.services, y.services) << i;
  }
}

TEST_F(EnginesAgreeTest, WholeTracesOfAWindowInTheSameOrder) {
  auto collect = [](store::SpanStore* s) {
    std::vector<std::pair<std::string, size_t>> out;
    EXPECT_TRUE(
        s->ForEachTrace(kBase + kSecond, kBase + 3 * kSecond, "", [&](const store::TraceResult& t) {
           out.emplace_back(t.spans.spans[0].trace_id.ToHex(), t.spans.spans.size());
           return true;
         }).ok());
    return out;
  };
  const auto a = collect(embedded_);
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, collect(clickhouse_));
}

TEST_F(EnginesAgreeTest, ServicesOfEveryEnvironment) {
  auto a = embedded_->ListServices();
  auto b = clickhouse_->ListServices();
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->size(), b->size());
  for (size_t i = 0; i < a->size(); ++i) {
    EXPECT_EQ((*a)[i].environment, (*b)[i].environment);
    EXPECT_EQ((*a)[i].name, (*b)[i].name);
    EXPECT_EQ((*a)[i].span_count, (*b)[i].span_count);
    EXPECT_EQ((*a)[i].trace_root_count, (*b)[i].trace_root_count);
    EXPECT_EQ((*a)[i].error_count, (*b)[i].error_count);
  }
}

}  // namespace
}  // namespace ariadne::testing
