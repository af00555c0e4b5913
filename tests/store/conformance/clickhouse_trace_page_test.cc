// ClickHouse only: the paged trace search (SearchTracePageSql) transfers a page, not the window.
// A store holds a few thousand traces; a page of 10 through a client of our own (which counts the
// bytes of ClickHouse's answers) must receive a small fraction of what reading the window's traces
// whole (ForEachTraceSql, what the default SearchTracePage did) receives, and the same traces the
// window walk puts first. Also: a refinement that rejects most traces is answered in bounded
// rounds whose token resumes where the page stopped. Skipped (with a message) when
// clickhouse-server is not installed.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "store/clickhouse/clickhouse_store.h"
#include "store/clickhouse/trace_page_sql.h"
#include "store/clickhouse/trace_sql.h"
#include "tests/common/random_spans.h"
#include "tests/store/conformance/conformance_util.h"
#include "tests/store/conformance/engines.h"

namespace ariadne::testing {
namespace {

using namespace conformance;  // NOLINT: test helpers

class ClickHouseTracePageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string skip = EngineSkipReason(Engine::kClickHouse);
    if (!skip.empty()) GTEST_SKIP() << skip;
    const std::string url = FreshClickHouseUrl();
    ASSERT_FALSE(url.empty());
    auto config = store::clickhouse::ParseClickHouseUrl(url);
    ASSERT_TRUE(config.ok());
    store::clickhouse::ClickHouseStoreOptions options;
    options.config = *config;
    std::vector<std::string> created;
    auto opened = store::clickhouse::OpenClickHouseStore(options, &created);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    ASSERT_TRUE(AppendInChunks(*store_, "prod", RandomSpans(71).Batch(12'000), 3000).ok());
    ASSERT_TRUE(store_->WaitForInserts().ok());
    client_ = std::make_unique<store::clickhouse::ClickHouseClient>(*config);
  }
  void TearDown() override {
    if (store_) EXPECT_TRUE(store_->Close().ok());
  }

  store::TracePageRequest Request(size_t limit) {
    store::TracePageRequest request;
    request.environment = "prod";
    request.start_unix_nano = kBase;
    request.end_unix_nano = kBase + 3600 * kSecond;
    request.limit = limit;
    return request;
  }

  // The window's traces, whole, in order (the old way); counts them in `*traces`.
  uint64_t WindowBytes(std::vector<model::TraceId>* order) {
    const uint64_t before = client_->bytes_received();
    std::vector<store::TraceSummary> all;
    EXPECT_TRUE(store::clickhouse::ForEachTraceSql(client_.get(), kBase, kBase + 3600 * kSecond,
                                                   "prod",
                                                   [&](const store::TraceResult& t) {
                                                     all.push_back(store::SummarizeTrace(t));
                                                     return true;
                                                   })
                    .ok());
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
      return a.start_unix_nano != b.start_unix_nano ? a.start_unix_nano < b.start_unix_nano
                                                    : a.trace_id < b.trace_id;
    });
    for (const auto& s : all) order->push_back(s.trace_id);
    return client_->bytes_received() - before;
  }

  std::unique_ptr<store::clickhouse::ClickHouseStore> store_;
  std::unique_ptr<store::clickhouse::ClickHouseClient> client_;
};

TEST_F(ClickHouseTracePageTest, APageTransfersAFractionOfTheWindow) {
  std::vector<model::TraceId> order;
  const uint64_t window_bytes = WindowBytes(&order);
  ASSERT_GT(order.size(), 1000u);
  const uint64_t before = client_->bytes_received();
  auto page = store::clickhouse::SearchTracePageSql(client_.get(), Request(10), {});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  const uint64_t page_bytes = client_->bytes_received() - before;
  ASSERT_EQ(page->traces.size(), 10u);
  ASSERT_TRUE(page->next.has_value());
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(page->traces[i].summary.trace_id, order[i]);
  EXPECT_LE(page->examined, 11u);
  // 10 of more than 1000 traces: well under 5% of the window's bytes.
  EXPECT_LT(page_bytes * 20, window_bytes)
      << page_bytes << " bytes for a page, " << window_bytes << " for the window";
}

TEST_F(ClickHouseTracePageTest, RejectingRefinementIsAnsweredInBoundedRounds) {
  std::vector<model::TraceId> order;
  WindowBytes(&order);
  // Keep only the last trace of the window: a page gives up after one round with a token;
  // following the tokens reaches that trace, and nothing else comes back.
  const model::TraceId keep = order.back();
  store::TracePageRequest request = Request(3);
  request.refine = [&](const store::TraceSummary& s) {
    return s.trace_id == keep ? store::TraceVerdict::kYes : store::TraceVerdict::kNo;
  };
  std::vector<model::TraceId> got;
  size_t pages = 0;
  uint64_t examined = 0;
  while (pages < 100) {
    auto page = store::clickhouse::SearchTracePageSql(client_.get(), request, {}, 1);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ++pages;
    examined += page->examined;
    for (const auto& e : page->traces) got.push_back(e.summary.trace_id);
    if (!page->next) break;
    request.after = page->next;
  }
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], keep);
  EXPECT_GT(pages, 2u);  // one round (200 traces) per page cannot reach it at once
  EXPECT_EQ(examined, order.size());  // every trace looked at once, none twice
}

}  // namespace
}  // namespace ariadne::testing
