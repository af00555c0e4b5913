// Differential test of the stores' X-Ray trace searches against the oracle (every trace fetched
// whole and evaluated with Filter::Matches), over the random traces of xray_summary_fixture.h:
//   1. Through the embedded store: XrayTraceReader::MatchingTraces (index, paged) returns the
//      same traces in the same order as ForEachTrace + Matches, with traces split across batches,
//      sealed blocks and the head, again after the store is reopened (index rebuilt from the
//      blocks and the WAL), with blocks passed over by their digests, and over older side files.
//   2. The same through the ClickHouse engine (its paged trace search in SQL,
//      store/clickhouse/trace_page_sql.h), skipped without clickhouse-server.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "query/xray/trace_reads.h"
#include "query/xray_filter/filter.h"
#include "receivers/xray/segment_decoder.h"
#include "store/embedded/embedded_store.h"
#include "store/embedded/trace_summary_file.h"
#include "tests/store/conformance/engines.h"
#include "tests/store/conformance/xray_summary_fixture.h"
#include "tests/store/store_test_util.h"

namespace ariadne::testing {
namespace {

class XrayIndexOracleTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  virtual void Open() {
    store::embedded::EmbeddedStoreOptions options;
    options.data_dir = dir_.path();
    options.sync = false;
    options.trace_index = true;
    auto opened = store::embedded::OpenEmbeddedStore(options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }
  // `small_blocks`: every batch is sealed into a block of its own (traces then span blocks).
  void Load(bool small_blocks = false) {
    // A trace's first document goes into the current batch, its others into the next one, so
    // traces span batches; a flush halfway seals what came so far, so some span a block and the
    // head.
    model::SpanBatch batch, later;
    size_t n = 0;
    for (const std::vector<model::SpanBatch>& docs : fixture_.documents) {
      for (size_t d = 0; d < docs.size(); ++d)
        receivers::xray::AppendBatch(docs[d], d == 0 ? &batch : &later);
      if (++n % 37 == 0) {
        ASSERT_TRUE(store_->Append("default", std::move(batch)).ok());
        batch = std::move(later);
        later = model::SpanBatch();
        if (small_blocks) {
          ASSERT_TRUE(store_->Admin()->Flush().ok());
        }
      }
      if (n == fixture_.documents.size() / 2) {
        if (store::StoreAdmin* admin = store_->Admin()) {
          ASSERT_TRUE(admin->Flush().ok());
        }
      }
    }
    ASSERT_TRUE(store_->Append("default", std::move(batch)).ok());
    ASSERT_TRUE(store_->Append("default", std::move(later)).ok());
  }

  // The old path: every trace of the window whole, in trace start order, Matches.
  std::vector<model::TraceId> Oracle(const Filter& filter) {
    query::xray_filter::GroupResolver groups = Groups;
    std::vector<std::pair<uint64_t, model::TraceId>> out;
    EXPECT_TRUE(store_
                    ->ForEachTrace(0, UINT64_MAX, "default",
                                   [&](const store::TraceResult& t) {
                                     if (filter.Matches(TraceView::Build(t.spans), &groups)) {
                                       uint64_t first = UINT64_MAX;
                                       for (const auto& s : t.spans.spans)
                                         first = std::min(first, s.start_time_unix_nano);
                                       out.emplace_back(first, t.spans.spans[0].trace_id);
                                     }
                                     return true;
                                   })
                    .ok());
    std::sort(out.begin(), out.end());
    std::vector<model::TraceId> ids;
    for (const auto& [start, id] : out) ids.push_back(id);
    return ids;
  }

  // The index path, paged by `limit`.
  std::vector<model::TraceId> Indexed(const Filter& filter, size_t limit) {
    query::xray_filter::GroupResolver groups = Groups;
    query::xray::XrayTraceReader reader(store_.get(), "default");
    query::xray::MatchingTracesRequest request;
    request.start_nano = 0;
    request.end_nano = UINT64_MAX;
    request.filter = &filter;
    request.groups = &groups;
    request.limit = limit;
    std::vector<model::TraceId> ids;
    for (int pages = 0; pages < 1000; ++pages) {
      auto page = reader.MatchingTraces(request, [&](const TraceView& view) {
        ids.push_back(view.batch().spans[view.spans().front()].trace_id);
      });
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok() || !page->next) break;
      request.after = page->next;
    }
    return ids;
  }

