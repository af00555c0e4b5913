// TraceReader: the trace role of the store seam (span_store.h) — whole traces by id, trace
// search with summaries the engine computes, and a paged trace search with a trace-level filter
// (SearchTracePage) that X-Ray reads, group views and `xray_filter` use.
//
// Threads: every method may be called concurrently from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "model/ids.h"
#include "model/span_batch.h"
#include "query/exec_context.h"
#include "query/query_spec.h"
#include "query/xray_filter/annotation_need.h"
#include "query/xray_filter/field_need.h"
#include "query/xray_filter/trace_facts.h"

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
  // Filled by SummarizeTrace for SearchTracePage (SearchTraces leaves them as they come):
  uint64_t end_unix_nano = 0;              // latest span end
  uint64_t last_span_start_unix_nano = 0;  // latest span start
  query::xray_filter::TraceFacts xray;     // the trace as X-Ray sees it (root segment, flags, ...)
};

// A trace-level filter for SearchTracePage. Every set field must hold.
struct TraceFilter {
  std::string root_service;  // the root span's service (TraceSummary::root_service); "" any
  std::string root_name;     // the root span's name; "" any
  uint64_t min_duration_nano = 0;
  uint64_t max_duration_nano = 0;  // 0: no upper bound
  std::optional<bool> has_error;   // error_count > 0 (a span with status ERROR)
  std::optional<bool> root_fault;  // the X-Ray fault flag of the root segment
  // X-Ray annotations (span attributes "annotation.KEY") that some span of the trace carries with
  // exactly this string value: {KEY, value}. A trace with more distinct annotation values than
  // its summary keeps (TraceFacts::kMaxAnnotations) passes (the caller's refinement decides).
  std::vector<std::pair<std::string, std::string>> annotations;
  // What the caller's X-Ray filter expression asks of a trace's annotations, whatever the
  // operators (query/xray_filter/annotation_need.h): a trace none of whose annotations a need
  // admits does not pass (one whose summary dropped annotations does). The embedded engine also
  // passes over whole blocks by them (their side files' digests, trace_block_digest.h).
  std::vector<query::xray_filter::AnnotationNeed> annotation_needs;
  // What the expression's other top-level terms ask of a trace (query/xray_filter/field_need.h:
  // flags, responsetime/duration/http.status ranges, root strings, users, services). Only a hint
  // for passing over whole blocks (the embedded engine's digests); `refine` still decides each
  // trace.
  std::vector<query::xray_filter::FieldNeed> field_needs;
  // "Some span matches": one span starting in the window passes every filter (the rule of
  // SearchTraces). Empty: no span condition.
  std::vector<query::Filter> span_filters;
};

// Where a page stopped: the order key of the last trace it returned.
struct TracePageToken {
  uint64_t start_unix_nano = 0;  // the trace's earliest span start
  model::TraceId trace_id;
};

enum class TraceOrder { kOldestFirst, kNewestFirst };

// An in-process refinement applied after `filter` (the caller's own predicate over the summary,
// e.g. an X-Ray filter expression): kYes keeps the trace, kNo drops it, kUnknown returns it marked
// undecided so the caller fetches the whole trace and decides.
enum class TraceVerdict { kNo, kYes, kUnknown };

// Paged trace search. A trace is in the window when the range of its span starts overlaps
// [start_unix_nano, end_unix_nano) (earliest start < end and latest start >= start); its order
// key is (earliest span start, trace id), ascending or descending. `after` resumes strictly after
// a token of an earlier page with the same window and order. One entry per trace and environment.
struct TracePageRequest {
  std::string environment;  // "" all
  uint64_t start_unix_nano = 0;
  uint64_t end_unix_nano = 0;
  TraceFilter filter;
  TraceOrder order = TraceOrder::kOldestFirst;
  std::optional<TracePageToken> after;
  size_t limit = 100;  // entries (decided or not) per page; 0 = no limit
  std::function<TraceVerdict(const TraceSummary&)> refine;  // null: keep every trace
};

struct TracePageEntry {
  TraceSummary summary;
  bool decided = true;  // false: `refine` answered kUnknown
  // The whole trace (spans by start time, as GetTrace returns them) when the engine read it to
  // build the summary (ClickHouse); null otherwise, and the caller fetches it if it needs it.
  std::shared_ptr<const TraceResult> trace;
};

struct TracePage {
  std::vector<TracePageEntry> traces;
  std::optional<TracePageToken> next;  // set when more traces may follow
  uint64_t examined = 0;               // traces in the window the page looked at
};

// Where a trace is expected in time (e.g. from the search result or the link that named it), so an
// engine with time partitions reads only those around it. Zero fields: no hint.
struct TraceTimeHint {
  uint64_t start_unix_nano = 0;
  uint64_t end_unix_nano = 0;
  bool empty() const { return start_unix_nano == 0 && end_unix_nano == 0; }
};

// Summarizes one trace: root span, time range, services, errors, and its X-Ray facts (built from
// query::xray_filter::TraceView over the spans in the order given, so pass them as GetTrace
// returns them: by start time).
TraceSummary SummarizeTrace(const TraceResult& trace);

// Applies `filter` (all but span_filters) to a summary.
bool PassesTraceFilter(const TraceFilter& filter, const TraceSummary& summary);

// True when one span of `trace` starts in the window and passes every filter (SearchTraces' rule),
// evaluated by the query engine's own row selection.
bool TraceHasMatchingSpan(const TraceResult& trace, uint64_t start_unix_nano,
                          uint64_t end_unix_nano, const std::vector<query::Filter>& filters);

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

  // Paged trace search (see TracePageRequest). The embedded engine answers from its trace-summary
  // index (store/embedded/trace_index.h) without reading spans; ClickHouse pages the window
  // through its trace_index table in SQL and summarizes the page's traces. The default walks
  // ForEachTrace (for test doubles that wrap an engine).
  virtual Result<TracePage> SearchTracePage(const TracePageRequest& request,
                                            const query::ExecContext& context = {});

  // Calls `visit` once per trace that has at least one span starting in
  // [start_unix_nano, end_unix_nano), with every stored span of that trace, in order of the
  // traces' earliest start time within the window, until `visit` returns false. Limited to
  // `environment` when non-empty. The simple, obviously right way to see every trace: used by
  // tests as the oracle of SearchTracePage and by its default; reads use SearchTracePage.
  virtual Status ForEachTrace(uint64_t start_unix_nano, uint64_t end_unix_nano,
                              std::string_view environment,
                              const std::function<bool(const TraceResult&)>& visit) = 0;
};

}  // namespace ariadne::store
