// EmbeddedStore lifecycle (embedded_store_impl.h): Open (the block set from the manifest, WAL
// replay, the threads), Close, Stats, and the factory of embedded_store.h.
#include "store/embedded/embedded_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "store/embedded/block_set_recovery.h"
#include "store/embedded/embedded_store_impl.h"
#include "store/embedded/trace_summary_file.h"
#include "store/embedded/wal.h"
#include "store/embedded/wal_replay.h"

namespace ariadne::store::embedded {

using columnar::ApproximateBytes;
using columnar::BlockMeta;

Status EmbeddedStore::Open() {
  Status created = env_->CreateDir(wal_dir_);
  if (created.ok()) created = env_->CreateDir(blocks_dir_);
  if (!created.ok())
    return created.WithContext("cannot create data directory " + options_.data_dir +
                               " (check the path and its permissions)");
  lock_fd_ = ::open((options_.data_dir + "/LOCK").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0 || ::lockf(lock_fd_, F_TLOCK, 0) != 0)
    return Status::FailedPrecondition("data directory " + options_.data_dir +
                                      " is in use by another ariadne process; stop it or "
                                      "choose another --data-dir");

  ARIADNE_RETURN_IF_ERROR(OpenBlockSet());

  // Replay the WAL segments the blocks do not cover. A segment without a record (the one the
  // last run opened and never wrote to) is removed, so restarts do not pile up empty files.
  const uint64_t covered = manifest_->state().covered_segment;
  ARIADNE_ASSIGN_OR_RETURN(std::vector<uint64_t> segments, ListWalSegments(env_, wal_dir_));
  uint64_t last_segment = covered;
  for (uint64_t segment : segments) {
    std::string path = WalSegmentPath(wal_dir_, segment);
    if (segment <= covered) {
      (void)env_->RemoveFile(path);
      continue;
    }
    ARIADNE_ASSIGN_OR_RETURN(bool empty, ReplaySegment(path));
    if (empty && env_->RemoveFile(path).ok()) continue;
    last_segment = std::max(last_segment, segment);
  }
  if (options_.trace_index) {
    // Without a memory limit the decoded side files still get a bound (they are re-read when
    // evicted): the sealed data's summaries are never all resident.
    constexpr uint64_t kDefaultSideFileCache = uint64_t{256} << 20;
    trace_index_.SetSummaryBudget(static_cast<size_t>(options_.trace_summary_bytes == UINT64_MAX
                                                          ? kDefaultSideFileCache
                                                          : options_.trace_summary_bytes),
                                  [this](uint64_t block) { return LoadBlockParts(block); });
    if (options_.trace_block_digests) {
      trace_index_.SetDigestLoader([this](uint64_t block) {
        return ReadTraceBlockDigest(env_, blocks_dir_ + "/" + BlockFileName(block));
      });
    }
    ARIADNE_RETURN_IF_ERROR(BuildTraceIndex());
  }
  ARIADNE_RETURN_IF_ERROR(wal_.Start(last_segment + 1));
  MaintenanceOptions maintenance = options_.maintenance;
  maintenance.trace_summaries = options_.trace_index;
  maintenance_ =
      std::make_unique<BlockMaintenance>(env_, blocks_dir_, manifest_.get(), this, maintenance);
  maintenance_->Start();
  maintenance_->Kick();
  seal_thread_ = std::thread([this] { SealLoop(); });
  commit_thread_ = std::thread([this] { CommitLoop(); });
  return Status::Ok();
}

Status EmbeddedStore::OpenBlockSet() {
  BlockSetRecoveryOptions recovery;
  recovery.env = env_;
  recovery.data_dir = options_.data_dir;
  recovery.blocks_dir = blocks_dir_;
  recovery.recover = options_.recover_manifest;
  recovery.read_meta = [this](const std::string& path) { return ReadMetaOfBlockFile(env_, path); };
  ARIADNE_ASSIGN_OR_RETURN(RecoveredBlockSet recovered, RecoverBlockSet(recovery));
  manifest_ = std::move(recovered.manifest);
  orphans_removed_ += recovered.orphans_removed;
  for (const auto& [path, why] : recovered.damaged) QuarantineBlockFile(path, nullptr, why);
  for (const BlockRecord& r : recovered.missing)
    std::fprintf(stderr,
                 "ariadne: block file %s named by the manifest is missing (moved to quarantine/ "
                 "or deleted by hand?): %llu spans of environment \"%s\" are no longer "
                 "queryable; the manifest no longer names it\n",
                 (blocks_dir_ + "/" + BlockFileName(r.id)).c_str(),
                 static_cast<unsigned long long>(r.num_rows), r.environment.c_str());
  const uint64_t seal = manifest_->state().seal;
  last_seal_ = seal;
  if (seal > 0) {
    Result<std::string> snapshot = env_->ReadFile(ServiceGraphPath(options_.data_dir, seal));
    if (snapshot.ok()) {
      WriterMutexLock lock(&state_mu_);  // uncontended: open runs before every other thread
      Status restored = graph_.Restore(*snapshot);
      if (!restored.ok())
        std::fprintf(stderr, "ariadne: %s; the service map restarts empty\n",
                     restored.ToString().c_str());
    }
  }
  VersionEdit damaged;
  for (const BlockRecord& record : recovered.present) {
    const std::string path = blocks_dir_ + "/" + BlockFileName(record.id);
    Result<BlockMeta> meta = ReadMetaOfBlockFile(env_, path);
    if (!meta.ok()) {
      if (meta.status().code() != StatusCode::kDataLoss) return meta.status().WithContext(path);
      QuarantineBlockFile(path, nullptr, meta.status());
      damaged.removed.push_back(record.id);
      continue;
    }
    meta->id = record.id;
    // With its trace-summary side file, as the seal and compaction counted it.
    if (options_.trace_index) meta->file_bytes += TraceSummaryFileBytes(env_, path);
    stats_block_bytes_ += meta->file_bytes;
    stats_block_spans_ += meta->num_rows;
    WriterMutexLock lock(&state_mu_);
    blocks_.push_back(BlockEntry{std::move(*meta), path});
    blocks_count_ = blocks_.size();
  }
  if (!damaged.removed.empty()) ARIADNE_RETURN_IF_ERROR(manifest_->Apply(damaged));
  return Status::Ok();
}

Result<bool> EmbeddedStore::ReplaySegment(const std::string& path) {
  ARIADNE_ASSIGN_OR_RETURN(
      WalReplayCounts counts,
      ReplayWalSegment(env_, &quarantine_, path,
                       [this](std::string_view environment, const model::SpanBatch& batch) {
                         ApplyToHead(std::string(environment), batch);
                       }));
  replayed_records_ += counts.records;
  wal_corrupt_records_ += counts.corrupt_records;
  wal_skipped_bytes_ += counts.skipped_bytes;
  wal_skipped_spans_ += counts.skipped_spans;
  return counts.empty;
}

Status EmbeddedStore::Close() {
  {
    MutexLock lock(&queue_mu_);
    if (closed_) return close_status_;
    closed_ = true;
    ++flush_requested_;
  }
  // No retention or compaction pass starts during shutdown; the next open runs one.
  if (maintenance_) maintenance_->Stop();
  queue_cv_.notify_one();
  if (commit_thread_.joinable()) commit_thread_.join();
  {
    MutexLock lock(&seal_mu_);
    seal_stop_ = true;
  }
  seal_cv_.notify_all();
  if (seal_thread_.joinable()) seal_thread_.join();
  close_status_ = wal_.Close();
  if (!flush_status_.ok()) close_status_ = flush_status_;
  if (lock_fd_ >= 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
  }
  return close_status_;
}

StoreStats EmbeddedStore::Stats() const {
  StoreStats s;
  s.spans_appended = spans_appended_;
  s.batches_appended = batches_appended_;
  s.append_errors = append_errors_;
  s.wal_bytes = wal_bytes_;
  s.wal_syncs = wal_syncs_;
  s.wal_buffer_bytes = wal_buffer_bytes_ + commit_buffer_bytes_;
  s.head_spans = head_spans_ + sealing_spans_;
  s.blocks = blocks_count_;
  s.block_bytes = stats_block_bytes_;
  s.block_spans = stats_block_spans_;
  s.wal_write_failures = wal_.write_failures();
  s.wal_corrupt_records = wal_corrupt_records_;
  s.wal_skipped_bytes = wal_skipped_bytes_;
  s.wal_skipped_spans = wal_skipped_spans_;
  s.blocks_quarantined = blocks_quarantined_;
  const ColumnCacheStats cache = column_cache_.Stats();
  s.column_cache_hits = cache.hits;
  s.column_cache_misses = cache.misses;
  s.column_cache_bytes = cache.bytes;
  s.column_cache_capacity_bytes = cache.capacity_bytes;
  s.column_cache_evictions = cache.evictions;
  s.column_cache_rejected = cache.rejected;
  s.trace_summary_bytes = trace_index_.summary_bytes();
  s.trace_summary_loads = trace_index_.summary_loads();
  s.trace_summary_blocks_skipped = trace_index_.blocks_skipped();
  s.trace_index_resident = trace_index_.traces();
  s.trace_index_split = trace_index_.split_traces();
  s.blocks_pruned = blocks_pruned_;
  {
    ReaderMutexLock lock(&state_mu_);
    for (const auto& [env, head] : AllHeads()) s.head_bytes += ApproximateBytes(head->block());
  }
  s.head_bytes += seal_copy_bytes_;
  s.appends_refused_behind = refused_behind_;
  s.appends_refused_sealing = refused_sealing_;
  s.appends_refused_wal_buffer = refused_wal_buffer_;
  s.orphan_blocks_removed = orphans_removed_;
  if (maintenance_) {
    MaintenanceStats m = maintenance_->stats();
    s.retention_blocks_removed = m.retention_blocks_removed;
    s.retention_spans_removed = m.retention_spans_removed;
    s.retention_bytes_removed = m.retention_bytes_removed;
    s.compactions = m.compactions;
    s.compaction_input_blocks = m.compaction_input_blocks;
  }
  {
    MutexLock lock(&queue_mu_);
    s.pending_appends = queued_spans_;
  }
  return s;
}

Status RunBlockMaintenance(SpanStore* store) {
  auto* embedded = dynamic_cast<EmbeddedStore*>(store);
  if (embedded == nullptr) return Status::InvalidArgument("not an embedded store");
  return embedded->RunMaintenance();
}

Result<std::unique_ptr<EmbeddedSpanStore>> OpenEmbeddedStore(const EmbeddedStoreOptions& options) {
  if (options.data_dir.empty())
    return Status::InvalidArgument("the embedded store needs a data directory (--data-dir)");
  auto store = std::make_unique<EmbeddedStore>(options);
  ARIADNE_RETURN_IF_ERROR(store->Open());
  return std::unique_ptr<EmbeddedSpanStore>(std::move(store));
}

}  // namespace ariadne::store::embedded
