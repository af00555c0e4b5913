// Fault-injection property tests over seal, compaction and retention (issue 11): for every N from 1
// to the number of disk operations the step makes, fail operation N alone ("fail") or operation N
// and everything after it ("crash": the process stops doing I/O there, the files keep what was
// written), restart on the same files, and check that every acknowledged span is readable exactly
// once (for retention: every span retention does not remove, and the removed ones at most once).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <functional>

#include "store/embedded/embedded_store.h"
#include "tests/common/random_spans.h"
#include "tests/store/fault_injection_env.h"
#include "tests/store/store_test_util.h"

namespace ariadne::store::embedded {
namespace {

using testing::ExpectAllTracesReadable;
using testing::FaultInjectionEnv;
using testing::TotalSpans;

enum class Mode { kFail, kCrash };

struct Sent {
  std::vector<std::pair<std::string, model::SpanBatch>> batches;  // environment, spans
  uint64_t spans() const {
    uint64_t n = 0;
    for (const auto& [env, b] : batches) n += b.spans.size();
    return n;
  }
};

bool g_retention = false;  // the scenario under test configures a 30-day retention

EmbeddedStoreOptions Options(const std::string& dir, Env* env) {
  EmbeddedStoreOptions options;
  options.data_dir = dir;
  options.env = env;
  options.maintenance.background = false;  // passes run exactly when the test says
  options.maintenance.unlink_delay = std::chrono::milliseconds(0);
  options.maintenance.compaction.enabled = true;
  options.maintenance.compaction.target_spans = 1 << 20;
  options.maintenance.compaction.window_nanos = 365ULL * 86400 * 1'000'000'000ULL;
  if (g_retention)
    options.maintenance.retention.global.retention_nanos = 30ULL * 86400 * 1'000'000'000ULL;
  return options;
}

std::unique_ptr<EmbeddedSpanStore> Open(const EmbeddedStoreOptions& options) {
  auto store = OpenEmbeddedStore(options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(*store) : nullptr;
}

void Append(EmbeddedSpanStore& store, testing::RandomSpans& gen, const std::string& env,
            Sent* sent) {
  model::SpanBatch batch = gen.Batch(60);
  model::SpanBatch copy = batch.Clone();
  ASSERT_TRUE(store.Append(env, std::move(batch)).ok());
  sent->batches.emplace_back(env, std::move(copy));
}

void ExpectExactly(EmbeddedSpanStore& store, const Sent& sent) {
  for (const auto& [env, b] : sent.batches) ExpectAllTracesReadable(store, b, env);
  EXPECT_EQ(TotalSpans(store), sent.spans()) << "every acknowledged span exactly once";
}

uint64_t NowNano() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// Runs `step` with fault N for N = 1, 2, ... until a run makes fewer than N disk operations.
// `prepare` fills the store (with no fault); `check` runs on the restarted store.
void Sweep(Mode mode, const std::function<void(EmbeddedSpanStore&, Sent*)>& prepare,
           const std::function<void(EmbeddedSpanStore&)>& step,
           const std::function<void(EmbeddedSpanStore&, const Sent&)>& check) {
  int n = 1;
  for (; n < 400; ++n) {
    SCOPED_TRACE("fault at disk operation " + std::to_string(n) +
                 (mode == Mode::kCrash ? " (crash)" : " (fail)"));
    testing::TempDir dir;
    FaultInjectionEnv env;
    Sent sent;
    bool fired = false;
    {
      auto store = Open(Options(dir.path(), &env));
      ASSERT_NE(store, nullptr);
      prepare(*store, &sent);
      if (::testing::Test::HasFatalFailure()) return;
      if (mode == Mode::kCrash)
        env.CrashAt(n);
      else
        env.FailAt(n);
      step(*store);
      fired = env.fired();
      if (mode == Mode::kFail) {
        step(*store);  // the retry, with the disk healthy again
        check(*store, sent);
      }
    }  // a crashed store's Close does no I/O either
    auto reopened = Open(Options(dir.path(), nullptr));
    ASSERT_NE(reopened, nullptr);
    check(*reopened, sent);
    if (::testing::Test::HasFailure()) return;
    if (!fired) break;
  }
  EXPECT_GT(n, 3) << "the step made disk operations";
  std::printf("swept %d disk operations\n", n - 1);
}

void PrepareHeads(EmbeddedSpanStore& store, Sent* sent) {
  testing::RandomSpans gen(41);
  Append(store, gen, "prod", sent);
  Append(store, gen, "dev", sent);
  ASSERT_TRUE(store.Flush().ok());  // blocks and manifest edits exist before the step
  Append(store, gen, "prod", sent);
  Append(store, gen, "dev", sent);  // two heads: the step writes two blocks
}

void SealStep(EmbeddedSpanStore& store) { (void)store.Flush(); }

TEST(StoreCrashPropertyTest, SealFailingAtEveryDiskOperation) {
  g_retention = true;  // the heads hold 2025 spans: sealing must not run retention by itself
  Sweep(Mode::kFail, PrepareHeads, SealStep, ExpectExactly);
}

TEST(StoreCrashPropertyTest, SealCrashingAtEveryDiskOperation) {
  Sweep(Mode::kCrash, PrepareHeads, SealStep, ExpectExactly);
}

// Four small blocks of one (long past) window.
void PrepareSmallBlocks(EmbeddedSpanStore& store, Sent* sent) {
  testing::RandomSpans gen(42);
  for (int i = 0; i < 4; ++i) {
    Append(store, gen, "prod", sent);
    ASSERT_TRUE(store.Flush().ok());
  }
  ASSERT_EQ(store.Stats().blocks, 4u);
}

void MaintenanceStep(EmbeddedSpanStore& store) { (void)RunBlockMaintenance(&store); }

void ExpectExactlyAndCompactable(EmbeddedSpanStore& store, const Sent& sent) {
  ExpectExactly(store, sent);
  ASSERT_TRUE(RunBlockMaintenance(&store).ok());
  ExpectExactly(store, sent);
  EXPECT_EQ(store.Stats().blocks, 1u) << "the small blocks end up merged";
}

TEST(StoreCrashPropertyTest, CompactionFailingAtEveryDiskOperation) {
  g_retention = false;
  Sweep(Mode::kFail, PrepareSmallBlocks, MaintenanceStep, ExpectExactlyAndCompactable);
}

TEST(StoreCrashPropertyTest, CompactionCrashingAtEveryDiskOperation) {
  g_retention = false;
  Sweep(Mode::kCrash, PrepareSmallBlocks, MaintenanceStep, ExpectExactlyAndCompactable);
}

// Two blocks past the 30-day retention (the generator's default times are in 2025) and one recent.
Sent g_expired;
void PrepareOldAndNew(EmbeddedSpanStore& store, Sent* sent) {
  g_expired = Sent{};
  testing::RandomSpans old_gen(43);
  for (int i = 0; i < 2; ++i) {
    Append(store, old_gen, "prod", &g_expired);
    ASSERT_TRUE(store.Flush().ok());
  }
  testing::RandomSpanOptions recent;
  recent.base_time_unix_nano = NowNano() - 3600ULL * 1'000'000'000ULL;
  testing::RandomSpans gen(44, recent);
  Append(store, gen, "prod", sent);
  ASSERT_TRUE(store.Flush().ok());
}

void ExpectRetained(EmbeddedSpanStore& store, const Sent& sent) {
  for (const auto& [env, b] : sent.batches) ExpectAllTracesReadable(store, b, env);
  // Expired spans: each at most once, whatever step the fault stopped.
  uint64_t expired_left = 0;
  for (const auto& [env, b] : g_expired.batches) {
    Result<TraceResult> trace = store.GetTrace(b.spans[0].trace_id);
    if (trace.ok()) expired_left += b.spans.size();
  }
  EXPECT_EQ(TotalSpans(store), sent.spans() + expired_left);
  ASSERT_TRUE(RunBlockMaintenance(&store).ok());
  for (const auto& [env, b] : g_expired.batches)
    EXPECT_TRUE(store.GetTrace(b.spans[0].trace_id).status().IsNotFound());
  EXPECT_EQ(TotalSpans(store), sent.spans());
}

TEST(StoreCrashPropertyTest, RetentionFailingAtEveryDiskOperation) {
  g_retention = true;
  Sweep(Mode::kFail, PrepareOldAndNew, MaintenanceStep, ExpectRetained);
}

TEST(StoreCrashPropertyTest, RetentionCrashingAtEveryDiskOperation) {
  g_retention = true;
  Sweep(Mode::kCrash, PrepareOldAndNew, MaintenanceStep, ExpectRetained);
}

}  // namespace
}  // namespace ariadne::store::embedded
