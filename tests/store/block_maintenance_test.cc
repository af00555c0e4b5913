// Retention and compaction planning (block_maintenance.h): which blocks go, in which order, under
// age, per-environment max-disk and global max-disk; which small blocks are merged.
#include "store/embedded/block_maintenance.h"

#include <gtest/gtest.h>

#include <unordered_map>

#include "store_test_util.h"

namespace ariadne::store::embedded {

using columnar::Block;
namespace {

constexpr uint64_t kDay = 86400ULL * 1'000'000'000ULL;
constexpr uint64_t kNow = 1000 * kDay + kDay / 2;  // mid-day: the current window has not ended

ManifestState State(const std::vector<BlockRecord>& blocks) {
  ManifestState state;
  for (const BlockRecord& b : blocks) state.blocks[b.id] = b;
  return state;
}

BlockRecord Block(uint64_t id, const std::string& env, uint64_t end_days_ago, uint64_t bytes,
                  uint64_t rows = 100) {
  return BlockRecord{id,    env, kNow - end_days_ago * kDay - 1, kNow - end_days_ago * kDay, rows,
                     bytes, 0};
}

TEST(BlockMaintenanceTest, RetentionRemovesByAgeWithPerEnvironmentOverrides) {
  ManifestState state = State({Block(1, "prod", 40, 10), Block(2, "prod", 10, 10),
                               Block(3, "dev", 10, 10), Block(4, "dev", 1, 10)});
  RetentionConfig config;
  config.global.retention_nanos = 30 * kDay;
  config.environments["dev"].retention_nanos = 7 * kDay;
  std::vector<std::string> why;
  std::vector<uint64_t> removed = PlanRetention(state, config, kNow, &why);
  std::sort(removed.begin(), removed.end());
  EXPECT_EQ(removed, (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(why[0], "older than the retention");
}

TEST(BlockMaintenanceTest, MaxDiskRemovesOldestFirstPerEnvironmentThenGlobally) {
  ManifestState state =
      State({Block(1, "prod", 5, 100), Block(2, "prod", 4, 100), Block(3, "prod", 3, 100),
             Block(4, "dev", 6, 100), Block(5, "dev", 2, 100)});
  RetentionConfig config;
  config.environments["prod"].max_disk_bytes = 250;  // one prod block must go: the oldest
  config.global.max_disk_bytes = 300;                // then the oldest overall until ≤ 300
  std::vector<std::string> why;
  std::vector<uint64_t> removed = PlanRetention(state, config, kNow, &why);
  EXPECT_EQ(removed, (std::vector<uint64_t>{1, 4}));
  EXPECT_EQ(why[0], "environment over its max-disk");
  EXPECT_EQ(why[1], "store over its max-disk");
  config = RetentionConfig{};
  EXPECT_TRUE(PlanRetention(state, config, kNow, &why).empty()) << "no limits, nothing removed";
}

// The host's blocks as retention sees them: sizes on disk by id, and what it was told to drop.
class BlockSizesHost final : public BlockSetHost {
 public:
  explicit BlockSizesHost(std::unordered_map<uint64_t, uint64_t> bytes)
      : bytes_(std::move(bytes)) {}
  void ReplaceBlocks(const std::vector<uint64_t>& removed, std::vector<NewBlockFile>) override {
    dropped.insert(dropped.end(), removed.begin(), removed.end());
  }
  std::unordered_map<uint64_t, uint64_t> BlockFileBytes() const override { return bytes_; }
  std::vector<uint64_t> dropped;

 private:
  std::unordered_map<uint64_t, uint64_t> bytes_;
};

// A side file rewritten at a newer version after its seal (larger than the manifest records):
// max-disk counts the bytes on disk the host reports, not the sealed figure.
TEST(BlockMaintenanceTest, MaxDiskCountsTheBytesOnDiskOverTheManifestsRecord) {
  testing::TempDir dir;
  ManifestState sealed = State({Block(1, "prod", 3, 100), Block(2, "prod", 2, 100)});
  auto manifest = Manifest::Create(Env::Default(), dir.path(), sealed);
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  MaintenanceOptions options;
  options.background = false;
  options.compaction.enabled = false;
  options.unlink_delay = std::chrono::milliseconds(0);
  options.retention.global.max_disk_bytes = 250;  // the records (200) fit; the disk (280) does not
  {
    BlockSizesHost host({{1, 100}, {2, 100}});
    BlockMaintenance maintenance(Env::Default(), dir.path() + "/blocks", manifest->get(), &host,
                                 options);
    ASSERT_TRUE(maintenance.RunOnce().ok());
    EXPECT_TRUE(host.dropped.empty());
  }
  BlockSizesHost host({{1, 100}, {2, 180}});
  BlockMaintenance maintenance(Env::Default(), dir.path() + "/blocks", manifest->get(), &host,
                               options);
  ASSERT_TRUE(maintenance.RunOnce().ok());
  EXPECT_EQ(host.dropped, (std::vector<uint64_t>{1}));
  EXPECT_EQ((*manifest)->state().blocks.count(1), 0u);
  EXPECT_EQ(maintenance.stats().retention_bytes_removed, 100u);
}

TEST(BlockMaintenanceTest, CompactionMergesSmallBlocksOfOneEndedWindow) {
  CompactionOptions options;
  options.target_spans = 1000;
  options.window_nanos = kDay;
  options.settle_nanos = 0;
  ManifestState state = State({Block(1, "prod", 3, 10, 100), Block(2, "prod", 3, 10, 200),
                               Block(3, "dev", 3, 10, 100), Block(4, "prod", 3, 10, 900),
                               Block(5, "prod", 0, 10, 100), Block(6, "prod", 0, 10, 100)});
  // 4 is not small; 5 and 6 are in the current window; 3 is alone in its environment.
  EXPECT_EQ(PlanCompaction(state, options, kNow), (std::vector<uint64_t>{1, 2}));
  options.enabled = false;
  EXPECT_TRUE(PlanCompaction(state, options, kNow).empty());
}

TEST(BlockMaintenanceTest, CompactionMergesTheCurrentWindowOnlyWhenAsked) {
  CompactionOptions options;
  options.target_spans = 1000;
  options.window_nanos = kDay;
  options.settle_nanos = 0;
  ManifestState state = State({Block(5, "prod", 0, 10, 100), Block(6, "prod", 0, 10, 100)});
  EXPECT_TRUE(PlanCompaction(state, options, kNow).empty()) << "today's window is still filling";
  options.merge_open_windows = true;  // `ariadne compact --include-recent`
  EXPECT_EQ(PlanCompaction(state, options, kNow), (std::vector<uint64_t>{5, 6}));
}

}  // namespace
}  // namespace ariadne::store::embedded
