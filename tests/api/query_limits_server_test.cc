// The query API's limits, against the real `ariadne serve` process: time ranges a request may name
// (anything whose nanoseconds would overflow is a 400 naming the allowed range, never a crash or a
// silently wrong answer), and the server staying healthy (GET /healthz 200) after each refusal.
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
#include "tests/common/server_process.h"

namespace ariadne::testing {
namespace {

std::string g_ariadne;
using nlohmann::json;

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

class TimeRangeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new RealServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static RealServer* server_;
};
RealServer* TimeRangeTest::server_ = nullptr;

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

}  // namespace
}  // namespace ariadne::testing

int main(int argc, char** argv) {
  ariadne::testing::g_ariadne = ariadne::testing::AriadneBinaryFromArgs(&argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  if (ariadne::testing::g_ariadne.empty()) {
    std::fprintf(stderr, "pass --ariadne=/path/to/build/bin/ariadne\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  return RUN_ALL_TESTS();
}
