// BatchGetTraces reads near the second named in an X-Ray trace id (api/xray/read_ops.h
// XrayTraceIdTimeHint): on every engine it still finds every trace — ids whose time is right,
// ids whose time is off by days (the hinted read misses, the unhinted one finds it) and OTLP ids
// (no time, no hint); on ClickHouse, whose trace index is partitioned by day, the hinted read
// looks only at the partitions around the id's time.
#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/xray/read_ops.h"
#include "query/xray/trace_reads.h"
#include "tests/store/conformance/engines.h"

namespace ariadne::testing {
namespace {

using nlohmann::json;

constexpr uint64_t kSecond = 1'000'000'000ULL;
constexpr uint64_t kDay = 86'400;                  // seconds
constexpr uint64_t kToday = 1'764'000'000;         // epoch seconds (2025-11-24)
constexpr uint64_t kEarlier = kToday - 10 * kDay;  // ten days before

// An X-Ray trace id naming `seconds`, with `tag` in the random part.
std::string XrayId(uint64_t seconds, int tag) {
  char text[40];
  std::snprintf(text, sizeof text, "1-%08llx-%024x", static_cast<unsigned long long>(seconds), tag);
  return text;
}

// One root span of trace `id` starting at `seconds`.
model::SpanBatch RootSpan(const std::string& id, uint64_t seconds) {
  model::SpanBatch b;
  b.attributes.push_back(
      {b.arena.Copy("service.name"), model::Value::String(b.arena.Copy("checkout"))});
  b.resources.push_back({{0, 1}, 0, {}});
  b.scopes.push_back({});
  model::Span s;
  s.trace_id = *model::ParseAnyTraceId(id);
  s.span_id.bytes[7] = 1;
  s.kind = model::SpanKind::kServer;
  s.start_time_unix_nano = seconds * kSecond;
  s.end_time_unix_nano = seconds * kSecond + 5'000'000;
  s.attributes.begin = 1;
  b.spans.push_back(s);
  return b;
}

TEST(XrayTraceIdTimeHintTest, OnlyXrayIdsWithAPlausibleSecondGiveAHint) {
  const double now = static_cast<double>(kToday);
  auto hint = api::xray::XrayTraceIdTimeHint(XrayId(kToday, 1), now);
  ASSERT_TRUE(hint.has_value());
  EXPECT_EQ(hint->start_unix_nano, kToday * kSecond - api::xray::kXrayIdTimeMarginNano);
  EXPECT_EQ(hint->end_unix_nano, kToday * kSecond + api::xray::kXrayIdTimeMarginNano);
  // OTLP ids carry no time.
  EXPECT_FALSE(api::xray::XrayTraceIdTimeHint("5f84c7a10123456789abcdef01234567", now));
  // Seconds no X-Ray SDK could have written: before 2015, days in the future, not hex.
  EXPECT_FALSE(api::xray::XrayTraceIdTimeHint(XrayId(1000, 1), now));
  EXPECT_FALSE(api::xray::XrayTraceIdTimeHint(XrayId(kToday + 2 * kDay, 1), now));
  EXPECT_FALSE(api::xray::XrayTraceIdTimeHint("1-5f84c7az-0123456789abcdef01234567", now));
}

// A trace's span starts as a hint (the query API's `near`, a summary's first and last start):
// [first, last + 1), except that a start at 2^64 − 1 must not wrap the end to 0, which left a
// window that ends before it starts (`?near=18446744073709551615`).
TEST(XrayTraceIdTimeHintTest, SpanStartsHintDoesNotWrapAtTheEndOfTime) {
  store::TraceTimeHint hint = query::xray::TraceStartsHint(5, 9);
  EXPECT_EQ(hint.start_unix_nano, 5u);
  EXPECT_EQ(hint.end_unix_nano, 10u);
  constexpr uint64_t kMax = UINT64_MAX;
  for (const uint64_t near : {kMax, kMax - 1, kMax - 2}) {
    hint = query::xray::TraceStartsHint(near, near);
    EXPECT_EQ(hint.start_unix_nano, near);
    EXPECT_LE(hint.start_unix_nano, hint.end_unix_nano) << near;
    EXPECT_EQ(hint.end_unix_nano, near == kMax ? kMax : near + 1) << near;
  }
  hint = query::xray::TraceStartsHint(kMax - 10, kMax);
  EXPECT_EQ(hint.end_unix_nano, kMax);
  EXPECT_LT(hint.start_unix_nano, hint.end_unix_nano);
}

class BatchGetTracesHintTest : public ::testing::TestWithParam<Engine> {
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

TEST_P(BatchGetTracesHintTest, FindsTracesWhateverTheIdSaysAndReadsNearTheIdTimeFirst) {
  const std::string today = XrayId(kToday, 1);
  const std::string earlier = XrayId(kEarlier, 2);
  const std::string off = XrayId(kEarlier, 3);  // names ten days ago, started today
  const std::string otlp = "0af7651916cd43dd8448eb211c80319c";
  ASSERT_TRUE(store_->Append("default", RootSpan(today, kToday + 2)).ok());
  ASSERT_TRUE(store_->Append("default", RootSpan(earlier, kEarlier + 1)).ok());
  ASSERT_TRUE(store_->Append("default", RootSpan(off, kToday + 3)).ok());
  ASSERT_TRUE(store_->Append("default", RootSpan(otlp, kToday + 4)).ok());

  query::xray::XrayTraceReader reader(store_.get(), "");
  api::xray::XrayReadOps ops(
      &reader, nullptr, {}, [] { return static_cast<double>(kToday); }, nullptr);
  json answer = ops.Run("/Traces", {{"TraceIds", {today, earlier, off, otlp}}});
  std::set<std::string> found;
  for (const json& trace : answer["Traces"]) found.insert(trace["Id"].get<std::string>());
  EXPECT_EQ(found, (std::set<std::string>{today, earlier, off,
                                          model::FormatXrayTraceId(*model::ParseAnyTraceId(otlp))}))
      << answer.dump();
  EXPECT_TRUE(answer["UnprocessedTraceIds"].empty()) << answer.dump();

  if (GetParam() != Engine::kClickHouse) return;
  // The hinted read of the trace whose id is ten days off looks only at the days around the id's
  // time, so it does not see today's partition; without the hint the trace is there.
  auto hint = api::xray::XrayTraceIdTimeHint(off, static_cast<double>(kToday));
  ASSERT_TRUE(hint.has_value());
  auto hinted = store_->GetTraceNear(*model::ParseAnyTraceId(off), "", *hint);
  EXPECT_TRUE(hinted.status().IsNotFound()) << hinted.status().ToString();
  EXPECT_TRUE(store_->GetTrace(*model::ParseAnyTraceId(off), "").ok());
  auto near = store_->GetTraceNear(*model::ParseAnyTraceId(earlier), "",
                                   *api::xray::XrayTraceIdTimeHint(earlier, kToday));
  EXPECT_TRUE(near.ok()) << near.status().ToString();
}

// The engine under test, recording the hints its trace reads get (every call goes to the engine).
class HintRecordingStore : public store::SpanStore {
 public:
  explicit HintRecordingStore(store::SpanStore* inner) : inner_(inner) {}
  std::vector<std::pair<std::string, store::TraceTimeHint>> reads;  // (trace id hex, hint)

