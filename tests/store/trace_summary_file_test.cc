// The trace-summary side files (store/embedded/trace_summary_file.h): the codec round-trips and
// refuses damage; a seal writes one per block before the manifest names it; open reads them
// instead of the blocks' columns (counted through an Env), rebuilds a missing one from the
// columns; a failed side-file write leaves no block without one; retention and compaction take
// them with their blocks; the paged trace search answers the same before and after restart.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "common/env_wrapper.h"
#include "query/xray_filter/filter.h"
#include "store/embedded/embedded_store.h"
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

// Counts the bytes read from block files (".blk"), so a test sees whether open read columns.
class CountingEnv final : public EnvWrapper {
 public:
  Result<std::string> ReadFile(const std::string& path) override {
    Result<std::string> data = target()->ReadFile(path);
    if (data.ok() && IsBlock(path)) block_bytes += data->size();
    return data;
  }
  Result<std::string> ReadFileRange(const std::string& path, uint64_t offset,
                                    size_t length) override {
    Result<std::string> data = target()->ReadFileRange(path, offset, length);
    if (data.ok() && IsBlock(path)) block_bytes += data->size();
    return data;
  }

  std::atomic<uint64_t> block_bytes{0};

 private:
  static bool IsBlock(const std::string& path) {
    return path.size() > 4 && path.substr(path.size() - 4) == ".blk";
  }
};

std::unique_ptr<EmbeddedSpanStore> Open(const std::string& dir, Env* env,
                                        uint64_t retention_nanos = 0,
                                        uint64_t trace_summary_bytes = UINT64_MAX,
                                        bool compaction = false) {
  EmbeddedStoreOptions options;
  options.trace_index = true;
  options.trace_summary_bytes = trace_summary_bytes;
  options.maintenance.compaction.enabled = compaction;
  options.data_dir = dir;
  options.env = env;
  options.maintenance.background = false;
  options.maintenance.unlink_delay = std::chrono::milliseconds(0);
  options.maintenance.retention.global.retention_nanos = retention_nanos;
  auto store = OpenEmbeddedStore(options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(*store) : nullptr;
}

// Block file names and side file names in the blocks directory.
void ListBlocks(const std::string& dir, std::vector<std::string>* blocks,
                std::vector<std::string>* sides) {
  for (const auto& e : fs::directory_iterator(dir + "/blocks")) {
    const std::string name = e.path().filename().string();
    if (name.size() > 4 && name.substr(name.size() - 4) == ".blk") blocks->push_back(name);
    if (name.size() > 5 && name.substr(name.size() - 5) == ".tsum") sides->push_back(name);
  }
  std::sort(blocks->begin(), blocks->end());
  std::sort(sides->begin(), sides->end());
}

void ExpectEveryBlockHasItsSideFile(const std::string& dir) {
  std::vector<std::string> blocks, sides;
  ListBlocks(dir, &blocks, &sides);
  std::vector<std::string> want;
  for (const std::string& b : blocks) want.push_back(b + ".tsum");
  EXPECT_EQ(sides, want);
}

// Every page of a search over the whole window, as (trace id, span count, root name).
std::vector<std::string> Search(SpanStore& store) {
  TracePageRequest request;
  request.start_unix_nano = kBase - kHour;
  request.end_unix_nano = kBase + kHour;
  request.limit = 50;
  std::vector<std::string> out;
  for (int pages = 0; pages < 1000; ++pages) {
    Result<TracePage> page = store.SearchTracePage(request);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) break;
    for (const TracePageEntry& e : page->traces)
      out.push_back(e.summary.trace_id.ToHex() + "/" + std::to_string(e.summary.span_count) + "/" +
                    e.summary.root_name + "/" + e.summary.xray.root_name + "/" +
                    std::to_string(e.summary.xray.annotations.size()));
    if (!page->next) break;
    request.after = page->next;
  }
  return out;
}

