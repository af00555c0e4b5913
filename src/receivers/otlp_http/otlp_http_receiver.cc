#include "receivers/otlp_http/otlp_http_receiver.h"

#include <utility>

#include "receivers/compression.h"
#include "receivers/otlp/otlp_codec.h"

namespace ariadne::receivers::otlp_http {
namespace {

constexpr std::string_view kTracesPath = "/v1/traces";

enum class Encoding { kProtobuf, kJson };

struct MediaType {
  Encoding encoding;
  std::string content_type;  // echoed on the answer, without parameters
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<MediaType> ParseContentType(std::optional<std::string_view> header) {
  if (!header) return std::nullopt;
  std::string_view type = Trim(header->substr(0, header->find(';')));
  if (net::EqualsIgnoreCase(type, "application/x-protobuf") ||
      net::EqualsIgnoreCase(type, "application/protobuf")) {
    return MediaType{Encoding::kProtobuf, std::string(type)};
  }
  if (net::EqualsIgnoreCase(type, "application/json")) {
    return MediaType{Encoding::kJson, "application/json"};
  }
  return std::nullopt;
}

// google.rpc.Status code for an HTTP status we send.
int32_t RpcCodeFor(int http_status) {
  switch (http_status) {
    case 400:
      return static_cast<int32_t>(StatusCode::kInvalidArgument);
    case 401:
      return static_cast<int32_t>(StatusCode::kUnauthenticated);
    case 404:
      return static_cast<int32_t>(StatusCode::kNotFound);
    case 405:
      return static_cast<int32_t>(StatusCode::kUnimplemented);
    case 413:
      return static_cast<int32_t>(StatusCode::kResourceExhausted);
    case 415:
      return static_cast<int32_t>(StatusCode::kUnimplemented);
    case 503:
      return static_cast<int32_t>(StatusCode::kUnavailable);
    default:
      return static_cast<int32_t>(StatusCode::kInternal);
  }
}

net::HttpResponse ErrorResponse(int http_status, const MediaType& media, std::string message) {
  int32_t code = RpcCodeFor(http_status);
  if (media.encoding == Encoding::kProtobuf) {
    return net::HttpResponse(http_status, media.content_type,
                             otlp::EncodeProtobufStatus(code, message));
  }
  return net::HttpResponse(http_status, "application/json", otlp::EncodeJsonStatus(code, message));
}

// The checks that need no body (route, method, Content-Type, key): an answer when the request is
// refused; otherwise the key's environment goes to `environment`.
std::optional<net::HttpResponse> Screen(const net::HttpRequest& request,
                                        const pipeline::KeyRegistry& keys,
                                        std::string* environment) {
  const MediaType json_media{Encoding::kJson, "application/json"};
  if (request.path != kTracesPath) {
    return ErrorResponse(404, json_media,
                         "no such endpoint: " + request.path +
                             " (this port accepts OTLP traces at POST /v1/traces and Honeycomb "
                             "events at POST /1/events/DATASET and /1/batch/DATASET)");
  }
  if (request.method != "POST") {
    auto response = ErrorResponse(
        405, json_media, "method " + request.method + " not allowed on /v1/traces; use POST");
    response.SetHeader("Allow", "POST, OPTIONS");
    return response;
  }
  std::optional<MediaType> media = ParseContentType(request.Header("content-type"));
  if (!media) {
    return ErrorResponse(415, json_media,
                         "unsupported Content-Type '" +
                             std::string(request.Header("content-type").value_or("")) +
                             "': send application/x-protobuf or application/json");
  }
  Result<std::string> key_environment =
      keys.Authenticate(request.Header("x-honeycomb-team"), request.Header("authorization"));
  if (!key_environment.ok()) {
    return ErrorResponse(401, *media, std::string(key_environment.status().message()));
  }
  *environment = std::move(key_environment).value();
  return std::nullopt;
}

}  // namespace

OtlpHttpReceiver::OtlpHttpReceiver(pipeline::Pipeline* pipeline, const pipeline::KeyRegistry* keys,
                                   OtlpHttpOptions options)
    : pipeline_(pipeline), keys_(keys), options_(std::move(options)) {}

std::string OtlpHttpReceiver::AllowedOrigin(const net::HttpRequest& request) const {
  std::optional<std::string_view> origin = request.Header("origin");
  if (!origin || origin->empty()) return "";
  for (const std::string& allowed : options_.cors_origins) {
    if (allowed == "*") return "*";
    if (net::EqualsIgnoreCase(allowed, *origin)) return std::string(*origin);
  }
  return "";
}

void OtlpHttpReceiver::AddCors(const net::HttpRequest& request, net::HttpResponse& response) const {
  std::string allowed = AllowedOrigin(request);
  if (allowed.empty()) return;
  response.SetHeader("Access-Control-Allow-Origin", allowed);
  response.SetHeader("Vary", "Origin");
}

net::HttpHandler OtlpHttpReceiver::AsHandler() {
  return [this](net::HttpRequest&& request, net::Responder respond) {
    Handle(std::move(request), std::move(respond));
  };
}

net::HeaderCheck OtlpHttpReceiver::AsHeaderCheck() {
  return [this](const net::HttpRequest& request) -> std::optional<net::HttpResponse> {
    if (request.method == "OPTIONS") return std::nullopt;
    std::string environment;
    std::optional<net::HttpResponse> rejected = Screen(request, *keys_, &environment);
    if (rejected) {
      AddCors(request, *rejected);
      pipeline_->metrics().RecordRequest(options_.receiver_name, rejected->status);
    }
    return rejected;
  };
}

void OtlpHttpReceiver::Handle(net::HttpRequest&& request, net::Responder respond) {
  pipeline::IngestMetrics* metrics = &pipeline_->metrics();
  const std::string origin = AllowedOrigin(request);
  // Every answer goes through here: CORS header, request counter.
  auto send = [metrics, origin, respond = std::move(respond),
               name = options_.receiver_name](net::HttpResponse response) {
    if (!origin.empty()) {
      response.SetHeader("Access-Control-Allow-Origin", origin);
      response.SetHeader("Vary", "Origin");
    }
    metrics->RecordRequest(name, response.status);
    respond(std::move(response));
  };

  if (request.method == "OPTIONS") {
    net::HttpResponse response(204, "", "");
    response.SetHeader("Access-Control-Allow-Methods", "POST, OPTIONS");
    std::string allow_headers =
        "content-type, content-encoding, x-honeycomb-team, x-honeycomb-dataset, authorization";
    if (auto requested = request.Header("access-control-request-headers")) {
      allow_headers = std::string(*requested);
    }
    response.SetHeader("Access-Control-Allow-Headers", allow_headers);
    response.SetHeader("Access-Control-Max-Age", "86400");
    AddCors(request, response);
    send(std::move(response));
    return;
  }
  std::string environment;
  if (std::optional<net::HttpResponse> rejected = Screen(request, *keys_, &environment)) {
    send(std::move(*rejected));
    return;
  }
  const std::optional<MediaType> media = ParseContentType(request.Header("content-type"));
  RequestBody decoded_body = DecodeRequestBody(request.Header("content-encoding"), request.body,
                                               options_.max_decompressed_bytes);
  if (!decoded_body.bytes) {
    send(ErrorResponse(decoded_body.error_status, *media, std::move(decoded_body.error)));
    return;
  }
  std::shared_ptr<const std::string> body = std::move(decoded_body.bytes);

  Result<otlp::DecodedRequest> decoded = media->encoding == Encoding::kProtobuf
                                             ? otlp::DecodeProtobufRequest(body)
                                             : otlp::DecodeJsonRequest(*body);
  if (!decoded.ok()) {
    send(ErrorResponse(
        400, *media,
        "failed to parse OTLP request body: " + std::string(decoded.status().message())));
    return;
  }
  otlp::DecodedRequest& request_data = decoded.value();
  // The raw body and any decompressed copy stay alive until the answer.
  const size_t request_bytes = request.body->size() + (body != request.body ? body->size() : 0);
  metrics->AddInvalidUtf8(request_data.invalid_utf8_replaced);
  pipeline_->Submit(
      std::move(environment), std::move(request_data.batch), request_data.rejected_spans,
      std::move(request_data.rejection_message),
      [send = std::move(send), media = *media,
       retry_after = options_.retry_after_seconds](pipeline::SubmitResult result) mutable {
        if (result.status.ok()) {
          std::string body =
              media.encoding == Encoding::kProtobuf
                  ? otlp::EncodeProtobufResponse(result.rejected_spans, result.message)
                  : otlp::EncodeJsonResponse(result.rejected_spans, result.message);
          send(net::HttpResponse(200, media.content_type, std::move(body)));
          return;
        }
        if (pipeline::IsRetryable(result.status)) {
          auto response =
              ErrorResponse(503, media,
                            "the span store cannot take more data right now, retry later: " +
                                std::string(result.status.message()));
          response.SetHeader("Retry-After", std::to_string(retry_after));
          send(std::move(response));
          return;
        }
        int http_status = result.status.code() == StatusCode::kInvalidArgument ? 400 : 500;
        send(ErrorResponse(http_status, media,
                           "storing spans failed: " + std::string(result.status.message())));
      },
      request_bytes);
}

}  // namespace ariadne::receivers::otlp_http