  Result<store::TraceResult> GetTrace(const model::TraceId& id,
                                      std::string_view environment) override {
    reads.emplace_back(id.ToHex(), store::TraceTimeHint{});
    return inner_->GetTrace(id, environment);
  }
  Result<store::TraceResult> GetTraceNear(const model::TraceId& id, std::string_view environment,
                                          const store::TraceTimeHint& hint) override {
    reads.emplace_back(id.ToHex(), hint);
    return inner_->GetTraceNear(id, environment, hint);
  }
  void AppendAsync(std::string environment, model::SpanBatch batch, AppendCallback done) override {
    inner_->AppendAsync(std::move(environment), std::move(batch), std::move(done));
  }
  Status ForEachTrace(uint64_t start, uint64_t end, std::string_view environment,
                      const std::function<bool(const store::TraceResult&)>& visit) override {
    return inner_->ForEachTrace(start, end, environment, visit);
  }
  Result<query::QueryResult> RunQuery(const query::QuerySpec& spec,
                                      const query::ExecContext& context) override {
    return inner_->RunQuery(spec, context);
  }
  Result<std::vector<store::TraceSummary>> SearchTraces(
      const store::TraceSearchRequest& request, const query::ExecContext& context) override {
    return inner_->SearchTraces(request, context);
  }
  Result<std::vector<store::ColumnInfo>> ListColumns(std::string_view environment, uint64_t start,
                                                     uint64_t end) override {
    return inner_->ListColumns(environment, start, end);
  }
  Result<store::ServiceGraph> GetServiceGraph(std::string_view environment, uint64_t start,
                                              uint64_t end) override {
    return inner_->GetServiceGraph(environment, start, end);
  }
  Result<std::vector<store::ServiceSummary>> ListServices(std::string_view environment) override {
    return inner_->ListServices(environment);
  }
  store::StoreAdmin* Admin() override { return inner_->Admin(); }
  Status Close() override { return Status::Ok(); }

