// The query API's limits, against the real `ariadne serve` process: time ranges a request may name
// (anything whose nanoseconds would overflow is a 400 naming the allowed range, never a crash or a
// silently wrong answer); the cap on breakdown groups and the per-query memory limit (422 saying
// how to narrow the query); the cap on concurrent queries (503 + Retry-After); and the server
// staying healthy (GET /healthz 200) after each refusal.
//
// Usage: query_limits_server_test --ariadne=/path/to/build/bin/ariadne
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/http_client.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "tests/common/server_process.h"
#include "tests/common/server_test_main.h"

namespace ariadne::testing {
namespace {

std::string g_ariadne;
using nlohmann::json;
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;

// One server per suite, in a temporary data directory removed at the end.
class RealServer {
 public:
  explicit RealServer(const std::vector<std::string>& extra_args = {}) {
    char pattern[] = "/tmp/ariadne-query-limits-XXXXXX";
    dir_ = mkdtemp(pattern);
    server_ = ServerProcess::Start(g_ariadne, dir_ + "/data", extra_args);
  }
  ~RealServer() {
    if (server_.running()) server_.Kill();
    std::filesystem::remove_all(dir_);
  }
  net::ClientResponse Call(const std::string& method, const std::string& target,
                           const std::string& body = "") {
    net::HttpClient client("127.0.0.1", server_.ports().http, std::chrono::seconds(60));
    auto response = client.Request(method, target, {{"Content-Type", "application/json"}}, body);
    EXPECT_TRUE(response.ok()) << method << " " << target << ": " << response.status().ToString();
    return response.ok() ? std::move(response).value() : net::ClientResponse{};
  }
  // The server answers /healthz (it did not crash or wedge).
  void ExpectHealthy() {
    net::ClientResponse r = Call("GET", "/healthz");
    EXPECT_EQ(r.status, 200) << r.body;
  }
  ServerProcess& process() { return server_; }

 private:
  std::string dir_;
  ServerProcess server_;
};

// An error answer: the status and its message.
void ExpectError(const net::ClientResponse& r, int status, const std::string& message_part) {
  const std::string head = r.body.substr(0, 600);
  EXPECT_EQ(r.status, status) << head;
  json doc = json::parse(r.body, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << head;
  EXPECT_NE(doc.value("error", std::string()).find(message_part), std::string::npos) << head;
}

void IngestUniqueSpans(RealServer* server, int spans);

// A suite that shares one server, started with Config::Args() and holding Config::kSpans spans
// with unique span ids.
template <typename Config>
class SharedServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new RealServer(Config::Args());
    if (Config::kSpans > 0) IngestUniqueSpans(server_, Config::kSpans);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static inline RealServer* server_ = nullptr;
};

struct EmptyDefaultServer {
  static std::vector<std::string> Args() { return {}; }
  static constexpr int kSpans = 0;
};
using TimeRangeTest = SharedServerTest<EmptyDefaultServer>;

TEST_F(TimeRangeTest, QueryWithLargestEndTimeIs400AndTheServerStaysUp) {
  // Used to overflow the seconds → nanoseconds conversion and allocate ~1 TB of time buckets.
  auto r =
      server_->Call("POST", "/api/v1/query", R"({"start_time":0,"end_time":18446744073709551615})");
  ExpectError(r, 400, "end_time: must be from 0 to 18446744073");
  server_->ExpectHealthy();
}

TEST_F(TimeRangeTest, QueryTimesThatWouldWrapAre400NotAnEmptyAnswer) {
  for (const char* spec :
       {R"({"start_time":0,"end_time":18446744074})", R"({"start_time":1000,"end_time":1e30})",
        R"({"start_time":18446744074,"time_range":60})",
        R"({"end_time":99999999999999999,"time_range":60})", R"({"time_range":18446744074})"}) {
    auto r = server_->Call("POST", "/api/v1/query", spec);
    ExpectError(r, 400, "from 0 to 18446744073");
  }
  auto r =
      server_->Call("POST", "/api/v1/query", R"({"start_time":18446744000,"time_range":1000})");
  ExpectError(r, 400, "time_range: start_time + time_range must end from 0 to 18446744073");
  // The largest allowed window is answered.
  r = server_->Call("POST", "/api/v1/query", R"({"start_time":0,"end_time":18446744073})");
  EXPECT_EQ(r.status, 200) << r.body;
  server_->ExpectHealthy();
}

TEST_F(TimeRangeTest, GranularityThatMakesTooManyBucketsIs400) {
  // 2001 s at 2 s makes 1001 buckets (one more than the cap).
  auto r = server_->Call("POST", "/api/v1/query",
                         R"({"start_time":1000000,"end_time":1002001,"granularity":2})");
  ExpectError(r, 400, "granularity: makes 1001 time buckets, more than 1000; use at least 3 s");
  r = server_->Call("POST", "/api/v1/query",
                    R"({"start_time":0,"end_time":18446744073,"granularity":1})");
  ExpectError(r, 400, "more than 1000");
  server_->ExpectHealthy();
}

TEST_F(TimeRangeTest, TraceSearchAndServiceGraphRefuseTimesThatOverflow) {
  for (const char* path : {"/api/v1/traces", "/api/v1/service-graph"}) {
    auto r = server_->Call("GET", std::string(path) + "?start=0&end=18446744074");
    ExpectError(r, 400, "end: must be from 0 to 18446744073");
    r = server_->Call("GET", std::string(path) + "?start=9999999999999999999");
    ExpectError(r, 400, "start: must be from 0 to 18446744073");
    r = server_->Call("GET", std::string(path) + "?start=0&end=18446744073");
    EXPECT_EQ(r.status, 200) << r.body;
  }
  server_->ExpectHealthy();
}

TEST_F(TimeRangeTest, ColumnsAndBubbleUpRefuseTimesThatOverflow) {
  auto r = server_->Call("GET", "/api/v1/columns?time_range=18446744074");
  ExpectError(r, 400, "time_range: must be a number of seconds from 1 to 18446744073");
  r = server_->Call("POST", "/api/v1/bubbleup",
                    R"({"time_range":600,"selection":{"column":"duration_ms","min":1,
                        "end_time":1e30}})");
  ExpectError(r, 400, "selection.end_time: must be from 0 to 18446744073");
  r = server_->Call("POST", "/api/v1/bubbleup",
                    R"({"time_range":600,"selection":{"column":"duration_ms","min":1,
                        "start_time":-5}})");
  ExpectError(r, 400, "selection.start_time: must be from 0 to 18446744073");
  server_->ExpectHealthy();
}

