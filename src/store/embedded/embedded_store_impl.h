// EmbeddedStore, the SpanStore of embedded_store.h, declared for the files that implement it (not
// for other users; they call OpenEmbeddedStore). One class, five files, one job each:
//
//   embedded_store.cc              open (block set, WAL replay), close, stats, the factory
//   embedded_store_write.cc        appends: queue, group commit to the WAL, heads, sealing to
//                                  blocks
//   embedded_store_read.cc         queries: trace search, aggregations, columns, services;
//                                  loading block columns through the column cache
//   embedded_store_traces.cc       whole traces by id (rows of one trace, not whole blocks)
//   embedded_store_maintenance.cc  changes to the block set from outside the write path: blocks
//                                  retention and compaction replaced, damaged blocks quarantined
//
// Threads: every public method may be called concurrently. The store runs a group-commit thread,
// a seal thread and a maintenance thread. Locks: queue_mu_ (the append queue and flush tickets),
// seal_mu_ (the seal job), state_mu_ (heads, sealing heads, the block set and the service graph;
// readers share it); the column cache and the manifest lock themselves. Which thread owns the
// remaining members is stated beside each.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "columnar/block.h"
#include "common/env.h"
#include "common/thread_annotations.h"
#include "store/embedded/block_maintenance.h"
#include "store/embedded/column_cache.h"
#include "store/embedded/embedded_store.h"
#include "store/embedded/manifest.h"
#include "store/embedded/quarantine.h"
#include "store/embedded/seal_writer.h"
#include "store/embedded/trace_index.h"
#include "store/embedded/wal_log.h"
#include "store/service_graph.h"
#include "store/span_store.h"

namespace ariadne::store::embedded {

// An append waiting for the group commit.
struct PendingAppend {
  std::string environment;
  model::SpanBatch batch;
  std::string framed;  // the WAL record, encoded by the caller's thread
  SpanStore::AppendCallback done;
};

// A sealed block of the block set: its meta and file.
struct BlockEntry {
  columnar::BlockMeta meta;
  std::string path;
};

class EmbeddedStore final : public EmbeddedSpanStore, public BlockSetHost {
 public:
  explicit EmbeddedStore(EmbeddedStoreOptions options)
      : options_(WithEnv(std::move(options))),
        env_(options_.env),
        quarantine_(options_.env, options_.data_dir),
        wal_(options_.env, options_.data_dir + "/wal"),
        graph_(ServiceGraphBuilder::Options{options_.graph_pairing_window_nano,
                                            options_.graph_max_unpaired}),
        column_cache_(options_.column_cache_bytes) {
    wal_dir_ = options_.data_dir + "/wal";
    blocks_dir_ = options_.data_dir + "/blocks";
  }

  ~EmbeddedStore() override { (void)Close(); }

  Status Open();

  // Finds the manifest (upgrading a checkpoint-era directory), removes orphans, restores the
  // service map and reads the meta of every block the manifest names.
  Status OpenBlockSet();

  // The one place Open reads a block file's meta.
  // Footer, meta and section directory only (positional reads; the column sections stay unread).
  static Result<columnar::BlockMeta> ReadMetaOfBlockFile(Env* env, const std::string& path) {
    return columnar::ReadBlockMeta(env, path);
  }

  void AppendAsync(std::string environment, model::SpanBatch batch, AppendCallback done) override;

  Result<TraceResult> GetTrace(const model::TraceId& id, std::string_view environment) override;

  Status ForEachTrace(uint64_t start_unix_nano, uint64_t end_unix_nano,
                      std::string_view environment,
                      const std::function<bool(const TraceResult&)>& visit) override;

  Result<query::QueryResult> RunQuery(const query::QuerySpec& spec,
                                      const query::ExecContext& context) override;

  Result<std::vector<TraceSummary>> SearchTraces(const TraceSearchRequest& request,
                                                 const query::ExecContext& context) override;

  // Answered by the trace-summary index (trace_index.h) after refreshing its stale traces of the
  // window; span filters are answered by scanning the candidate blocks' columns they need.
  Result<TracePage> SearchTracePage(const TracePageRequest& request,
                                    const query::ExecContext& context) override;

  Result<query::BubbleUpCounts> ScanBubbleUp(const query::BubbleUpRequest& request,
                                             const query::ExecContext& context) override;

  Result<std::vector<ColumnInfo>> ListColumns(std::string_view environment,
                                              uint64_t start_unix_nano,
                                              uint64_t end_unix_nano) override;

  Result<ServiceGraph> GetServiceGraph(std::string_view environment, uint64_t start_unix_nano,
                                       uint64_t end_unix_nano) override;

  Result<std::vector<ServiceSummary>> ListServices(std::string_view environment) override;

