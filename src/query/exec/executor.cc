// QueryExecutor's scan side: Consume (select rows, weigh them, group them, update aggregation
// state) and Merge. Row selection is in row_filter.cc, column resolution in column_view.cc, the
// aggregation state in aggregation.h, and Finish (results, having, order, series) in finish.cc.
#include "query/exec/executor.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <unordered_map>

#include "query/exec/aggregate_rows.h"
#include "query/exec/aggregation.h"
#include "query/exec/breakdown_ids.h"
#include "query/exec/column_view.h"
#include "query/exec/executor_state.h"
#include "query/exec/row_filter.h"

namespace ariadne::query {
namespace {

using columnar::Block;
using exec::ColumnView;
using exec::ColumnViews;
using exec::Group;
using exec::kNull;
using exec::Sample;

// Inside a big block, the cancel flag is also checked every so many rows of each calculation.
constexpr size_t kRowsBetweenCancelChecks = 65536;

// The loops below take plain pointers and sizes (byte stores may alias anything, so vector
// members would be reloaded per row).
size_t CountSelected(const std::vector<uint8_t>& selected) {
  const uint8_t* const s = selected.data();
  const size_t rows = selected.size();
  size_t n = 0;
  for (size_t r = 0; r < rows; ++r) n += s[r];
  return n;
}

// Writes the index of every selected row to out[0..], and may write out[count] (scratch).
void FillSelection(const std::vector<uint8_t>& selected, uint32_t* out) {
  const uint8_t* const s = selected.data();
  const size_t rows = selected.size();
  size_t i = 0;
  for (size_t r = 0; r < rows; ++r) {
    out[i] = static_cast<uint32_t>(r);
    i += s[r];
  }
}

// ⌊(start − window start) / granularity⌋ capped at the last bucket, by a multiplication with the
// reciprocal and a one-step correction instead of a 64-bit division per row.
void TimeBuckets(const uint64_t* start, const uint32_t* sel, size_t n, uint64_t window_start,
                 uint64_t g, uint64_t last, uint32_t* out) {
  const uint64_t last_start = last * g;  // ≥ this: the last bucket (no overflow: a window fits)
  const double inv_g = 1.0 / static_cast<double>(g);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t delta = start[sel[i]] - window_start;
    uint64_t q = last;
    if (delta < last_start) {
      q = static_cast<uint64_t>(static_cast<double>(delta) * inv_g);
      if (q * g > delta) {
        --q;
      } else if ((q + 1) * g <= delta) {
        ++q;
      }
    }
    out[i] = static_cast<uint32_t>(q);
  }
}

// out[i] = a[i] * width + b[i] (the caller checked that it fits).
void CombineIds(const uint32_t* a, const uint32_t* b, size_t n, uint32_t width, uint32_t* out) {
  for (size_t i = 0; i < n; ++i) out[i] = a[i] * width + b[i];
}

// ids[i] = table[ids[i]].
void MapThrough(const uint32_t* table, size_t n, uint32_t* ids) {
  for (size_t i = 0; i < n; ++i) ids[i] = table[ids[i]];
}

void CountPerGroup(const uint32_t* group_of, size_t n, uint32_t* counts) {
  for (size_t i = 0; i < n; ++i) counts[group_of[i]]++;
}

void DurationsMs(const Block& block, const uint32_t* sel, size_t n, double* out) {
  const uint64_t* const start = block.start_unix_nano.data();
  const uint64_t* const end = block.end_unix_nano.data();
  for (size_t i = 0; i < n; ++i) {
    const uint64_t s = start[sel[i]], e = end[sel[i]];
    out[i] = e > s ? static_cast<double>(e - s) / 1e6 : 0.0;
  }
}

}  // namespace

namespace exec {

// Each row's sample rate: its SampleRate (or sampleRate) attribute, rounded, at least 1; else its
// trace state's `ot=th:` threshold; else 1. Empty when every row's rate is 1.
std::vector<double> RowWeights(const columnar::Block& block) {
  const size_t rows = block.num_rows;
  std::vector<double> weight;
  std::vector<double> state_rate(block.trace_state.dict.size());
  bool any = false;
  for (size_t c = 0; c < state_rate.size(); ++c) {
    state_rate[c] = SampleRateFromTraceState(block.trace_state.dict[c]);
    any |= state_rate[c] != 1.0;
  }
  if (any) {
    weight.resize(rows);
    for (size_t r = 0; r < rows; ++r) weight[r] = state_rate[block.trace_state.codes[r]];
  }
  for (const char* key : {"SampleRate", "sampleRate"}) {
    for (const auto& attr : block.attributes) {
      if (attr.key != key || attr.rows.empty()) continue;
      if (weight.empty()) weight.assign(rows, 1.0);
      for (size_t e = 0; e < attr.rows.size(); ++e) {
        model::Value v = attr.ValueAt(e);
        double rate = 0;
        if (v.type == model::ValueType::kInt)
          rate = static_cast<double>(v.int_value);
        else if (v.type == model::ValueType::kDouble)
          rate = std::round(v.double_value);
        else if (v.type == model::ValueType::kString)
          rate = ParseNumber(v.str).value_or(0);
        weight[attr.rows[e]] = rate >= 1 ? rate : 1;
      }
    }
  }
  return weight;
}

}  // namespace exec

