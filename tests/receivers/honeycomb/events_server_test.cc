// The Honeycomb Events API against the real `ariadne serve` over real HTTP: /1/events, /1/batch
// (good and bad events mixed, gzip, zstd), /1/auth with and without keys, the errors, and a
// sampling-corrected COUNT through /api/v1/query. Events are read back through the query API.
//
// Usage: honeycomb_events_server_test --ariadne=/path/to/build/bin/ariadne
#include <gtest/gtest.h>
#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/http_client.h"
#include "receivers/compression.h"
#include "tests/common/server_fixture.h"
#include "tests/common/server_test_main.h"

namespace ariadne::testing {
namespace {

std::string g_ariadne;
using nlohmann::json;
using namespace std::chrono_literals;

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Zstd(const std::string& data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  out.resize(n);
  return out;
}

class HoneycombEventsServerTest : public ServerFixture {
 protected:
  HoneycombEventsServerTest() : ServerFixture("honeycomb-events") {}

  void Start() { server_ = ServerProcess::Start(g_ariadne, DataDir()); }

  // `ariadne keys create --role ROLE [--env ENV]`: the key it printed.
  std::string CreateKey(const std::string& role, const std::string& env = "") {
    std::string command = g_ariadne + " keys create --role " + role +
                          (env.empty() ? "" : " --env " + env) + " --data-dir " + DataDir() +
                          " 2>/dev/null";
    FILE* pipe = ::popen(command.c_str(), "r");
    std::string out;
    char buffer[256];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
    EXPECT_EQ(::pclose(pipe), 0) << command;
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
  }

  net::ClientResponse Ingest(const std::string& method, const std::string& target,
                             net::HeaderList headers, const std::string& body = "") {
    net::HttpClient client("127.0.0.1", server_.ports().otlp_http, 60s);
    auto response = client.Request(method, target, headers, body);
    EXPECT_TRUE(response.ok()) << target << ": " << response.status().ToString();
    return response.ok() ? std::move(response).value() : net::ClientResponse{};
  }

  json Api(const std::string& method, const std::string& target, const std::string& body = "",
           const std::string& key = "") {
    net::HttpClient client("127.0.0.1", server_.ports().http, 60s);
    net::HeaderList headers = {{"Content-Type", "application/json"}};
    if (!key.empty()) headers.emplace_back("Authorization", "Bearer " + key);
    auto response = client.Request(method, target, headers, body);
    EXPECT_TRUE(response.ok()) << target;
    if (!response.ok()) return json();
    EXPECT_EQ(response->status, 200) << target << ": " << response->body;
    return json::parse(response->body, nullptr, false);
  }

  // COUNT (weighted by sample rate) of the spans whose resource says dataset `dataset`.
  double Count(const std::string& dataset, const std::string& key = "") {
    json spec = {{"time_range", 7200},
                 {"calculations", {{{"op", "COUNT"}}}},
                 {"filters", {{{"column", "honeycomb.dataset"}, {"op", "="}, {"value", dataset}}}}};
    json result = Api("POST", "/api/v1/query", spec.dump(), key);
    const json& results = result["data"]["results"];
    if (!results.is_array() || results.empty()) return 0;
    return results[0]["data"]["COUNT"].get<double>();
  }