  Status Flush() override;

  Status Close() override;

  StoreStats Stats() const override;

  uint64_t replayed_records() const { return replayed_records_; }

  // What the trace-summary index holds (docs/PERFORMANCE.md).
  size_t trace_index_bytes() const { return trace_index_.bytes(); }
  size_t trace_index_traces() const { return trace_index_.traces(); }

  Status RunMaintenance() { return maintenance_->RunOnce(); }

  // BlockSetHost: called by maintenance after its manifest edit is durable.
  void ReplaceBlocks(const std::vector<uint64_t>& removed,
                     std::vector<NewBlockFile> added) override;
  std::unordered_map<uint64_t, uint64_t> BlockFileBytes() const override;
  // Refetches the stale traces of the windows retention removed: those gone leave the index, and
  // split ones leave the persisted list at the next seal, without waiting for a search there.
  void AfterRetention() override;

 private:
  static uint64_t WallClockNano() {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  }

  static EmbeddedStoreOptions WithEnv(EmbeddedStoreOptions options) {
    if (options.env == nullptr) options.env = Env::Default();
    return options;
  }

  // Replays one WAL segment into the heads; true when it held no record. REQUIRES: during Open.
  Result<bool> ReplaySegment(const std::string& path);

  // REQUIRES: called by the commit thread, or during Open before it starts.
  void ApplyToHead(const std::string& environment, const model::SpanBatch& batch);

  void CommitLoop();

  void CommitGroup(std::vector<PendingAppend>* work, std::string* framed);

  // Every readable head: the live ones and those being sealed.
  std::vector<std::pair<std::string_view, const columnar::BlockBuilder*>> AllHeads() const
      ARIADNE_REQUIRES_SHARED(state_mu_);

  // Hands the live heads to the seal thread (rotating the WAL so that the sealed spans are exactly
  // the closed segments) unless a seal is still running. Returns false when nothing was started.
  // REQUIRES: commit thread.
  bool StartSeal();

  // Blocks until no seal is running; returns the last seal's status.
  Status WaitForSeal();

  void SealLoop();

  // Writes the sealing heads as block files (those a failed attempt did not write yet), the
  // service-map snapshot, then ONE manifest edit adding the blocks with the WAL segment they cover;
  // then makes the blocks visible and retires the covered WAL segments. REQUIRES: seal thread.
  Status Seal(SealJob* job);

  // What a reader needs of a block entry: its id, environment, rows, time range, path, section
  // directory, pre-aggregates and the attribute keys its resources carry (not the bloom filter,
  // statistics or span keys, which stay with the block set).
  static BlockEntry ReadRef(const BlockEntry& entry);

  // Sealed blocks that may hold rows of `spec`: environment, time window, dataset, then the
  // filters against each block's column statistics (query/exec/block_pruning.h). `skipped` counts
  // the blocks left out for any reason but the environment.
  std::vector<BlockEntry> CandidateBlocks(const query::QuerySpec& spec, uint64_t* skipped);

  // Columns `needed` of a sealed block: from the column cache, else read from its file (only those
  // sections). A block whose file fails its checksums is quarantined and reads as empty, so the
  // caller's answer comes from the other blocks. With keep false a miss is not cached.
  Result<std::shared_ptr<const columnar::Block>> LoadBlock(const BlockEntry& entry,
                                                           const columnar::ColumnSet& needed,
                                                           bool keep = true);
  // LoadBlock without assembling one Block: the parts as the cache holds them (trace_rows.h reads
  // a few rows from them). A damaged block is quarantined and reads as parts of no rows.
  Result<BlockColumnParts> LoadParts(const BlockEntry& entry, const columnar::ColumnSet& needed);
  // What LoadBlock and LoadParts read a block's missing columns with. `entry` must outlive it.
  ColumnCache::Loader ColumnsOf(const BlockEntry& entry);
  // A failed load: kDataLoss quarantines the block and is Ok (the caller reads it as empty);
  // other errors are returned with the block's path.
  Status LoadFailed(const BlockEntry& entry, const Status& status);
  // Sealed blocks whose bloom filter may hold trace `id` (of `environment` unless empty), and
  // the spans of the trace in the heads appended to `result`. Takes the state lock.
  std::vector<BlockEntry> TraceCandidates(const model::TraceId& id, std::string_view environment,
                                          TraceResult* result);
  // Appends the spans of trace `id` in sealed block `entry` to `result` (nothing when the block
  // has none): the trace-id column says whether the bloom filter was right, then only the trace's
  // rows are read from the block's column parts (trace_rows.h).
  Status ReadTraceOfBlock(const BlockEntry& entry, const model::TraceId& id, TraceResult* result);

