// Store-level regression tests for disk trouble and on-disk damage (issue 10, items 2 and 7):
// failed WAL writes and syncs through a fault-injecting Env, a flipped byte in a WAL segment and
// in a block file. "Crash" means copying the data directory while the store is open and opening
// the copy (what a kill -9 leaves: written data, no Close).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "query/query_spec.h"
#include "store/embedded/embedded_store.h"
#include "store/embedded/manifest.h"
#include "store/embedded/wal.h"
#include "tests/common/random_spans.h"
#include "tests/store/fault_injection_env.h"
#include "tests/store/store_test_util.h"

namespace ariadne::store::embedded {
namespace {

namespace fs = std::filesystem;
using testing::ExpectAllTracesReadable;
using testing::FaultInjectionEnv;
using testing::TotalSpans;

std::unique_ptr<EmbeddedSpanStore> OpenWith(const std::string& dir, Env* env = nullptr) {
  EmbeddedStoreOptions options;
  options.data_dir = dir;
  options.env = env;
  auto store = OpenEmbeddedStore(options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(*store) : nullptr;
}

// The data directory as a kill -9 would leave it; returns the copy's path.
std::string CrashCopy(const std::string& dir) {
  const std::string copy = dir + "-crash";
  fs::remove_all(copy);
  fs::copy(dir, copy, fs::copy_options::recursive);
  fs::remove(copy + "/LOCK");
  return copy;
}

void FlipByte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x20));
}

struct Sent {
  std::vector<model::SpanBatch> acknowledged;
  std::vector<model::SpanBatch> refused;
};

// Appends one batch and files it by the store's answer.
void AppendOne(EmbeddedSpanStore& store, testing::RandomSpans& gen, Sent* sent) {
  model::SpanBatch batch = gen.Batch(50);
  model::SpanBatch copy = batch.Clone();
  Status s = store.Append("prod", std::move(batch));
  if (s.ok()) {
    sent->acknowledged.push_back(std::move(copy));
  } else {
    EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();  // → 503 + Retry-After
    sent->refused.push_back(std::move(copy));
  }
}

void ExpectExactlyTheAcknowledged(EmbeddedSpanStore& store, const Sent& sent) {
  uint64_t want = 0;
  for (const model::SpanBatch& b : sent.acknowledged) {
    ExpectAllTracesReadable(store, b, "prod");
    want += b.spans.size();
  }
  for (const model::SpanBatch& b : sent.refused)
    for (const model::Span& s : b.spans)
      EXPECT_TRUE(store.GetTrace(s.trace_id).status().IsNotFound())
          << "a refused batch must not come back";
  EXPECT_EQ(TotalSpans(store), want) << "every acknowledged span exactly once";
}

// Regression (issue 10, item 2): ENOSPC half way through a WAL write left a torn record, and every
// batch acknowledged after space returned was lost at the next crash.
TEST(StoreFaultTest, FailedWalWriteLosesNothingAcknowledgedAfterIt) {
  testing::TempDir dir;
  FaultInjectionEnv env;
  testing::RandomSpans gen(21);
  Sent sent;
  std::string crashed;
  {
    auto store = OpenWith(dir.path(), &env);
    for (int i = 0; i < 3; ++i) AppendOne(*store, gen, &sent);
    env.Fail(FaultInjectionEnv::Op::kAppend, 1);
    AppendOne(*store, gen, &sent);
    ASSERT_EQ(sent.refused.size(), 1u);
    for (int i = 0; i < 5; ++i) AppendOne(*store, gen, &sent);
    ASSERT_EQ(sent.acknowledged.size(), 8u);
    EXPECT_GE(store->Stats().wal_write_failures, 1u);
    crashed = CrashCopy(dir.path());
  }
  auto reopened = OpenWith(crashed);
  ExpectExactlyTheAcknowledged(*reopened, sent);
  reopened.reset();
  fs::remove_all(crashed);
}

TEST(StoreFaultTest, FailedWalSyncIsNotReplayedAfterACrash) {
  testing::TempDir dir;
  FaultInjectionEnv env;
  testing::RandomSpans gen(22);
  Sent sent;
  std::string crashed;
  {
    auto store = OpenWith(dir.path(), &env);
    AppendOne(*store, gen, &sent);
    env.Fail(FaultInjectionEnv::Op::kSync, 1);
    AppendOne(*store, gen, &sent);
    ASSERT_EQ(sent.refused.size(), 1u);
    AppendOne(*store, gen, &sent);
    crashed = CrashCopy(dir.path());
  }
  auto reopened = OpenWith(crashed);
  ExpectExactlyTheAcknowledged(*reopened, sent);
  reopened.reset();
  fs::remove_all(crashed);
}

