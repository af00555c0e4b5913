// Storage conformance suite, part 1: every SpanStore engine against answers computed here from
// the spans themselves (SpanStoreConformanceTest, parameterized by engine), and the ClickHouse
// engine's own duties (retention by day partitions, outages). engines_agree_test.cc is part 2:
// the same spans into both engines, the same answers out. The ClickHouse engine runs against a
// real clickhouse-server started on loopback (engines.h); without one installed those tests are
// skipped with a message saying so.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>

#include "store/clickhouse/clickhouse_store.h"
#include "store/column_catalog.h"
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
// Each engine against answers computed from the spans.

class SpanStoreConformanceTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    const std::string skip = EngineSkipReason(GetParam());
    if (!skip.empty()) GTEST_SKIP() << skip;
    store_ = OpenEngine(GetParam());
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    if (store_) {
      EXPECT_TRUE(store_->Close().ok());
    }
  }
  std::unique_ptr<store::SpanStore> store_;
};

TEST_P(SpanStoreConformanceTest, AppendThenGetTraceReturnsEverySpan) {
  RandomSpans gen(21);
  model::SpanBatch batch = gen.Batch(1500);
  ASSERT_TRUE(AppendInChunks(*store_, "prod", batch, 400).ok());
  ExpectAllTracesReadable(*store_, batch, "prod");
}

// The column catalog (store/column_catalog.h): the intrinsics from the one list, with their
// descriptions, then the keys the environment's spans carried; a key appended a moment ago is
// listed at once (the ClickHouse engine caches the catalog, and drops it when it inserts a new
// key).
TEST_P(SpanStoreConformanceTest, ColumnCatalogListsTheIntrinsicsThenTheKeysAndANewKeyAtOnce) {
  const std::vector<store::IntrinsicColumn>& intrinsics = store::IntrinsicColumns();
  auto expect_intrinsics_first = [&](const std::vector<store::ColumnInfo>& columns) {
    ASSERT_GE(columns.size(), intrinsics.size());
    for (size_t i = 0; i < intrinsics.size(); ++i) {
      EXPECT_EQ(columns[i].name, intrinsics[i].name);
      EXPECT_EQ(columns[i].type, intrinsics[i].type);
      EXPECT_EQ(columns[i].source, "intrinsic");
      EXPECT_EQ(columns[i].description, intrinsics[i].description);
      EXPECT_FALSE(columns[i].description.empty()) << columns[i].name;
    }
    for (size_t i = intrinsics.size(); i < columns.size(); ++i) {
      EXPECT_NE(columns[i].source, "intrinsic") << columns[i].name;
      EXPECT_NE(columns[i].name, "service.name");
      if (i > intrinsics.size()) EXPECT_LT(columns[i - 1].name, columns[i].name);
    }
  };
  RandomSpans gen(61);
  model::SpanBatch batch = gen.Batch(300);
  ASSERT_TRUE(AppendInChunks(*store_, "prod", batch, 100).ok());
  auto prod = store_->ListColumns("prod", 0, UINT64_MAX);
  ASSERT_TRUE(prod.ok()) << prod.status().ToString();
  expect_intrinsics_first(*prod);
  EXPECT_GT(prod->size(), intrinsics.size()) << "the random spans carry attributes";
  auto elsewhere = store_->ListColumns("elsewhere", 0, UINT64_MAX);
  ASSERT_TRUE(elsewhere.ok()) << elsewhere.status().ToString();
  expect_intrinsics_first(*elsewhere);
  EXPECT_EQ(elsewhere->size(), intrinsics.size()) << "no spans there: only the intrinsics";

  model::SpanBatch fresh;
  fresh.attributes.push_back(
      {fresh.arena.Copy("service.name"), model::Value::String(fresh.arena.Copy("catalog"))});
  fresh.resources.push_back(model::Resource{{0, 1}, 0, {}});
  fresh.scopes.push_back(model::Scope{});
  model::Span span;
  span.trace_id.bytes[0] = 0x5c;
  span.span_id.bytes[7] = 1;
  span.name = fresh.arena.Copy("fresh");
  span.start_time_unix_nano = batch.spans[0].start_time_unix_nano;
  span.end_time_unix_nano = span.start_time_unix_nano + 1'000'000;
  span.attributes.begin = static_cast<uint32_t>(fresh.attributes.size());
  fresh.attributes.push_back({fresh.arena.Copy("catalog.fresh_key"), model::Value::Int(7)});
  span.attributes.count = 1;
  fresh.spans.push_back(span);
  ASSERT_TRUE(store_->Append("prod", std::move(fresh)).ok());
  auto after = store_->ListColumns("prod", 0, UINT64_MAX);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  expect_intrinsics_first(*after);
  ASSERT_EQ(after->size(), prod->size() + 1);
  bool listed = false;
  for (const store::ColumnInfo& c : *after) {
    if (c.name != "catalog.fresh_key") continue;
    listed = true;
    EXPECT_EQ(c.type, "int");
    EXPECT_EQ(c.source, "span");
  }
  EXPECT_TRUE(listed);
}

