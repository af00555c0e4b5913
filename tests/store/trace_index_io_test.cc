// The trace-summary index (store/embedded/trace_index.h) reads the blocks' side files with its
// mutex released: while a search waits on a side-file read, ingest (TraceIndex::NoteBatch)
// and the store's statistics (which read the index) go on; the search still answers exactly what
// the whole traces say, page by page.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <string>
#include <vector>

#include "common/env_wrapper.h"
#include "common/thread_annotations.h"
#include "store/embedded/embedded_store.h"
#include "tests/common/random_spans.h"
#include "tests/store/store_test_util.h"

namespace ariadne::store::embedded {
namespace {

constexpr uint64_t kBase = 1'764'000'000'000'000'000ULL;  // RandomSpans' default base time
constexpr uint64_t kHour = 3600ULL * 1'000'000'000ULL;

// Passes everything to the POSIX Env; the first read of a side file (".tsum") after Arm runs the
// armed hook first, on the reading thread.
class HookedEnv final : public EnvWrapper {
 public:
  void Arm(std::function<void()> hook) {
    MutexLock lock(&mu_);
    hook_ = std::move(hook);
  }
  Result<std::string> ReadFile(const std::string& path) override {
    if (path.size() > 5 && path.substr(path.size() - 5) == ".tsum") {
      ++side_file_reads;
      std::function<void()> hook;
      {
        MutexLock lock(&mu_);
        hook.swap(hook_);
      }
      if (hook) hook();
    }
    return target()->ReadFile(path);
  }

  std::atomic<int> side_file_reads{0};

 private:
  Mutex mu_;
  std::function<void()> hook_ ARIADNE_GUARDED_BY(mu_);
};

// Every page of a search of environment "prod" over the whole window, newest or oldest first.
std::vector<std::string> Search(SpanStore& store, TraceOrder order) {
  TracePageRequest request;
  request.environment = "prod";
  request.start_unix_nano = kBase - kHour;
  request.end_unix_nano = kBase + kHour;
  request.limit = 7;
  request.order = order;
  std::vector<std::string> out;
  for (int pages = 0; pages < 10000; ++pages) {
    Result<TracePage> page = store.SearchTracePage(request);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) break;
    for (const TracePageEntry& e : page->traces)
      out.push_back(e.summary.trace_id.ToHex() + "/" + std::to_string(e.summary.span_count) + "/" +
                    e.summary.root_name + "/" + e.summary.xray.root_name);
    if (!page->next) break;
    request.after = page->next;
  }
  return out;
}

// The whole traces of "prod" (the oracle), in the search's order.
std::vector<std::string> Oracle(SpanStore& store, TraceOrder order) {
  std::vector<TraceSummary> all;
  EXPECT_TRUE(store
                  .ForEachTrace(kBase - kHour, kBase + kHour, "prod",
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
  for (const TraceSummary& s : all)
    out.push_back(s.trace_id.ToHex() + "/" + std::to_string(s.span_count) + "/" + s.root_name +
                  "/" + s.xray.root_name);
  return out;
}

TEST(TraceIndexIoTest, IngestGoesOnWhileASearchReadsASideFile) {
  testing::TempDir dir;
  HookedEnv env;
  EmbeddedStoreOptions options;
  options.trace_index = true;
  options.trace_summary_bytes = 4096;  // no decoded side file stays cached
  options.data_dir = dir.path();
  options.env = &env;
  options.maintenance.background = false;
  auto opened = OpenEmbeddedStore(options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto& store = **opened;
  model::SpanBatch batch = testing::RandomSpans(29).Batch(1800);
  // Three sealed blocks (traces cut between them too).
  for (size_t from = 0; from < batch.spans.size(); from += 600) {
    model::SpanBatch part;
    for (size_t i = from; i < std::min(batch.spans.size(), from + 600); ++i) {
      const model::Span& s = batch.spans[i];
      part.CopySpanFrom(batch, i, part.CopyResourceFrom(batch, s.resource_index),
                        part.CopyScopeFrom(batch, s.scope_index));
    }
    ASSERT_TRUE(store.Append("prod", std::move(part)).ok());
    ASSERT_TRUE(store.Admin()->Flush().ok());
  }
  const std::vector<std::string> oldest = Oracle(store, TraceOrder::kOldestFirst);
  const std::vector<std::string> newest = Oracle(store, TraceOrder::kNewestFirst);
  ASSERT_GT(oldest.size(), 50u);

  // While the search's first side-file read is in progress: another environment's spans are
  // appended (the index notes them) and the statistics are read (they lock the index). With the
  // index locked during the read, neither could finish until the read did.
  std::atomic<bool> went_on{false};
  std::future<bool> other;  // outlives the hook: with the index locked it finishes after the read
  env.Arm([&] {
    other = std::async(std::launch::async, [&] {
      bool ok = store.Append("staging", testing::RandomSpans(31).Batch(200)).ok();
      (void)store.Admin()->Stats();
      return ok;
    });
    // Generous: a deadlock detector, not a speed check.
    went_on = other.wait_for(std::chrono::seconds(60)) == std::future_status::ready;
  });
  const int reads_before = env.side_file_reads.load();
  EXPECT_EQ(Search(store, TraceOrder::kOldestFirst), oldest);
  EXPECT_GT(env.side_file_reads.load(), reads_before);
  EXPECT_TRUE(went_on.load()) << "ingest waited for a side-file read of the trace search";
  ASSERT_TRUE(other.valid());
  EXPECT_TRUE(other.get());
  // Paging resumes exactly both ways, across blocks, with the side files read back as needed.
  EXPECT_EQ(Search(store, TraceOrder::kNewestFirst), newest);
  EXPECT_LE(store.Admin()->Stats().trace_summary_bytes, 4096u + 4096u);
  ASSERT_TRUE(store.Close().ok());
}

}  // namespace
}  // namespace ariadne::store::embedded
