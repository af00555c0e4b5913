// Storage conformance, the service graph: the embedded engine (edges paired as spans arrive,
// store/service_graph.h) and ClickHouse (the same rules in SQL, clickhouse/service_graph_sql.h)
// answer GetServiceGraph — /api/v1/service-graph — with the same nodes, kinds, counts and errors
// for the same spans, both following store/service_graph_rules.h; and the X-Ray service graph
// (query/xray: GetServiceGraph) is the same over both engines.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "query/xray/trace_reads.h"
#include "query/xray_filter/filter.h"
#include "tests/store/conformance/engines.h"

namespace ariadne::testing {
namespace {

constexpr uint64_t kSecond = 1'000'000'000ULL;
constexpr uint64_t kT0 = 1'764'000'000ULL * kSecond;

struct SpanSpec {
  uint8_t trace, id, parent;
  std::string service;
  model::SpanKind kind;
  double duration_ms;
  bool error;
  std::vector<std::pair<std::string, std::string>> attrs;
};

// One span per batch, so parents and children arrive separately (as from two processes).
model::SpanBatch Make(const SpanSpec& spec) {
  model::SpanBatch b;
  b.attributes.push_back(
      {b.arena.Copy("service.name"), model::Value::String(b.arena.Copy(spec.service))});
  b.resources.push_back({{0, 1}, 0, {}});
  b.scopes.push_back({});
  model::Span s;
  s.trace_id.bytes[0] = 0x5a;
  s.trace_id.bytes[15] = spec.trace;
  s.span_id.bytes[0] = spec.trace;
  s.span_id.bytes[7] = spec.id;
  if (spec.parent) {
    s.parent_span_id.bytes[0] = spec.trace;
    s.parent_span_id.bytes[7] = spec.parent;
  }
  s.name = b.arena.Copy(spec.service + " op " + std::to_string(spec.id));
  s.kind = spec.kind;
  s.start_time_unix_nano = kT0 + spec.trace * kSecond + spec.id * 1'000'000ULL;
  s.end_time_unix_nano = s.start_time_unix_nano + static_cast<uint64_t>(spec.duration_ms * 1e6);
  s.status_code = spec.error ? model::StatusCode::kError : model::StatusCode::kUnset;
  s.attributes.begin = 1;
  for (auto& [k, v] : spec.attrs)
    b.attributes.push_back({b.arena.Copy(k), model::Value::String(b.arena.Copy(v))});
  s.attributes.count = static_cast<uint32_t>(spec.attrs.size());
  b.spans.push_back(s);
  return b;
}

using model::SpanKind;
const std::vector<SpanSpec> kSpans = {
    // Trace 1: frontend → cart (a failing answer) → postgresql.
    {1, 1, 0, "frontend", SpanKind::kServer, 20, false, {}},
    {1, 2, 1, "frontend", SpanKind::kClient, 15, false, {{"peer.service", "cart"}}},
    {1, 4, 3, "cart", SpanKind::kClient, 3, false, {{"db.system", "postgresql"}}},  // child first
    {1, 3, 2, "cart", SpanKind::kServer, 12, true, {}},
    // Trace 2: frontend → cart.
    {2, 1, 0, "frontend", SpanKind::kServer, 10, false, {}},
    {2, 2, 1, "frontend", SpanKind::kClient, 9, false, {{"server.address", "cart.internal"}}},
    {2, 3, 2, "cart", SpanKind::kServer, 8, false, {}},
    // Trace 3: frontend → a named redis that fails.
    {3, 1, 0, "frontend", SpanKind::kServer, 6, false, {}},
    {3,
     2,
     1,
     "frontend",
     SpanKind::kClient,
     2,
     true,
     {{"db.system", "redis"}, {"peer.service", "sessions"}}},
};

class ServiceGraphAgreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string skip = EngineSkipReason(Engine::kClickHouse);
    if (!skip.empty()) GTEST_SKIP() << skip;
    embedded_ = OpenEngine(Engine::kEmbedded);
    clickhouse_ = OpenEngine(Engine::kClickHouse);
    ASSERT_NE(embedded_, nullptr);
    ASSERT_NE(clickhouse_, nullptr);
    for (const SpanSpec& spec : kSpans) {
      ASSERT_TRUE(embedded_->Append("prod", Make(spec)).ok());
      ASSERT_TRUE(clickhouse_->Append("prod", Make(spec)).ok());
    }
  }
  void TearDown() override {
    if (embedded_) {
      EXPECT_TRUE(embedded_->Close().ok());
    }
    if (clickhouse_) {
      EXPECT_TRUE(clickhouse_->Close().ok());
    }
  }
  std::unique_ptr<store::SpanStore> embedded_, clickhouse_;
};