// When the torn write cannot be truncated the store moves to a new segment; while it cannot even
// do that, it refuses appends, and takes them again once it can.
TEST(StoreFaultTest, UndoableWriteMovesToANewSegmentAndIngestResumesByItself) {
  testing::TempDir dir;
  FaultInjectionEnv env;
  testing::RandomSpans gen(23);
  Sent sent;
  std::string crashed;
  {
    auto store = OpenWith(dir.path(), &env);
    AppendOne(*store, gen, &sent);
    env.Fail(FaultInjectionEnv::Op::kAppend, 1);
    env.Fail(FaultInjectionEnv::Op::kTruncate, 1);
    env.Fail(FaultInjectionEnv::Op::kCreate, 2);  // no new segment either, twice
    AppendOne(*store, gen, &sent);
    AppendOne(*store, gen, &sent);
    EXPECT_EQ(sent.refused.size(), 2u);
    EXPECT_EQ(env.armed(), 0);
    for (int i = 0; i < 3; ++i) AppendOne(*store, gen, &sent);
    EXPECT_EQ(sent.acknowledged.size(), 4u);
    crashed = CrashCopy(dir.path());
  }
  auto reopened = OpenWith(crashed);
  ExpectExactlyTheAcknowledged(*reopened, sent);
  reopened.reset();
  fs::remove_all(crashed);
}

// Regression (issue 10, item 7): a flipped byte in the middle of a WAL segment dropped every
// record after it.
TEST(StoreFaultTest, FlippedByteInTheWalCostsOneBatchAndIsReported) {
  testing::TempDir dir;
  testing::RandomSpans gen(24);
  Sent sent;
  std::string crashed;
  {
    auto store = OpenWith(dir.path());
    for (int i = 0; i < 20; ++i) AppendOne(*store, gen, &sent);
    crashed = CrashCopy(dir.path());
  }
  auto segments = ListWalSegments(Env::Default(), crashed + "/wal");
  ASSERT_TRUE(segments.ok());
  ASSERT_EQ(segments->size(), 1u);
  const std::string segment = WalSegmentPath(crashed + "/wal", segments->back());
  FlipByte(segment, fs::file_size(segment) / 2);
  Sent after_damage;
  {
    auto reopened = OpenWith(crashed);
    StoreStats stats = reopened->Stats();
    EXPECT_EQ(stats.wal_corrupt_records, 1u);
    EXPECT_GT(stats.wal_skipped_bytes, 0u);
    // Which batch was hit: the one whose traces are gone.
    for (model::SpanBatch& b : sent.acknowledged) {
      if (reopened->GetTrace(b.spans[0].trace_id).ok())
        after_damage.acknowledged.push_back(std::move(b));
      else
        after_damage.refused.push_back(std::move(b));
    }
    ASSERT_EQ(after_damage.refused.size(), 1u) << "exactly one batch lost";
    EXPECT_EQ(stats.wal_skipped_spans, after_damage.refused[0].spans.size());
    ExpectExactlyTheAcknowledged(*reopened, after_damage);
    EXPECT_TRUE(fs::exists(crashed + "/quarantine")) << "the damaged segment is kept";
    // Sealing retires the damaged segment only after its intact records are in blocks.
    ASSERT_TRUE(reopened->Flush().ok());
    ASSERT_TRUE(reopened->Close().ok());
  }
  auto again = OpenWith(crashed);
  ExpectExactlyTheAcknowledged(*again, after_damage);
  again.reset();
  fs::remove_all(crashed);
}

