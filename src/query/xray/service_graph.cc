#include "query/xray/service_graph.h"

#include <algorithm>
#include <cmath>

namespace ariadne::query::xray {

using xray_filter::SegmentInfo;
using xray_filter::TraceView;

void XrayGraphStats::Add(const SegmentInfo& segment) {
  ++total;
  if (segment.fault) {
    ++fault;
  } else if (segment.throttle) {
    ++throttle;
  } else if (segment.error) {
    ++error_other;
  } else {
    ++ok;
  }
  double response_time = std::max(0.0, segment.end - segment.start);
  total_response_time += response_time;
  histogram[std::round(response_time * 1000) / 1000] += 1;
  start = std::min(start, segment.start);
  end = std::max(end, segment.end);
}

int XrayServiceGraph::NodeRef(const std::string& name, const std::string& type, bool inferred) {
  auto [it, inserted] = index_.emplace(std::make_pair(name, type), static_cast<int>(nodes_.size()));
  if (inserted) {
    XrayGraphNode added;
    added.name = name;
    added.type = type;
    added.inferred = inferred;
    nodes_.push_back(std::move(added));
  }
  return it->second;
}

void XrayServiceGraph::Add(const TraceView& view) {
  std::vector<int> ref(view.nodes().size());
  for (size_t n = 0; n < view.nodes().size(); ++n) {
    const auto& node = view.nodes()[n];
    ref[n] = NodeRef(node.name, node.type, node.inferred);
  }
  for (size_t k = 0; k < view.segments().size(); ++k) {
    const SegmentInfo& segment = view.segments()[k];
    XrayGraphNode& node = nodes_[ref[view.NodeOf(static_cast<int>(k))]];
    node.stats.Add(segment);
    if (segment.parent_segment < 0) node.root = true;
  }
  for (const auto& edge : view.edges()) {
    nodes_[ref[edge.from]].edges[ref[edge.to]].Add(view.segments()[edge.segment]);
  }
}

bool XrayServiceGraph::AddNodes(const xray_filter::TraceFacts& facts) {
  if (!facts.nodes_complete) return false;
  for (const xray_filter::NodeFact& n : facts.nodes) {
    if (n.segment >= facts.segments.size() || n.parent >= static_cast<int>(facts.nodes.size()))
      return false;  // not as FromView builds them: the caller fetches the trace
  }
  // As TraceView numbers its nodes: by (name, type), in the order of their first segment.
  std::vector<int> ref(facts.nodes.size());
  for (size_t k = 0; k < facts.nodes.size(); ++k) {
    const xray_filter::NodeFact& n = facts.nodes[k];
    const xray_filter::SegmentKey& key = facts.segments[n.segment];
    ref[k] = NodeRef(key.name, key.type, n.inferred);
  }
  auto segment_of = [](const xray_filter::NodeFact& n) {
    SegmentInfo s;
    s.start = n.start();
    s.end = n.end();
    s.error = n.error;
    s.fault = n.fault;
    s.throttle = n.throttle;
    return s;
  };
  for (size_t k = 0; k < facts.nodes.size(); ++k) {
    XrayGraphNode& node = nodes_[ref[k]];
    node.stats.Add(segment_of(facts.nodes[k]));
    if (facts.nodes[k].parent < 0) node.root = true;
  }
  for (size_t k = 0; k < facts.nodes.size(); ++k) {
    const int parent = facts.nodes[k].parent;
    if (parent < 0) continue;
    nodes_[ref[parent]].edges[ref[k]].Add(segment_of(facts.nodes[k]));
  }
  return true;
}

}  // namespace ariadne::query::xray