  static json SpanAttribute(const json& span, const std::string& key) {
    for (const json& a : span["attributes"])
      if (a["key"] == key) return a;
    return json();
  }
};

TEST_F(HoneycombEventsServerTest, SingleEventBecomesASpanReadBackFieldByField) {
  Start();
  const std::string body = json{
      {"trace.trace_id", "0af7651916cd43dd8448eb211c80319c"},
      {"trace.span_id", "b7ad6b7169203331"},
      {"trace.parent_id", "00f067aa0ba902b7"},
      {"name", "GET /cart"},
      {"service_name", "cart"},
      {"duration_ms", 12.5},
      {"error", "upstream timeout"},
      {"http.status", 504},
      {"user", {{"id", 7}}}}.dump();
  const std::string time = std::to_string(NowSeconds() - 60);
  auto r = Ingest("POST", "/1/events/shop",
                  {{"X-Honeycomb-Team", "anything"},
                   {"X-Honeycomb-Event-Time", time},
                   {"Content-Type", "application/json"}},
                  body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "");

  json trace = Api("GET", "/api/v1/traces/0af7651916cd43dd8448eb211c80319c");
  ASSERT_EQ(trace["spans"].size(), 1u) << trace.dump();
  const json& span = trace["spans"][0];
  EXPECT_EQ(span["span_id"], "b7ad6b7169203331");
  EXPECT_EQ(span["parent_span_id"], "00f067aa0ba902b7");
  EXPECT_EQ(span["name"], "GET /cart");
  EXPECT_EQ(span["service_name"], "cart");
  EXPECT_EQ(span["duration_ms"], 12.5);
  EXPECT_EQ(span["start_time_unix_nano"], time + "000000000");
  EXPECT_EQ(span["status"]["code"], "error");
  EXPECT_EQ(span["status"]["message"], "upstream timeout");
  EXPECT_EQ(SpanAttribute(span, "http.status")["value"], 504);
  EXPECT_EQ(SpanAttribute(span, "user.id")["value"], 7);
  EXPECT_EQ(SpanAttribute(span, "error"), json());
}

TEST_F(HoneycombEventsServerTest, BatchAnswersEachEventAndStoresOnlyTheGoodOnes) {
  Start();
  const std::string batch = R"([
    {"data":{"name":"a","trace.trace_id":"t-1","trace.span_id":"s-1"},"samplerate":1},
    {"data":"oops"},
    {"data":{"name":"b"},"time":"not a time"},
    {"data":{"name":"c"},"time":")" +
                            std::to_string(NowSeconds() - 5) + R"("}
  ])";
  auto r = Ingest("POST", "/1/batch/mixed", {{"Content-Type", "application/json"}}, batch);
  ASSERT_EQ(r.status, 200) << r.body;
  json answer = json::parse(r.body);
  ASSERT_EQ(answer.size(), 4u) << r.body;
  EXPECT_EQ(answer[0], json({{"status", 202}}));
  EXPECT_EQ(answer[1]["status"], 400);
  EXPECT_NE(answer[1]["error"].get<std::string>().find("\"data\""), std::string::npos);
  EXPECT_EQ(answer[2]["status"], 400);
  EXPECT_NE(answer[2]["error"].get<std::string>().find("\"time\""), std::string::npos);
  EXPECT_EQ(answer[3], json({{"status", 202}}));
  EXPECT_EQ(Count("mixed"), 2);

  // The same shape gzip- and zstd-compressed.
  const std::string two = R"([{"data":{"name":"z1"}},{"data":{"name":"z2"}}])";
  r = Ingest("POST", "/1/batch/gz",
             {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}},
             receivers::GzipCompress(two));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body), json::parse(R"([{"status":202},{"status":202}])"));
  r = Ingest("POST", "/1/batch/zs",
             {{"Content-Type", "application/json"}, {"Content-Encoding", "zstd"}}, Zstd(two));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body), json::parse(R"([{"status":202},{"status":202}])"));
  EXPECT_EQ(Count("gz"), 2);
  EXPECT_EQ(Count("zs"), 2);

  // Plain events (no trace fields) answer the same queries, marked as events.
  json by_name = Api("POST", "/api/v1/query",
                     json{{"time_range", 7200},
                          {"calculations", {{{"op", "COUNT"}}}},
                          {"filters", {{{"column", "meta.event"}, {"op", "="}, {"value", true}}}},
                          {"breakdowns", {"name"}}}
                         .dump());
  std::vector<std::string> names;
  for (const json& row : by_name["data"]["results"]) names.push_back(row["data"]["name"]);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"c", "z1", "z2"})) << by_name.dump();
}

