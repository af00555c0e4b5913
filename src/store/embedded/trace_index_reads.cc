// EmbeddedStore's side of the trace-summary index (trace_index.h, embedded_store_impl.h): building
// it at open from the blocks' persisted summaries (trace_summary_file.h), summarizing heads,
// refreshing stale traces before a read, and SearchTracePage.
#include <cstdio>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "query/exec/column_needs.h"
#include "query/exec/executor.h"
#include "store/embedded/embedded_store_impl.h"
#include "store/embedded/trace_split_file.h"
#include "store/embedded/trace_summary_file.h"

namespace ariadne::store::embedded {
using columnar::Block;
using columnar::ColumnSet;

Status EmbeddedStore::BuildTraceIndex() {
  // Open runs alone: no other thread touches the block set or the heads yet.
  std::vector<BlockEntry> blocks;
  {
    ReaderMutexLock lock(&state_mu_);
    for (const BlockEntry& entry : blocks_) blocks.push_back(ReadRef(entry));
  }
  const std::vector<BlockEntry> without_side_file = RemoveOrphanSummaryFiles(blocks);
  Result<std::vector<SplitTrace>> splits = ReadTraceSplitFile(env_, options_.data_dir);
  if (!splits.ok()) {
    if (!splits.status().IsNotFound())
      std::fprintf(stderr, "ariadne: trace index: %s; deciding it again from the side files\n",
                   splits.status().ToString().c_str());
    return ConvertTraceIndex(blocks);
  }
  // The usual open: the split list is all the index needs; no side file is read.
  trace_index_.LoadSplits(*splits);
  split_list_written_ = true;
  for (const BlockEntry& entry : without_side_file) {
    std::fprintf(stderr, "ariadne: trace index: %s has no side file; rebuilding it\n",
                 entry.path.c_str());
    (void)RebuildSideFile(entry);
  }
  return Status::Ok();
}

Status EmbeddedStore::ConvertTraceIndex(const std::vector<BlockEntry>& blocks) {
  // A store written before the split list (side files of version 1 or 2, no `whole` flags) or
  // whose list was lost. Two passes over the side files: count every trace's sealed spans and
  // blocks, then flag each part whole when its block holds all of them and rewrite the side file.
  struct Seen {
    uint64_t spans = 0;
    uint32_t blocks = 0;
    uint64_t start = UINT64_MAX;
    uint64_t last_start = 0;
  };
  using SeenKey = std::pair<std::string, model::TraceId>;
  struct SeenHash {
    size_t operator()(const SeenKey& k) const {
      return model::TraceIdHash{}(k.second) ^ std::hash<std::string>{}(k.first);
    }
  };
  std::unordered_map<SeenKey, Seen, SeenHash> seen;
  auto read_parts = [&](const BlockEntry& entry) -> Result<TraceSummaryParts> {
    Result<TraceSummaryParts> parts = ReadTraceSummaryParts(env_, entry.path);
    if (parts.ok()) return parts;
    if (!parts.status().IsNotFound())
      std::fprintf(stderr, "ariadne: trace index: %s; rebuilding it from the block\n",
                   parts.status().ToString().c_str());
    // From the columns, written now (unflagged) so the second pass reads it like the others.
    Result<std::shared_ptr<const Block>> block =
        entry.meta.sections.empty()
            ? Result<std::shared_ptr<const Block>>(Status::NotFound("no section directory"))
            : ReadBlockColumns(env_, entry.path, entry.meta, ColumnSet::All());
    if (!block.ok()) {
      // Left alone here: the first query that reads it quarantines it.
      std::fprintf(stderr, "ariadne: trace index: skipping block %s: %s\n", entry.path.c_str(),
                   block.status().ToString().c_str());
      return block.status();
    }
    TraceSummaryParts rebuilt;
    rebuilt.parts = SummarizeBlockTraces(entry.meta.environment, **block);
    rebuilt.whole.assign(rebuilt.parts.size(), 0);
    (void)RewriteSideFile(entry, rebuilt.parts, rebuilt.whole);
    return rebuilt;
  };
  std::vector<uint8_t> readable(blocks.size(), 0);
  for (size_t b = 0; b < blocks.size(); ++b) {
    Result<TraceSummaryParts> parts = read_parts(blocks[b]);
    if (!parts.ok()) continue;
    readable[b] = 1;
    for (const TraceSummary& part : parts->parts) {
      Seen& s = seen[SeenKey{blocks[b].meta.environment, part.trace_id}];
      s.spans += part.span_count;
      ++s.blocks;
      s.start = std::min(s.start, part.start_unix_nano);
      s.last_start = std::max(s.last_start, part.last_span_start_unix_nano);
    }
  }
  for (size_t b = 0; b < blocks.size(); ++b) {
    if (!readable[b]) continue;
    Result<TraceSummaryParts> parts = ReadTraceSummaryParts(env_, blocks[b].path);
    if (!parts.ok()) continue;
    std::vector<uint8_t> whole(parts->parts.size(), 0);
    for (size_t i = 0; i < parts->parts.size(); ++i) {
      const Seen& s = seen[SeenKey{blocks[b].meta.environment, parts->parts[i].trace_id}];
      whole[i] = s.blocks == 1 && s.spans == parts->parts[i].span_count;
    }
    if (parts->version >= 3 && whole == parts->whole) continue;
    // Parts of an older side file have no node facts: written as the version without them, so
    // the first search that reads them rebuilds the file from its block (LoadBlockParts).
    Result<uint64_t> written =
        RewriteSideFile(blocks[b], parts->parts, whole,
                        parts->version >= kTraceSummaryVersion ? kTraceSummaryVersion
                                                               : kTraceSummaryVersionWithoutNodes);
    if (written.ok()) continue;
    // Its traces stay resident this run (the file on disk has no flags), and the list is not
    // written, so the next open decides again.
    std::fprintf(stderr, "ariadne: trace index: %s (the next open retries)\n",
                 written.status().ToString().c_str());
    split_list_blocked_ = true;
    for (const TraceSummary& part : parts->parts)
      seen[SeenKey{blocks[b].meta.environment, part.trace_id}].blocks += 2;
  }
  std::vector<SplitTrace> split;
  for (const auto& [key, s] : seen)
    if (s.blocks > 1) split.push_back(SplitTrace{key.first, key.second, s.start, s.last_start});
  std::vector<SplitTrace> all = trace_index_.AddSplits(split);
  if (split_list_blocked_) return Status::Ok();
  // Last: its presence says every side file is decided (a crash before it converts again). A
  // failed write is retried by the next seal.
  Status listed = WriteTraceSplitFile(env_, options_.data_dir, all);
  if (!listed.ok())
    std::fprintf(stderr, "ariadne: trace index: %s (the next seal retries)\n",
                 listed.ToString().c_str());
  split_list_written_ = listed.ok();
  return Status::Ok();
}

Result<uint64_t> EmbeddedStore::RewriteSideFile(const BlockEntry& entry,
                                                const std::vector<TraceSummary>& parts,
                                                const std::vector<uint8_t>& whole,
                                                uint64_t version) {
  const uint64_t before = TraceSummaryFileBytes(env_, entry.path);
  Result<uint64_t> written = WriteTraceSummaryFile(env_, entry.path, parts, whole, version);
  if (!written.ok() || *written == before) return written;
  WriterMutexLock lock(&state_mu_);
  for (BlockEntry& listed : blocks_) {
    if (listed.meta.id != entry.meta.id) continue;
    // Signed arithmetic modulo 2^64: the file may have shrunk.
    listed.meta.file_bytes += *written - before;
    stats_block_bytes_ += *written - before;
  }
  return written;
}

Result<TraceSummaryParts> EmbeddedStore::RebuildSideFile(const BlockEntry& entry) {
  // Read through the Env like any block read, but outside the column cache. A block that does
  // not read back is left alone here: the first query that reads it quarantines it.
  Result<std::shared_ptr<const Block>> block =
      entry.meta.sections.empty()
          ? Result<std::shared_ptr<const Block>>(Status::NotFound("no section directory"))
          : ReadBlockColumns(env_, entry.path, entry.meta, ColumnSet::All());
  if (!block.ok()) {
    std::fprintf(stderr, "ariadne: trace index: skipping block %s: %s\n", entry.path.c_str(),
                 block.status().ToString().c_str());
    return block.status();
  }
  TraceSummaryParts parts;
  parts.version = kTraceSummaryVersion;
  parts.parts = SummarizeBlockTraces(entry.meta.environment, **block);
  std::vector<model::TraceId> ids;
  ids.reserve(parts.parts.size());
  for (const TraceSummary& part : parts.parts) ids.push_back(part.trace_id);
  // A trace another block also holds is in the split list already (the later of the two seals
  // put it there), so the flags alone decide; nothing is added to the list.
  parts.whole = HaveSealedSpans(entry.meta.environment, ids, entry.meta.id);
  for (uint8_t& w : parts.whole) w = !w;
  Result<uint64_t> written = RewriteSideFile(entry, parts.parts, parts.whole);
  if (!written.ok())
    std::fprintf(stderr, "ariadne: trace index: %s (the next open retries)\n",
                 written.status().ToString().c_str());
  return parts;
}

std::vector<BlockEntry> EmbeddedStore::RemoveOrphanSummaryFiles(
    const std::vector<BlockEntry>& blocks) {
  std::vector<BlockEntry> without;
  Result<std::vector<std::string>> names = env_->ListDir(blocks_dir_);
  if (!names.ok()) return without;  // the orphans stay until the next open
  std::unordered_set<std::string> present;
  std::unordered_set<std::string> live;
  for (const BlockEntry& entry : blocks) live.insert(TraceSummaryPath(entry.path));
  const std::string_view suffix = kTraceSummarySuffix;
  for (const std::string& name : *names) {
    if (name.size() <= suffix.size() || name.substr(name.size() - suffix.size()) != suffix)
      continue;
    const std::string path = blocks_dir_ + "/" + name;
    if (!live.count(path))
      (void)env_->RemoveFile(path);  // its block is named by no manifest
    else
      present.insert(path);
  }
  for (const BlockEntry& entry : blocks)
    if (!present.count(TraceSummaryPath(entry.path))) without.push_back(entry);
  return without;
}

std::vector<uint8_t> EmbeddedStore::HaveSealedSpans(const std::string& environment,
                                                    const std::vector<model::TraceId>& ids,
                                                    uint64_t exclude) {
  std::vector<uint8_t> out(ids.size(), 0);
  // Bloom filters first (resident with the block metas), then the block's digest's trace-id
  // filter (trace_block_digest.h: kept in memory once read, hashed independently, so few meta
  // hits pass both), then each block still hit has its trace-id column read.
  std::vector<std::pair<BlockEntry, std::vector<uint32_t>>> hits;
  std::vector<columnar::TraceIdBloom::Hash> bloom_hashes(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) bloom_hashes[i] = columnar::TraceIdBloom::HashOf(ids[i]);
  {
    ReaderMutexLock lock(&state_mu_);
    for (const BlockEntry& entry : blocks_) {
      if (entry.meta.environment != environment || entry.meta.id == exclude) continue;
      std::vector<uint32_t> maybe;
      for (uint32_t i = 0; i < ids.size(); ++i)
        if (entry.meta.bloom.MayContain(bloom_hashes[i])) maybe.push_back(i);
      if (!maybe.empty()) hits.emplace_back(ReadRef(entry), std::move(maybe));
    }
  }
  // Unlocked: a digest not kept yet is read from the side file (once per block and process).
  if (!hits.empty()) {
    std::vector<TraceBlockDigest::TraceIdHash> hashes(ids.size());
    std::vector<uint8_t> hashed(ids.size(), 0);
    size_t kept = 0;
    for (size_t h = 0; h < hits.size(); ++h) {
      auto& hit = hits[h];
      std::shared_ptr<const TraceBlockDigest> digest = trace_index_.Digest(hit.first.meta.id);
      if (digest != nullptr) {
        std::vector<uint32_t>& maybe = hit.second;
        size_t still = 0;
        for (uint32_t i : maybe) {
          if (!hashed[i]) {
            hashes[i] = TraceBlockDigest::HashTraceId(ids[i]);
            hashed[i] = 1;
          }
          if (digest->MayHoldTrace(hashes[i])) maybe[still++] = i;
        }
        maybe.resize(still);
      }
      if (hit.second.empty()) continue;
      if (kept != h) hits[kept] = std::move(hit);
      ++kept;
    }
    hits.resize(kept);
  }
  ColumnSet id_column;
  id_column.fixed = ColumnSet::kTraceId;
  for (const auto& [entry, maybe] : hits) {
    // Read from the file, not through the column cache: ingest alone must not fill the cache (and
    // evict what queries keep), nor count as its misses.
    Result<std::shared_ptr<const Block>> block = Status::NotFound("");
    if (!entry.meta.sections.empty()) {
      block = ReadBlockColumns(env_, entry.path, entry.meta, id_column);
    } else {
      Result<columnar::BlockMeta> meta = columnar::ReadBlockMeta(env_, entry.path);
      block = meta.ok() ? ReadBlockColumns(env_, entry.path, *meta, id_column)
                        : Result<std::shared_ptr<const Block>>(meta.status());
    }
    for (uint32_t i : maybe) {
      if (out[i]) continue;
      out[i] = !block.ok() || !(*block)->SortedRowsOfTrace(ids[i]).empty();
    }
  }
  return out;
}

std::vector<TraceIndex::SearchBlock> EmbeddedStore::SearchBlocks() {
  std::vector<TraceIndex::SearchBlock> out;
  ReaderMutexLock lock(&state_mu_);
  out.reserve(blocks_.size());
  for (const BlockEntry& entry : blocks_)
    out.push_back(TraceIndex::SearchBlock{entry.meta.id, entry.meta.environment,
                                          entry.meta.min_start_unix_nano,
                                          entry.meta.max_end_unix_nano});
  return out;
}

Status EmbeddedStore::RefreshTraceIndex(std::string_view environment, uint64_t start_unix_nano,
                                        uint64_t end_unix_nano, const CancelFlagPtr& cancel) {
  for (const TraceIndex::Stale& stale :
       trace_index_.StaleIn(environment, start_unix_nano, end_unix_nano)) {
    if (cancel && cancel->cancelled())
      return Status(StatusCode::kCancelled, "trace search: cancelled (its client went away)");
    Result<TraceResult> trace = GetTrace(stale.id, stale.environment);
    if (trace.status().IsNotFound()) {
      trace_index_.DropFetched(stale);
      continue;
    }
    if (!trace.ok()) return trace.status();
    trace_index_.PutFetched(stale, SummarizeTrace(*trace));
  }
  return Status::Ok();
}

Result<TraceIndex::TraceIdSet> EmbeddedStore::TracesWithMatchingSpan(
    const query::QuerySpec& spec, const query::ExecContext& context) {
  query::QueryBudget budget(context);
  query::BudgetCharge charge(&budget);
  TraceIndex::TraceIdSet out;
  size_t charged = 0;
  auto collect = [&](const Block& block) {
    std::vector<uint8_t> selected = query::SelectRows(spec, block);
    for (size_t r = 0; r < block.num_rows; ++r)
      if (selected[r]) out.insert(block.trace_id[r]);
    Status status = charge.Add((out.size() - charged) * 64);  // id + hash node
    charged = out.size();
    return status;
  };
  std::vector<BlockEntry> candidates = CandidateBlocks(spec, nullptr);
  ColumnSet needed = query::ColumnsForSelect(spec);
  needed.fixed |= ColumnSet::kTraceId | ColumnSet::kStart;
  {
    ReaderMutexLock lock(&state_mu_);
    for (const auto& [env, head] : AllHeads())
      if (spec.environment.empty() || env == spec.environment)
        ARIADNE_RETURN_IF_ERROR(collect(head->block()));
  }
  for (const BlockEntry& entry : candidates) {
    ARIADNE_RETURN_IF_ERROR(budget.CheckCancelled());
    ARIADNE_ASSIGN_OR_RETURN(std::shared_ptr<const Block> block, LoadBlock(entry, needed));
    ARIADNE_RETURN_IF_ERROR(collect(*block));
  }
  return out;
}

Result<TracePage> EmbeddedStore::SearchTracePage(const TracePageRequest& request,
                                                 const query::ExecContext& context) {
  if (!options_.trace_index) return TraceReader::SearchTracePage(request, context);
  std::optional<TraceIndex::TraceIdSet> span_matches;
  if (!request.filter.span_filters.empty()) {
    query::QuerySpec spec;
    spec.environment = request.environment;
    spec.start_unix_nano = request.start_unix_nano;
    spec.end_unix_nano = request.end_unix_nano;
    spec.filters = request.filter.span_filters;
    ARIADNE_ASSIGN_OR_RETURN(span_matches, TracesWithMatchingSpan(spec, context));
  }
  ARIADNE_RETURN_IF_ERROR(RefreshTraceIndex(request.environment, request.start_unix_nano,
                                            request.end_unix_nano, context.cancel));
  const TraceIndex::TraceIdSet* matches = span_matches ? &*span_matches : nullptr;
  if (!options_.trace_block_field_skips && !request.filter.field_needs.empty()) {
    TracePageRequest annotations_only = request;  // skips by annotation needs only, as before
    annotations_only.filter.field_needs.clear();
    return trace_index_.Search(annotations_only, matches, context.cancel,
                               [this] { return SearchBlocks(); });
  }
  return trace_index_.Search(request, matches, context.cancel, [this] { return SearchBlocks(); });
}

Result<TraceSummaryParts> EmbeddedStore::LoadBlockParts(uint64_t block) {
  // Called by the index's part cache with no lock held.
  const std::string path = blocks_dir_ + "/" + BlockFileName(block);
  Result<TraceSummaryParts> parts = ReadTraceSummaryParts(env_, path);
  const bool damaged = !parts.ok() && (parts.status().IsNotFound() ||
                                       parts.status().code() == StatusCode::kDataLoss);
  const bool undecided = parts.ok() && parts->version < 3;
  // Versions 3 and 4: decided, but without the per-node facts block filters are decided by
  // (version 5) and, for 3, without the digest searches skip blocks by.
  const bool outdated = parts.ok() && parts->version >= 3 && parts->version < kTraceSummaryVersion;
  if (!damaged && !undecided && !outdated) return parts;
  std::optional<BlockEntry> entry;
  {
    ReaderMutexLock lock(&state_mu_);
    for (const BlockEntry& e : blocks_)
      if (e.meta.id == block) entry = ReadRef(e);
  }
  if (!entry) return parts;  // compacted or removed: the search plans again
  if (outdated) {
    // Summarized again from the block's columns (the node facts need the spans) and rewritten at
    // the current version, with its digest; the flags are decided as a seal would. Should the
    // block not read, the old parts still answer (their block terms "unknown").
    Result<TraceSummaryParts> rebuilt = RebuildSideFile(*entry);
    if (rebuilt.ok()) return rebuilt;
    return parts;
  }
  if (damaged) {
    // Lost or damaged while its block is still listed: rebuilt from the block's columns.
    std::fprintf(stderr, "ariadne: trace index: %s; rebuilding it from the block\n",
                 parts.status().ToString().c_str());
    return RebuildSideFile(*entry);
  }
  // An older side file (no `whole` flags) put back under a decided store: its flags are decided
  // now, as a seal would (a trace another block holds is in the split list already).
  std::vector<model::TraceId> ids;
  ids.reserve(parts->parts.size());
  for (const TraceSummary& part : parts->parts) ids.push_back(part.trace_id);
  parts->whole = HaveSealedSpans(entry->meta.environment, ids, block);
  for (uint8_t& w : parts->whole) w = !w;
  parts->version = kTraceSummaryVersionWithoutNodes;
  (void)RewriteSideFile(*entry, parts->parts, parts->whole, parts->version);
  return parts;
}

}  // namespace ariadne::store::embedded