std::vector<uint8_t> SelectRows(const QuerySpec& spec, const Block& block) {
  ColumnViews views(block, nullptr);
  return exec::SelectBlockRows(spec, block, &views);
}

double SampleRateFromTraceState(std::string_view trace_state) {
  // ot=th:HEX (possibly among other ot sub-keys separated by ';'); threshold T over 56 bits:
  // the probability of keeping a span is 1 − T / 2^56, its adjusted count the inverse.
  size_t pos = 0;
  while (pos < trace_state.size()) {
    size_t comma = trace_state.find(',', pos);
    std::string_view member = trace_state.substr(
        pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    pos = comma == std::string_view::npos ? trace_state.size() : comma + 1;
    while (!member.empty() && member.front() == ' ') member.remove_prefix(1);
    if (member.substr(0, 3) != "ot=") continue;
    std::string_view ot = member.substr(3);
    size_t p = 0;
    while (p < ot.size()) {
      size_t semi = ot.find(';', p);
      std::string_view sub =
          ot.substr(p, semi == std::string_view::npos ? std::string_view::npos : semi - p);
      p = semi == std::string_view::npos ? ot.size() : semi + 1;
      if (sub.substr(0, 3) != "th:") continue;
      std::string_view hex = sub.substr(3);
      if (hex.empty() || hex.size() > 14) return 1;
      uint64_t t = 0;
      for (char c : hex) {
        int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
        if (d < 0) return 1;
        t = (t << 4) | static_cast<uint64_t>(d);
      }
      t <<= 4 * (14 - hex.size());
      const double keep = 1.0 - static_cast<double>(t) / 72057594037927936.0;  // 2^56
      return keep > 0 ? 1.0 / keep : 1;
    }
  }
  return 1;
}

uint32_t QueryExecutor::State::GroupFor(std::vector<ResultValue>&& key) {
  std::string canonical = exec::CanonicalKey(key);
  auto it = group_index.find(canonical);
  if (it != group_index.end()) return it->second;
  if (budget != nullptr) {
    failed = budget->CheckGroups(groups.size() + 1, spec.breakdowns);
    // The group, its per-bucket aggregates, its key (twice: values and canonical form) and the
    // index node.
    if (failed.ok())
      failed = charge.Add(
          sizeof(Group) + 2 * canonical.size() + 64 + key.size() * sizeof(ResultValue) +
          spec.calculations.size() * (buckets * sizeof(exec::Agg) + sizeof(std::vector<Sample>) +
                                      sizeof(std::unique_ptr<exec::SketchedValues>)));
    if (!failed.ok()) return kNoGroup;
  }
  const uint32_t id = static_cast<uint32_t>(groups.size());
  group_index.emplace(std::move(canonical), id);
  Group g;
  g.key = std::move(key);
  g.aggs.resize(spec.calculations.size() * buckets);
  g.samples.resize(spec.calculations.size());
  g.sketched.resize(spec.calculations.size());
  groups.push_back(std::move(g));
  return id;
}

Status QueryExecutor::State::ReserveSamples(std::vector<Sample>* samples, size_t extra) {
  if (samples->capacity() >= samples->size() + extra) return Status::Ok();
  const size_t capacity = std::max(samples->size() + extra, samples->capacity() * 2);
  ARIADNE_RETURN_IF_ERROR(charge.Add((capacity - samples->capacity()) * sizeof(Sample)));
  samples->reserve(capacity);
  return Status::Ok();
}

Status QueryExecutor::State::PrepareForValues(Group& g, size_t c, size_t extra) {
  const CalcOp op = spec.calculations[c].op;
  std::vector<Sample>& samples = g.samples[c];
  if (g.sketched[c]) return Status::Ok();
  if (!exec::CanSketch(op) || spec.exact || samples.size() + extra <= exec::kExactSampleLimit)
    return ReserveSamples(&samples, extra);
  auto sketched = std::make_unique<exec::SketchedValues>(op, buckets);
  sketched->AddSamples(samples);
  charge.Release(samples.capacity() * sizeof(Sample));
  std::vector<Sample>().swap(samples);
  g.sketched[c] = std::move(sketched);
  return ChargeSketches(g);
}

Status QueryExecutor::State::ChargeSketches(Group& g) {
  for (auto& sketched : g.sketched) {
    if (!sketched) continue;
    const uint64_t bytes = sketched->Bytes();
    if (bytes > sketched->charged) {
      const uint64_t grown = bytes - sketched->charged;
      sketched->charged = bytes;
      ARIADNE_RETURN_IF_ERROR(charge.Add(grown));
    }
  }
  return Status::Ok();
}

QueryExecutor::QueryExecutor(const QuerySpec& spec, QueryBudget* budget)
    : state_(std::make_unique<State>(spec, budget)) {}
QueryExecutor::~QueryExecutor() = default;
QueryExecutor::QueryExecutor(QueryExecutor&&) noexcept = default;
QueryExecutor& QueryExecutor::operator=(QueryExecutor&&) noexcept = default;

void QueryExecutor::CountSkippedBlock() { state_->counters.blocks_skipped++; }

void QueryExecutor::RestrictToTraces(std::shared_ptr<const TraceIdSet> traces) {
  state_->traces = std::move(traces);
}

Status QueryExecutor::Consume(const Block& block) {
  State& st = *state_;
  ARIADNE_RETURN_IF_ERROR(st.failed);
  ARIADNE_RETURN_IF_ERROR(st.CheckCancelled());
  const QuerySpec& spec = st.spec;
  const size_t rows = block.num_rows;
  st.counters.blocks_scanned++;
  st.counters.spans_scanned += rows;
  if (rows == 0) return Status::Ok();

  // This block's column views and scratch vectors, given back when the block is done.
  BudgetCharge scratch(st.budget);
  ARIADNE_RETURN_IF_ERROR(scratch.Add(rows));
  ColumnViews views(block, &scratch);
  auto view_of = [&](const std::string& column) -> const ColumnView& { return views.Get(column); };
  // The selection vector: every later step works on the n selected rows only. A single filter on
  // a sparse span attribute gives it directly; otherwise from the per-row selection bytes.
  const size_t nb = spec.breakdowns.size();
  const bool multi_bucket = st.buckets > 1;
  const size_t per_selected = 4 + 4 + (multi_bucket ? 4 : 0) + 4 * nb;
  std::unique_ptr<uint32_t[]> sel;
  size_t n = 0;
  std::optional<std::vector<uint32_t>> sparse;
  if (!st.traces) sparse = exec::SelectSparseRows(spec, block);
  if (sparse) {
    n = sparse->size();
    if (n == 0) return Status::Ok();
    ARIADNE_RETURN_IF_ERROR(scratch.Add(n * per_selected));
    sel.reset(new uint32_t[n + 1]);
    std::copy(sparse->begin(), sparse->end(), sel.get());
    std::vector<uint32_t>().swap(*sparse);
  } else {
    std::vector<uint8_t> selected = exec::SelectBlockRows(spec, block, &views);
    ARIADNE_RETURN_IF_ERROR(views.status());
    ARIADNE_RETURN_IF_ERROR(st.CheckCancelled());
    if (st.traces) {
      for (size_t r = 0; r < rows; ++r)
        if (selected[r] && !st.traces->count(block.trace_id[r])) selected[r] = 0;
    }
    n = CountSelected(selected);
    if (n == 0) return Status::Ok();
    ARIADNE_RETURN_IF_ERROR(scratch.Add(n * per_selected));
    sel.reset(new uint32_t[n + 1]);  // + 1: the loop writes one past
    FillSelection(selected, sel.get());
  }

  // 3. Sample rates (empty: every row weighs 1).
  const std::vector<double> weight = exec::RowWeights(block);
  st.counters.spans_matched += n;
  if (!weight.empty()) {
    for (size_t i = 0; i < n; ++i)
      if (weight[sel[i]] != 1.0) st.counters.sample_rate_weighted = true;
  }

  // 4. Group per selected row: local ids per breakdown, mapped to global groups once per
  // distinct combination.
  std::unique_ptr<uint32_t[]> group_of(new uint32_t[n]);
  if (nb == 0) {
    const uint32_t only_group = st.GroupFor({});
    if (only_group == kNoGroup) return st.failed;
    std::fill(group_of.get(), group_of.get() + n, only_group);
  } else {
    std::unique_ptr<uint32_t[]> ids(new uint32_t[n * nb]);
    std::vector<exec::BreakdownIds> keys;
    keys.reserve(nb);
    for (size_t b = 0; b < nb; ++b)
      keys.emplace_back(block, spec.breakdowns[b], sel.get(), n, ids.get() + b * n, &views);
    ARIADNE_RETURN_IF_ERROR(views.status());
    auto group_of_row = [&](uint32_t row) {
      std::vector<ResultValue> key;
      key.reserve(nb);
      for (size_t b = 0; b < nb; ++b) key.push_back(keys[b].KeyOf(row));
      return st.GroupFor(std::move(key));
    };
    const uint32_t* id0 = ids.get();
    const uint32_t* id1 = nb >= 2 ? ids.get() + n : nullptr;
    const uint64_t table_size = nb == 1   ? keys[0].space()
                                : nb == 2 ? keys[0].space() * keys[1].space()
                                          : UINT64_MAX;
    if (table_size <= (1u << 22)) {
      // A dense table from the (combined) local id to the group.
      ARIADNE_RETURN_IF_ERROR(scratch.Add(table_size * 4));
      std::vector<uint32_t> table(table_size, kNoGroup);
      // Three tight passes: combined ids (into group_of), a group for each id not seen yet, then
      // ids → groups.
      if (nb == 1) {
        std::copy(id0, id0 + n, group_of.get());
      } else {
        CombineIds(id0, id1, n, static_cast<uint32_t>(keys[1].space()), group_of.get());
      }
      for (size_t i = 0; i < n; ++i) {
        uint32_t& slot = table[group_of[i]];
        if (slot != kNoGroup) continue;
        slot = group_of_row(sel[i]);
        if (slot == kNoGroup) return st.failed;
      }
      MapThrough(table.data(), n, group_of.get());
    } else {
      std::unordered_map<std::string, uint32_t> local_to_group;
      std::string local_key;
      for (size_t i = 0; i < n; ++i) {
        local_key.clear();
        for (size_t b = 0; b < nb; ++b)
          local_key.append(reinterpret_cast<const char*>(&ids[b * n + i]), 4);
        auto it = local_to_group.find(local_key);
        if (it == local_to_group.end()) {
          const uint32_t group = group_of_row(sel[i]);
          if (group == kNoGroup) return st.failed;
          ARIADNE_RETURN_IF_ERROR(scratch.Add(local_key.size() + 64));
          it = local_to_group.emplace(local_key, group).first;
        }
        group_of[i] = it->second;
      }
    }
  }

  // 5. Aggregate.
  ARIADNE_RETURN_IF_ERROR(st.CheckCancelled());
  std::unique_ptr<uint32_t[]> bucket_of;
  if (multi_bucket) {
    bucket_of.reset(new uint32_t[n]);
    TimeBuckets(block.start_unix_nano.data(), sel.get(), n, spec.start_unix_nano,
                st.granularity_nano, st.buckets - 1, bucket_of.get());
  }
  // Per group, room for this block's values: samples grown once per block rather than by repeated
  // doubling, or a switch to sketches past the exact limit.
  bool any_samples = false;
  for (const Calculation& calc : spec.calculations) any_samples |= exec::NeedsSamples(calc.op);
  std::vector<uint32_t> rows_per_group;
  if (any_samples) {
    rows_per_group.assign(st.groups.size(), 0);
    CountPerGroup(group_of.get(), n, rows_per_group.data());
    for (size_t group = 0; group < rows_per_group.size(); ++group) {
      const size_t count = rows_per_group[group];
      if (count == 0) continue;
      for (size_t c = 0; c < spec.calculations.size(); ++c)
        if (exec::NeedsSamples(spec.calculations[c].op))
          ARIADNE_RETURN_IF_ERROR(st.PrepareForValues(st.groups[group], c, count));
    }
  }
  // Per calculation, the state of each group looked up once, then one pass over the selected
  // rows (in chunks, checking the cancel flag between them).
  const size_t ngroups = st.groups.size();
  exec::GroupTargets targets(ngroups);
  exec::RowsToAggregate input{
      sel.get(), group_of.get(), bucket_of.get(), weight.empty() ? nullptr : weight.data(), 0, 0};
  std::unique_ptr<double[]> values;  // duration_ms of the selected rows, computed once
  for (size_t c = 0; c < spec.calculations.size(); ++c) {
    const Calculation& calc = spec.calculations[c];
    for (size_t gi = 0; gi < ngroups; ++gi) {
      Group& g = st.groups[gi];
      targets.aggs[gi] = g.aggs.data() + c * st.buckets;
      targets.samples[gi] = &g.samples[c];
      exec::SketchedValues* sketched = g.sketched[c].get();
      targets.quantiles[gi] =
          sketched && !sketched->quantiles.empty() ? sketched->quantiles.data() : nullptr;
      targets.grids[gi] = sketched && !sketched->grids.empty() ? sketched->grids.data() : nullptr;
    }
    const bool direct_duration = calc.column == "duration_ms" &&
                                 calc.op != CalcOp::kCountDistinct &&
                                 calc.op != CalcOp::kConcurrency;
    const ColumnView* view =
        calc.column.empty() || direct_duration ? nullptr : &view_of(calc.column);
    ARIADNE_RETURN_IF_ERROR(views.status());
    if (direct_duration && !values) {
      values.reset(new double[n]);
      DurationsMs(block, sel.get(), n, values.get());
    }
    for (size_t chunk = 0; chunk < n; chunk += kRowsBetweenCancelChecks) {
      ARIADNE_RETURN_IF_ERROR(st.CheckCancelled());
      input.begin = chunk;
      input.end = std::min(n, chunk + kRowsBetweenCancelChecks);
      if (calc.op == CalcOp::kConcurrency) {
        exec::AggregateConcurrency(input, block, &targets);
      } else if (calc.op == CalcOp::kCountDistinct) {
        exec::AggregateCountDistinct(input, view, &targets);
      } else if (direct_duration) {
        exec::AggregateValues(input, values.get(), exec::NeedsSamples(calc.op), &targets);
      } else if (view != nullptr) {
        exec::AggregateViewValues(input, *view, exec::NeedsSamples(calc.op), &targets);
      } else {
        exec::AggregateCounts(input, &targets);
      }
    }
  }
  // Sketches grow as values arrive: charge what this block added.
  for (size_t group = 0; group < rows_per_group.size(); ++group)
    if (rows_per_group[group] != 0) ARIADNE_RETURN_IF_ERROR(st.ChargeSketches(st.groups[group]));
  return Status::Ok();
}

Status QueryExecutor::Merge(QueryExecutor&& other) {
  State& st = *state_;
  State& o = *other.state_;
  ARIADNE_RETURN_IF_ERROR(st.failed);
  ARIADNE_RETURN_IF_ERROR(o.failed);
  ARIADNE_RETURN_IF_ERROR(st.CheckCancelled());
  st.counters.blocks_scanned += o.counters.blocks_scanned;
  st.counters.blocks_skipped += o.counters.blocks_skipped;
  st.counters.spans_scanned += o.counters.spans_scanned;
  st.counters.spans_matched += o.counters.spans_matched;
  st.counters.sample_rate_weighted |= o.counters.sample_rate_weighted;
  if (!st.traces) st.traces = o.traces;
  for (Group& g : o.groups) {
    const uint32_t id = st.GroupFor(std::vector<ResultValue>(g.key));
    if (id == kNoGroup) return st.failed;
    Group& mine = st.groups[id];
    for (size_t i = 0; i < g.aggs.size(); ++i) mine.aggs[i].Merge(g.aggs[i]);
    for (size_t c = 0; c < g.samples.size(); ++c) {
      if (g.sketched[c]) {
        // Theirs is sketched: so is the union.
        ARIADNE_RETURN_IF_ERROR(st.PrepareForValues(mine, c, exec::kExactSampleLimit + 1));
        if (mine.sketched[c]) {
          mine.sketched[c]->Merge(*g.sketched[c]);
          g.sketched[c].reset();
          continue;
        }
        // (`exact` never sketches, so this is not reached; keep the values anyway.)
        g.samples[c].clear();
        continue;
      }
      ARIADNE_RETURN_IF_ERROR(st.PrepareForValues(mine, c, g.samples[c].size()));
      if (mine.sketched[c]) {
        mine.sketched[c]->AddSamples(g.samples[c]);
      } else {
        mine.samples[c].insert(mine.samples[c].end(), g.samples[c].begin(), g.samples[c].end());
      }
      std::vector<Sample>().swap(g.samples[c]);  // the copy is charged to this executor now
    }
    ARIADNE_RETURN_IF_ERROR(st.ChargeSketches(mine));
  }
  // `other` is spent: free its groups and give its charge back.
  std::vector<Group>().swap(o.groups);
  o.group_index.clear();
  o.charge.ReleaseAll();
  return Status::Ok();
}

}  // namespace ariadne::query
