// One service graph: X-Ray's GetServiceGraph (query/xray, built per trace through TraceView) and
// the engine's graph (/api/v1/service-graph: ingest-time buckets on the embedded engine, SQL on
// ClickHouse) name the same nodes and draw the same edges, with the same call and error counts,
// for the same traces — X-Ray segment documents (decoded by the real X-Ray decoder: answered
// remote calls, inferred AWS and remote nodes, a SQL database) and OTLP-shaped spans (peer
// attributes, a database, a call that names no peer), subsegments sent alone (which take their
// parent segment's service) and a call back into the same service (a self-edge) — on every
// engine. Both follow
// store/service_graph_rules.h (docs/xray-mapping.md, "The service graph").
#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "query/xray/trace_reads.h"
#include "query/xray_filter/filter.h"
#include "receivers/xray/segment_decoder.h"
#include "store/embedded/embedded_store.h"
#include "tests/store/conformance/engines.h"

namespace ariadne::testing {
namespace {

constexpr uint64_t kSecond = 1'000'000'000ULL;
constexpr uint64_t kT0 = 1'764'000'000ULL;  // epoch seconds

std::string Seconds(double offset) { return std::to_string(static_cast<double>(kT0) + offset); }

// Trace `n`: web (EC2) → api (answered remote call) → a PostgreSQL database; web → DynamoDB
// (inferred AWS node) and, in trace 1, → a failing third-party endpoint (inferred remote node).
// In trace 2 api answers with a throttle.
std::vector<std::string> XrayTrace(int n) {
  const std::string trace =
      "1-" + std::string("69248100") + "-00000000000000000000000" + std::to_string(n);
  const std::string web = "10000000000000" + std::to_string(n) + "1";
  const std::string call = "10000000000000" + std::to_string(n) + "2";
  const std::string api = "20000000000000" + std::to_string(n) + "1";
  std::string third_party;
  if (n == 1) {
    third_party =
        R"(,{"name":"payments.example.com","id":"10000000000000)" + std::to_string(n) +
        R"(4","namespace":"remote","start_time":)" + Seconds(0.03) + R"(,"end_time":)" +
        Seconds(0.05) +
        R"(,"fault":true,"http":{"request":{"method":"POST","url":"https://payments.example.com/charge"},"response":{"status":500}}})";
  }
  std::string web_doc =
      R"({"name":"web","id":")" + web + R"(","trace_id":")" + trace + R"(","start_time":)" +
      Seconds(0) + R"(,"end_time":)" + Seconds(0.1) +
      R"(,"origin":"AWS::EC2::Instance","http":{"request":{"method":"GET","url":"http://web/"},"response":{"status":200}},"subsegments":[)" +
      R"({"name":"api.internal","id":")" + call + R"(","namespace":"remote","start_time":)" +
      Seconds(0.01) + R"(,"end_time":)" + Seconds(0.02) +
      R"(,"http":{"request":{"method":"GET","url":"http://api.internal/items"}}},)" +
      R"({"name":"DynamoDB","id":"10000000000000)" + std::to_string(n) +
      R"(3","namespace":"aws","start_time":)" + Seconds(0.02) + R"(,"end_time":)" + Seconds(0.03) +
      R"(,"aws":{"operation":"GetItem","table_name":"items"}})" + third_party + "]}";
  std::string api_doc =
      R"({"name":"api","id":")" + api + R"(","trace_id":")" + trace + R"(","parent_id":")" + call +
      R"(","start_time":)" + Seconds(0.011) + R"(,"end_time":)" + Seconds(0.019) +
      (n == 2 ? R"(,"error":true,"throttle":true,"http":{"response":{"status":429}})" : "") +
      R"(,"subsegments":[{"name":"orders@db.internal","id":"20000000000000)" + std::to_string(n) +
      R"(2","namespace":"remote","start_time":)" + Seconds(0.012) + R"(,"end_time":)" +
      Seconds(0.015) + R"(,"sql":{"database_type":"PostgreSQL","user":"app"}}]})";
  return {web_doc, api_doc};
}

