// `ariadne serve --store clickhouse://…` end to end: the real server binary against a real
// clickhouse-server on loopback. OTLP/HTTP spans are acknowledged once ClickHouse holds them, and
// the query API answers trace by id and aggregate queries from ClickHouse. Skipped (with a
// message) when clickhouse-server is not installed.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/http_client.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "tests/common/server_process.h"
#include "tests/common/server_test_main.h"
#include "tests/store/conformance/clickhouse_process.h"
#include "tests/store/conformance/engines.h"

namespace ariadne::testing {
namespace {

std::string g_ariadne;
using nlohmann::json;
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;

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

class ClickHouseServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string skip = EngineSkipReason(Engine::kClickHouse);
    if (!skip.empty()) GTEST_SKIP() << skip;
    url_ = FreshClickHouseUrl();
    ASSERT_FALSE(url_.empty());
    char pattern[] = "/tmp/ariadne-ch-serve-XXXXXX";
    dir_ = mkdtemp(pattern);
  }
  void TearDown() override {
    if (server_.running()) server_.Kill();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  void Start() { server_ = ServerProcess::Start(g_ariadne, dir_ + "/data", {"--store", url_}); }

  net::ClientResponse Call(const std::string& method, const std::string& target,
                           const std::string& body = "") {
    net::HttpClient client("127.0.0.1", server_.ports().http, std::chrono::seconds(60));
    auto r = client.Request(method, target, {{"Content-Type", "application/json"}}, body);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : net::ClientResponse{};
  }

  // One trace of `spans` spans over two services; returns the OTLP/HTTP status.
  int SendTrace(const std::string& trace_id, int spans, uint64_t start) {
    return Export(trace_id, spans, start).status;
  }
  net::ClientResponse Export(const std::string& trace_id, int spans, uint64_t start) {
    ExportTraceServiceRequest request;
    for (int service = 0; service < 2; ++service) {
      auto* rs = request.add_resource_spans();
      auto* kv = rs->mutable_resource()->add_attributes();
      kv->set_key("service.name");
      kv->mutable_value()->set_string_value(service == 0 ? "frontend" : "cart");
      auto* ss = rs->add_scope_spans();
      for (int i = service; i < spans; i += 2) {
        auto* span = ss->add_spans();
        span->set_trace_id(trace_id);
        std::string span_id(8, '\x05');
        span_id[7] = static_cast<char>(i + 1);
        span->set_span_id(span_id);
        if (i > 0) span->set_parent_span_id(std::string(7, '\x05') + '\x01');
        span->set_name(i == 0 ? "GET /checkout" : "op-" + std::to_string(i));
        span->set_start_time_unix_nano(start + static_cast<uint64_t>(i) * 1'000'000);
        span->set_end_time_unix_nano(start + static_cast<uint64_t>(i) * 1'000'000 + 2'000'000);
        auto* attr = span->add_attributes();
        attr->set_key("http.status_code");
        attr->mutable_value()->set_int_value(i % 3 == 0 ? 503 : 200);
      }
    }
    net::HttpClient client("127.0.0.1", server_.ports().otlp_http, std::chrono::seconds(60));
    auto r = client.Request("POST", "/v1/traces", {{"Content-Type", "application/x-protobuf"}},
                            request.SerializeAsString());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : net::ClientResponse{};
  }

  std::string url_;
  std::string dir_;
  ServerProcess server_;
};

TEST_F(ClickHouseServeTest, OtlpSpansAreAnsweredByTraceIdAndQueryFromClickHouse) {
  Start();
  const std::string log = ReadFile(server_.stderr_path());
  EXPECT_NE(log.find("clickhouse: created table"), std::string::npos) << log;
  EXPECT_NE(log.find("schema created"), std::string::npos) << log;

  const std::string trace_id("\x4b\xf9\x2f\x35\x77\xb3\x4d\xa6\xa3\xce\x92\x9d\x0e\x0e\x47\x36",
                             16);
  const uint64_t start = NowNano() - 30'000'000'000ULL;
  ASSERT_EQ(SendTrace(trace_id, 7, start), 200);
  // Acknowledged means inserted: readable at once, no flush.
  net::ClientResponse got = Call("GET", "/api/v1/traces/4bf92f3577b34da6a3ce929d0e0e4736");
  ASSERT_EQ(got.status, 200) << got.body;
  json trace = json::parse(got.body);
  EXPECT_EQ(trace["span_count"], 7);
  std::vector<std::string> services = trace["services"].get<std::vector<std::string>>();
  std::sort(services.begin(), services.end());
  EXPECT_EQ(services, (std::vector<std::string>{"cart", "frontend"}));
  EXPECT_EQ(trace["spans"][0]["name"], "GET /checkout");
  EXPECT_EQ(trace["start_time_unix_nano"], std::to_string(start));

  net::ClientResponse query = Call(
      "POST", "/api/v1/query",
      R"({"time_range":3600,"calculations":[{"op":"COUNT"},{"op":"MAX","column":"duration_ms"}],
          "filters":[{"column":"http.status_code","op":"=","value":503}],
          "breakdowns":["service.name"],"orders":[{"column":"service.name"}]})");
  ASSERT_EQ(query.status, 200) << query.body;
  json result = json::parse(query.body);
  const json& rows = result["data"]["results"];
  ASSERT_EQ(rows.size(), 2u) << query.body;  // spans 0, 3, 6: frontend 0 and 6, cart 3
  EXPECT_EQ(rows[0]["data"]["service.name"], "cart");
  EXPECT_EQ(rows[0]["data"]["COUNT"], 1);
  EXPECT_EQ(rows[1]["data"]["service.name"], "frontend");
  EXPECT_EQ(rows[1]["data"]["COUNT"], 2);
  EXPECT_DOUBLE_EQ(rows[1]["data"]["MAX(duration_ms)"].get<double>(), 2.0);

