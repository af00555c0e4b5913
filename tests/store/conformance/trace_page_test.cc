// Storage conformance, the paged trace search (TraceReader::SearchTracePage): every engine walks
// the window page by page in the documented order, applies the trace-level filter and the "some
// span matches" span filters, and returns the same summaries as the whole traces say
// (ForEachTrace + SummarizeTrace, the oracle), with traces split across batches and, on the
// embedded engine, across sealed blocks and the head.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "tests/common/random_spans.h"
#include "tests/store/conformance/conformance_util.h"
#include "tests/store/conformance/engines.h"

namespace ariadne::testing {
namespace {

using namespace conformance;  // NOLINT: test helpers

// Spans [begin, end) of `all`.
model::SpanBatch Slice(const model::SpanBatch& all, size_t begin, size_t end) {
  model::SpanBatch part;
  for (size_t i = begin; i < end; ++i) {
    const model::Span& s = all.spans[i];
    const uint32_t resource = part.CopyResourceFrom(all, s.resource_index);
    const uint32_t scope = part.CopyScopeFrom(all, s.scope_index);
    part.CopySpanFrom(all, i, resource, scope);
  }
  return part;
}

class TracePageConformanceTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    const std::string skip = EngineSkipReason(GetParam());
    if (!skip.empty()) GTEST_SKIP() << skip;
    store_ = OpenEngine(GetParam());
    ASSERT_NE(store_, nullptr);
    RandomSpans gen(41);
    model::SpanBatch batch = gen.Batch(900);
    // Half, a flush (the embedded engine seals it into blocks), the rest: the trace cut in the
    // middle lives in a block and in the head, and chunks split traces across batches.
    const size_t half = batch.spans.size() / 2;
    ASSERT_TRUE(AppendInChunks(*store_, "prod", Slice(batch, 0, half), 170).ok());
    if (store::StoreAdmin* admin = store_->Admin()) ASSERT_TRUE(admin->Flush().ok());
    ASSERT_TRUE(AppendInChunks(*store_, "prod", Slice(batch, half, batch.spans.size()), 170).ok());
    RandomSpans more(42);
    ASSERT_TRUE(AppendInChunks(*store_, "prod", more.Batch(400), 90).ok());
    ASSERT_TRUE(AppendInChunks(*store_, "dev", RandomSpans(43).Batch(200), 200).ok());
  }
  void TearDown() override {
    if (store_) {
      EXPECT_TRUE(store_->Close().ok());
    }
  }

  // Every trace of "prod" in the window, summarized from its whole spans, oldest first.
  std::vector<store::TraceSummary> Oracle(const std::vector<query::Filter>& span_filters = {}) {
    std::vector<store::TraceSummary> out;
    EXPECT_TRUE(store_
                    ->ForEachTrace(kBase, kBase + 60 * kSecond, "prod",
                                   [&](const store::TraceResult& t) {
                                     if (store::TraceHasMatchingSpan(t, kBase, kBase + 60 * kSecond,
                                                                     span_filters))
                                       out.push_back(store::SummarizeTrace(t));
                                     return true;
                                   })
                    .ok());
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return a.start_unix_nano != b.start_unix_nano ? a.start_unix_nano < b.start_unix_nano
                                                    : a.trace_id < b.trace_id;
    });
    return out;
  }

  // Every page of `request` (limit as set), concatenated; checks each page's size.
  std::vector<store::TracePageEntry> AllPages(store::TracePageRequest request, size_t* pages) {
    std::vector<store::TracePageEntry> out;
    *pages = 0;
    while (true) {
      auto page = store_->SearchTracePage(request);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      ++*pages;
      EXPECT_LE(page->traces.size(), request.limit);
      if (page->next) {
        EXPECT_EQ(page->traces.size(), request.limit);
      }
      for (auto& entry : page->traces) out.push_back(std::move(entry));
      if (!page->next || *pages > 1000) break;
      request.after = page->next;
    }
    return out;
  }

  std::unique_ptr<store::SpanStore> store_;
};

void ExpectSameSummary(const store::TraceSummary& got, const store::TraceSummary& want) {
  EXPECT_EQ(got.trace_id, want.trace_id);
  EXPECT_EQ(got.environment, want.environment);
  EXPECT_EQ(got.root_service, want.root_service);
  EXPECT_EQ(got.root_name, want.root_name);
  EXPECT_EQ(got.start_unix_nano, want.start_unix_nano);
  EXPECT_EQ(got.duration_nano, want.duration_nano);
  EXPECT_EQ(got.span_count, want.span_count);
  EXPECT_EQ(got.error_count, want.error_count);
  EXPECT_EQ(got.services, want.services);
  EXPECT_EQ(got.xray.root_name, want.xray.root_name);
  EXPECT_EQ(got.xray.root_fault, want.xray.root_fault);
  EXPECT_EQ(got.xray.http_status, want.xray.http_status);
}

