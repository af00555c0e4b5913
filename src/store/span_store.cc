#include "store/span_store.h"

#include <algorithm>
#include <future>

#include "columnar/block.h"
#include "query/exec/executor.h"
#include "query/xray_filter/trace_view.h"

namespace ariadne::store {

Status SpanWriter::Append(std::string environment, model::SpanBatch batch) {
  std::promise<Status> promise;
  std::future<Status> future = promise.get_future();
  AppendAsync(std::move(environment), std::move(batch),
              [&promise](Status status) { promise.set_value(std::move(status)); });
  return future.get();
}

}  // namespace ariadne::store

namespace ariadne::store {

TraceSummary SummarizeTrace(const TraceResult& trace) {
  TraceSummary summary;
  const model::SpanBatch& b = trace.spans;
  if (b.spans.empty()) return summary;
  summary.trace_id = b.spans[0].trace_id;
  summary.environment = trace.environments.empty() ? "" : trace.environments[0];
  summary.span_count = b.spans.size();
  uint64_t start = UINT64_MAX, end = 0;
  const model::Span* root = nullptr;
  for (const model::Span& s : b.spans) {
    start = std::min(start, s.start_time_unix_nano);
    end = std::max(end, std::max(s.end_time_unix_nano, s.start_time_unix_nano));
    if (s.status_code == model::StatusCode::kError) summary.error_count++;
    std::string service(b.ServiceNameOf(s));
    if (std::find(summary.services.begin(), summary.services.end(), service) ==
        summary.services.end())
      summary.services.push_back(std::move(service));
    // The root is the span without a parent; failing that (its parent not stored yet), the
    // earliest span.
    if (s.is_root() && (root == nullptr || !root->is_root() ||
                        s.start_time_unix_nano < root->start_time_unix_nano))
      root = &s;
    else if (root == nullptr ||
             (!root->is_root() && s.start_time_unix_nano < root->start_time_unix_nano))
      root = &s;
  }
  summary.root_service = std::string(b.ServiceNameOf(*root));
  summary.root_name = std::string(root->name);
  summary.start_unix_nano = start;
  summary.duration_nano = end - start;
  summary.end_unix_nano = end;
  for (const model::Span& s : b.spans)
    summary.last_span_start_unix_nano =
        std::max(summary.last_span_start_unix_nano, s.start_time_unix_nano);
  std::sort(summary.services.begin(), summary.services.end());
  summary.xray =
      query::xray_filter::TraceFacts::FromView(query::xray_filter::TraceView::Build(trace.spans));
  return summary;
}

bool PassesTraceFilter(const TraceFilter& filter, const TraceSummary& summary) {
  if (!filter.root_service.empty() && summary.root_service != filter.root_service) return false;
  if (!filter.root_name.empty() && summary.root_name != filter.root_name) return false;
  if (summary.duration_nano < filter.min_duration_nano) return false;
  if (filter.max_duration_nano != 0 && summary.duration_nano > filter.max_duration_nano)
    return false;
  if (filter.has_error && (summary.error_count > 0) != *filter.has_error) return false;
  if (filter.root_fault && summary.xray.root_fault != *filter.root_fault) return false;
  if (summary.xray.annotations_complete) {
    for (const auto& [key, value] : filter.annotations) {
      bool found = false;
      for (const query::xray_filter::AnnotationFact& a : summary.xray.annotations)
        found |= a.type == query::xray_filter::AnnotationFact::Type::kString && a.key == key &&
                 a.str == value;
      if (!found) return false;
    }
  }
  for (const query::xray_filter::AnnotationNeed& need : filter.annotation_needs)
    if (!need.MayHold(summary.xray)) return false;
  return true;
}

bool TraceHasMatchingSpan(const TraceResult& trace, uint64_t start_unix_nano,
                          uint64_t end_unix_nano, const std::vector<query::Filter>& filters) {
  if (filters.empty()) {
    for (const model::Span& s : trace.spans.spans)
      if (s.start_time_unix_nano >= start_unix_nano && s.start_time_unix_nano < end_unix_nano)
        return true;
    return false;
  }
  query::QuerySpec spec;
  spec.start_unix_nano = start_unix_nano;
  spec.end_unix_nano = end_unix_nano;
  spec.filters = filters;
  columnar::BlockBuilder builder(trace.environments.empty() ? "" : trace.environments[0]);
  builder.Append(trace.spans);
  std::vector<uint8_t> selected = query::SelectRows(spec, builder.block());
  return std::find(selected.begin(), selected.end(), 1) != selected.end();
}

Result<TracePage> TraceReader::SearchTracePage(const TracePageRequest& request,
                                               const query::ExecContext& context) {
  // The fallback: every trace of the window, whole, then ordered and paged here.
  std::vector<TracePageEntry> all;
  Status walked =
      ForEachTrace(request.start_unix_nano, request.end_unix_nano, request.environment,
                   [&](const TraceResult& trace) {
                     if (context.cancel && context.cancel->cancelled()) return false;
                     if (trace.spans.spans.empty()) return true;
                     if (!request.filter.span_filters.empty() &&
                         !TraceHasMatchingSpan(trace, request.start_unix_nano,
                                               request.end_unix_nano, request.filter.span_filters))
                       return true;
                     TracePageEntry entry;
                     entry.summary = SummarizeTrace(trace);
                     all.push_back(std::move(entry));
                     return true;
                   });
  ARIADNE_RETURN_IF_ERROR(walked);
  if (context.cancel && context.cancel->cancelled())
    return Status(StatusCode::kCancelled, "trace search: cancelled (its client went away)");
  const bool newest = request.order == TraceOrder::kNewestFirst;
  // True when key a comes before key b in the requested order.
  auto before = [newest](uint64_t a_start, const model::TraceId& a_id, uint64_t b_start,
                         const model::TraceId& b_id) {
    if (a_start != b_start) return newest ? a_start > b_start : a_start < b_start;
    return newest ? b_id < a_id : a_id < b_id;
  };
  std::sort(all.begin(), all.end(), [&](const TracePageEntry& a, const TracePageEntry& b) {
    return before(a.summary.start_unix_nano, a.summary.trace_id, b.summary.start_unix_nano,
                  b.summary.trace_id);
  });
  TracePage page;
  for (TracePageEntry& entry : all) {
    if (request.after && !before(request.after->start_unix_nano, request.after->trace_id,
                                 entry.summary.start_unix_nano, entry.summary.trace_id))
      continue;
    ++page.examined;
    if (!PassesTraceFilter(request.filter, entry.summary)) continue;
    TraceVerdict verdict = request.refine ? request.refine(entry.summary) : TraceVerdict::kYes;
    if (verdict == TraceVerdict::kNo) continue;
    if (request.limit != 0 && page.traces.size() == request.limit) {
      const TraceSummary& last = page.traces.back().summary;
      page.next = TracePageToken{last.start_unix_nano, last.trace_id};
      break;
    }
    entry.decided = verdict == TraceVerdict::kYes;
    page.traces.push_back(std::move(entry));
  }
  return page;
}

}  // namespace ariadne::store
