// The Zipkin v2 receiver against the real `ariadne serve` (`--zipkin 0`): spans POSTed to
// /api/v2/spans are acknowledged with 202 once durable and read back through the query API field by
// field; gzip bodies; Zipkin's 400 with a message for bad input, while good spans of the same
// request are kept; the keys of the OTLP port (x-honeycomb-team, Authorization: Bearer) and their
// environments; protobuf (zipkin.proto3 ListOfSpans) bodies read back like JSON ones; 404/405/415
// for the wrong route, method or encoding; the counters on /metrics;
// `--zipkin off`.
//
// Usage: zipkin_server_test --ariadne=/path/to/build/bin/ariadne
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/http_client.h"
#include "receivers/compression.h"
#include "tests/common/server_fixture.h"
#include "tests/common/server_test_main.h"
#include "zipkin_proto3.pb.h"  // generated from zipkin_proto3.proto

namespace ariadne::testing {
namespace {

std::string g_ariadne;
using nlohmann::json;

uint64_t NowMicros() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

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

// A client span of `frontend` calling `backend`, and the backend's server span below it.
std::string TwoSpans(const std::string& trace_id, uint64_t start_us) {
  json spans = json::array();
  spans.push_back({{"traceId", trace_id},
                   {"id", "352bff9a74ca9ad2"},
                   {"kind", "CLIENT"},
                   {"name", "get /api/users"},
                   {"timestamp", start_us},
                   {"duration", 1431},
                   {"localEndpoint", {{"serviceName", "frontend"}, {"ipv4", "192.168.99.1"}}},
                   {"remoteEndpoint", {{"serviceName", "backend"}, {"port", 9000}}},
                   {"annotations", json::array({{{"timestamp", start_us + 10}, {"value", "ws"}}})},
                   {"tags", {{"http.method", "GET"}, {"error", "upstream reset"}}}});
  spans.push_back({{"traceId", trace_id},
                   {"parentId", "352bff9a74ca9ad2"},
                   {"id", "5a6b7c8d9e0f1a2b"},
                   {"kind", "SERVER"},
                   {"name", "get /users"},
                   {"timestamp", start_us + 100},
                   {"duration", 1000},
                   {"localEndpoint", {{"serviceName", "backend"}}},
                   {"tags", {{"http.status_code", "200"}}}});
  return spans.dump();
}

class ZipkinServerTest : public ServerFixture {
 protected:
  ZipkinServerTest() : ServerFixture("zipkin") {}

  void Start(const std::vector<std::string>& args = {}) {
    server_ = ServerProcess::Start(g_ariadne, DataDir(), args);
    ASSERT_GT(server_.ports().zipkin, 0) << "no `listening zipkin` line";
  }

  std::string CreateKey(const std::string& role, const std::string& env = "") {
    return RunCommand(g_ariadne + " keys create --role " + role +
                      (env.empty() ? "" : " --env " + env) + " --data-dir " + DataDir() +
                      " 2>/dev/null");
  }

  net::ClientResponse Post(const std::string& body, net::HeaderList headers = {},
                           const std::string& path = "/api/v2/spans",
                           const std::string& method = "POST") {
    net::HttpClient client("127.0.0.1", server_.ports().zipkin);
    if (headers.empty()) headers = {{"Content-Type", "application/json"}};
    auto response = client.Request(method, path, headers, body);
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    return response.ok() ? std::move(response).value() : net::ClientResponse{};
  }

  json GetJson(const std::string& target, const std::string& read_key = "") {
    net::HttpClient client("127.0.0.1", server_.ports().http);
    net::HeaderList headers;
    if (!read_key.empty()) headers.emplace_back("Authorization", "Bearer " + read_key);
    auto response = client.Request("GET", target, headers);
    EXPECT_TRUE(response.ok());
    if (!response.ok()) return json();
    last_status_ = response->status;
    if (target == "/metrics") return json(response->body);
    return json::parse(response->body, nullptr, false);
  }

  int last_status_ = 0;
};

const json* FindSpan(const json& trace, const std::string& name) {
  for (const json& span : trace["spans"]) {
    if (span["name"] == name) return &span;
  }
  return nullptr;
}

json AttributeMap(const json& attributes) {
  json out = json::object();
  for (const json& a : attributes) out[a["key"].get<std::string>()] = a["value"];
  return out;
}

TEST_F(ZipkinServerTest, SpansAreAcknowledged202AndReadBackFieldByField) {
  Start();
  const uint64_t start = NowMicros() - 5'000'000;
  net::ClientResponse r = Post(TwoSpans("5af7183fb1d4cf5f4bf92f3577b34da6", start));
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.body, "");

