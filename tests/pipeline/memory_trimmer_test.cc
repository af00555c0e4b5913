// MemoryTrimmer: trims after an ingest burst once nothing is in flight, and after the store reports
// a seal or compaction (bulk_free_events changed); never while a burst is still in flight, and
// not at all while nothing happens.
#include "pipeline/memory_trimmer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace ariadne::pipeline {
namespace {

using namespace std::chrono_literals;

// Polls for up to 5 s until trimmer.trims() reaches `at_least`.
bool WaitForTrims(const MemoryTrimmer& trimmer, uint64_t at_least) {
  for (int i = 0; i < 500 && trimmer.trims() < at_least; ++i) std::this_thread::sleep_for(10ms);
  return trimmer.trims() >= at_least;
}

TEST(MemoryTrimmerTest, IdleProcessIsNotTrimmed) {
  InflightBudget budget(1 << 20, 1 << 20);
  std::atomic<uint64_t> events{0};
  MemoryTrimmer trimmer(
      &budget, 1000, [&] { return events.load(); }, 5ms);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(trimmer.trims(), 0u);
}

TEST(MemoryTrimmerTest, BurstIsTrimmedOnlyOnceNothingIsInFlight) {
  InflightBudget budget(1 << 20, 1 << 20);
  MemoryTrimmer trimmer(&budget, 1000, {}, 5ms);
  ASSERT_TRUE(budget.TryAcquire(4000, 10));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(trimmer.trims(), 0u) << "trimmed while the burst was in flight";
  budget.Release(4000, 10);
  EXPECT_TRUE(WaitForTrims(trimmer, 3));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(trimmer.trims(), 3u) << "trims go on after the burst's three";
}

TEST(MemoryTrimmerTest, SealOrCompactionIsTrimmedWithoutAnyBurst) {
  InflightBudget budget(1 << 20, 1 << 20);
  std::atomic<uint64_t> events{7};
  MemoryTrimmer trimmer(
      &budget, 1000, [&] { return events.load(); }, 5ms);
  std::this_thread::sleep_for(50ms);
  ASSERT_EQ(trimmer.trims(), 0u);
  events = 8;  // a block sealed
  EXPECT_TRUE(WaitForTrims(trimmer, 3));
  events = 9;
  EXPECT_TRUE(WaitForTrims(trimmer, 6));
}

}  // namespace
}  // namespace ariadne::pipeline