// trace.trace_state (docs/query.md) is an intrinsic column of the catalog, and a filter on it
// selects the spans that carry that tracestate (absent when empty) on every engine.
TEST_P(SpanStoreConformanceTest, TraceStateIsACatalogColumnAndFiltersSpans) {
  model::SpanBatch batch;
  batch.attributes.push_back(
      {batch.arena.Copy("service.name"), model::Value::String(batch.arena.Copy("ts"))});
  batch.resources.push_back(model::Resource{{0, 1}, 0, {}});
  batch.scopes.push_back(model::Scope{});
  for (int i = 0; i < 9; ++i) {
    model::Span span;
    span.trace_id.bytes[0] = 0x7d;
    span.trace_id.bytes[15] = static_cast<uint8_t>(i + 1);
    span.span_id.bytes[7] = static_cast<uint8_t>(i + 1);
    span.name = batch.arena.Copy("op");
    span.start_time_unix_nano = kBase + static_cast<uint64_t>(i) * kSecond;
    span.end_time_unix_nano = span.start_time_unix_nano + 1'000'000;
    if (i % 3 == 0) span.trace_state = batch.arena.Copy("congo=t61");
    if (i % 3 == 1) span.trace_state = batch.arena.Copy("vendor=x");
    batch.spans.push_back(span);
  }
  ASSERT_TRUE(store_->Append("prod", std::move(batch)).ok());
  auto columns = store_->ListColumns("prod", 0, UINT64_MAX);
  ASSERT_TRUE(columns.ok()) << columns.status().ToString();
  bool listed = false;
  for (const store::ColumnInfo& c : *columns)
    listed |= c.name == "trace.trace_state" && c.source == "intrinsic" && c.type == "string";
  EXPECT_TRUE(listed);
  for (const auto& [filter, want] : std::vector<std::pair<Filter, int64_t>>{
           {F("trace.trace_state", FilterOp::kEq, {std::string("congo=t61")}), 3},
           {F("trace.trace_state", FilterOp::kExists), 6},
           {F("trace.trace_state", FilterOp::kDoesNotExist), 3}}) {
    QuerySpec spec = Spec({Calc(CalcOp::kCount)}, {filter});
    spec.environment = "prod";
    auto result = store_->RunQuery(spec);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(std::get<int64_t>(result->totals.values[0]), want) << filter.column;
  }
}

// The seam's trace reader with a time hint (the window a search result or link gives): the same
// whole trace as without the hint.
TEST_P(SpanStoreConformanceTest, GetTraceNearItsTimeReturnsTheWholeTrace) {
  RandomSpans gen(25);
  model::SpanBatch batch = gen.Batch(300);
  ASSERT_TRUE(AppendInChunks(*store_, "prod", batch, 100).ok());
  const model::TraceId id = batch.spans[batch.spans.size() / 2].trace_id;
  size_t spans = 0;
  uint64_t first = UINT64_MAX, last = 0;
  for (const model::Span& s : batch.spans) {
    if (s.trace_id != id) continue;
    spans++;
    first = std::min(first, s.start_time_unix_nano);
    last = std::max(last, s.start_time_unix_nano);
  }
  store::TraceTimeHint hint{first, last + 1};
  auto near = store_->GetTraceNear(id, "", hint);
  ASSERT_TRUE(near.ok()) << near.status().ToString();
  EXPECT_EQ(near->spans.spans.size(), spans);
  auto plain = store_->GetTrace(id);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->spans.spans.size(), spans);
}

