// QueryExecutor::State: what one executor accumulates (groups and their aggregation state, scan
// counters, the trace restriction, its budget charge). Shared by executor.cc (Consume, Merge) and
// finish.cc (Finish); nothing else includes it.
//
// Contract: every byte the groups, samples and sketches hold is charged to `charge` before (or,
// for sketch growth, right after each block) it is taken; `failed` keeps the first limit hit, and
// after it the executor only reports it.
//
// Threads: used by one thread.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "query/exec/aggregation.h"
#include "query/exec/executor.h"
#include "query/exec/query_budget.h"

namespace ariadne::query {

constexpr uint32_t kNoGroup = UINT32_MAX;

struct QueryExecutor::State {
  QuerySpec spec;
  size_t buckets = 1;
  uint64_t granularity_nano = 1;
  std::vector<exec::Group> groups;
  std::unordered_map<std::string, uint32_t> group_index;
  QueryResult counters;                                     // scan statistics only
  std::shared_ptr<const QueryExecutor::TraceIdSet> traces;  // restriction, when set
  QueryBudget* budget;                                      // null: unlimited
  BudgetCharge charge;  // groups, samples and sketches held by this executor
  Status failed;        // the first limit this executor ran into

  State(const QuerySpec& s, QueryBudget* b) : spec(s), budget(b), charge(b) {
    granularity_nano = spec.granularity_seconds * 1'000'000'000ULL;
    buckets = std::max<size_t>(1, spec.bucket_count());
  }

  Status CheckCancelled() const { return budget ? budget->CheckCancelled() : Status::Ok(); }

  // The group of `key`, created when new; kNoGroup (and `failed` set) past the group cap or the
  // memory budget.
  uint32_t GroupFor(std::vector<ResultValue>&& key);

  // Grows `samples` to hold `extra` more, charging the new capacity first.
  Status ReserveSamples(std::vector<exec::Sample>* samples, size_t extra);

  // Makes room for `extra` more values of calculation `c` in `g`: more samples while the group
  // stays within the exact limit (or the spec asks for exact), else a switch to sketches (the
  // samples move into them and are freed).
  Status PrepareForValues(exec::Group& g, size_t c, size_t extra);

  // Charges what g's sketches grew by since the last call.
  Status ChargeSketches(exec::Group& g);
};

}  // namespace ariadne::query
