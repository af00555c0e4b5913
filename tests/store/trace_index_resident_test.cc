// The trace-summary index keeps nothing per trace resident for sealed data (trace_index.h,
// docs/formats/trace-summaries.md): open reads no side file (counted through an Env), resident
// entries stay bounded by the heads and the split traces however many sealed traces there are,
// traces split across seals and compactions are still summarized and paged exactly (both orders,
// tiny side-file budgets, after restarts), a crash at any disk operation of a seal leaves an index
// that answers exactly what the whole traces say, and older side files are decided at open.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/env_wrapper.h"
#include "store/embedded/embedded_store.h"
#include "store/embedded/trace_split_file.h"
#include "store/embedded/trace_summary_file.h"
#include "tests/common/random_spans.h"
#include "tests/store/fault_injection_env.h"
#include "tests/store/store_test_util.h"

namespace ariadne::store::embedded {
namespace {

namespace fs = std::filesystem;
using testing::FaultInjectionEnv;

constexpr uint64_t kBase = 1'764'000'000'000'000'000ULL;  // RandomSpans' default base time
constexpr uint64_t kHour = 3600ULL * 1'000'000'000ULL;

// Counts the side files (".tsum") read.
class SideFileCountingEnv final : public EnvWrapper {
 public:
  Result<std::string> ReadFile(const std::string& path) override {
    if (IsSideFile(path)) ++reads;
    return target()->ReadFile(path);
  }
  Result<std::string> ReadFileRange(const std::string& path, uint64_t offset,
                                    size_t length) override {
    if (IsSideFile(path)) ++reads;
    return target()->ReadFileRange(path, offset, length);
  }
  std::atomic<int> reads{0};