// What the whole traces say (the oracle), in the search's order.
std::vector<std::string> Oracle(SpanStore& store) {
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
  std::vector<std::string> out;
  for (const TraceSummary& s : all)
    out.push_back(s.trace_id.ToHex() + "/" + std::to_string(s.span_count) + "/" + s.root_name +
                  "/" + s.xray.root_name + "/" + std::to_string(s.xray.annotations.size()));
  return out;
}

void ExpectSameNodes(const query::xray_filter::TraceFacts& a,
                     const query::xray_filter::TraceFacts& b) {
  EXPECT_EQ(a.nodes_complete, b.nodes_complete);
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  for (size_t k = 0; k < a.nodes.size(); ++k) {
    const query::xray_filter::NodeFact &x = a.nodes[k], &y = b.nodes[k];
    EXPECT_EQ(x.segment, y.segment);
    EXPECT_EQ(x.parent, y.parent);
    EXPECT_EQ(x.user, y.user);
    EXPECT_EQ(x.error, y.error);
    EXPECT_EQ(x.fault, y.fault);
    EXPECT_EQ(x.throttle, y.throttle);
    EXPECT_EQ(x.inferred, y.inferred);
    EXPECT_EQ(x.http_status, y.http_status);
    EXPECT_EQ(x.start_unix_nano, y.start_unix_nano);
    EXPECT_EQ(x.end_unix_nano, y.end_unix_nano);
  }
}

TEST(TraceSummaryFileTest, CodecRoundTripsEveryFieldAndRefusesDamage) {
  model::SpanBatch batch = testing::RandomSpans(7).Batch(300);
  columnar::BlockBuilder builder("prod");
  builder.Append(batch);
  std::shared_ptr<const columnar::Block> block = builder.Seal();
  std::vector<TraceSummary> parts = SummarizeBlockTraces("prod", *block);
  ASSERT_GT(parts.size(), 5u);
  size_t with_nodes = 0;
  const std::string file = EncodeTraceSummaries(parts);
  Result<std::vector<TraceSummary>> back = DecodeTraceSummaries(file);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), parts.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    const TraceSummary &a = parts[i], &b = (*back)[i];
    EXPECT_EQ(a.trace_id, b.trace_id);
    EXPECT_EQ(a.environment, b.environment);
    EXPECT_EQ(a.root_service, b.root_service);
    EXPECT_EQ(a.root_name, b.root_name);
    EXPECT_EQ(a.start_unix_nano, b.start_unix_nano);
    EXPECT_EQ(a.duration_nano, b.duration_nano);
    EXPECT_EQ(a.span_count, b.span_count);
    EXPECT_EQ(a.error_count, b.error_count);
    EXPECT_EQ(a.services, b.services);
    EXPECT_EQ(a.end_unix_nano, b.end_unix_nano);
    EXPECT_EQ(a.last_span_start_unix_nano, b.last_span_start_unix_nano);
    EXPECT_EQ(a.xray.start, b.xray.start);
    EXPECT_EQ(a.xray.end, b.xray.end);
    EXPECT_EQ(a.xray.has_root, b.xray.has_root);
    EXPECT_EQ(a.xray.root_name, b.xray.root_name);
    EXPECT_EQ(a.xray.root_fault, b.xray.root_fault);
    EXPECT_EQ(a.xray.any_error, b.xray.any_error);
    EXPECT_EQ(a.xray.http_status, b.xray.http_status);
    EXPECT_EQ(a.xray.http_url, b.xray.http_url);
    EXPECT_EQ(a.xray.users, b.xray.users);
    EXPECT_EQ(a.xray.segments.size(), b.xray.segments.size());
    ASSERT_EQ(a.xray.annotations.size(), b.xray.annotations.size());
    for (size_t k = 0; k < a.xray.annotations.size(); ++k) {
      EXPECT_EQ(a.xray.annotations[k].key, b.xray.annotations[k].key);
      EXPECT_EQ(a.xray.annotations[k].str, b.xray.annotations[k].str);
      EXPECT_EQ(a.xray.annotations[k].type, b.xray.annotations[k].type);
    }
    EXPECT_EQ(a.xray.annotations_complete, b.xray.annotations_complete);
    ExpectSameNodes(a.xray, b.xray);
    with_nodes += a.xray.nodes_complete && !a.xray.nodes.empty();
  }
  EXPECT_GT(with_nodes, 0u);
  // Every truncation and a flipped byte anywhere: kDataLoss, never a crash or a wrong answer.
  for (size_t cut = 0; cut < file.size(); cut += 1 + file.size() / 97)
    EXPECT_EQ(DecodeTraceSummaries(file.substr(0, cut)).status().code(), StatusCode::kDataLoss);
  std::string flipped = file;
  flipped[flipped.size() / 2] ^= 0x20;
  EXPECT_EQ(DecodeTraceSummaries(flipped).status().code(), StatusCode::kDataLoss);
}

