// XrayServiceGraph: X-Ray's service graph over many traces (GetServiceGraph, GetTraceGraph). Each
// trace's nodes and edges come from its TraceView (segments, inferred downstream nodes, caller →
// callee hops), which decides them by the service graph's shared rules
// (store/service_graph_rules.h), so X-Ray and /api/v1/service-graph name the same nodes and draw
// the same edges; this class only adds X-Ray's statistics up per node and per edge:
// ok/error/throttle/fault counts, total response time, a response-time histogram (1-ms
// resolution) and the time span.
//
// Nodes are keyed by (name, type) and numbered in the order they were first seen, which is the
// ReferenceId the X-Ray API returns. A trace can also be added from its summary's per-node facts
// (AddNodes: the same segments in the same order, so the same graph bit for bit), which is how
// GetServiceGraph avoids fetching the traces the trace-summary index decides.
//
// Threads: not synchronized; one instance per request.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "query/xray_filter/trace_facts.h"
#include "query/xray_filter/trace_view.h"

namespace ariadne::query::xray {

struct XrayGraphStats {
  int64_t ok = 0, throttle = 0, error_other = 0, fault = 0, total = 0;
  double total_response_time = 0;  // seconds
  double start = std::numeric_limits<double>::max(), end = 0;
  std::map<double, int64_t> histogram;  // response time (s, rounded to 1 ms) → count

  void Add(const xray_filter::SegmentInfo& segment);
};

struct XrayGraphNode {
  std::string name, type;
  bool inferred = false;
  bool root = false;  // some trace entered here
  XrayGraphStats stats;
  std::map<int, XrayGraphStats> edges;  // callee node index → the callee segments' stats
};

class XrayServiceGraph {
 public:
  void Add(const xray_filter::TraceView& view);
  // The same from a trace's summary (TraceFacts::nodes: one per segment of the view, in its
  // order, with the segment's flags, times, identity and caller); false, adding nothing, when
  // the facts have no complete nodes.
  bool AddNodes(const xray_filter::TraceFacts& facts);
  const std::vector<XrayGraphNode>& nodes() const { return nodes_; }

 private:
  // The graph node named (name, type), added (with `inferred`) when it is new: as TraceView numbers
  // its nodes, by (name, type) in the order of their first segment.
  int NodeRef(const std::string& name, const std::string& type, bool inferred);

  std::map<std::pair<std::string, std::string>, int> index_;
  std::vector<XrayGraphNode> nodes_;
};

}  // namespace ariadne::query::xray
