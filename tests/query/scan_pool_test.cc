// ScanPool: every task runs once, a worker id is never used by two threads at once, a false
// return stops further tasks, and concurrent scans share the helpers without deadlock.
#include "query/exec/scan_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace ariadne::query::exec {
namespace {

// Runs `tasks` tasks on `pool` and checks the contract; returns how many workers took part.
size_t RunAndCheck(ScanPool& pool, size_t tasks, size_t max_workers) {
  std::vector<std::atomic<int>> runs(tasks);
  std::vector<std::atomic<int>> busy(max_workers);
  std::atomic<bool> overlap{false}, bad_worker{false};
  std::vector<std::atomic<int>> used(max_workers);
  pool.Run(tasks, max_workers, [&](size_t worker, size_t task) {
    if (worker >= max_workers) {
      bad_worker = true;
      return false;
    }
    if (busy[worker].fetch_add(1) != 0) overlap = true;
    used[worker] = 1;
    runs[task]++;
    // A little work, so helpers get a chance to join.
    volatile uint64_t x = 0;
    for (int i = 0; i < 20000; ++i) x = x + static_cast<uint64_t>(i);
    busy[worker]--;
    return true;
  });
  EXPECT_FALSE(bad_worker);
  EXPECT_FALSE(overlap);
  for (size_t t = 0; t < tasks; ++t) EXPECT_EQ(runs[t].load(), 1) << "task " << t;
  size_t workers = 0;
  for (auto& u : used) workers += u.load();
  return workers;
}

TEST(ScanPoolTest, EveryTaskRunsOnceOnDistinctWorkers) {
  ScanPool pool(3);
  size_t most = 0;
  for (int round = 0; round < 50; ++round) most = std::max(most, RunAndCheck(pool, 64, 4));
  EXPECT_GE(most, 2u) << "no helper ever joined";
  RunAndCheck(pool, 1, 4);
  RunAndCheck(pool, 0, 4);
  RunAndCheck(pool, 10, 1);  // the caller alone
}

TEST(ScanPoolTest, WithoutHelpersTheCallerDoesEverything) {
  ScanPool pool(0);
  EXPECT_EQ(RunAndCheck(pool, 20, 2), 1u);
}

TEST(ScanPoolTest, FalseStopsFurtherTasks) {
  ScanPool pool(1);
  for (int round = 0; round < 50; ++round) {
    std::atomic<int> started{0};
    pool.Run(1000, 2, [&](size_t, size_t task) {
      started++;
      return task != 5;
    });
    // The other worker may be inside one task when the stop comes, but not start many more.
    EXPECT_LT(started.load(), 1000);
    EXPECT_LE(started.load(), 5 + 1 + 2);
  }
}

TEST(ScanPoolTest, ConcurrentScansShareTheHelpers) {
  ScanPool pool(1);
  std::vector<std::thread> callers;
  std::atomic<int> total{0};
  for (int c = 0; c < 6; ++c) {
    callers.emplace_back([&] {
      for (int round = 0; round < 30; ++round) {
        std::atomic<int> n{0};
        pool.Run(40, 2, [&](size_t, size_t) {
          n++;
          return true;
        });
        EXPECT_EQ(n.load(), 40);
        total += n.load();
      }
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(total.load(), 6 * 30 * 40);
}

}  // namespace
}  // namespace ariadne::query::exec
