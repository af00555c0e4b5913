#include "store/embedded/embedded_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include "store/embedded/wal.h"
#include "tests/common/random_spans.h"
#include "tests/common/span_equality.h"
#include "tests/store/store_test_util.h"

namespace ariadne::store::embedded {
namespace {

namespace fs = std::filesystem;
using testing::ExpectAllTracesReadable;

std::unique_ptr<EmbeddedSpanStore> Open(const std::string& dir, size_t head_max_spans = 64 * 1024) {
  EmbeddedStoreOptions options;
  options.data_dir = dir;
  options.head_max_spans = head_max_spans;
  auto store = OpenEmbeddedStore(options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(*store) : nullptr;
}

TEST(EmbeddedStoreTest, AppendedTraceIsReadableFromTheHead) {
  testing::TempDir dir;
  auto store = Open(dir.path());
  testing::RandomSpans gen(11);
  model::SpanBatch batch = gen.Batch(200);
  model::SpanBatch copy = batch.Clone();
  ASSERT_TRUE(store->Append("default", std::move(batch)).ok());
  ExpectAllTracesReadable(*store, copy, "default");
  EXPECT_TRUE(store->GetTrace(model::TraceId{}).status().IsNotFound());
  EXPECT_EQ(store->Stats().head_spans, copy.spans.size());
}

TEST(EmbeddedStoreTest, AcknowledgedSpansSurviveARestartWithoutFlush) {
  testing::TempDir dir;
  testing::RandomSpans gen(12);
  model::SpanBatch batch = gen.Batch(300);
  model::SpanBatch copy = batch.Clone();
  {
    auto store = Open(dir.path());
    ASSERT_TRUE(store->Append("prod", std::move(batch)).ok());
    // Simulate a crash: no Close(), no Flush(); copy the directory as it is on disk.
    fs::copy(dir.path(), dir.path() + "-crash", fs::copy_options::recursive);
    fs::remove(dir.path() + "-crash/LOCK");
  }
  auto reopened = Open(dir.path() + "-crash");
  ExpectAllTracesReadable(*reopened, copy, "prod");
  reopened.reset();
  fs::remove_all(dir.path() + "-crash");
}

TEST(EmbeddedStoreTest, SealedBlocksServeTracesAfterRestart) {
  testing::TempDir dir;
  testing::RandomSpans gen(13);
  model::SpanBatch a = gen.Batch(400), b = gen.Batch(400);
  model::SpanBatch a_copy = a.Clone(), b_copy = b.Clone();
  {
    auto store = Open(dir.path());
    ASSERT_TRUE(store->Append("prod", std::move(a)).ok());
    ASSERT_TRUE(store->Append("dev", std::move(b)).ok());
    ASSERT_TRUE(store->Flush().ok());
    StoreStats stats = store->Stats();
    EXPECT_EQ(stats.head_spans, 0u);
    EXPECT_EQ(stats.blocks, 2u);
    EXPECT_GT(stats.block_bytes, 0u);
    ASSERT_TRUE(store->Close().ok());
  }
  // The WAL segments covered by the blocks are gone.
  auto segments = ListWalSegments(Env::Default(), dir.path() + "/wal");
  ASSERT_TRUE(segments.ok());
  EXPECT_EQ(segments->size(), 1u);
  auto store = Open(dir.path());
  ExpectAllTracesReadable(*store, a_copy, "prod");
  ExpectAllTracesReadable(*store, b_copy, "dev");
  EXPECT_TRUE(store->GetTrace(a_copy.spans[0].trace_id, "dev").status().IsNotFound());
}

TEST(EmbeddedStoreTest, HeadSealsAutomaticallyAndSpansStayReadableThroughout) {
  testing::TempDir dir;
  auto store = Open(dir.path(), /*head_max_spans=*/500);
  testing::RandomSpans gen(14);
  std::vector<model::SpanBatch> sent;
  for (int i = 0; i < 8; ++i) {
    model::SpanBatch batch = gen.Batch(200);
    sent.push_back(batch.Clone());
    ASSERT_TRUE(store->Append("prod", std::move(batch)).ok());
  }
  // Sealing runs in the background; spans stay readable while it does.
  for (const model::SpanBatch& batch : sent) ExpectAllTracesReadable(*store, batch, "prod");
  for (int i = 0; i < 500 && store->Stats().blocks < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_GE(store->Stats().blocks, 2u);
  EXPECT_LT(store->Stats().head_spans, 500u + 200u);
  for (const model::SpanBatch& batch : sent) ExpectAllTracesReadable(*store, batch, "prod");
}

TEST(EmbeddedStoreTest, BlocksOfAnUnfinishedCheckpointAreDiscardedAndReplayedFromTheWal) {
  testing::TempDir dir;
  testing::RandomSpans gen(15);
  model::SpanBatch batch = gen.Batch(300);
  model::SpanBatch copy = batch.Clone();
  {
    auto store = Open(dir.path());
    ASSERT_TRUE(store->Append("prod", std::move(batch)).ok());
    // Crash image: WAL as it is now (spans only in the head)...
    fs::copy(dir.path(), dir.path() + "-crash", fs::copy_options::recursive);
    ASSERT_TRUE(store->Flush().ok());
  }
  // ...plus the block file a checkpoint wrote before the crash, but not its CHECKPOINT record.
  for (const auto& entry : fs::directory_iterator(dir.path() + "/blocks"))
    fs::copy(entry.path(), dir.path() + "-crash/blocks/" + entry.path().filename().string());
  fs::remove(dir.path() + "-crash/LOCK");
  {
    auto store = Open(dir.path() + "-crash");
    ExpectAllTracesReadable(*store, copy, "prod");  // exactly once: no duplicate spans
    EXPECT_EQ(store->Stats().blocks, 0u);
    auto services = store->ListServices();
    ASSERT_TRUE(services.ok());
    uint64_t total = 0;
    for (const auto& s : *services) total += s.span_count;
    EXPECT_EQ(total, copy.spans.size());
  }
  fs::remove_all(dir.path() + "-crash");
}

TEST(EmbeddedStoreTest, ConcurrentAppendsAreAllDurableAndGroupCommitted) {
  testing::TempDir dir;
  auto store = Open(dir.path(), /*head_max_spans=*/3000);
  constexpr int kThreads = 4, kBatches = 25;
  std::vector<std::vector<model::SpanBatch>> sent(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      testing::RandomSpans gen(100 + t);
      for (int i = 0; i < kBatches; ++i) {
        model::SpanBatch batch = gen.Batch(40);
        sent[t].push_back(batch.Clone());
        EXPECT_TRUE(store->Append("env" + std::to_string(t % 2), std::move(batch)).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  StoreStats stats = store->Stats();
  EXPECT_EQ(stats.batches_appended, static_cast<uint64_t>(kThreads * kBatches));
  EXPECT_LE(stats.wal_syncs, stats.batches_appended);
  for (int t = 0; t < kThreads; ++t)
    for (const auto& batch : sent[t])
      ExpectAllTracesReadable(*store, batch, "env" + std::to_string(t % 2));
}

TEST(EmbeddedStoreTest, ListServicesCountsSpansErrorsAndRootsPerEnvironment) {
  testing::TempDir dir;
  auto store = Open(dir.path());
  testing::RandomSpans gen(16);
  model::SpanBatch batch = gen.Batch(500);
  std::map<std::string, ServiceSummary> want;
  for (const model::Span& s : batch.spans) {
    ServiceSummary& w = want[std::string(batch.ServiceNameOf(s))];
    w.span_count++;
    w.error_count += s.status_code == model::StatusCode::kError;
    w.trace_root_count += s.is_root();
  }
  model::SpanBatch copy = batch.Clone();
  ASSERT_TRUE(store->Append("prod", std::move(batch)).ok());
  ASSERT_TRUE(store->Flush().ok());
  ASSERT_TRUE(store->Append("prod", std::move(copy)).ok());  // same spans again, now in the head
  auto services = store->ListServices("prod");
  ASSERT_TRUE(services.ok());
  ASSERT_EQ(services->size(), want.size());
  for (const ServiceSummary& s : *services) {
    EXPECT_EQ(s.environment, "prod");
    EXPECT_EQ(s.span_count, 2 * want[s.name].span_count) << s.name;
    EXPECT_EQ(s.error_count, 2 * want[s.name].error_count) << s.name;
    EXPECT_EQ(s.trace_root_count, 2 * want[s.name].trace_root_count) << s.name;
  }
  EXPECT_TRUE(store->ListServices("nope")->empty());
}

TEST(EmbeddedStoreTest, SecondProcessOnTheSameDirectoryIsRefusedWithAClearMessage) {
  testing::TempDir dir;
  auto store = Open(dir.path());
  EmbeddedStoreOptions options;
  options.data_dir = dir.path();
  // lockf locks are per process, so probe from a child process.
  pid_t pid = fork();
  if (pid == 0) {
    auto second = OpenEmbeddedStore(options);
    _exit(!second.ok() && second.status().message().find("in use") != std::string::npos ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(EmbeddedStoreTest, AppendsBeyondThePendingLimitAreRefusedNotQueued) {
  testing::TempDir dir;
  EmbeddedStoreOptions options;
  options.data_dir = dir.path();
  options.max_pending_spans = 10;
  auto store = OpenEmbeddedStore(options);
  ASSERT_TRUE(store.ok());
  testing::RandomSpans gen(17);
  Status s = (*store)->Append("prod", gen.Batch(50));
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("retry"), std::string::npos);
  EXPECT_EQ((*store)->Stats().appends_refused_behind, 1u);
  EXPECT_EQ((*store)->Stats().append_errors, 1u);
}

TEST(EmbeddedStoreTest, ForEachTraceVisitsEachTraceInTheWindowOnceAndWhole) {
  testing::TempDir dir;
  auto store = Open(dir.path());
  testing::RandomSpans gen(19);
  model::SpanBatch first = gen.Batch(300), second = gen.Batch(300);
  std::map<model::TraceId, std::pair<size_t, uint64_t>> want;  // spans, earliest start
  uint64_t lo = UINT64_MAX, hi = 0;
  for (const model::SpanBatch* b : {&first, &second}) {
    for (const model::Span& s : b->spans) {
      auto& w = want[s.trace_id];
      w.second = w.first == 0 ? s.start_time_unix_nano : std::min(w.second, s.start_time_unix_nano);
      w.first++;
      lo = std::min(lo, s.start_time_unix_nano);
      hi = std::max(hi, s.start_time_unix_nano);
    }
  }
  ASSERT_TRUE(store->Append("prod", std::move(first)).ok());
  ASSERT_TRUE(store->Flush().ok());  // half in a block, half in the head
  ASSERT_TRUE(store->Append("prod", std::move(second)).ok());
  const uint64_t mid = lo + (hi - lo) / 2;
  std::map<model::TraceId, size_t> seen;
  ASSERT_TRUE(store
                  ->ForEachTrace(lo, mid, "prod",
                                 [&](const TraceResult& t) {
                                   seen[t.spans.spans[0].trace_id] += t.spans.spans.size();
                                   return true;
                                 })
                  .ok());
  size_t expected = 0;
  for (const auto& [id, w] : want) {
    if (w.second < mid) {
      ++expected;
      EXPECT_EQ(seen[id], w.first) << id.ToHex();
    }
  }
  EXPECT_EQ(seen.size(), expected);
  int visits = 0;
  ASSERT_TRUE(
      store->ForEachTrace(lo, hi + 1, "", [&](const TraceResult&) { return ++visits < 3; }).ok());
  EXPECT_EQ(visits, 3);
}

TEST(EmbeddedStoreTest, SearchTracesFindsTracesByAnySpanNewestFirst) {
  testing::TempDir dir;
  auto store = Open(dir.path());
  testing::RandomSpans gen(20);
  model::SpanBatch first = gen.Batch(300), second = gen.Batch(300);
  // Expected: traces with a span named op-3 in service svc-1.
  std::map<model::TraceId, uint64_t> want;
  uint64_t lo = UINT64_MAX, hi = 0;
  for (const model::SpanBatch* b : {&first, &second}) {
    for (const model::Span& s : b->spans) {
      lo = std::min(lo, s.start_time_unix_nano);
      hi = std::max(hi, s.start_time_unix_nano);
      if (s.name == "op-3" && b->ServiceNameOf(s) == "svc-1")
        want[s.trace_id] = std::max(want[s.trace_id], s.start_time_unix_nano);
    }
  }
  ASSERT_FALSE(want.empty());
  ASSERT_TRUE(store->Append("prod", std::move(first)).ok());
  ASSERT_TRUE(store->Flush().ok());
  ASSERT_TRUE(store->Append("prod", std::move(second)).ok());
  TraceSearchRequest request;
  request.start_unix_nano = lo;
  request.end_unix_nano = hi + 1;
  request.limit = 1000;
  query::Filter by_name{"name", query::FilterOp::kEq, {std::string("op-3")}};
  query::Filter by_service{"service.name", query::FilterOp::kEq, {std::string("svc-1")}};
  request.filters = {by_name, by_service};
  auto found = store->SearchTraces(request);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->size(), want.size());
  for (size_t i = 1; i < found->size(); ++i)
    EXPECT_GE(want[(*found)[i - 1].trace_id], want[(*found)[i].trace_id]);
  for (const TraceSummary& t : *found) {
    EXPECT_TRUE(want.count(t.trace_id));
    EXPECT_EQ(t.environment, "prod");
    EXPECT_GT(t.span_count, 0u);
    EXPECT_FALSE(t.root_name.empty());
    EXPECT_NE(std::find(t.services.begin(), t.services.end(), "svc-1"), t.services.end());
  }
  request.limit = 2;
  EXPECT_EQ(store->SearchTraces(request)->size(), std::min<size_t>(2, want.size()));
}

TEST(EmbeddedStoreTest, ListColumnsCoversHeadAndBlocksWithTypes) {
  testing::TempDir dir;
  auto store = Open(dir.path());
  testing::RandomSpans gen(21);
  ASSERT_TRUE(store->Append("prod", gen.Batch(100)).ok());
  ASSERT_TRUE(store->Flush().ok());
  auto columns = store->ListColumns("", 0, UINT64_MAX);
  ASSERT_TRUE(columns.ok());
  std::map<std::string, ColumnInfo> by_name;
  for (const auto& c : *columns) by_name[c.name] = c;
  EXPECT_EQ(by_name["duration_ms"].source, "intrinsic");
  EXPECT_EQ(by_name["http.status_code"].type, "int");
  EXPECT_EQ(by_name["http.status_code"].source, "span");
  EXPECT_EQ(by_name["app.cached"].type, "bool");
  EXPECT_EQ(by_name["app.ratio"].type, "double");
  EXPECT_EQ(by_name["host.name"].source, "resource");
  EXPECT_EQ(by_name["service.name"].source, "intrinsic");
}

TEST(EmbeddedStoreTest, ServiceGraphSurvivesCheckpointAndRestart) {
  testing::TempDir dir;
  testing::RandomSpans gen(22);
  model::SpanBatch batch = gen.Batch(500);
  uint64_t lo = UINT64_MAX, hi = 0;
  for (const model::Span& s : batch.spans) {
    lo = std::min(lo, s.start_time_unix_nano);
    hi = std::max(hi, s.start_time_unix_nano);
  }
  ServiceGraph before;
  {
    auto store = Open(dir.path());
    ASSERT_TRUE(store->Append("prod", std::move(batch)).ok());
    before = *store->GetServiceGraph("prod", lo, hi + 1);
    ASSERT_FALSE(before.edges.empty());
    ASSERT_TRUE(store->Close().ok());
  }
  auto store = Open(dir.path());
  ServiceGraph after = *store->GetServiceGraph("prod", lo, hi + 1);
  ASSERT_EQ(after.edges.size(), before.edges.size());
  for (size_t i = 0; i < after.edges.size(); ++i) {
    EXPECT_EQ(after.edges[i].source, before.edges[i].source);
    EXPECT_EQ(after.edges[i].target, before.edges[i].target);
    EXPECT_EQ(after.edges[i].request_count, before.edges[i].request_count);
  }
}

TEST(EmbeddedStoreTest, AppendAfterCloseFailsAsUnavailable) {
  testing::TempDir dir;
  auto store = Open(dir.path());
  ASSERT_TRUE(store->Close().ok());
  testing::RandomSpans gen(18);
  EXPECT_TRUE(store->Append("prod", gen.Batch(5)).IsUnavailable());
}

}  // namespace
}  // namespace ariadne::store::embedded
