// QueryExecutor: runs a validated QuerySpec over column blocks (the embedded store's heads and
// sealed blocks) — filter, group, aggregate — and produces a QueryResult.
//
//   plan (resolve columns per block) → filter rows into a selection → group id and time bucket per
//   selected row → update per-(group, bucket) aggregate states → Finish: totals, having, order,
//   limit, series.
//
// Filters on attribute columns read the block's sparse attribute columns (row_filter.h); other
// columns are resolved per block into dense vectors (column_view.h). String columns keep their
// dictionary codes, so a filter or breakdown on a string evaluates its predicate once per distinct
// value, not once per row. Each span counts with its sample rate (SampleRate attribute, else the
// OTel tracestate `ot=th:` threshold) in COUNT, SUM, AVG, RATE_*, HEATMAP and percentiles;
// COUNT_DISTINCT, MIN and MAX are not weighted. Percentiles and HEATMAP keep a group's values up
// to exec::kExactSampleLimit (always with the spec's `exact`), then switch to mergeable sketches
// per time bucket (aggregation.h): percentiles within 1 % relative error, HEATMAP counts exact.
//
// Consume turns the block's selected rows into a selection vector once; breakdowns map each
// selected row to its group through per-block local ids (dictionary codes, resource values) and
// a dense id → group table (breakdown_ids.h); the per-row aggregation loops are specialized for
// unweighted rows and a single time bucket (aggregate_rows.h).
//
// Files: executor.cc (Consume, Merge), row_filter.*, column_view.*, breakdown_ids.*,
// aggregate_rows.*, aggregation.*, quantile_sketch.*, grid_histogram.*, sample_stats.*,
// heatmap.*, finish.cc (Finish).
//
// Limits: with a QueryBudget, the executor charges its working memory (groups, samples, per-block
// column views and scratch vectors, Finish's totals) to it as it grows, refuses more distinct
// groups than the budget's cap, and checks the budget's cancel flag between phases of a block and
// every few thousand groups in Finish. Consume, Merge and Finish then fail with
// kResourceExhausted or kCancelled; after a failure the executor must only be destroyed, which
// gives its charge back. Without a budget nothing is limited.
//
// Threads: an executor is used by one thread. For a parallel scan, give each thread its own
// executor over a share of the blocks (all charging the same budget, which is thread-safe) and
// Merge() them before Finish().
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "columnar/block.h"
#include "common/status.h"
#include "query/exec/query_budget.h"
#include "query/query_spec.h"

namespace ariadne::query {

class QueryExecutor {
 public:
  // `budget` (may be null: no limits) must outlive the executor.
  explicit QueryExecutor(const QuerySpec& spec, QueryBudget* budget = nullptr);
  ~QueryExecutor();
  QueryExecutor(QueryExecutor&&) noexcept;
  QueryExecutor& operator=(QueryExecutor&&) noexcept;

  using TraceIdSet = std::unordered_set<model::TraceId, model::TraceIdHash>;
  // Only spans of these traces count (an X-Ray filter expression chose them).
  void RestrictToTraces(std::shared_ptr<const TraceIdSet> traces);

  // Adds every row of `block` that matches the spec. `block` must stay alive only for the call.
  [[nodiscard]] Status Consume(const columnar::Block& block);
  // Spans per result group (by exec::CanonicalKey of its breakdown values) that pre-aggregates
  // give over the blocks of one query.
  using PreAggregatedSpans = std::unordered_map<std::string, uint64_t>;

  // Answers the sealed block described by `meta` from its pre-aggregates (pre_aggregates.h) when
  // it can: the spec is exec::PreAggregatable, the executor has no trace restriction, the block
  // has pre-aggregates and its start times lie inside the window and inside one time bucket. True
  // when the block is consumed (its rows must not be Consumed too); false when its rows must be
  // read. With percentiles or HEATMAP, only when each group it adds to is sketched by the row path
  // too, i.e. gets more than kExactSampleLimit values in the whole query: by `query_spans` (what
  // CountPreAggregated summed over the query's blocks — a lower bound of each group's values) when
  // given, else by this block alone.
  [[nodiscard]] Result<bool> ConsumePreAggregated(const columnar::BlockMeta& meta,
                                                  const PreAggregatedSpans* query_spans = nullptr);
  // Whether ConsumePreAggregated could answer `meta` (leaving the sketch rule aside); if so, adds
  // the spans it would give each result group to `spans`. Creates no group and changes nothing.
  [[nodiscard]] Result<bool> CountPreAggregated(const columnar::BlockMeta& meta,
                                                PreAggregatedSpans* spans) const;
  // Records a block that was skipped without reading it (time range or dataset pruning).
  void CountSkippedBlock();

  // Folds `other` (same spec) into this executor and frees `other`'s state.
  [[nodiscard]] Status Merge(QueryExecutor&& other);

  Result<QueryResult> Finish();

 private:
  struct State;
  struct PreAggregatedPlan;  // pre_aggregated_scan.cc

  // The block's pre-aggregates, their time buckets, and the result key of each selected (service,
  // span name) group; false when the block cannot be answered from them.
  Result<bool> PlanPreAggregated(const columnar::BlockMeta& meta, PreAggregatedPlan* plan) const;

  std::unique_ptr<State> state_;
};

// Rows of `block` that lie in the spec's time window and dataset and pass its filters (1 = match).
// Used by trace search; Consume does the same internally.
std::vector<uint8_t> SelectRows(const QuerySpec& spec, const columnar::Block& block);

// The effective sample rate of a span from its SampleRate attribute or W3C tracestate (OTel
// `ot=th:` rejection threshold); 1 when neither says otherwise. Exposed for tests.
double SampleRateFromTraceState(std::string_view trace_state);

}  // namespace ariadne::query
