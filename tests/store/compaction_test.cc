// Compaction end to end through the embedded store (issue 11): small blocks of one window are
// merged into one block written with the stronger compaction zstd level, which takes fewer bytes
// than its inputs together and than the same block written at the seal level, and every span
// reads back field for field, before and after a restart.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "columnar/block.h"
#include "store/embedded/embedded_store.h"
#include "tests/common/random_spans.h"
#include "tests/store/store_test_util.h"

namespace ariadne::store::embedded {

using columnar::Block;
using columnar::BlockMeta;
using columnar::DecodeBlockFile;
using columnar::DecodeBlockMeta;
using columnar::EncodeBlockFile;
using columnar::kSealZstdLevel;
namespace {

namespace fs = std::filesystem;
using testing::ExpectAllTracesReadable;
using testing::TotalSpans;

EmbeddedStoreOptions CompactingOptions(const std::string& dir) {
  EmbeddedStoreOptions options;
  options.data_dir = dir;
  options.maintenance.background = false;  // passes run exactly when the test says
  options.maintenance.unlink_delay = std::chrono::milliseconds(0);
  options.maintenance.compaction.enabled = true;
  options.maintenance.compaction.target_spans = 1 << 20;
  options.maintenance.compaction.window_nanos = 365ULL * 86400 * 1'000'000'000ULL;
  return options;
}

std::vector<std::string> BlockFiles(const std::string& dir) {
  std::vector<std::string> paths;
  for (const auto& e : fs::directory_iterator(dir + "/blocks"))
    if (e.path().extension() == ".blk") paths.push_back(e.path().string());
  return paths;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(CompactionTest, MergedBlockIsSmallerThanItsInputsAndReadsBackIdentically) {
  testing::TempDir dir;
  testing::RandomSpans gen(51);  // spans of 2025: their windows have long ended
  std::vector<model::SpanBatch> sent;
  uint64_t spans = 0;
  {
    auto store = OpenEmbeddedStore(CompactingOptions(dir.path()));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    for (int i = 0; i < 4; ++i) {
      model::SpanBatch batch = gen.Batch(600);
      spans += batch.spans.size();
      sent.push_back(batch.Clone());
      ASSERT_TRUE((*store)->Append("prod", std::move(batch)).ok());
      ASSERT_TRUE((*store)->Flush().ok());
    }
    const StoreStats before = (*store)->Stats();
    ASSERT_EQ(before.blocks, 4u);
    ASSERT_TRUE(RunBlockMaintenance(store->get()).ok());
    const StoreStats after = (*store)->Stats();
    ASSERT_EQ(after.blocks, 1u);
    EXPECT_EQ(after.compactions, 1u);
    EXPECT_EQ(after.block_spans, spans);
    EXPECT_LT(after.block_bytes, before.block_bytes) << "merged block vs the sum of its inputs";
    for (const model::SpanBatch& b : sent) ExpectAllTracesReadable(**store, b, "prod");
    EXPECT_EQ(TotalSpans(**store), spans);
  }
  // The merged file was written at the compaction level: the same block at the seal level is
  // larger.
  std::vector<std::string> files = BlockFiles(dir.path());
  ASSERT_EQ(files.size(), 1u);
  const std::string file = ReadAll(files[0]);
  Result<std::shared_ptr<const Block>> merged = DecodeBlockFile(file);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  Result<BlockMeta> meta = DecodeBlockMeta(file);
  ASSERT_TRUE(meta.ok()) << meta.status().ToString();
  EXPECT_EQ((*merged)->num_rows, spans);
  EXPECT_LT(file.size(), EncodeBlockFile(**merged, *meta, kSealZstdLevel).size());
  // And it reads back the same after a restart.
  auto reopened = OpenEmbeddedStore(CompactingOptions(dir.path()));
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ((*reopened)->Stats().blocks, 1u);
  for (const model::SpanBatch& b : sent) ExpectAllTracesReadable(**reopened, b, "prod");
  EXPECT_EQ(TotalSpans(**reopened), spans);
}

}  // namespace
}  // namespace ariadne::store::embedded
