// Invalid UTF-8 in ingested strings, end to end against the real `ariadne serve`: a protobuf span
// whose name, attribute value, event name, status message, scope name and service.name hold bytes
// that are not UTF-8 is stored with U+FFFD in their place, and every read path (services, trace
// search, service graph, queries broken down by those fields, columns, trace by id, the X-Ray API)
// answers 200 — before and after a restart. Data written with bad bytes by an older version (put
// straight into the store here) must read back the same way.
//
// Usage: invalid_utf8_server_test --ariadne=/path/to/build/bin/ariadne
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "model/span_batch.h"
#include "net/http_client.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "store/embedded/embedded_store.h"
#include "tests/common/server_process.h"
#include "tests/common/server_test_main.h"

namespace ariadne::testing {
namespace {

std::string g_ariadne;

using nlohmann::json;
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;

constexpr char kBad[] = "\xb8\xff";                    // a stray continuation byte, then 0xFF
constexpr char kFixed[] = "\xEF\xBF\xBD\xEF\xBF\xBD";  // what each of those bytes becomes

// X-Ray style: the first 4 bytes are the epoch seconds of the test run.
std::string TraceIdBytes() {
  static const uint32_t epoch = static_cast<uint32_t>(std::time(nullptr));
  std::string id(16, '\0');
  for (int i = 0; i < 4; ++i) id[i] = static_cast<char>(epoch >> (24 - 8 * i));
  id[15] = 1;
  return id;
}

std::string Hex(const std::string& bytes) {
  model::TraceId id;
  std::memcpy(id.bytes.data(), bytes.data(), model::TraceId::kSize);
  return id.ToHex();
}

std::string SpanIdBytes(int n) {
  std::string id(8, '\0');
  id[0] = 0x5A;
  id[7] = static_cast<char>(n);
  return id;
}

uint64_t NowNanos() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// A root span in service "svc<bad>" calling a server span in "backend".
std::string BadRequest() {
  const uint64_t now = NowNanos() - 1'000'000'000;
  ExportTraceServiceRequest request;
  for (int i = 0; i < 2; ++i) {
    auto* rs = request.add_resource_spans();
    auto* service = rs->mutable_resource()->add_attributes();
    service->set_key("service.name");
    service->mutable_value()->set_string_value(i == 0 ? std::string("svc") + kBad : "backend");
    auto* ss = rs->add_scope_spans();
    ss->mutable_scope()->set_name(std::string("scope") + kBad);
    auto* span = ss->add_spans();
    span->set_trace_id(TraceIdBytes());
    span->set_span_id(SpanIdBytes(i + 1));
    if (i == 1) span->set_parent_span_id(SpanIdBytes(1));
    span->set_name(std::string("op") + kBad);
    span->set_kind(i == 0 ? opentelemetry::proto::trace::v1::Span::SPAN_KIND_CLIENT
                          : opentelemetry::proto::trace::v1::Span::SPAN_KIND_SERVER);
    span->set_start_time_unix_nano(now + i * 1000);
    span->set_end_time_unix_nano(now + 5'000'000);
    auto* attr = span->add_attributes();
    attr->set_key("bad.attr");
    attr->mutable_value()->set_string_value(std::string("v") + kBad);
    auto* key = span->add_attributes();
    key->set_key(std::string("key") + kBad);
    key->mutable_value()->set_string_value("x");
    auto* event = span->add_events();
    event->set_time_unix_nano(now + 10);
    event->set_name(std::string("event") + kBad);
    auto* event_attr = event->add_attributes();
    event_attr->set_key("e");
    event_attr->mutable_value()->set_string_value(std::string("ev") + kBad);
    span->mutable_status()->set_message(std::string("msg") + kBad);
    span->mutable_status()->set_code(opentelemetry::proto::trace::v1::Status::STATUS_CODE_ERROR);
  }
  return request.SerializeAsString();
}

// The same spans put straight into the store, bad bytes and all, as an older version stored them.
void StoreBadSpansDirectly(const std::string& dir) {
  store::embedded::EmbeddedStoreOptions options;
  options.data_dir = dir;
  auto opened = store::embedded::OpenEmbeddedStore(options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  model::SpanBatch batch;
  const uint64_t now = NowNanos() - 1'000'000'000;
  auto text = [&](std::string s) { return batch.arena.Copy(s); };
  for (uint32_t i = 0; i < 2; ++i) {
    model::Resource resource;
    resource.attributes = {static_cast<uint32_t>(batch.attributes.size()), 1};
    batch.attributes.push_back(
        {text("service.name"),
         model::Value::String(text(i == 0 ? std::string("svc") + kBad : "backend"))});
    batch.resources.push_back(resource);
    model::Scope scope;
    scope.name = text(std::string("scope") + kBad);
    batch.scopes.push_back(scope);
    model::Span span;
    std::string trace_id = TraceIdBytes(), span_id = SpanIdBytes(static_cast<int>(i) + 1);
    std::memcpy(span.trace_id.bytes.data(), trace_id.data(), 16);
    std::memcpy(span.span_id.bytes.data(), span_id.data(), 8);
    if (i == 1) {
      std::string parent = SpanIdBytes(1);
      std::memcpy(span.parent_span_id.bytes.data(), parent.data(), 8);
    }
    span.name = text(std::string("op") + kBad);
    span.kind = i == 0 ? model::SpanKind::kClient : model::SpanKind::kServer;
    span.status_code = model::StatusCode::kError;
    span.status_message = text(std::string("msg") + kBad);
    span.start_time_unix_nano = now + i * 1000;
    span.end_time_unix_nano = now + 5'000'000;
    span.resource_index = i;
    span.scope_index = i;
    span.attributes = {static_cast<uint32_t>(batch.attributes.size()), 2};
    batch.attributes.push_back(
        {text("bad.attr"), model::Value::String(text(std::string("v") + kBad))});
    batch.attributes.push_back({text(std::string("key") + kBad), model::Value::String(text("x"))});
    span.events = {static_cast<uint32_t>(batch.events.size()), 1};
    model::Event event;
    event.time_unix_nano = now + 10;
    event.name = text(std::string("event") + kBad);
    event.attributes = {static_cast<uint32_t>(batch.attributes.size()), 1};
    batch.attributes.push_back({text("e"), model::Value::String(text(std::string("ev") + kBad))});
    batch.events.push_back(event);
    batch.spans.push_back(span);
  }
  std::unique_ptr<store::SpanStore> span_store = std::move(opened).value();
  ASSERT_TRUE(span_store->Append("default", std::move(batch)).ok());
  ASSERT_TRUE(span_store->Close().ok());
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// GET or POST `target`; expects 200 and a body that parses as JSON (nlohmann rejects invalid
// UTF-8). Returns the parsed body.
json Call(uint16_t port, const std::string& method, const std::string& target,
          const std::string& body = "") {
  net::HttpClient client("127.0.0.1", port);
  auto response = client.Request(method, target, {{"Content-Type", "application/json"}}, body);
  EXPECT_TRUE(response.ok()) << method << " " << target << ": " << response.status().ToString();
  if (!response.ok()) return json();
  EXPECT_EQ(response->status, 200) << method << " " << target << ": " << response->body;
  json parsed = json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(parsed.is_discarded()) << method << " " << target << " is not valid JSON";
  return parsed;
}

// Every read path answers 200 with valid JSON, and the bad bytes read back as U+FFFD.
void ExpectReadsWork(const ServerProcess& server) {
  const uint16_t api = server.ports().http;
  const std::string svc = std::string("svc") + kFixed;

  json services = Call(api, "GET", "/api/v1/services");
  EXPECT_TRUE(Contains(services.dump(), svc)) << services.dump();

  json search = Call(api, "GET", "/api/v1/traces");
  EXPECT_TRUE(Contains(search.dump(), std::string("op") + kFixed)) << search.dump();

  json graph = Call(api, "GET", "/api/v1/service-graph");
  EXPECT_TRUE(Contains(graph.dump(), svc)) << graph.dump();

  json columns = Call(api, "GET", "/api/v1/columns");
  EXPECT_TRUE(Contains(columns.dump(), std::string("key") + kFixed)) << columns.dump();

  for (const char* column : {"name", "bad.attr", "service.name", "status_message"}) {
    json query = {
        {"time_range", 3600}, {"breakdowns", {column}}, {"calculations", {{{"op", "COUNT"}}}}};
    json result = Call(api, "POST", "/api/v1/query", query.dump());
    EXPECT_TRUE(Contains(result.dump(), kFixed)) << column << ": " << result.dump();
  }

  json trace = Call(api, "GET", "/api/v1/traces/" + Hex(TraceIdBytes()));
  const std::string text = trace.dump();
  for (const char* prefix : {"op", "v", "svc", "scope", "event", "ev", "msg", "key"}) {
    EXPECT_TRUE(Contains(text, std::string(prefix) + kFixed)) << prefix << " in " << text;
  }

  // The X-Ray API reads the same spans.
  const uint16_t xray = server.ports().xray;
  const double now = static_cast<double>(NowNanos()) / 1e9;
  json window = {{"StartTime", now - 3600}, {"EndTime", now + 60}};
  json summaries = Call(xray, "POST", "/TraceSummaries", window.dump());
  EXPECT_EQ(summaries["TraceSummaries"].size(), 1u) << summaries.dump();
  json xray_graph = Call(xray, "POST", "/ServiceGraph", window.dump());
  EXPECT_TRUE(Contains(xray_graph.dump(), svc)) << xray_graph.dump();
  json traces =
      Call(xray, "POST", "/Traces",
           json{{"TraceIds",
                 {"1-" + Hex(TraceIdBytes()).substr(0, 8) + "-" + Hex(TraceIdBytes()).substr(8)}}}
               .dump());
  // Segment documents carry the service as the name and attributes as metadata.
  EXPECT_TRUE(Contains(traces.dump(), std::string("v") + kFixed)) << traces.dump();
}

class InvalidUtf8Test : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/ariadne-utf8-test-XXXXXX";
    dir_ = mkdtemp(pattern);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(InvalidUtf8Test, ProtobufStringsAreRepairedAndEveryReadAnswers) {
  ServerProcess server = ServerProcess::Start(g_ariadne, dir_);
  net::HttpClient otlp("127.0.0.1", server.ports().otlp_http);
  auto posted = otlp.Request("POST", "/v1/traces", {{"Content-Type", "application/x-protobuf"}},
                             BadRequest());
  ASSERT_TRUE(posted.ok()) << posted.status().ToString();
  ASSERT_EQ(posted->status, 200) << posted->body;

  ExpectReadsWork(server);
  net::HttpClient api("127.0.0.1", server.ports().http);
  auto metrics = api.Request("GET", "/metrics");
  ASSERT_TRUE(metrics.ok());
  // 2 spans x (scope, name, attribute value, key, event, event attribute, status) + one bad
  // service.name: 15 strings, each with two bad bytes.
  EXPECT_TRUE(Contains(metrics->body, "ariadne_ingest_invalid_utf8_replaced_total 30"))
      << metrics->body;
  ASSERT_EQ(server.Stop(SIGTERM), 0);

  ServerProcess restarted = ServerProcess::Start(g_ariadne, dir_);
  ExpectReadsWork(restarted);
  EXPECT_EQ(restarted.Stop(SIGTERM), 0);
}

TEST_F(InvalidUtf8Test, BadBytesAlreadyStoredReadBackAsReplacementCharacters) {
  StoreBadSpansDirectly(dir_);
  ServerProcess server = ServerProcess::Start(g_ariadne, dir_);
  ExpectReadsWork(server);
  ASSERT_EQ(server.Stop(SIGTERM), 0);
}

}  // namespace
}  // namespace ariadne::testing

int main(int argc, char** argv) {
  return ariadne::testing::ServerTestMain(argc, argv, &ariadne::testing::g_ariadne);
}