 private:
  static bool IsSideFile(const std::string& path) {
    return path.size() > 5 && path.substr(path.size() - 5) == ".tsum";
  }
};

// The spans of `all` whose index passes `keep`.
model::SpanBatch Pick(const model::SpanBatch& all, const std::function<bool(size_t)>& keep) {
  model::SpanBatch part;
  for (size_t i = 0; i < all.spans.size(); ++i) {
    if (!keep(i)) continue;
    const model::Span& s = all.spans[i];
    part.CopySpanFrom(all, i, part.CopyResourceFrom(all, s.resource_index),
                      part.CopyScopeFrom(all, s.scope_index));
  }
  return part;
}

EmbeddedStoreOptions Options(const std::string& dir, Env* env, uint64_t budget = UINT64_MAX) {
  EmbeddedStoreOptions options;
  options.trace_index = true;
  options.trace_summary_bytes = budget;
  options.data_dir = dir;
  options.env = env;
  options.maintenance.background = false;
  options.maintenance.unlink_delay = std::chrono::milliseconds(0);
  options.maintenance.compaction.enabled = true;
  options.maintenance.compaction.target_spans = 1 << 20;
  options.maintenance.compaction.window_nanos = 365ULL * 86400 * 1'000'000'000ULL;
  return options;
}

std::unique_ptr<EmbeddedSpanStore> Open(const EmbeddedStoreOptions& options) {
  auto store = OpenEmbeddedStore(options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(*store) : nullptr;
}

std::string Describe(const TraceSummary& s) {
  return s.trace_id.ToHex() + "/" + std::to_string(s.span_count) + "/" + s.root_name + "/" +
         std::to_string(s.start_unix_nano) + "/" + s.xray.root_name + "/" +
         std::to_string(s.xray.annotations.size());
}

// Every page of a search over the whole window, `limit` traces a page.
std::vector<std::string> Search(SpanStore& store, TraceOrder order, size_t limit = 7) {
  TracePageRequest request;
  request.start_unix_nano = kBase - kHour;
  request.end_unix_nano = kBase + kHour;
  request.limit = limit;
  request.order = order;
  std::vector<std::string> out;
  for (int pages = 0; pages < 100000; ++pages) {
    Result<TracePage> page = store.SearchTracePage(request);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) break;
    for (const TracePageEntry& e : page->traces) out.push_back(Describe(e.summary));
    if (!page->next) break;
    request.after = page->next;
  }
  return out;
}

// What the whole traces say (the oracle: every trace fetched whole), in the search's order.
std::vector<std::string> Oracle(SpanStore& store, TraceOrder order) {
  std::vector<TraceSummary> all;
  EXPECT_TRUE(store
                  .ForEachTrace(kBase - kHour, kBase + kHour, "",
                                [&](const TraceResult& t) {
                                  all.push_back(SummarizeTrace(t));
                                  return true;
                                })
                  .ok());
  std::sort(all.begin(), all.end(), [](const TraceSummary& a, const TraceSummary& b) {
    return a.start_unix_nano != b.start_unix_nano ? a.start_unix_nano < b.start_unix_nano
                                                  : a.trace_id < b.trace_id;
  });
  if (order == TraceOrder::kNewestFirst) std::reverse(all.begin(), all.end());
  std::vector<std::string> out;
  for (const TraceSummary& s : all) out.push_back(Describe(s));
  return out;
}

void ExpectSearchesMatchTheWholeTraces(SpanStore& store) {
  for (TraceOrder order : {TraceOrder::kOldestFirst, TraceOrder::kNewestFirst}) {
    const std::vector<std::string> want = Oracle(store, order);
    EXPECT_EQ(Search(store, order), want);
    EXPECT_EQ(Search(store, order, 1), want);  // a page per trace: every resume point
  }
}

TEST(TraceIndexResidentTest, OpenReadsNoSideFile) {
  testing::TempDir dir;
  model::SpanBatch batch = testing::RandomSpans(51).Batch(1500);
  std::vector<std::string> before;
  {
    auto store = Open(Options(dir.path(), nullptr));
    ASSERT_NE(store, nullptr);
    // Three seals (traces cut between them) and a head.
    for (size_t k = 0; k < 3; ++k) {
      ASSERT_TRUE(store->Append("prod", Pick(batch, [k](size_t i) { return i / 400 == k; })).ok());
      ASSERT_TRUE(store->Flush().ok());
    }
    ASSERT_TRUE(store->Append("prod", Pick(batch, [](size_t i) { return i >= 1200; })).ok());
    before = Oracle(*store, TraceOrder::kOldestFirst);
    ASSERT_GT(before.size(), 50u);
    EXPECT_EQ(Search(*store, TraceOrder::kOldestFirst), before);
    ASSERT_TRUE(store->Close().ok());
  }
  SideFileCountingEnv env;
  auto store = Open(Options(dir.path(), &env));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(env.reads.load(), 0) << "open read side files";
  EXPECT_EQ(Search(*store, TraceOrder::kOldestFirst), before);
  EXPECT_GT(env.reads.load(), 0) << "the search reads the blocks' side files";
  ASSERT_TRUE(store->Close().ok());
}

TEST(TraceIndexResidentTest, ResidentEntriesStayBoundedAsSealedTracesGrow) {
  testing::TempDir dir;
  auto store = Open(Options(dir.path(), nullptr));
  ASSERT_NE(store, nullptr);
  size_t traces = 0;
  for (int round = 0; round < 6; ++round) {
    // Whole traces per batch: nothing is split, so nothing sealed stays resident.
    ASSERT_TRUE(store->Append("prod", testing::RandomSpans(60 + round).Batch(500)).ok());
    StoreStats with_head = store->Stats();
    EXPECT_GT(with_head.trace_index_resident, 0u) << "the head's traces are resident";
    ASSERT_TRUE(store->Flush().ok());
    StoreStats stats = store->Stats();
    EXPECT_EQ(stats.trace_index_resident, stats.trace_index_split);
    EXPECT_EQ(stats.trace_index_split, 0u);
    const size_t now = Oracle(*store, TraceOrder::kOldestFirst).size();
    EXPECT_GT(now, traces);
    traces = now;
  }
  ASSERT_GT(traces, 100u);
  ExpectSearchesMatchTheWholeTraces(*store);
  // The reads refreshed nothing sealed: still nothing resident.
  EXPECT_EQ(store->Stats().trace_index_resident, 0u);
  ASSERT_TRUE(store->Close().ok());
}

TEST(TraceIndexResidentTest, SplitTracesPagedExactlyAcrossSealsCompactionAndRestart) {
  testing::TempDir dir;
  model::SpanBatch batch = testing::RandomSpans(71).Batch(1500);
  constexpr uint64_t kTinyBudget = 4096;  // no side file stays cached
  size_t split = 0;
  {
    auto store = Open(Options(dir.path(), nullptr, kTinyBudget));
    ASSERT_NE(store, nullptr);
    // Every third span per seal: almost every trace has parts in three blocks.
    for (size_t k = 0; k < 3; ++k) {
      ASSERT_TRUE(store->Append("prod", Pick(batch, [k](size_t i) { return i % 3 == k; })).ok());
      ASSERT_TRUE(store->Flush().ok());
    }
    // And whole traces beside them.
    ASSERT_TRUE(store->Append("prod", testing::RandomSpans(72).Batch(600)).ok());
    ASSERT_TRUE(store->Flush().ok());
    StoreStats stats = store->Stats();
    split = stats.trace_index_split;
    EXPECT_GT(split, 20u);
    EXPECT_EQ(stats.trace_index_resident, split);
    ExpectSearchesMatchTheWholeTraces(*store);
    // Compaction merges the blocks: the parts it joins are whole in the merged block.
    const uint64_t blocks = stats.blocks;
    ASSERT_TRUE(RunBlockMaintenance(store.get()).ok());
    EXPECT_LT(store->Stats().blocks, blocks);
    ExpectSearchesMatchTheWholeTraces(*store);
    ASSERT_TRUE(store->Close().ok());
  }
  auto store = Open(Options(dir.path(), nullptr, kTinyBudget));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Stats().trace_index_split, split);  // the persisted list
  ExpectSearchesMatchTheWholeTraces(*store);
  // More spans of sealed traces arrive: resident again (the head), exact again.
  ASSERT_TRUE(store->Append("prod", Pick(batch, [](size_t i) { return i % 7 == 0; })).ok());
  ExpectSearchesMatchTheWholeTraces(*store);
  ASSERT_TRUE(store->Flush().ok());
  ExpectSearchesMatchTheWholeTraces(*store);
  ASSERT_TRUE(store->Close().ok());
}

// Retention removes the blocks a trace was split across: the trace leaves the index at once (no
// search of that window needed), and the next seal writes the persisted list without it.
TEST(TraceIndexResidentTest, RetentionTakesSplitTracesOutOfTheIndexAndTheList) {
  testing::TempDir dir;
  model::SpanBatch old_spans = testing::RandomSpans(91).Batch(900);  // at kBase: long expired
  testing::RandomSpanOptions recent;
  recent.base_time_unix_nano =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count()) -
      kHour;
  EmbeddedStoreOptions options = Options(dir.path(), nullptr);
  options.maintenance.compaction.enabled = false;  // the parts stay in their three blocks
  options.maintenance.retention.global.retention_nanos = 30 * 24 * kHour;
  {
    auto store = Open(options);
    ASSERT_NE(store, nullptr);
    for (size_t k = 0; k < 3; ++k) {
      ASSERT_TRUE(
          store->Append("prod", Pick(old_spans, [k](size_t i) { return i % 3 == k; })).ok());
      ASSERT_TRUE(store->Flush().ok());
    }
    const size_t split = store->Stats().trace_index_split;
    EXPECT_GT(split, 20u);
    Result<std::vector<SplitTrace>> listed = ReadTraceSplitFile(Env::Default(), dir.path());
    ASSERT_TRUE(listed.ok()) << listed.status().ToString();
    EXPECT_EQ(listed->size(), split);
    ASSERT_TRUE(RunBlockMaintenance(store.get()).ok());
    EXPECT_EQ(store->Stats().blocks, 0u);
    EXPECT_EQ(store->Stats().trace_index_split, 0u);
    EXPECT_EQ(store->Stats().trace_index_resident, 0u);
    ASSERT_TRUE(store->Append("prod", testing::RandomSpans(92, recent).Batch(300)).ok());
    ASSERT_TRUE(store->Flush().ok());
    listed = ReadTraceSplitFile(Env::Default(), dir.path());
    ASSERT_TRUE(listed.ok()) << listed.status().ToString();
    EXPECT_TRUE(listed->empty()) << listed->size() << " traces still listed";
    ASSERT_TRUE(store->Close().ok());
  }
  auto store = Open(options);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Stats().trace_index_split, 0u);
  EXPECT_EQ(store->Stats().trace_index_resident, 0u);
  EXPECT_EQ(store->Stats().blocks, 1u);
  ASSERT_TRUE(store->Close().ok());
}