// Trace 3, as SDKs stream long traces: "shop" sends its subsegments alone ("type":
// "subsegment", no service of their own), and they arrive before the segment — a remote call
// answered by "inventory", a SQL call nested under a local subsegment (a chain of two), and a
// call back into "shop" itself answered by a second "shop" segment (a self-edge).
std::vector<std::string> StreamedTrace() {
  const std::string trace = "1-69248100-000000000000000000000003";
  auto sub = [&](const std::string& id, const std::string& parent, const std::string& body) {
    return R"({"type":"subsegment","trace_id":")" + trace + R"(","id":")" + id +
           R"(","parent_id":")" + parent + R"(",)" + body + "}";
  };
  const std::string times = R"("start_time":)" + Seconds(0.01) + R"(,"end_time":)" + Seconds(0.02);
  return {
      sub("3000000000000002", "3000000000000001",
          R"("name":"inventory.internal","namespace":"remote",)" + times),
      sub("3000000000000003", "3000000000000001", R"("name":"work",)" + times),
      sub("3000000000000004", "3000000000000003",
          R"("name":"ledger@aurora","namespace":"remote","sql":{"database_type":"MySQL"},)" +
              times),
      sub("3000000000000005", "3000000000000003",
          R"("name":"shop.internal","namespace":"remote",)" + times),
      R"({"name":"inventory","id":"3000000000000006","trace_id":")" + trace +
          R"(","parent_id":"3000000000000002",)" + times + R"(,"fault":true})",
      R"({"name":"shop","id":"3000000000000007","trace_id":")" + trace +
          R"(","parent_id":"3000000000000005",)" + times + "}",
      R"({"name":"shop","id":"3000000000000001","trace_id":")" + trace + R"(","start_time":)" +
          Seconds(0) + R"(,"end_time":)" + Seconds(0.1) + "}",
  };
}

// An OTLP-shaped trace: frontend calls a cache by server.address (nobody answers), a named redis
// database, and something that names no peer (no node in either view).
model::SpanBatch OtlpTrace() {
  model::SpanBatch b;
  auto str = [&](const std::string& k, const std::string& v) {
    b.attributes.push_back({b.arena.Copy(k), model::Value::String(b.arena.Copy(v))});
  };
  str("service.name", "frontend");
  b.resources.push_back({{0, 1}, 0, {}});
  b.scopes.push_back({});
  auto span = [&](uint8_t id, uint8_t parent, model::SpanKind kind, bool error,
                  std::vector<std::pair<std::string, std::string>> attrs) {
    model::Span s;
    s.trace_id.bytes[0] = 0x7e;
    s.trace_id.bytes[15] = 9;
    s.span_id.bytes[7] = id;
    if (parent) s.parent_span_id.bytes[7] = parent;
    s.name = b.arena.Copy("op " + std::to_string(id));
    s.kind = kind;
    s.start_time_unix_nano = kT0 * kSecond + id * 1'000'000ULL;
    s.end_time_unix_nano = s.start_time_unix_nano + 2'000'000ULL;
    s.status_code = error ? model::StatusCode::kError : model::StatusCode::kUnset;
    s.attributes.begin = static_cast<uint32_t>(b.attributes.size());
    for (auto& [k, v] : attrs) str(k, v);
    s.attributes.count = static_cast<uint32_t>(attrs.size());
    b.spans.push_back(s);
  };
  span(1, 0, model::SpanKind::kServer, false, {});
  span(2, 1, model::SpanKind::kClient, true, {{"server.address", "cache.internal"}});
  span(3, 1, model::SpanKind::kClient, false,
       {{"db.system", "redis"}, {"peer.service", "sessions"}});
  span(4, 1, model::SpanKind::kClient, false, {{"http.request.method", "GET"}});
  return b;
}

class XrayGraphAgreeTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    const std::string skip = EngineSkipReason(GetParam());
    if (!skip.empty()) GTEST_SKIP() << skip;
    if (GetParam() == Engine::kClickHouse) {
      store_ = OpenEngine(Engine::kClickHouse);
    } else {
      dir_ = (std::filesystem::temp_directory_path() /
              ("ariadne-xray-graph-" + std::to_string(getpid()) + "-" +
               std::to_string(std::random_device{}())))
                 .string();
      store::embedded::EmbeddedStoreOptions options;
      options.data_dir = dir_;
      options.trace_index = GetParam() == Engine::kEmbeddedIndexed;
      // Each trace arrives whole in one batch, so a CLIENT span nobody answered in it becomes its
      // remote edge at the next read rather than 30 s later.
      options.graph_pairing_window_nano = 0;
      auto opened = store::embedded::OpenEmbeddedStore(options);
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
      store_ = std::move(opened).value();
    }
    ASSERT_NE(store_, nullptr);
    for (int n : {1, 2}) {
      model::SpanBatch batch;
      for (const std::string& doc : XrayTrace(n)) {
        auto decoded = receivers::xray::DecodeSegmentDocument(doc, &batch);
        ASSERT_TRUE(decoded.ok()) << decoded.status().ToString() << "\n" << doc;
      }
      ASSERT_TRUE(store_->Append("prod", std::move(batch)).ok());
    }
    ASSERT_TRUE(store_->Append("prod", OtlpTrace()).ok());
    model::SpanBatch streamed;
    for (const std::string& doc : StreamedTrace()) {
      auto decoded = receivers::xray::DecodeSegmentDocument(doc, &streamed);
      ASSERT_TRUE(decoded.ok()) << decoded.status().ToString() << "\n" << doc;
    }
    ASSERT_TRUE(store_->Append("prod", std::move(streamed)).ok());
  }
  void TearDown() override {
    if (store_) {
      EXPECT_TRUE(store_->Close().ok());
    }
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<store::SpanStore> store_;
  std::string dir_;
};

// (source, target) → (calls, calls with an error of any kind)
using EdgeCounts = std::map<std::pair<std::string, std::string>, std::pair<int64_t, int64_t>>;

TEST_P(XrayGraphAgreeTest, GetServiceGraphAndTheEngineGraphAgreeOnNodesAndEdges) {
  auto engine_graph = store_->GetServiceGraph("prod", kT0 * kSecond, (kT0 + 60) * kSecond);
  ASSERT_TRUE(engine_graph.ok()) << engine_graph.status().ToString();
  auto filter = query::xray_filter::Filter::Parse("");
  ASSERT_TRUE(filter.ok());
  query::xray::XrayTraceReader reader(store_.get(), "prod");
  auto xray_graph =
      reader.ServiceGraph(kT0 * kSecond, (kT0 + 60) * kSecond, *filter, nullptr, nullptr);
  ASSERT_TRUE(xray_graph.ok()) << xray_graph.status().ToString();

  std::set<std::string> engine_nodes, xray_nodes;
  EdgeCounts engine_edges, xray_edges;
  for (const auto& node : engine_graph->nodes) engine_nodes.insert(node.name);
  for (const auto& e : engine_graph->edges) {
    engine_edges[{e.source, e.target}] = {static_cast<int64_t>(e.request_count),
                                          static_cast<int64_t>(e.error_count)};
  }
  const auto& nodes = xray_graph->nodes();
  for (const auto& node : nodes) {
    xray_nodes.insert(node.name);
    for (const auto& [callee, s] : node.edges) {
      xray_edges[{node.name, nodes[callee].name}] = {s.total, s.fault + s.throttle + s.error_other};
    }
  }
  const std::set<std::string> expected_nodes = {"DynamoDB",
                                                "api",
                                                "cache.internal",
                                                "frontend",
                                                "inventory",
                                                "ledger@aurora",
                                                "orders@db.internal",
                                                "payments.example.com",
                                                "sessions",
                                                "shop",
                                                "web"};
  EXPECT_EQ(engine_nodes, expected_nodes);
  EXPECT_EQ(xray_nodes, expected_nodes);
  const EdgeCounts expected_edges = {
      {{"api", "orders@db.internal"}, {2, 0}},
      {{"frontend", "cache.internal"}, {1, 1}},
      {{"frontend", "sessions"}, {1, 0}},
      {{"shop", "inventory"}, {1, 1}},
      {{"shop", "ledger@aurora"}, {1, 0}},
      {{"shop", "shop"}, {1, 0}},
      {{"web", "DynamoDB"}, {2, 0}},
      {{"web", "api"}, {2, 1}},
      {{"web", "payments.example.com"}, {1, 1}},
  };
  EXPECT_EQ(engine_edges, expected_edges);
  EXPECT_EQ(xray_edges, expected_edges);

  // The kinds and X-Ray's types say the same: the SQL subsegment is a database, the unanswered
  // calls are remote / AWS nodes, the segments are services.
  std::map<std::string, std::string> kinds, types;
  for (const auto& node : engine_graph->nodes) kinds[node.name] = node.kind;
  for (const auto& node : nodes) types[node.name] = node.type;
  EXPECT_EQ(kinds["orders@db.internal"], "database");
  EXPECT_EQ(kinds["payments.example.com"], "remote");
  EXPECT_EQ(kinds["DynamoDB"], "remote");
  EXPECT_EQ(kinds["web"], "service");
  EXPECT_EQ(types["DynamoDB"], "AWS");
  EXPECT_EQ(types["payments.example.com"], "remote");
  EXPECT_EQ(types["web"], "AWS::EC2::Instance");
  EXPECT_EQ(kinds["ledger@aurora"], "database");
  EXPECT_EQ(kinds["shop"], "service");
}

