// cruddur: the Cruddur backend API (AWS Cloud Project Bootcamp's backend-flask) in C++ with mock
// data, instrumented with the Ariadne SDK the way the seed app is instrumented with OpenTelemetry
// and the X-Ray SDK.
//
// Configured only by the seed's environment variables:
//   OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT  → OTLP/HTTP, batch processor
//   OTEL_EXPORTER_OTLP_HEADERS (x-honeycomb-team=${HONEYCOMB_API_KEY}), HONEYCOMB_API_KEY
//   OTEL_SERVICE_NAME, else HONEYCOMB_SERVICE_NAME, else "backend-flask"
//   AWS_XRAY_DAEMON_ADDRESS / AWS_XRAY_URL → X-Ray emitter, remote sampler, middleware naming
//
// Flags: --port N (default 4567; 0 picks a free port), --host H (default 0.0.0.0),
//        --upstream URL (the home route also calls URL/api/activities/notifications, showing a
//        trace that crosses two processes), --generate-traffic (calls its own routes every second).
// Prints `listening http HOST:PORT` once bound.
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "ariadne/sdk/http.h"
#include "ariadne/sdk/httplib.h"
#include "ariadne/sdk/otlp_exporter.h"
#include "ariadne/sdk/processor.h"
#include "ariadne/sdk/propagation.h"
#include "ariadne/sdk/tracer.h"
#include "ariadne/sdk/xray_exporter.h"
#include "ariadne/sdk/xray_sampler.h"
#include "services.h"

namespace sdk = ariadne::sdk;

namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

httplib::Server* g_server = nullptr;

void OnSignal(int) {
  if (g_server != nullptr) g_server->stop();
}

void Reply(httplib::Response& res, const nlohmann::json& body, int status = 200) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void ReplyModel(httplib::Response& res, const cruddur::Model& model) {
  if (!model.errors.is_null()) {
    Reply(res, model.errors, 422);
  } else {
    Reply(res, model.data, 200);
  }
}

nlohmann::json ParseBody(const httplib::Request& req) {
  nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
  return body.is_object() ? body : nlohmann::json::object();
}