// Version 4 (before the per-node facts) still reads: every other field the same, no nodes, and a
// service() block over its facts answers "unknown" (the trace is then fetched whole). A node
// whose indexes point past the lists before it is damage.
TEST(TraceSummaryFileTest, VersionFourReadsWithoutNodeFactsAndBadNodeIndexesAreDamage) {
  model::SpanBatch batch = testing::RandomSpans(9).Batch(300);
  columnar::BlockBuilder builder("prod");
  builder.Append(batch);
  std::vector<TraceSummary> parts = SummarizeBlockTraces("prod", *builder.Seal());
  Result<TraceSummaryParts> v4 =
      DecodeTraceSummaryParts(EncodeTraceSummariesVersion4(parts, std::vector<uint8_t>(1, 1)));
  ASSERT_TRUE(v4.ok()) << v4.status().ToString();
  EXPECT_EQ(v4->version, 4u);
  ASSERT_EQ(v4->parts.size(), parts.size());
  EXPECT_EQ(v4->whole[0], 1);
  auto block_filter = query::xray_filter::Filter::Parse("service() { fault OR !fault }");
  ASSERT_TRUE(block_filter.ok());
  for (size_t i = 0; i < parts.size(); ++i) {
    const query::xray_filter::TraceFacts& old = v4->parts[i].xray;
    EXPECT_FALSE(old.nodes_complete);
    EXPECT_TRUE(old.nodes.empty());
    EXPECT_EQ(old.segments.size(), parts[i].xray.segments.size());
    EXPECT_EQ(old.users, parts[i].xray.users);
    if (!parts[i].xray.segments.empty()) {
      EXPECT_EQ(block_filter->Decide(parts[i].xray), query::xray_filter::Filter::Verdict::kYes);
      EXPECT_EQ(block_filter->Decide(old), query::xray_filter::Filter::Verdict::kUnknown);
    }
  }
  // Re-encoded as version 5, facts without nodes stay without them (never "no node matches").
  Result<TraceSummaryParts> again = DecodeTraceSummaryParts(EncodeTraceSummaries(v4->parts));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->version, kTraceSummaryVersion);
  for (const TraceSummary& part : again->parts) EXPECT_FALSE(part.xray.nodes_complete);

  std::vector<TraceSummary> bad(1, parts[0]);
  ASSERT_TRUE(bad[0].xray.nodes_complete);
  ASSERT_FALSE(bad[0].xray.nodes.empty());
  bad[0].xray.nodes[0].segment = static_cast<uint32_t>(bad[0].xray.segments.size());
  EXPECT_EQ(DecodeTraceSummaries(EncodeTraceSummaries(bad)).status().code(), StatusCode::kDataLoss);
  bad[0] = parts[0];
  bad[0].xray.nodes[0].parent = static_cast<int32_t>(bad[0].xray.nodes.size());
  EXPECT_EQ(DecodeTraceSummaries(EncodeTraceSummaries(bad)).status().code(), StatusCode::kDataLoss);
}