TEST_P(SpanStoreConformanceTest, GetTraceOfAnUnknownIdIsNotFound) {
  RandomSpans gen(22);
  ASSERT_TRUE(store_->Append("prod", gen.Batch(50)).ok());
  model::TraceId unknown = *model::TraceId::FromHex("0123456789abcdef0123456789abcdef");
  EXPECT_TRUE(store_->GetTrace(unknown).status().IsNotFound());
}

TEST_P(SpanStoreConformanceTest, EnvironmentsAreIsolated) {
  RandomSpans prod_gen(23), dev_gen(24);
  model::SpanBatch prod = prod_gen.Batch(300), dev = dev_gen.Batch(100);
  ASSERT_TRUE(AppendInChunks(*store_, "prod", prod, 1000).ok());
  ASSERT_TRUE(AppendInChunks(*store_, "dev", dev, 1000).ok());
  const model::TraceId prod_trace = prod.spans[0].trace_id;
  EXPECT_TRUE(store_->GetTrace(prod_trace, "prod").ok());
  EXPECT_TRUE(store_->GetTrace(prod_trace, "dev").status().IsNotFound());
  auto services = store_->ListServices("dev");
  ASSERT_TRUE(services.ok()) << services.status().ToString();
  uint64_t dev_spans = 0;
  for (const auto& s : *services) {
    EXPECT_EQ(s.environment, "dev");
    dev_spans += s.span_count;
  }
  EXPECT_EQ(dev_spans, dev.spans.size());
  QuerySpec spec = Spec({Calc(CalcOp::kCount)});
  spec.environment = "prod";
  auto result = store_->RunQuery(spec);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(std::get<int64_t>(result->totals.values[0]), static_cast<int64_t>(prod.spans.size()));
  store::TraceSearchRequest search;
  search.environment = "dev";
  search.start_unix_nano = kBase;
  search.end_unix_nano = kBase + 60 * kSecond;
  search.limit = 1000;
  auto found = store_->SearchTraces(search);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  std::set<model::TraceId> dev_traces;
  for (const auto& s : dev.spans) dev_traces.insert(s.trace_id);
  EXPECT_EQ(found->size(), dev_traces.size());
  for (const auto& summary : *found) {
    EXPECT_EQ(summary.environment, "dev");
    EXPECT_TRUE(dev_traces.count(summary.trace_id));
  }
}

TEST_P(SpanStoreConformanceTest, ListServicesCountsSpansRootsErrorsAndTimes) {
  RandomSpans gen(25);
  model::SpanBatch batch = gen.Batch(800);
  ASSERT_TRUE(AppendInChunks(*store_, "prod", batch, 300).ok());
  std::map<std::string, store::ServiceSummary> want;
  for (const model::Span& s : batch.spans) {
    store::ServiceSummary& w = want[ServiceOf(batch, s)];
    if (w.span_count == 0) w.first_seen_unix_nano = s.start_time_unix_nano;
    w.span_count++;
    w.trace_root_count += s.is_root();
    w.error_count += s.status_code == model::StatusCode::kError;
    w.first_seen_unix_nano = std::min(w.first_seen_unix_nano, s.start_time_unix_nano);
    w.last_seen_unix_nano = std::max(w.last_seen_unix_nano, s.start_time_unix_nano);
  }
  auto got = store_->ListServices();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), want.size());
  for (const auto& s : *got) {
    ASSERT_TRUE(want.count(s.name)) << s.name;
    const store::ServiceSummary& w = want[s.name];
    EXPECT_EQ(s.environment, "prod");
    EXPECT_EQ(s.span_count, w.span_count) << s.name;
    EXPECT_EQ(s.trace_root_count, w.trace_root_count) << s.name;
    EXPECT_EQ(s.error_count, w.error_count) << s.name;
    EXPECT_EQ(s.first_seen_unix_nano, w.first_seen_unix_nano) << s.name;
    EXPECT_EQ(s.last_seen_unix_nano, w.last_seen_unix_nano) << s.name;
  }
}

