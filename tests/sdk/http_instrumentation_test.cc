#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

#include "ariadne/sdk/http.h"
#include "ariadne/sdk/httplib.h"
#include "ariadne/sdk/tracer.h"

namespace ariadne::sdk {
namespace {

// One instrumented service: its own provider (in-memory exporter), propagator and httplib server.
struct Service {
  std::unique_ptr<TracerProvider> provider;
  InMemorySpanExporter* exporter;
  std::unique_ptr<TextMapPropagator> propagator;
  std::unique_ptr<HttpServerTracer> server_tracer;
  std::unique_ptr<HttpClientTracer> client_tracer;
  httplib::Server server;
  int port = 0;
  std::thread thread;

  Service(std::string name, bool xray, std::unique_ptr<Sampler> sampler = nullptr) {
    TracerProviderOptions po;
    po.resource = Resource({OwnedAttribute("service.name", name)});
    po.sampler = std::move(sampler);
    provider = std::make_unique<TracerProvider>(std::move(po));
    auto e = std::make_unique<InMemorySpanExporter>();
    exporter = e.get();
    provider->AddSpanProcessor(std::make_unique<SimpleSpanProcessor>(std::move(e)));
    propagator = MakePropagator(xray ? "tracecontext,xray" : "tracecontext");
    HttpServerTracerOptions o;
    o.tracer = &provider->GetTracer("http");
    o.propagator = propagator.get();
    o.xray = xray;
    o.xray_naming_pattern = "*.gitpod.io*";
    o.xray_default_name = name;
    server_tracer = std::make_unique<HttpServerTracer>(o);
    client_tracer = std::make_unique<HttpClientTracer>(o.tracer, propagator.get());
    server.set_tcp_nodelay(true);
  }
  void Start() {
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~Service() {
    server.stop();
    if (thread.joinable()) thread.join();
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port); }
};

TEST(HttpInstrumentationTest, ServerSpanPerRequestNamedAfterTheRouteWithSemconvAttributes) {
  Service svc("backend-flask", false);
  TracedRoutes routes(svc.server, *svc.server_tracer);
  routes.Get("/api/activities/@{handle}", [](const httplib::Request& req, httplib::Response& res) {
    ASSERT_NE(CurrentSpan(), nullptr);
    CurrentSpan()->SetAttribute("app.handle", req.matches[1].str());
    res.set_content("[]", "application/json");
  });
  routes.Post("/api/activities/{uuid}/reply",
              [](const httplib::Request&, httplib::Response& res) { res.status = 500; });
  svc.Start();
  httplib::Client client("127.0.0.1", svc.port);
  httplib::Headers h = {{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
                        {"User-Agent", "test-agent"}};
  auto r = client.Get("/api/activities/@andrewbrown?x=1", h);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = client.Post("/api/activities/abc-123/reply", "{}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  r = client.Get("/api/unknown");
  EXPECT_EQ(r->status, 404);

  auto spans = svc.exporter->Take();
  ASSERT_EQ(spans.size(), 2u);
  const SpanData& get = *spans[0];
  EXPECT_EQ(get.name(), "/api/activities/@{handle}");
  EXPECT_EQ(get.kind(), SpanKind::kServer);
  EXPECT_EQ(get.context().trace_id.ToHex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(get.parent_span_id().ToHex(), "00f067aa0ba902b7");
  EXPECT_TRUE(get.parent_is_remote());
  EXPECT_EQ(get.FindAttribute("http.method")->string_value(), "GET");
  EXPECT_EQ(get.FindAttribute("http.route")->string_value(), "/api/activities/@{handle}");
  EXPECT_EQ(get.FindAttribute("http.target")->string_value(), "/api/activities/@andrewbrown?x=1");
  EXPECT_EQ(get.FindAttribute("http.status_code")->int_value(), 200);
  EXPECT_EQ(get.FindAttribute("net.host.name")->string_value(), "127.0.0.1");
  EXPECT_EQ(get.FindAttribute("net.host.port")->int_value(), svc.port);
  EXPECT_EQ(get.FindAttribute("user_agent.original")->string_value(), "test-agent");
  EXPECT_EQ(get.FindAttribute("app.handle")->string_value(), "andrewbrown");
  EXPECT_EQ(get.status(), StatusCode::kUnset);
  const SpanData& post = *spans[1];
  EXPECT_EQ(post.name(), "/api/activities/{uuid}/reply");
  EXPECT_FALSE(post.parent_span_id().IsValid());
  EXPECT_EQ(post.status(), StatusCode::kError);
  EXPECT_EQ(post.FindAttribute("http.status_code")->int_value(), 500);
}

TEST(HttpInstrumentationTest, XRayModeNamesSegmentsDynamicallyAndAnswersTheSamplingDecision) {
  Service svc("backend-flask", true);
  TracedRoutes routes(svc.server, *svc.server_tracer);
  routes.Get("/api/activities/home", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("[]", "application/json");
  });
  svc.Start();
  httplib::Client client("127.0.0.1", svc.port);
  auto r = client.Get("/api/activities/home",
                      {{"X-Amzn-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=?"},
                       {"Host", "4567-abc.gitpod.io"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get_header_value("X-Amzn-Trace-Id"),
            "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1");
  r = client.Get("/api/activities/home",
                 {{"X-Amzn-Trace-Id",
                   "Root=1-5759e988-bd862e3fe1be46a994272794;Parent=53995c3f42cd8ad8;Sampled=0"}});
  ASSERT_TRUE(r);
  // Not requested with `?`: only the Root comes back.
  EXPECT_EQ(r->get_header_value("X-Amzn-Trace-Id"), "Root=1-5759e988-bd862e3fe1be46a994272794");
  auto spans = svc.exporter->Take();
  ASSERT_EQ(spans.size(), 1u);  // Sampled=0 was obeyed
  EXPECT_EQ(spans[0]->FindAttribute("aws.xray.segment_name")->string_value(), "4567-abc.gitpod.io");
  EXPECT_EQ(spans[0]->context().trace_id.ToXRay(), "1-5759e988-bd862e3fe1be46a994272793");
  EXPECT_EQ(XRayDynamicName("*.gitpod.io*", "localhost:4567", "backend-flask"), "backend-flask");
}

TEST(HttpInstrumentationTest, ClientWrapperMakesOneTraceAcrossTwoServices) {
  Service downstream("notifications", false);
  TracedRoutes droutes(downstream.server, *downstream.server_tracer);
  droutes.Get("/api/activities/notifications", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("[]", "application/json");
  });
  downstream.Start();

  Service upstream("backend-flask", false);
  TracedRoutes uroutes(upstream.server, *upstream.server_tracer);
  const std::string down_base = downstream.base();
  uroutes.Get("/api/activities/home", [&](const httplib::Request&, httplib::Response& res) {
    httplib::Client c(down_base);
    auto r = TracedGet(c, *upstream.client_tracer, down_base, "/api/activities/notifications");
    res.status = r ? 200 : 502;
  });
  upstream.Start();

  httplib::Client client("127.0.0.1", upstream.port);
  auto r = client.Get("/api/activities/home");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);

  auto up = upstream.exporter->Take();
  auto down = downstream.exporter->Take();
  ASSERT_EQ(up.size(), 2u);
  ASSERT_EQ(down.size(), 1u);
  const SpanData& client_span = *up[0];
  const SpanData& server_up = *up[1];
  const SpanData& server_down = *down[0];
  EXPECT_EQ(client_span.kind(), SpanKind::kClient);
  EXPECT_EQ(client_span.name(), "HTTP GET");
  EXPECT_EQ(client_span.parent_span_id(), server_up.context().span_id);
  EXPECT_EQ(client_span.FindAttribute("http.status_code")->int_value(), 200);
  EXPECT_EQ(client_span.FindAttribute("net.peer.name")->string_value(), "127.0.0.1");
  EXPECT_EQ(server_down.context().trace_id, server_up.context().trace_id);
  EXPECT_EQ(server_down.parent_span_id(), client_span.context().span_id);
  EXPECT_TRUE(server_down.parent_is_remote());
}

TEST(HttpInstrumentationTest, RouteTemplatesBecomeRegexes) {
  EXPECT_EQ(RouteTemplateToRegex("/api/messages/@{handle}"), "/api/messages/@([^/]+)");
  EXPECT_EQ(RouteTemplateToRegex("/a.b/{x}/c"), "/a\\.b/([^/]+)/c");
}

}  // namespace
}  // namespace ariadne::sdk
