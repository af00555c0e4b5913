// TraceView: one trace seen the way X-Ray sees it — segments (one per service hop), their
// subsegments, inferred downstream nodes, the service graph's nodes and edges, and trace-level
// facts (duration, response time, partial). Built from a model::SpanBatch holding every span of one
// trace, whether the spans came from X-Ray segment documents or from OTLP.
//
//   - A span is a segment when the X-Ray receiver marked it so (`aws.xray.type`), or, for OTLP
//     spans, when it is a root, a SERVER/CONSUMER span, or its parent belongs to another service.
//   - A CLIENT span with no segment below it becomes an *inferred* segment named after its peer
//     by the service graph's shared rules (store/service_graph_rules.h ClientTargetOf): an X-Ray
//     subsegment (namespace remote/aws) by its own name, as X-Ray infers downstream nodes; an OTLP
//     span by its database or peer attribute. A CLIENT span naming no peer stays a subsegment.
//   - In-progress duplicates: when a span id appears more than once, the complete version wins
//     (otherwise the last one stored).
//   - Flags: `aws.xray.error/fault/throttle` when present, else derived from the HTTP status
//     (5xx fault, 429 throttle + error, other 4xx error) or status ERROR (fault).
//
// The view borrows the batch: it must outlive the view. Immutable after Build; safe to share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/span_batch.h"

namespace ariadne::query::xray_filter {

struct HttpInfo {
  std::string_view method;
  std::string_view url;
  std::string_view user_agent;
  std::string_view client_ip;
  int64_t status = 0;  // 0 when absent
};

struct SegmentInfo {
  size_t span = 0;        // index into batch.spans (for inferred segments: the client span)
  std::string_view name;  // service name
  std::string_view type;  // origin, or for inferred nodes "remote" / "AWS::<name>"; may be ""
  std::string_view account_id;
  int parent_segment = -1;  // the calling segment, or -1
  bool inferred = false;
  bool error = false, fault = false, throttle = false, in_progress = false;
  std::string_view user;
  HttpInfo http;
  double start = 0, end = 0;  // epoch seconds
  std::vector<size_t> spans;  // this segment's span and its subsegments' (not for inferred)
  std::vector<int> child_segments;
};

struct NodeInfo {
  std::string name;
  std::string type;
  bool inferred = false;
  std::vector<int> segments;
};

struct EdgeInfo {
  int from = 0;     // node index
  int to = 0;       // node index
  int segment = 0;  // the callee segment
};

class TraceView {
 public:
  static TraceView Build(const model::SpanBatch& batch);

  const model::SpanBatch& batch() const { return *batch_; }
  const std::vector<size_t>& spans() const { return spans_; }  // deduplicated span indexes
  const std::vector<SegmentInfo>& segments() const { return segments_; }
  const std::vector<NodeInfo>& nodes() const { return nodes_; }
  const std::vector<EdgeInfo>& edges() const { return edges_; }
  int root() const { return root_; }  // segment index of the entry point, -1 if no segment
  int NodeOf(int segment) const { return segment_node_[segment]; }
  // Segment owning a span (its own segment for subsegments), -1 when unknown.
  int SegmentOfSpan(size_t span) const;

  double start() const { return start_; }  // earliest span start, epoch seconds
  double end() const { return end_; }      // latest span end
  double duration() const { return end_ - start_; }
  double response_time() const;  // the root segment's end - start
  bool partial() const { return partial_; }

  static bool IsInProgress(const model::SpanBatch& batch, const model::Span& span);

 private:
  const model::SpanBatch* batch_ = nullptr;
  std::vector<size_t> spans_;
  std::vector<SegmentInfo> segments_;
  std::vector<NodeInfo> nodes_;
  std::vector<EdgeInfo> edges_;
  std::vector<int> segment_node_;
  std::vector<int> span_segment_;  // per batch span index
  int root_ = -1;
  double start_ = 0, end_ = 0;
  bool partial_ = false;
};

// Typed attribute helpers that read both current and older semconv names.
std::string_view StringAttr(const model::SpanBatch& batch, const model::Span& span,
                            std::string_view key);
std::string_view ResourceStringAttr(const model::SpanBatch& batch, const model::Span& span,
                                    std::string_view key);
bool BoolAttr(const model::SpanBatch& batch, const model::Span& span, std::string_view key);
HttpInfo ReadHttp(const model::SpanBatch& batch, const model::Span& span);

}  // namespace ariadne::query::xray_filter