TEST_P(SpanStoreConformanceTest, CountByServiceWithAnAttributeFilterCountsTheMatchingSpans) {
  RandomSpans gen(26);
  model::SpanBatch batch = gen.Batch(1200);
  ASSERT_TRUE(AppendInChunks(*store_, "prod", batch, 500).ok());
  std::map<std::string, int64_t> want;
  for (const model::Span& s : batch.spans) {
    const model::Value* code = batch.FindAttribute(s.attributes, "http.status_code");
    if (code != nullptr && code->type == model::ValueType::kInt && code->int_value == 503)
      want[ServiceOf(batch, s)]++;
  }
  auto result = store_->RunQuery(Spec({Calc(CalcOp::kCount)},
                                      {F("http.status_code", FilterOp::kEq, {int64_t{503}})},
                                      {"service.name"}));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->rows.size(), want.size());
  for (const auto& row : result->rows)
    EXPECT_EQ(std::get<int64_t>(row.values[0]), want[std::get<std::string>(row.breakdowns[0])]);
}

TEST_P(SpanStoreConformanceTest, TraceSearchReturnsTracesWithAMatchingSpanNewestFirst) {
  RandomSpans gen(27);
  model::SpanBatch batch = gen.Batch(1000);
  ASSERT_TRUE(AppendInChunks(*store_, "prod", batch, 400).ok());
  // Newest matching span start per trace: service svc-2 with an error.
  std::map<model::TraceId, uint64_t> latest;
  for (const model::Span& s : batch.spans)
    if (ServiceOf(batch, s) == "svc-2" && s.status_code == model::StatusCode::kError)
      latest[s.trace_id] = std::max(latest[s.trace_id], s.start_time_unix_nano);
  std::vector<std::pair<uint64_t, model::TraceId>> order;
  for (const auto& [id, t] : latest) order.emplace_back(t, id);
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  ASSERT_GE(order.size(), 3u);
  store::TraceSearchRequest request;
  request.start_unix_nano = kBase;
  request.end_unix_nano = kBase + 60 * kSecond;
  request.filters = {F("service.name", FilterOp::kEq, {std::string("svc-2")}),
                     F("error", FilterOp::kEq, {true})};
  request.limit = 5;
  auto found = store_->SearchTraces(request);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->size(), std::min<size_t>(5, order.size()));
  for (size_t i = 0; i < found->size(); ++i) {
    EXPECT_EQ((*found)[i].trace_id, order[i].second) << i;
    EXPECT_GE((*found)[i].error_count, 1u);
  }
}

TEST_P(SpanStoreConformanceTest, ForEachTraceVisitsEachTraceOfTheWindowOnceAndWhole) {
  RandomSpans gen(28);
  model::SpanBatch batch = gen.Batch(600);
  ASSERT_TRUE(AppendInChunks(*store_, "prod", batch, 250).ok());
  std::map<model::TraceId, size_t> spans_of;
  for (const model::Span& s : batch.spans) spans_of[s.trace_id]++;
  std::map<model::TraceId, size_t> seen;
  ASSERT_TRUE(store_
                  ->ForEachTrace(kBase, kBase + 60 * kSecond, "prod",
                                 [&](const store::TraceResult& t) {
                                   seen[t.spans.spans[0].trace_id] += t.spans.spans.size();
                                   return true;
                                 })
                  .ok());
  EXPECT_EQ(seen, spans_of);
}

INSTANTIATE_TEST_SUITE_P(Engines, SpanStoreConformanceTest,
                         ::testing::Values(Engine::kEmbedded, Engine::kClickHouse),
                         [](const auto& info) { return EngineName(info.param); });

