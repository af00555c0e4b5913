// The 2-shard cluster on loopback (docs/scale-out.md): two clickhouse-server processes that both
// know the cluster `ariadne_test` (one shard each), and two `ariadne serve` nodes started with
// `--store clickhouse://A,B/ariadne?cluster=ariadne_test` (each with the other server first).
// Each node ingests half of every trace over OTLP/HTTP; the Distributed tables place every span
// of a trace, and its trace_index rows, on one shard; queries through either node see every trace
// whole: trace by id, trace search, aggregate COUNT equal to the total, services. Skipped (with a
// message) when clickhouse-server is not installed.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/http_client.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "store/clickhouse/clickhouse_store.h"
#include "tests/common/random_spans.h"
#include "tests/common/server_process.h"
#include "tests/common/server_test_main.h"
#include "tests/store/conformance/clickhouse_process.h"
#include "tests/store/conformance/cluster_fixture.h"

namespace ariadne::testing {
namespace {

std::string g_ariadne;
using nlohmann::json;
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;

constexpr int kTraces = 40;
constexpr int kSpansPerTrace = 6;  // 3 through each node
const char* const kServices[] = {"frontend", "cart", "payments"};

uint64_t NowNano() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string TraceId(int t) {
  std::string id(16, '\0');
  id[0] = '\x7a';
  id[14] = static_cast<char>(t / 256);
  id[15] = static_cast<char>(t % 256 + 1);
  for (int i = 1; i < 14; ++i) id[i] = static_cast<char>(t * 7 + i);
  return id;
}

std::string Hex(const std::string& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

// Span `i` of trace `t`: span 0 is the root (frontend), the others its children; span 3 of
// every fifth trace has status 500.
bool IsError(int t, int i) { return t % 5 == 0 && i == 3; }

// The spans of every trace whose index `i` has parity `half`, one resource per service.
ExportTraceServiceRequest Half(int half, uint64_t start) {
  ExportTraceServiceRequest request;
  for (int s = 0; s < 3; ++s) {
    auto* rs = request.add_resource_spans();
    auto* kv = rs->mutable_resource()->add_attributes();
    kv->set_key("service.name");
    kv->mutable_value()->set_string_value(kServices[s]);
    auto* ss = rs->add_scope_spans();
    for (int t = 0; t < kTraces; ++t) {
      for (int i = half; i < kSpansPerTrace; i += 2) {
        if (i % 3 != s) continue;
        auto* span = ss->add_spans();
        span->set_trace_id(TraceId(t));
        span->set_span_id(std::string(7, '\x33') + static_cast<char>(i + 1));
        if (i > 0) span->set_parent_span_id(std::string(7, '\x33') + '\x01');
        span->set_name(i == 0 ? "GET /checkout" : "op-" + std::to_string(i));
        const uint64_t begin =
            start + static_cast<uint64_t>(t) * 10'000'000 + static_cast<uint64_t>(i) * 1'000'000;
        span->set_start_time_unix_nano(begin);
        span->set_end_time_unix_nano(begin + (i == 0 ? 8'000'000 : 1'000'000));
        auto* attr = span->add_attributes();
        attr->set_key("http.status_code");
        attr->mutable_value()->set_int_value(IsError(t, i) ? 500 : 200);
      }
    }
  }
  return request;
}

class ClusterTest : public ClickHouseClusterFixture {
 protected:
  const char* Subject() const override { return "the cluster"; }

  net::ClientResponse Call(uint16_t port, const std::string& method, const std::string& target,
                           const std::string& body = "", const std::string& type = "") {
    net::HttpClient client("127.0.0.1", port, std::chrono::seconds(120));
    auto r = client.Request(method, target,
                            {{"Content-Type", type.empty() ? "application/json" : type}}, body);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : net::ClientResponse{};
  }

  // A statement on one ClickHouse server, bypassing Ariadne.
  std::string Sql(size_t server, const std::string& sql) {
    net::ClientResponse r = Call(clickhouse_[server]->http_port(), "POST", "/", sql, "text/plain");
    EXPECT_EQ(r.status, 200) << sql << ": " << r.body;
    return r.body;
  }
};

TEST_F(ClusterTest, TwoNodesIngestHalvesAndEitherNodeSeesEveryTraceWhole) {
  clickhouse_ = ClickHouseProcess::StartCluster(*binary_, 2, "ariadne_test");
  for (size_t n = 0; n < 2; ++n)
    nodes_.push_back(
        ServerProcess::Start(g_ariadne, dir_ + "/node" + std::to_string(n), {"--store", Url(n)}));
  // The first node created the local and Distributed tables on both servers.
  const std::string log = ReadFile(nodes_[0].stderr_path());
  for (const auto& ch : clickhouse_) {
    const std::string on = " on 127.0.0.1:" + std::to_string(ch->http_port());
    EXPECT_NE(log.find("created table ariadne.spans_local" + on), std::string::npos) << log;
    EXPECT_NE(log.find("created table ariadne.spans" + on + "\n"), std::string::npos) << log;
  }
  EXPECT_NE(Sql(1,
                "SELECT engine FROM system.tables WHERE database = 'ariadne' AND name = "
                "'trace_index'")
                .find("Distributed"),
            std::string::npos);

  // Each node ingests half of every trace.
  const uint64_t start = NowNano() - 60'000'000'000ULL;
  for (int half = 0; half < 2; ++half) {
    net::ClientResponse r = Call(nodes_[half].ports().otlp_http, "POST", "/v1/traces",
                                 Half(half, start).SerializeAsString(), "application/x-protobuf");
    ASSERT_EQ(r.status, 200) << r.body;
  }
  const int total = kTraces * kSpansPerTrace;

  // Both shards hold spans; each trace (spans and trace_index rows) lives on exactly one.
  std::map<std::string, std::set<size_t>> shards_of_trace;
  int stored = 0;
  for (size_t s = 0; s < 2; ++s) {
    const int here = std::stoi(Sql(s, "SELECT count() FROM ariadne.spans_local"));
    EXPECT_GT(here, 0) << "shard " << s << " got no spans";
    stored += here;
    std::istringstream ids(
        Sql(s, "SELECT DISTINCT lower(hex(trace_id)) FROM ariadne.spans_local FORMAT TSV"));
    for (std::string id; std::getline(ids, id);) shards_of_trace[id].insert(s);
    std::istringstream indexed(
        Sql(s, "SELECT DISTINCT lower(hex(trace_id)) FROM ariadne.trace_index_local FORMAT TSV"));
    for (std::string id; std::getline(indexed, id);)
      EXPECT_EQ(shards_of_trace[id], std::set<size_t>{s}) << id << " indexed on another shard";
  }
  EXPECT_EQ(stored, total);
  ASSERT_EQ(shards_of_trace.size(), static_cast<size_t>(kTraces));
  for (const auto& [id, shards] : shards_of_trace) EXPECT_EQ(shards.size(), 1u) << id;

  for (size_t n = 0; n < 2; ++n) {
    const uint16_t api = nodes_[n].ports().http;
    SCOPED_TRACE("through node " + std::to_string(n));
    // Trace by id: whole, whichever node ingested which half.
    for (int t = 0; t < kTraces; ++t) {
      net::ClientResponse got = Call(api, "GET", "/api/v1/traces/" + Hex(TraceId(t)));
      ASSERT_EQ(got.status, 200) << got.body;
      json trace = json::parse(got.body);
      EXPECT_EQ(trace["span_count"], kSpansPerTrace) << Hex(TraceId(t));
      EXPECT_EQ(trace["spans"][0]["name"], "GET /checkout");
    }
    // Trace search: every matching trace with its whole summary.
    net::ClientResponse found =
        Call(api, "GET", "/api/v1/traces?attr.http.status_code=500&limit=100");
    ASSERT_EQ(found.status, 200) << found.body;
    json traces = json::parse(found.body)["traces"];
    EXPECT_EQ(traces.size(), static_cast<size_t>(kTraces / 5)) << found.body;
    for (const json& t : traces) {
      EXPECT_EQ(t["span_count"], kSpansPerTrace);
      EXPECT_EQ(t["root_service"], "frontend");
      EXPECT_EQ(t["root_name"], "GET /checkout");
      EXPECT_EQ(t["services"], json::array({"cart", "frontend", "payments"}));
      EXPECT_EQ(t["error_count"], 0);  // 500 is an attribute here, not a span status
    }
    // Aggregates over both shards: the total, and by service.
    net::ClientResponse query = Call(api, "POST", "/api/v1/query",
                                     R"({"time_range":3600,"calculations":[{"op":"COUNT"}],
                 "breakdowns":["service.name"],"orders":[{"column":"service.name"}]})");
    ASSERT_EQ(query.status, 200) << query.body;
    json result = json::parse(query.body);
    const json& rows = result["data"]["results"];
    ASSERT_EQ(rows.size(), 3u) << query.body;
    int sum = 0;
    for (const json& row : rows) {
      EXPECT_EQ(row["data"]["COUNT"], total / 3) << row.dump();
      sum += row["data"]["COUNT"].get<int>();
    }
    EXPECT_EQ(sum, total);
    net::ClientResponse errors = Call(api, "POST", "/api/v1/query",
                                      R"({"time_range":3600,"calculations":[{"op":"COUNT"}],
                 "filters":[{"column":"http.status_code","op":"=","value":500}]})");
    ASSERT_EQ(errors.status, 200) << errors.body;
    EXPECT_EQ(json::parse(errors.body)["data"]["results"][0]["data"]["COUNT"], kTraces / 5)
        << errors.body;
    // Service graph: answered by ClickHouse, so both nodes show every call, including those
    // whose parent and child spans came in through different nodes.
    net::ClientResponse graph = Call(api, "GET", "/api/v1/service-graph");
    ASSERT_EQ(graph.status, 200) << graph.body;
    std::map<std::string, int> edges;
    const json graph_json = json::parse(graph.body);
    for (const json& e : graph_json["edges"])
      edges[e["source"].get<std::string>() + ">" + e["target"].get<std::string>()] =
          e["request_count"].get<int>();
    // Children 1..5 of each root (frontend): cart (1, 4), payments (2, 5), frontend (3).
    EXPECT_EQ(edges, (std::map<std::string, int>{{"frontend>cart", 2 * kTraces},
                                                 {"frontend>payments", 2 * kTraces}}))
        << graph.body;
    // Services: each node sees the services the other one ingested too.
    net::ClientResponse services = Call(api, "GET", "/api/v1/services");
    ASSERT_EQ(services.status, 200) << services.body;
    EXPECT_NE(services.body.find("payments"), std::string::npos) << services.body;
    // X-Ray trace summaries: the paged trace search in SQL over the Distributed tables.
    net::ClientResponse summaries = Call(api, "GET", "/api/v1/xray/trace-summaries?limit=100");
    ASSERT_EQ(summaries.status, 200) << summaries.body;
    EXPECT_EQ(json::parse(summaries.body)["TraceSummaries"].size(), static_cast<size_t>(kTraces))
        << summaries.body.substr(0, 2000);
  }
}

// Retention in cluster mode drops the old day partitions of the local tables on every server
// (a Distributed table has no partitions of its own).
TEST_F(ClusterTest, RetentionDropsOldDayPartitionsOnEveryShard) {
  clickhouse_ = ClickHouseProcess::StartCluster(*binary_, 2, "ariadne_test");
  constexpr uint64_t kDay = 86'400'000'000'000ULL;
  auto config = store::clickhouse::ParseClickHouseUrl(Url(0));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  store::clickhouse::ClickHouseStoreOptions options;
  options.config = *config;
  options.retention_nano = 2 * kDay;
  std::vector<std::string> created;
  auto opened = store::clickhouse::OpenClickHouseStore(options, &created);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<store::clickhouse::ClickHouseStore> store = std::move(opened).value();
  const uint64_t now = NowNano();
  RandomSpanOptions old_options, new_options;
  old_options.base_time_unix_nano = now - 5 * kDay;
  new_options.base_time_unix_nano = now - 60'000'000'000ULL;
  RandomSpans old_gen(71, old_options), new_gen(72, new_options);
  model::SpanBatch old_spans = old_gen.Batch(400), new_spans = new_gen.Batch(400);
  std::set<model::TraceId> old_traces, new_traces;
  for (const model::Span& s : old_spans.spans) old_traces.insert(s.trace_id);
  for (const model::Span& s : new_spans.spans) new_traces.insert(s.trace_id);
  const int new_count = static_cast<int>(new_spans.spans.size());
  ASSERT_TRUE(store->Append("prod", std::move(old_spans)).ok());
  ASSERT_TRUE(store->Append("prod", std::move(new_spans)).ok());
  for (size_t s = 0; s < 2; ++s)  // the old spans were spread over both shards
    EXPECT_GT(std::stoi(Sql(s, "SELECT count() FROM ariadne.spans_local WHERE start_ns < " +
                                   std::to_string(now - 4 * kDay))),
              0);

  auto dropped = store->ApplyRetention(now);
  ASSERT_TRUE(dropped.ok()) << dropped.status().ToString();
  EXPECT_GE(*dropped, 4u);  // the old day of spans_local and trace_index_local, on each server
  for (size_t s = 0; s < 2; ++s)
    EXPECT_EQ(std::stoi(Sql(s, "SELECT count() FROM ariadne.spans_local WHERE start_ns < " +
                                   std::to_string(now - 4 * kDay))),
              0);
  int remaining = 0;
  for (size_t s = 0; s < 2; ++s)
    remaining += std::stoi(Sql(s, "SELECT count() FROM ariadne.spans_local"));
  EXPECT_EQ(remaining, new_count);
  for (const model::TraceId& id : old_traces)
    EXPECT_TRUE(store->GetTrace(id).status().IsNotFound()) << id.ToHex();
  for (const model::TraceId& id : new_traces) EXPECT_TRUE(store->GetTrace(id).ok()) << id.ToHex();
  EXPECT_TRUE(store->Close().ok());
}

TEST_F(ClusterTest, AClusterMissingFromRemoteServersIsAClearStartError) {
  clickhouse_ = ClickHouseProcess::StartCluster(*binary_, 2, "ariadne_test");
  std::string url = Url(0);
  url.replace(url.find("ariadne_test"), 12, "no_such_cluster");
  EXPECT_THROW(ServerProcess::Start(g_ariadne, dir_ + "/bad", {"--store", url}),
               std::runtime_error);
  const std::string log = ReadFile(dir_ + "/bad.stderr.log");
  EXPECT_NE(log.find("has no cluster no_such_cluster in its remote_servers"), std::string::npos)
      << log;
  // Naming one server of the two is refused too: the other would lack its local tables.
  const std::string one = "clickhouse://127.0.0.1:" + std::to_string(clickhouse_[0]->http_port()) +
                          "/ariadne?cluster=ariadne_test";
  EXPECT_THROW(ServerProcess::Start(g_ariadne, dir_ + "/one", {"--store", one}),
               std::runtime_error);
  EXPECT_NE(ReadFile(dir_ + "/one.stderr.log").find("list every server of the cluster"),
            std::string::npos);
}

}  // namespace
}  // namespace ariadne::testing

int main(int argc, char** argv) {
  return ariadne::testing::ServerTestMain(argc, argv, &ariadne::testing::g_ariadne);
}
