#include "query/xray/trace_reads.h"

#include <algorithm>
#include <limits>
#include <tuple>
#include <unordered_set>

namespace ariadne::query::xray {

using xray_filter::Filter;
using xray_filter::TraceView;

namespace {

// The trace's order key in a window that starts at `window_start`: its earliest span start at or
// after it (the window's end is not needed: the store only returns traces with a span inside).
uint64_t FirstStartInWindow(const model::SpanBatch& spans, uint64_t window_start) {
  uint64_t first = std::numeric_limits<uint64_t>::max();
  for (const model::Span& span : spans.spans) {
    if (span.start_time_unix_nano >= window_start)
      first = std::min(first, span.start_time_unix_nano);
  }
  return first;
}

// Stable pseudo-random fraction in [0, 1) of a trace id.
double IdFraction(const model::TraceId& id) {
  uint64_t h = model::TraceIdHash{}(id)*0x9E3779B97F4A7C15ULL;
  return static_cast<double>(h >> 11) / static_cast<double>(1ULL << 53);
}

// The time an X-Ray trace id carries (its first 4 bytes, epoch seconds).
uint64_t IdSeconds(const model::TraceId& id) {
  return (uint64_t{id.bytes[0]} << 24) | (uint64_t{id.bytes[1]} << 16) |
         (uint64_t{id.bytes[2]} << 8) | uint64_t{id.bytes[3]};
}

}  // namespace

Result<MatchingTracesPage> XrayTraceReader::MatchingTraces(
    const MatchingTracesRequest& request,
    const std::function<void(const TraceView&)>& visit) const {
  MatchingTracesPage page;
  size_t returned = 0;
  TracePosition last;
  last.window_start_nano = request.start_nano;
  uint64_t scan_start = request.start_nano;
  if (request.after) scan_start = std::max(scan_start, request.after->first_start_nano);
  Status status = store_->ForEachTrace(
      scan_start, request.end_nano, environment_, [&](const store::TraceResult& trace) {
        if (request.cancel && request.cancel->cancelled()) return false;
        if (trace.spans.spans.empty()) return true;
        const model::TraceId& id = trace.spans.spans.front().trace_id;
        const uint64_t first = FirstStartInWindow(trace.spans, request.start_nano);
        if (request.after && std::tie(first, id) <= std::tie(request.after->first_start_nano,
                                                             request.after->trace_id)) {
          return true;  // returned (or passed over) by an earlier page
        }
        if (request.trace_id_seconds) {
          const uint64_t seconds = IdSeconds(id);
          if (seconds < request.trace_id_seconds->first ||
              seconds > request.trace_id_seconds->second) {
            return true;
          }
        }
        if (request.sample_fraction < 1.0 && IdFraction(id) >= request.sample_fraction) return true;
        ++page.processed;
        TraceView view = TraceView::Build(trace.spans);
        if (request.filter && !request.filter->Matches(view, request.groups)) return true;
        if (request.limit != 0 && returned == request.limit) {
          page.next = last;
          return false;
        }
        visit(view);
        ++returned;
        last.first_start_nano = first;
        last.trace_id = id;
        return true;
      });
  if (!status.ok()) return status;
  if (request.cancel && request.cancel->cancelled())
    return Status(StatusCode::kCancelled, "the client went away");
  return page;
}

Result<store::TraceResult> XrayTraceReader::Trace(const model::TraceId& id) const {
  return store_->GetTrace(id, environment_);
}

Result<XrayServiceGraph> XrayTraceReader::ServiceGraph(uint64_t start_nano, uint64_t end_nano,
                                                       const Filter& filter,
                                                       const xray_filter::GroupResolver* groups,
                                                       const CancelFlagPtr& cancel) const {
  XrayServiceGraph graph;
  MatchingTracesRequest request;
  request.start_nano = start_nano;
  request.end_nano = end_nano;
  request.filter = &filter;
  request.groups = groups;
  request.limit = 0;
  request.cancel = cancel;
  auto page = MatchingTraces(request, [&graph](const TraceView& view) { graph.Add(view); });
  if (!page.ok()) return page.status();
  return graph;
}

Result<std::map<uint64_t, XrayGraphStats>> XrayTraceReader::TimeSeries(
    uint64_t start_nano, uint64_t end_nano, const Filter& filter,
    const xray_filter::GroupResolver* groups, const std::vector<std::string>& services,
    uint64_t period_seconds, const CancelFlagPtr& cancel) const {
  std::map<uint64_t, XrayGraphStats> buckets;
  if (period_seconds == 0) period_seconds = 60;
  MatchingTracesRequest request;
  request.start_nano = start_nano;
  request.end_nano = end_nano;
  request.filter = &filter;
  request.groups = groups;
  request.limit = 0;
  request.cancel = cancel;
  auto page = MatchingTraces(request, [&](const TraceView& view) {
    for (const xray_filter::SegmentInfo& segment : view.segments()) {
      if (services.empty()
              ? segment.parent_segment >= 0
              : std::find(services.begin(), services.end(), segment.name) == services.end()) {
        continue;
      }
      const uint64_t seconds = segment.start <= 0 ? 0 : static_cast<uint64_t>(segment.start);
      buckets[seconds - seconds % period_seconds].Add(segment);
    }
  });
  if (!page.ok()) return page.status();
  return buckets;
}

Result<XrayServiceGraph> XrayTraceReader::TraceGraph(const std::vector<model::TraceId>& ids) const {
  XrayServiceGraph graph;
  for (const model::TraceId& id : ids) {
    auto trace = store_->GetTrace(id, environment_);
    if (!trace.ok()) {
      if (trace.status().IsNotFound()) continue;
      return trace.status();
    }
    if (trace->spans.spans.empty()) continue;
    graph.Add(TraceView::Build(trace->spans));
  }
  return graph;
}

Result<std::vector<std::string>> XrayTraceReader::UnknownServices(const Filter& filter) const {
  std::vector<std::string> unknown;
  std::vector<std::string> referenced = filter.ReferencedServices();
  if (referenced.empty()) return unknown;
  auto services = store_->ListServices(environment_);
  if (!services.ok()) return services.status();
  std::unordered_set<std::string> known;
  for (const store::ServiceSummary& s : *services) known.insert(s.name);
  for (std::string& name : referenced) {
    if (!known.count(name)) unknown.push_back(std::move(name));
  }
  return unknown;
}

}  // namespace ariadne::query::xray