  // The index's answer for `text` in one page and, when `paged`, in pages of 7, equals the
  // oracle's.
  void ExpectIndexedEqualsOracle(const std::string& text, bool paged) {
    SCOPED_TRACE(text);
    auto filter = Filter::Parse(text);
    ASSERT_TRUE(filter.ok()) << filter.status().ToString();
    const std::vector<model::TraceId> want = Oracle(*filter);
    EXPECT_EQ(Indexed(*filter, 0), want);
    if (paged) {
      EXPECT_EQ(Indexed(*filter, 7), want);
    }
  }

  TempDir dir_;
  Fixture fixture_;
  std::unique_ptr<store::SpanStore> store_;
};

TEST_F(XrayIndexOracleTest, IndexedMatchingTracesEqualTheWholeTraceOracle) {
  Load();
  for (const char* text : kExpressions) ExpectIndexedEqualsOracle(text, /*paged=*/true);
}

TEST_F(XrayIndexOracleTest, ReopenedStoreRebuildsTheIndexFromBlocksAndWal) {
  Load();
  auto filter = Filter::Parse("fault OR annotation.tier = \"gold\"");
  ASSERT_TRUE(filter.ok());
  const std::vector<model::TraceId> before = Indexed(*filter, 5);
  ASSERT_FALSE(before.empty());
  ASSERT_TRUE(store_->Close().ok());
  store_.reset();
  Open();
  EXPECT_EQ(Indexed(*filter, 5), before);
  EXPECT_EQ(Oracle(*filter), before);
}

// Annotation terms with every operator of the filter language, and terms no trace matches.
const char* const kAnnotationExpressions[] = {
    "annotation.tier = \"gold\"",
    "annotation.tier != \"gold\"",
    "annotation.tier IN (\"gold\", \"bronze\")",
    "annotation.tier CONTAINS \"ilv\"",
    "annotation.tier BEGINSWITH \"g\"",
    "annotation.tier ENDSWITH \"er\"",
    "annotation.tier = 3",
    "annotation.count < 1",
    "annotation.count <= 1",
    "annotation.count > 4",
    "annotation.count >= 5",
    "annotation.count = 3",
    "annotation.count != 3",
    "annotation.count IN (1, 4)",
    "annotation.flag",
    "annotation.flag = true",
    "annotation.flag = false",
    "annotation.tier = \"gold\" AND annotation.count > 3",
    "fault annotation.count >= 2",
    "annotation.nonexistent = \"x\"",
    "annotation.tier = \"platinum\"",
    "annotation.count > 100",
    "annotation.nonexistent OR annotation.flag",
    "!annotation.nonexistent",
};

uint64_t BlocksSkipped(store::SpanStore& store) {
  return store.Admin()->Stats().trace_summary_blocks_skipped;
}
uint64_t SideFilesLoaded(store::SpanStore& store) {
  return store.Admin()->Stats().trace_summary_loads;
}

// Sealed blocks passed over by their side files' digests (docs/formats/trace-summaries.md,
// "Digest"): an annotation search over small blocks, both orders of paging, equals the oracle for
// every operator, and one no trace matches decodes no side file.
TEST_F(XrayIndexOracleTest, AnnotationSearchesSkipBlocksAndEqualTheOracle) {
  Load(/*small_blocks=*/true);
  auto none = Filter::Parse("annotation.nonexistent = \"x\"");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(Indexed(*none, 5).empty());
  EXPECT_EQ(SideFilesLoaded(*store_), 0u);
  EXPECT_GE(BlocksSkipped(*store_), 8u);
  for (const char* text : kAnnotationExpressions) ExpectIndexedEqualsOracle(text, /*paged=*/true);
}

// Side files of version 3 (no digest, as the previous release wrote them): the answers are the
// same, their blocks are read (never skipped) until a search has read each once, which rewrites
// it with its digest; from then on the blocks are skipped, also after a restart.
TEST_F(XrayIndexOracleTest, VersionThreeSideFilesAreReadThenGivenTheirDigest) {
  Load(/*small_blocks=*/true);
  ASSERT_TRUE(store_->Close().ok());
  store_.reset();
  int rewritten = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path() + "/blocks")) {
    const std::string path = entry.path().string();
    if (entry.path().extension() != ".tsum") continue;
    Result<std::string> data = Env::Default()->ReadFile(path);
    ASSERT_TRUE(data.ok());
    auto parts = store::embedded::DecodeTraceSummaryParts(*data);
    ASSERT_TRUE(parts.ok()) << parts.status().ToString();
    ASSERT_TRUE(WriteFileAtomically(
                    Env::Default(), path,
                    store::embedded::EncodeTraceSummariesVersion3(parts->parts, parts->whole))
                    .ok());
    ++rewritten;
  }
  ASSERT_GE(rewritten, 8);
  Open();
  auto none = Filter::Parse("annotation.tier = \"platinum\"");
  auto gold = Filter::Parse("annotation.tier = \"gold\" AND annotation.count > 3");
  ASSERT_TRUE(none.ok() && gold.ok());
  EXPECT_TRUE(Indexed(*none, 0).empty());
  EXPECT_EQ(BlocksSkipped(*store_), 0u);  // the first search read every block's parts
  EXPECT_TRUE(Indexed(*none, 0).empty());
  EXPECT_GE(BlocksSkipped(*store_), static_cast<uint64_t>(rewritten));
  EXPECT_EQ(Indexed(*gold, 3), Oracle(*gold));
  ASSERT_TRUE(store_->Close().ok());
  store_.reset();
  Open();
  EXPECT_TRUE(Indexed(*none, 0).empty());
  EXPECT_EQ(SideFilesLoaded(*store_), 0u);
  EXPECT_EQ(Indexed(*gold, 3), Oracle(*gold));
}

