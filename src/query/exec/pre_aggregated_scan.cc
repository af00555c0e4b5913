// QueryExecutor::ConsumePreAggregated: a sealed block answered from its pre-aggregates
// (pre_aggregates.h) instead of its rows, when the query and the block allow it.
//
// The (service, span name) groups of the block become the rows of a small stand-in block (one
// row per group: its span name, a resource with its service.name, a start time inside the
// window), so the filters, the dataset and the breakdown keys are evaluated by the row path's own
// code (SelectRows, BreakdownIds) and mean exactly what they mean for rows. Then per time slice,
// each selected group adds its counts and sums to its result group's aggregate of the slice's
// time bucket, and each selected service's sketches are merged into that group's, which switches
// to sketches — only for groups the row path sketches as well (more than kExactSampleLimit values
// in the query: the store first sums, with CountPreAggregated, what every block's pre-aggregates
// give each group; alone, a block must give that many itself), so answers are the row path's.
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "columnar/block.h"
#include "query/exec/aggregation.h"
#include "query/exec/breakdown_ids.h"
#include "query/exec/column_view.h"
#include "query/exec/executor.h"
#include "query/exec/executor_state.h"
#include "query/exec/pre_aggregates.h"

namespace ariadne::query {
namespace {

// One row per group of `pre`, in group order, all starting at `start`; resource i + 1 is
// service i.
columnar::BlockBuilder StandIn(const exec::PreAggregates& pre, const std::string& environment,
                               uint64_t start) {
  model::SpanBatch batch;
  batch.scopes.emplace_back();
  batch.resources.emplace_back();  // unused
  for (const exec::PreAggregateService& s : pre.services) {
    model::Resource r;
    if (s.has_service) {
      r.attributes.begin = static_cast<uint32_t>(batch.attributes.size());
      r.attributes.count = 1;
      batch.attributes.push_back(model::KeyValue{batch.arena.Copy("service.name"),
                                                 model::Value::String(batch.arena.Copy(s.name))});
    }
    batch.resources.push_back(r);
  }
  for (size_t i = 0; i < pre.groups.size(); ++i) {
    const exec::PreAggregateGroup& g = pre.groups[i];
    model::Span span;
    const uint64_t id = i + 1;
    std::memcpy(span.trace_id.bytes.data(), &id, 8);
    std::memcpy(span.span_id.bytes.data(), &id, 8);
    span.name = batch.arena.Copy(g.name);
    span.start_time_unix_nano = span.end_time_unix_nano = start;
    span.resource_index = g.service + 1;
    batch.spans.push_back(span);
  }
  columnar::BlockBuilder builder(environment);
  builder.Append(batch);
  return builder;
}

}  // namespace

struct QueryExecutor::PreAggregatedPlan {
  exec::PreAggregates pre;                     // views into the meta's bytes
  std::vector<uint32_t> slice_bucket;          // per slice
  std::vector<uint32_t> sel;                   // the (service, name) groups the filters select
  std::vector<std::vector<ResultValue>> keys;  // per selected group, its result group's key
};

Result<bool> QueryExecutor::PlanPreAggregated(const columnar::BlockMeta& meta,
                                              PreAggregatedPlan* plan) const {
  const State& st = *state_;
  ARIADNE_RETURN_IF_ERROR(st.failed);
  const QuerySpec& spec = st.spec;
  if (!meta.pre_aggregates || st.traces || !exec::PreAggregatable(spec)) return false;
  exec::PreAggregates& pre = plan->pre;
  if (!exec::DecodePreAggregates(*meta.pre_aggregates, &pre).ok()) return false;  // rows answer
  if (pre.slices.empty()) return false;
  // Every slice inside the window and inside one time bucket.
  auto bucket_of = [&](uint64_t start) {
    const uint64_t b = (start - spec.start_unix_nano) / st.granularity_nano;
    return static_cast<uint32_t>(std::min<uint64_t>(b, st.buckets - 1));
  };
  std::vector<uint32_t>& slice_bucket = plan->slice_bucket;
  slice_bucket.assign(pre.slices.size(), 0);
  for (size_t i = 0; i < pre.slices.size(); ++i) {
    const exec::PreAggregateSlice& slice = pre.slices[i];
    if (slice.min_start_unix_nano < spec.start_unix_nano ||
        slice.max_start_unix_nano >= spec.end_unix_nano)
      return false;
    if (st.buckets == 1) continue;
    slice_bucket[i] = bucket_of(slice.min_start_unix_nano);
    if (bucket_of(slice.max_start_unix_nano) != slice_bucket[i]) return false;
  }
  ARIADNE_RETURN_IF_ERROR(st.CheckCancelled());
  if (pre.groups.empty()) return false;

  // The selected (service, name) groups and their result keys, by the row path's own code.
  const columnar::BlockBuilder stand_in =
      StandIn(pre, meta.environment, pre.slices.front().min_start_unix_nano);
  const columnar::Block& rows = stand_in.block();
  const std::vector<uint8_t> selected = SelectRows(spec, rows);
  plan->sel.clear();
  for (uint32_t r = 0; r < selected.size(); ++r)
    if (selected[r]) plan->sel.push_back(r);
  const std::vector<uint32_t>& sel = plan->sel;
  const size_t nb = spec.breakdowns.size();
  std::vector<uint32_t> ids(sel.size() * nb + 1);
  exec::ColumnViews views(rows, nullptr);
  std::vector<exec::BreakdownIds> keys;
  keys.reserve(nb);
  for (size_t b = 0; b < nb; ++b)
    keys.emplace_back(rows, spec.breakdowns[b], sel.data(), sel.size(), ids.data() + b * sel.size(),
                      &views);
  plan->keys.assign(sel.size(), {});
  for (size_t i = 0; i < sel.size(); ++i) {
    plan->keys[i].reserve(nb);
    for (size_t b = 0; b < nb; ++b) plan->keys[i].push_back(keys[b].KeyOf(sel[i]));
  }
  return true;
}

Result<bool> QueryExecutor::CountPreAggregated(const columnar::BlockMeta& meta,
                                               PreAggregatedSpans* spans) const {
  PreAggregatedPlan plan;
  ARIADNE_ASSIGN_OR_RETURN(bool can, PlanPreAggregated(meta, &plan));
  if (!can) return false;
  std::vector<uint64_t> spans_of_group(plan.pre.groups.size(), 0);
  for (const exec::PreAggregateSlice& slice : plan.pre.slices)
    for (const exec::PreAggregateCounts& pc : slice.counts) spans_of_group[pc.group] += pc.spans;
  for (size_t i = 0; i < plan.sel.size(); ++i)
    (*spans)[exec::CanonicalKey(plan.keys[i])] += spans_of_group[plan.sel[i]];
  return true;
}

Result<bool> QueryExecutor::ConsumePreAggregated(const columnar::BlockMeta& meta,
                                                 const PreAggregatedSpans* query_spans) {
  State& st = *state_;
  const QuerySpec& spec = st.spec;
  PreAggregatedPlan plan;
  ARIADNE_ASSIGN_OR_RETURN(bool can, PlanPreAggregated(meta, &plan));
  if (!can) return false;
  const exec::PreAggregates& pre = plan.pre;
  const std::vector<uint32_t>& slice_bucket = plan.slice_bucket;
  const std::vector<uint32_t>& sel = plan.sel;
  if (sel.empty()) {
    st.counters.blocks_scanned++;
    st.counters.spans_scanned += meta.num_rows;
    return true;
  }

  // Percentiles and HEATMAP stay exact for groups of at most kExactSampleLimit values: sketches
  // are added only to groups that get more than that in the query (or, without `query_spans`,
  // from this block alone) — the row path sketches them too; otherwise the rows answer. Checked
  // before any group is made.
  bool sketches = false;
  for (const Calculation& calc : spec.calculations) sketches |= exec::CanSketch(calc.op);
  if (sketches) {
    std::vector<uint64_t> spans_of_group(pre.groups.size(), 0);
    for (const exec::PreAggregateSlice& slice : pre.slices)
      for (const exec::PreAggregateCounts& pc : slice.counts) spans_of_group[pc.group] += pc.spans;
    std::unordered_map<std::string, uint64_t> block_spans;
    for (size_t i = 0; i < sel.size(); ++i)
      block_spans[exec::CanonicalKey(plan.keys[i])] += spans_of_group[sel[i]];
    for (const auto& [key, spans] : block_spans) {
      if (spans == 0) continue;
      uint64_t total = spans;
      if (query_spans != nullptr) {
        auto it = query_spans->find(key);
        total = it == query_spans->end() ? 0 : it->second;
      }
      if (total <= exec::kExactSampleLimit) return false;
    }
  }

  // The result group of each (service, name) group, kNoGroup when filtered out; and of each
  // service, for its sketches (PreAggregatable made sure all of a service's groups are selected
  // together and land in one result group when a calculation needs sketches).
  std::vector<uint32_t> result_of_group(pre.groups.size(), kNoGroup);
  std::vector<uint32_t> result_of_service(pre.services.size(), kNoGroup);
  for (size_t i = 0; i < sel.size(); ++i) {
    const uint32_t id = st.GroupFor(std::move(plan.keys[i]));
    if (id == kNoGroup) return st.failed;
    result_of_group[sel[i]] = id;
    result_of_service[pre.groups[sel[i]].service] = id;
  }
  const size_t nc = spec.calculations.size();
  st.counters.blocks_scanned++;
  st.counters.spans_scanned += meta.num_rows;
  for (size_t i = 0; i < pre.slices.size(); ++i) {
    const exec::PreAggregateSlice& slice = pre.slices[i];
    const uint32_t bucket = slice_bucket[i];
    for (const exec::PreAggregateCounts& pc : slice.counts) {
      const uint32_t id = result_of_group[pc.group];
      if (id == kNoGroup) continue;
      st.counters.spans_matched += pc.spans;
      if (pc.weight != static_cast<double>(pc.spans)) st.counters.sample_rate_weighted = true;
      exec::Group& g = st.groups[id];
      for (size_t c = 0; c < nc; ++c) {
        exec::Agg& agg = g.aggs[c * st.buckets + bucket];
        agg.weight += pc.weight;
        agg.spans += pc.spans;
        if (spec.calculations[c].column.empty()) continue;  // COUNT
        agg.weighted_sum += pc.weighted_sum;
        agg.value_weight += pc.weight;
        agg.min = std::min(agg.min, pc.min_ms);
        agg.max = std::max(agg.max, pc.max_ms);
        agg.values += pc.spans;
      }
    }
    for (const exec::PreAggregateSketches& k : slice.sketches) {
      const uint32_t id = result_of_service[k.service];
      if (id == kNoGroup) continue;
      exec::Group& g = st.groups[id];
      for (size_t c = 0; c < nc; ++c) {
        const CalcOp op = spec.calculations[c].op;
        if (!exec::CanSketch(op)) continue;
        ARIADNE_RETURN_IF_ERROR(st.PrepareForValues(g, c, exec::kExactSampleLimit + 1));
        exec::SketchedValues* sketched = g.sketched[c].get();
        if (sketched == nullptr) return Status::Internal("pre-aggregates: group not sketched");
        columnar::ByteReader in(op == CalcOp::kPercentile ? k.quantiles : k.grid);
        if (op == CalcOp::kPercentile) {
          QuantileSketch part;
          if (!part.DecodeFrom(&in) || !in.empty())
            return Status::DataLoss("block pre-aggregates: malformed duration sketch");
          sketched->quantiles[bucket].Merge(part);
        } else {
          GridHistogram part;
          if (!part.DecodeFrom(&in) || !in.empty())
            return Status::DataLoss("block pre-aggregates: malformed duration histogram");
          sketched->grids[bucket].Merge(part);
        }
      }
      ARIADNE_RETURN_IF_ERROR(st.ChargeSketches(g));
    }
  }
  return true;
}

}  // namespace ariadne::query
