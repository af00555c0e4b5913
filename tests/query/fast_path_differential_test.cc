// Differential cases for the executor's fast paths, against the naive reference evaluator, on
// spans in a real embedded store (sealed blocks and the head):
// - string =, !=, in, not in on a dictionary attribute column matched by code — with values of
//   other types under the same key (ints, a numeric string, doubles), rows without the key, and
//   the key on some resources only;
// - numeric comparisons on all-int attribute columns (one tight loop) next to blocks where the
//   same key mixes ints, doubles, numeric strings and bools;
// - breakdowns through dictionary codes (name, status_message with empty = null, span.kind),
//   resource-only attributes, and high-cardinality span attributes (a dense id table, and the
//   hashed path past its size), with sample rates and several time buckets;
// - the sparse selection of a single filter on a span attribute no resource carries, end to end
//   and row for row against the dense selection (time windows, datasets, declined shapes), also
//   on an all-bool column.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <random>
#include <thread>

#include "columnar/block.h"
#include "query/exec/column_view.h"
#include "query/exec/row_filter.h"
#include "query/query_spec.h"
#include "store/embedded/embedded_store.h"
#include "tests/query/reference_evaluator.h"
#include "tests/store/store_test_util.h"

namespace ariadne::query {
namespace {

constexpr uint64_t kBase = 1'700'000'000'000'000'000ULL;

// One batch of `n` spans; `mixed` batches put several value types under http.status_code.
model::SpanBatch MakeBatch(std::mt19937_64& rng, size_t n, bool mixed, uint64_t* next_id) {
  model::SpanBatch b;
  auto text = [&](const std::string& s) { return b.arena.Copy(s); };
  // Resources: svc-1 carries user.id itself; svc-2 and svc-3 carry `tier` as int and as text.
  for (int r = 0; r < 4; ++r) {
    const uint32_t begin = static_cast<uint32_t>(b.attributes.size());
    b.attributes.push_back(
        {text("service.name"), model::Value::String(text("svc-" + std::to_string(r)))});
    if (r == 1) b.attributes.push_back({text("user.id"), model::Value::String(text("user-7"))});
    if (r == 2) b.attributes.push_back({text("tier"), model::Value::Int(3)});
    if (r == 3) b.attributes.push_back({text("tier"), model::Value::String(text("3"))});
    b.resources.push_back(
        model::Resource{{begin, static_cast<uint32_t>(b.attributes.size()) - begin}, 0, {}});
  }
  b.scopes.push_back(model::Scope{text("test"), text("1"), {0, 0}, 0, {}});
  for (size_t i = 0; i < n; ++i) {
    const uint64_t id = (*next_id)++;
    model::Span s;
    const uint64_t trace = id / 5 + 1;
    std::memcpy(s.trace_id.bytes.data(), &trace, 8);
    const uint64_t span = id + 1;
    std::memcpy(s.span_id.bytes.data(), &span, 8);
    s.resource_index = static_cast<uint32_t>(rng() % 4);
    s.name = text("op-" + std::to_string(rng() % 7));
    s.kind = static_cast<model::SpanKind>(rng() % 6);
    if (rng() % 9 == 0) {
      s.status_code = model::StatusCode::kError;
      s.status_message = text(rng() % 2 ? "failed" : "");
    }
    s.start_time_unix_nano = kBase + id * 3'000'000;  // 3 ms apart
    s.end_time_unix_nano = s.start_time_unix_nano + 1000 + rng() % 80'000'000;
    s.attributes.begin = static_cast<uint32_t>(b.attributes.size());
    switch (rng() % 10) {
      case 0:
      case 1:
      case 2:
      case 3:
      case 4:
      case 5:
        b.attributes.push_back(
            {text("user.id"), model::Value::String(text("user-" + std::to_string(rng() % 300)))});
        break;
      case 6:
        b.attributes.push_back({text("user.id"), model::Value::Int(4242)});
        break;
      case 7:
        b.attributes.push_back({text("user.id"), model::Value::String(text("4242"))});
        break;
      case 8:
        break;  // no user.id (svc-1's resource value shows through)
      default:
        b.attributes.push_back({text("user.id"), model::Value::Double(1.5)});
        break;
    }
    const uint64_t status_pick = rng() % 20;
    static constexpr int64_t kCodes[] = {200, 404, 499, 500, 503};
    const int64_t code = kCodes[rng() % 5];
    if (status_pick == 0) {
      // no status code
    } else if (!mixed || status_pick < 12) {
      b.attributes.push_back({text("http.status_code"), model::Value::Int(code)});
    } else if (status_pick < 15) {
      b.attributes.push_back(
          {text("http.status_code"), model::Value::String(text(std::to_string(code)))});
    } else if (status_pick < 18) {
      b.attributes.push_back({text("http.status_code"), model::Value::Double(code + 0.5)});
    } else {
      b.attributes.push_back({text("http.status_code"), model::Value::Bool(true)});
    }
    b.attributes.push_back(
        {text("app.request_id"), model::Value::String(text("req-" + std::to_string(id)))});
    if (id % 3 != 0)
      b.attributes.push_back({text("app.feature_flag"), model::Value::Bool(id % 5 < 2)});
    if (id % 11 == 0)
      b.attributes.push_back({text("SampleRate"), model::Value::Int(static_cast<int64_t>(id % 4))});
    s.attributes.count = static_cast<uint32_t>(b.attributes.size()) - s.attributes.begin;
    b.spans.push_back(s);
  }
  return b;
}

Filter F(const char* column, FilterOp op, std::vector<Literal> values = {}) {
  Filter f;
  f.column = column;
  f.op = op;
  f.values = std::move(values);
  return f;
}

Calculation C(CalcOp op, const char* name, const char* column, double p = 0) {
  Calculation c;
  c.op = op;
  c.op_name = name;
  c.column = column;
  c.percentile = p;
  c.label = CalculationLabel(c);
  return c;
}

std::string Describe(const QuerySpec& spec) {
  std::string out = "filters:";
  for (const Filter& f : spec.filters)
    out += " [" + f.column + " op" + std::to_string(static_cast<int>(f.op)) + " " +
           std::to_string(f.values.size()) + " values]";
  out += " breakdowns:";
  for (const auto& b : spec.breakdowns) out += " " + b;
  out += " granularity " + std::to_string(spec.granularity_seconds);
  return out;
}

TEST(FastPathDifferentialTest, DictionaryFiltersNumericFiltersAndBreakdownsMatchTheReference) {
  testing::TempDir dir;
  store::embedded::EmbeddedStoreOptions options;
  options.data_dir = dir.path();
  options.head_max_spans = 2500;  // several sealed blocks plus a live head
  auto store = store::embedded::OpenEmbeddedStore(options);
  ASSERT_TRUE(store.ok());
  std::mt19937_64 rng(5);
  uint64_t next_id = 0;
  std::vector<testing::ReferenceRow> rows;
  for (int i = 0; i < 8; ++i) {
    // Batches alternate: all-int status codes (the tight loop) and mixed types.
    model::SpanBatch batch = MakeBatch(rng, 1000, i % 2 == 1, &next_id);
    auto more = testing::ReferenceRows(batch);
    rows.insert(rows.end(), more.begin(), more.end());
    ASSERT_TRUE((*store)->Append("prod", std::move(batch)).ok());
  }
  // Seal everything, then leave a tail below head_max_spans in the live head: waiting for
  // background seals instead is timing-dependent (a seal that finishes late takes the whole head).
  ASSERT_TRUE((*store)->Flush().ok());
  {
    // 8,150 rows in all, so percentiles stay exact (kExactSampleLimit) as the reference is.
    model::SpanBatch tail = MakeBatch(rng, 150, false, &next_id);
    auto more = testing::ReferenceRows(tail);
    rows.insert(rows.end(), more.begin(), more.end());
    ASSERT_TRUE((*store)->Append("prod", std::move(tail)).ok());
  }
  ASSERT_GE((*store)->Stats().blocks, 2u);
  ASSERT_GT((*store)->Stats().head_spans, 0u);

  const std::vector<std::vector<Filter>> filter_sets = {
      {},
      {F("user.id", FilterOp::kEq, {std::string("user-42")})},
      {F("user.id", FilterOp::kEq, {std::string("4242")})},
      {F("user.id", FilterOp::kEq, {int64_t{4242}})},
      {F("user.id", FilterOp::kEq, {std::string("user-7")})},  // svc-1's resource value
      {F("user.id", FilterOp::kEq, {std::string("no-such-user")})},
      {F("user.id", FilterOp::kNe, {std::string("user-42")})},
      {F("user.id", FilterOp::kIn,
         {std::string("user-1"), std::string("4242"), std::string("user-7")})},
      {F("user.id", FilterOp::kNotIn, {std::string("user-1"), std::string("user-2")})},
      {F("user.id", FilterOp::kIn, {std::string("user-3"), int64_t{4242}})},
      {F("user.id", FilterOp::kDoesNotExist)},
      {F("user.id", FilterOp::kStartsWith, {std::string("user-1")})},
      {F("http.status_code", FilterOp::kGe, {int64_t{500}})},
      {F("http.status_code", FilterOp::kGt, {499.5})},
      {F("http.status_code", FilterOp::kLt, {int64_t{404}})},
      {F("http.status_code", FilterOp::kLe, {int64_t{404}})},
      {F("http.status_code", FilterOp::kEq, {int64_t{503}})},
      {F("http.status_code", FilterOp::kNe, {int64_t{503}})},
      {F("http.status_code", FilterOp::kEq, {std::string("503")})},
      {F("http.status_code", FilterOp::kGe, {std::string("500")})},
      {F("tier", FilterOp::kEq, {int64_t{3}})},
      // A string column no resource carries: the sparse selection (SelectSparseRows).
      {F("app.request_id", FilterOp::kEq, {std::string("req-17")})},
      {F("app.request_id", FilterOp::kNe, {std::string("req-17")})},
      {F("app.request_id", FilterOp::kIn, {std::string("req-3"), std::string("req-4000")})},
      {F("app.request_id", FilterOp::kStartsWith, {std::string("req-1")})},
      {F("app.request_id", FilterOp::kExists)},
      {F("app.request_id", FilterOp::kDoesNotExist)},
      {F("SampleRate", FilterOp::kGe, {int64_t{2}})},
      {F("user.id", FilterOp::kNe, {std::string("user-42")}),
       F("http.status_code", FilterOp::kGe, {int64_t{500}})},
  };
  const std::vector<std::vector<std::string>> breakdown_sets = {
      {},
      {"name"},
      {"status_message"},
      {"span.kind"},
      {"service.name"},
      {"tier"},
      {"user.id"},
      {"http.status_code"},
      {"app.request_id"},
      {"app.request_id", "user.id"},        // a large dense table
      {"user.id", "name", "service.name"},  // three: the hashed path
  };
  int checked = 0;
  for (const auto& filters : filter_sets) {
    for (const auto& breakdowns : breakdown_sets) {
      QuerySpec spec;
      spec.start_unix_nano = kBase;
      spec.end_unix_nano = kBase + next_id * 3'000'000 + 1;
      spec.granularity_seconds = checked % 2 ? 60 : 5;  // one bucket, or several
      spec.limit = kMaxLimit;
      spec.filters = filters;
      spec.breakdowns = breakdowns;
      spec.calculations = {
          C(CalcOp::kCount, "COUNT", ""), C(CalcOp::kPercentile, "P90", "duration_ms", 0.9),
          C(CalcOp::kSum, "SUM", "http.status_code"), C(CalcOp::kMax, "MAX", "user.id"),
          C(CalcOp::kCountDistinct, "COUNT_DISTINCT", "user.id")};
      Result<QueryResult> got = (*store)->RunQuery(spec);
      ASSERT_TRUE(got.ok()) << got.status().ToString() << "\n" << Describe(spec);
      const testing::ReferenceResult want = testing::RunReference(spec, rows);
      const testing::ReferenceResult engine = testing::FromEngine(spec, *got);
      ASSERT_EQ(want.size(), engine.size()) << Describe(spec);
      for (const auto& [key, values] : want) {
        auto it = engine.find(key);
        ASSERT_NE(it, engine.end()) << "missing group " << key << "\n" << Describe(spec);
        for (size_t i = 0; i < values.size(); ++i) {
          if (std::isnan(values[i])) {
            EXPECT_TRUE(std::isnan(it->second[i])) << key << " calc " << i << Describe(spec);
          } else {
            EXPECT_NEAR(values[i], it->second[i], 1e-9 * std::max(1.0, std::fabs(values[i])))
                << key << " calc " << i << "\n"
                << Describe(spec);
          }
        }
      }
      if (HasFailure()) return;
      ++checked;
    }
  }
  EXPECT_EQ(checked, static_cast<int>(filter_sets.size() * breakdown_sets.size()));
}

// SelectSparseRows (a single filter on a span attribute no resource carries, straight from its
// sparse entries) selects exactly the rows SelectBlockRows does, for every filter kind, time
// window and dataset, and declines the shapes it does not cover.
TEST(FastPathDifferentialTest, SparseSelectionIsTheDenseSelection) {
  std::mt19937_64 rng(11);
  uint64_t next_id = 0;
  std::vector<std::shared_ptr<const columnar::Block>> blocks;
  for (int i = 0; i < 4; ++i) {
    columnar::BlockBuilder head("prod");
    head.Append(MakeBatch(rng, 3000, i % 2 == 1, &next_id));
    blocks.push_back(head.Seal());
  }
  const uint64_t end = kBase + next_id * 3'000'000 + 1;
  const std::vector<Filter> filters = {
      F("http.status_code", FilterOp::kGe, {int64_t{500}}),
      F("http.status_code", FilterOp::kGt, {499.5}),
      F("http.status_code", FilterOp::kEq, {int64_t{503}}),
      F("http.status_code", FilterOp::kNe, {int64_t{503}}),
      F("http.status_code", FilterOp::kEq, {std::string("503")}),
      F("http.status_code", FilterOp::kLt, {std::string("500")}),
      F("http.status_code", FilterOp::kExists),
      F("http.status_code", FilterOp::kDoesNotExist),  // declined
      F("app.request_id", FilterOp::kEq, {std::string("req-17")}),
      F("app.request_id", FilterOp::kNotIn, {std::string("req-17"), std::string("req-18")}),
      F("app.request_id", FilterOp::kStartsWith, {std::string("req-2")}),
      F("app.request_id", FilterOp::kDoesNotStartWith, {std::string("req-2")}),
      F("app.request_id", FilterOp::kEq, {int64_t{17}}),
      F("SampleRate", FilterOp::kLe, {int64_t{1}}),
      // An all-bool column: each entry decided by its value alone.
      F("app.feature_flag", FilterOp::kEq, {true}), F("app.feature_flag", FilterOp::kNe, {true}),
      F("app.feature_flag", FilterOp::kEq, {std::string("false")}),
      F("app.feature_flag", FilterOp::kGt, {false}),
      F("app.feature_flag", FilterOp::kEq, {int64_t{1}}), F("app.feature_flag", FilterOp::kExists),
      F("no.such.key", FilterOp::kEq, {int64_t{1}}),
      F("user.id", FilterOp::kEq, {std::string("user-7")}),  // a resource carries it: declined
      F("name", FilterOp::kEq, {std::string("op-3")}),       // intrinsic: declined
  };
  const std::vector<std::pair<uint64_t, uint64_t>> windows = {
      {kBase, end}, {kBase + (end - kBase) / 3, kBase + (end - kBase) / 2}, {end, end + 10}};
  int sparse_used = 0;
  for (const Filter& f : filters) {
    for (const auto& [lo, hi] : windows) {
      for (const char* dataset : {"", "svc-2"}) {
        QuerySpec spec;
        spec.start_unix_nano = lo;
        spec.end_unix_nano = hi;
        spec.dataset = dataset;
        spec.filters = {f};
        for (const auto& block : blocks) {
          exec::ColumnViews views(*block, nullptr);
          const std::vector<uint8_t> dense = exec::SelectBlockRows(spec, *block, &views);
          std::vector<uint32_t> want;
          for (uint32_t r = 0; r < dense.size(); ++r)
            if (dense[r]) want.push_back(r);
          const std::optional<std::vector<uint32_t>> got = exec::SelectSparseRows(spec, *block);
          const bool declines =
              f.op == FilterOp::kDoesNotExist || f.column == "user.id" || f.column == "name";
          EXPECT_EQ(got.has_value(), !declines) << Describe(spec);
          if (!got) continue;
          ++sparse_used;
          EXPECT_EQ(*got, want) << Describe(spec) << " dataset " << dataset;
        }
        if (HasFailure()) return;
      }
    }
  }
  EXPECT_GT(sparse_used, 0);
}

}  // namespace
}  // namespace ariadne::query
