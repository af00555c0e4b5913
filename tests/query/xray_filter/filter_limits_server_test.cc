// Deeply nested input through the real `ariadne serve`: an X-Ray filter expression of 20,000 '('
// used to overflow the stack of the thread parsing it and kill the server. Every path that takes a
// filter (POST /api/v1/query xray_filter, GET /api/v1/xray/trace-summaries?filter=, the X-Ray API's
// CreateGroup and GetTraceSummaries) must answer 400 naming the limit — InvalidRequestException on
// the X-Ray API — and the server must stay up. Deeply nested JSON bodies (the query spec,
// bubble-up, X-Ray API requests, a PutTraceSegments document) are refused the same way.
//
// Usage: xray_filter_limits_server_test --ariadne=/path/to/build/bin/ariadne
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "net/http_client.h"
#include "tests/common/server_process.h"
#include "tests/common/server_test_main.h"

namespace ariadne::testing {
namespace {

std::string g_ariadne;

using nlohmann::json;

struct Answer {
  int status = 0;
  std::string body;
};

Answer Call(uint16_t port, const std::string& method, const std::string& target,
            const std::string& body = "") {
  net::HttpClient client("127.0.0.1", port);
  auto response = client.Request(method, target, {{"Content-Type", "application/json"}}, body);
  EXPECT_TRUE(response.ok()) << method << " " << target.substr(0, 60) << ": "
                             << response.status().ToString();
  if (!response.ok()) return {};
  return {response->status, response->body};
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string Nested(int levels) {
  return std::string(static_cast<size_t>(levels), '(') + "ok" +
         std::string(static_cast<size_t>(levels), ')');
}

class FilterLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/ariadne-filter-limits-XXXXXX";
    dir_ = mkdtemp(pattern);
    server_ = ServerProcess::Start(g_ariadne, dir_);
  }
  void TearDown() override {
    if (server_.running()) {
      // The server survived every request above: it still answers and exits cleanly.
      EXPECT_EQ(Call(server_.ports().http, "GET", "/api/v1/services").status, 200);
      EXPECT_EQ(server_.Stop(SIGTERM), 0);
    }
    std::filesystem::remove_all(dir_);
  }

  // The same expression through all four paths; each must refuse it naming `says`.
  void ExpectRefusedEverywhere(const std::string& filter, const std::string& says) {
    const uint16_t api = server_.ports().http;
    const uint16_t xray = server_.ports().xray;
    const double now = static_cast<double>(std::time(nullptr));

    Answer query = Call(
        api, "POST", "/api/v1/query",
        json{{"time_range", 3600}, {"calculations", {{{"op", "COUNT"}}}}, {"xray_filter", filter}}
            .dump());
    EXPECT_EQ(query.status, 400) << query.body.substr(0, 300);
    EXPECT_TRUE(Contains(query.body, says)) << query.body.substr(0, 300);

    Answer summaries = Call(api, "GET", "/api/v1/xray/trace-summaries?filter=" + filter);
    EXPECT_EQ(summaries.status, 400) << summaries.body.substr(0, 300);
    EXPECT_TRUE(Contains(summaries.body, says)) << summaries.body.substr(0, 300);

    Answer group = Call(xray, "POST", "/CreateGroup",
                        json{{"GroupName", "deep"}, {"FilterExpression", filter}}.dump());
    EXPECT_EQ(group.status, 400) << group.body.substr(0, 300);
    EXPECT_TRUE(Contains(group.body, "InvalidRequestException")) << group.body.substr(0, 300);
    EXPECT_TRUE(Contains(group.body, says)) << group.body.substr(0, 300);

    Answer traces =
        Call(xray, "POST", "/TraceSummaries",
             json{{"StartTime", now - 60}, {"EndTime", now}, {"FilterExpression", filter}}.dump());
    EXPECT_EQ(traces.status, 400) << traces.body.substr(0, 300);
    EXPECT_TRUE(Contains(traces.body, "InvalidRequestException")) << traces.body.substr(0, 300);
    EXPECT_TRUE(Contains(traces.body, says)) << traces.body.substr(0, 300);
  }

