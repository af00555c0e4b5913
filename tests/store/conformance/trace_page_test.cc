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

// Hand-made traces around a window that crosses midnight UTC (a day partition on ClickHouse).
constexpr uint64_t kMidnight = 1'764'028'800'000'000'000ULL;  // 2025-11-25 00:00:00 UTC
constexpr uint64_t kEdgeStart = kMidnight - 30 * kSecond;
constexpr uint64_t kEdgeEnd = kMidnight + 30 * kSecond;

struct EdgeSpan {
  int trace;
  int span;
  int parent;  // 0: a root
  uint64_t start;
  uint64_t duration;
  const char* service;
  const char* key = nullptr;  // an attribute, if any
  const char* value = nullptr;
  bool error = false;
};

model::SpanBatch EdgeBatch(const std::vector<EdgeSpan>& spans) {
  model::SpanBatch b;
  b.scopes.push_back(model::Scope{});
  for (const EdgeSpan& e : spans) {
    const uint32_t attr = static_cast<uint32_t>(b.attributes.size());
    b.attributes.push_back(
        {b.arena.Copy("service.name"), model::Value::String(b.arena.Copy(e.service))});
    b.resources.push_back(model::Resource{{attr, 1}, 0, {}});
    model::Span span;
    span.resource_index = static_cast<uint32_t>(b.resources.size() - 1);
    span.trace_id.bytes[0] = 0xE;
    span.trace_id.bytes[15] = static_cast<uint8_t>(e.trace);
    span.span_id.bytes[0] = static_cast<uint8_t>(e.trace);
    span.span_id.bytes[7] = static_cast<uint8_t>(e.span);
    if (e.parent != 0) {
      span.parent_span_id.bytes[0] = static_cast<uint8_t>(e.trace);
      span.parent_span_id.bytes[7] = static_cast<uint8_t>(e.parent);
    }
    span.name = b.arena.Copy(e.parent == 0 ? "root-" + std::to_string(e.trace) : "child");
    span.start_time_unix_nano = e.start;
    span.end_time_unix_nano = e.start + e.duration;
    if (e.error) span.status_code = model::StatusCode::kError;
    span.attributes.begin = static_cast<uint32_t>(b.attributes.size());
    if (e.key != nullptr)
      b.attributes.push_back({b.arena.Copy(e.key), model::Value::String(b.arena.Copy(e.value))});
    span.attributes.count = static_cast<uint32_t>(b.attributes.size()) - span.attributes.begin;
    b.spans.push_back(span);
  }
  return b;
}

// Traces that straddle the window's edges and midnight, ties on the earliest start, span
// attributes in the key/value arrays and in a promoted column (http.method on ClickHouse).
class TracePageEdgesTest : public TracePageConformanceTest {
 protected:
  void SetUp() override {
    TracePageConformanceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    const uint64_t ms = 1'000'000;
    const std::vector<EdgeSpan> first = {
        {1, 1, 0, kEdgeStart - 10 * kSecond, 20 * kSecond, "a"},  // starts before the window
        {1, 2, 1, kEdgeStart + 5 * kSecond, 5 * ms, "b"},
        {2, 1, 0, kEdgeEnd - 5 * kSecond, 30 * kSecond, "a"},  // ends after it
        {3, 1, 0, kMidnight - kSecond, 3 * kSecond, "c"},      // child in the next day (below)
        {4, 1, 0, kEdgeStart + 10 * kSecond, 7 * ms, "a"},     // 4, 5, 6, 11: one start
        {5, 1, 0, kEdgeStart + 10 * kSecond, 9 * ms, "b"},
        {5, 2, 1, kEdgeStart + 11 * kSecond, 2 * ms, "c", nullptr, nullptr, true},
        {6, 1, 0, kEdgeStart + 10 * kSecond, 1 * ms, "a"},
        {7, 1, 0, kEdgeStart - 100 * kSecond, 1 * ms, "a"},  // before the window
        {8, 1, 0, kEdgeEnd + 100 * kSecond, 1 * ms, "a"},    // after it
        {9, 1, 0, kEdgeStart + 20 * kSecond, 4 * ms, "a"},
        {9, 2, 1, kEdgeStart + 21 * kSecond, 1 * ms, "b", "customer", "acme"},
        {10, 1, 0, kEdgeStart + 22 * kSecond, 3 * ms, "web", "http.method", "POST"},
        {11, 1, 0, kEdgeStart + 10 * kSecond, 2 * ms, "b"},
    };
    ASSERT_TRUE(store_->Append("edges", EdgeBatch(first)).ok());
    ASSERT_TRUE(store_->Append("edges", EdgeBatch({{3, 2, 1, kMidnight + kSecond, ms, "d"}})).ok());
  }