// Side files are zstd-compressed (version 2) and the version 1 files earlier releases wrote
// (uncompressed) still decode to the same summaries; damage to either is kDataLoss.
TEST(TraceSummaryFileTest, CompressedSideFilesAreSmallerAndVersionOneStillReads) {
  model::SpanBatch batch = testing::RandomSpans(8).Batch(2000);
  columnar::BlockBuilder builder("prod");
  builder.Append(batch);
  std::shared_ptr<const columnar::Block> block = builder.Seal();
  std::vector<TraceSummary> parts = SummarizeBlockTraces("prod", *block);
  // The same content both ways (the current version adds flags, the digest and node facts).
  const std::string v2 = EncodeTraceSummariesVersion2(parts);
  const std::string v1 = EncodeTraceSummariesVersion1(parts);
  EXPECT_LT(v2.size() * 2, v1.size()) << "compressed " << v2.size() << " vs plain " << v1.size();
  for (const std::string* file : {&v1, &v2}) {
    Result<std::vector<TraceSummary>> back = DecodeTraceSummaries(*file);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    ASSERT_EQ(back->size(), parts.size());
    for (size_t i = 0; i < parts.size(); ++i) {
      EXPECT_EQ((*back)[i].trace_id, parts[i].trace_id);
      EXPECT_EQ((*back)[i].span_count, parts[i].span_count);
      EXPECT_EQ((*back)[i].root_name, parts[i].root_name);
      EXPECT_EQ((*back)[i].xray.annotations.size(), parts[i].xray.annotations.size());
    }
    for (size_t cut = 0; cut < file->size(); cut += 1 + file->size() / 31)
      EXPECT_EQ(DecodeTraceSummaries(file->substr(0, cut)).status().code(), StatusCode::kDataLoss);
  }
}

// A store whose side files are version 1 (written before compression) opens and answers the same.
TEST(TraceSummaryFileTest, StoreWithVersionOneSideFilesAnswersTheSame) {
  testing::TempDir dir;
  model::SpanBatch batch = testing::RandomSpans(12).Batch(900);
  std::vector<std::string> before;
  {
    auto store = Open(dir.path(), nullptr);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Append("prod", Slice(batch, 0, 500)).ok());
    ASSERT_TRUE(store->Admin()->Flush().ok());
    ASSERT_TRUE(store->Append("prod", Slice(batch, 500, 900)).ok());
    ASSERT_TRUE(store->Admin()->Flush().ok());
    before = Search(*store);
    EXPECT_EQ(before, Oracle(*store));
    ASSERT_TRUE(store->Close().ok());
  }
  std::vector<std::string> blocks, sides;
  ListBlocks(dir.path(), &blocks, &sides);
  ASSERT_EQ(sides.size(), 2u);
  for (const std::string& side : sides) {
    const std::string path = dir.path() + "/blocks/" + side;
    Result<std::string> data = Env::Default()->ReadFile(path);
    ASSERT_TRUE(data.ok());
    Result<std::vector<TraceSummary>> parts = DecodeTraceSummaries(*data);
    ASSERT_TRUE(parts.ok());
    ASSERT_TRUE(
        WriteFileAtomically(Env::Default(), path, EncodeTraceSummariesVersion1(*parts)).ok());
  }
  CountingEnv env;
  auto store = Open(dir.path(), &env);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Search(*store), before);
  ASSERT_TRUE(store->Close().ok());
}

// The side files count with their blocks: /metrics' block bytes (StoreStats::block_bytes) is the
// size on disk of the block files plus their side files, the same after a restart.
TEST(TraceSummaryFileTest, BlockBytesCountTheSideFiles) {
  testing::TempDir dir;
  model::SpanBatch batch = testing::RandomSpans(14).Batch(1200);
  uint64_t reported = 0;
  {
    auto store = Open(dir.path(), nullptr);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Append("prod", Slice(batch, 0, 600)).ok());
    ASSERT_TRUE(store->Admin()->Flush().ok());
    ASSERT_TRUE(store->Append("prod", Slice(batch, 600, 1200)).ok());
    ASSERT_TRUE(store->Admin()->Flush().ok());
    reported = store->Admin()->Stats().block_bytes;
    ASSERT_TRUE(store->Close().ok());
  }
  uint64_t blk = 0, tsum = 0;
  for (const auto& e : fs::directory_iterator(dir.path() + "/blocks")) {
    const std::string name = e.path().filename().string();
    if (name.size() > 4 && name.substr(name.size() - 4) == ".blk") blk += fs::file_size(e.path());
    if (name.size() > 5 && name.substr(name.size() - 5) == ".tsum") tsum += fs::file_size(e.path());
  }
  ASSERT_GT(tsum, 0u);
  EXPECT_EQ(reported, blk + tsum);
  auto store = Open(dir.path(), nullptr);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Admin()->Stats().block_bytes, blk + tsum);
  ASSERT_TRUE(store->Close().ok());
}

