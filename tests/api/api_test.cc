// The OTLP/HTTP receiver and the query API over real sockets, on the real embedded store.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api/trace_tree.h"
#include "google/rpc/status.pb.h"
#include "receivers/compression.h"
#include "requests.h"
#include "test_server.h"

namespace ariadne::testing {
namespace {

using nlohmann::json;
using otlp_pb::collector::trace::v1::ExportTraceServiceResponse;

constexpr char kTraceHex[] = "4bf92f3577b34da6a3ce929d0e0e4736";

net::ClientResponse Post(uint16_t port, const std::string& body, net::HeaderList headers,
                         const std::string& path = "/v1/traces") {
  net::HttpClient client("127.0.0.1", port);
  auto response = client.Request("POST", path, headers, body);
  EXPECT_TRUE(response.ok()) << response.status().ToString();
  return response.ok() ? std::move(response).value() : net::ClientResponse{};
}

net::ClientResponse PostProto(uint16_t port, const std::string& body, net::HeaderList extra = {}) {
  bool has_type = false;
  for (const auto& [name, value] : extra) has_type |= net::EqualsIgnoreCase(name, "content-type");
  if (!has_type) extra.emplace_back("Content-Type", "application/x-protobuf");
  return Post(port, body, extra);
}

net::ClientResponse Get(uint16_t port, const std::string& target) {
  net::HttpClient client("127.0.0.1", port);
  auto response = client.Request("GET", target);
  EXPECT_TRUE(response.ok()) << response.status().ToString();
  return response.ok() ? std::move(response).value() : net::ClientResponse{};
}

std::string RpcStatusMessage(const net::ClientResponse& response) {
  google::rpc::Status status;
  EXPECT_TRUE(status.ParseFromString(response.body)) << "not a google.rpc.Status";
  return status.message();
}

const json* FindSpan(const json& trace, const std::string& name) {
  for (const json& span : trace["spans"]) {
    if (span["name"] == name) return &span;
  }
  return nullptr;
}

json Attribute(const json& attributes, const std::string& key) {
  for (const json& attribute : attributes) {
    if (attribute["key"] == key) return attribute;
  }
  return json();
}

TEST(OtlpHttpReceiverTest, ProtobufExportIsAcknowledgedAndEveryFieldReadsBack) {
  TestServer server;
  const uint64_t start = NowNanos() - 1'000'000'000;
  auto response = PostProto(server.otlp_port(), RichRequest(start).SerializeAsString());
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(*response.Header("content-type"), "application/x-protobuf");
  ExportTraceServiceResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(response.body));
  EXPECT_FALSE(parsed.has_partial_success());

  auto got = Get(server.api_port(), std::string("/api/v1/traces/") + kTraceHex);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(*got.Header("content-type"), "application/json");
  json trace = json::parse(got.body);
  EXPECT_EQ(trace["trace_id"], kTraceHex);
  EXPECT_EQ(trace["xray_trace_id"], "1-4bf92f35-77b34da6a3ce929d0e0e4736");
  EXPECT_EQ(trace["span_count"], 2);
  EXPECT_EQ(trace["services"], json::array({"Cruddur"}));
  EXPECT_EQ(trace["start_time_unix_nano"], std::to_string(start));
  EXPECT_DOUBLE_EQ(trace["duration_ms"].get<double>(), 120.5);
  ASSERT_EQ(trace["spans"].size(), 2u);
  EXPECT_EQ(trace["spans"][0]["name"], "GET /api/activities/home");  // sorted by start

  const json& root = *FindSpan(trace, "GET /api/activities/home");
  EXPECT_EQ(root["span_id"], "00f067aa0ba90201");
  EXPECT_EQ(root["parent_span_id"], "");
  EXPECT_EQ(root["kind"], "server");
  EXPECT_EQ(root["kind_code"], 2);
  EXPECT_EQ(root["status"]["code"], "ok");
  EXPECT_EQ(root["trace_state"], "ot=th:0");
  EXPECT_EQ(root["flags"], 0x101);
  EXPECT_EQ(root["environment"], "default");
  EXPECT_EQ(root["service_name"], "Cruddur");
  EXPECT_EQ(root["resource"]["schema_url"], "https://opentelemetry.io/schemas/1.21.0");
  EXPECT_EQ(root["resource"]["dropped_attributes_count"], 1);
  EXPECT_EQ(Attribute(root["resource"]["attributes"], "host.name")["value"], "web-1");
  EXPECT_EQ(root["scope"]["name"], "cruddur.backend");
  EXPECT_EQ(root["scope"]["version"], "1.2.3");
  EXPECT_EQ(Attribute(root["scope"]["attributes"], "scope.attr")["value"], "s");