  net::ClientResponse unknown = Call("GET", "/api/v1/traces/0123456789abcdef0123456789abcdef");
  EXPECT_EQ(unknown.status, 404) << unknown.body;

  // A restart finds the schema and the spans.
  EXPECT_EQ(server_.Stop(SIGTERM), 0);
  Start();
  EXPECT_NE(ReadFile(server_.stderr_path()).find("schema found"), std::string::npos);
  got = Call("GET", "/api/v1/traces/4bf92f3577b34da6a3ce929d0e0e4736");
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(json::parse(got.body)["span_count"], 7);
}

// The ClickHouse engine has no StoreAdmin: /metrics keeps the ingest counters but shows none of
// the embedded engine's store and column-cache lines. GET /api/v1/columns answers from the same
// catalog as the embedded engine: the intrinsics with their descriptions, then the keys sent.
TEST_F(ClickHouseServeTest, MetricsHaveNoEmbeddedStoreLinesAndColumnsComeFromTheCatalog) {
  Start();
  const std::string trace_id("\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff\x01",
                             16);
  ASSERT_EQ(SendTrace(trace_id, 3, NowNano() - 10'000'000'000ULL), 200);
  net::ClientResponse metrics = Call("GET", "/metrics");
  ASSERT_EQ(metrics.status, 200) << metrics.body;
  EXPECT_NE(metrics.body.find("ariadne_spans_accepted_total 3\n"), std::string::npos)
      << metrics.body;
  EXPECT_EQ(metrics.body.find("ariadne_store_"), std::string::npos) << metrics.body;
  EXPECT_EQ(metrics.body.find("ariadne_column_cache_"), std::string::npos) << metrics.body;

  net::ClientResponse got = Call("GET", "/api/v1/columns");
  ASSERT_EQ(got.status, 200) << got.body;
  const json columns = json::parse(got.body)["columns"];
  ASSERT_GT(columns.size(), 14u) << got.body;
  EXPECT_EQ(columns[0]["name"], "name");
  EXPECT_EQ(columns[0]["source"], "intrinsic");
  EXPECT_FALSE(columns[0].value("description", std::string()).empty()) << got.body;
  bool status_code = false;
  for (const json& c : columns) {
    if (c["name"] != "http.status_code") continue;
    status_code = true;
    EXPECT_EQ(c["type"], "int");
    EXPECT_EQ(c["source"], "span");
    EXPECT_FALSE(c.contains("description"));
  }
  EXPECT_TRUE(status_code) << got.body;
}

TEST_F(ClickHouseServeTest, ClickHouseDownIsA503WithRetryAfterAndIngestResumesWhenItReturns) {
  // A ClickHouse of its own, to stop and start again.
  std::unique_ptr<ClickHouseProcess> own =
      ClickHouseProcess::Start(*ClickHouseProcess::FindBinary());
  url_ = own->Url("outage");
  Start();
  const std::string before(16, '\x21'), during(16, '\x22'), after(16, '\x23');
  const uint64_t start = NowNano() - 30'000'000'000ULL;
  ASSERT_EQ(SendTrace(before, 3, start), 200);

  own->Stop();
  net::ClientResponse refused = Export(during, 3, start);
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_TRUE(refused.Header("Retry-After").has_value());
  // Reads say the engine is unreachable (503, retry later), not that Ariadne broke (500).
  net::ClientResponse query =
      Call("POST", "/api/v1/query", R"({"time_range":3600,"calculations":[{"op":"COUNT"}]})");
  EXPECT_EQ(query.status, 503) << query.body;
  EXPECT_NE(query.body.find("ClickHouse"), std::string::npos) << query.body;
  EXPECT_EQ(Call("GET", "/api/v1/traces/21212121212121212121212121212121").status, 503);
  EXPECT_EQ(Call("GET", "/api/v1/services").status, 503);

  own->Restart();
  ASSERT_EQ(SendTrace(after, 3, start), 200);
  for (const char* id : {"21212121212121212121212121212121", "23232323232323232323232323232323"}) {
    net::ClientResponse got = Call("GET", std::string("/api/v1/traces/") + id);
    EXPECT_EQ(got.status, 200) << id << " " << got.body;
  }
  server_.Kill();
}

TEST_F(ClickHouseServeTest, ClickHouseDownAtStartIsNotReadyUntilItComesUp) {
  // A ClickHouse that is down when ariadne starts, and comes up later.
  std::unique_ptr<ClickHouseProcess> own =
      ClickHouseProcess::Start(*ClickHouseProcess::FindBinary());
  own->Stop();
  url_ = own->Url("late");
  Start();  // serves anyway: the receivers and API answer, the store is not ready
  const std::string log = ReadFile(server_.stderr_path());
  EXPECT_NE(log.find("cannot reach ClickHouse"), std::string::npos) << log;
  EXPECT_NE(log.find("GET /readyz 503"), std::string::npos) << log;
  net::ClientResponse ready = Call("GET", "/readyz");
  EXPECT_EQ(ready.status, 503) << ready.body;
  EXPECT_NE(json::parse(ready.body)["reason"].get<std::string>().find("not reachable yet"),
            std::string::npos)
      << ready.body;
  EXPECT_EQ(Call("GET", "/healthz").status, 200);  // alive, just not ready
  const std::string trace_id(16, '\x31');
  const uint64_t start = NowNano() - 30'000'000'000ULL;
  net::ClientResponse refused = Export(trace_id, 3, start);
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_TRUE(refused.Header("Retry-After").has_value());
  EXPECT_EQ(Call("GET", "/api/v1/traces/31313131313131313131313131313131").status, 503);

  own->Restart();
  // ariadne retries in the background (every second at first): wait for it, without a deadline
  // of our own beyond the test timeout.
  while (Call("GET", "/readyz").status != 200)
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_NE(ReadFile(server_.stderr_path()).find("clickhouse: created table late.spans"),
            std::string::npos);
  ASSERT_EQ(SendTrace(trace_id, 3, start), 200);
  net::ClientResponse got = Call("GET", "/api/v1/traces/31313131313131313131313131313131");
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(json::parse(got.body)["span_count"], 3);
  server_.Kill();
}

TEST_F(ClickHouseServeTest, ClickHouseKilledMidIngestLosesNoAcknowledgedSpan) {
  std::unique_ptr<ClickHouseProcess> own =
      ClickHouseProcess::Start(*ClickHouseProcess::FindBinary());
  url_ = own->Url("killed");
  Start();
  const uint64_t start = NowNano() - 30'000'000'000ULL;
  // One sender posts trace after trace (3 spans each) while ClickHouse is killed and restarted.
  std::atomic<bool> stop{false};
  std::atomic<int> acked{0}, refused{0};
  std::mutex mu;
  std::vector<std::string> acked_ids;
  std::vector<std::string> problems;
  std::thread sender([&] {
    for (int k = 0; !stop; ++k) {
      std::string id(16, '\x41');
      id[14] = static_cast<char>(k / 256);
      id[15] = static_cast<char>(k % 256);
      net::ClientResponse r = Export(id, 3, start + static_cast<uint64_t>(k) * 1'000'000);
      std::lock_guard<std::mutex> lock(mu);
      if (r.status == 200) {
        acked_ids.push_back(id);
        acked++;
      } else if (r.status == 503 && r.Header("Retry-After").has_value()) {
        refused++;
      } else {
        problems.push_back(std::to_string(r.status) + " " + r.body);
      }
    }
  });
  auto wait_for = [&](std::atomic<int>& counter, int at_least) {
    while (counter < at_least) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  };
  wait_for(acked, 20);
  own->Kill();  // mid-ingest: an insert may be in flight
  wait_for(refused, 2);
  own->Restart();
  const int before = acked;
  wait_for(acked, before + 20);
  stop = true;
  sender.join();
  EXPECT_TRUE(problems.empty()) << problems.front();

  // Every acknowledged trace is there, whole and once.
  for (const std::string& id : acked_ids) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned char c : id) hex += std::string{kHex[c >> 4], kHex[c & 15]};
    net::ClientResponse got = Call("GET", "/api/v1/traces/" + hex);
    ASSERT_EQ(got.status, 200) << hex << " " << got.body;
    EXPECT_EQ(json::parse(got.body)["span_count"], 3) << hex;
  }
  server_.Kill();
}

}  // namespace
}  // namespace ariadne::testing

int main(int argc, char** argv) {
  return ariadne::testing::ServerTestMain(argc, argv, &ariadne::testing::g_ariadne);
}