TEST(TraceSummaryFileTest, OpenReadsSideFilesNotColumnsAndRebuildsAMissingOne) {
  testing::TempDir dir;
  model::SpanBatch batch = testing::RandomSpans(11).Batch(1200);
  std::vector<std::string> before;
  {
    CountingEnv env;
    auto store = Open(dir.path(), &env);
    ASSERT_NE(store, nullptr);
    // Two seals (a trace cut between them lives in two blocks) and a head.
    ASSERT_TRUE(store->Append("prod", Slice(batch, 0, 500)).ok());
    ASSERT_TRUE(store->Admin()->Flush().ok());
    ASSERT_TRUE(store->Append("prod", Slice(batch, 500, 1000)).ok());
    ASSERT_TRUE(store->Admin()->Flush().ok());
    ASSERT_TRUE(store->Append("prod", Slice(batch, 1000, 1200)).ok());
    before = Search(*store);
    EXPECT_EQ(before, Oracle(*store));
    ASSERT_TRUE(store->Close().ok());
  }
  ExpectEveryBlockHasItsSideFile(dir.path());
  uint64_t with_side_files = 0;
  {
    CountingEnv env;
    auto store = Open(dir.path(), &env);
    ASSERT_NE(store, nullptr);
    with_side_files = env.block_bytes.load();
    EXPECT_EQ(Search(*store), before);
    ASSERT_TRUE(store->Close().ok());
  }
  // A block from before side files: open summarizes it from its columns and writes its side file.
  std::vector<std::string> blocks, sides;
  ListBlocks(dir.path(), &blocks, &sides);
  ASSERT_GE(sides.size(), 1u);
  fs::remove(dir.path() + "/blocks/" + sides[0]);
  {
    CountingEnv env;
    auto store = Open(dir.path(), &env);
    ASSERT_NE(store, nullptr);
    EXPECT_GT(env.block_bytes.load(), with_side_files);  // its columns were read
    EXPECT_EQ(Search(*store), before);
    ASSERT_TRUE(store->Close().ok());
  }
  ExpectEveryBlockHasItsSideFile(dir.path());
  {
    CountingEnv env;
    auto store = Open(dir.path(), &env);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(env.block_bytes.load(), with_side_files);  // metas only again
    ASSERT_TRUE(store->Close().ok());
  }
}

TEST(TraceSummaryFileTest, FailedSideFileWriteLeavesNoBlockWithoutOne) {
  testing::TempDir dir;
  model::SpanBatch batch = testing::RandomSpans(13).Batch(600);
  FaultInjectionEnv env;
  auto store = Open(dir.path(), &env);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Append("prod", std::move(batch)).ok());
  env.Fail(FaultInjectionEnv::Op::kCreate, 1, ".tsum");
  // The seal fails once (the side file cannot be created) and is retried: the flush succeeds.
  ASSERT_TRUE(store->Admin()->Flush().ok());
  EXPECT_EQ(env.injected(), 1);
  ExpectEveryBlockHasItsSideFile(dir.path());
  const std::vector<std::string> before = Search(*store);
  EXPECT_EQ(before, Oracle(*store));
  ASSERT_TRUE(store->Close().ok());
  store = Open(dir.path(), &env);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Search(*store), before);
  ASSERT_TRUE(store->Close().ok());
}