// GetTimeSeriesServiceStatistics of the entry segments comes from the trace summaries' root facts
// (no trace fetched); it must count what the whole traces' entry segments say, per bucket.
TEST_P(XrayGraphAgreeTest, EntrySegmentTimeSeriesFromSummariesMatchesTheWholeTraces) {
  auto filter = query::xray_filter::Filter::Parse("");
  ASSERT_TRUE(filter.ok());
  query::xray::XrayTraceReader reader(store_.get(), "prod");
  std::map<uint64_t, query::xray::XrayGraphStats> expected;
  query::xray::MatchingTracesRequest request;
  request.start_nano = kT0 * kSecond;
  request.end_nano = (kT0 + 60) * kSecond;
  request.limit = 0;
  size_t traces = 0;
  auto walked = reader.MatchingTraces(request, [&](const query::xray_filter::TraceView& view) {
    ++traces;
    ASSERT_GE(view.root(), 0);
    const auto& root = view.segments()[view.root()];
    const auto seconds = static_cast<uint64_t>(root.start);
    expected[seconds - seconds % 60].Add(root);
  });
  ASSERT_TRUE(walked.ok()) << walked.status().ToString();
  EXPECT_EQ(traces, 4u);  // two X-Ray traces, the OTLP trace, the streamed trace
  auto series =
      reader.TimeSeries(request.start_nano, request.end_nano, *filter, nullptr, {}, 60, nullptr);
  ASSERT_TRUE(series.ok()) << series.status().ToString();
  ASSERT_EQ(series->size(), expected.size());
  for (const auto& [bucket, want] : expected) {
    const auto& got = series->at(bucket);
    EXPECT_EQ(got.total, want.total);
    EXPECT_EQ(got.ok, want.ok);
    EXPECT_EQ(got.fault, want.fault);
    EXPECT_EQ(got.throttle, want.throttle);
    EXPECT_EQ(got.error_other, want.error_other);
    EXPECT_NEAR(got.total_response_time, want.total_response_time, 1e-6);
    EXPECT_EQ(got.histogram, want.histogram);
  }
  // One service's segments (the nested "shop" segment included) come from the fetched traces
  // that have one; the others are not read.
  auto shop = reader.TimeSeries(request.start_nano, request.end_nano, *filter, nullptr, {"shop"},
                                60, nullptr);
  ASSERT_TRUE(shop.ok()) << shop.status().ToString();
  int64_t shop_segments = 0;
  for (const auto& [bucket, stats] : *shop) shop_segments += stats.total;
  EXPECT_EQ(shop_segments, 2);
}

INSTANTIATE_TEST_SUITE_P(Engines, XrayGraphAgreeTest,
                         ::testing::Values(Engine::kEmbedded, Engine::kEmbeddedIndexed,
                                           Engine::kClickHouse),
                         [](const auto& info) { return EngineName(info.param); });

}  // namespace
}  // namespace ariadne::testing
