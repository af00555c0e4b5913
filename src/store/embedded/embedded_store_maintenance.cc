// EmbeddedStore block-set changes from outside the write path (embedded_store_impl.h): blocks
// that retention removed or compaction merged (after their manifest edit is durable), section
// directories learnt on first read, and damaged block files moved into quarantine.
#include <algorithm>
#include <cstdio>

#include "store/embedded/embedded_store_impl.h"
#include "store/embedded/trace_summary_file.h"

namespace ariadne::store::embedded {

using columnar::BlockMeta;
using columnar::SectionInfo;

std::unordered_map<uint64_t, uint64_t> EmbeddedStore::BlockFileBytes() const {
  std::unordered_map<uint64_t, uint64_t> bytes;
  ReaderMutexLock lock(&state_mu_);
  for (const BlockEntry& entry : blocks_) bytes[entry.meta.id] = entry.meta.file_bytes;
  return bytes;
}

void EmbeddedStore::AfterRetention() {
  std::vector<RemovedWindow> windows;
  {
    WriterMutexLock lock(&state_mu_);
    windows.swap(removed_windows_);
  }
  for (const RemovedWindow& w : windows) {
    // Best effort: what is not refreshed here stays stale, and the next search of the window
    // refetches it.
    const uint64_t end = w.max_end == UINT64_MAX ? UINT64_MAX : w.max_end + 1;
    Status refreshed = RefreshTraceIndex(w.environment, w.min_start, end, nullptr);
    if (!refreshed.ok())
      std::fprintf(stderr, "ariadne: trace index after retention: %s\n",
                   refreshed.ToString().c_str());
  }
}

void EmbeddedStore::ReplaceBlocks(const std::vector<uint64_t>& removed,
                                  std::vector<NewBlockFile> added) {
  WriterMutexLock lock(&state_mu_);
  for (uint64_t id : removed) {
    auto it = std::find_if(blocks_.begin(), blocks_.end(),
                           [&](const BlockEntry& e) { return e.meta.id == id; });
    if (it == blocks_.end()) continue;  // quarantined meanwhile
    stats_block_bytes_ -= it->meta.file_bytes;
    stats_block_spans_ -= it->meta.num_rows;
    // Retention (nothing added): the traces that had spans there are refetched by the next read.
    if (added.empty()) {
      trace_index_.MarkStale(it->meta.environment, it->meta.min_start_unix_nano,
                             it->meta.max_end_unix_nano);
      if (options_.trace_index)
        removed_windows_.push_back(RemovedWindow{it->meta.environment, it->meta.min_start_unix_nano,
                                                 it->meta.max_end_unix_nano});
    }
    blocks_.erase(it);
    column_cache_.Erase(id);
    trace_index_.ForgetBlock(id);
  }
  for (NewBlockFile& block : added) {
    stats_block_bytes_ += block.meta.file_bytes;
    stats_block_spans_ += block.meta.num_rows;
    blocks_.push_back(BlockEntry{std::move(block.meta), std::move(block.path)});
  }
  blocks_count_ = blocks_.size();
}

void EmbeddedStore::RememberSections(uint64_t id, const std::vector<SectionInfo>& sections,
                                     uint32_t version) {
  WriterMutexLock lock(&state_mu_);
  for (BlockEntry& entry : blocks_) {
    if (entry.meta.id != id) continue;
    if (entry.meta.sections.empty()) {
      entry.meta.sections = sections;
      entry.meta.format_version = version;
    }
    return;
  }
}

void EmbeddedStore::QuarantineBlock(uint64_t id, const Status& why) {
  std::optional<BlockEntry> removed;
  {
    WriterMutexLock lock(&state_mu_);
    auto it = std::find_if(blocks_.begin(), blocks_.end(),
                           [&](const BlockEntry& e) { return e.meta.id == id; });
    if (it == blocks_.end()) return;  // another query got there first
    removed = std::move(*it);
    blocks_.erase(it);
    stats_block_bytes_ -= removed->meta.file_bytes;
    stats_block_spans_ -= removed->meta.num_rows;
    blocks_count_ = blocks_.size();
  }
  trace_index_.MarkStale(removed->meta.environment, removed->meta.min_start_unix_nano,
                         removed->meta.max_end_unix_nano);
  column_cache_.Erase(id);
  trace_index_.ForgetBlock(id);
  // Moved aside first, then out of the manifest: a crash in between leaves a manifest naming a
  // missing file, which open reports and drops. Had the edit come first, the file would be an
  // orphan at the next open and deleted instead of kept for inspection. A file that could not be
  // moved stays named, so the next open serves (and quarantines) it again.
  if (!QuarantineBlockFile(removed->path, &removed->meta, why)) return;
  VersionEdit edit;
  edit.removed.push_back(id);
  Status recorded = manifest_->Apply(edit);
  if (!recorded.ok())
    std::fprintf(stderr,
                 "ariadne: could not record in the manifest that block %s was quarantined (%s); "
                 "the next open notices the file is gone and drops it\n",
                 BlockFileName(id).c_str(), recorded.ToString().c_str());
}

bool EmbeddedStore::QuarantineBlockFile(const std::string& path, const BlockMeta* meta,
                                        const Status& why) {
  blocks_quarantined_++;
  (void)env_->RemoveFile(TraceSummaryPath(path));  // derived from the block; open drops orphans
  Result<std::string> moved = quarantine_.MoveIn(path);
  std::string what = "its contents are unknown (the meta is damaged)";
  if (meta != nullptr)
    what = std::to_string(meta->num_rows) + " spans of environment \"" + meta->environment +
           "\" from " + std::to_string(meta->min_start_unix_nano) + " to " +
           std::to_string(meta->max_end_unix_nano) + " (Unix ns) are no longer queryable";
  std::fprintf(stderr, "ariadne: block file %s is damaged (%s): %s; %s\n", path.c_str(),
               why.ToString().c_str(),
               moved.ok() ? ("moved to " + *moved).c_str()
                          : ("could not move it aside: " + moved.status().ToString()).c_str(),
               what.c_str());
  return moved.ok();
}

}  // namespace ariadne::store::embedded
