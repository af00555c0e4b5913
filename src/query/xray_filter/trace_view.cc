#include "query/xray_filter/trace_view.h"

#include <algorithm>
#include <map>
#include <optional>
#include <unordered_map>

#include "model/xray_attributes.h"
#include "store/service_graph_rules.h"

namespace ariadne::query::xray_filter {
namespace {

namespace attr = model::xray;

uint64_t SpanKey(const model::SpanId& id) {
  uint64_t key = 0;
  for (uint8_t b : id.bytes) key = key << 8 | b;
  return key;
}

bool HasAttr(const model::SpanBatch& batch, const model::Span& span, std::string_view key) {
  return batch.FindAttribute(span.attributes, key) != nullptr;
}

}  // namespace

std::string_view StringAttr(const model::SpanBatch& batch, const model::Span& span,
                            std::string_view key) {
  const model::Value* value = batch.FindAttribute(span.attributes, key);
  if (value == nullptr || value->type != model::ValueType::kString) return {};
  return value->str;
}

std::string_view ResourceStringAttr(const model::SpanBatch& batch, const model::Span& span,
                                    std::string_view key) {
  if (span.resource_index >= batch.resources.size()) return {};
  const model::Value* value =
      batch.FindAttribute(batch.resources[span.resource_index].attributes, key);
  if (value == nullptr || value->type != model::ValueType::kString) return {};
  return value->str;
}

bool BoolAttr(const model::SpanBatch& batch, const model::Span& span, std::string_view key) {
  const model::Value* value = batch.FindAttribute(span.attributes, key);
  return value != nullptr && value->type == model::ValueType::kBool && value->bool_value;
}

static int64_t IntAttr(const model::SpanBatch& batch, const model::Span& span,
                       std::string_view key) {
  const model::Value* value = batch.FindAttribute(span.attributes, key);
  if (value == nullptr) return 0;
  if (value->type == model::ValueType::kInt) return value->int_value;
  if (value->type == model::ValueType::kDouble) return static_cast<int64_t>(value->double_value);
  if (value->type == model::ValueType::kString) {
    int64_t out = 0;
    for (char c : value->str) {
      if (c < '0' || c > '9') return 0;
      out = out * 10 + (c - '0');
    }
    return out;
  }
  return 0;
}

HttpInfo ReadHttp(const model::SpanBatch& batch, const model::Span& span) {
  HttpInfo http;
  auto pick = [&](std::string_view a, std::string_view b) {
    std::string_view v = StringAttr(batch, span, a);
    return v.empty() ? StringAttr(batch, span, b) : v;
  };
  http.method = pick(attr::kHttpMethod, attr::kOldHttpMethod);
  http.url = pick(attr::kHttpUrl, attr::kOldHttpUrl);
  http.user_agent = pick(attr::kHttpUserAgent, attr::kOldHttpUserAgent);
  http.client_ip = pick(attr::kHttpClientIp, attr::kOldHttpClientIp);
  http.status = IntAttr(batch, span, attr::kHttpStatus);
  if (http.status == 0) http.status = IntAttr(batch, span, attr::kOldHttpStatus);
  return http;
}

bool TraceView::IsInProgress(const model::SpanBatch& batch, const model::Span& span) {
  return BoolAttr(batch, span, attr::kInProgress);
}

int TraceView::SegmentOfSpan(size_t span) const {
  return span < span_segment_.size() ? span_segment_[span] : -1;
}

double TraceView::response_time() const {
  if (root_ < 0) return duration();
  return segments_[root_].end - segments_[root_].start;
}

TraceView TraceView::Build(const model::SpanBatch& batch) {
  TraceView view;
  view.batch_ = &batch;
  const auto& spans = batch.spans;

  // Deduplicate by span id: a complete version beats an in-progress one, else the later wins.
  std::unordered_map<uint64_t, size_t> by_id;
  for (size_t i = 0; i < spans.size(); ++i) {
    uint64_t key = SpanKey(spans[i].span_id);
    auto [it, inserted] = by_id.emplace(key, i);
    if (inserted) continue;
    bool old_progress = IsInProgress(batch, spans[it->second]);
    bool new_progress = IsInProgress(batch, spans[i]);
    if (!new_progress || old_progress) it->second = i;
  }
  for (size_t i = 0; i < spans.size(); ++i) {
    if (by_id[SpanKey(spans[i].span_id)] == i) view.spans_.push_back(i);
  }

  // Trace bounds and partial flag.
  bool first = true;
  for (size_t i : view.spans_) {
    double s = spans[i].start_time_unix_nano / 1e9, e = spans[i].end_time_unix_nano / 1e9;
    if (first || s < view.start_) view.start_ = s;
    if (first || e > view.end_) view.end_ = e;
    first = false;
    if (IsInProgress(batch, spans[i])) view.partial_ = true;
  }

  // Which spans are segments.
  auto parent_of = [&](size_t i) -> int64_t {
    if (spans[i].parent_span_id.IsZero()) return -1;
    auto it = by_id.find(SpanKey(spans[i].parent_span_id));
    return it == by_id.end() ? -1 : static_cast<int64_t>(it->second);
  };
  auto is_segment = [&](size_t i) {
    std::string_view type = StringAttr(batch, spans[i], attr::kType);
    if (type == "segment") return true;
    if (type == "subsegment") return false;
    const model::Span& s = spans[i];
    if (s.kind == model::SpanKind::kServer || s.kind == model::SpanKind::kConsumer) return true;
    int64_t parent = parent_of(i);
    if (parent < 0) return true;
    return batch.ServiceNameOf(spans[parent]) != batch.ServiceNameOf(s);
  };

  view.span_segment_.assign(spans.size(), -1);
  std::map<size_t, int> segment_of_span;  // segment span index -> segment index
  for (size_t i : view.spans_) {
    if (!is_segment(i)) continue;
    SegmentInfo seg;
    seg.span = i;
    const model::Span& s = spans[i];
    seg.name = batch.ServiceNameOf(s);
    if (seg.name.empty()) seg.name = s.name;
    seg.type = ResourceStringAttr(batch, s, attr::kOrigin);
    seg.account_id = ResourceStringAttr(batch, s, attr::kCloudAccountId);
    seg.start = s.start_time_unix_nano / 1e9;
    seg.end = s.end_time_unix_nano / 1e9;
    seg.in_progress = IsInProgress(batch, s);
    seg.user = StringAttr(batch, s, attr::kUser);
    seg.http = ReadHttp(batch, s);
    segment_of_span[i] = static_cast<int>(view.segments_.size());
    view.span_segment_[i] = static_cast<int>(view.segments_.size());
    view.segments_.push_back(seg);
  }

  // Owner segment of every span (walk up to the nearest segment).
  for (size_t i : view.spans_) {
    if (view.span_segment_[i] >= 0) continue;
    int64_t cur = parent_of(i);
    for (int hops = 0; cur >= 0 && hops < 256; ++hops) {
      if (view.span_segment_[cur] >= 0 && segment_of_span.count(cur)) break;
      if (view.span_segment_[cur] >= 0) break;
      cur = parent_of(cur);
    }
    if (cur >= 0) view.span_segment_[i] = view.span_segment_[cur];
  }
  for (size_t i : view.spans_) {
    if (view.span_segment_[i] >= 0) view.segments_[view.span_segment_[i]].spans.push_back(i);
  }

  // Parent segments, and inferred segments for client calls without a segment below them.
  std::vector<bool> has_child_segment(spans.size(), false);
  for (size_t k = 0; k < view.segments_.size(); ++k) {
    int64_t parent = parent_of(view.segments_[k].span);
    if (parent >= 0) {
      view.segments_[k].parent_segment = view.span_segment_[parent];
      has_child_segment[parent] = true;
    }
  }
  for (size_t i : view.spans_) {
    const model::Span& s = spans[i];
    if (s.kind != model::SpanKind::kClient || has_child_segment[i] || view.span_segment_[i] < 0 ||
        segment_of_span.count(i)) {
      continue;
    }
    // The downstream node is the call's peer by the service graph's shared rules
    // (store/service_graph_rules.h): an X-Ray subsegment's name, else the database or the peer
    // the OTLP attributes name. A call that names no peer is no node.
    std::optional<store::ClientCallTarget> target = store::ClientTargetOf(batch, s);
    if (!target) continue;
    SegmentInfo seg;
    seg.span = i;
    seg.inferred = true;
    seg.name = target->name;
    std::string_view ns = StringAttr(batch, s, attr::kNamespace);
    seg.type = ns == "aws" ? std::string_view("AWS") : std::string_view("remote");
    seg.parent_segment = view.span_segment_[i];
    seg.start = s.start_time_unix_nano / 1e9;
    seg.end = s.end_time_unix_nano / 1e9;
    seg.http = ReadHttp(batch, s);
    view.segments_.push_back(seg);
  }

  // Flags.
  for (SegmentInfo& seg : view.segments_) {
    const model::Span& s = spans[seg.span];
    bool explicit_flags = HasAttr(batch, s, attr::kError) || HasAttr(batch, s, attr::kFault) ||
                          HasAttr(batch, s, attr::kThrottle) || HasAttr(batch, s, attr::kType);
    if (explicit_flags) {
      seg.error = BoolAttr(batch, s, attr::kError);
      seg.fault = BoolAttr(batch, s, attr::kFault);
      seg.throttle = BoolAttr(batch, s, attr::kThrottle);
    } else if (seg.http.status >= 500) {
      seg.fault = true;
    } else if (seg.http.status == 429) {
      seg.throttle = seg.error = true;
    } else if (seg.http.status >= 400) {
      seg.error = true;
    } else if (s.status_code == model::StatusCode::kError) {
      seg.fault = true;
    }
  }

  // Root: the earliest segment without a parent segment.
  for (size_t k = 0; k < view.segments_.size(); ++k) {
    const SegmentInfo& seg = view.segments_[k];
    if (seg.parent_segment >= 0) {
      view.segments_[seg.parent_segment].child_segments.push_back(static_cast<int>(k));
      continue;
    }
    if (view.root_ < 0 || seg.start < view.segments_[view.root_].start) {
      view.root_ = static_cast<int>(k);
    }
  }

  // Nodes (unique name + type) and edges.
  std::map<std::pair<std::string_view, std::string_view>, int> node_index;
  view.segment_node_.resize(view.segments_.size());
  for (size_t k = 0; k < view.segments_.size(); ++k) {
    const SegmentInfo& seg = view.segments_[k];
    auto [it, inserted] = node_index.emplace(std::make_pair(seg.name, seg.type),
                                             static_cast<int>(view.nodes_.size()));
    if (inserted) {
      view.nodes_.push_back(
          NodeInfo{std::string(seg.name), std::string(seg.type), seg.inferred, {}});
    }
    view.nodes_[it->second].segments.push_back(static_cast<int>(k));
    view.segment_node_[k] = it->second;
  }
  for (size_t k = 0; k < view.segments_.size(); ++k) {
    int parent = view.segments_[k].parent_segment;
    if (parent < 0) continue;
    view.edges_.push_back(
        EdgeInfo{view.segment_node_[parent], view.segment_node_[k], static_cast<int>(k)});
  }
  return view;
}

}  // namespace ariadne::query::xray_filter