// Regression (issue 10, item 7): a flipped byte in a block section made every query over the
// block's window fail.
TEST(StoreFaultTest, DamagedBlockIsQuarantinedAndTheRestStaysQueryable) {
  testing::TempDir dir;
  testing::RandomSpans gen(25);
  Sent first, second;
  {
    auto store = OpenWith(dir.path());
    AppendOne(*store, gen, &first);
    ASSERT_TRUE(store->Flush().ok());
    AppendOne(*store, gen, &second);
    ASSERT_TRUE(store->Flush().ok());
    ASSERT_EQ(store->Stats().blocks, 2u);
  }
  std::vector<std::string> blocks;
  for (const auto& e : fs::directory_iterator(dir.path() + "/blocks"))
    if (e.path().extension() == ".blk") blocks.push_back(e.path().string());  // not .blk.tsum
  std::sort(blocks.begin(), blocks.end());
  ASSERT_EQ(blocks.size(), 2u);
  FlipByte(blocks[0], 40);  // inside the first column section (the meta sits at the end)
  auto store = OpenWith(dir.path());
  ASSERT_EQ(store->Stats().blocks, 2u) << "only the meta is read at open";
  const uint64_t base = 1'764'000'000'000'000'000ULL;
  Result<query::QuerySpec> spec = query::ParseQuerySpec(
      R"({"start_time":)" + std::to_string(base / 1'000'000'000 - 60) + R"(,"end_time":)" +
          std::to_string(base / 1'000'000'000 + 86400) +
          // Queries read only the columns they use: this one reads the damaged trace-id section.
          R"(,"calculations":[{"op":"COUNT"}],)"
          R"("filters":[{"column":"trace.trace_id","op":"exists"}]})",
      base);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  Result<query::QueryResult> result = store->RunQuery(*spec);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  StoreStats stats = store->Stats();
  EXPECT_EQ(stats.blocks_quarantined, 1u);
  EXPECT_EQ(stats.blocks, 1u);
  EXPECT_TRUE(fs::exists(dir.path() + "/quarantine/" + fs::path(blocks[0]).filename().string()));
  EXPECT_FALSE(fs::exists(blocks[0]));
  Sent rest;
  rest.acknowledged.push_back(std::move(second.acknowledged[0]));
  rest.refused.push_back(std::move(first.acknowledged[0]));
  ExpectExactlyTheAcknowledged(*store, rest);
  store.reset();
  auto reopened = OpenWith(dir.path());
  EXPECT_EQ(reopened->Stats().blocks, 1u);
  ExpectExactlyTheAcknowledged(*reopened, rest);
}

// Blocks named by the manifest, read from its file (the store may be open: nothing is written).
std::vector<uint64_t> ManifestBlocks(const std::string& dir) {
  std::ifstream current(dir + "/CURRENT");
  std::string name;
  std::getline(current, name);
  std::ifstream in(dir + "/" + name, std::ios::binary);
  const std::string data((std::istreambuf_iterator<char>(in)), {});
  bool torn = false;
  Result<ManifestState> state = DecodeManifestFile(data, &torn);
  EXPECT_TRUE(state.ok()) << state.status().ToString();
  std::vector<uint64_t> ids;
  if (state.ok())
    for (const auto& [id, record] : state->blocks) ids.push_back(id);
  return ids;
}

// A block quarantined by a query leaves the manifest with a "block removed" edit right away, so the
// next open neither looks for the file nor reports it missing.
TEST(StoreFaultTest, QuarantinedBlockLeavesTheManifestAtOnce) {
  testing::TempDir dir;
  testing::RandomSpans gen(26);
  Sent first, second;
  {
    auto store = OpenWith(dir.path());
    AppendOne(*store, gen, &first);
    ASSERT_TRUE(store->Flush().ok());
    AppendOne(*store, gen, &second);
    ASSERT_TRUE(store->Flush().ok());
  }
  std::vector<uint64_t> ids = ManifestBlocks(dir.path());
  ASSERT_EQ(ids.size(), 2u);
  const std::string damaged = dir.path() + "/blocks/" + BlockFileName(ids[0]);
  FlipByte(damaged, 40);  // inside the first column section (the trace ids)
  auto store = OpenWith(dir.path());
  ASSERT_EQ(store->Stats().blocks, 2u) << "only the meta is read at open";
  EXPECT_TRUE(store->GetTrace(first.acknowledged[0].spans[0].trace_id).status().IsNotFound());
  EXPECT_EQ(store->Stats().blocks_quarantined, 1u);
  EXPECT_EQ(store->Stats().blocks, 1u);
  EXPECT_EQ(ManifestBlocks(dir.path()), std::vector<uint64_t>{ids[1]})
      << "the manifest still names the quarantined block";
  store.reset();
  ::testing::internal::CaptureStderr();
  auto reopened = OpenWith(dir.path());
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(log.find("missing"), std::string::npos) << log;
  EXPECT_EQ(log.find("damaged"), std::string::npos) << log;
  EXPECT_EQ(reopened->Stats().blocks, 1u);
  EXPECT_EQ(reopened->Stats().blocks_quarantined, 0u);
  Sent rest;
  rest.acknowledged.push_back(std::move(second.acknowledged[0]));
  rest.refused.push_back(std::move(first.acknowledged[0]));
  ExpectExactlyTheAcknowledged(*reopened, rest);
  EXPECT_TRUE(fs::exists(dir.path() + "/quarantine/" + BlockFileName(ids[0])));
}

}  // namespace
}  // namespace ariadne::store::embedded
