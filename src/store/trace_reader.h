// TraceReader: the trace role of the store seam (span_store.h) — whole traces by id, and trace
// search with summaries the engine computes.
//
// Threads: every method may be called concurrently from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "model/ids.h"
#include "model/span_batch.h"
#include "query/exec_context.h"
#include "query/query_spec.h"

namespace ariadne::store {

// One stored trace. `environments` lists, per span of `spans`, which environment it was stored in
// (a trace normally lives in exactly one).
struct TraceResult {
  model::SpanBatch spans;
  std::vector<std::string> environments;
};

// Trace search (Jaeger-style): a trace matches when one of its spans lies in the window and passes
// every filter (span columns as in query::QuerySpec: name, service.name, duration_ms, error,
// attributes). Newest first.
struct TraceSearchRequest {
  std::string environment;  // empty: all
  uint64_t start_unix_nano = 0;
  uint64_t end_unix_nano = 0;
  std::vector<query::Filter> filters;
  size_t limit = 20;
};

struct TraceSummary {
  model::TraceId trace_id;
  std::string environment;
  std::string root_service;
  std::string root_name;
  uint64_t start_unix_nano = 0;
  uint64_t duration_nano = 0;
  uint64_t span_count = 0;
  uint64_t error_count = 0;
  std::vector<std::string> services;
};

// Where a trace is expected in time (e.g. from the search result or the link that named it), so an
// engine with time partitions reads only those around it. Zero fields: no hint.
struct TraceTimeHint {
  uint64_t start_unix_nano = 0;
  uint64_t end_unix_nano = 0;
  bool empty() const { return start_unix_nano == 0 && end_unix_nano == 0; }
};

// Summarizes one trace for search results: root span, time range, services, errors.
TraceSummary SummarizeTrace(const TraceResult& trace);

class TraceReader {
 public:
  virtual ~TraceReader() = default;

  // Every span of trace `id` in any environment (or only `environment` when non-empty).
  // kNotFound when there is none.
  virtual Result<TraceResult> GetTrace(const model::TraceId& id,
                                       std::string_view environment = {}) = 0;

  // GetTrace with a time hint: the trace has a span starting in the hint's window. Engines may
  // read only the partitions around it (a hint that misses the trace may answer kNotFound); the
  // default ignores the hint.
  virtual Result<TraceResult> GetTraceNear(const model::TraceId& id, std::string_view environment,
                                           const TraceTimeHint& hint) {
    (void)hint;
    return GetTrace(id, environment);
  }

  // Trace search; `context` as for SpanQuerier::RunQuery.
  virtual Result<std::vector<TraceSummary>> SearchTraces(
      const TraceSearchRequest& request, const query::ExecContext& context = {}) = 0;

  // Calls `visit` once per trace that has at least one span starting in
  // [start_unix_nano, end_unix_nano), with every stored span of that trace, in order of the
  // traces' earliest start time within the window, until `visit` returns false. Limited to
  // `environment` when non-empty. Used by X-Ray's trace summaries and by tests as the simple,
  // obviously right way to see every trace; to be replaced by paged, engine-filtered search
  // (issue 13, "The seam").
  virtual Status ForEachTrace(uint64_t start_unix_nano, uint64_t end_unix_nano,
                              std::string_view environment,
                              const std::function<bool(const TraceResult&)>& visit) = 0;
};

}  // namespace ariadne::store
