// ClickHouse only: a retried insert is idempotent. A proxy between the store and ClickHouse lets
// the INSERT through and then cuts the connection instead of passing ClickHouse's answer on, so
// the store retries an insert ClickHouse has already written; the spans must be stored once.
// Skipped (with a message) when clickhouse-server is not installed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>

#include "store/clickhouse/clickhouse_store.h"
#include "tests/common/random_spans.h"
#include "tests/store/conformance/clickhouse_process.h"
#include "tests/store/conformance/engines.h"
#include "tests/store/conformance/response_dropping_proxy.h"

namespace ariadne::testing {
namespace {

class ClickHouseRetryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string skip = EngineSkipReason(Engine::kClickHouse);
    if (!skip.empty()) GTEST_SKIP() << skip;
    clickhouse_ = ClickHouseProcess::Start(*ClickHouseProcess::FindBinary());
    proxy_ = std::make_unique<ResponseDroppingProxy>(clickhouse_->http_port());
    auto config = store::clickhouse::ParseClickHouseUrl(
        "clickhouse://127.0.0.1:" + std::to_string(proxy_->port()) + "/retry");
    ASSERT_TRUE(config.ok());
    store::clickhouse::ClickHouseStoreOptions options;
    options.config = *config;
    std::vector<std::string> created;
    auto opened = store::clickhouse::OpenClickHouseStore(options, &created);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    direct_ = std::make_unique<store::clickhouse::ClickHouseClient>(
        *store::clickhouse::ParseClickHouseUrl(clickhouse_->Url("retry")));
  }
  void TearDown() override {
    if (store_) EXPECT_TRUE(store_->Close().ok());
  }

  // Rows in `spans`, asked of ClickHouse directly.
  int StoredRows() {
    auto text = direct_->Query("SELECT count() FROM spans");
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    return text.ok() ? std::atoi(text->c_str()) : -1;
  }

  std::unique_ptr<ClickHouseProcess> clickhouse_;
  std::unique_ptr<ResponseDroppingProxy> proxy_;
  std::unique_ptr<store::clickhouse::ClickHouseStore> store_;
  std::unique_ptr<store::clickhouse::ClickHouseClient> direct_;
};

TEST_F(ClickHouseRetryTest, AnInsertWhoseAnswerWasLostIsStoredOnce) {
  RandomSpans gen(61);
  model::SpanBatch batch = gen.Batch(300);
  const model::SpanBatch copy = batch.Clone();
  proxy_->DropInsertAnswers(1);
  ASSERT_TRUE(store_->Append("prod", std::move(batch)).ok());
  EXPECT_EQ(proxy_->dropped(), 1);  // the first attempt was written, its answer lost
  EXPECT_EQ(StoredRows(), static_cast<int>(copy.spans.size()));
  std::map<model::TraceId, size_t> spans_per_trace;
  for (const model::Span& s : copy.spans) spans_per_trace[s.trace_id]++;
  for (const auto& [id, n] : spans_per_trace) {
    auto trace = store_->GetTrace(id);
    ASSERT_TRUE(trace.ok()) << trace.status().ToString();
    EXPECT_EQ(trace->spans.spans.size(), n) << id.ToHex();
  }
}

TEST_F(ClickHouseRetryTest, EveryRetryOfAnInsertWhoseAnswersWereLostStoresNothingTwice) {
  RandomSpans gen(62);
  model::SpanBatch batch = gen.Batch(200);
  const int spans = static_cast<int>(batch.spans.size());
  proxy_->DropInsertAnswers(2);  // the first attempt and its retry (which finds nothing missing)
  ASSERT_TRUE(store_->Append("prod", std::move(batch)).ok());
  EXPECT_GE(proxy_->dropped(), 1);
  EXPECT_EQ(StoredRows(), spans);
  proxy_->DropInsertAnswers(0);
  // Later inserts go through unchanged, and a client sending the same spans again in a new
  // request still stores them (only retries of one insert are deduplicated).
  RandomSpans again(62);
  ASSERT_TRUE(store_->Append("prod", again.Batch(200)).ok());
  EXPECT_EQ(StoredRows(), 2 * spans);
}

}  // namespace
}  // namespace ariadne::testing
