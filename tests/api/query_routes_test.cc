// The analysis routes (query, columns, trace search, service graph, BubbleUp) over real sockets,
// with spans sent through the real OTLP/HTTP receiver into the real embedded store.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdio>
#include <set>
#include <string_view>
#include <vector>

#include "requests.h"
#include "test_server.h"

namespace ariadne::testing {
namespace {

using nlohmann::json;

net::ClientResponse Call(uint16_t port, const std::string& method, const std::string& target,
                         const std::string& body = "") {
  net::HttpClient client("127.0.0.1", port);
  auto response = client.Request(method, target, {{"Content-Type", "application/json"}}, body);
  EXPECT_TRUE(response.ok()) << response.status().ToString();
  return response.ok() ? std::move(response).value() : net::ClientResponse{};
}

// frontend GET / (root) → cart getCart (error, status 500) → cart query (CLIENT, db.system).
std::string ThreeServiceTrace(uint64_t start) {
  auto span = [&](const char* id, const char* parent, const char* name, int kind, uint64_t ms,
                  const std::string& attrs, bool error) {
    json s = {{"traceId", "5b8efff798038103d269b633813fc60c"},
              {"spanId", id},
              {"name", name},
              {"kind", kind},
              {"startTimeUnixNano", std::to_string(start)},
              {"endTimeUnixNano", std::to_string(start + ms * 1'000'000)}};
    if (*parent) s["parentSpanId"] = parent;
    if (!attrs.empty()) s["attributes"] = json::parse(attrs);
    if (error) s["status"] = {{"code", 2}};
    return s;
  };
  auto resource = [](const char* service, json spans) {
    return json{
        {"resource",
         {{"attributes", {{{"key", "service.name"}, {"value", {{"stringValue", service}}}}}}}},
        {"scopeSpans", {{{"spans", spans}}}}};
  };
  json request = {
      {"resourceSpans",
       {resource("frontend",
                 json::array({span("eee19b7ec3c1b173", "", "GET /", 2, 30, "", false)})),
        resource("cart",
                 {span("eee19b7ec3c1b174", "eee19b7ec3c1b173", "getCart", 2, 20,
                       R"([{"key":"http.status_code","value":{"intValue":"500"}},
                                               {"key":"user.id","value":{"stringValue":"u7"}}])",
                       true),
                  span("eee19b7ec3c1b175", "eee19b7ec3c1b174", "query", 3, 5,
                       R"([{"key":"db.system","value":{"stringValue":"postgresql"}}])", false)})}}};
  return request.dump();
}

class QueryRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    start_ = NowNanos() - 5'000'000'000ULL;
    net::HttpClient client("127.0.0.1", server_.otlp_port());
    auto r = client.Request("POST", "/v1/traces", {{"Content-Type", "application/json"}},
                            ThreeServiceTrace(start_));
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200) << r->body;
  }
  TestServer server_;
  uint64_t start_ = 0;
};