// kill -9 at every disk operation of a seal whose head continues traces of a sealed block: the
// restarted store's index answers exactly what the whole traces say.
TEST(TraceIndexResidentTest, CrashAtEveryDiskOperationOfASealLeavesACorrectIndex) {
  model::SpanBatch batch = testing::RandomSpans(81).Batch(600);
  int n = 1;
  for (; n < 400; ++n) {
    SCOPED_TRACE("crash at disk operation " + std::to_string(n));
    testing::TempDir dir;
    FaultInjectionEnv env;
    bool fired = false;
    {
      auto store = Open(Options(dir.path(), &env));
      ASSERT_NE(store, nullptr);
      ASSERT_TRUE(store->Append("prod", Pick(batch, [](size_t i) { return i % 2 == 0; })).ok());
      ASSERT_TRUE(store->Flush().ok());
      ASSERT_TRUE(store->Append("prod", Pick(batch, [](size_t i) { return i % 2 == 1; })).ok());
      env.CrashAt(n);
      (void)store->Flush();
      fired = env.fired();
    }  // a crashed store's Close does no I/O either
    auto reopened = Open(Options(dir.path(), nullptr));
    ASSERT_NE(reopened, nullptr);
    ExpectSearchesMatchTheWholeTraces(*reopened);
    // And once sealed again after the restart.
    ASSERT_TRUE(reopened->Flush().ok());
    ExpectSearchesMatchTheWholeTraces(*reopened);
    if (::testing::Test::HasFailure()) return;
    if (!fired) break;
  }
  EXPECT_GT(n, 5) << "the seal made disk operations";
  std::printf("swept %d disk operations\n", n - 1);
}

