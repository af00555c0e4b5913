#include "store/service_graph_rules.h"

#include <algorithm>

namespace ariadne::store {
namespace {

std::string_view StringAttr(const model::SpanBatch& b, const model::Span& s, std::string_view key) {
  const model::Value* v = b.FindAttribute(s.attributes, key);
  if (v == nullptr || v->type != model::ValueType::kString) return {};
  return v->str;
}

}  // namespace

std::string_view GraphNodeKindName(GraphNodeKind kind) {
  switch (kind) {
    case GraphNodeKind::kService:
      return "service";
    case GraphNodeKind::kDatabase:
      return "database";
    case GraphNodeKind::kRemote:
      return "remote";
  }
  return "service";
}

bool EntersService(const model::Span& span) {
  return span.kind == model::SpanKind::kServer || span.kind == model::SpanKind::kConsumer ||
         span.is_root();
}

std::optional<ClientCallTarget> ClientTargetOf(const model::SpanBatch& batch,
                                               const model::Span& span) {
  if (span.kind != model::SpanKind::kClient) return std::nullopt;
  std::string_view db = StringAttr(batch, span, kDbSystemAttribute);
  if (!StringAttr(batch, span, kXrayNamespaceAttribute).empty()) {
    if (span.name.empty()) return std::nullopt;
    return ClientCallTarget{span.name,
                            db.empty() ? GraphNodeKind::kRemote : GraphNodeKind::kDatabase};
  }
  if (!db.empty()) {
    std::string_view name = StringAttr(batch, span, kDbNameAttribute);
    return ClientCallTarget{name.empty() ? db : name, GraphNodeKind::kDatabase};
  }
  for (std::string_view key : kPeerAttributes) {
    std::string_view peer = StringAttr(batch, span, key);
    if (!peer.empty()) return ClientCallTarget{peer, GraphNodeKind::kRemote};
  }
  return std::nullopt;
}

void GraphAssembly::AddEdge(const std::string& source, const std::string& target, uint64_t requests,
                            uint64_t errors, double p50_ms, double p95_ms, double p99_ms) {
  Edge& e = edges_[{source, target}];
  if (requests > e.requests) {
    e.p50_ms = p50_ms;
    e.p95_ms = p95_ms;
    e.p99_ms = p99_ms;
  }
  e.requests += requests;
  e.errors += errors;
}

void GraphAssembly::AddNode(const std::string& name, GraphNodeKind kind, uint64_t requests,
                            uint64_t errors) {
  Node& n = nodes_[name];
  n.kind = std::max(n.kind, kind);
  n.requests += requests;
  n.errors += errors;
}

ServiceGraph GraphAssembly::Finish() && {
  ServiceGraph graph;
  for (auto& [key, e] : edges_) {
    nodes_.try_emplace(key.first);
    nodes_.try_emplace(key.second);
    graph.edges.push_back(ServiceGraphEdge{key.first, key.second, e.requests, e.errors, e.p50_ms,
                                           e.p95_ms, e.p99_ms});
  }
  for (const auto& [name, n] : nodes_) {
    graph.nodes.push_back(
        ServiceGraphNode{name, std::string(GraphNodeKindName(n.kind)), n.requests, n.errors});
  }
  return graph;
}

}  // namespace ariadne::store
