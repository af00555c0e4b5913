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

void XrayServiceGraph::Add(const TraceView& view) {
  std::vector<int> ref(view.nodes().size());
  for (size_t n = 0; n < view.nodes().size(); ++n) {
    const auto& node = view.nodes()[n];
    auto [it, inserted] =
        index_.emplace(std::make_pair(node.name, node.type), static_cast<int>(nodes_.size()));
    if (inserted) {
      XrayGraphNode added;
      added.name = node.name;
      added.type = node.type;
      added.inferred = node.inferred;
      nodes_.push_back(std::move(added));
    }
    ref[n] = it->second;
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

}  // namespace ariadne::query::xray