TEST_F(QueryRoutesTest, QueryReturnsHoneycombShapedResults) {
  auto r = Call(
      server_.api_port(), "POST", "/api/v1/query",
      R"({"time_range":600,"breakdowns":["service.name"],"calculations":[{"op":"COUNT"},{"op":"MAX","column":"duration_ms"}],
                    "orders":[{"op":"COUNT","order":"descending"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  json doc = json::parse(r.body);
  const json& results = doc["data"]["results"];
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0]["data"]["service.name"], "cart");
  EXPECT_EQ(results[0]["data"]["COUNT"], 2);
  EXPECT_DOUBLE_EQ(results[0]["data"]["MAX(duration_ms)"].get<double>(), 20.0);
  EXPECT_EQ(results[1]["data"]["service.name"], "frontend");
  EXPECT_EQ(doc["data"]["totals"]["COUNT"], 3);
  EXPECT_EQ(doc["meta"]["spans_matched"], 3);
  EXPECT_FALSE(doc["data"]["series"].empty());
}

TEST_F(QueryRoutesTest, InvalidSpecIs400NamingTheField) {
  auto r = Call(server_.api_port(), "POST", "/api/v1/query",
                R"({"filters":[{"column":"x","op":"like","value":1}]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(json::parse(r.body)["error"].get<std::string>().find("filters[0].op"),
            std::string::npos);
  EXPECT_EQ(Call(server_.api_port(), "GET", "/api/v1/query").status, 405);
}

TEST_F(QueryRoutesTest, TraceSearchMatchesAnySpanOfTheTrace) {
  auto r = Call(server_.api_port(), "GET",
                "/api/v1/traces?service=cart&attr.user.id=u7&error=true&min_duration=10ms");
  ASSERT_EQ(r.status, 200) << r.body;
  json traces = json::parse(r.body)["traces"];
  ASSERT_EQ(traces.size(), 1u);
  EXPECT_EQ(traces[0]["trace_id"], "5b8efff798038103d269b633813fc60c");
  EXPECT_EQ(traces[0]["root_service"], "frontend");
  EXPECT_EQ(traces[0]["root_name"], "GET /");
  EXPECT_EQ(traces[0]["span_count"], 3);
  EXPECT_EQ(traces[0]["error_count"], 1);
  EXPECT_DOUBLE_EQ(traces[0]["duration_ms"].get<double>(), 30.0);
  EXPECT_EQ(traces[0]["services"], json::array({"cart", "frontend"}));
  EXPECT_TRUE(
      json::parse(Call(server_.api_port(), "GET", "/api/v1/traces?service=cart&min_duration=25ms")
                      .body)["traces"]
          .empty());
  EXPECT_EQ(Call(server_.api_port(), "GET", "/api/v1/traces?min_duration=fast").status, 400);
  EXPECT_EQ(Call(server_.api_port(), "GET", "/api/v1/traces?colour=red").status, 400);
}

TEST_F(QueryRoutesTest, ServiceGraphHasTheCallsAndTheDatabase) {
  auto r = Call(server_.api_port(), "GET", "/api/v1/service-graph");
  ASSERT_EQ(r.status, 200) << r.body;
  json graph = json::parse(r.body);
  std::map<std::string, json> edges;
  for (const json& e : graph["edges"])
    edges[e["source"].get<std::string>() + ">" + e["target"].get<std::string>()] = e;
  ASSERT_TRUE(edges.count("frontend>cart")) << r.body;
  EXPECT_EQ(edges["frontend>cart"]["error_count"], 1);
  ASSERT_TRUE(edges.count("cart>postgresql")) << r.body;
  bool database = false;
  for (const json& n : graph["nodes"])
    database |= n["name"] == "postgresql" && n["kind"] == "database";
  EXPECT_TRUE(database);
}

TEST_F(QueryRoutesTest, ColumnsListAttributesWithTypes) {
  auto r = Call(server_.api_port(), "GET", "/api/v1/columns");
  ASSERT_EQ(r.status, 200) << r.body;
  std::map<std::string, json> columns;
  const json doc = json::parse(r.body);
  for (const json& c : doc["columns"]) columns[c["name"].get<std::string>()] = c;
  EXPECT_EQ(columns["http.status_code"]["type"], "int");
  EXPECT_EQ(columns["user.id"]["source"], "span");
  EXPECT_EQ(columns["duration_ms"]["source"], "intrinsic");
}

TEST_F(QueryRoutesTest, BubbleUpRanksWhatSetsTheSelectionApart) {
  // Selection: spans of 15 ms and more (getCart and GET /); baseline: the 5 ms db query.
  auto r = Call(server_.api_port(), "POST", "/api/v1/bubbleup",
                R"({"time_range":600,"selection":{"column":"duration_ms","min":15}})");
  ASSERT_EQ(r.status, 200) << r.body;
  json doc = json::parse(r.body);
  EXPECT_EQ(doc["selection_count"], 2);
  EXPECT_EQ(doc["baseline_count"], 1);
  bool saw_kind = false;
  for (const json& c : doc["columns"]) {
    if (c["column"] != "span.kind") continue;
    saw_kind = true;
    EXPECT_DOUBLE_EQ(c["score"].get<double>(), 1.0);  // server only vs client only
  }
  EXPECT_TRUE(saw_kind) << r.body;
  EXPECT_EQ(Call(server_.api_port(), "POST", "/api/v1/bubbleup", R"({"time_range":600})").status,
            400);
}

TEST_F(QueryRoutesTest, UnknownColumnsAndValuesThatCannotMatchAre400) {
  auto error_of = [&](const std::string& body) {
    auto r = Call(server_.api_port(), "POST", "/api/v1/query", body);
    EXPECT_EQ(r.status, 400) << body << " → " << r.body;
    return r.status == 400 ? json::parse(r.body)["error"].get<std::string>() : std::string();
  };
  std::string e = error_of(R"({"calculations":[{"op":"P99","column":"nonexistent_col"}]})");
  EXPECT_NE(e.find("calculations[0].column: unknown column 'nonexistent_col'"), std::string::npos)
      << e;
  e = error_of(R"({"calculations":[{"op":"P99","column":"duration_mss"}]})");
  EXPECT_NE(e.find("did you mean 'duration_ms'"), std::string::npos) << e;
  e = error_of(R"({"filters":[{"column":"error","op":"=","value":"tru"}]})");
  EXPECT_NE(e.find("filters[0].value: 'tru' can never match error"), std::string::npos) << e;
  e = error_of(R"({"filters":[{"column":"http.status_code","op":">=","value":"fivehundred"}]})");
  EXPECT_NE(e.find("holds numbers"), std::string::npos) << e;
  e = error_of(R"({"calculations":[{"op":"AVG","column":"service.name"}]})");
  EXPECT_NE(e.find("AVG needs a numeric column"), std::string::npos) << e;
  e = error_of(R"({"breakdowns":["no.such.attr"]})");
  EXPECT_NE(e.find("breakdowns[0]: unknown column"), std::string::npos) << e;
  // What can match still runs: text that spells a number, "true", attributes, COUNT_DISTINCT.
  auto ok = Call(server_.api_port(), "POST", "/api/v1/query",
                 R"({"time_range":600,"calculations":[{"op":"COUNT"},
                    {"op":"COUNT_DISTINCT","column":"user.id"}],
                    "filters":[{"column":"http.status_code","op":">=","value":"500"},
                               {"column":"error","op":"=","value":"true"}]})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(json::parse(ok.body)["data"]["totals"]["COUNT"], 1);
}

