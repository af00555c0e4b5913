// The manifest (issue 11, "Integrity"): its format on its own, and the store's block set through
// restarts — a lost or damaged manifest is a clear kDataLoss (never a silent delete), a failed
// seal leaves no duplicate after its retry, a checkpoint-era directory is upgraded, orphans are
// removed, the block statistics survive a restart and restarts do not pile up WAL segments.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "columnar/block.h"
#include "store/embedded/embedded_store.h"
#include "store/embedded/manifest.h"
#include "store/embedded/wal.h"
#include "tests/common/random_spans.h"
#include "tests/store/fault_injection_env.h"
#include "tests/store/store_test_util.h"

namespace ariadne::store::embedded {

using columnar::Block;
using columnar::BlockMeta;
using columnar::DecodeBlockFile;
using columnar::EncodeBlockFile;
namespace {

namespace fs = std::filesystem;
using testing::ExpectAllTracesReadable;
using testing::FaultInjectionEnv;
using testing::TotalSpans;

Result<std::unique_ptr<EmbeddedSpanStore>> TryOpen(const std::string& dir, Env* env = nullptr,
                                                   bool recover = false) {
  EmbeddedStoreOptions options;
  options.data_dir = dir;
  options.env = env;
  options.recover_manifest = recover;
  return OpenEmbeddedStore(options);
}

std::unique_ptr<EmbeddedSpanStore> OpenOk(const std::string& dir, Env* env = nullptr,
                                          bool recover = false) {
  auto store = TryOpen(dir, env, recover);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(*store) : nullptr;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

std::vector<std::string> Names(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.size() >= suffix.size() && name.substr(name.size() - suffix.size()) == suffix)
      names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string CurrentManifest(const std::string& dir) {
  std::string name = ReadAll(dir + "/CURRENT");
  while (!name.empty() && name.back() == '\n') name.pop_back();
  return dir + "/" + name;
}

// Three sealed blocks (the last one sealed by Close), all acknowledged; returns what was sent.
std::vector<model::SpanBatch> FillAndClose(const std::string& dir, uint64_t seed) {
  testing::RandomSpans gen(seed);
  std::vector<model::SpanBatch> sent;
  auto store = OpenOk(dir);
  for (int round = 0; round < 3; ++round) {
    model::SpanBatch batch = gen.Batch(100);
    sent.push_back(batch.Clone());
    EXPECT_TRUE(store->Append("prod", std::move(batch)).ok());
    if (round < 2) {
      EXPECT_TRUE(store->Flush().ok());
    }
  }
  EXPECT_EQ(store->Stats().blocks, 2u);
  EXPECT_TRUE(store->Close().ok());
  return sent;
}

void ExpectExactly(EmbeddedSpanStore& store, const std::vector<model::SpanBatch>& sent) {
  uint64_t want = 0;
  for (const model::SpanBatch& b : sent) {
    ExpectAllTracesReadable(store, b, "prod");
    want += b.spans.size();
  }
  EXPECT_EQ(TotalSpans(store), want) << "every acknowledged span exactly once";
}

TEST(ManifestFormatTest, EditsRoundTripAndReplayIntoTheState) {
  VersionEdit edit;
  edit.added.push_back(BlockRecord{7, "prod", 10, 20, 300, 4096, 1});
  edit.removed = {3, 4};
  edit.covered_segment = 12;
  edit.seal = 5;
  Result<VersionEdit> back = VersionEdit::Decode(edit.Encode());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->added, edit.added);
  EXPECT_EQ(back->removed, edit.removed);
  EXPECT_EQ(back->covered_segment, 12u);
  EXPECT_FALSE(back->next_block_id.has_value());
  EXPECT_FALSE(VersionEdit::Decode("\x63\x01").ok()) << "unknown field";
  ManifestState state;
  state.blocks[3] = BlockRecord{3, "prod", 1, 2, 3, 4, 0};
  state.Apply(edit);
  EXPECT_EQ(state.blocks.size(), 1u);
  EXPECT_EQ(state.next_block_id, 8u);
  EXPECT_EQ(state.covered_segment, 12u);
  EXPECT_EQ(ParseBlockFileName(BlockFileName(42)), 42u);
  EXPECT_EQ(ParseManifestFileName(ManifestFileName(9)), 9u);
  EXPECT_EQ(ParseBlockFileName("x.blk"), 0u);
}

TEST(ManifestFormatTest, TornLastEditIsIgnoredButDamageInTheMiddleIsDataLoss) {
  testing::TempDir dir;
  {
    auto manifest = Manifest::Create(Env::Default(), dir.path(), ManifestState{});
    ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
    for (uint64_t id = 1; id <= 3; ++id) {
      VersionEdit edit;
      edit.added.push_back(BlockRecord{id, "prod", id, id + 1, 10, 100, 0});
      ASSERT_TRUE((*manifest)->Apply(edit).ok());
    }
  }
  const std::string path = CurrentManifest(dir.path());
  const std::string whole = ReadAll(path);
  bool torn = false;
  Result<ManifestState> state = DecodeManifestFile(whole, &torn);
  ASSERT_TRUE(state.ok());
  EXPECT_FALSE(torn);
  EXPECT_EQ(state->blocks.size(), 3u);
  // A crash cut the last edit short: it was never acknowledged.
  state = DecodeManifestFile(std::string_view(whole).substr(0, whole.size() - 3), &torn);
  ASSERT_TRUE(state.ok());
  EXPECT_TRUE(torn);
  EXPECT_EQ(state->blocks.size(), 2u);
  // A flipped byte in an edit followed by others is damage, not a crash.
  std::string damaged = whole;
  damaged[whole.size() / 2] ^= 0x20;
  state = DecodeManifestFile(damaged, &torn);
  EXPECT_EQ(state.status().code(), StatusCode::kDataLoss);
}

// Regression: a missing CHECKPOINT read as 0 and Open deleted every block.
TEST(ManifestStoreTest, MissingManifestIsDataLossAndTouchesNoBlock) {
  testing::TempDir dir;
  std::vector<model::SpanBatch> sent = FillAndClose(dir.path(), 31);
  const std::vector<std::string> blocks = Names(dir.path() + "/blocks", ".blk");
  ASSERT_EQ(blocks.size(), 3u);
  for (const std::string& name : Names(dir.path(), ""))
    if (name == "CURRENT" || name == "CHECKPOINT" || name.rfind("MANIFEST-", 0) == 0)
      fs::remove(dir.path() + "/" + name);
  auto refused = TryOpen(dir.path());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(refused.status().message().find("--recover-manifest"), std::string::npos)
      << refused.status().ToString();
  EXPECT_EQ(Names(dir.path() + "/blocks", ".blk"), blocks) << "no block was deleted";
  auto recovered = OpenOk(dir.path(), nullptr, /*recover=*/true);
  ExpectExactly(*recovered, sent);
  EXPECT_EQ(recovered->Stats().blocks, 3u);
}

TEST(ManifestStoreTest, DamagedManifestIsDataLossNamingTheFile) {
  testing::TempDir dir;
  std::vector<model::SpanBatch> sent = FillAndClose(dir.path(), 32);
  const std::string manifest = CurrentManifest(dir.path());
  std::string data = ReadAll(manifest);
  ASSERT_GT(data.size(), 20u);
  data[12] ^= 0x20;  // inside the snapshot record
  WriteAll(manifest, data);
  auto refused = TryOpen(dir.path());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(refused.status().message().find(manifest), std::string::npos)
      << refused.status().ToString();
  EXPECT_EQ(Names(dir.path() + "/blocks", ".blk").size(), 3u);
  auto recovered = OpenOk(dir.path(), nullptr, /*recover=*/true);
  ExpectExactly(*recovered, sent);
}

// Regression: a seal failing after its blocks were written wrote them again on retry (309 spans
// sent, 927 after restart).
void ExpectNoDuplicateAfterFailedSeal(const std::string& failing_file, FaultInjectionEnv::Op op) {
  testing::TempDir dir;
  FaultInjectionEnv env;
  testing::RandomSpans gen(33);
  std::vector<model::SpanBatch> sent;
  {
    auto store = OpenOk(dir.path(), &env);
    model::SpanBatch batch = gen.Batch(309);
    sent.push_back(batch.Clone());
    ASSERT_TRUE(store->Append("prod", std::move(batch)).ok());
    env.Fail(op, 1, failing_file);
    // The seal fails once; Flush retries it and succeeds.
    ASSERT_TRUE(store->Flush().ok());
    EXPECT_EQ(env.armed(), 0) << "the fault fired";
    ExpectExactly(*store, sent);
    EXPECT_EQ(store->Stats().blocks, 1u);
  }
  auto reopened = OpenOk(dir.path());
  ExpectExactly(*reopened, sent);
  EXPECT_EQ(reopened->Stats().blocks, 1u);
  EXPECT_EQ(Names(dir.path() + "/blocks", ".blk").size(), 1u);
}

TEST(ManifestStoreTest, FailedGraphSnapshotThenRetryLeavesNoDuplicate) {
  ExpectNoDuplicateAfterFailedSeal("servicegraph", FaultInjectionEnv::Op::kCreate);
}

TEST(ManifestStoreTest, FailedManifestWriteThenRetryLeavesNoDuplicate) {
  ExpectNoDuplicateAfterFailedSeal("MANIFEST", FaultInjectionEnv::Op::kAppend);
}

TEST(ManifestStoreTest, FailedManifestSyncThenRetryLeavesNoDuplicate) {
  ExpectNoDuplicateAfterFailedSeal("MANIFEST", FaultInjectionEnv::Op::kSync);
}

// A data directory written by the checkpoint-era store: CHECKPOINT "N S", blocks carrying N, and
// a block of an unfinished checkpoint N+1 that must not come back.
TEST(ManifestStoreTest, CheckpointEraDirectoryIsUpgradedOnOpen) {
  testing::TempDir dir;
  std::vector<model::SpanBatch> sent = FillAndClose(dir.path(), 34);
  bool torn = false;
  Result<ManifestState> state = DecodeManifestFile(ReadAll(CurrentManifest(dir.path())), &torn);
  ASSERT_TRUE(state.ok());
  ASSERT_EQ(state->seal, 3u);
  for (const std::string& name : Names(dir.path(), ""))
    if (name == "CURRENT" || name.rfind("MANIFEST-", 0) == 0) fs::remove(dir.path() + "/" + name);
  WriteAll(dir.path() + "/CHECKPOINT",
           std::to_string(state->seal) + " " + std::to_string(state->covered_segment) + "\n");
  // The unfinished checkpoint's block: a copy of block 1's spans under checkpoint 3.
  const std::string first = dir.path() + "/blocks/" + BlockFileName(1);
  Result<std::shared_ptr<const Block>> block = DecodeBlockFile(ReadAll(first));
  ASSERT_TRUE(block.ok());
  BlockMeta meta = (*block)->ComputeMeta();
  meta.id = 99;
  meta.checkpoint = 4;
  WriteAll(dir.path() + "/blocks/" + BlockFileName(99), EncodeBlockFile(**block, meta));
  {
    auto store = OpenOk(dir.path());
    ExpectExactly(*store, sent);
    EXPECT_EQ(store->Stats().blocks, 3u);
  }
  EXPECT_FALSE(fs::exists(dir.path() + "/CHECKPOINT"));
  EXPECT_TRUE(fs::exists(dir.path() + "/CURRENT"));
  EXPECT_FALSE(fs::exists(dir.path() + "/blocks/" + BlockFileName(99)));
  auto again = OpenOk(dir.path());
  ExpectExactly(*again, sent);
}

TEST(ManifestStoreTest, UnparsableCheckpointIsDataLossNotAnEmptyStore) {
  testing::TempDir dir;
  FillAndClose(dir.path(), 35);
  for (const std::string& name : Names(dir.path(), ""))
    if (name == "CURRENT" || name.rfind("MANIFEST-", 0) == 0) fs::remove(dir.path() + "/" + name);
  WriteAll(dir.path() + "/CHECKPOINT", "garbage\n");
  auto refused = TryOpen(dir.path());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(refused.status().message().find("CHECKPOINT"), std::string::npos);
  EXPECT_EQ(Names(dir.path() + "/blocks", ".blk").size(), 3u);
}

TEST(ManifestStoreTest, OrphanBlockFileIsRemovedAtOpen) {
  testing::TempDir dir;
  std::vector<model::SpanBatch> sent = FillAndClose(dir.path(), 36);
  fs::copy(dir.path() + "/blocks/" + BlockFileName(1), dir.path() + "/blocks/" + BlockFileName(50));
  auto store = OpenOk(dir.path());
  ExpectExactly(*store, sent);
  EXPECT_FALSE(fs::exists(dir.path() + "/blocks/" + BlockFileName(50)));
}

// Regression: /metrics showed 0 blocks after every restart.
TEST(ManifestStoreTest, BlockStatisticsSurviveARestart) {
  testing::TempDir dir;
  std::vector<model::SpanBatch> sent = FillAndClose(dir.path(), 37);
  uint64_t spans = 0;
  for (const model::SpanBatch& b : sent) spans += b.spans.size();
  StoreStats before;
  {
    auto store = OpenOk(dir.path());
    before = store->Stats();
    EXPECT_EQ(before.blocks, 3u);
  }
  auto store = OpenOk(dir.path());
  StoreStats after = store->Stats();
  EXPECT_EQ(after.blocks, before.blocks);
  EXPECT_EQ(after.block_bytes, before.block_bytes);
  EXPECT_EQ(after.block_spans, before.block_spans);
  EXPECT_EQ(after.block_spans, spans);
}

// Regression: each restart left one more empty WAL segment.
TEST(ManifestStoreTest, RestartsDoNotPileUpEmptyWalSegments) {
  testing::TempDir dir;
  for (int i = 0; i < 5; ++i) {
    auto store = OpenOk(dir.path());
    ASSERT_TRUE(store->Close().ok());
  }
  auto segments = ListWalSegments(Env::Default(), dir.path() + "/wal");
  ASSERT_TRUE(segments.ok());
  EXPECT_LE(segments->size(), 1u);
}

TEST(ManifestStoreTest, DirectoryListingErrorIsReturned) {
  testing::TempDir dir;
  FillAndClose(dir.path(), 38);
  FaultInjectionEnv env;
  env.FailListDir(1);
  auto refused = TryOpen(dir.path(), &env);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("cannot list directory"), std::string::npos)
      << refused.status().ToString();
  EXPECT_EQ(Names(dir.path() + "/blocks", ".blk").size(), 3u);
}

}  // namespace
}  // namespace ariadne::store::embedded

namespace ariadne::store::embedded {
namespace {

// A seal whose edit is durable is done, even when retiring its WAL segments fails afterwards (here:
// listing the WAL directory): no retry may add its blocks a second time.
TEST(ManifestStoreTest, FailureAfterTheSealEditDoesNotRepeatTheSeal) {
  testing::TempDir dir;
  FaultInjectionEnv env;
  testing::RandomSpans gen(39);
  std::vector<model::SpanBatch> sent;
  {
    auto store = OpenOk(dir.path(), &env);
    model::SpanBatch batch = gen.Batch(120);
    sent.push_back(batch.Clone());
    ASSERT_TRUE(store->Append("prod", std::move(batch)).ok());
    env.FailListDir(1);
    ASSERT_TRUE(store->Flush().ok());
    EXPECT_EQ(env.injected(), 1);
    ExpectExactly(*store, sent);
    EXPECT_EQ(store->Stats().blocks, 1u);
  }
  auto reopened = OpenOk(dir.path());
  ExpectExactly(*reopened, sent);
  EXPECT_EQ(reopened->Stats().blocks, 1u);
}

}  // namespace
}  // namespace ariadne::store::embedded