// kill -9 at every disk operation of a compaction that merges blocks holding parts of the same
// traces: the restarted store's index answers exactly what the whole traces say.
TEST(TraceIndexResidentTest, CrashAtEveryDiskOperationOfACompactionLeavesACorrectIndex) {
  model::SpanBatch batch = testing::RandomSpans(83).Batch(600);
  int n = 1;
  for (; n < 400; ++n) {
    SCOPED_TRACE("crash at disk operation " + std::to_string(n));
    testing::TempDir dir;
    FaultInjectionEnv env;
    bool fired = false;
    {
      auto store = Open(Options(dir.path(), &env));
      ASSERT_NE(store, nullptr);
      for (size_t k = 0; k < 3; ++k) {
        ASSERT_TRUE(store->Append("prod", Pick(batch, [k](size_t i) { return i % 3 == k; })).ok());
        ASSERT_TRUE(store->Flush().ok());
      }
      env.CrashAt(n);
      (void)RunBlockMaintenance(store.get());
      fired = env.fired();
    }
    auto reopened = Open(Options(dir.path(), nullptr));
    ASSERT_NE(reopened, nullptr);
    ExpectSearchesMatchTheWholeTraces(*reopened);
    ASSERT_TRUE(RunBlockMaintenance(reopened.get()).ok());
    EXPECT_EQ(reopened->Stats().blocks, 1u);
    ExpectSearchesMatchTheWholeTraces(*reopened);
    if (::testing::Test::HasFailure()) return;
    if (!fired) break;
  }
  EXPECT_GT(n, 3) << "the compaction made disk operations";
  std::printf("swept %d disk operations\n", n - 1);
}