  json trace = GetJson("/api/v1/traces/5af7183fb1d4cf5f4bf92f3577b34da6");
  ASSERT_EQ(last_status_, 200) << trace.dump();
  ASSERT_EQ(trace["spans"].size(), 2u) << trace.dump();
  EXPECT_EQ(trace["services"], json({"frontend", "backend"}));
  EXPECT_EQ(trace["environments"], json({"default"}));

  const json* client = FindSpan(trace, "get /api/users");
  ASSERT_NE(client, nullptr);
  EXPECT_EQ((*client)["span_id"], "352bff9a74ca9ad2");
  EXPECT_EQ((*client)["parent_span_id"], "");
  EXPECT_EQ((*client)["kind"], "client");
  EXPECT_EQ((*client)["start_time_unix_nano"], std::to_string(start * 1000));
  EXPECT_EQ((*client)["end_time_unix_nano"], std::to_string((start + 1431) * 1000));
  EXPECT_EQ((*client)["status"]["code"], "error");
  EXPECT_EQ((*client)["status"]["message"], "upstream reset");
  EXPECT_EQ((*client)["service_name"], "frontend");
  EXPECT_EQ(AttributeMap((*client)["attributes"]), json({{"http.method", "GET"},
                                                         {"net.host.ip", "192.168.99.1"},
                                                         {"peer.service", "backend"},
                                                         {"net.peer.port", 9000}}));
  ASSERT_EQ((*client)["events"].size(), 1u);
  EXPECT_EQ((*client)["events"][0]["name"], "ws");
  EXPECT_EQ((*client)["events"][0]["time_unix_nano"], std::to_string((start + 10) * 1000));

  const json* server = FindSpan(trace, "get /users");
  ASSERT_NE(server, nullptr);
  EXPECT_EQ((*server)["parent_span_id"], "352bff9a74ca9ad2");
  EXPECT_EQ((*server)["kind"], "server");
  EXPECT_EQ((*server)["service_name"], "backend");
  EXPECT_EQ(AttributeMap((*server)["attributes"]), json({{"http.status_code", "200"}}));