using NodeRow = std::tuple<std::string, std::string, uint64_t, uint64_t>;
using EdgeRow = std::tuple<std::string, std::string, uint64_t, uint64_t>;

std::vector<NodeRow> Nodes(const store::ServiceGraph& g) {
  std::vector<NodeRow> out;
  for (const auto& n : g.nodes) out.emplace_back(n.name, n.kind, n.request_count, n.error_count);
  return out;
}
std::vector<EdgeRow> Edges(const store::ServiceGraph& g) {
  std::vector<EdgeRow> out;
  for (const auto& e : g.edges)
    out.emplace_back(e.source, e.target, e.request_count, e.error_count);
  return out;
}

TEST_F(ServiceGraphAgreeTest, BothEnginesGiveTheSameGraphByTheSharedRules) {
  for (store::SpanStore* engine : {embedded_.get(), clickhouse_.get()}) {
    auto graph = engine->GetServiceGraph("prod", kT0, kT0 + 60 * kSecond);
    ASSERT_TRUE(graph.ok()) << graph.status().ToString();
    const char* name = engine == embedded_.get() ? "embedded" : "clickhouse";
    EXPECT_EQ(Edges(*graph), (std::vector<EdgeRow>{{"cart", "postgresql", 1, 0},
                                                   {"frontend", "cart", 2, 1},
                                                   {"frontend", "sessions", 1, 1}}))
        << name;
    EXPECT_EQ(Nodes(*graph), (std::vector<NodeRow>{{"cart", "service", 2, 1},
                                                   {"frontend", "service", 3, 0},
                                                   {"postgresql", "database", 1, 0},
                                                   {"sessions", "database", 1, 1}}))
        << name;
    // One call per edge but frontend → cart: the percentiles are that call's duration.
    for (const auto& e : graph->edges) {
      if (e.request_count != 1) continue;
      const double ms = e.target == "postgresql" ? 3 : 2;
      EXPECT_NEAR(e.p50_ms, ms, ms * 0.03) << name << " " << e.target;
      EXPECT_NEAR(e.p99_ms, ms, ms * 0.03) << name << " " << e.target;
    }
    EXPECT_TRUE(engine->GetServiceGraph("dev", kT0, kT0 + 60 * kSecond)->edges.empty()) << name;
  }
}

TEST_F(ServiceGraphAgreeTest, XrayServiceGraphIsTheSameOverBothEngines) {
  auto filter = query::xray_filter::Filter::Parse("");
  ASSERT_TRUE(filter.ok());
  using XrayRow = std::tuple<std::string, std::string, bool, int64_t, int64_t, int64_t>;
  std::vector<std::vector<XrayRow>> answers;
  for (store::SpanStore* engine : {embedded_.get(), clickhouse_.get()}) {
    query::xray::XrayTraceReader reader(engine, "prod");
    auto graph = reader.ServiceGraph(kT0, kT0 + 60 * kSecond, *filter, nullptr, nullptr);
    ASSERT_TRUE(graph.ok()) << graph.status().ToString();
    std::vector<XrayRow> rows;
    for (const auto& node : graph->nodes()) {
      rows.emplace_back(node.name, node.type, node.inferred, node.stats.total, node.stats.fault,
                        static_cast<int64_t>(node.edges.size()));
      for (const auto& [callee, stats] : node.edges) {
        rows.emplace_back(node.name + " ->", graph->nodes()[callee].name, false, stats.total,
                          stats.fault, 0);
      }
    }
    std::sort(rows.begin(), rows.end());
    answers.push_back(std::move(rows));
  }
  EXPECT_EQ(answers[0], answers[1]);
  // The frontend → cart hop: two calls, one fault (cart's failing answer).
  bool found = false;
  for (const XrayRow& row : answers[0]) {
    if (std::get<0>(row) == "frontend ->" && std::get<1>(row) == "cart") {
      found = true;
      EXPECT_EQ(std::get<3>(row), 2);
      EXPECT_EQ(std::get<4>(row), 1);
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace ariadne::testing