std::string Field(const nlohmann::json& body, const char* key) {
  auto it = body.find(key);
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

struct Telemetry {
  std::unique_ptr<sdk::TracerProvider> provider;
  std::unique_ptr<sdk::TextMapPropagator> propagator;
  bool otlp = false;
  bool xray = false;
  std::string service_name;
  std::string otlp_url;
};

Telemetry SetUpTelemetry() {
  Telemetry t;
  t.service_name = Env("OTEL_SERVICE_NAME");
  if (t.service_name.empty()) t.service_name = Env("HONEYCOMB_SERVICE_NAME");
  if (t.service_name.empty()) t.service_name = "backend-flask";
  // OTEL_SERVICE_NAME still wins inside FromEnvironment; this only sets the fallback.
  sdk::Resource resource = sdk::Resource::FromEnvironment(
      {sdk::OwnedAttribute("service.name", sdk::AttributeValue(t.service_name))});
  if (Env("OTEL_SERVICE_NAME").empty()) resource.Set("service.name", t.service_name);

  const std::string honeycomb_key = Env("HONEYCOMB_API_KEY");
  t.otlp = !Env("OTEL_EXPORTER_OTLP_ENDPOINT").empty() ||
           !Env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").empty() || !honeycomb_key.empty();
  t.xray = !Env("AWS_XRAY_DAEMON_ADDRESS").empty() || !Env("AWS_XRAY_URL").empty();

  sdk::TracerProviderOptions options;
  options.resource = std::move(resource);
  if (t.xray) {
    sdk::XRaySamplerOptions sampler = sdk::XRaySamplerOptions::FromEnvironment(t.service_name);
    options.sampler =
        sdk::MakeParentBasedSampler(std::make_unique<sdk::XRayRemoteSampler>(sampler));
    options.id_generator = sdk::IdGeneratorKind::kXRay;
  } else {
    options.sampler = sdk::MakeSamplerFromEnvironment();
  }
  t.provider = std::make_unique<sdk::TracerProvider>(std::move(options));

  if (t.otlp) {
    sdk::OtlpHttpExporterOptions otlp = sdk::OtlpHttpExporterOptions::FromEnvironment();
    if (Env("OTEL_EXPORTER_OTLP_ENDPOINT").empty() &&
        Env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").empty()) {
      otlp.url = sdk::ResolveOtlpTracesUrl("https://api.honeycomb.io", "");
    }
    bool has_team = false;
    for (const auto& [k, v] : otlp.headers) has_team = has_team || k == "x-honeycomb-team";
    if (!has_team && !honeycomb_key.empty())
      otlp.headers.emplace_back("x-honeycomb-team", honeycomb_key);
    t.otlp_url = otlp.url;
    t.provider->AddSpanProcessor(std::make_unique<sdk::BatchSpanProcessor>(
        std::make_unique<sdk::OtlpHttpExporter>(std::move(otlp)),
        sdk::BatchSpanProcessorOptions::FromEnvironment()));
  }
  if (t.xray) {
    sdk::BatchSpanProcessorOptions batch = sdk::BatchSpanProcessorOptions::FromEnvironment();
    batch.schedule_delay = std::chrono::milliseconds(1000);  // the daemon flushes every second
    t.provider->AddSpanProcessor(std::make_unique<sdk::BatchSpanProcessor>(
        std::make_unique<sdk::XRayUdpExporter>(sdk::XRayExporterOptions::FromEnvironment()),
        batch));
  }
  const std::string propagators = Env("OTEL_PROPAGATORS");
  t.propagator = sdk::MakePropagator(!propagators.empty() ? propagators
                                     : t.xray             ? "xray,tracecontext"
                                                          : "tracecontext");
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  int port = 4567;
  std::string host = "0.0.0.0";
  std::string upstream;
  bool generate_traffic = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "cruddur: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--port") {
      port = std::atoi(next().c_str());
    } else if (arg == "--host") {
      host = next();
    } else if (arg == "--upstream") {
      upstream = next();
    } else if (arg == "--generate-traffic") {
      generate_traffic = true;
    } else if (arg == "--help" || arg == "-h") {
      std::printf("usage: cruddur [--port N] [--host H] [--upstream URL] [--generate-traffic]\n");
      return 0;
    } else {
      std::fprintf(stderr, "cruddur: unknown argument %s\n", arg.c_str());
      return 2;
    }
  }

  Telemetry telemetry = SetUpTelemetry();
  sdk::Tracer& tracer = telemetry.provider->GetTracer("cruddur", "0.1.0");
  const sdk::Tracer& home_tracer =
      telemetry.provider->GetTracer("services.home_activities", "0.1.0");

  sdk::HttpServerTracerOptions server_options;
  server_options.tracer = &tracer;
  server_options.propagator = telemetry.propagator.get();
  server_options.xray = telemetry.xray;
  server_options.xray_naming_pattern = Env("AWS_XRAY_URL");
  server_options.xray_default_name = telemetry.service_name;
  sdk::HttpServerTracer server_tracer(server_options);
  sdk::HttpClientTracer client_tracer(&tracer, telemetry.propagator.get());

  httplib::Server svr;
  svr.set_tcp_nodelay(true);
  g_server = &svr;
  const std::string frontend = Env("FRONTEND_URL");
  svr.set_post_routing_handler([frontend](const httplib::Request&, httplib::Response& res) {
    res.set_header("Access-Control-Allow-Origin", frontend.empty() ? "*" : frontend);
    res.set_header("Access-Control-Expose-Headers", "location,link");
  });
  svr.Options(".*", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Access-Control-Allow-Headers", "content-type,if-modified-since");
    res.set_header("Access-Control-Allow-Methods", "OPTIONS,GET,HEAD,POST");
    res.status = 204;
  });

  sdk::TracedRoutes routes(svr, server_tracer);
  routes.Get("/api/message_groups", [](const httplib::Request&, httplib::Response& res) {
    Reply(res, cruddur::MessageGroups("andrewbrown"));
  });
  routes.Get("/api/messages/@{handle}", [](const httplib::Request& req, httplib::Response& res) {
    Reply(res, cruddur::Messages("andrewbrown", req.matches[1].str()));
  });
  routes.Post("/api/messages", [](const httplib::Request& req, httplib::Response& res) {
    nlohmann::json body = ParseBody(req);
    ReplyModel(res, cruddur::CreateMessage("andrewbrown", Field(body, "user_receiver_handle"),
                                           Field(body, "message")));
  });
  routes.Get("/api/activities/home", [&](const httplib::Request&, httplib::Response& res) {
    if (!upstream.empty()) {
      httplib::Client client(upstream);
      sdk::TracedGet(client, client_tracer, upstream, "/api/activities/notifications");
    }
    Reply(res, cruddur::HomeActivities(home_tracer));
  });
  routes.Get("/api/activities/notifications", [](const httplib::Request&, httplib::Response& res) {
    Reply(res, cruddur::NotificationsActivities());
  });
  routes.Get("/api/activities/search", [](const httplib::Request& req, httplib::Response& res) {
    ReplyModel(res, cruddur::SearchActivities(req.get_param_value("term")));
  });
  routes.Get("/api/activities/@{handle}", [](const httplib::Request& req, httplib::Response& res) {
    ReplyModel(res, cruddur::UserActivities(req.matches[1].str()));
  });
  routes.Post("/api/activities", [](const httplib::Request& req, httplib::Response& res) {
    nlohmann::json body = ParseBody(req);
    ReplyModel(res,
               cruddur::CreateActivity("andrewbrown", Field(body, "message"), Field(body, "ttl")));
  });
  routes.Post("/api/activities/{activity_uuid}/reply",
              [](const httplib::Request& req, httplib::Response& res) {
                nlohmann::json body = ParseBody(req);
                ReplyModel(res, cruddur::CreateReply("andrewbrown", Field(body, "message"),
                                                     req.matches[1].str()));
              });
  svr.Get("/api/health-check", [](const httplib::Request&, httplib::Response& res) {
    Reply(res, {{"success", true}, {"ver", 1}});
  });

  int bound = port;
  if (port == 0) {
    bound = svr.bind_to_any_port(host);
  } else if (!svr.bind_to_port(host, port)) {
    bound = -1;
  }
  if (bound <= 0) {
    std::fprintf(stderr, "cruddur: cannot listen on %s:%d\n", host.c_str(), port);
    return 1;
  }
  std::printf("listening http %s:%d\n", host == "0.0.0.0" ? "127.0.0.1" : host.c_str(), bound);
  std::printf("tracing: service=%s otlp=%s xray=%s\n", telemetry.service_name.c_str(),
              telemetry.otlp ? telemetry.otlp_url.c_str() : "off", telemetry.xray ? "on" : "off");
  std::fflush(stdout);

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);

  std::atomic<bool> stop_traffic{false};
  std::thread traffic;
  if (generate_traffic) {
    traffic = std::thread([&stop_traffic, bound] {
      httplib::Client client("127.0.0.1", bound);
      const char* paths[] = {"/api/activities/home",         "/api/activities/notifications",
                             "/api/activities/@andrewbrown", "/api/activities/search?term=cloud",
                             "/api/message_groups",          "/api/messages/@worf"};
      size_t n = 0;
      while (!stop_traffic) {
        client.Get(paths[n++ % std::size(paths)]);
        if (n % 6 == 0) {
          client.Post("/api/activities", R"({"message":"Hello from cruddur","ttl":"7-days"})",
                      "application/json");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
      }
    });
  }

  svr.listen_after_bind();
  stop_traffic = true;
  if (traffic.joinable()) traffic.join();
  telemetry.provider->Shutdown(std::chrono::seconds(5));
  return 0;
}