TEST_F(HoneycombEventsServerTest, CountIsCorrectedBySampleRates) {
  Start();
  // Batch: 3 events kept 1 in 10, 2 events unsampled; a single event kept 1 in 4.
  const std::string batch = R"([
    {"data":{"name":"x"},"samplerate":10},{"data":{"name":"x"},"samplerate":10},
    {"data":{"name":"x"},"samplerate":10},{"data":{"name":"y"}},{"data":{"name":"y"}}
  ])";
  auto r = Ingest("POST", "/1/batch/sampled", {{"Content-Type", "application/json"}}, batch);
  ASSERT_EQ(r.status, 200) << r.body;
  r = Ingest("POST", "/1/events/sampled",
             {{"Content-Type", "application/json"}, {"X-Honeycomb-Samplerate", "4"}},
             R"({"name":"z"})");
  ASSERT_EQ(r.status, 200) << r.body;
  json spec = {{"time_range", 7200},
               {"calculations", {{{"op", "COUNT"}}}},
               {"filters", {{{"column", "honeycomb.dataset"}, {"op", "="}, {"value", "sampled"}}}}};
  json result = Api("POST", "/api/v1/query", spec.dump());
  EXPECT_EQ(result["data"]["results"][0]["data"]["COUNT"], 36) << result.dump();
  EXPECT_EQ(result["meta"]["sample_rate_weighted"], true) << result.dump();
}

TEST_F(HoneycombEventsServerTest, AuthAnswersForKnownKeysAndRefusesOthers) {
  const std::string ingest = CreateKey("ingest", "prod");
  const std::string read = CreateKey("read");
  Start();
  auto none = Ingest("GET", "/1/auth", {});
  EXPECT_EQ(none.status, 401) << none.body;
  EXPECT_NE(none.body.find("x-honeycomb-team"), std::string::npos);
  auto bad = Ingest("GET", "/1/auth", {{"X-Honeycomb-Team", "aik_not_a_key"}});
  EXPECT_EQ(bad.status, 401) << bad.body;
  auto good = Ingest("GET", "/1/auth", {{"X-Honeycomb-Team", ingest}});
  ASSERT_EQ(good.status, 200) << good.body;
  json info = json::parse(good.body);
  EXPECT_EQ(info["environment"], json({{"name", "prod"}, {"slug", "prod"}}));
  EXPECT_EQ(info["api_key_access"]["events"], true);
  EXPECT_EQ(info["team"]["slug"], "ariadne");
  auto reader = Ingest("GET", "/1/auth", {{"Authorization", "Bearer " + read}});
  ASSERT_EQ(reader.status, 200) << reader.body;
  EXPECT_EQ(json::parse(reader.body)["api_key_access"]["events"], false);

  // Sending: a bad key is refused before the body, a read key cannot send, the ingest key can.
  const std::string event = R"({"name":"e"})";
  EXPECT_EQ(Ingest("POST", "/1/events/keyed", {{"X-Honeycomb-Team", "wrong"}}, event).status, 401);
  EXPECT_EQ(Ingest("POST", "/1/batch/keyed", {}, R"([{"data":{}}])").status, 401);
  EXPECT_EQ(Ingest("POST", "/1/events/keyed", {{"X-Honeycomb-Team", read}}, event).status, 401);
  EXPECT_EQ(Ingest("POST", "/1/events/keyed", {{"X-Honeycomb-Team", ingest}}, event).status, 200);
  EXPECT_EQ(Count("keyed", read), 1);
  // The key's environment holds the event: a query of environment prod counts it, of default not.
  for (const char* env : {"prod", "default"}) {
    json counted = Api("POST", "/api/v1/query",
                       json{{"time_range", 7200},
                            {"environment", env},
                            {"calculations", {{{"op", "COUNT"}}}},
                            {"dataset", "keyed"}}
                           .dump(),
                       read);
    const json& results = counted["data"]["results"];
    const int count = results.empty() ? 0 : results[0]["data"]["COUNT"].get<int>();
    EXPECT_EQ(count, std::string(env) == "prod" ? 1 : 0) << env << ": " << counted.dump();
  }
}

