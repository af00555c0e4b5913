// Retention and compaction planning (block_maintenance.h): which blocks go, in which order, under
// age, per-environment max-disk and global max-disk; which small blocks are merged.
#include "store/embedded/block_maintenance.h"

#include <gtest/gtest.h>

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
