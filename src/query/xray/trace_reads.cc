#include "query/xray/trace_reads.h"

#include <algorithm>
#include <limits>
#include <tuple>
#include <unordered_set>

#include "query/xray/trace_id_time.h"

namespace ariadne::query::xray {

using xray_filter::Filter;
using xray_filter::TraceView;

namespace {

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

static store::TraceVerdict ToTraceVerdict(Filter::Verdict verdict) {
  switch (verdict) {
    case Filter::Verdict::kYes:
      return store::TraceVerdict::kYes;
    case Filter::Verdict::kNo:
      return store::TraceVerdict::kNo;
    case Filter::Verdict::kUnknown:
      break;
  }
  return store::TraceVerdict::kUnknown;
}

Result<MatchingTracesPage> XrayTraceReader::MatchingTraces(
    const MatchingTracesRequest& request,
    const std::function<void(const TraceView&)>& visit) const {
  // The store's paged search selects the window's traces in order and evaluates the expression
  // against each trace's summary (Filter::Decide); only the traces the summary cannot decide, and
  // the ones this page returns (their JSON and graphs need every span), are fetched whole.
  MatchingTracesPage page;
  size_t returned = 0;
  store::TracePageRequest search;
  search.environment = environment_;
  search.start_unix_nano = request.start_nano;
  search.end_unix_nano = request.end_nano;
  // One more than the page, no more: an engine that reads candidates whole to decide them
  // (ClickHouse) would otherwise read ahead far past a rare filter's page.
  search.limit = request.limit == 0 ? 0 : request.limit + 1;
  if (request.filter) {
    search.filter.annotations = request.filter->RequiredAnnotations();
    search.filter.annotation_needs = request.filter->AnnotationNeeds();
    search.filter.field_needs = request.filter->FieldNeeds();
  }
  if (request.after)
    search.after = store::TracePageToken{request.after->first_start_nano, request.after->trace_id};
  // TracesProcessedCount: the traces looked at up to the one that ends the page. The store may
  // look one past its own page; `examined_at[i]` is the count when chunk entry i was accepted.
  size_t examined = 0;
  std::vector<size_t> examined_at;
  auto verdict_of = [&](const store::TraceSummary& summary) {
    const model::TraceId& id = summary.trace_id;
    if (request.trace_id_seconds) {
      const uint64_t seconds = IdSeconds(id);
      if (seconds < request.trace_id_seconds->first || seconds > request.trace_id_seconds->second)
        return store::TraceVerdict::kNo;
    }
    if (request.sample_fraction < 1.0 && IdFraction(id) >= request.sample_fraction)
      return store::TraceVerdict::kNo;
    if (request.wanted && !request.wanted(summary)) return store::TraceVerdict::kNo;
    ++examined;
    if (request.filter == nullptr) return store::TraceVerdict::kYes;
    return ToTraceVerdict(request.filter->Decide(summary.xray, request.groups));
  };
  search.refine = [&](const store::TraceSummary& summary) {
    store::TraceVerdict verdict = verdict_of(summary);
    if (verdict != store::TraceVerdict::kNo) examined_at.push_back(examined);
    return verdict;
  };
  query::ExecContext context;
  context.cancel = request.cancel;
  TracePosition last;
  last.window_start_nano = request.start_nano;
  size_t base = 0;  // processed before this chunk
  while (true) {
    examined = 0;
    examined_at.clear();
    ARIADNE_ASSIGN_OR_RETURN(store::TracePage chunk, store_->SearchTracePage(search, context));
    for (size_t i = 0; i < chunk.traces.size(); ++i) {
      const store::TracePageEntry& entry = chunk.traces[i];
      page.processed = base + examined_at[i];
      if (request.cancel && request.cancel->cancelled())
        return Status(StatusCode::kCancelled, "the client went away");
      const store::TraceSummary& summary = entry.summary;
      if (request.visit_summary && entry.decided && request.visit_summary(summary)) continue;
      // The engine may have sent the spans with the entry (ClickHouse reads them to summarize).
      const store::TraceResult* whole = entry.trace.get();
      Result<store::TraceResult> fetched = Status::NotFound("");
      if (whole == nullptr) {
        const store::TraceTimeHint hint =
            TraceStartsHint(summary.start_unix_nano, summary.last_span_start_unix_nano);
        fetched = store_->GetTraceNear(summary.trace_id, environment_, hint);
        if (fetched.status().IsNotFound()) continue;  // removed by retention meanwhile
        if (!fetched.ok()) return fetched.status();
        whole = &*fetched;
      }
      TraceView view = TraceView::Build(whole->spans);
      if (!entry.decided && !request.filter->Matches(view, request.groups)) continue;
      if (request.limit != 0 && returned == request.limit) {
        page.next = last;
        return page;
      }
      visit(view);
      ++returned;
      last.first_start_nano = summary.start_unix_nano;
      last.trace_id = summary.trace_id;
    }
    if (!chunk.next) {
      page.processed = base + examined;
      break;
    }
    base += examined_at[chunk.traces.size() - 1];
    search.after = chunk.next;
  }
  if (request.cancel && request.cancel->cancelled())
    return Status(StatusCode::kCancelled, "the client went away");
  return page;
}

Result<store::TraceResult> XrayTraceReader::Trace(const model::TraceId& id) const {
  return store_->GetTrace(id, environment_);
}

Result<store::TraceResult> XrayTraceReader::TraceNear(const model::TraceId& id,
                                                      const store::TraceTimeHint& hint) const {
  return store_->GetTraceNear(id, environment_, hint);
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
  // A trace the summary decides adds its per-node facts (the same nodes, edges and statistics as
  // its TraceView): fetched whole only when they are incomplete.
  request.visit_summary = [&graph](const store::TraceSummary& summary) {
    return graph.AddNodes(summary.xray);
  };
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
  auto add = [&](const xray_filter::SegmentInfo& segment) {
    const uint64_t seconds = segment.start <= 0 ? 0 : static_cast<uint64_t>(segment.start);
    buckets[seconds - seconds % period_seconds].Add(segment);
  };
  if (services.empty()) {
    // The entry segment's statistics are in the summary's root facts: no fetch.
    request.visit_summary = [&](const store::TraceSummary& summary) {
      const xray_filter::TraceFacts& facts = summary.xray;
      if (!facts.has_root) return true;
      xray_filter::SegmentInfo root;
      root.start = facts.root_start;
      root.end = facts.root_end;
      root.error = facts.root_error;
      root.fault = facts.root_fault;
      root.throttle = facts.root_throttle;
      add(root);
      return true;
    };
  } else {
    // A trace with no segment of the services adds nothing: not fetched.
    request.wanted = [&services](const store::TraceSummary& summary) {
      for (const xray_filter::SegmentKey& segment : summary.xray.segments) {
        if (std::find(services.begin(), services.end(), segment.name) != services.end())
          return true;
      }
      return false;
    };
  }
  auto page = MatchingTraces(request, [&](const TraceView& view) {
    if (services.empty()) {
      if (view.root() >= 0) add(view.segments()[view.root()]);
      return;
    }
    for (const xray_filter::SegmentInfo& segment : view.segments()) {
      if (std::find(services.begin(), services.end(), segment.name) != services.end()) add(segment);
    }
  });
  if (!page.ok()) return page.status();
  return buckets;
}

Result<store::TraceResult> XrayTraceReader::TraceHinted(const TraceRef& trace) const {
  // An id whose time is off (a clock that was wrong) is found by the unhinted read.
  if (trace.hint) {
    Result<store::TraceResult> near = store_->GetTraceNear(trace.id, environment_, *trace.hint);
    if (!near.status().IsNotFound()) return near;
  }
  return store_->GetTrace(trace.id, environment_);
}

Result<XrayServiceGraph> XrayTraceReader::TraceGraph(const std::vector<TraceRef>& traces) const {
  XrayServiceGraph graph;
  for (const TraceRef& ref : traces) {
    auto trace = TraceHinted(ref);
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