// A store written before version 3 (side files without `whole` flags, no split list): open
// decides every part from the side files once, rewrites them as version 4, writes the split list,
// and answers the same; the next open reads no side file.
TEST(TraceIndexResidentTest, OlderSideFilesAreDecidedOnceAtOpen) {
  testing::TempDir dir;
  model::SpanBatch batch = testing::RandomSpans(91).Batch(1200);
  {
    auto store = Open(Options(dir.path(), nullptr));
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Append("prod", Pick(batch, [](size_t i) { return i < 500; })).ok());
    ASSERT_TRUE(store->Flush().ok());
    ASSERT_TRUE(store->Append("prod", Pick(batch, [](size_t i) { return i >= 500; })).ok());
    ASSERT_TRUE(store->Flush().ok());
    ASSERT_TRUE(store->Close().ok());
  }
  // Back to what earlier releases wrote: version 2 and version 1 side files, no split list.
  int rewritten = 0;
  for (const auto& e : fs::directory_iterator(dir.path() + "/blocks")) {
    const std::string path = e.path().string();
    if (path.size() < 5 || path.substr(path.size() - 5) != ".tsum") continue;
    Result<std::string> data = Env::Default()->ReadFile(path);
    ASSERT_TRUE(data.ok());
    Result<std::vector<TraceSummary>> parts = DecodeTraceSummaries(*data);
    ASSERT_TRUE(parts.ok());
    const std::string old = rewritten++ % 2 == 0 ? EncodeTraceSummariesVersion2(*parts)
                                                 : EncodeTraceSummariesVersion1(*parts);
    ASSERT_TRUE(WriteFileAtomically(Env::Default(), path, old).ok());
  }
  ASSERT_EQ(rewritten, 2);
  fs::remove(TraceSplitPath(dir.path()));
  {
    SideFileCountingEnv env;
    auto store = Open(Options(dir.path(), &env));
    ASSERT_NE(store, nullptr);
    EXPECT_GT(env.reads.load(), 0) << "open decided the older side files";
    EXPECT_GT(store->Stats().trace_index_split, 0u) << "traces cut between the two blocks";
    ExpectSearchesMatchTheWholeTraces(*store);
    ASSERT_TRUE(store->Close().ok());
  }
  for (const auto& e : fs::directory_iterator(dir.path() + "/blocks")) {
    const std::string path = e.path().string();
    if (path.size() < 5 || path.substr(path.size() - 5) != ".tsum") continue;
    Result<std::string> data = Env::Default()->ReadFile(path);
    ASSERT_TRUE(data.ok());
    Result<TraceSummaryParts> parts = DecodeTraceSummaryParts(*data);
    ASSERT_TRUE(parts.ok());
    // Decided at open (version 4, with the block's digest), then rebuilt from its block with the
    // per-node facts by the first search that read its parts: the current version.
    EXPECT_EQ(parts->version, kTraceSummaryVersion);
  }
  SideFileCountingEnv env;
  auto store = Open(Options(dir.path(), &env));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(env.reads.load(), 0);
  ExpectSearchesMatchTheWholeTraces(*store);
  ASSERT_TRUE(store->Close().ok());
}

// The split list's codec refuses damage.
TEST(TraceIndexResidentTest, SplitListRoundTripsAndRefusesDamage) {
  std::vector<SplitTrace> traces(3);
  for (size_t i = 0; i < traces.size(); ++i) {
    traces[i].environment = i == 1 ? "staging" : "prod";
    traces[i].id.bytes[0] = static_cast<uint8_t>(i + 1);
    traces[i].start_unix_nano = 100 * i;
    traces[i].last_start_unix_nano = 100 * i + 50;
  }
  const std::string data = EncodeTraceSplits(traces);
  Result<std::vector<SplitTrace>> back = DecodeTraceSplits(data);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), 3u);
  for (size_t i = 0; i < traces.size(); ++i) {
    EXPECT_EQ((*back)[i].environment, traces[i].environment);
    EXPECT_EQ((*back)[i].id, traces[i].id);
    EXPECT_EQ((*back)[i].start_unix_nano, traces[i].start_unix_nano);
    EXPECT_EQ((*back)[i].last_start_unix_nano, traces[i].last_start_unix_nano);
  }
  for (size_t cut = 0; cut < data.size(); ++cut)
    EXPECT_EQ(DecodeTraceSplits(data.substr(0, cut)).status().code(), StatusCode::kDataLoss);
  std::string flipped = data;
  flipped[data.size() / 2] ^= 0x10;
  EXPECT_EQ(DecodeTraceSplits(flipped).status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace ariadne::store::embedded