  std::string dir_;
  ServerProcess server_;
};

TEST_F(FilterLimitsTest, TwentyThousandParenthesesAreRefusedOnEveryPath) {
  // Percent-free on purpose: '(' is legal in a query string, and 20,000 of them fit the request
  // line limit of the HTTP port only when not encoded; the trace-summaries path gets 5,000.
  ExpectRefusedEverywhere(std::string(5000, '('), "limit is 4096 bytes");
  const uint16_t xray = server_.ports().xray;
  Answer group =
      Call(xray, "POST", "/CreateGroup",
           json{{"GroupName", "deep"}, {"FilterExpression", std::string(20000, '(')}}.dump());
  EXPECT_EQ(group.status, 400) << group.body.substr(0, 300);
  Answer query = Call(server_.ports().http, "POST", "/api/v1/query",
                      json{{"time_range", 3600},
                           {"calculations", {{{"op", "COUNT"}}}},
                           {"xray_filter", std::string(20000, '(')}}
                          .dump());
  EXPECT_EQ(query.status, 400) << query.body.substr(0, 300);
}

TEST_F(FilterLimitsTest, NestingPastTheLimitIsRefusedOnEveryPath) {
  ExpectRefusedEverywhere(Nested(1000), "nests deeper than 64 levels");
  // Within the limit it still works.
  Answer group = Call(server_.ports().xray, "POST", "/CreateGroup",
                      json{{"GroupName", "fine"}, {"FilterExpression", Nested(30)}}.dump());
  EXPECT_EQ(group.status, 200) << group.body.substr(0, 300);
}

TEST_F(FilterLimitsTest, DeeplyNestedJsonBodiesAreRefused) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const uint16_t api = server_.ports().http;
  Answer query = Call(api, "POST", "/api/v1/query",
                      R"({"time_range":3600,"calculations":[{"op":"COUNT"}],"x":)" + deep + "}");
  EXPECT_EQ(query.status, 400) << query.body.substr(0, 300);
  EXPECT_TRUE(Contains(query.body, "deeper than 64")) << query.body.substr(0, 300);

  Answer bubble = Call(api, "POST", "/api/v1/bubbleup",
                       R"({"time_range":3600,"selection":{"column":"duration_ms","min":0,"max":1,)"
                       R"("start_time":0,"end_time":1},"x":)" +
                           deep + "}");
  EXPECT_EQ(bubble.status, 400) << bubble.body.substr(0, 300);

  const uint16_t xray = server_.ports().xray;
  Answer group = Call(xray, "POST", "/CreateGroup", R"({"GroupName":"g","Tags":)" + deep + "}");
  EXPECT_EQ(group.status, 400) << group.body.substr(0, 300);
  EXPECT_TRUE(Contains(group.body, "InvalidRequestException")) << group.body.substr(0, 300);

  // A segment document nested 100,000 deep inside PutTraceSegments: refused as a document.
  const double now = static_cast<double>(std::time(nullptr));
  char trace_id[64];
  std::snprintf(trace_id, sizeof(trace_id), "1-%08x-0123456789abcdef01234567",
                static_cast<unsigned>(now));
  json document = {{"name", "svc"},
                   {"id", "0123456789abcdef"},
                   {"trace_id", trace_id},
                   {"start_time", now},
                   {"end_time", now + 0.1}};
  std::string text = document.dump();
  text.insert(text.size() - 1, R"(,"metadata":{"default":{"deep":)" + deep + "}}");
  Answer put = Call(xray, "POST", "/TraceSegments", json{{"TraceSegmentDocuments", {text}}}.dump());
  EXPECT_EQ(put.status, 200) << put.body.substr(0, 300);
  EXPECT_TRUE(Contains(put.body, "UnprocessedTraceSegments")) << put.body.substr(0, 300);
}

}  // namespace
}  // namespace ariadne::testing

int main(int argc, char** argv) {
  return ariadne::testing::ServerTestMain(argc, argv, &ariadne::testing::g_ariadne);
}
