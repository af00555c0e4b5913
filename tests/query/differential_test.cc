// Randomized differential test: random spans in a real embedded store (part sealed into blocks,
// part in the head), random query specs, and the vectorized engine's answer compared exactly with
// the naive reference evaluator's.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <random>
#include <thread>

#include "query/query_spec.h"
#include "store/embedded/embedded_store.h"
#include "tests/common/random_spans.h"
#include "tests/query/reference_evaluator.h"
#include "tests/store/store_test_util.h"

namespace ariadne::query {
namespace {

struct Column {
  const char* name;
  std::vector<Literal> samples;
};

const std::vector<Column>& Columns() {
  static const std::vector<Column> columns = {
      {"service.name", {std::string("svc-0"), std::string("svc-3"), std::string("svc")}},
      {"name", {std::string("op-1"), std::string("op-12"), std::string("op")}},
      {"http.status_code", {int64_t{200}, int64_t{503}, std::string("503"), 250.5}},
      {"user.id", {std::string("user-42"), std::string("user-1"), std::string("user-9999")}},
      {"app.ratio", {10.0, int64_t{50}, 100.25}},
      {"app.cached", {true, false, std::string("true")}},
      {"duration_ms", {1.0, 10.0, int64_t{25}}},
      {"error", {true, false}},
      {"span.kind", {std::string("server"), std::string("client"), std::string("internal")}},
      {"http.route.5", {std::string("/api/r1"), std::string("/api/r2")}},
      {"status_message", {std::string("upstream failed")}},
      {"missing.column", {std::string("x"), int64_t{1}}},
  };
  return columns;
}

QuerySpec RandomSpec(std::mt19937& rng, uint64_t start, uint64_t end) {
  QuerySpec spec;
  spec.start_unix_nano = start;
  spec.end_unix_nano = end;
  spec.granularity_seconds = std::max<uint64_t>(1, (end - start) / 1'000'000'000ULL / 10 + 1);
  spec.limit = kMaxLimit;
  const auto& cols = Columns();
  auto pick = [&](size_t n) { return rng() % n; };
  static const FilterOp kOps[] = {FilterOp::kEq,         FilterOp::kNe,
                                  FilterOp::kGt,         FilterOp::kGe,
                                  FilterOp::kLt,         FilterOp::kLe,
                                  FilterOp::kStartsWith, FilterOp::kDoesNotStartWith,
                                  FilterOp::kEndsWith,   FilterOp::kDoesNotEndWith,
                                  FilterOp::kContains,   FilterOp::kDoesNotContain,
                                  FilterOp::kExists,     FilterOp::kDoesNotExist,
                                  FilterOp::kIn,         FilterOp::kNotIn};
  const size_t nfilters = pick(4);
  for (size_t i = 0; i < nfilters; ++i) {
    const Column& col = cols[pick(cols.size())];
    Filter f;
    f.column = col.name;
    f.op = kOps[pick(std::size(kOps))];
    const bool text = f.op >= FilterOp::kStartsWith && f.op <= FilterOp::kDoesNotContain;
    if (f.op == FilterOp::kExists || f.op == FilterOp::kDoesNotExist) {
    } else if (f.op == FilterOp::kIn || f.op == FilterOp::kNotIn) {
      for (size_t k = 0; k <= pick(3); ++k)
        f.values.push_back(col.samples[pick(col.samples.size())]);
    } else {
      Literal lit = col.samples[pick(col.samples.size())];
      if (text && !std::holds_alternative<std::string>(lit)) lit = std::string("op-1");
      f.values.push_back(lit);
    }
    spec.filters.push_back(f);
  }
  spec.filter_or = pick(3) == 0;
  static const char* kBreakdowns[] = {"service.name", "name",      "http.status_code", "app.cached",
                                      "error",        "span.kind", "missing.column",   "user.id"};
  const size_t nb = pick(3);
  for (size_t i = 0; i < nb; ++i)
    spec.breakdowns.push_back(kBreakdowns[pick(std::size(kBreakdowns))]);
  static const char* kNumeric[] = {"duration_ms", "http.status_code", "app.ratio", "missing.column",
                                   "user.id"};
  struct OpName {
    CalcOp op;
    const char* name;
    double p;
  };
  static const OpName kCalcs[] = {{CalcOp::kCount, "COUNT", 0},
                                  {CalcOp::kSum, "SUM", 0},
                                  {CalcOp::kAvg, "AVG", 0},
                                  {CalcOp::kMin, "MIN", 0},
                                  {CalcOp::kMax, "MAX", 0},
                                  {CalcOp::kCountDistinct, "COUNT_DISTINCT", 0},
                                  {CalcOp::kPercentile, "P50", 0.5},
                                  {CalcOp::kPercentile, "P99", 0.99},
                                  {CalcOp::kPercentile, "P001", 0.001},
                                  {CalcOp::kPercentile, "P75", 0.75}};
  const size_t nc = 1 + pick(4);
  for (size_t i = 0; i < nc; ++i) {
    const OpName& o = kCalcs[pick(std::size(kCalcs))];
    Calculation c;
    c.op = o.op;
    c.op_name = o.name;
    c.percentile = o.p;
    if (o.op != CalcOp::kCount) c.column = kNumeric[pick(std::size(kNumeric))];
    c.label = CalculationLabel(c);
    spec.calculations.push_back(c);
  }
  return spec;
}

void ExpectSameResults(const testing::ReferenceResult& want, const testing::ReferenceResult& got,
                       const std::string& context) {
  ASSERT_EQ(want.size(), got.size()) << context;
  for (const auto& [key, values] : want) {
    auto it = got.find(key);
    ASSERT_NE(it, got.end()) << "missing group " << key << "\n" << context;
    ASSERT_EQ(values.size(), it->second.size());
    for (size_t i = 0; i < values.size(); ++i) {
      if (std::isnan(values[i])) {
        EXPECT_TRUE(std::isnan(it->second[i])) << key << " calc " << i << "\n" << context;
      } else {
        EXPECT_NEAR(values[i], it->second[i], 1e-9 * std::max(1.0, std::fabs(values[i])))
            << key << " calc " << i << "\n"
            << context;
      }
    }
  }
}

std::string Describe(const QuerySpec& spec) {
  std::string out = "filters:";
  for (const Filter& f : spec.filters)
    out += " [" + f.column + " op" + std::to_string(static_cast<int>(f.op)) + "]";
  out += spec.filter_or ? " OR" : " AND";
  out += " breakdowns:";
  for (const auto& b : spec.breakdowns) out += " " + b;
  out += " calcs:";
  for (const auto& c : spec.calculations) out += " " + c.label;
  return out;
}

TEST(QueryDifferentialTest, EngineMatchesTheReferenceOnRandomSpansAndSpecs) {
  testing::TempDir dir;
  store::embedded::EmbeddedStoreOptions options;
  options.data_dir = dir.path();
  options.head_max_spans = 1500;  // several sealed blocks plus a live head
  auto store = store::embedded::OpenEmbeddedStore(options);
  ASSERT_TRUE(store.ok());
  testing::RandomSpanOptions gen_options;
  gen_options.services = 6;
  testing::RandomSpans gen(77, gen_options);
  std::vector<testing::ReferenceRow> rows;
  uint64_t lo = UINT64_MAX, hi = 0;
  for (int i = 0; i < 12; ++i) {
    model::SpanBatch batch = gen.Batch(400);
    // Some spans carry a sample rate, so weighting is exercised.
    if (i % 3 == 0) {
      for (size_t s = 0; s < batch.spans.size(); s += 7) {
        model::Span& span = batch.spans[s];
        // Re-home the span's attributes at the end with a SampleRate appended.
        model::Range old = span.attributes;
        uint32_t begin = static_cast<uint32_t>(batch.attributes.size());
        for (uint32_t a = old.begin; a < old.end(); ++a)
          batch.attributes.push_back(batch.attributes[a]);
        batch.attributes.push_back(
            {batch.arena.Copy("SampleRate"), model::Value::Int(1 + static_cast<int64_t>(s % 10))});
        span.attributes = {begin, old.count + 1};
      }
    }
    for (const model::Span& s : batch.spans) {
      lo = std::min(lo, s.start_time_unix_nano);
      hi = std::max(hi, s.start_time_unix_nano);
    }
    auto more = testing::ReferenceRows(batch);
    rows.insert(rows.end(), more.begin(), more.end());
    ASSERT_TRUE((*store)->Append(i % 2 ? "prod" : "dev", std::move(batch)).ok());
  }
  // Sealing runs in the background: wait until part of the data is in sealed blocks.
  for (int i = 0; i < 1000 && (*store)->Stats().blocks < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_GE((*store)->Stats().blocks, 2u);
  ASSERT_GT((*store)->Stats().head_spans, 0u);

  std::mt19937 rng(2024);
  for (int round = 0; round < 150; ++round) {
    // Windows: everything, or a random slice (exercises time pruning and bucketing).
    uint64_t start = lo, end = hi + 1;
    if (round % 2) {
      start = lo + (rng() % (hi - lo));
      end = start + 1 + rng() % (hi - start + 1);
    }
    QuerySpec spec = RandomSpec(rng, start, end);
    Result<QueryResult> got = (*store)->RunQuery(spec);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    testing::ReferenceResult want = testing::RunReference(spec, rows);
    ExpectSameResults(want, testing::FromEngine(spec, *got), Describe(spec));
    if (HasFailure()) break;
  }
}

}  // namespace
}  // namespace ariadne::query
