// EmbeddedStore's side of the trace-summary index (trace_index.h, embedded_store_impl.h): building
// it at open from the blocks' persisted summaries (trace_summary_file.h), summarizing heads,
// refreshing stale traces before a read, and SearchTracePage.
#include <cstdio>
#include <unordered_map>
#include <unordered_set>

#include "query/exec/column_needs.h"
#include "query/exec/executor.h"
#include "store/embedded/embedded_store_impl.h"
#include "store/embedded/trace_summary_file.h"

namespace ariadne::store::embedded {
using columnar::Block;
using columnar::ColumnSet;

void EmbeddedStore::SummarizeIntoIndex(const std::string& environment, const Block& block) {
  std::unordered_map<model::TraceId, std::vector<uint32_t>, model::TraceIdHash> rows;
  for (size_t row = 0; row < block.num_rows; ++row)
    rows[block.trace_id[row]].push_back(static_cast<uint32_t>(row));
  for (const auto& [id, trace_rows] : rows) {
    if (trace_index_.NotedSpans(environment, id) != trace_rows.size()) continue;
    TraceResult trace;
    block.Materialize(trace_rows, &trace.spans);
    trace.environments.assign(trace.spans.spans.size(), environment);
    SortByStartTime(&trace);  // as GetTrace returns it, so the summary is the same
    trace_index_.PutIfComplete(environment, SummarizeTrace(trace));
  }
}

Status EmbeddedStore::BuildTraceIndex() {
  // Open runs alone: no other thread touches the block set or the heads yet.
  std::vector<BlockEntry> blocks;
  {
    std::shared_lock<std::shared_mutex> lock(state_mu_);
    for (const BlockEntry& entry : blocks_) blocks.push_back(ReadRef(entry));
  }
  RemoveOrphanSummaryFiles(blocks);
  for (const BlockEntry& entry : blocks) {
    Result<std::vector<TraceSummary>> parts = ReadTraceSummaryFile(env_, entry.path);
    if (!parts.ok()) {
      if (!parts.status().IsNotFound())
        std::fprintf(stderr, "ariadne: trace index: %s; rebuilding it from the block\n",
                     parts.status().ToString().c_str());
      parts = SummarizeAndPersist(entry);
      if (!parts.ok()) continue;
    }
    for (const TraceSummary& part : *parts) trace_index_.NotePart(entry.meta.environment, part);
    for (TraceSummary& part : *parts)
      trace_index_.PutIfComplete(entry.meta.environment, std::move(part), entry.meta.id);
  }
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  for (const auto& [env, head] : AllHeads()) SummarizeIntoIndex(std::string(env), head->block());
  return Status::Ok();
}

Result<std::vector<TraceSummary>> EmbeddedStore::SummarizeAndPersist(const BlockEntry& entry) {
  // Read through the Env like any block read, but outside the column cache. A block that does
  // not read back is left alone here: the first query that reads it quarantines it (its traces
  // are then unreadable anyway), so open stays as tolerant as before the index.
  Result<std::shared_ptr<const Block>> block =
      entry.meta.sections.empty()
          ? Result<std::shared_ptr<const Block>>(Status::NotFound("no section directory"))
          : ReadBlockColumns(env_, entry.path, entry.meta, ColumnSet::All());
  if (!block.ok()) {
    std::fprintf(stderr, "ariadne: trace index: skipping block %s: %s\n", entry.path.c_str(),
                 block.status().ToString().c_str());
    return block.status();
  }
  std::vector<TraceSummary> parts = SummarizeBlockTraces(entry.meta.environment, **block);
  // A block from before side files (or whose side file was lost): persist its summaries now so
  // the next open reads them. Failing to write only costs this work again at the next open.
  Result<uint64_t> written = WriteTraceSummaryFile(env_, entry.path, parts);
  if (!written.ok())
    std::fprintf(stderr, "ariadne: trace index: %s (the next open retries)\n",
                 written.status().ToString().c_str());
  return parts;
}

void EmbeddedStore::RemoveOrphanSummaryFiles(const std::vector<BlockEntry>& blocks) {
  Result<std::vector<std::string>> names = env_->ListDir(blocks_dir_);
  if (!names.ok()) return;  // the orphans stay until the next open
  std::unordered_set<std::string> live;
  for (const BlockEntry& entry : blocks) live.insert(TraceSummaryPath(entry.path));
  const std::string_view suffix = kTraceSummarySuffix;
  for (const std::string& name : *names) {
    if (name.size() <= suffix.size() || name.substr(name.size() - suffix.size()) != suffix)
      continue;
    const std::string path = blocks_dir_ + "/" + name;
    if (!live.count(path)) (void)env_->RemoveFile(path);  // its block is named by no manifest
  }
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
    std::shared_lock<std::shared_mutex> lock(state_mu_);
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
  // An evicted summary whose block went away since (compaction, retention) turns its trace stale
  // during the search: refresh and search again (each round refetches those traces whole).
  for (int round = 0;; ++round) {
    ARIADNE_RETURN_IF_ERROR(RefreshTraceIndex(request.environment, request.start_unix_nano,
                                              request.end_unix_nano, context.cancel));
    bool needs_refresh = false;
    Result<TracePage> page = trace_index_.Search(request, span_matches ? &*span_matches : nullptr,
                                                 context.cancel, &needs_refresh);
    if (!page.ok() || !needs_refresh || round == 3) return page;
  }
}

Result<std::vector<TraceSummary>> EmbeddedStore::LoadBlockParts(uint64_t block) {
  // Called by the index's part cache with no lock held; only the Env, no store lock either (the
  // path follows from the id).
  return ReadTraceSummaryFile(env_, blocks_dir_ + "/" + BlockFileName(block));
}

}  // namespace ariadne::store::embedded