  json metrics = GetJson("/metrics");
  EXPECT_NE(metrics.get<std::string>().find(
                "ariadne_ingest_requests_total{receiver=\"zipkin\",code=\"202\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics.get<std::string>().find("listener=\"zipkin\""), std::string::npos);
}

std::string HexBytes(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

TEST_F(ZipkinServerTest, ProtobufSpansAreAcknowledged202AndReadBackFieldByField) {
  Start();
  const uint64_t start = NowMicros() - 5'000'000;
  ::zipkin::proto3::ListOfSpans list;
  ::zipkin::proto3::Span* client = list.add_spans();
  client->set_trace_id(HexBytes("7af7183fb1d4cf5f4bf92f3577b34da6"));
  client->set_id(HexBytes("352bff9a74ca9ad2"));
  client->set_kind(::zipkin::proto3::Span::CLIENT);
  client->set_name("get /api/users");
  client->set_timestamp(start);
  client->set_duration(1431);
  client->mutable_local_endpoint()->set_service_name("frontend");
  client->mutable_local_endpoint()->set_ipv4(std::string("\xc0\xa8\x63\x01", 4));
  client->mutable_remote_endpoint()->set_service_name("backend");
  client->mutable_remote_endpoint()->set_port(9000);
  auto* annotation = client->add_annotations();
  annotation->set_timestamp(start + 10);
  annotation->set_value("ws");
  (*client->mutable_tags())["http.method"] = "GET";
  (*client->mutable_tags())["error"] = "upstream reset";
  ::zipkin::proto3::Span* server = list.add_spans();
  server->set_trace_id(HexBytes("7af7183fb1d4cf5f4bf92f3577b34da6"));
  server->set_parent_id(HexBytes("352bff9a74ca9ad2"));
  server->set_id(HexBytes("5a6b7c8d9e0f1a2b"));
  server->set_kind(::zipkin::proto3::Span::SERVER);
  server->set_name("get /users");
  server->set_timestamp(start + 100);
  server->set_duration(1000);
  server->mutable_local_endpoint()->set_service_name("backend");
  (*server->mutable_tags())["http.status_code"] = "200";
  std::string body;
  ASSERT_TRUE(list.SerializeToString(&body));
  net::ClientResponse r = Post(body, {{"Content-Type", "application/x-protobuf"}});
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.body, "");

  json trace = GetJson("/api/v1/traces/7af7183fb1d4cf5f4bf92f3577b34da6");
  ASSERT_EQ(last_status_, 200) << trace.dump();
  ASSERT_EQ(trace["spans"].size(), 2u) << trace.dump();
  const json* c = FindSpan(trace, "get /api/users");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ((*c)["span_id"], "352bff9a74ca9ad2");
  EXPECT_EQ((*c)["parent_span_id"], "");
  EXPECT_EQ((*c)["kind"], "client");
  EXPECT_EQ((*c)["start_time_unix_nano"], std::to_string(start * 1000));
  EXPECT_EQ((*c)["end_time_unix_nano"], std::to_string((start + 1431) * 1000));
  EXPECT_EQ((*c)["status"]["code"], "error");
  EXPECT_EQ((*c)["status"]["message"], "upstream reset");
  EXPECT_EQ((*c)["service_name"], "frontend");
  EXPECT_EQ(AttributeMap((*c)["attributes"]), json({{"http.method", "GET"},
                                                    {"net.host.ip", "192.168.99.1"},
                                                    {"peer.service", "backend"},
                                                    {"net.peer.port", 9000}}));
  ASSERT_EQ((*c)["events"].size(), 1u);
  EXPECT_EQ((*c)["events"][0]["name"], "ws");
  EXPECT_EQ((*c)["events"][0]["time_unix_nano"], std::to_string((start + 10) * 1000));
  const json* s = FindSpan(trace, "get /users");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ((*s)["parent_span_id"], "352bff9a74ca9ad2");
  EXPECT_EQ((*s)["kind"], "server");
  EXPECT_EQ((*s)["service_name"], "backend");
  EXPECT_EQ(AttributeMap((*s)["attributes"]), json({{"http.status_code", "200"}}));

  // gzip works for protobuf too, and a bad span is left out while its neighbour is kept.
  ::zipkin::proto3::ListOfSpans mixed;
  *mixed.add_spans() = *server;
  mixed.mutable_spans(0)->set_trace_id(HexBytes("8af7183fb1d4cf5f4bf92f3577b34da6"));
  mixed.add_spans()->set_name("no ids");
  r = Post(receivers::GzipCompress(mixed.SerializeAsString()),
           {{"Content-Type", "application/x-protobuf"}, {"Content-Encoding", "gzip"}});
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_NE(r.body.find("1 span rejected: span #1: trace_id must be 8 or 16 bytes"),
            std::string::npos)
      << r.body;
  trace = GetJson("/api/v1/traces/8af7183fb1d4cf5f4bf92f3577b34da6");
  ASSERT_EQ(last_status_, 200);
  EXPECT_EQ(trace["spans"].size(), 1u);
}

TEST_F(ZipkinServerTest, SixtyFourBitTraceIdsAreStoredWithAZeroHighHalf) {
  Start();
  net::ClientResponse r = Post(TwoSpans("4bf92f3577b34da6", NowMicros() - 1'000'000));
  EXPECT_EQ(r.status, 202) << r.body;
  json trace = GetJson("/api/v1/traces/00000000000000004bf92f3577b34da6");
  ASSERT_EQ(last_status_, 200) << trace.dump();
  EXPECT_EQ(trace["spans"].size(), 2u);
}

TEST_F(ZipkinServerTest, GzipBodyIsAccepted) {
  Start();
  std::string body = receivers::GzipCompress(
      TwoSpans("1234567890abcdef1234567890abcdef", NowMicros() - 1'000'000));
  net::ClientResponse r =
      Post(body, {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}});
  EXPECT_EQ(r.status, 202) << r.body;
  GetJson("/api/v1/traces/1234567890abcdef1234567890abcdef");
  EXPECT_EQ(last_status_, 200);
  // A corrupt gzip stream is a 400 that says so.
  r = Post("not gzip at all", {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}});
  EXPECT_EQ(r.status, 400) << r.body;
}

TEST_F(ZipkinServerTest, BadInputIs400WithAMessageAndGoodSpansOfTheSameRequestAreKept) {
  Start();
  net::ClientResponse r = Post("{\"traceId\": 1}");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("expected a JSON array of Zipkin v2 spans"), std::string::npos) << r.body;
  r = Post("[{\"traceId\": \"abc\", \"id\": \"1\"}]");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("no span was stored"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("timestamp"), std::string::npos) << r.body;

  // One good span, one without an id: 202, the good one is stored.
  const uint64_t now = NowMicros();
  json mixed = json::array(
      {{{"traceId", "aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb"},
        {"id", "1111111111111111"},
        {"name", "good"},
        {"timestamp", now - 1'000'000},
        {"localEndpoint", {{"serviceName", "s"}}}},
       {{"traceId", "aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb"}, {"name", "bad"}, {"timestamp", now}}});
  r = Post(mixed.dump());
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_NE(r.body.find("1 span rejected: span #1: id is required"), std::string::npos) << r.body;
  json trace = GetJson("/api/v1/traces/aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb");
  ASSERT_EQ(last_status_, 200);
  ASSERT_EQ(trace["spans"].size(), 1u);
  EXPECT_EQ(trace["spans"][0]["name"], "good");

  // A timestamp in milliseconds lands before 2000: the pipeline's validation refuses it.
  r = Post(R"([{"traceId": "1", "id": "1", "timestamp": 1700000000000}])");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("no span was stored"), std::string::npos) << r.body;

  json metrics = GetJson("/metrics");
  const std::string text = metrics.get<std::string>();
  EXPECT_NE(text.find("ariadne_ingest_requests_total{receiver=\"zipkin\",code=\"400\"} 3"),
            std::string::npos)
      << text;
  GetJson("/healthz");
  EXPECT_EQ(last_status_, 200);
}

