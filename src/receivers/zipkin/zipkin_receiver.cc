#include "receivers/zipkin/zipkin_receiver.h"

#include <memory>
#include <optional>
#include <utility>

#include "receivers/compression.h"
#include "receivers/zipkin/zipkin_decoder.h"

namespace ariadne::receivers::zipkin {
namespace {

constexpr std::string_view kSpansPath = "/api/v2/spans";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Zipkin answers errors with a plain-text message.
net::HttpResponse TextResponse(int status, std::string message) {
  if (!message.empty() && message.back() != '\n') message.push_back('\n');
  return net::HttpResponse(status, "text/plain; charset=utf-8", std::move(message));
}

// The Content-Type without parameters ("" when missing).
std::string_view MediaType(const net::HttpRequest& request) {
  std::string_view type = request.Header("content-type").value_or("");
  return Trim(type.substr(0, type.find(';')));
}

// zipkin.proto3 ListOfSpans; everything else (JSON, a missing or unknown type) is read as JSON.
bool IsProtobuf(std::string_view type) {
  return net::EqualsIgnoreCase(type, "application/x-protobuf") ||
         net::EqualsIgnoreCase(type, "application/protobuf");
}

// The checks that need no body (route, method, Content-Type, key): an answer when the request is
// refused; otherwise the key's environment goes to `environment`.
std::optional<net::HttpResponse> Screen(const net::HttpRequest& request,
                                        const pipeline::KeyRegistry& keys,
                                        std::string* environment) {
  std::string_view path = request.path;
  if (path.size() > kSpansPath.size() && path.back() == '/') path.remove_suffix(1);
  if (path != kSpansPath) {
    if (path == "/api/v1/spans") {
      return TextResponse(404,
                          "Zipkin v1 (/api/v1/spans) is not supported: send Zipkin v2 JSON to "
                          "POST /api/v2/spans");
    }
    return TextResponse(404, "no such endpoint: " + request.path +
                                 " (this port accepts Zipkin v2 spans at POST /api/v2/spans only)");
  }
  if (request.method != "POST") {
    auto response =
        TextResponse(405, "method " + request.method + " not allowed on /api/v2/spans; use POST");
    response.SetHeader("Allow", "POST");
    return response;
  }
  const std::string_view type = MediaType(request);
  if (net::EqualsIgnoreCase(type, "application/x-thrift")) {
    return TextResponse(415, "Content-Type " + std::string(type) +
                                 " is not supported: send Zipkin v2 JSON (application/json) or "
                                 "protobuf (application/x-protobuf, zipkin.proto3 ListOfSpans)");
  }
  Result<std::string> key_environment =
      keys.Authenticate(request.Header("x-honeycomb-team"), request.Header("authorization"));
  if (!key_environment.ok()) {
    return TextResponse(401, std::string(key_environment.status().message()));
  }
  *environment = std::move(key_environment).value();
  return std::nullopt;
}

}  // namespace

ZipkinReceiver::ZipkinReceiver(pipeline::Pipeline* pipeline, const pipeline::KeyRegistry* keys,
                               ZipkinReceiverOptions options)
    : pipeline_(pipeline), keys_(keys), options_(std::move(options)) {}

net::HttpHandler ZipkinReceiver::AsHandler() {
  return [this](net::HttpRequest&& request, net::Responder respond) {
    Handle(std::move(request), std::move(respond));
  };
}

net::HeaderCheck ZipkinReceiver::AsHeaderCheck() {
  return [this](const net::HttpRequest& request) -> std::optional<net::HttpResponse> {
    std::string environment;
    std::optional<net::HttpResponse> rejected = Screen(request, *keys_, &environment);
    if (rejected) pipeline_->metrics().RecordRequest(options_.receiver_name, rejected->status);
    return rejected;
  };
}

void ZipkinReceiver::Handle(net::HttpRequest&& request, net::Responder respond) {
  pipeline::IngestMetrics* metrics = &pipeline_->metrics();
  auto send = [metrics, respond = std::move(respond),
               name = options_.receiver_name](net::HttpResponse response) {
    metrics->RecordRequest(name, response.status);
    respond(std::move(response));
  };
  std::string environment;
  if (std::optional<net::HttpResponse> rejected = Screen(request, *keys_, &environment)) {
    send(std::move(*rejected));
    return;
  }
  RequestBody decoded_body = DecodeRequestBody(request.Header("content-encoding"), request.body,
                                               options_.max_decompressed_bytes);
  if (!decoded_body.bytes) {
    send(TextResponse(decoded_body.error_status, std::move(decoded_body.error)));
    return;
  }
  std::shared_ptr<const std::string> body = std::move(decoded_body.bytes);

  Result<DecodedSpans> decoded =
      IsProtobuf(MediaType(request)) ? DecodeZipkinProto3(*body) : DecodeZipkinJson(*body);
  if (!decoded.ok()) {
    send(TextResponse(400,
                      "cannot read the Zipkin spans: " + std::string(decoded.status().message())));
    return;
  }
  DecodedSpans& spans = decoded.value();
  const size_t request_bytes = request.body->size() + (body != request.body ? body->size() : 0);
  metrics->AddInvalidUtf8(spans.invalid_utf8_replaced);
  pipeline_->Submit(
      std::move(environment), std::move(spans.batch), spans.rejected_spans,
      std::move(spans.rejection_message),
      [send = std::move(send),
       retry_after = options_.retry_after_seconds](pipeline::SubmitResult result) mutable {
        if (result.status.ok()) {
          if (result.rejected_spans == 0) {
            send(net::HttpResponse(202, "", ""));
          } else if (result.accepted_spans == 0) {
            send(TextResponse(400, "no span was stored: " + result.message));
          } else {
            send(TextResponse(
                202, std::to_string(result.accepted_spans) + " spans stored; " + result.message));
          }
          return;
        }
        if (pipeline::IsRetryable(result.status)) {
          auto response =
              TextResponse(503, "the span store cannot take more data right now, retry later: " +
                                    std::string(result.status.message()));
          response.SetHeader("Retry-After", std::to_string(retry_after));
          send(std::move(response));
          return;
        }
        int http_status = result.status.code() == StatusCode::kInvalidArgument ? 400 : 500;
        send(TextResponse(http_status,
                          "storing spans failed: " + std::string(result.status.message())));
      },
      request_bytes);
}

}  // namespace ariadne::receivers::zipkin
