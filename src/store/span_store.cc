#include "store/span_store.h"

#include <algorithm>
#include <future>

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
  std::sort(summary.services.begin(), summary.services.end());
  return summary;
}

}  // namespace ariadne::store
