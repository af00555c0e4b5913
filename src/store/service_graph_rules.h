// The service graph's rules, shared by every engine: the embedded engine applies them to spans as
// they arrive (service_graph.h), ClickHouse in SQL over the stored spans
// (clickhouse/service_graph_sql.h). What makes an edge:
//  - a span whose parent belongs to another service: parent's service → span's service, with the
//    child's duration as the latency and the child's error status (pairing: both spans needed);
//  - a span that enters a service (SERVER/CONSUMER; an X-Ray segment) whose parent is in that same
//    service: a self-edge service → service, as X-Ray draws one when a segment's parent is a
//    subsegment of a segment of the same name; a same-service child that does not enter the
//    service (in-process work, an X-Ray subsegment) is no edge, as in Jaeger;
//  - a span with no service of its own (an X-Ray subsegment sent alone: the decoder leaves its
//    resource empty) belongs to its parent's service, through any chain of such spans; one whose
//    parent is unknown counts nowhere;
//  - a CLIENT span with `db.system`: service → `peer.service`, else the db.system (a database);
//  - a CLIENT span naming a peer (the first of kPeerAttributes that is set) that no child of
//    another service answered: service → that peer (a remote node);
//  - an X-Ray subsegment with namespace `remote` or `aws` (a CLIENT span carrying
//    `aws.xray.namespace`): its peer is the subsegment's own name, as X-Ray names the inferred
//    downstream node — a database when it has `sql` (`db.system`), else a remote node, with the
//    same "unless another service answered it" condition. The OTLP peer attributes are not read
//    for it (the X-Ray decoder does not set them).
// X-Ray's service graph (query/xray/service_graph.h, through query/xray_filter/trace_view.h) takes
// its nodes and edges from these same rules: its segments are the spans that enter a service or
// whose parent is in another service, and its inferred nodes are exactly the ClientTargetOf peers
// no segment answered; a CLIENT span with no peer (no attribute above, not an X-Ray subsegment) is
// no node in either view. X-Ray keeps (name, type) as a node's identity, the type from the
// segment's `origin` or "remote"/"AWS" for inferred nodes; the statistics (ok/error/throttle/fault,
// histograms) are X-Ray's own add-on (docs/xray-mapping.md, "The service graph").
// Node statistics count the spans that enter a service (SERVER, CONSUMER or a root) and the calls
// into databases and remote peers; everything is kept per minute of span start.
//
// GraphAssembly adds up edges and nodes from any of these sources and shapes the answer (nodes
// sorted by name, every edge end a node) so that both engines answer alike.
//
// Threads: the functions are pure; a GraphAssembly is one caller's.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "model/span_batch.h"
#include "store/span_querier.h"

namespace ariadne::store {

inline constexpr uint64_t kGraphBucketNano = 60ULL * 1'000'000'000ULL;  // one minute

// Larger kinds win when one name is seen as several (a service also called as a remote peer).
enum class GraphNodeKind : uint8_t { kService = 0, kDatabase = 1, kRemote = 2 };
inline constexpr GraphNodeKind kLastGraphNodeKind = GraphNodeKind::kRemote;
std::string_view GraphNodeKindName(GraphNodeKind kind);

inline constexpr std::string_view kDbSystemAttribute = "db.system";
// The database's name when set, else the db.system.
inline constexpr std::string_view kDbNameAttribute = "peer.service";
// The peer of a non-database CLIENT span: the first of these that is set.
inline constexpr std::string_view kPeerAttributes[] = {"peer.service", "server.address",
                                                       "net.peer.name"};
// Set on CLIENT spans decoded from X-Ray subsegments of namespace remote/aws
// (model/xray_attributes.h kNamespace): the peer is then the span's name.
inline constexpr std::string_view kXrayNamespaceAttribute = "aws.xray.namespace";

// True for a span that enters its service (counted in the service's node statistics).
bool EntersService(const model::Span& span);

// What a CLIENT span calls besides instrumented services: a database (an edge at once) or a
// remote peer (an edge when no child of another service answers it). nullopt for other spans and
// for CLIENT spans that name no peer. `name` points into the batch (attribute or span name).
struct ClientCallTarget {
  std::string_view name;
  GraphNodeKind kind;
};
std::optional<ClientCallTarget> ClientTargetOf(const model::SpanBatch& batch,
                                               const model::Span& span);

class GraphAssembly {
 public:
  struct Edge {
    uint64_t requests = 0, errors = 0;
    double p50_ms = 0, p95_ms = 0, p99_ms = 0;
  };
  // Adds to edge source → target; the latencies are those of the larger contribution.
  void AddEdge(const std::string& source, const std::string& target, uint64_t requests,
               uint64_t errors, double p50_ms, double p95_ms, double p99_ms);
  // Adds to node `name`, raising its kind to `kind` when larger.
  void AddNode(const std::string& name, GraphNodeKind kind, uint64_t requests, uint64_t errors);
  ServiceGraph Finish() &&;

 private:
  struct Node {
    GraphNodeKind kind = GraphNodeKind::kService;
    uint64_t requests = 0, errors = 0;
  };
  std::map<std::pair<std::string, std::string>, Edge> edges_;
  std::map<std::string, Node> nodes_;
};

}  // namespace ariadne::store
