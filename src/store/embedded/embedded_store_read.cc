// EmbeddedStore read path (embedded_store_impl.h): every query reads the heads under the shared
// state lock, picks the sealed blocks that may hold matching rows (environment, time, bloom filter,
// column statistics), then loads only the columns it needs through the column cache, outside the
// lock. A block whose file fails its checksums is quarantined and reads as empty.
#include <algorithm>
#include <numeric>
#include <unordered_map>

#include "query/exec/aggregation.h"
#include "query/exec/block_pruning.h"
#include "query/exec/bubbleup_scan.h"
#include "query/exec/column_needs.h"
#include "query/exec/executor.h"
#include "query/exec/scan_pool.h"
#include "query/xray_filter/filter.h"
#include "store/column_catalog.h"
#include "store/embedded/embedded_store_impl.h"

namespace ariadne::store::embedded {

using columnar::Block;
using columnar::BlockBuilder;
using columnar::BlockMeta;
using columnar::ColumnSet;
using columnar::kColumnFromSpan;
using columnar::ReadBlockColumns;
using columnar::ReadBlockMeta;
using columnar::ServiceCounts;

Status EmbeddedStore::ForEachTrace(uint64_t start_unix_nano, uint64_t end_unix_nano,
                                   std::string_view environment,
                                   const std::function<bool(const TraceResult&)>& visit) {
  // Earliest in-window start per trace, then whole traces in that order.
  std::unordered_map<model::TraceId, uint64_t, model::TraceIdHash> first_start;
  auto note = [&](const Block& block, size_t row) {
    uint64_t start = block.start_unix_nano[row];
    if (start < start_unix_nano || start >= end_unix_nano) return;
    auto [it, inserted] = first_start.try_emplace(block.trace_id[row], start);
    if (!inserted) it->second = std::min(it->second, start);
  };
  std::vector<BlockEntry> candidates;
  {
    ReaderMutexLock lock(&state_mu_);
    for (const auto& [env, head] : AllHeads()) {
      if (!environment.empty() && env != environment) continue;
      for (size_t row = 0; row < head->num_rows(); ++row) note(head->block(), row);
    }
    for (const BlockEntry& entry : blocks_) {
      if (!environment.empty() && entry.meta.environment != environment) continue;
      if (entry.meta.min_start_unix_nano >= end_unix_nano ||
          entry.meta.max_end_unix_nano < start_unix_nano)
        continue;
      candidates.push_back(ReadRef(entry));
    }
  }
  ColumnSet needed;
  needed.fixed = ColumnSet::kTraceId | ColumnSet::kStart;
  for (const BlockEntry& entry : candidates) {
    ARIADNE_ASSIGN_OR_RETURN(std::shared_ptr<const Block> block, LoadBlock(entry, needed));
    for (size_t row = 0; row < block->num_rows; ++row) note(*block, row);
  }
  std::vector<std::pair<uint64_t, model::TraceId>> order;
  order.reserve(first_start.size());
  for (const auto& [id, start] : first_start) order.emplace_back(start, id);
  std::sort(order.begin(), order.end());
  for (const auto& [start, id] : order) {
    Result<TraceResult> trace = GetTrace(id, environment);
    if (trace.status().IsNotFound()) continue;  // cannot happen unless retention removed it
    if (!trace.ok()) return trace.status();
    if (!visit(*trace)) break;
  }
  return Status::Ok();
}

Result<query::QueryResult> EmbeddedStore::RunQuery(const query::QuerySpec& spec,
                                                   const query::ExecContext& context) {
  query::QueryBudget budget(context);
  query::BudgetCharge trace_charge(&budget);  // released after the executors below
  query::QueryExecutor head_executor(spec, &budget);
  std::shared_ptr<const query::QueryExecutor::TraceIdSet> traces;
  if (!spec.xray_filter.empty()) {
    // X-Ray filter expressions speak about whole traces: pick the matching traces first, then
    // aggregate only their spans.
    ARIADNE_ASSIGN_OR_RETURN(query::xray_filter::Filter filter,
                             query::xray_filter::Filter::Parse(spec.xray_filter));
    auto matching = std::make_shared<query::QueryExecutor::TraceIdSet>();
    Status charged;  // the matching ids, charged per 1024 (id + hash node)
    // The trace-summary index decides what the summaries can; only the rest is fetched whole.
    TracePageRequest request;
    request.environment = spec.environment;
    request.start_unix_nano = spec.start_unix_nano;
    request.end_unix_nano = spec.end_unix_nano;
    request.limit = 0;
    request.filter.annotations = filter.RequiredAnnotations();
    request.refine = [&filter](const TraceSummary& summary) {
      return static_cast<TraceVerdict>(filter.Decide(summary.xray));
    };
    ARIADNE_ASSIGN_OR_RETURN(TracePage page, SearchTracePage(request, context));
    for (const TracePageEntry& entry : page.traces) {
      if (!entry.decided) {
        Result<TraceResult> trace = GetTrace(entry.summary.trace_id, entry.summary.environment);
        if (trace.status().IsNotFound()) continue;
        if (!trace.ok()) return trace.status();
        if (!filter.Matches(query::xray_filter::TraceView::Build(trace->spans))) continue;
      }
      matching->insert(entry.summary.trace_id);
      if (matching->size() % 1024 == 0) charged = trace_charge.Add(1024 * 64);
      if (!charged.ok() || budget.cancelled()) break;
    }
    ARIADNE_RETURN_IF_ERROR(charged);
    ARIADNE_RETURN_IF_ERROR(budget.CheckCancelled());
    traces = std::move(matching);
    head_executor.RestrictToTraces(traces);
  }
  {
    ReaderMutexLock lock(&state_mu_);
    for (const auto& [env, head] : AllHeads()) {
      if (!spec.environment.empty() && env != spec.environment) continue;
      ARIADNE_RETURN_IF_ERROR(head_executor.Consume(head->block()));
    }
  }
  uint64_t skipped = 0;
  std::vector<BlockEntry> candidates = CandidateBlocks(spec, &skipped);
  for (uint64_t i = 0; i < skipped; ++i) head_executor.CountSkippedBlock();
  const ColumnSet needed = query::ColumnsForQuery(spec);
  std::vector<query::QueryExecutor> executors;
  for (size_t w = 0; w < kScanWorkers; ++w) {
    executors.emplace_back(spec, &budget);
    if (traces) executors.back().RestrictToTraces(traces);
  }
  // Blocks the pre-aggregates answer need no rows (on the scan threads too). With percentiles or
  // HEATMAP, first what they give each group over the whole query: a group the row path sketches
  // (past the exact limit in the query) can take sketches from every block, however small.
  {
    std::vector<Status> statuses(kScanWorkers);
    bool sketches = false;
    for (const query::Calculation& calc : spec.calculations)
      sketches |= query::exec::CanSketch(calc.op);
    query::QueryExecutor::PreAggregatedSpans query_spans;
    if (sketches && !candidates.empty()) {
      std::vector<query::QueryExecutor::PreAggregatedSpans> spans(kScanWorkers);
      query::exec::ScanPool::Shared().Run(
          candidates.size(), kScanWorkers, [&](size_t worker, size_t i) {
            Result<bool> counted =
                executors[worker].CountPreAggregated(candidates[i].meta, &spans[worker]);
            if (!counted.ok()) statuses[worker] = counted.status();
            return counted.ok();
          });
      for (const Status& status : statuses) ARIADNE_RETURN_IF_ERROR(status);
      for (const auto& worker_spans : spans)
        for (const auto& [key, n] : worker_spans) query_spans[key] += n;
    }
    std::vector<uint8_t> answered(candidates.size());
    query::exec::ScanPool::Shared().Run(
        candidates.size(), kScanWorkers, [&](size_t worker, size_t i) {
          Result<bool> done = executors[worker].ConsumePreAggregated(
              candidates[i].meta, sketches ? &query_spans : nullptr);
          if (!done.ok()) statuses[worker] = done.status();
          answered[i] = done.ok() && *done;
          return done.ok();
        });
    for (const Status& status : statuses) ARIADNE_RETURN_IF_ERROR(status);
    std::vector<BlockEntry> to_scan;
    for (size_t i = 0; i < candidates.size(); ++i)
      if (!answered[i]) to_scan.push_back(std::move(candidates[i]));
    candidates = std::move(to_scan);
  }
  auto columns_of = [&](const BlockEntry& entry) {
    return query::ColumnsForBlock(spec, needed, entry.meta);
  };
  ARIADNE_RETURN_IF_ERROR(ScanBlocks(
      candidates, columns_of,
      [&](size_t worker, const Block& block) { return executors[worker].Consume(block); }));
  for (query::QueryExecutor& executor : executors) {
    ARIADNE_RETURN_IF_ERROR(head_executor.Merge(std::move(executor)));
  }
  return head_executor.Finish();
}

Status EmbeddedStore::ScanBlocks(const std::vector<BlockEntry>& candidates,
                                 const std::function<ColumnSet(const BlockEntry&)>& columns_of,
                                 const std::function<Status(size_t, const Block&)>& consume) {
  std::vector<Status> statuses(kScanWorkers);
  query::exec::ScanPool::Shared().Run(
      candidates.size(), kScanWorkers, [&](size_t worker, size_t i) {
        Result<std::shared_ptr<const Block>> block =
            LoadBlock(candidates[i], columns_of(candidates[i]));
        statuses[worker] = block.ok() ? consume(worker, **block) : block.status();
        return statuses[worker].ok();
      });
  for (const Status& status : statuses) ARIADNE_RETURN_IF_ERROR(status);
  return Status::Ok();
}

Result<std::vector<TraceSummary>> EmbeddedStore::SearchTraces(const TraceSearchRequest& request,
                                                              const query::ExecContext& context) {
  query::QueryBudget budget(context);
  ARIADNE_RETURN_IF_ERROR(budget.CheckCancelled());
  query::QuerySpec spec;
  spec.environment = request.environment;
  spec.start_unix_nano = request.start_unix_nano;
  spec.end_unix_nano = request.end_unix_nano;
  spec.filters = request.filters;
  // Newest matching span start per trace.
  std::unordered_map<model::TraceId, std::pair<uint64_t, std::string>, model::TraceIdHash> latest;
  auto collect = [&](const Block& block, const std::string& env) {
    std::vector<uint8_t> selected = query::SelectRows(spec, block);
    for (size_t r = 0; r < block.num_rows; ++r) {
      if (!selected[r]) continue;
      auto [it, inserted] = latest.try_emplace(block.trace_id[r], block.start_unix_nano[r], env);
      if (!inserted) it->second.first = std::max(it->second.first, block.start_unix_nano[r]);
    }
  };
  std::vector<BlockEntry> candidates = CandidateBlocks(spec, nullptr);
  ColumnSet needed = query::ColumnsForSelect(spec);
  needed.fixed |= ColumnSet::kTraceId | ColumnSet::kStart;
  {
    ReaderMutexLock lock(&state_mu_);
    for (const auto& [env, head] : AllHeads())
      if (spec.environment.empty() || env == spec.environment)
        collect(head->block(), std::string(env));
  }
  // Each matching trace costs an entry in `latest` (id, time, environment, hash node).
  query::BudgetCharge charge(&budget);
  size_t charged_traces = 0;
  auto charge_traces = [&] {
    Status status = charge.Add((latest.size() - charged_traces) * 128);
    charged_traces = latest.size();
    return status;
  };
  ARIADNE_RETURN_IF_ERROR(charge_traces());
  for (const BlockEntry& entry : candidates) {
    ARIADNE_RETURN_IF_ERROR(budget.CheckCancelled());
    ARIADNE_ASSIGN_OR_RETURN(std::shared_ptr<const Block> block, LoadBlock(entry, needed));
    collect(*block, entry.meta.environment);
    ARIADNE_RETURN_IF_ERROR(charge_traces());
  }
  std::vector<std::pair<uint64_t, model::TraceId>> order;
  for (const auto& [id, v] : latest) order.emplace_back(v.first, id);
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  if (order.size() > request.limit) order.resize(request.limit);
  std::vector<TraceSummary> out;
  for (const auto& [start, id] : order) {
    Result<TraceResult> trace = GetTrace(id, latest[id].second);
    if (!trace.ok()) continue;
    out.push_back(SummarizeTrace(*trace));
  }
  return out;
}

Result<query::BubbleUpCounts> EmbeddedStore::ScanBubbleUp(const query::BubbleUpRequest& request,
                                                          const query::ExecContext& context) {
  query::QueryBudget budget(context);
  ARIADNE_RETURN_IF_ERROR(budget.CheckCancelled());
  const query::QuerySpec& spec = request.base;
  query::exec::BubbleUpScan head_scan(request, &budget);
  {
    ReaderMutexLock lock(&state_mu_);
    for (const auto& [env, head] : AllHeads()) {
      if (!spec.environment.empty() && env != spec.environment) continue;
      ARIADNE_RETURN_IF_ERROR(head_scan.Consume(head->block()));
    }
  }
  std::vector<BlockEntry> candidates = CandidateBlocks(spec, nullptr);
  ColumnSet needed = query::ColumnsForSelect(spec);
  needed.Add(query::ColumnsOfName(request.column));
  for (const std::string& column : request.columns) needed.Add(query::ColumnsOfName(column));
  needed.fixed |= ColumnSet::kStart;
  needed.Close();
  std::vector<query::exec::BubbleUpScan> scans;
  for (size_t w = 0; w < kScanWorkers; ++w) scans.emplace_back(request, &budget);
  auto columns_of = [&](const BlockEntry&) { return needed; };
  ARIADNE_RETURN_IF_ERROR(
      ScanBlocks(candidates, columns_of,
                 [&](size_t worker, const Block& block) { return scans[worker].Consume(block); }));
  for (query::exec::BubbleUpScan& scan : scans) {
    ARIADNE_RETURN_IF_ERROR(head_scan.Merge(std::move(scan)));
  }
  return head_scan.Finish();
}

Result<std::vector<ColumnInfo>> EmbeddedStore::ListColumns(std::string_view environment,
                                                           uint64_t start_unix_nano,
                                                           uint64_t end_unix_nano) {
  std::map<std::string, BlockMeta::ColumnTypes> merged;
  auto merge = [&](const std::map<std::string, BlockMeta::ColumnTypes>& columns) {
    for (const auto& [name, c] : columns) {
      merged[name].types |= c.types;
      merged[name].sources |= c.sources;
    }
  };
  {
    ReaderMutexLock lock(&state_mu_);
    for (const auto& [env, head] : AllHeads())
      if (environment.empty() || env == environment) merge(head->block().ComputeColumns());
    for (const BlockEntry& entry : blocks_) {
      if (!environment.empty() && entry.meta.environment != environment) continue;
      if (entry.meta.min_start_unix_nano >= end_unix_nano ||
          entry.meta.max_end_unix_nano < start_unix_nano)
        continue;
      merge(entry.meta.columns);
    }
  }
  ColumnCatalogBuilder catalog;
  for (const auto& [name, c] : merged)
    catalog.AddAttribute(name, c.types, (c.sources & kColumnFromSpan) != 0);
  return catalog.Finish();
}

Result<ServiceGraph> EmbeddedStore::GetServiceGraph(std::string_view environment,
                                                    uint64_t start_unix_nano,
                                                    uint64_t end_unix_nano) {
  WriterMutexLock lock(&state_mu_);
  graph_.Expire(WallClockNano());
  return graph_.Get(environment, start_unix_nano, end_unix_nano);
}

Result<std::vector<ServiceSummary>> EmbeddedStore::ListServices(std::string_view environment) {
  std::map<std::pair<std::string, std::string>, ServiceCounts> merged;
  {
    ReaderMutexLock lock(&state_mu_);
    for (const BlockEntry& entry : blocks_) {
      if (!environment.empty() && entry.meta.environment != environment) continue;
      for (const auto& [name, counts] : entry.meta.services)
        merged[{entry.meta.environment, name}].Add(counts);
    }
    for (const auto& [env, head] : AllHeads()) {
      if (!environment.empty() && env != environment) continue;
      for (const auto& [name, counts] : head->services())
        merged[{std::string(env), name}].Add(counts);
    }
  }
  std::vector<ServiceSummary> out;
  for (const auto& [key, c] : merged) {
    ServiceSummary s;
    s.environment = key.first;
    s.name = key.second;
    s.span_count = c.span_count;
    s.trace_root_count = c.root_count;
    s.error_count = c.error_count;
    s.first_seen_unix_nano = c.first_seen;
    s.last_seen_unix_nano = c.last_seen;
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::pair<std::string_view, const BlockBuilder*>> EmbeddedStore::AllHeads() const {
  std::vector<std::pair<std::string_view, const BlockBuilder*>> all;
  for (const auto& [env, head] : heads_) all.emplace_back(env, head.get());
  for (const auto& [env, head] : sealing_heads_) all.emplace_back(env, head.get());
  return all;
}

BlockEntry EmbeddedStore::ReadRef(const BlockEntry& entry) {
  BlockEntry ref;
  ref.meta.id = entry.meta.id;
  ref.meta.environment = entry.meta.environment;
  ref.meta.num_rows = entry.meta.num_rows;
  ref.meta.min_start_unix_nano = entry.meta.min_start_unix_nano;
  ref.meta.max_end_unix_nano = entry.meta.max_end_unix_nano;
  ref.meta.format_version = entry.meta.format_version;
  ref.meta.sections = entry.meta.sections;
  ref.meta.pre_aggregates = entry.meta.pre_aggregates;
  // The keys some resource carries (query::ColumnsForBlock reads only those).
  for (const auto& [key, c] : entry.meta.columns)
    if ((c.sources & columnar::kColumnFromResource) != 0) ref.meta.columns.emplace(key, c);
  ref.path = entry.path;
  return ref;
}

std::vector<BlockEntry> EmbeddedStore::CandidateBlocks(const query::QuerySpec& spec,
                                                       uint64_t* skipped) {
  std::vector<BlockEntry> candidates;
  uint64_t pruned = 0;
  {
    ReaderMutexLock lock(&state_mu_);
    for (const BlockEntry& entry : blocks_) {
      const BlockMeta& meta = entry.meta;
      if (!spec.environment.empty() && meta.environment != spec.environment) continue;
      if (!query::BlockMayMatch(spec, meta)) {
        ++pruned;
        continue;
      }
      candidates.push_back(ReadRef(entry));
    }
  }
  blocks_pruned_ += pruned;
  if (skipped) *skipped += pruned;
  return candidates;
}

ColumnCache::Loader EmbeddedStore::ColumnsOf(const BlockEntry& entry) {
  return [this, &entry](const ColumnSet& columns) -> Result<std::shared_ptr<const Block>> {
    if (!entry.meta.sections.empty())
      return ReadBlockColumns(env_, entry.path, entry.meta, columns);
    // A block sealed by this process: its entry has no section directory yet.
    ARIADNE_ASSIGN_OR_RETURN(BlockMeta meta, ReadBlockMeta(env_, entry.path));
    RememberSections(entry.meta.id, meta.sections, meta.format_version);
    return ReadBlockColumns(env_, entry.path, meta, columns);
  };
}

Status EmbeddedStore::LoadFailed(const BlockEntry& entry, const Status& status) {
  if (status.code() != StatusCode::kDataLoss) return status.WithContext(entry.path);
  // Damaged on disk: take it out of the block set and answer from the others. Callers see an
  // empty block, so a query over its window still succeeds.
  QuarantineBlock(entry.meta.id, status);
  return Status::Ok();
}

Result<std::shared_ptr<const Block>> EmbeddedStore::LoadBlock(const BlockEntry& entry,
                                                              const ColumnSet& needed, bool keep) {
  Result<std::shared_ptr<const Block>> block =
      column_cache_.Get(entry.meta.id, needed, ColumnsOf(entry), keep);
  if (!block.ok()) {
    ARIADNE_RETURN_IF_ERROR(LoadFailed(entry, block.status()));
    static const std::shared_ptr<const Block> kEmpty = std::make_shared<const Block>();
    return kEmpty;
  }
  return block;
}

void EmbeddedStore::SortByStartTime(TraceResult* result) {
  auto& spans = result->spans.spans;
  std::vector<size_t> order(spans.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return spans[a].start_time_unix_nano < spans[b].start_time_unix_nano;
  });
  std::vector<model::Span> sorted;
  std::vector<std::string> envs;
  for (size_t i : order) {
    sorted.push_back(spans[i]);
    envs.push_back(result->environments[i]);
  }
  spans = std::move(sorted);
  result->environments = std::move(envs);
}

}  // namespace ariadne::store::embedded