 private:
  store::SpanStore* inner_;
};

// GetTraceGraph reads each X-Ray id near the second it names first (as BatchGetTraces), falls
// back to an unhinted read for an id whose time is off, and reads OTLP ids unhinted.
TEST_P(BatchGetTracesHintTest, TraceGraphReadsNearTheIdTimeFirst) {
  const std::string today = XrayId(kToday, 1);
  const std::string off = XrayId(kEarlier, 3);  // names ten days ago, started today
  const std::string otlp = "0af7651916cd43dd8448eb211c80319c";
  ASSERT_TRUE(store_->Append("default", RootSpan(today, kToday + 2)).ok());
  ASSERT_TRUE(store_->Append("default", RootSpan(off, kToday + 3)).ok());
  ASSERT_TRUE(store_->Append("default", RootSpan(otlp, kToday + 4)).ok());

  HintRecordingStore recording(store_.get());
  query::xray::XrayTraceReader reader(&recording, "");
  api::xray::XrayReadOps ops(
      &reader, nullptr, {}, [] { return static_cast<double>(kToday); }, nullptr);
  json answer = ops.Run("/TraceGraph", {{"TraceIds", {today, off, otlp}}});
  // All three traces are in the graph: one checkout node entered three times.
  ASSERT_EQ(answer["Services"].size(), 1u) << answer.dump();
  EXPECT_EQ(answer["Services"][0]["Name"], "checkout");
  EXPECT_EQ(answer["Services"][0]["SummaryStatistics"]["TotalCount"], 3) << answer.dump();

  auto hex = [](const std::string& text) { return model::ParseAnyTraceId(text)->ToHex(); };
  const store::TraceTimeHint today_hint = *api::xray::XrayTraceIdTimeHint(today, kToday);
  const store::TraceTimeHint off_hint = *api::xray::XrayTraceIdTimeHint(off, kToday);
  ASSERT_GE(recording.reads.size(), 3u);
  EXPECT_EQ(recording.reads[0].first, hex(today));
  EXPECT_EQ(recording.reads[0].second.start_unix_nano, today_hint.start_unix_nano);
  EXPECT_EQ(recording.reads[0].second.end_unix_nano, today_hint.end_unix_nano);
  EXPECT_EQ(recording.reads[1].first, hex(off));
  EXPECT_EQ(recording.reads[1].second.start_unix_nano, off_hint.start_unix_nano);
  // The OTLP id carries no time: one unhinted read.
  EXPECT_EQ(recording.reads.back().first, hex(otlp));
  EXPECT_TRUE(recording.reads.back().second.empty());
  if (GetParam() == Engine::kClickHouse) {
    // The hinted read of the id that is ten days off misses (only the partitions around the id's
    // time are read), so an unhinted read follows and finds it.
    ASSERT_EQ(recording.reads.size(), 4u);
    EXPECT_EQ(recording.reads[2].first, hex(off));
    EXPECT_TRUE(recording.reads[2].second.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, BatchGetTracesHintTest,
                         ::testing::Values(Engine::kEmbedded, Engine::kClickHouse),
                         [](const auto& info) { return EngineName(info.param); });

}  // namespace
}  // namespace ariadne::testing
