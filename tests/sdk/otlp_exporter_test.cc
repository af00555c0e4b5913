#include "ariadne/sdk/otlp_exporter.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <thread>

#include "ariadne/sdk/tracer.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace ariadne::sdk {
namespace {

namespace otlp = opentelemetry::proto;

// A real OTLP/HTTP endpoint on 127.0.0.1 that answers from a script of (status, Retry-After)
// and records each request.
class ScriptedOtlpServer {
 public:
  struct Reply {
    int status;
    std::string retry_after;
  };
  struct Received {
    std::string body;
    httplib::Headers headers;
    std::chrono::steady_clock::time_point at;
  };

  explicit ScriptedOtlpServer(std::deque<Reply> script) : script_(std::move(script)) {
    server_.Post("/v1/traces", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      received_.push_back({req.body, req.headers, std::chrono::steady_clock::now()});
      Reply reply = script_.empty() ? Reply{200, ""} : script_.front();
      if (!script_.empty()) script_.pop_front();
      res.status = reply.status;
      if (!reply.retry_after.empty()) res.set_header("Retry-After", reply.retry_after);
      res.set_content("", "application/x-protobuf");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~ScriptedOtlpServer() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1/traces"; }
  std::vector<Received> received() {
    std::lock_guard lock(mu_);
    return received_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::deque<Reply> script_;
  std::vector<Received> received_;
};

// Two spans (SERVER parent with every field kind, CLIENT child) from one provider.
std::vector<SpanDataRef> MakeSpans(TracerProvider& provider) {
  auto exporter = std::make_unique<InMemorySpanExporter>();
  InMemorySpanExporter* mem = exporter.get();
  provider.AddSpanProcessor(std::make_unique<SimpleSpanProcessor>(std::move(exporter)));
  Tracer& tracer = provider.GetTracer("cruddur", "1.2.3");
  SpanContext link;
  link.trace_id = GenerateTraceId(IdGeneratorKind::kRandom);
  link.span_id = GenerateSpanId();
  {
    Span server =
        tracer.StartSpan("/api/activities/home", {.kind = SpanKind::kServer,
                                                  .start_ns = 1700000000000000000ull,
                                                  .links = std::span<const SpanContext>(&link, 1)});
    Scope scope = server.Activate();
    server.SetAttribute("http.method", "GET");
    server.SetAttribute("http.status_code", 500);
    server.SetAttribute("app.flag", true);
    server.SetAttribute("app.ratio", 0.25);
    server.SetAttribute("app.negative", -7);
    server.AddEvent("cache-miss", {{"key", "home"}}, 1700000000000000500ull);
    server.SetStatus(StatusCode::kError, "upstream failed");
    Span client = tracer.StartSpan("HTTP GET", {.kind = SpanKind::kClient});
    client.SetAttribute("http.url", std::string(300, 'u'));  // a >127-byte nested length
    client.End(1700000000000000900ull);
    server.End(1700000000000001000ull);
  }
  return mem->Take();
}

TEST(OtlpExporterTest, Retries503HonouringRetryAfterThenDeliversADecodableRequest) {
  ScriptedOtlpServer server({{503, "1"}, {200, ""}});
  TracerProviderOptions po;
  po.resource = Resource({OwnedAttribute("service.name", "backend-flask")});
  TracerProvider provider(std::move(po));
  std::vector<SpanDataRef> spans = MakeSpans(provider);
  ASSERT_EQ(spans.size(), 2u);

  OtlpHttpExporterOptions o;
  o.url = server.url();
  o.headers = {{"x-honeycomb-team", "key123"}};
  OtlpHttpExporter exporter(o);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(exporter.Export(spans), ExportResult::kSuccess);
  const auto elapsed = std::chrono::steady_clock::now() - start;

  auto received = server.received();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(exporter.requests_sent(), 2u);
  ASSERT_EQ(exporter.last_retry_delays().size(), 1u);
  EXPECT_EQ(exporter.last_retry_delays()[0], std::chrono::milliseconds(1000));
  EXPECT_GE(received[1].at - received[0].at, std::chrono::milliseconds(990));
  EXPECT_GE(elapsed, std::chrono::milliseconds(990));
  EXPECT_EQ(received[1].body, received[0].body);  // the same batch is resent
  EXPECT_EQ(received[1].headers.find("x-honeycomb-team")->second, "key123");
  EXPECT_EQ(received[1].headers.find("Content-Type")->second, "application/x-protobuf");

  otlp::collector::trace::v1::ExportTraceServiceRequest req;
  ASSERT_TRUE(req.ParseFromString(received[1].body));
  ASSERT_EQ(req.resource_spans_size(), 1);
  const auto& rs = req.resource_spans(0);
  bool found_service = false;
  for (const auto& kv : rs.resource().attributes()) {
    if (kv.key() == "service.name") {
      found_service = true;
      EXPECT_EQ(kv.value().string_value(), "backend-flask");
    }
  }
  EXPECT_TRUE(found_service);
  ASSERT_EQ(rs.scope_spans_size(), 1);
  EXPECT_EQ(rs.scope_spans(0).scope().name(), "cruddur");
  EXPECT_EQ(rs.scope_spans(0).scope().version(), "1.2.3");
  ASSERT_EQ(rs.scope_spans(0).spans_size(), 2);
  const auto& client = rs.scope_spans(0).spans(0);
  const auto& server_span = rs.scope_spans(0).spans(1);

  EXPECT_EQ(server_span.name(), "/api/activities/home");
  EXPECT_EQ(server_span.kind(), otlp::trace::v1::Span::SPAN_KIND_SERVER);
  EXPECT_EQ(
      server_span.trace_id(),
      std::string(reinterpret_cast<const char*>(spans[1]->context().trace_id.bytes.data()), 16));
  EXPECT_EQ(server_span.span_id().size(), 8u);
  EXPECT_TRUE(server_span.parent_span_id().empty());
  EXPECT_EQ(server_span.start_time_unix_nano(), 1700000000000000000ull);
  EXPECT_EQ(server_span.end_time_unix_nano(), 1700000000000001000ull);
  EXPECT_EQ(server_span.status().code(), otlp::trace::v1::Status::STATUS_CODE_ERROR);
  EXPECT_EQ(server_span.status().message(), "upstream failed");
  EXPECT_EQ(server_span.flags() & 0xFF, 1u);
  ASSERT_EQ(server_span.attributes_size(), 5);
  EXPECT_EQ(server_span.attributes(0).key(), "http.method");
  EXPECT_EQ(server_span.attributes(0).value().string_value(), "GET");
  EXPECT_EQ(server_span.attributes(1).value().int_value(), 500);
  EXPECT_TRUE(server_span.attributes(2).value().bool_value());
  EXPECT_EQ(server_span.attributes(3).value().double_value(), 0.25);
  EXPECT_EQ(server_span.attributes(4).value().int_value(), -7);
  ASSERT_EQ(server_span.events_size(), 1);
  EXPECT_EQ(server_span.events(0).name(), "cache-miss");
  EXPECT_EQ(server_span.events(0).time_unix_nano(), 1700000000000000500ull);
  EXPECT_EQ(server_span.events(0).attributes(0).value().string_value(), "home");
  ASSERT_EQ(server_span.links_size(), 1);
  EXPECT_EQ(server_span.links(0).span_id().size(), 8u);

  EXPECT_EQ(client.name(), "HTTP GET");
  EXPECT_EQ(client.kind(), otlp::trace::v1::Span::SPAN_KIND_CLIENT);
  EXPECT_EQ(client.parent_span_id(), server_span.span_id());
  EXPECT_EQ(client.trace_id(), server_span.trace_id());
  EXPECT_EQ(client.flags(), 0x101u);  // sampled, has-is-remote, parent local
  EXPECT_EQ(client.attributes(0).value().string_value(), std::string(300, 'u'));
}

TEST(OtlpExporterTest, BacksOffExponentiallyWithJitterWithoutRetryAfter) {
  ScriptedOtlpServer server({{502, ""}, {504, ""}, {429, ""}, {200, ""}});
  TracerProvider provider({});
  auto spans = MakeSpans(provider);
  OtlpHttpExporterOptions o;
  o.url = server.url();
  o.initial_backoff = std::chrono::milliseconds(100);
  OtlpHttpExporter exporter(o);
  ASSERT_EQ(exporter.Export(spans), ExportResult::kSuccess);
  EXPECT_EQ(server.received().size(), 4u);
  auto delays = exporter.last_retry_delays();
  ASSERT_EQ(delays.size(), 3u);
  EXPECT_GE(delays[0].count(), 80);
  EXPECT_LE(delays[0].count(), 120);
  EXPECT_GE(delays[1].count(), 160);
  EXPECT_LE(delays[1].count(), 240);
  EXPECT_GE(delays[2].count(), 320);
  EXPECT_LE(delays[2].count(), 480);
}

TEST(OtlpExporterTest, DoesNotRetryOtherErrors) {
  ScriptedOtlpServer server({{400, ""}, {200, ""}});
  TracerProvider provider({});
  auto spans = MakeSpans(provider);
  OtlpHttpExporterOptions o;
  o.url = server.url();
  OtlpHttpExporter exporter(o);
  EXPECT_EQ(exporter.Export(spans), ExportResult::kFailure);
  EXPECT_EQ(server.received().size(), 1u);
  EXPECT_EQ(exporter.failed_exports(), 1u);
  EXPECT_NE(exporter.last_error().find("HTTP 400"), std::string::npos);
}

TEST(OtlpExporterTest, GivesUpWhenRetryAfterPassesTheExportTimeout) {
  ScriptedOtlpServer server({{503, "30"}, {200, ""}});
  TracerProvider provider({});
  auto spans = MakeSpans(provider);
  OtlpHttpExporterOptions o;
  o.url = server.url();
  o.timeout = std::chrono::milliseconds(2000);
  OtlpHttpExporter exporter(o);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(exporter.Export(spans), ExportResult::kFailure);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
  EXPECT_EQ(server.received().size(), 1u);
}

TEST(OtlpExporterTest, ConnectionRefusedIsRetriedThenFails) {
  OtlpHttpExporterOptions o;
  o.url = "http://127.0.0.1:1/v1/traces";
  o.initial_backoff = std::chrono::milliseconds(10);
  o.max_attempts = 3;
  OtlpHttpExporter exporter(o);
  TracerProvider provider({});
  auto spans = MakeSpans(provider);
  EXPECT_EQ(exporter.Export(spans), ExportResult::kFailure);
  EXPECT_EQ(exporter.requests_sent(), 3u);
  EXPECT_NE(exporter.last_error().find("no response"), std::string::npos);
}

TEST(OtlpExporterTest, GzipAndHeadersFromTheEnvironment) {
  ScriptedOtlpServer server({});
  const std::string base = server.url().substr(0, server.url().size() - strlen("/v1/traces"));
  setenv("OTEL_EXPORTER_OTLP_ENDPOINT", base.c_str(), 1);
  setenv("OTEL_EXPORTER_OTLP_HEADERS", " x-honeycomb-team = abc%20def ,X-Dataset=cruddur", 1);
  setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip", 1);
  OtlpHttpExporterOptions o = OtlpHttpExporterOptions::FromEnvironment();
  unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
  unsetenv("OTEL_EXPORTER_OTLP_HEADERS");
  unsetenv("OTEL_EXPORTER_OTLP_COMPRESSION");
  EXPECT_EQ(o.url, server.url());
  EXPECT_TRUE(o.gzip);
  OtlpHttpExporter exporter(o);
  TracerProvider provider({});
  auto spans = MakeSpans(provider);
  ASSERT_EQ(exporter.Export(spans), ExportResult::kSuccess);
  auto received = server.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].headers.find("Content-Encoding")->second, "gzip");
  EXPECT_EQ(received[0].headers.find("x-honeycomb-team")->second, "abc def");
  EXPECT_EQ(received[0].headers.find("x-dataset")->second, "cruddur");
  // httplib inflates gzip request bodies; the result must be the protobuf request.
  otlp::collector::trace::v1::ExportTraceServiceRequest req;
  ASSERT_TRUE(req.ParseFromString(received[0].body));
  EXPECT_EQ(req.resource_spans(0).scope_spans(0).spans_size(), 2);
}

TEST(OtlpConfigTest, EndpointVariablesResolveAsTheSpecSays) {
  EXPECT_EQ(ResolveOtlpTracesUrl("", ""), "http://localhost:4318/v1/traces");
  EXPECT_EQ(ResolveOtlpTracesUrl("https://api.honeycomb.io", ""),
            "https://api.honeycomb.io/v1/traces");
  EXPECT_EQ(ResolveOtlpTracesUrl("http://collector:4318/mycollector/", ""),
            "http://collector:4318/mycollector/v1/traces");
  EXPECT_EQ(ResolveOtlpTracesUrl("http://a:4318", "http://b:4318/custom/path"),
            "http://b:4318/custom/path");
  EXPECT_EQ(ResolveOtlpTracesUrl("", "http://b:4318"), "http://b:4318/");
}

TEST(OtlpConfigTest, RetryAfterAcceptsSecondsAndHttpDates) {
  EXPECT_EQ(ParseRetryAfter("7"), std::chrono::seconds(7));
  EXPECT_LT(ParseRetryAfter("").count(), 0);
  EXPECT_LT(ParseRetryAfter("soon").count(), 0);
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"), std::chrono::milliseconds(0));
  auto future = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() +
                                                     std::chrono::seconds(100));
  char buf[64];
  std::tm tm{};
  gmtime_r(&future, &tm);
  std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  auto d = ParseRetryAfter(buf);
  EXPECT_GT(d, std::chrono::seconds(95));
  EXPECT_LE(d, std::chrono::seconds(100));
}

}  // namespace
}  // namespace ariadne::sdk