// ---------------------------------------------------------------------------------------------
// ClickHouse only: retention drops whole day partitions.

TEST(ClickHouseRetentionTest, DayPartitionsOlderThanTheRetentionAreDropped) {
  const std::string skip = EngineSkipReason(Engine::kClickHouse);
  if (!skip.empty()) GTEST_SKIP() << skip;
  constexpr uint64_t kDay = 86400 * kSecond;
  auto store = OpenEngine(Engine::kClickHouse, /*retention_nano=*/2 * kDay);
  ASSERT_NE(store, nullptr);
  const uint64_t now =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  RandomSpanOptions old_options, new_options;
  old_options.base_time_unix_nano = now - 5 * kDay;
  new_options.base_time_unix_nano = now - kSecond * 60;
  RandomSpans old_gen(41, old_options), new_gen(42, new_options);
  model::SpanBatch old_spans = old_gen.Batch(100), new_spans = new_gen.Batch(100);
  const model::TraceId old_trace = old_spans.spans[0].trace_id;
  const model::TraceId new_trace = new_spans.spans[0].trace_id;
  ASSERT_TRUE(store->Append("prod", std::move(old_spans)).ok());
  ASSERT_TRUE(store->Append("prod", std::move(new_spans)).ok());
  ASSERT_TRUE(store->GetTrace(old_trace).ok());
  auto* ch = dynamic_cast<store::clickhouse::ClickHouseStore*>(store.get());
  ASSERT_NE(ch, nullptr);
  auto dropped = ch->ApplyRetention(now);
  ASSERT_TRUE(dropped.ok()) << dropped.status().ToString();
  EXPECT_GE(*dropped, 2u);  // the old day of spans and of trace_index
  EXPECT_TRUE(store->GetTrace(old_trace).status().IsNotFound());
  EXPECT_TRUE(store->GetTrace(new_trace).ok());
  EXPECT_TRUE(store->Close().ok());
}

// ClickHouse only: an outage fails appends as unavailable (never acknowledged, never hung), and
// appends succeed again once ClickHouse is back; nothing acknowledged is lost.
TEST(ClickHouseOutageTest, AppendsFailAsUnavailableWhileClickHouseIsDownAndRecoverAfter) {
  const std::string skip = EngineSkipReason(Engine::kClickHouse);
  if (!skip.empty()) GTEST_SKIP() << skip;
  std::unique_ptr<ClickHouseProcess> ch =
      ClickHouseProcess::Start(*ClickHouseProcess::FindBinary());
  auto config = store::clickhouse::ParseClickHouseUrl(ch->Url("outage"));
  ASSERT_TRUE(config.ok());
  store::clickhouse::ClickHouseStoreOptions options;
  options.config = *config;
  std::vector<std::string> created;
  auto opened = store::clickhouse::OpenClickHouseStore(options, &created);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<store::clickhouse::ClickHouseStore> store = std::move(opened).value();
  RandomSpans gen(51);
  model::SpanBatch before = gen.Batch(200), during = gen.Batch(200), after = gen.Batch(200);
  const model::SpanBatch before_copy = before.Clone(), after_copy = after.Clone();
  ASSERT_TRUE(store->Append("prod", std::move(before)).ok());

  ch->Stop();
  const Status down = store->Append("prod", std::move(during));
  EXPECT_TRUE(down.IsUnavailable()) << down.ToString();
  EXPECT_NE(down.message().find("cannot reach ClickHouse"), std::string::npos) << down.ToString();
  EXPECT_TRUE(store->GetTrace(before_copy.spans[0].trace_id).status().IsUnavailable());

  ch->Restart();
  ASSERT_TRUE(store->Append("prod", std::move(after)).ok());
  ExpectAllTracesReadable(*store, before_copy, "prod");
  ExpectAllTracesReadable(*store, after_copy, "prod");
  EXPECT_EQ(store->GetAppendStats().append_errors, 1u);
  EXPECT_TRUE(store->Close().ok());
}

}  // namespace
}  // namespace ariadne::testing