// Terms the summaries decide besides annotations (query/xray_filter/field_need.h): rare ones
// (absent from some blocks) and absent ones (the last four), to combine.
const char* const kFieldTerms[] = {"fault",
                                   "!fault",
                                   "throttle",
                                   "partial",
                                   "ok",
                                   "inferred",
                                   "responsetime > 0.0685",
                                   "responsetime <= 0.0105",
                                   "duration >= 0.069",
                                   "http.status = 429",
                                   "http.status IN (404, 503)",
                                   "http.status != 200",
                                   "http.method = \"POST\"",
                                   "user = \"alice\"",
                                   "user != \"bob\"",
                                   "name = \"svc-3\"",
                                   "type = \"AWS::EC2::Instance\"",
                                   "service(\"db\")",
                                   "service(\"svc-4\") { fault }",
                                   "service(id(name: \"svc-1\", type: \"AWS::EC2::Instance\"))",
                                   "edge(\"svc-1\", \"svc-2\")",
                                   "rootcause.fault.service",
                                   "http.url ENDSWITH \"2\"",
                                   "responsetime > 2",
                                   "service(\"nope\")",
                                   "http.status = 599",
                                   "user = \"nobody\""};

// Field terms alone and in generated AND/OR/NOT combinations over small blocks: blocks are passed
// over by their digests' fields section (flags, number ranges, value filter), the answers equal
// the oracle in one page and in pages of 7, and a filter no trace matches decodes no side file.
TEST_F(XrayIndexOracleTest, FieldSearchesSkipBlocksAndEqualTheOracle) {
  Load(/*small_blocks=*/true);
  for (const char* text :
       {"responsetime > 2", "service(\"nope\")", "http.status = 599", "user = \"nobody\""}) {
    auto none = Filter::Parse(text);
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(Indexed(*none, 5).empty()) << text;
  }
  EXPECT_EQ(SideFilesLoaded(*store_), 0u);
  const uint64_t no_match_skips = BlocksSkipped(*store_);
  EXPECT_GE(no_match_skips, 4 * 8u);
  std::mt19937_64 rng(15);
  std::vector<std::string> filters(std::begin(kFieldTerms), std::end(kFieldTerms));
  for (int i = 0; i < 100; ++i) {
    std::string text = kFieldTerms[rng() % std::size(kFieldTerms)];
    for (int k = 1 + static_cast<int>(rng() % 2); k > 0; --k) {
      const char* joins[] = {" AND ", " ", " OR ", " AND !"};
      text += joins[rng() % 4];
      text += kFieldTerms[rng() % std::size(kFieldTerms)];
    }
    filters.push_back(text);
  }
  for (size_t i = 0; i < filters.size(); ++i) ExpectIndexedEqualsOracle(filters[i], i % 3 == 0);
  // Rare terms passed over blocks too, not only the absent ones.
  EXPECT_GT(BlocksSkipped(*store_), no_match_skips + 20);
}

