#include "store/service_graph.h"

#include <gtest/gtest.h>

namespace ariadne::store {
namespace {

constexpr uint64_t kSecond = 1'000'000'000ULL;
constexpr uint64_t kT0 = 1'764'000'000ULL * kSecond;

// Builds one-span batches so parents and children arrive separately, as from two processes.
class SpanMaker {
 public:
  model::SpanBatch Make(const std::string& service, uint8_t id, uint8_t parent,
                        model::SpanKind kind, double duration_ms, bool error = false,
                        std::vector<std::pair<std::string, std::string>> attrs = {}) {
    model::SpanBatch b;
    b.attributes.push_back(
        {b.arena.Copy("service.name"), model::Value::String(b.arena.Copy(service))});
    b.resources.push_back({{0, 1}, 0, {}});
    b.scopes.push_back({});
    model::Span s;
    s.trace_id.bytes[0] = 7;
    s.span_id.bytes[7] = id;
    if (parent) s.parent_span_id.bytes[7] = parent;
    s.kind = kind;
    s.start_time_unix_nano = kT0;
    s.end_time_unix_nano = kT0 + static_cast<uint64_t>(duration_ms * 1e6);
    s.status_code = error ? model::StatusCode::kError : model::StatusCode::kUnset;
    s.attributes.begin = 1;
    for (auto& [k, v] : attrs)
      b.attributes.push_back({b.arena.Copy(k), model::Value::String(b.arena.Copy(v))});
    s.attributes.count = static_cast<uint32_t>(attrs.size());
    b.spans.push_back(s);
    return b;
  }
};

const ServiceGraphEdge* FindEdge(const ServiceGraph& g, const std::string& src,
                                 const std::string& dst) {
  for (const auto& e : g.edges)
    if (e.source == src && e.target == dst) return &e;
  return nullptr;
}

TEST(ServiceGraphTest, EdgeFormsWhicheverOfParentAndChildArrivesFirst) {
  SpanMaker m;
  ServiceGraphBuilder graph;
  // Child first (the callee's process flushed before the caller's).
  graph.Observe("prod", m.Make("cart", 2, 1, model::SpanKind::kServer, 12, true), kT0);
  graph.Observe("prod", m.Make("frontend", 1, 0, model::SpanKind::kServer, 20), kT0);
  // Parent first.
  graph.Observe("prod", m.Make("frontend", 3, 0, model::SpanKind::kServer, 20), kT0);
  graph.Observe("prod", m.Make("cart", 4, 3, model::SpanKind::kServer, 8), kT0);
  // Same service: no edge.
  graph.Observe("prod", m.Make("cart", 5, 4, model::SpanKind::kInternal, 1), kT0);
  ServiceGraph g = graph.Get("prod", kT0 - 60 * kSecond, kT0 + 60 * kSecond);
  const ServiceGraphEdge* e = FindEdge(g, "frontend", "cart");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->request_count, 2u);
  EXPECT_EQ(e->error_count, 1u);
  EXPECT_NEAR(e->p99_ms, 12, 12 * 0.03);
  EXPECT_EQ(g.edges.size(), 1u);
  EXPECT_TRUE(graph.Get("dev", 0, UINT64_MAX).edges.empty());
  EXPECT_TRUE(graph.Get("prod", kT0 + 120 * kSecond, kT0 + 600 * kSecond).edges.empty());
}

TEST(ServiceGraphTest, DatabaseCallsAndUnansweredClientCallsBecomeVirtualNodes) {
  SpanMaker m;
  ServiceGraphBuilder graph;
  graph.Observe(
      "prod",
      m.Make("cart", 1, 0, model::SpanKind::kClient, 3, false, {{"db.system", "postgresql"}}), kT0);
  graph.Observe("prod",
                m.Make("cart", 2, 0, model::SpanKind::kClient, 40, true,
                       {{"server.address", "api.stripe.com"}}),
                kT0);
  graph.Observe(
      "prod",
      m.Make("cart", 3, 0, model::SpanKind::kClient, 5, false, {{"peer.service", "inventory"}}),
      kT0);
  graph.Observe("prod", m.Make("inventory", 4, 3, model::SpanKind::kServer, 4),
                kT0);  // answers span 3
  ServiceGraph before = graph.Get("prod", 0, UINT64_MAX);
  EXPECT_NE(FindEdge(before, "cart", "postgresql"), nullptr);
  EXPECT_EQ(FindEdge(before, "cart", "api.stripe.com"), nullptr);  // still waiting for a callee
  graph.Expire(kT0 + 31 * kSecond);
  ServiceGraph after = graph.Get("prod", 0, UINT64_MAX);
  const ServiceGraphEdge* remote = FindEdge(after, "cart", "api.stripe.com");
  ASSERT_NE(remote, nullptr);
  EXPECT_EQ(remote->error_count, 1u);
  ASSERT_NE(FindEdge(after, "cart", "inventory"), nullptr);
  EXPECT_EQ(FindEdge(after, "cart", "inventory")->request_count, 1u);  // not doubled by expiry
  for (const auto& n : after.nodes) {
    if (n.name == "postgresql") {
      EXPECT_EQ(n.kind, "database");
    }
    if (n.name == "api.stripe.com") {
      EXPECT_EQ(n.kind, "remote");
    }
    if (n.name == "inventory") {
      EXPECT_EQ(n.kind, "service");
    }
  }
}

bool HasNode(const ServiceGraph& g, const std::string& name) {
  for (const auto& n : g.nodes)
    if (n.name == name) return true;
  return false;
}

// X-Ray subsegments sent alone carry no service (the decoder leaves their resource empty): each
// takes its parent's, through a chain of such subsegments, whether the parent came first or last.
TEST(ServiceGraphTest, SpanWithoutServiceTakesItsParentsWhicheverArrivesFirst) {
  SpanMaker m;
  ServiceGraphBuilder graph;
  // Children first: the downstream segment, the remote subsegment it answers, a SQL subsegment
  // under that one (a chain of two service-less spans), then the root segment.
  graph.Observe("prod", m.Make("inventory", 3, 2, model::SpanKind::kServer, 5, true), kT0);
  graph.Observe(
      "prod", m.Make("", 2, 1, model::SpanKind::kClient, 6, false, {{"peer.service", "inventory"}}),
      kT0);
  graph.Observe("prod",
                m.Make("", 4, 2, model::SpanKind::kClient, 1, false, {{"db.system", "postgresql"}}),
                kT0);
  graph.Observe("prod", m.Make("shop", 1, 0, model::SpanKind::kServer, 10), kT0);
  // Parent first: a later subsegment of the same segment calling an unanswered remote peer.
  graph.Observe(
      "prod",
      m.Make("", 5, 1, model::SpanKind::kClient, 2, true, {{"server.address", "api.example.com"}}),
      kT0);
  // A subsegment whose parent never comes.
  graph.Observe(
      "prod", m.Make("", 6, 99, model::SpanKind::kClient, 1, false, {{"db.system", "redis"}}), kT0);
  graph.Expire(kT0 + 31 * kSecond);
  ServiceGraph g = graph.Get("prod", 0, UINT64_MAX);
  const ServiceGraphEdge* inventory = FindEdge(g, "shop", "inventory");
  ASSERT_NE(inventory, nullptr);
  EXPECT_EQ(inventory->request_count, 1u);
  EXPECT_EQ(inventory->error_count, 1u);
  ASSERT_NE(FindEdge(g, "shop", "postgresql"), nullptr);
  ASSERT_NE(FindEdge(g, "shop", "api.example.com"), nullptr);
  EXPECT_EQ(FindEdge(g, "shop", "api.example.com")->error_count, 1u);
  EXPECT_EQ(g.edges.size(), 3u);  // no "" source, no remote edge for the answered call, no redis
  EXPECT_FALSE(HasNode(g, ""));
  EXPECT_FALSE(HasNode(g, "redis"));
}

// A service calling itself (a CLIENT span answered by a SERVER span of the same service) draws a
// self-edge, once; in-process children of the same service draw none.
TEST(ServiceGraphTest, CallIntoTheSameServiceIsASelfEdge) {
  SpanMaker m;
  ServiceGraphBuilder graph;
  graph.Observe("prod", m.Make("api", 1, 0, model::SpanKind::kServer, 30), kT0);
  graph.Observe("prod", m.Make("api", 2, 1, model::SpanKind::kInternal, 20), kT0);
  graph.Observe("prod",
                m.Make("api", 3, 2, model::SpanKind::kClient, 9, false, {{"peer.service", "api"}}),
                kT0);
  graph.Observe("prod", m.Make("api", 4, 3, model::SpanKind::kServer, 7, true), kT0);
  graph.Observe("prod", m.Make("api", 5, 4, model::SpanKind::kInternal, 1), kT0);
  graph.Expire(kT0 + 31 * kSecond);
  ServiceGraph g = graph.Get("prod", 0, UINT64_MAX);
  ASSERT_EQ(g.edges.size(), 1u);
  const ServiceGraphEdge* self = FindEdge(g, "api", "api");
  ASSERT_NE(self, nullptr);
  EXPECT_EQ(self->request_count, 1u);  // the answered CLIENT span is no second, remote edge
  EXPECT_EQ(self->error_count, 1u);
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].kind, "service");
  EXPECT_EQ(g.nodes[0].request_count, 2u);  // both SERVER spans enter the service
}

TEST(ServiceGraphTest, SnapshotRestoresEdgesAndNodes) {
  SpanMaker m;
  ServiceGraphBuilder graph;
  graph.Observe("prod", m.Make("a", 1, 0, model::SpanKind::kServer, 5), kT0);
  graph.Observe("prod", m.Make("b", 2, 1, model::SpanKind::kServer, 7, true), kT0);
  ServiceGraphBuilder restored;
  ASSERT_TRUE(restored.Restore(graph.Snapshot()).ok());
  ServiceGraph g = restored.Get("prod", 0, UINT64_MAX);
  ASSERT_EQ(g.edges.size(), 1u);
  EXPECT_EQ(g.edges[0].error_count, 1u);
  EXPECT_NEAR(g.edges[0].p50_ms, 7, 0.2);
  EXPECT_EQ(g.nodes.size(), 2u);
  EXPECT_FALSE(restored.Restore("garbage").ok());
}

}  // namespace
}  // namespace ariadne::store
