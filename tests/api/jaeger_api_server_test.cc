// The Jaeger-compatible query API against the real `ariadne serve`: spans go in through OTLP/HTTP
// (protobuf built with libprotobuf), and every endpoint answers in jaeger-query's JSON shapes —
// the structuredResponse envelope {data, total, limit, offset, errors}, ui.Trace / ui.Span /
// ui.Process with typed KeyValues, CHILD_OF / FOLLOWS_FROM references, microsecond times, logs
// from events, DependencyLink{parent, child, callCount} — with the values that were sent. Read keys
// and environments apply as for /api/v1.
//
// Usage: jaeger_api_server_test --ariadne=/path/to/build/bin/ariadne
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/http_client.h"
#include "tests/api/requests.h"
#include "tests/common/server_process.h"
#include "tests/common/server_test_main.h"

namespace ariadne::testing {
namespace {

std::string g_ariadne;
using nlohmann::json;
using otlp_pb::collector::trace::v1::ExportTraceServiceRequest;

constexpr char kTraceA[] = "4bf92f3577b34da6a3ce929d0e0e4736";  // RichRequest's trace
constexpr char kTraceB[] = "4bf92f3577b34da6a3ce929d0e0e4742";  // a short health check

std::string RunCommand(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  ::pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// Trace A: RichRequest (Cruddur: a SERVER span and its CLIENT child db.query) plus a SERVER span of
// service "cart" below db.query, so the services call each other. Trace B: one 1 ms Cruddur span.
ExportTraceServiceRequest Spans(uint64_t start) {
  ExportTraceServiceRequest request = RichRequest(start);
  auto* rs = request.add_resource_spans();
  AddString(rs->mutable_resource()->mutable_attributes(), "service.name", "cart");
  auto* span = rs->add_scope_spans()->add_spans();
  span->set_trace_id(TraceIdBytes());
  span->set_span_id(SpanIdBytes(0x03));
  span->set_parent_span_id(SpanIdBytes(0x02));
  span->set_name("GET /cart");
  span->set_kind(otlp_pb::trace::v1::Span::SPAN_KIND_SERVER);
  span->set_start_time_unix_nano(start + 11'000'000);
  span->set_end_time_unix_nano(start + 20'000'000);
  auto* health = request.mutable_resource_spans(0)->mutable_scope_spans(0)->add_spans();
  health->set_trace_id(TraceIdBytes(0x42));
  health->set_span_id(SpanIdBytes(0x09));
  health->set_name("GET /health");
  health->set_kind(otlp_pb::trace::v1::Span::SPAN_KIND_SERVER);
  health->set_start_time_unix_nano(start + 1'000'000'000);
  health->set_end_time_unix_nano(start + 1'001'000'000);
  return request;
}

class Server {
 public:
  explicit Server(const std::string& name) {
    dir_ = std::filesystem::temp_directory_path() /
           ("ariadne-jaeger-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~Server() {
    if (process_.running()) process_.Stop(SIGTERM);
    std::filesystem::remove_all(dir_);
  }
  std::string DataDir() const { return (dir_ / "data").string(); }
  std::string CreateKey(const std::string& role, const std::string& env) {
    return RunCommand(g_ariadne + " keys create --role " + role +
                      (env.empty() ? "" : " --env " + env) + " --data-dir " + DataDir() +
                      " 2>/dev/null");
  }
  void Start() { process_ = ServerProcess::Start(g_ariadne, DataDir()); }

  int SendOtlp(const ExportTraceServiceRequest& request, const std::string& key = "") {
    net::HttpClient client("127.0.0.1", process_.ports().otlp_http);
    net::HeaderList headers = {{"Content-Type", "application/x-protobuf"}};
    if (!key.empty()) headers.emplace_back("x-honeycomb-team", key);
    auto response = client.Request("POST", "/v1/traces", headers, request.SerializeAsString());
    EXPECT_TRUE(response.ok());
    return response.ok() ? response->status : 0;
  }

  // GET on the API port: status and parsed body.
  std::pair<int, json> Get(const std::string& target, const std::string& key = "",
                           const std::string& method = "GET") {
    net::HttpClient client("127.0.0.1", process_.ports().http);
    net::HeaderList headers;
    if (!key.empty()) headers.emplace_back("Authorization", "Bearer " + key);
    // Changes must be JSON (ApiAuth's cross-site defence), so a DELETE reaches the route.
    if (method != "GET") headers.emplace_back("Content-Type", "application/json");
    auto response = client.Request(method, target, headers);
    EXPECT_TRUE(response.ok()) << target;
    if (!response.ok()) return {0, json()};
    EXPECT_EQ(response->Header("content-type").value_or(""), "application/json") << target;
    return {response->status, json::parse(response->body, nullptr, false)};
  }

 private:
  std::filesystem::path dir_;
  ServerProcess process_;
};

// jaeger-query's envelope with `total` and no errors.
void ExpectEnvelope(const json& body, uint64_t total) {
  ASSERT_TRUE(body.is_object()) << body.dump();
  EXPECT_EQ(body.size(), 5u) << body.dump();
  EXPECT_EQ(body["total"], total) << body.dump();
  EXPECT_EQ(body["limit"], 0);
  EXPECT_EQ(body["offset"], 0);
  EXPECT_TRUE(body["errors"].is_null()) << body.dump();
}

// A failed request: data null and one error carrying the HTTP status.
void ExpectFailure(const std::pair<int, json>& answer, int status, const std::string& message) {
  EXPECT_EQ(answer.first, status) << answer.second.dump();
  const json& body = answer.second;
  ASSERT_TRUE(body.is_object()) << body.dump();
  EXPECT_TRUE(body["data"].is_null());
  ASSERT_TRUE(body["errors"].is_array()) << body.dump();
  ASSERT_EQ(body["errors"].size(), 1u);
  EXPECT_EQ(body["errors"][0]["code"], status);
  EXPECT_NE(body["errors"][0]["msg"].get<std::string>().find(message), std::string::npos)
      << body.dump();
}

const json& SpanNamed(const json& trace, const std::string& name) {
  for (const json& span : trace["spans"]) {
    if (span["operationName"] == name) return span;
  }
  ADD_FAILURE() << "no span " << name << " in " << trace.dump();
  static const json kNone = json::object();
  return kNone;
}

// A span's tags as key → {type, value}.
json Tags(const json& tags) {
  json out = json::object();
  for (const json& tag : tags) {
    EXPECT_EQ(tag.size(), 3u) << tag.dump();
    out[tag["key"].get<std::string>()] = {{"type", tag["type"]}, {"value", tag["value"]}};
  }
  return out;
}

std::set<std::string> TraceIds(const json& body) {
  std::set<std::string> ids;
  for (const json& trace : body["data"]) ids.insert(trace["traceID"].get<std::string>());
  return ids;
}

class JaegerApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new Server("suite");
    server_->Start();
    start_ = NowNanos() - 60'000'000'000ULL;
    ASSERT_EQ(server_->SendOtlp(Spans(start_)), 200);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static inline Server* server_ = nullptr;
  static inline uint64_t start_ = 0;
};

TEST_F(JaegerApiTest, ServicesAreListedInTheEnvelope) {
  auto [status, body] = server_->Get("/api/services");
  EXPECT_EQ(status, 200);
  ExpectEnvelope(body, 2);
  EXPECT_EQ(body["data"], json({"Cruddur", "cart"}));
}

TEST_F(JaegerApiTest, OperationsInTheLegacyAndTheCurrentForm) {
  auto [status, legacy] = server_->Get("/api/services/Cruddur/operations");
  EXPECT_EQ(status, 200);
  ExpectEnvelope(legacy, 3);
  EXPECT_EQ(legacy["data"], json({"GET /api/activities/home", "GET /health", "db.query"}));

  auto [status2, ops] = server_->Get("/api/operations?service=Cruddur");
  EXPECT_EQ(status2, 200);
  ExpectEnvelope(ops, 3);
  EXPECT_EQ(ops["data"], json::parse(R"([{"name": "GET /api/activities/home", "spanKind": "server"},
                                         {"name": "GET /health", "spanKind": "server"},
                                         {"name": "db.query", "spanKind": "client"}])"));
  auto [status3, clients] = server_->Get("/api/operations?service=Cruddur&spanKind=client");
  EXPECT_EQ(status3, 200);
  ExpectEnvelope(clients, 1);
  EXPECT_EQ(clients["data"], json::parse(R"([{"name": "db.query", "spanKind": "client"}])"));

  auto [status4, cart] = server_->Get("/api/services/cart/operations");
  EXPECT_EQ(status4, 200);
  EXPECT_EQ(cart["data"], json({"GET /cart"}));
  auto [status5, none] = server_->Get("/api/services/nobody/operations");
  EXPECT_EQ(status5, 200);
  ExpectEnvelope(none, 0);
  EXPECT_EQ(none["data"], json::array());

  ExpectFailure(server_->Get("/api/operations"), 400, "parameter 'service' is required");
  ExpectFailure(server_->Get("/api/operations?service=Cruddur&spanKind=sideways"), 400,
                "unsupported span kind");
}

TEST_F(JaegerApiTest, TraceByIdHasJaegersShapeAndTheValuesSent) {
  auto [status, body] = server_->Get(std::string("/api/traces/") + kTraceA);
  ASSERT_EQ(status, 200) << body.dump();
  ExpectEnvelope(body, 0);
  ASSERT_EQ(body["data"].size(), 1u);
  const json& trace = body["data"][0];
  EXPECT_EQ(trace["traceID"], kTraceA);
  EXPECT_TRUE(trace["warnings"].is_null());
  ASSERT_EQ(trace["spans"].size(), 3u);

  // Processes: one per resource; the resource attributes other than service.name are its tags.
  ASSERT_EQ(trace["processes"].size(), 2u) << trace["processes"].dump();
  EXPECT_EQ(trace["processes"]["p1"], json::parse(R"({"serviceName": "Cruddur",
                            "tags": [{"key": "host.name", "type": "string", "value": "web-1"}]})"));
  EXPECT_EQ(trace["processes"]["p2"], json::parse(R"({"serviceName": "cart", "tags": []})"));

  const json& server = SpanNamed(trace, "GET /api/activities/home");
  EXPECT_EQ(server.size(), 11u) << server.dump();  // the fields of ui.Span, flags included
  EXPECT_EQ(server["traceID"], kTraceA);
  EXPECT_EQ(server["spanID"], "00f067aa0ba90201");
  EXPECT_EQ(server["flags"], 1);
  EXPECT_EQ(server["references"], json::array());
  EXPECT_EQ(server["startTime"], start_ / 1000);
  EXPECT_EQ(server["duration"], 120'500);
  EXPECT_EQ(server["processID"], "p1");
  EXPECT_TRUE(server["warnings"].is_null());
  EXPECT_EQ(server["logs"], json::array());
  EXPECT_EQ(Tags(server["tags"]), json::parse(R"({
    "http.method": {"type": "string", "value": "GET"},
    "otel.scope.name": {"type": "string", "value": "cruddur.backend"},
    "otel.scope.version": {"type": "string", "value": "1.2.3"},
    "span.kind": {"type": "string", "value": "server"},
    "otel.status_code": {"type": "string", "value": "OK"},
    "w3c.tracestate": {"type": "string", "value": "ot=th:0"}})"));

  const json& child = SpanNamed(trace, "db.query");
  EXPECT_EQ(child["spanID"], "00f067aa0ba90202");
  EXPECT_EQ(child.count("flags"), 0u);
  EXPECT_EQ(child["references"], json::parse(R"([
    {"refType": "CHILD_OF", "traceID": "4bf92f3577b34da6a3ce929d0e0e4736",
     "spanID": "00f067aa0ba90201"},
    {"refType": "FOLLOWS_FROM", "traceID": "4bf92f3577b34da6a3ce929d0e0e4799",
     "spanID": "00f067aa0ba90277"}])"));
  EXPECT_EQ(child["startTime"], start_ / 1000 + 10'000);
  EXPECT_EQ(child["duration"], 12'250);
  EXPECT_EQ(child["processID"], "p1");
  EXPECT_EQ(Tags(child["tags"]), json::parse(R"({
    "db.system": {"type": "string", "value": "postgresql"},
    "db.rows": {"type": "int64", "value": -42},
    "cache.hit": {"type": "bool", "value": true},
    "ratio": {"type": "float64", "value": 0.25},
    "blob": {"type": "binary", "value": "AP8Q"},
    "tags": {"type": "string", "value": "[\"a\",7]"},
    "nested": {"type": "string", "value": "{\"k\":\"v\"}"},
    "otel.scope.name": {"type": "string", "value": "cruddur.backend"},
    "otel.scope.version": {"type": "string", "value": "1.2.3"},
    "span.kind": {"type": "string", "value": "client"},
    "otel.status_code": {"type": "string", "value": "ERROR"},
    "error": {"type": "bool", "value": true},
    "otel.status_description": {"type": "string", "value": "connection refused"}})"));
  EXPECT_EQ(child["logs"],
            json::parse(R"([{"timestamp": )" + std::to_string(start_ / 1000 + 15'000) + R"(,
    "fields": [{"key": "event", "type": "string", "value": "exception"},
               {"key": "exception.message", "type": "string",
                "value": "connection refused"}]}])"));

  const json& cart = SpanNamed(trace, "GET /cart");
  EXPECT_EQ(cart["processID"], "p2");
  EXPECT_EQ(cart["references"][0]["spanID"], "00f067aa0ba90202");

  // Spans come in start order.
  EXPECT_EQ(trace["spans"][0]["operationName"], "GET /api/activities/home");
  auto [bad_status, bad] = server_->Get("/api/traces/xyz");
  ExpectFailure({bad_status, bad}, 400, "cannot parse trace id");
  ExpectFailure(server_->Get("/api/traces/4bf92f3577b34da6a3ce929d0e0e4700"), 404,
                "trace not found");
}

TEST_F(JaegerApiTest, SearchMatchesServiceOperationTagsDurationsAndWindow) {
  const std::string a = kTraceA, b = kTraceB;
  auto search = [](const std::string& query) {
    auto [status, body] = server_->Get("/api/traces?" + query);
    EXPECT_EQ(status, 200) << query << ": " << body.dump();
    if (status == 200) ExpectEnvelope(body, 0);
    return TraceIds(body);
  };
  EXPECT_EQ(search("service=Cruddur"), (std::set<std::string>{a, b}));
  EXPECT_EQ(search("service=cart"), (std::set<std::string>{a}));
  EXPECT_EQ(search("service=Cruddur&operation=GET%20%2Fhealth"), (std::set<std::string>{b}));
  EXPECT_EQ(search("service=Cruddur&operation=db.query"), (std::set<std::string>{a}));
  EXPECT_EQ(search("service=Cruddur&tags=%7B%22db.system%22%3A%22postgresql%22%7D"),
            (std::set<std::string>{a}));
  EXPECT_EQ(search("service=Cruddur&tags=%7B%22db.system%22%3A%22mysql%22%7D"),
            (std::set<std::string>{}));
  EXPECT_EQ(search("service=Cruddur&tag=db.rows:-42"), (std::set<std::string>{a}));
  EXPECT_EQ(search("service=Cruddur&tags=%7B%22error%22%3A%22true%22%7D"),
            (std::set<std::string>{a}));
  EXPECT_EQ(search("service=Cruddur&minDuration=100ms"), (std::set<std::string>{a}));
  EXPECT_EQ(search("service=Cruddur&maxDuration=1.5ms"), (std::set<std::string>{b}));
  EXPECT_EQ(search("service=Cruddur&minDuration=12ms&maxDuration=13ms"),
            (std::set<std::string>{a}));
  EXPECT_EQ(search("service=Cruddur&limit=1").size(), 1u);
  const uint64_t start_us = start_ / 1000;
  EXPECT_EQ(search("service=Cruddur&start=" + std::to_string(start_us + 500'000) +
                   "&end=" + std::to_string(start_us + 2'000'000)),
            (std::set<std::string>{b}));
  EXPECT_EQ(search("service=Cruddur&start=1000000&end=2000000"), (std::set<std::string>{}));

  // Whole traces come back, the same as by id.
  auto [status, body] = server_->Get("/api/traces?service=cart");
  ASSERT_EQ(body["data"].size(), 1u);
  EXPECT_EQ(body["data"][0]["spans"].size(), 3u);
  EXPECT_EQ(body["data"][0], server_->Get(std::string("/api/traces/") + kTraceA).second["data"][0]);

  // By id: found ones in data, missing ones in errors (without a code, as jaeger-query).
  auto [status2, by_id] =
      server_->Get("/api/traces?traceID=" + b + "&traceID=00000000000000000000000000000abc");
  EXPECT_EQ(status2, 200);
  EXPECT_EQ(TraceIds(by_id), (std::set<std::string>{b}));
  EXPECT_EQ(by_id["errors"],
            json::parse(R"([{"msg": "trace not found", "traceID": "0000000000000abc"}])"));

  ExpectFailure(server_->Get("/api/traces?operation=x"), 400, "parameter 'service' is required");
  ExpectFailure(server_->Get("/api/traces?service=Cruddur&minDuration=fast"), 400,
                "unable to parse param 'minDuration'");
  ExpectFailure(server_->Get("/api/traces?service=Cruddur&minDuration=2s&maxDuration=1s"), 400,
                "'maxDuration' should be greater than 'minDuration'");
  ExpectFailure(server_->Get("/api/traces?service=Cruddur&start=soon"), 400,
                "unable to parse param 'start'");
  ExpectFailure(server_->Get("/api/traces?service=Cruddur&tags=%5B1%5D"), 400,
                "malformed 'tags' parameter");
  ExpectFailure(server_->Get("/api/traces?service=Cruddur&tag=novalue"), 400,
                "malformed 'tag' parameter");
}

TEST_F(JaegerApiTest, DependenciesLinkCallingServices) {
  const uint64_t end_ms = NowNanos() / 1'000'000 + 1000;
  auto [status, body] =
      server_->Get("/api/dependencies?endTs=" + std::to_string(end_ms) + "&lookback=3600000");
  ASSERT_EQ(status, 200) << body.dump();
  ExpectEnvelope(body, 0);
  ASSERT_TRUE(body["data"].is_array());
  bool found = false;
  for (const json& link : body["data"]) {
    EXPECT_EQ(link.size(), 3u) << link.dump();
    EXPECT_TRUE(link["parent"].is_string() && link["child"].is_string() &&
                link["callCount"].is_number_unsigned())
        << link.dump();
    if (link["parent"] == "Cruddur" && link["child"] == "cart") {
      EXPECT_EQ(link["callCount"], 1);
      found = true;
    }
  }
  EXPECT_TRUE(found) << body.dump();
  // A window before the spans has no links; `service` keeps the links touching it.
  auto [status2, old] = server_->Get("/api/dependencies?endTs=1000000&lookback=1000");
  EXPECT_EQ(status2, 200);
  EXPECT_EQ(old["data"], json::array());
  auto [status3, only] = server_->Get("/api/dependencies?service=nobody");
  EXPECT_EQ(status3, 200);
  EXPECT_EQ(only["data"], json::array());
  ExpectFailure(server_->Get("/api/dependencies?lookback=-5"), 400,
                "unable to parse param 'lookback'");
}

// What Grafana's Jaeger data source sends, in its order, and the fields it reads from each answer
// (public/app/plugins/datasource/jaeger: testDatasource, the search form, the search, the trace
// view): every span's processID names a process, every CHILD_OF reference names a span of the
// trace, logs/references/tags are arrays, times are numbers in microseconds.
void ExpectGrafanaReadableTrace(const json& trace) {
  ASSERT_TRUE(trace["traceID"].is_string());
  ASSERT_TRUE(trace["spans"].is_array() && !trace["spans"].empty());
  ASSERT_TRUE(trace["processes"].is_object());
  std::set<std::string> span_ids;
  for (const json& span : trace["spans"]) span_ids.insert(span["spanID"].get<std::string>());
  for (const json& span : trace["spans"]) {
    EXPECT_EQ(span["traceID"], trace["traceID"]);
    EXPECT_TRUE(span["operationName"].is_string());
    EXPECT_TRUE(span["startTime"].is_number_unsigned()) << span.dump();
    EXPECT_TRUE(span["duration"].is_number_unsigned()) << span.dump();
    EXPECT_TRUE(span["tags"].is_array());
    EXPECT_TRUE(span["logs"].is_array());
    for (const json& log : span["logs"]) EXPECT_TRUE(log["timestamp"].is_number_unsigned());
    ASSERT_TRUE(span["references"].is_array());
    for (const json& ref : span["references"]) {
      if (ref["refType"] == "CHILD_OF") {
        EXPECT_TRUE(span_ids.count(ref["spanID"].get<std::string>())) << ref.dump();
      }
    }
    const std::string process = span["processID"].get<std::string>();
    ASSERT_TRUE(trace["processes"].contains(process)) << process;
    EXPECT_TRUE(trace["processes"][process]["serviceName"].is_string());
    EXPECT_TRUE(trace["processes"][process]["tags"].is_array());
  }
}

TEST_F(JaegerApiTest, GrafanasRequestsAreAnsweredInTheShapesGrafanaReads) {
  // "Save & test": GET /api/services, success when data is a non-empty array.
  auto [status, services] = server_->Get("/api/services");
  ASSERT_EQ(status, 200);
  ASSERT_TRUE(services["data"].is_array());
  EXPECT_FALSE(services["data"].empty());
  // The search form: services, then the operations of the chosen one (legacy route).
  auto [status2, operations] = server_->Get("/api/services/Cruddur/operations");
  ASSERT_EQ(status2, 200);
  EXPECT_TRUE(operations["data"].is_array());
  // The search: the form's fields without the empty ones, the dashboard's time range in µs (end
  // rounded up) and lookback=custom; tags as the JSON object Grafana makes from logfmt.
  const uint64_t from_us = start_ / 1000 - 60'000'000;
  const uint64_t to_us = NowNanos() / 1000 + 999;
  auto [status3, found] = server_->Get(
      "/api/traces?service=Cruddur&operation=db.query&tags=%7B%22db.system%22%3A%22postgresql%22%7D"
      "&minDuration=10ms&limit=20&start=" +
      std::to_string(from_us) + "&end=" + std::to_string(to_us) + "&lookback=custom");
  ASSERT_EQ(status3, 200) << found.dump();
  EXPECT_EQ(TraceIds(found), (std::set<std::string>{kTraceA}));
  for (const json& trace : found["data"]) ExpectGrafanaReadableTrace(trace);
  // "All" operations is sent without `operation`; an empty duration is left out by Grafana, but a
  // hand-written URL with `minDuration=` must not fail either.
  auto [status4, all] = server_->Get(
      "/api/traces?service=Cruddur&minDuration=&limit=20&start=" + std::to_string(from_us) +
      "&end=" + std::to_string(to_us) + "&lookback=custom");
  ASSERT_EQ(status4, 200) << all.dump();
  EXPECT_EQ(TraceIds(all), (std::set<std::string>{kTraceA, kTraceB}));
  for (const json& trace : all["data"]) ExpectGrafanaReadableTrace(trace);
  // The trace view: GET /api/traces/{id}, data[0].
  auto [status5, by_id] = server_->Get(std::string("/api/traces/") + kTraceA);
  ASSERT_EQ(status5, 200);
  ASSERT_EQ(by_id["data"].size(), 1u);
  ExpectGrafanaReadableTrace(by_id["data"][0]);
  // The node graph of the service map: dependencies in milliseconds.
  auto [status6, deps] =
      server_->Get("/api/dependencies?endTs=" + std::to_string(NowNanos() / 1'000'000 + 1000) +
                   "&lookback=604800000");
  ASSERT_EQ(status6, 200);
  ASSERT_TRUE(deps["data"].is_array());
  for (const json& link : deps["data"]) {
    EXPECT_TRUE(link["parent"].is_string() && link["child"].is_string() &&
                link["callCount"].is_number_unsigned())
        << link.dump();
  }
}

TEST_F(JaegerApiTest, OnlyGetIsAllowedAndOtherApiPathsAreUnaffected) {
  auto [status, body] = server_->Get("/api/services", "", "DELETE");
  EXPECT_EQ(status, 405) << body.dump();
  auto [status2, v1] = server_->Get("/api/v1/services");
  EXPECT_EQ(status2, 200);
  EXPECT_TRUE(v1.contains("services")) << v1.dump();
}

TEST(JaegerApiAuthTest, ReadKeysAndEnvironmentsApplyAsForApiV1) {
  Server server("auth");
  const std::string ingest = server.CreateKey("ingest", "prod");
  const std::string read_all = server.CreateKey("read", "");
  const std::string read_staging = server.CreateKey("read", "staging");
  server.Start();
  ASSERT_EQ(server.SendOtlp(Spans(NowNanos() - 60'000'000'000ULL), ingest), 200);

  auto [no_key, refused] = server.Get("/api/services");
  EXPECT_EQ(no_key, 401) << refused.dump();
  auto [ingest_status, forbidden] = server.Get("/api/services", ingest);
  EXPECT_EQ(ingest_status, 403) << forbidden.dump();

  auto [status, all] = server.Get("/api/services", read_all);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(all["data"], json({"Cruddur", "cart"}));
  auto [status2, staging] = server.Get("/api/services", read_staging);
  EXPECT_EQ(status2, 200);
  EXPECT_EQ(staging["data"], json::array()) << "a staging key sees nothing of prod";
  auto [status3, traces] = server.Get("/api/traces?service=Cruddur", read_staging);
  EXPECT_EQ(status3, 200);
  EXPECT_EQ(traces["data"], json::array());
  auto [status4, trace] = server.Get(std::string("/api/traces/") + kTraceA, read_staging);
  EXPECT_EQ(status4, 404) << trace.dump();
  auto [status5, prod] = server.Get(std::string("/api/traces/") + kTraceA, read_all);
  EXPECT_EQ(status5, 200);
  auto [status6, other] = server.Get("/api/services?environment=prod", read_staging);
  EXPECT_EQ(status6, 403) << other.dump();
}

}  // namespace
}  // namespace ariadne::testing

int main(int argc, char** argv) {
  return ariadne::testing::ServerTestMain(argc, argv, &ariadne::testing::g_ariadne);
}