  const json& child = *FindSpan(trace, "db.query");
  EXPECT_EQ(child["trace_id"], kTraceHex);
  EXPECT_EQ(child["span_id"], "00f067aa0ba90202");
  EXPECT_EQ(child["parent_span_id"], "00f067aa0ba90201");
  EXPECT_EQ(child["kind"], "client");
  EXPECT_EQ(child["kind_code"], 3);
  EXPECT_EQ(child["start_time_unix_nano"], std::to_string(start + 10'000'000));
  EXPECT_EQ(child["end_time_unix_nano"], std::to_string(start + 22'250'000));
  EXPECT_DOUBLE_EQ(child["duration_ms"].get<double>(), 12.25);
  EXPECT_EQ(child["status"]["code"], "error");
  EXPECT_EQ(child["status"]["message"], "connection refused");
  EXPECT_EQ(child["dropped_attributes_count"], 2);
  const json& attrs = child["attributes"];
  EXPECT_EQ(Attribute(attrs, "db.system"),
            (json{{"key", "db.system"}, {"type", "string"}, {"value", "postgresql"}}));
  EXPECT_EQ(Attribute(attrs, "db.rows")["type"], "int");
  EXPECT_EQ(Attribute(attrs, "db.rows")["value"], -42);
  EXPECT_EQ(Attribute(attrs, "cache.hit")["type"], "bool");
  EXPECT_EQ(Attribute(attrs, "cache.hit")["value"], true);
  EXPECT_EQ(Attribute(attrs, "ratio")["type"], "double");
  EXPECT_EQ(Attribute(attrs, "ratio")["value"], 0.25);
  EXPECT_EQ(Attribute(attrs, "blob")["type"], "bytes");
  EXPECT_EQ(Attribute(attrs, "blob")["value"], "AP8Q");
  EXPECT_EQ(Attribute(attrs, "tags")["type"], "array");
  EXPECT_EQ(Attribute(attrs, "tags")["value"], json::array({"a", 7}));
  EXPECT_EQ(Attribute(attrs, "nested")["type"], "kvlist");
  EXPECT_EQ(Attribute(attrs, "nested")["value"], (json{{"k", "v"}}));
  ASSERT_EQ(child["events"].size(), 1u);
  EXPECT_EQ(child["events"][0]["name"], "exception");
  EXPECT_EQ(child["events"][0]["time_unix_nano"], std::to_string(start + 15'000'000));
  EXPECT_EQ(Attribute(child["events"][0]["attributes"], "exception.message")["value"],
            "connection refused");
  ASSERT_EQ(child["links"].size(), 1u);
  EXPECT_EQ(child["links"][0]["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4799");
  EXPECT_EQ(child["links"][0]["span_id"], "00f067aa0ba90277");
  EXPECT_EQ(child["links"][0]["trace_state"], "x=1");
  EXPECT_EQ(child["links"][0]["flags"], 1);
  EXPECT_EQ(Attribute(child["links"][0]["attributes"], "link.kind")["value"], "follows");

  // The X-Ray form of the id finds the same trace.
  auto xray = Get(server.api_port(), "/api/v1/traces/1-4bf92f35-77b34da6a3ce929d0e0e4736");
  ASSERT_EQ(xray.status, 200);
  EXPECT_EQ(json::parse(xray.body)["span_count"], 2);

  // The terminal tree shows the child under its parent and marks the error.
  auto tree = api::RenderTraceTree(got.body);
  ASSERT_TRUE(tree.ok());
  EXPECT_NE(tree->find("Cruddur  GET /api/activities/home  120.50 ms  [server]  ok\n"),
            std::string::npos)
      << *tree;
  EXPECT_NE(tree->find("└─ Cruddur  db.query  12.25 ms  [client]  !! ERROR: connection refused"),
            std::string::npos)
      << *tree;
}

TEST(OtlpHttpReceiverTest, JsonExportWithCharsetIsAcceptedAndAnsweredInJson) {
  TestServer server;
  const uint64_t start = NowNanos();
  std::string body = R"({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name",
      "value":{"stringValue":"json-svc"}}]},"scopeSpans":[{"scope":{"name":"lib"},"spans":[{
      "traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174","name":"x",
      "kind":2,"startTimeUnixNano":")" +
                     std::to_string(start) + R"(","endTimeUnixNano":)" +
                     std::to_string(start + 1000) + R"(}]}]}]})";
  auto response =
      Post(server.otlp_port(), body, {{"Content-Type", "application/json; charset=utf-8"}});
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(*response.Header("content-type"), "application/json");
  json parsed = json::parse(response.body);
  EXPECT_FALSE(parsed.contains("partialSuccess")) << response.body;
  auto got = Get(server.api_port(), "/api/v1/traces/5b8efff798038103d269b633813fc60c");
  ASSERT_EQ(got.status, 200);
  json trace = json::parse(got.body);
  EXPECT_EQ(trace["spans"][0]["service_name"], "json-svc");
  EXPECT_EQ(trace["spans"][0]["end_time_unix_nano"], std::to_string(start + 1000));
}

TEST(OtlpHttpReceiverTest, InvalidSpansArePartialSuccessAndValidNeighboursAreStored) {
  TestServer server;
  const uint64_t start = NowNanos();
  auto request = RichRequest(start);
  auto* spans = request.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans();
  spans->Mutable(1)->set_end_time_unix_nano(start - 1);  // child: end before start
  auto* bad_id = spans->Add();
  *bad_id = spans->Get(0);
  bad_id->set_trace_id("short");  // rejected by the decoder
  auto response = PostProto(server.otlp_port(), request.SerializeAsString(),
                            {{"Content-Type", "application/protobuf"}});
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(*response.Header("content-type"), "application/protobuf");
  ExportTraceServiceResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(response.body));
  ASSERT_TRUE(parsed.has_partial_success());
  EXPECT_EQ(parsed.partial_success().rejected_spans(), 2);
  EXPECT_NE(parsed.partial_success().error_message().find("end time before start time"),
            std::string::npos)
      << parsed.partial_success().error_message();

  auto got = Get(server.api_port(), std::string("/api/v1/traces/") + kTraceHex);
  ASSERT_EQ(got.status, 200);
  json trace = json::parse(got.body);
  ASSERT_EQ(trace["span_count"], 1);
  EXPECT_EQ(trace["spans"][0]["name"], "GET /api/activities/home");
  EXPECT_EQ(server.metrics().rejected_total(), 2u);
}

TEST(OtlpHttpReceiverTest, GzipBodiesAreDecompressed) {
  TestServer server;
  std::string body = receivers::GzipCompress(RichRequest(NowNanos()).SerializeAsString());
  auto response = PostProto(server.otlp_port(), body, {{"Content-Encoding", "gzip"}});
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(Get(server.api_port(), std::string("/api/v1/traces/") + kTraceHex).status, 200);
}

TEST(OtlpHttpReceiverTest, GzipBombHitsTheDecompressedLimitWith413) {
  TestServerOptions options;
  options.max_decompressed_bytes = 1 << 20;
  TestServer server(std::move(options));
  std::string bomb = receivers::GzipCompress(std::string(8 << 20, '\0'));
  ASSERT_LT(bomb.size(), 100u * 1024);
  auto response = PostProto(server.otlp_port(), bomb, {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(response.status, 413);
  EXPECT_NE(RpcStatusMessage(response).find("1048576 bytes"), std::string::npos);
}

TEST(OtlpHttpReceiverTest, RawBodyOverTheLimitIs413) {
  TestServerOptions options;
  options.max_body_bytes = 4096;
  TestServer server(std::move(options));
  auto response = PostProto(server.otlp_port(), std::string(10000, 'x'));
  EXPECT_EQ(response.status, 413);
}

TEST(OtlpHttpReceiverTest, BadEncodingsAndBodiesGetProtocolErrors) {
  TestServer server;
  auto corrupt =
      PostProto(server.otlp_port(), "definitely not gzip", {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(corrupt.status, 400);
  auto unknown = PostProto(server.otlp_port(), "x", {{"Content-Encoding", "br"}});
  EXPECT_EQ(unknown.status, 415);

  auto garbage = PostProto(server.otlp_port(), std::string("\x0a\xff\xff\xff\xff\x0f", 6));
  EXPECT_EQ(garbage.status, 400);
  EXPECT_EQ(*garbage.Header("content-type"), "application/x-protobuf");
  EXPECT_NE(RpcStatusMessage(garbage).find("failed to parse OTLP request body"), std::string::npos);

  auto bad_json =
      Post(server.otlp_port(), "{\"resourceSpans\": [", {{"Content-Type", "application/json"}});
  EXPECT_EQ(bad_json.status, 400);
  json status = json::parse(bad_json.body);
  EXPECT_NE(status["message"].get<std::string>().find("failed to parse"), std::string::npos);

  auto text = Post(server.otlp_port(), "hello", {{"Content-Type", "text/plain"}});
  EXPECT_EQ(text.status, 415);
  EXPECT_NE(text.body.find("application/x-protobuf"), std::string::npos);
}

TEST(OtlpHttpReceiverTest, EmptyRequestSucceeds) {
  TestServer server;
  auto response = PostProto(server.otlp_port(), "");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "");
}

TEST(OtlpHttpReceiverTest, RoutesMethodsAndCors) {
  TestServerOptions options;
  options.cors_origins = {"http://localhost:3000"};
  TestServer server(std::move(options));
  EXPECT_EQ(Get(server.otlp_port(), "/v1/traces").status, 405);
  EXPECT_EQ(
      Post(server.otlp_port(), "", {{"Content-Type", "application/x-protobuf"}}, "/v1/metrics")
          .status,
      404);
  net::HttpClient client("127.0.0.1", server.otlp_port());
  auto preflight =
      client.Request("OPTIONS", "/v1/traces",
                     {{"Origin", "http://localhost:3000"},
                      {"Access-Control-Request-Method", "POST"},
                      {"Access-Control-Request-Headers", "content-type,x-honeycomb-team"}});
  ASSERT_TRUE(preflight.ok());
  EXPECT_EQ(preflight->status, 204);
  EXPECT_EQ(*preflight->Header("access-control-allow-origin"), "http://localhost:3000");
  EXPECT_NE(preflight->Header("access-control-allow-methods")->find("POST"), std::string::npos);
  EXPECT_NE(preflight->Header("access-control-allow-headers")->find("x-honeycomb-team"),
            std::string::npos);
  auto post = PostProto(server.otlp_port(), "", {{"Origin", "http://localhost:3000"}});
  EXPECT_EQ(post.status, 200);
  EXPECT_EQ(*post.Header("access-control-allow-origin"), "http://localhost:3000");
  // An origin that was not configured is never echoed (the browser then refuses the answer).
  auto foreign = PostProto(server.otlp_port(), "", {{"Origin", "http://evil.example"}});
  EXPECT_EQ(foreign.status, 200);
  EXPECT_FALSE(foreign.Header("access-control-allow-origin").has_value());
}

TEST(OtlpHttpReceiverTest, KeysSelectTheEnvironmentAndUnknownKeysGet401) {
  TestServerOptions options;
  ASSERT_TRUE(options.keys.Add({"key-prod", "prod", 0}).ok());
  TestServer server(std::move(options));
  std::string body = RichRequest(NowNanos()).SerializeAsString();

  auto missing = PostProto(server.otlp_port(), body);
  EXPECT_EQ(missing.status, 401);
  EXPECT_NE(RpcStatusMessage(missing).find("missing 'x-honeycomb-team' header"), std::string::npos);
  auto wrong = PostProto(server.otlp_port(), body, {{"x-honeycomb-team", "nope"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_NE(RpcStatusMessage(wrong).find("unknown API key"), std::string::npos);
  EXPECT_EQ(Get(server.api_port(), std::string("/api/v1/traces/") + kTraceHex).status, 404);

  auto right = PostProto(server.otlp_port(), body, {{"X-Honeycomb-Team", "key-prod"}});
  ASSERT_EQ(right.status, 200);
  auto got = Get(server.api_port(), std::string("/api/v1/traces/") + kTraceHex);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(json::parse(got.body)["spans"][0]["environment"], "prod");
  EXPECT_EQ(
      Get(server.api_port(), std::string("/api/v1/traces/") + kTraceHex + "?environment=default")
          .status,
      404);
  auto bearer = PostProto(server.otlp_port(), RichRequest(NowNanos(), 0x37).SerializeAsString(),
                          {{"Authorization", "Bearer key-prod"}});
  EXPECT_EQ(bearer.status, 200);
  EXPECT_EQ(server.metrics().requests("otlp_http", 401), 2u);
  EXPECT_EQ(server.metrics().requests("otlp_http", 200), 2u);
}

TEST(OtlpHttpReceiverTest, StoreBackpressureIs503WithRetryAfter) {
  TestServerOptions options;
  options.max_pending_spans = 1;  // a two-span batch can never be queued
  TestServer server(std::move(options));
  auto response = PostProto(server.otlp_port(), RichRequest(NowNanos()).SerializeAsString());
  EXPECT_EQ(response.status, 503);
  ASSERT_TRUE(response.Header("retry-after").has_value());
  EXPECT_EQ(*response.Header("retry-after"), "1");
  EXPECT_NE(RpcStatusMessage(response).find("retry"), std::string::npos);
  EXPECT_EQ(server.metrics().failed(), 2u);
}

// `near` (the UI's trace links pass the trace's start) is only a hint: right or far off, the trace
// is found; a `near` that is not a number of nanoseconds is refused, saying what to pass.
TEST(QueryApiTest, TraceReadsTakeANearHint) {
  TestServer server;
  const uint64_t start = NowNanos() - 1'000'000'000;
  ASSERT_EQ(PostProto(server.otlp_port(), RichRequest(start).SerializeAsString()).status, 200);
  const std::string path = std::string("/api/v1/traces/") + kTraceHex;
  // The largest times: the hint's end is held at 2^64 − 1 (it used to wrap to 0).
  for (const std::string& near :
       {std::to_string(start), std::string("1700000000000000000"),
        std::string("18446744073709551615"), std::string("18446744073709551614")}) {
    auto got = Get(server.api_port(), path + "?near=" + near);
    ASSERT_EQ(got.status, 200) << near << " " << got.body;
    EXPECT_EQ(json::parse(got.body)["span_count"], 2) << near;
  }
  for (const char* bad : {"abc", "12x", "0", "-5", "18446744073709551616"}) {
    auto got = Get(server.api_port(), path + "?near=" + bad);
    EXPECT_EQ(got.status, 400) << bad << " " << got.body;
    EXPECT_NE(got.body.find("unix nanoseconds"), std::string::npos) << got.body;
  }
}

TEST(QueryApiTest, MalformedAndUnknownTraceIds) {
  TestServer server;
  auto malformed = Get(server.api_port(), "/api/v1/traces/xyz");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_NE(json::parse(malformed.body)["error"].get<std::string>().find("malformed trace id"),
            std::string::npos);
  auto missing = Get(server.api_port(), "/api/v1/traces/0123456789abcdef0123456789abcdef");
  EXPECT_EQ(missing.status, 404);
  json error = json::parse(missing.body);
  EXPECT_EQ(error["status"], 404);
  EXPECT_NE(error["error"].get<std::string>().find("not found"), std::string::npos);
}

TEST(QueryApiTest, ServicesListsSpanAndErrorCounts) {
  TestServer server;
  ASSERT_EQ(PostProto(server.otlp_port(), RichRequest(NowNanos()).SerializeAsString()).status, 200);
  ASSERT_EQ(PostProto(server.otlp_port(), RichRequest(NowNanos(), 0x40).SerializeAsString()).status,
            200);
  auto response = Get(server.api_port(), "/api/v1/services");
  ASSERT_EQ(response.status, 200) << response.body;
  json services = json::parse(response.body)["services"];
  ASSERT_EQ(services.size(), 1u);
  EXPECT_EQ(services[0]["name"], "Cruddur");
  EXPECT_EQ(services[0]["environment"], "default");
  EXPECT_EQ(services[0]["span_count"], 4);
  EXPECT_EQ(services[0]["error_count"], 2);
  EXPECT_EQ(services[0]["trace_root_count"], 2);
}

TEST(QueryApiTest, HealthMetricsAndUnknownPaths) {
  TestServer server;
  ASSERT_EQ(PostProto(server.otlp_port(), RichRequest(NowNanos()).SerializeAsString()).status, 200);
  auto health = Get(server.api_port(), "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(json::parse(health.body)["status"], "ok");

  auto metrics = Get(server.api_port(), "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.Header("content-type")->find("text/plain"), std::string::npos);
  EXPECT_NE(metrics.body.find("ariadne_spans_received_total 2\n"), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("ariadne_spans_accepted_total 2\n"), std::string::npos);
  EXPECT_NE(
      metrics.body.find("ariadne_ingest_requests_total{receiver=\"otlp_http\",code=\"200\"} 1"),
      std::string::npos);
  EXPECT_NE(metrics.body.find("ariadne_store_spans_appended_total 2\n"), std::string::npos);
  EXPECT_EQ(metrics.body.find("process_resident_memory_bytes 0\n"), std::string::npos);
  EXPECT_NE(metrics.body.find("process_resident_memory_bytes "), std::string::npos);

  auto unknown = Get(server.api_port(), "/api/v2/nothing");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(json::parse(unknown.body)["status"], 404);
  net::HttpClient client("127.0.0.1", server.api_port());
  auto post = client.Request("POST", "/api/v1/services", {}, "{}");
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(post->status, 405);
}

}  // namespace
}  // namespace ariadne::testing
