// EmbeddedStore's side of the trace-summary index (trace_index.h, embedded_store_impl.h): building
// it at open, summarizing sealed heads, refreshing stale traces before a read, and SearchTracePage.
#include <cstdio>
#include <unordered_map>

#include "query/exec/column_needs.h"
#include "query/exec/executor.h"
#include "store/embedded/embedded_store_impl.h"

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
  for (const BlockEntry& entry : blocks) {
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
      continue;
    }
    trace_index_.NoteBlock(entry.meta.environment, **block);
    SummarizeIntoIndex(entry.meta.environment, **block);
  }
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  for (const auto& [env, head] : AllHeads()) SummarizeIntoIndex(std::string(env), head->block());
  return Status::Ok();
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
  ARIADNE_RETURN_IF_ERROR(RefreshTraceIndex(request.environment, request.start_unix_nano,
                                            request.end_unix_nano, context.cancel));
  std::optional<TraceIndex::TraceIdSet> span_matches;
  if (!request.filter.span_filters.empty()) {
    query::QuerySpec spec;
    spec.environment = request.environment;
    spec.start_unix_nano = request.start_unix_nano;
    spec.end_unix_nano = request.end_unix_nano;
    spec.filters = request.filter.span_filters;
    ARIADNE_ASSIGN_OR_RETURN(span_matches, TracesWithMatchingSpan(spec, context));
  }
  return trace_index_.Search(request, span_matches ? &*span_matches : nullptr, context.cancel);
}

}  // namespace ariadne::store::embedded
