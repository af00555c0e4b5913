// Block maintenance: retention and compaction of the embedded store's block files, on one
// background thread, every change through the manifest.
//
// Retention removes whole blocks, oldest first (by the end of their time range): those older than
// the retention of their environment, then while an environment's blocks exceed its max-disk, then
// while all blocks exceed the global max-disk. One manifest edit removes them, then the files are
// unlinked. What was removed is logged (environment, time range, spans, why) and counted.
//
// Compaction merges small blocks of one environment whose time ranges start in the same window
// (once that window has ended) into one larger block (rows sorted by trace id, through
// BlockBuilder::Seal and the public block encoder): the merged block is written and synced, then
// one manifest edit adds it and removes its inputs, then the inputs are unlinked. A crash at any
// step leaves either the inputs or the merged block named by the manifest, never both; the other is
// an orphan removed at open.
//
// Unlinks are deferred by `unlink_delay` so a query that picked a block just before it was removed
// can still read it; files not yet unlinked at a crash are orphans removed at open.
//
// Threads: the maintenance thread runs RetentionPass/CompactionPass; RunOnce may be called from a
// test thread instead (it takes the same lock). The host's ReplaceBlocks is called from either.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "columnar/block.h"
#include "common/env.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "store/embedded/manifest.h"

namespace ariadne::store::embedded {

// 0 means "no limit" for each field.
struct RetentionPolicy {
  uint64_t retention_nanos = 0;
  uint64_t max_disk_bytes = 0;
};

struct RetentionConfig {
  RetentionPolicy global;  // retention: default of every environment; max_disk: all blocks
  std::map<std::string, RetentionPolicy> environments;  // overrides per environment

  uint64_t RetentionOf(const std::string& environment) const;
  bool empty() const;
};

struct CompactionOptions {
  bool enabled = true;
  // Blocks with fewer spans are "small"; a merged block holds at most this many.
  uint64_t target_spans = 256 * 1024;
  // Blocks are merged only with blocks whose time range starts in the same window.
  uint64_t window_nanos = 3600ULL * 1'000'000'000ULL;
  // A window is merged once it ended this long ago (span time against the wall clock), so blocks
  // of the current hour are not merged again and again as new ones arrive.
  uint64_t settle_nanos = 600ULL * 1'000'000'000ULL;
  // Merge windows that have not settled yet, the current one included (`ariadne compact
  // --include-recent`, with no server writing: a server would merge the same window again as new
  // blocks arrive).
  bool merge_open_windows = false;
};

struct MaintenanceStats {
  uint64_t retention_blocks_removed = 0;
  uint64_t retention_spans_removed = 0;
  uint64_t retention_bytes_removed = 0;
  uint64_t compactions = 0;
  uint64_t compaction_input_blocks = 0;
  uint64_t compaction_bytes_in = 0;
  uint64_t compaction_bytes_out = 0;
  uint64_t failures = 0;
};

struct MaintenanceOptions {
  RetentionConfig retention;
  CompactionOptions compaction;
  std::chrono::milliseconds interval{30'000};
  std::chrono::milliseconds unlink_delay{30'000};
  // false: no thread (Start and Kick do nothing); passes run only through RunOnce (tests).
  bool background = true;
  // Write a trace-summary side file for each merged block (EmbeddedStoreOptions::trace_index).
  bool trace_summaries = false;
  // Called on the maintenance thread after each merge (progress of `ariadne compact`).
  std::function<void(const MaintenanceStats&)> on_compaction;
};

// A block file the host should start (added) serving.
struct NewBlockFile {
  columnar::BlockMeta meta;
  std::string path;
};

// The store side: swaps blocks in the in-memory block set after the manifest edit is durable.
class BlockSetHost {
 public:
  virtual ~BlockSetHost() = default;
  virtual void ReplaceBlocks(const std::vector<uint64_t>& removed,
                             std::vector<NewBlockFile> added) = 0;
  // Each listed block's bytes on disk now (block file and side file), by id. The manifest records
  // them as sealed; a side file rewritten since (an older version upgraded) has another size, and
  // retention's max-disk counts what is on disk. Blocks left out keep the manifest's figure.
  virtual std::unordered_map<uint64_t, uint64_t> BlockFileBytes() const { return {}; }
  // After retention's ReplaceBlocks, with no lock of the host held: the host may now refetch what
  // it kept about the removed blocks' spans (the trace index's split traces).
  virtual void AfterRetention() {}
};

// Pure planning (unit-testable). Ids of blocks retention removes, oldest first; `why` gets one
// reason per id.
std::vector<uint64_t> PlanRetention(const ManifestState& state, const RetentionConfig& config,
                                    uint64_t now_unix_nano, std::vector<std::string>* why);
// Ids of blocks to merge into one (empty: nothing worth merging).
std::vector<uint64_t> PlanCompaction(const ManifestState& state, const CompactionOptions& options,
                                     uint64_t now_unix_nano);

class BlockMaintenance {
 public:
  // `env`, `manifest` and `host` must outlive this object.
  BlockMaintenance(Env* env, std::string blocks_dir, Manifest* manifest, BlockSetHost* host,
                   MaintenanceOptions options);
  ~BlockMaintenance();

  void Start();
  // Stops the thread and unlinks every file whose removal is durable.
  void Stop();
  // Asks for a pass soon (after a seal).
  void Kick();
  // One retention pass and compaction until nothing is left to merge; unlinks what is due.
  Status RunOnce();

  MaintenanceStats stats() const;

 private:
  Status RetentionPass() ARIADNE_REQUIRES(run_mu_);
  // Merges one planned group; `*done` false when there was nothing to do.
  Status CompactOnce(bool* done) ARIADNE_REQUIRES(run_mu_);
  void ScheduleUnlink(const std::vector<uint64_t>& ids);
  void UnlinkDue(bool all);
  void Loop();

  Env* const env_;
  const std::string blocks_dir_;
  Manifest* const manifest_;
  BlockSetHost* const host_;
  const MaintenanceOptions options_;

  Mutex run_mu_;  // one pass at a time
  Mutex mu_;
  std::condition_variable_any cv_;
  bool stop_ ARIADNE_GUARDED_BY(mu_) = false;
  bool kicked_ ARIADNE_GUARDED_BY(mu_) = false;
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::string>> unlinks_
      ARIADNE_GUARDED_BY(mu_);
  // Blocks compaction could not read.
  std::vector<uint64_t> skip_ids_ ARIADNE_GUARDED_BY(run_mu_);
  std::thread thread_;

  mutable Mutex stats_mu_;
  MaintenanceStats stats_ ARIADNE_GUARDED_BY(stats_mu_);
};

}  // namespace ariadne::store::embedded