TEST_P(TracePageConformanceTest, PagesWalkTheWindowOldestFirstWithATraceFilter) {
  std::vector<store::TraceSummary> want;
  for (store::TraceSummary& s : Oracle())
    if (s.error_count > 0 && s.duration_nano >= 5'000'000) want.push_back(std::move(s));
  ASSERT_GT(want.size(), 8u);
  store::TracePageRequest request;
  request.environment = "prod";
  request.start_unix_nano = kBase;
  request.end_unix_nano = kBase + 60 * kSecond;
  request.filter.has_error = true;
  request.filter.min_duration_nano = 5'000'000;
  request.limit = 7;
  size_t pages = 0;
  std::vector<store::TracePageEntry> got = AllPages(request, &pages);
  ASSERT_EQ(got.size(), want.size());
  EXPECT_EQ(pages, (want.size() + 6) / 7);
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_TRUE(got[i].decided);
    ExpectSameSummary(got[i].summary, want[i]);
  }
}

TEST_P(TracePageConformanceTest, NewestFirstIsTheReverseOrder) {
  std::vector<store::TraceSummary> want = Oracle();
  std::reverse(want.begin(), want.end());
  store::TracePageRequest request;
  request.environment = "prod";
  request.start_unix_nano = kBase;
  request.end_unix_nano = kBase + 60 * kSecond;
  request.order = store::TraceOrder::kNewestFirst;
  request.limit = 25;
  size_t pages = 0;
  std::vector<store::TracePageEntry> got = AllPages(request, &pages);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].summary.trace_id, want[i].trace_id);
}

TEST_P(TracePageConformanceTest, SomeSpanMatchesAndRootServiceFilters) {
  const std::vector<query::Filter> span_filters = {
      F("service.name", FilterOp::kEq, {std::string("svc-2")}),
      F("duration_ms", FilterOp::kGt, {2.0})};
  std::vector<store::TraceSummary> want;
  const std::string root = Oracle().front().root_service;
  for (store::TraceSummary& s : Oracle(span_filters))
    if (s.root_service == root) want.push_back(std::move(s));
  ASSERT_FALSE(want.empty());
  store::TracePageRequest request;
  request.environment = "prod";
  request.start_unix_nano = kBase;
  request.end_unix_nano = kBase + 60 * kSecond;
  request.filter.span_filters = span_filters;
  request.filter.root_service = root;
  request.limit = 4;
  size_t pages = 0;
  std::vector<store::TracePageEntry> got = AllPages(request, &pages);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) ExpectSameSummary(got[i].summary, want[i]);
}

// The caller's refinement: kNo drops, kUnknown comes back marked undecided, in order.
TEST_P(TracePageConformanceTest, RefineDropsAndMarksUndecided) {
  std::vector<store::TraceSummary> all = Oracle();
  auto verdict = [](const store::TraceSummary& s) {
    switch (s.trace_id.bytes[15] % 3) {
      case 0:
        return store::TraceVerdict::kNo;
      case 1:
        return store::TraceVerdict::kYes;
      default:
        return store::TraceVerdict::kUnknown;
    }
  };
  std::vector<store::TraceSummary> want;
  for (store::TraceSummary& s : all)
    if (verdict(s) != store::TraceVerdict::kNo) want.push_back(std::move(s));
  store::TracePageRequest request;
  request.environment = "prod";
  request.start_unix_nano = kBase;
  request.end_unix_nano = kBase + 60 * kSecond;
  request.refine = verdict;
  request.limit = 10;
  size_t pages = 0;
  std::vector<store::TracePageEntry> got = AllPages(request, &pages);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].summary.trace_id, want[i].trace_id);
    EXPECT_EQ(got[i].decided, verdict(want[i]) == store::TraceVerdict::kYes);
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, TracePageConformanceTest,
                         ::testing::Values(Engine::kEmbedded, Engine::kEmbeddedIndexed,
                                           Engine::kClickHouse),
                         [](const auto& info) { return EngineName(info.param); });

}  // namespace
}  // namespace ariadne::testing