TEST_F(ZipkinServerTest, WrongRouteMethodOrEncodingIsRefusedInZipkinsWay) {
  Start();
  net::ClientResponse r = Post("[]", {}, "/api/v1/spans");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("Zipkin v1"), std::string::npos) << r.body;
  r = Post("[]", {}, "/v1/traces");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("POST /api/v2/spans"), std::string::npos) << r.body;
  r = Post("", {}, "/api/v2/spans", "GET");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.Header("allow").value_or(""), "POST");
  r = Post("\x0a\x01", {{"Content-Type", "application/x-thrift"}});
  EXPECT_EQ(r.status, 415);
  EXPECT_NE(r.body.find("send Zipkin v2 JSON"), std::string::npos) << r.body;
  // Protobuf that is not a ListOfSpans: Zipkin's 400 with what to send.
  r = Post("\x0a\x05\x01", {{"Content-Type", "application/x-protobuf"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("zipkin.proto3.ListOfSpans"), std::string::npos) << r.body;
  // No Content-Type at all is read as JSON, as Zipkin's collector does.
  r = Post("[]", {{"X-Test", "1"}});
  EXPECT_EQ(r.status, 202) << r.body;
}

TEST_F(ZipkinServerTest, KeysOfTheOtlpPortApplyAndChooseTheEnvironment) {
  const std::string ingest = CreateKey("ingest", "prod");
  const std::string read = CreateKey("read");
  ASSERT_FALSE(ingest.empty());
  Start();
  const std::string body = TwoSpans("cccccccccccccccccccccccccccccccc", NowMicros() - 1'000'000);
  net::ClientResponse r = Post(body);
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_FALSE(r.body.empty());
  r = Post(body, {{"Content-Type", "application/json"}, {"X-Honeycomb-Team", "aik_wrong"}});
  EXPECT_EQ(r.status, 401) << r.body;
  r = Post(body, {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + read}});
  EXPECT_EQ(r.status, 401) << "a read key cannot send spans: " << r.body;
  r = Post(body, {{"Content-Type", "application/json"}, {"X-Honeycomb-Team", ingest}});
  EXPECT_EQ(r.status, 202) << r.body;
  r = Post(TwoSpans("dddddddddddddddddddddddddddddddd", NowMicros() - 1'000'000),
           {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + ingest}});
  EXPECT_EQ(r.status, 202) << r.body;
  json trace = GetJson("/api/v1/traces/cccccccccccccccccccccccccccccccc", read);
  ASSERT_EQ(last_status_, 200) << trace.dump();
  EXPECT_EQ(trace["environments"], json({"prod"}));
  GetJson("/api/v1/traces/dddddddddddddddddddddddddddddddd", read);
  EXPECT_EQ(last_status_, 200);
}

TEST_F(ZipkinServerTest, ZipkinOffStartsNoZipkinListener) {
  // Not through ServerProcess (which asks for --zipkin 0): the server's stdout read directly. Once
  // its last listening line is out, SIGTERM ends it and the rest of its output is read to the end.
  const std::string command = "echo $$; exec " + g_ariadne + " serve --data-dir " + DataDir() +
                              " --otlp-http 0 --otlp-grpc 0 --http 0 --xray 0 --zipkin off " +
                              "2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char line[512];
  ASSERT_NE(std::fgets(line, sizeof line, pipe), nullptr);
  const pid_t pid = static_cast<pid_t>(std::stol(line));
  std::string out;
  bool stopped = false;
  while (std::fgets(line, sizeof line, pipe) != nullptr) {
    out += line;
    if (!stopped && std::string(line).rfind("listening otlp-grpc ", 0) == 0) {
      ::kill(pid, SIGTERM);
      stopped = true;
    }
  }
  if (!stopped) ::kill(pid, SIGTERM);
  ::pclose(pipe);
  EXPECT_TRUE(stopped) << out;
  EXPECT_NE(out.find("listening http "), std::string::npos) << out;
  EXPECT_EQ(out.find("listening zipkin"), std::string::npos) << out;
}

}  // namespace
}  // namespace ariadne::testing

int main(int argc, char** argv) {
  return ariadne::testing::ServerTestMain(argc, argv, &ariadne::testing::g_ariadne);
}