TEST_F(QueryRoutesTest, TraceSearchTakesTheQueryFiltersAndChecksThem) {
  auto search = [&](const std::string& filters) {
    std::string target = "/api/v1/traces?filters=";
    for (unsigned char c : filters) {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      target += std::isalnum(c) ? std::string(1, static_cast<char>(c)) : std::string(buf);
    }
    return Call(server_.api_port(), "GET", target);
  };
  auto r = search(R"([{"column":"http.status_code","op":">=","value":500}])");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(json::parse(r.body)["traces"].size(), 1u);
  EXPECT_EQ(json::parse(r.body)["traces"][0]["trace_id"], "5b8efff798038103d269b633813fc60c");
  r = search(R"([{"column":"http.status_code","op":">","value":500}])");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(json::parse(r.body)["traces"].empty());
  r = search(R"([{"column":"nonexistent_col","op":"exists"}])");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("filters[0].column: unknown column"), std::string::npos) << r.body;
  EXPECT_EQ(search(R"({"column":"error"})").status, 400);
  EXPECT_EQ(search(R"([{"column":"error","op":"like","value":1}])").status, 400);
}

// One OTLP/JSON request with `spans` ({traceId, spanId, parentSpanId, name, start, ms}) of one
// service.
std::string SpansOf(const char* service, const std::vector<json>& spans) {
  json list = json::array();
  for (const json& s : spans) {
    uint64_t start = s["start"].get<uint64_t>();
    json span = {{"traceId", s["traceId"]},
                 {"spanId", s["spanId"]},
                 {"name", s["name"]},
                 {"kind", 2},
                 {"startTimeUnixNano", std::to_string(start)},
                 {"endTimeUnixNano", std::to_string(start + s["ms"].get<uint64_t>() * 1'000'000)}};
    if (s.contains("parentSpanId")) span["parentSpanId"] = s["parentSpanId"];
    list.push_back(span);
  }
  json request = {
      {"resourceSpans",
       {{{"resource",
          {{"attributes", {{{"key", "service.name"}, {"value", {{"stringValue", service}}}}}}}},
         {"scopeSpans", {{{"spans", list}}}}}}}};
  return request.dump();
}

