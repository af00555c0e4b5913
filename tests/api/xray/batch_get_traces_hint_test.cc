// BatchGetTraces reads near the second named in an X-Ray trace id (api/xray/read_ops.h
// XrayTraceIdTimeHint): on every engine it still finds every trace — ids whose time is right,
// ids whose time is off by days (the hinted read misses, the unhinted one finds it) and OTLP ids
// (no time, no hint); on ClickHouse, whose trace index is partitioned by day, the hinted read
// looks only at the partitions around the id's time.
#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <string>

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

INSTANTIATE_TEST_SUITE_P(Engines, BatchGetTracesHintTest,
                         ::testing::Values(Engine::kEmbedded, Engine::kClickHouse),
                         [](const auto& info) { return EngineName(info.param); });

}  // namespace
}  // namespace ariadne::testing