  // Queries and scans read their candidate blocks on the machine's two cores: the caller's thread
  // and a helper of the process's scan pool (query/exec/scan_pool.h; no thread per query) take the
  // next block as each becomes free; `consume(worker, block)` is called on the worker's thread
  // (worker < kScanWorkers), so each worker keeps its own accumulator. `columns_of(entry)` names
  // the columns read of each block. The first error stops the scan and is returned once the
  // running calls are done.
  static constexpr size_t kScanWorkers = 2;
  Status ScanBlocks(const std::vector<BlockEntry>& candidates,
                    const std::function<columnar::ColumnSet(const BlockEntry&)>& columns_of,
                    const std::function<Status(size_t, const columnar::Block&)>& consume);

  // Stores the section directory of block `id` in the block set (read once, on first use).
  void RememberSections(uint64_t id, const std::vector<columnar::SectionInfo>& sections,
                        uint32_t version);

  // Removes block `id` from the block set (when it is still there), quarantines its file and,
  // once the file is moved, removes the block from the manifest (one edit), so the next open
  // neither looks for it nor reports it missing.
  void QuarantineBlock(uint64_t id, const Status& why);

  // Moves a damaged block file into quarantine/ and says what became unreadable; true when the
  // file was moved. `meta` is null when the block's meta itself is unreadable.
  bool QuarantineBlockFile(const std::string& path, const columnar::BlockMeta* meta,
                           const Status& why);

  static void SortByStartTime(TraceResult* result);

  // Open: loads the persisted split list (no side file is read), or, for a store written before
  // it (or whose list is lost), decides every block's parts from their side files first
  // (ConvertTraceIndex). Blocks whose side file is missing are summarized from their columns and
  // their traces made split.
  Status BuildTraceIndex();
  // Reads every block's side file (or summarizes the block), flags each part whole when its block
  // holds all the trace's sealed spans, rewrites the side files as version 3 and writes the split
  // list.
  Status ConvertTraceIndex(const std::vector<BlockEntry>& blocks);
  // Removes side files whose block is not in `blocks` (a seal or compaction that failed after
  // writing one); answers the blocks of `blocks` that have no side file.
  std::vector<BlockEntry> RemoveOrphanSummaryFiles(const std::vector<BlockEntry>& blocks);
  // The side file of a block by id (TraceIndex::PartLoader).
  Result<TraceSummaryParts> LoadBlockParts(uint64_t block);
  // For the seal (seal_writer.h) and side files rebuilt from columns: whether some sealed block of
  // `environment` other than `exclude` holds a span of each trace (bloom filter, then the block's
  // trace-id column; a block that cannot be read answers yes, the safe side).
  std::vector<uint8_t> HaveSealedSpans(const std::string& environment,
                                       const std::vector<model::TraceId>& ids,
                                       uint64_t exclude = 0);
  // A block's parts from its columns, flagged whole unless another block holds the trace, written
  // as its side file (best effort).
  Result<TraceSummaryParts> RebuildSideFile(const BlockEntry& entry);
  // Writes a listed block's side file again and keeps the block's bytes (its entry, /metrics,
  // BlockFileBytes) equal to what is on disk: an upgraded side file is larger than the one sealed.
  Result<uint64_t> RewriteSideFile(const BlockEntry& entry, const std::vector<TraceSummary>& parts,
                                   const std::vector<uint8_t>& whole,
                                   uint64_t version = kTraceSummaryVersion)
      ARIADNE_EXCLUDES(state_mu_);
  // The sealed blocks as the trace index's search sees them.
  std::vector<TraceIndex::SearchBlock> SearchBlocks();

  // Refetches the index's stale traces whose spans may lie in the window.
  Status RefreshTraceIndex(std::string_view environment, uint64_t start_unix_nano,
                           uint64_t end_unix_nano, const CancelFlagPtr& cancel);

  // The traces with a span in the window that passes every filter (SearchTraces' rule).
  Result<TraceIndex::TraceIdSet> TracesWithMatchingSpan(const query::QuerySpec& spec,
                                                        const query::ExecContext& context);

  const EmbeddedStoreOptions options_;
  Env* const env_;  // options_.env, never null
  Quarantine quarantine_;
  std::string wal_dir_;
  std::string blocks_dir_;
  int lock_fd_ = -1;