// Side files of version 4 (the previous release: no per-node facts): block filters answer the
// same as the oracle (their traces fetched whole), and the first search that reads a block's parts
// rebuilds its side file from the block as version 5 with node facts, which answer the same.
TEST_F(XrayIndexOracleTest, VersionFourSideFilesAnswerTheSameThenGainNodeFacts) {
  Load(/*small_blocks=*/true);
  ASSERT_TRUE(store_->Close().ok());
  store_.reset();
  std::vector<std::string> side_files;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path() + "/blocks")) {
    if (entry.path().extension() != ".tsum") continue;
    const std::string path = entry.path().string();
    Result<std::string> data = Env::Default()->ReadFile(path);
    ASSERT_TRUE(data.ok());
    auto parts = store::embedded::DecodeTraceSummaryParts(*data);
    ASSERT_TRUE(parts.ok()) << parts.status().ToString();
    ASSERT_EQ(parts->version, store::embedded::kTraceSummaryVersion);
    ASSERT_TRUE(WriteFileAtomically(
                    Env::Default(), path,
                    store::embedded::EncodeTraceSummariesVersion4(parts->parts, parts->whole))
                    .ok());
    side_files.push_back(path);
  }
  ASSERT_GE(side_files.size(), 8u);
  auto read = [](const std::string& path) {
    Result<std::string> data = Env::Default()->ReadFile(path);
    EXPECT_TRUE(data.ok());
    auto parts = store::embedded::DecodeTraceSummaryParts(data.ok() ? *data : "");
    EXPECT_TRUE(parts.ok());
    return parts.ok() ? *parts : store::embedded::TraceSummaryParts();
  };
  Open();
  auto block =
      Filter::Parse("service(\"svc-3\") { fault } OR edge(\"svc-1\", \"svc-2\") { error }");
  ASSERT_TRUE(block.ok());
  const std::vector<model::TraceId> want = Oracle(*block);
  ASSERT_FALSE(want.empty());
  EXPECT_EQ(Indexed(*block, 0), want);
  size_t nodes = 0;
  for (const std::string& path : side_files) {
    const store::embedded::TraceSummaryParts parts = read(path);
    EXPECT_EQ(parts.version, store::embedded::kTraceSummaryVersion) << path;
    for (const store::TraceSummary& part : parts.parts) nodes += part.xray.nodes_complete;
  }
  EXPECT_GT(nodes, 0u);
  // The upgraded side files are larger; the store counts what is on disk (/metrics, --max-disk).
  uint64_t on_disk = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path() + "/blocks")) {
    const std::string extension = entry.path().extension().string();
    if (extension == ".blk" || extension == ".tsum") on_disk += entry.file_size();
  }
  EXPECT_EQ(store_->Admin()->Stats().block_bytes, on_disk);
  EXPECT_EQ(Indexed(*block, 4), want);
  ASSERT_TRUE(store_->Close().ok());
  store_.reset();
  Open();
  EXPECT_EQ(Indexed(*block, 0), want);
}

class XrayClickHouseOracleTest : public XrayIndexOracleTest {
 protected:
  void SetUp() override {
    const std::string skip = EngineSkipReason(Engine::kClickHouse);
    if (!skip.empty()) GTEST_SKIP() << skip;
    Open();
  }
  void Open() override {
    store_ = OpenEngine(Engine::kClickHouse);
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    if (store_) {
      EXPECT_TRUE(store_->Close().ok());
    }
  }
};

// Every fourth expression in one page, every eighth also in pages of 7: the reader fetches each
// returned trace again (GetTraceNear, two statements on ClickHouse), so all of them would take
// minutes.
TEST_F(XrayClickHouseOracleTest, PagedMatchingTracesEqualTheWholeTraceOracle) {
  Load();
  size_t n = 0;
  for (const char* text : kExpressions) {
    if (n++ % 4 != 0) continue;
    ExpectIndexedEqualsOracle(text, n % 8 == 1);
  }
}

}  // namespace
}  // namespace ariadne::testing