TEST(TraceSummaryFileTest, RetentionRemovesSideFilesWithTheirBlocks) {
  testing::TempDir dir;
  {
    auto store = Open(dir.path(), nullptr, /*retention_nanos=*/30ULL * 24 * kHour);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Append("prod", testing::RandomSpans(17).Batch(400)).ok());
    ASSERT_TRUE(store->Admin()->Flush().ok());
    std::vector<std::string> blocks, sides;
    ListBlocks(dir.path(), &blocks, &sides);
    ASSERT_FALSE(sides.empty());
    // RandomSpans' spans are from November 2025: older than 30 days.
    ASSERT_TRUE(RunBlockMaintenance(store.get()).ok());
    EXPECT_TRUE(Search(*store).empty());
    ASSERT_TRUE(store->Close().ok());
  }
  std::vector<std::string> blocks, sides;
  ListBlocks(dir.path(), &blocks, &sides);
  EXPECT_TRUE(blocks.empty());
  EXPECT_TRUE(sides.empty());
}

TEST(TraceSummaryFileTest, OrphanSideFileIsRemovedAtOpen) {
  testing::TempDir dir;
  {
    auto store = Open(dir.path(), nullptr);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Append("prod", testing::RandomSpans(19).Batch(100)).ok());
    ASSERT_TRUE(store->Admin()->Flush().ok());
    ASSERT_TRUE(store->Close().ok());
  }
  const std::string orphan = dir.path() + "/blocks/000000099999.blk.tsum";
  ASSERT_TRUE(WriteTraceSummaryFile(Env::Default(), orphan.substr(0, orphan.size() - 5), {}).ok());
  ASSERT_TRUE(fs::exists(orphan));
  auto store = Open(dir.path(), nullptr);
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(fs::exists(orphan));
  ExpectEveryBlockHasItsSideFile(dir.path());
  ASSERT_TRUE(store->Close().ok());
}

// A summary budget far below what the window's summaries take (--memory-limit's share on a tiny
// limit): the index keeps almost nothing in memory, reads the blocks' side files back while it
// walks, and answers exactly what the whole traces say, also after a restart and after
// compaction removed the blocks whose side files held the evicted summaries.
TEST(TraceSummaryFileTest, TinySummaryBudgetStillAnswersEveryTrace) {
  testing::TempDir dir;
  model::SpanBatch batch = testing::RandomSpans(23).Batch(1500);
  constexpr uint64_t kBudget = 4096;  // a handful of summaries
  std::vector<std::string> want;
  {
    auto store = Open(dir.path(), nullptr, 0, kBudget, /*compaction=*/true);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Append("prod", Slice(batch, 0, 600)).ok());
    ASSERT_TRUE(store->Admin()->Flush().ok());
    ASSERT_TRUE(store->Append("prod", Slice(batch, 600, 1200)).ok());
    ASSERT_TRUE(store->Admin()->Flush().ok());
    ASSERT_TRUE(store->Append("prod", Slice(batch, 1200, 1500)).ok());
    want = Oracle(*store);
    ASSERT_GT(want.size(), 50u);
    EXPECT_EQ(Search(*store), want);
    StoreStats stats = store->Admin()->Stats();
    EXPECT_GT(stats.trace_summary_loads, 0u);  // evicted summaries came back from side files
    // The summaries of the head's traces are not evictable; the blocks' ones are bounded.
    ASSERT_TRUE(store->Admin()->Flush().ok());
    EXPECT_EQ(Search(*store), want);
    EXPECT_LE(store->Admin()->Stats().trace_summary_bytes, kBudget + 4096);
    // Compaction merges the three blocks and removes them with their side files.
    const uint64_t blocks_before = store->Admin()->Stats().blocks;
    ASSERT_TRUE(RunBlockMaintenance(store.get()).ok());
    EXPECT_LT(store->Admin()->Stats().blocks, blocks_before);
    EXPECT_EQ(Search(*store), want);
    ASSERT_TRUE(store->Close().ok());
  }
  ExpectEveryBlockHasItsSideFile(dir.path());
  auto store = Open(dir.path(), nullptr, 0, kBudget);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Search(*store), want);
  EXPECT_LE(store->Admin()->Stats().trace_summary_bytes, kBudget + 4096);
  ASSERT_TRUE(store->Close().ok());
}

}  // namespace
}  // namespace ariadne::store::embedded
