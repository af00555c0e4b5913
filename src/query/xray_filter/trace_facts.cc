#include "query/xray_filter/trace_facts.h"

#include <algorithm>

#include "model/xray_attributes.h"

namespace ariadne::query::xray_filter {
namespace {

bool SameValue(const AnnotationFact& a, const AnnotationFact& b) {
  return a.type == b.type && a.key == b.key && a.str == b.str && a.number == b.number &&
         a.boolean == b.boolean;
}

}  // namespace

TraceFacts TraceFacts::FromView(const TraceView& view) {
  TraceFacts f;
  f.start = view.start();
  f.end = view.end();
  f.partial = view.partial();
  const model::SpanBatch& batch = view.batch();
  if (view.root() >= 0) {
    const SegmentInfo& root = view.segments()[view.root()];
    f.has_root = true;
    f.root_name = std::string(root.name);
    f.root_type = std::string(root.type);
    f.root_start = root.start;
    f.root_end = root.end;
    f.root_error = root.error;
    f.root_fault = root.fault;
    f.root_throttle = root.throttle;
    f.http_method = std::string(root.http.method);
    f.http_url = std::string(root.http.url);
    f.http_user_agent = std::string(root.http.user_agent);
    f.http_client_ip = std::string(root.http.client_ip);
    f.http_status = root.http.status;
  }
  static_assert(kMaxNodes <= 127, "node indexes are 8-bit");
  f.nodes_complete = view.segments().size() <= kMaxNodes;
  if (f.nodes_complete) f.nodes.reserve(view.segments().size());
  for (const SegmentInfo& seg : view.segments()) {
    f.any_error |= seg.error;
    f.any_fault |= seg.fault;
    f.any_throttle |= seg.throttle;
    auto user = std::find(f.users.begin(), f.users.end(), seg.user);
    if (!seg.user.empty() && user == f.users.end()) {
      f.users.emplace_back(seg.user);
      user = f.users.end() - 1;
    }
    SegmentKey key{std::string(seg.name), std::string(seg.type), std::string(seg.account_id)};
    auto known = std::find(f.segments.begin(), f.segments.end(), key);
    if (known == f.segments.end()) {
      f.segments.push_back(std::move(key));
      known = f.segments.end() - 1;
    }
    if (!f.nodes_complete) continue;
    NodeFact node;
    // Indexes below kMaxNodes: the segments and users lists hold at most one entry per segment.
    node.segment = static_cast<uint8_t>(known - f.segments.begin());
    node.parent = static_cast<int8_t>(seg.parent_segment);
    node.user = seg.user.empty() ? -1 : static_cast<int8_t>(user - f.users.begin());
    node.error = seg.error;
    node.fault = seg.fault;
    node.throttle = seg.throttle;
    node.inferred = seg.inferred;
    node.http_status = static_cast<int16_t>(seg.http.status);
    if (node.http_status != seg.http.status) f.nodes_complete = false;
    const model::Span& span = batch.spans[seg.span];
    node.start_unix_nano = span.start_time_unix_nano;
    node.end_unix_nano = span.end_time_unix_nano;
    // The view's times come from the same span; should that ever change, answer "unknown" rather
    // than a response time that differs from Matches'.
    if (node.start() != seg.start || node.end() != seg.end) f.nodes_complete = false;
    f.nodes.push_back(node);
  }
  if (!f.nodes_complete) f.nodes.clear();
  const std::string_view prefix = model::xray::kAnnotationPrefix;
  for (size_t i : view.spans()) {
    const model::Span& span = batch.spans[i];
    for (uint32_t k = span.attributes.begin; k < span.attributes.end(); ++k) {
      const model::KeyValue& kv = batch.attributes[k];
      if (kv.key.substr(0, prefix.size()) != prefix) continue;
      AnnotationFact a;
      a.key = std::string(kv.key.substr(prefix.size()));
      switch (kv.value.type) {
        case model::ValueType::kString:
          a.type = AnnotationFact::Type::kString;
          a.str = std::string(kv.value.str);
          break;
        case model::ValueType::kInt:
          a.type = AnnotationFact::Type::kInt;
          a.number = static_cast<double>(kv.value.int_value);
          break;
        case model::ValueType::kDouble:
          a.type = AnnotationFact::Type::kDouble;
          a.number = kv.value.double_value;
          break;
        case model::ValueType::kBool:
          a.type = AnnotationFact::Type::kBool;
          a.boolean = kv.value.bool_value;
          break;
        default:
          a.type = AnnotationFact::Type::kOther;
          break;
      }
      bool seen = false;
      for (const AnnotationFact& b : f.annotations) seen |= SameValue(a, b);
      if (seen) continue;
      if (f.annotations.size() == kMaxAnnotations) {
        f.annotations_complete = false;
        continue;
      }
      f.annotations.push_back(std::move(a));
    }
  }
  return f;
}

size_t TraceFacts::ApproximateBytes() const {
  size_t bytes = sizeof(TraceFacts);
  auto heap = [](const std::string& s) { return s.size() > 15 ? s.capacity() + 1 : 0; };
  for (const std::string* s :
       {&root_name, &root_type, &http_method, &http_url, &http_user_agent, &http_client_ip})
    bytes += heap(*s);
  for (const std::string& u : users) bytes += sizeof(std::string) + heap(u);
  for (const SegmentKey& k : segments)
    bytes += sizeof(SegmentKey) + heap(k.name) + heap(k.type) + heap(k.account);
  for (const AnnotationFact& a : annotations)
    bytes += sizeof(AnnotationFact) + heap(a.key) + heap(a.str);
  bytes += nodes.capacity() * sizeof(NodeFact);
  return bytes;
}

}  // namespace ariadne::query::xray_filter