std::string UrlEncode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    char buf[4];
    std::snprintf(buf, sizeof(buf), "%%%02X", c);
    out += std::isalnum(c) ? std::string(1, static_cast<char>(c)) : std::string(buf);
  }
  return out;
}

TEST_F(QueryRoutesTest, TraceSearchAnswersNewestFirstByTraceStart) {
  // "old" starts first but has a span that starts last; "new" starts after "old" with one span.
  // Newest first means by the trace's start, not by its latest span.
  const std::string old_id = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1",
                    new_id = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2";
  net::HttpClient client("127.0.0.1", server_.otlp_port());
  auto r = client.Request("POST", "/v1/traces", {{"Content-Type", "application/json"}},
                          SpansOf("sorter", {{{"traceId", old_id},
                                              {"spanId", "00000000000000a1"},
                                              {"name", "old"},
                                              {"start", start_ + 100'000'000},
                                              {"ms", 3000}},
                                             {{"traceId", old_id},
                                              {"spanId", "00000000000000a2"},
                                              {"parentSpanId", "00000000000000a1"},
                                              {"name", "late child"},
                                              {"start", start_ + 2'500'000'000ULL},
                                              {"ms", 10}},
                                             {{"traceId", new_id},
                                              {"spanId", "00000000000000b1"},
                                              {"name", "new"},
                                              {"start", start_ + 1'000'000'000},
                                              {"ms", 10}}}));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  auto found = Call(server_.api_port(), "GET", "/api/v1/traces?service=sorter");
  ASSERT_EQ(found.status, 200) << found.body;
  json traces = json::parse(found.body)["traces"];
  ASSERT_EQ(traces.size(), 2u) << found.body;
  EXPECT_EQ(traces[0]["trace_id"], new_id);
  EXPECT_EQ(traces[1]["trace_id"], old_id);
}

TEST_F(QueryRoutesTest, TraceSearchAndServiceGraphTakeAnXrayFilter) {
  // A second trace that never touches cart: only the first one matches service("cart").
  net::HttpClient client("127.0.0.1", server_.otlp_port());
  auto sent = client.Request("POST", "/v1/traces", {{"Content-Type", "application/json"}},
                             SpansOf("lonely", {{{"traceId", "cccccccccccccccccccccccccccccccc"},
                                                 {"spanId", "00000000000000c1"},
                                                 {"name", "alone"},
                                                 {"start", start_},
                                                 {"ms", 40}}}));
  ASSERT_TRUE(sent.ok());
  ASSERT_EQ(sent->status, 200);
  auto traces = [&](const std::string& query) {
    auto r = Call(server_.api_port(), "GET", "/api/v1/traces?" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> ids;
    const json doc = r.status == 200 ? json::parse(r.body) : json::object();
    for (const json& t : doc.value("traces", json::array())) ids.push_back(t["trace_id"]);
    return ids;
  };
  // Both start at start_: equal starts are ordered by trace id.
  const std::string cart_trace = "5b8efff798038103d269b633813fc60c";
  EXPECT_EQ(traces(""), (std::vector<std::string>{cart_trace, "cccccccccccccccccccccccccccccccc"}));
  EXPECT_EQ(traces("xray_filter=" + UrlEncode(R"(service("cart"))")),
            std::vector<std::string>{cart_trace});
  EXPECT_EQ(traces("xray_filter=" + UrlEncode(R"(service("cart") AND responsetime > 0.025)")),
            std::vector<std::string>{cart_trace});
  EXPECT_TRUE(traces("xray_filter=" + UrlEncode(R"(responsetime > 1)")).empty());
  // Span filters still apply, to one span of the matching trace.
  EXPECT_EQ(traces("service=frontend&xray_filter=" + UrlEncode(R"(service("cart"))")),
            std::vector<std::string>{cart_trace});
  EXPECT_TRUE(traces("service=lonely&xray_filter=" + UrlEncode(R"(service("cart"))")).empty());
  auto bad = Call(server_.api_port(), "GET", "/api/v1/traces?xray_filter=" + UrlEncode("service("));
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("xray_filter: Invalid filter expression at column 9"), std::string::npos)
      << bad.body;

  // The service graph of the matching traces only.
  auto graph = [&](const std::string& expr) {
    auto r =
        Call(server_.api_port(), "GET", "/api/v1/service-graph?xray_filter=" + UrlEncode(expr));
    EXPECT_EQ(r.status, 200) << r.body;
    std::set<std::string> nodes;
    const json doc = r.status == 200 ? json::parse(r.body) : json::object();
    for (const json& n : doc.value("nodes", json::array())) nodes.insert(n["name"]);
    return nodes;
  };
  EXPECT_EQ(graph(R"(service("cart"))"), (std::set<std::string>{"cart", "frontend", "postgresql"}));
  EXPECT_EQ(graph(R"(service("lonely"))").count("cart"), 0u);
  EXPECT_TRUE(graph(R"(service("nobody"))").empty());
  EXPECT_EQ(Call(server_.api_port(), "GET",
                 "/api/v1/service-graph?xray_filter=" + UrlEncode("responsetime >"))
                .status,
            400);
}

TEST_F(QueryRoutesTest, InfoListsTheListenersTheServerSet) {
  server_.api().server_info()->SetListeners(
      {{"otlp-http", "OTLP/HTTP", "tcp", "0.0.0.0", 14318, false},
       {"xray-udp", "X-Ray daemon", "udp", "::1", 12000, false},
       {"http", "API and web UI", "tcp", "127.0.0.1", 18686, true}});
  auto r = Call(server_.api_port(), "GET", "/api/v1/info");
  ASSERT_EQ(r.status, 200) << r.body;
  json listeners = json::parse(r.body)["listeners"];
  ASSERT_EQ(listeners.size(), 3u);
  EXPECT_EQ(listeners[0]["port"], 14318);
  EXPECT_EQ(listeners[0]["url"], "http://0.0.0.0:14318");
  EXPECT_EQ(listeners[1]["host"], "::1");
  EXPECT_FALSE(listeners[1].contains("url"));
  EXPECT_EQ(listeners[2]["url"], "https://127.0.0.1:18686");
  EXPECT_EQ(Call(server_.api_port(), "POST", "/api/v1/info").status, 405);
}

TEST(SplitHostPortTest, ReadsTheAddressesServePrints) {
  std::string host;
  uint16_t port = 0;
  ASSERT_TRUE(api::SplitHostPort("https://[::1]:4318", &host, &port));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 4318);
  ASSERT_TRUE(api::SplitHostPort("127.0.0.1:2000", &host, &port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 2000);
  EXPECT_FALSE(api::SplitHostPort("127.0.0.1", &host, &port));
  EXPECT_FALSE(api::SplitHostPort("h:99999", &host, &port));
}

}  // namespace
}  // namespace ariadne::testing