  std::vector<store::TraceSummary> EdgeOracle(const std::vector<query::Filter>& span_filters = {}) {
    std::vector<store::TraceSummary> out;
    EXPECT_TRUE(
        store_
            ->ForEachTrace(kEdgeStart, kEdgeEnd, "edges",
                           [&](const store::TraceResult& t) {
                             if (store::TraceHasMatchingSpan(t, kEdgeStart, kEdgeEnd, span_filters))
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

  store::TracePageRequest EdgeRequest(size_t limit) {
    store::TracePageRequest request;
    request.environment = "edges";
    request.start_unix_nano = kEdgeStart;
    request.end_unix_nano = kEdgeEnd;
    request.limit = limit;
    return request;
  }
};

TEST_P(TracePageEdgesTest, StraddlingTracesAndTiesPageInOrder) {
  const std::vector<store::TraceSummary> want = EdgeOracle();
  ASSERT_EQ(want.size(), 9u);  // every trace but 7 and 8
  EXPECT_EQ(want[0].trace_id.bytes[15], 1);
  EXPECT_EQ(want[0].span_count, 2u);
  size_t pages = 0;
  std::vector<store::TracePageEntry> got = AllPages(EdgeRequest(2), &pages);
  ASSERT_EQ(got.size(), want.size());
  EXPECT_EQ(pages, 5u);
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE(i);
    ExpectSameSummary(got[i].summary, want[i]);
  }
}

TEST_P(TracePageEdgesTest, NewestFirstWithTiesIsTheReverseOrder) {
  std::vector<store::TraceSummary> want = EdgeOracle();
  std::reverse(want.begin(), want.end());
  store::TracePageRequest request = EdgeRequest(2);
  request.order = store::TraceOrder::kNewestFirst;
  size_t pages = 0;
  std::vector<store::TracePageEntry> got = AllPages(request, &pages);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(got[i].summary.trace_id, want[i].trace_id);
  }
}

TEST_P(TracePageEdgesTest, SpanFiltersOnArrayAndPromotedAttributes) {
  for (const char* column : {"customer", "http.method"}) {
    SCOPED_TRACE(column);
    const std::string value = std::string(column) == "customer" ? "acme" : "POST";
    const std::vector<query::Filter> filters = {F(column, FilterOp::kEq, {value})};
    const std::vector<store::TraceSummary> want = EdgeOracle(filters);
    ASSERT_EQ(want.size(), 1u);
    store::TracePageRequest request = EdgeRequest(5);
    request.filter.span_filters = filters;
    size_t pages = 0;
    std::vector<store::TracePageEntry> got = AllPages(request, &pages);
    ASSERT_EQ(got.size(), 1u);
    ExpectSameSummary(got[0].summary, want[0]);
  }
}

// A refinement that rejects all but two traces, far apart: pages of one walk across the
// rejections (ClickHouse fetches further rounds) and end without an empty page.
TEST_P(TracePageEdgesTest, PagingAcrossRefineRejections) {
  const std::vector<store::TraceSummary> all = EdgeOracle();
  ASSERT_EQ(all.size(), 9u);
  const model::TraceId keep_a = all[1].trace_id, keep_b = all.back().trace_id;
  store::TracePageRequest request = EdgeRequest(1);
  request.refine = [&](const store::TraceSummary& s) {
    return s.trace_id == keep_a || s.trace_id == keep_b ? store::TraceVerdict::kYes
                                                        : store::TraceVerdict::kNo;
  };
  size_t pages = 0;
  std::vector<store::TracePageEntry> got = AllPages(request, &pages);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(pages, 2u);
  EXPECT_EQ(got[0].summary.trace_id, keep_a);
  EXPECT_EQ(got[1].summary.trace_id, keep_b);
}

INSTANTIATE_TEST_SUITE_P(Engines, TracePageEdgesTest,
                         ::testing::Values(Engine::kEmbedded, Engine::kClickHouse),
                         [](const auto& info) { return EngineName(info.param); });

INSTANTIATE_TEST_SUITE_P(Engines, TracePageConformanceTest,
                         ::testing::Values(Engine::kEmbedded, Engine::kEmbeddedIndexed,
                                           Engine::kClickHouse),
                         [](const auto& info) { return EngineName(info.param); });

}  // namespace
}  // namespace ariadne::testing