  mutable Mutex queue_mu_;
  std::condition_variable_any queue_cv_;
  std::condition_variable_any flush_done_cv_;
  std::deque<PendingAppend> queue_ ARIADNE_GUARDED_BY(queue_mu_);
  size_t queued_spans_ ARIADNE_GUARDED_BY(queue_mu_) = 0;
  bool closed_ ARIADNE_GUARDED_BY(queue_mu_) = false;
  // Set by the seal thread when it finishes.
  bool seal_finished_recheck_ ARIADNE_GUARDED_BY(queue_mu_) = false;
  uint64_t flush_requested_ ARIADNE_GUARDED_BY(queue_mu_) = 0;
  uint64_t flush_completed_ ARIADNE_GUARDED_BY(queue_mu_) = 0;
  uint64_t flush_completed_snapshot_ = 0;  // commit thread's copy
  Status flush_status_;
  Status close_status_;
  std::thread commit_thread_;
  WalLog wal_;                                     // commit thread only (and Open/Close)
  uint64_t last_seal_ = 0;                         // commit thread only (and Open)
  std::unique_ptr<Manifest> manifest_;             // set by Open; safe for concurrent use
  std::unique_ptr<BlockMaintenance> maintenance_;  // set by Open

  mutable SharedMutex state_mu_;
  std::map<std::string, std::unique_ptr<columnar::BlockBuilder>> heads_
      ARIADNE_GUARDED_BY(state_mu_);
  // Heads handed to the seal thread: immutable, still readable until their blocks are in blocks_.
  std::vector<std::pair<std::string, std::unique_ptr<columnar::BlockBuilder>>> sealing_heads_
      ARIADNE_GUARDED_BY(state_mu_);
  std::vector<BlockEntry> blocks_ ARIADNE_GUARDED_BY(state_mu_);
  // Windows of blocks retention removed, for AfterRetention: environment, min start, max end.
  struct RemovedWindow {
    std::string environment;
    uint64_t min_start = 0;
    uint64_t max_end = 0;
  };
  std::vector<RemovedWindow> removed_windows_ ARIADNE_GUARDED_BY(state_mu_);
  ServiceGraphBuilder graph_ ARIADNE_GUARDED_BY(state_mu_);

  ColumnCache column_cache_;
  TraceIndex trace_index_;  // locks itself
  std::atomic<uint64_t> blocks_pruned_{0};

  std::atomic<uint64_t> spans_appended_{0};
  std::atomic<uint64_t> batches_appended_{0};
  std::atomic<uint64_t> append_errors_{0};
  // Appends refused for backpressure (503), by reason; each is also an append error.
  std::atomic<uint64_t> refused_behind_{0};      // too many spans wait for the group commit
  std::atomic<uint64_t> refused_sealing_{0};     // a head seals and the next one is full
  std::atomic<uint64_t> refused_wal_buffer_{0};  // WAL records past their memory share
  std::atomic<uint64_t> wal_bytes_{0};
  // Memory of the WAL's copies of the spans: the framed records of appends waiting for the group
  // commit, and the commit thread's concatenation buffer (its capacity).
  std::atomic<uint64_t> wal_buffer_bytes_{0};
  std::atomic<uint64_t> commit_buffer_bytes_{0};
  std::atomic<uint64_t> wal_syncs_{0};
  std::atomic<uint64_t> head_spans_{0};
  std::atomic<uint64_t> sealing_spans_{0};
  std::atomic<uint64_t> seal_copy_bytes_{0};  // the seal's sorted copies and file (WriteSeal)

  // The seal thread. One job at a time; a failed job stays pending and is retried.
  std::thread seal_thread_;
  Mutex seal_mu_;
  std::condition_variable_any seal_cv_;
  std::optional<SealJob> seal_job_ ARIADNE_GUARDED_BY(seal_mu_);
  bool seal_running_ ARIADNE_GUARDED_BY(seal_mu_) = false;
  // The trace split list is on disk (open wrote or read it); touched by open, then the seal thread.
  bool split_list_written_ = false;
  // trace_index_.split_drops() when the list was last written (the seal thread's).
  uint64_t split_drops_written_ = 0;
  // Open could not rewrite every older side file: the list is not written this run.
  bool split_list_blocked_ = false;
  bool seal_stop_ ARIADNE_GUARDED_BY(seal_mu_) = false;
  uint64_t seals_finished_ ARIADNE_GUARDED_BY(seal_mu_) = 0;
  Status last_seal_status_ ARIADNE_GUARDED_BY(seal_mu_);
  std::atomic<uint64_t> blocks_count_{0};
  std::atomic<uint64_t> stats_block_bytes_{0};
  std::atomic<uint64_t> stats_block_spans_{0};
  uint64_t replayed_records_ = 0;
  std::atomic<uint64_t> orphans_removed_{0};
  std::atomic<uint64_t> wal_corrupt_records_{0};
  std::atomic<uint64_t> wal_skipped_bytes_{0};
  std::atomic<uint64_t> wal_skipped_spans_{0};
  std::atomic<uint64_t> blocks_quarantined_{0};
};

}  // namespace ariadne::store::embedded