TEST_F(HoneycombEventsServerTest, OpenServerAuthAnswersTheDefaultEnvironment) {
  Start();
  auto r = Ingest("GET", "/1/auth", {});
  ASSERT_EQ(r.status, 200) << r.body;
  json info = json::parse(r.body);
  EXPECT_EQ(info["environment"]["name"], "default");
  EXPECT_EQ(info["api_key_access"]["events"], true);
}

TEST_F(HoneycombEventsServerTest, BadRequestsGetClearErrorsAndOtlpStillWorks) {
  Start();
  auto invalid = Ingest("POST", "/1/events/d", {{"Content-Type", "application/json"}}, "{\"a\":");
  EXPECT_EQ(invalid.status, 400);
  EXPECT_NE(json::parse(invalid.body)["error"].get<std::string>().find("malformed"),
            std::string::npos);
  auto type = Ingest("POST", "/1/events/d", {{"Content-Type", "application/msgpack"}}, "\x80");
  EXPECT_EQ(type.status, 400);
  EXPECT_NE(type.body.find("application/json"), std::string::npos);
  auto not_array = Ingest("POST", "/1/batch/d", {}, R"({"data":{}})");
  EXPECT_EQ(not_array.status, 400);
  EXPECT_NE(not_array.body.find("JSON array"), std::string::npos);
  auto corrupt = Ingest("POST", "/1/batch/d", {{"Content-Encoding", "gzip"}}, "not gzip");
  EXPECT_EQ(corrupt.status, 400) << corrupt.body;
  auto encoding = Ingest("POST", "/1/batch/d", {{"Content-Encoding", "br"}}, "[]");
  EXPECT_EQ(encoding.status, 400) << encoding.body;
  auto time = Ingest("POST", "/1/events/d", {{"X-Honeycomb-Event-Time", "soon"}}, "{}");
  EXPECT_EQ(time.status, 400);
  EXPECT_NE(time.body.find("X-Honeycomb-Event-Time"), std::string::npos);
  EXPECT_EQ(Ingest("POST", "/1/markers/d", {}, "{}").status, 404);
  EXPECT_EQ(Ingest("POST", "/1/events/", {}, "{}").status, 404);
  auto method = Ingest("GET", "/1/events/d", {});
  EXPECT_EQ(method.status, 405);
  EXPECT_EQ(method.Header("allow").value_or(""), "POST");
  auto empty = Ingest("POST", "/1/batch/d", {}, "[]");
  EXPECT_EQ(empty.status, 200);
  EXPECT_EQ(empty.body, "[]");
  // Nothing of the refused requests was stored: no span at all yet.
  json all = Api("POST", "/api/v1/query",
                 json{{"time_range", 7200}, {"calculations", {{{"op", "COUNT"}}}}}.dump());
  const json& results = all["data"]["results"];
  EXPECT_TRUE(results.empty() || results[0]["data"]["COUNT"] == 0) << all.dump();

  // OTLP/HTTP on the same port is untouched.
  auto otlp = Ingest("POST", "/v1/traces", {{"Content-Type", "application/json"}}, "{}");
  EXPECT_EQ(otlp.status, 200) << otlp.body;
  auto elsewhere = Ingest("POST", "/v2/traces", {{"Content-Type", "application/json"}}, "{}");
  EXPECT_EQ(elsewhere.status, 404);

  // Requests are counted by receiver on /metrics.
  net::HttpClient api("127.0.0.1", server_.ports().http, 60s);
  auto metrics = api.Request("GET", "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("honeycomb_events"), std::string::npos);
}

}  // namespace
}  // namespace ariadne::testing

int main(int argc, char** argv) {
  return ariadne::testing::ServerTestMain(argc, argv, &ariadne::testing::g_ariadne);
}