TEST_F(TimeRangeTest, XrayTraceSummariesViewRefusesTimesThatOverflow) {
  auto r = server_->Call("GET", "/api/v1/xray/trace-summaries?start=0&end=1e30");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("EndTime must be from 0 to 18446744073"), std::string::npos) << r.body;
  r = server_->Call("GET", "/api/v1/xray/trace-summaries?start=nan&end=10");
  EXPECT_EQ(r.status, 400) << r.body;
  server_->ExpectHealthy();
}

// ---- groups, memory and concurrency ----

// `spans` spans with unique span ids (traces of 10, 5 services), started in the last minutes,
// through OTLP/HTTP protobuf in batches of 1000.
void IngestUniqueSpans(RealServer* server, int spans) {
  const uint64_t now =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  net::HttpClient client("127.0.0.1", server->process().ports().otlp_http);
  for (int first = 0; first < spans; first += 1000) {
    ExportTraceServiceRequest request;
    for (int service = 0; service < 5; ++service) {
      auto* rs = request.add_resource_spans();
      auto* kv = rs->mutable_resource()->add_attributes();
      kv->set_key("service.name");
      kv->mutable_value()->set_string_value("svc-" + std::to_string(service));
      auto* ss = rs->add_scope_spans();
      for (int i = first + service; i < std::min(spans, first + 1000); i += 5) {
        auto* span = ss->add_spans();
        std::string trace_id(16, '\x01'), span_id(8, '\x02');
        for (int b = 0; b < 4; ++b) {
          trace_id[12 + b] = static_cast<char>((i / 10) >> (8 * b));
          span_id[4 + b] = static_cast<char>(i >> (8 * b));
        }
        span->set_trace_id(trace_id);
        span->set_span_id(span_id);
        span->set_name("op-" + std::to_string(i % 7));
        span->set_start_time_unix_nano(now - 120'000'000'000ULL + static_cast<uint64_t>(i) * 1000);
        span->set_end_time_unix_nano(span->start_time_unix_nano() + 1'000'000 +
                                     static_cast<uint64_t>(i % 1000) * 1000);
      }
    }
    auto r = client.Request("POST", "/v1/traces", {{"Content-Type", "application/x-protobuf"}},
                            request.SerializeAsString());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->status, 200) << r->body;
  }
  auto count = server->Call("POST", "/api/v1/query", R"({"time_range":3600})");
  ASSERT_EQ(count.status, 200) << count.body;
  ASSERT_EQ(json::parse(count.body)["data"]["totals"]["COUNT"], spans) << count.body;
}

constexpr const char* kSpanIdBreakdown =
    R"({"time_range":3600,"breakdowns":["trace.span_id"],
        "calculations":[{"op":"P99","column":"duration_ms"}]})";

