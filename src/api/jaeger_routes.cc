#include "api/jaeger_routes.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>

#include "api/jaeger_model.h"

namespace ariadne::api {
namespace {

constexpr std::string_view kServices = "/api/services";
constexpr std::string_view kOperations = "/api/operations";
constexpr std::string_view kTraces = "/api/traces";
constexpr std::string_view kDependencies = "/api/dependencies";

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

std::string_view TrimSlash(std::string_view path) {
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path;
}

bool IsJaegerPath(std::string_view path) {
  path = TrimSlash(path);
  if (path == kServices || path == kOperations || path == kTraces || path == kDependencies) {
    return true;
  }
  if (StartsWith(path, std::string(kTraces) + "/")) {
    return path.find('/', kTraces.size() + 1) == std::string_view::npos;
  }
  if (StartsWith(path, std::string(kServices) + "/")) {
    // /api/services/{service}/operations
    std::string_view rest = path.substr(kServices.size() + 1);
    const size_t slash = rest.find('/');
    return slash != std::string_view::npos && slash > 0 && rest.substr(slash) == "/operations";
  }
  return false;
}

net::HttpResponse Envelope(int status, std::string body) {
  return net::HttpResponse(status, "application/json", std::move(body));
}

net::HttpResponse Failure(const Status& status) {
  int http_status = 500;
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      http_status = 400;
      break;
    case StatusCode::kNotFound:
      http_status = 404;
      break;
    case StatusCode::kResourceExhausted:
      http_status = 422;
      break;
    case StatusCode::kCancelled:
    case StatusCode::kUnavailable:
      http_status = 503;
      break;
    default:
      break;
  }
  return Envelope(http_status, jaeger::ErrorEnvelope(http_status, status.message()));
}

}  // namespace

JaegerRoutes::JaegerRoutes(store::SpanStore* store, JaegerRoutesOptions options,
                           std::function<uint64_t()> clock)
    : query_(store, std::move(clock)),
      options_(options),
      workers_(std::make_unique<net::HandlerPool>(std::max<size_t>(1, options.threads),
                                                  options.max_queued)) {}

bool JaegerRoutes::Handle(net::HttpRequest& request, net::Responder& respond) {
  if (!IsJaegerPath(request.path)) return false;
  if (request.method != "GET") {
    net::HttpResponse response =
        Envelope(405, jaeger::ErrorEnvelope(405, "method " + request.method + " not allowed on " +
                                                     request.path + "; use GET"));
    response.SetHeader("Allow", "GET");
    respond(std::move(response));
    return true;
  }
  CancelFlagPtr cancel = request.cancel;
  workers_->Run(
      std::move(cancel), std::move(respond),
      [this, request = std::move(request)] { return Run(request); },
      [] {
        net::HttpResponse busy =
            Envelope(503, jaeger::ErrorEnvelope(503, "too many reads are running; retry shortly"));
        busy.SetHeader("Retry-After", "1");
        return busy;
      });
  return true;
}

net::HttpHandler JaegerRoutes::Wrap(net::HttpHandler inner) {
  return [this, inner = std::move(inner)](net::HttpRequest&& request, net::Responder respond) {
    if (Handle(request, respond)) return;
    inner(std::move(request), std::move(respond));
  };
}

net::HttpResponse JaegerRoutes::Run(const net::HttpRequest& request) const {
  const std::string_view path = TrimSlash(request.path);
  const std::string environment(request.QueryParam("environment").value_or(""));
  const query::ExecContext context{options_.limits, request.cancel};
  Result<jaeger::Answer> answer = [&]() -> Result<jaeger::Answer> {
    if (path == kServices) return query_.Services(environment);
    if (path == kOperations) {
      return query_.Operations(request.QueryParam("service").value_or(""),
                               request.QueryParam("spanKind").value_or(""), environment, context);
    }
    if (path == kTraces) return query_.FindTraces(request.query, environment, context);
    if (path == kDependencies) return query_.Dependencies(request.query, environment);
    if (StartsWith(path, std::string(kTraces) + "/")) {
      return query_.GetTrace(net::PercentDecode(path.substr(kTraces.size() + 1), false),
                             environment);
    }
    // /api/services/{service}/operations
    std::string_view rest = path.substr(kServices.size() + 1);
    return query_.OperationNames(net::PercentDecode(rest.substr(0, rest.find('/')), false),
                                 environment, context);
  }();
  if (!answer.ok()) return Failure(answer.status());
  return Envelope(200, jaeger::Envelope(answer->data_json, answer->total, answer->errors));
}

}  // namespace ariadne::api