// The server as shipped: 50,000 unique span ids against the default cap of 10,000 groups.
struct DefaultServer {
  static std::vector<std::string> Args() { return {}; }
  static constexpr int kSpans = 50'000;
};
using DefaultLimitsTest = SharedServerTest<DefaultServer>;

TEST_F(DefaultLimitsTest, BreakdownBySpanIdIsRefusedPastTheDefaultGroupCap) {
  auto r = server_->Call("POST", "/api/v1/query", kSpanIdBreakdown);
  ExpectError(r, 422,
              "breakdowns: the query makes more than 10000 groups (by trace.span_id), this "
              "server's limit (--query-max-groups); narrow it with filters, fewer breakdowns, or "
              "breakdowns of lower cardinality");
  server_->ExpectHealthy();
  // Queries of reasonable cardinality still answer, over the same spans.
  r = server_->Call("POST", "/api/v1/query",
                    R"({"time_range":3600,"breakdowns":["service.name","name"],
                        "calculations":[{"op":"P99","column":"duration_ms"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["data"]["results"].size(), 35u);
}

// Small limits set by flags, one query worker and one queue place.
struct SmallLimitsServer {
  static std::vector<std::string> Args() {
    return {"--query-max-groups",  "500", "--query-memory-limit", "16MiB",
            "--query-concurrency", "1",   "--query-queue",        "1"};
  }
  static constexpr int kSpans = 50'000;
};
using FlagLimitsTest = SharedServerTest<SmallLimitsServer>;

TEST_F(FlagLimitsTest, GroupCapComesFromTheFlag) {
  auto r = server_->Call("POST", "/api/v1/query", kSpanIdBreakdown);
  ExpectError(r, 422, "the query makes more than 500 groups (by trace.span_id)");
  // Trace search and BubbleUp run under the same limits: BubbleUp skips the columns it cannot
  // break down instead of failing.
  r = server_->Call("POST", "/api/v1/bubbleup",
                    R"({"time_range":3600,"selection":{"column":"duration_ms","min":1.5}})");
  ASSERT_EQ(r.status, 200) << r.body;
  server_->ExpectHealthy();
}

TEST_F(FlagLimitsTest, QueryPastTheMemoryLimitIsRefusedNamingTheFlag) {
  // Exact percentiles keep every value (sketches would fit): 50,000 spans × nine calculations of
  // 32-byte samples.
  auto r = server_->Call("POST", "/api/v1/query",
                         R"({"time_range":3600,"breakdowns":["service.name"],"exact":true,
                             "calculations":[{"op":"P50","column":"duration_ms"},
                                             {"op":"P75","column":"duration_ms"},
                                             {"op":"P95","column":"duration_ms"},
                                             {"op":"P10","column":"duration_ms"},
                                             {"op":"P90","column":"duration_ms"},
                                             {"op":"P99","column":"duration_ms"},
                                             {"op":"P999","column":"duration_ms"},
                                             {"op":"HEATMAP","column":"duration_ms"},
                                             {"op":"COUNT_DISTINCT","column":"trace.span_id"}]})");
  ExpectError(r, 422,
              "query: needs more than 16 MiB of memory, this server's per-query limit "
              "(--query-memory-limit)");
  server_->ExpectHealthy();
}

TEST_F(FlagLimitsTest, QueriesPastTheWorkerAndQueueAre503WithRetryAfter) {
  // One worker and one queue place: of many queries sent at once, some must be turned away.
  constexpr int kClients = 8;
  constexpr const char* kQuery =
      R"({"time_range":3600,"breakdowns":["service.name"],
          "calculations":[{"op":"P99","column":"duration_ms"}]})";
  int busy = 0;
  for (int round = 0; round < 20 && busy == 0; ++round) {
    std::vector<net::ClientResponse> responses(kClients);
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&, c] {
        net::HttpClient client("127.0.0.1", server_->process().ports().http,
                               std::chrono::seconds(60));
        auto r =
            client.Request("POST", "/api/v1/query", {{"Content-Type", "application/json"}}, kQuery);
        if (r.ok()) responses[c] = std::move(r).value();
      });
    }
    for (std::thread& t : clients) t.join();
    for (const net::ClientResponse& r : responses) {
      if (r.status == 503) {
        ++busy;
        EXPECT_EQ(r.Header("Retry-After").value_or(""), "1");
        EXPECT_NE(r.body.find("too many queries are running; retry shortly"), std::string::npos)
            << r.body;
      } else {
        EXPECT_EQ(r.status, 200) << r.body;
      }
    }
  }
  EXPECT_GT(busy, 0) << "no query was turned away with 503";
  server_->ExpectHealthy();
}

}  // namespace
}  // namespace ariadne::testing

int main(int argc, char** argv) {
  return ariadne::testing::ServerTestMain(argc, argv, &ariadne::testing::g_ariadne);
}
