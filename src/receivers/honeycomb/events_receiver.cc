#include "receivers/honeycomb/events_receiver.h"

#include <chrono>
#include <memory>
#include <utility>
#include <vector>

#include "common/json_writer.h"
#include "receivers/compression.h"
#include "receivers/honeycomb/event_decoder.h"
#include "receivers/honeycomb/event_time.h"

namespace ariadne::receivers::honeycomb {
namespace {

constexpr std::string_view kEventsPrefix = "/1/events/";
constexpr std::string_view kBatchPrefix = "/1/batch/";
constexpr std::string_view kAuthPath = "/1/auth";

enum class Route { kEvents, kBatch, kAuth, kUnknown };

struct Target {
  Route route = Route::kUnknown;
  std::string dataset;  // percent-decoded
  std::string problem;  // why the path is not a route, for the 404
};

Target ParseTarget(const std::string& path) {
  Target target;
  if (path == kAuthPath) {
    target.route = Route::kAuth;
    return target;
  }
  std::string_view rest;
  if (path.rfind(kEventsPrefix, 0) == 0) {
    target.route = Route::kEvents;
    rest = std::string_view(path).substr(kEventsPrefix.size());
  } else if (path.rfind(kBatchPrefix, 0) == 0) {
    target.route = Route::kBatch;
    rest = std::string_view(path).substr(kBatchPrefix.size());
  } else {
    target.problem = "no such endpoint: " + path +
                     " (the Honeycomb Events API here is POST /1/events/DATASET, "
                     "POST /1/batch/DATASET and GET /1/auth)";
    return target;
  }
  target.dataset = net::PercentDecode(rest, /*plus_is_space=*/false);
  if (target.dataset.empty() || target.dataset.find('/') != std::string::npos) {
    target.route = Route::kUnknown;
    target.problem = "missing or invalid dataset in " + path +
                     ": use POST /1/events/DATASET or /1/batch/DATASET (one path segment)";
  }
  return target;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// JSON, or what curl and other plain clients send for a JSON body.
bool IsJsonContentType(std::optional<std::string_view> header) {
  if (!header) return true;
  std::string_view type = Trim(header->substr(0, header->find(';')));
  return type.empty() || net::EqualsIgnoreCase(type, "application/json") ||
         net::EqualsIgnoreCase(type, "text/plain") ||
         net::EqualsIgnoreCase(type, "application/x-www-form-urlencoded");
}

std::string ErrorJson(std::string_view message) {
  std::string body = "{\"error\":";
  AppendJsonString(body, message);
  body += "}";
  return body;
}

net::HttpResponse Error(int status, std::string_view message) {
  return net::HttpResponse(status, "application/json", ErrorJson(message));
}

uint64_t NowNanos() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::string BatchAnswer(const std::vector<EventOutcome>& outcomes) {
  std::string body;
  JsonWriter w(&body);
  w.BeginArray();
  for (const EventOutcome& outcome : outcomes) {
    w.BeginObject();
    w.Key("status");
    w.Int(outcome.status);
    if (!outcome.error.empty()) w.Member("error", outcome.error);
    w.EndObject();
  }
  w.EndArray();
  return body;
}

}  // namespace

EventsReceiver::EventsReceiver(pipeline::Pipeline* pipeline, const pipeline::KeyRegistry* keys,
                               EventsOptions options)
    : pipeline_(pipeline), keys_(keys), options_(std::move(options)) {}

bool EventsReceiver::Owns(const net::HttpRequest& request) {
  return request.path.rfind("/1/", 0) == 0;
}

net::HttpHandler EventsReceiver::Mount(net::HttpHandler other) {
  return [this, other = std::move(other)](net::HttpRequest&& request, net::Responder respond) {
    if (Owns(request)) return Handle(std::move(request), std::move(respond));
    other(std::move(request), std::move(respond));
  };
}

net::HeaderCheck EventsReceiver::MountHeaderCheck(net::HeaderCheck other) {
  return [this, other = std::move(other)](
             const net::HttpRequest& request) -> std::optional<net::HttpResponse> {
    if (!Owns(request)) return other ? other(request) : std::nullopt;
    std::string environment;
    std::optional<net::HttpResponse> rejected = ScreenHeaders(request, &environment);
    if (rejected) pipeline_->metrics().RecordRequest(options_.receiver_name, rejected->status);
    return rejected;
  };
}

std::optional<net::HttpResponse> EventsReceiver::ScreenHeaders(const net::HttpRequest& request,
                                                               std::string* environment) const {
  const Target target = ParseTarget(request.path);
  if (target.route == Route::kUnknown) return Error(404, target.problem);
  const std::string_view method = target.route == Route::kAuth ? "GET" : "POST";
  if (request.method != method) {
    auto response = Error(405, "method " + request.method + " not allowed on " + request.path +
                                   "; use " + std::string(method));
    response.SetHeader("Allow", std::string(method));
    return response;
  }
  if (target.route == Route::kAuth) return std::nullopt;  // answered by Auth()
  if (!IsJsonContentType(request.Header("content-type"))) {
    return Error(400, "unsupported Content-Type '" +
                          std::string(request.Header("content-type").value_or("")) +
                          "': send the events as application/json (msgpack is not supported)");
  }
  Result<std::string> key_environment =
      keys_->Authenticate(request.Header("x-honeycomb-team"), request.Header("authorization"));
  if (!key_environment.ok()) return Error(401, key_environment.status().message());
  *environment = std::move(key_environment).value();
  return std::nullopt;
}

net::HttpResponse EventsReceiver::Auth(const net::HttpRequest& request) const {
  bool events = true;
  bool queries = true;
  std::string environment(pipeline::kDefaultEnvironment);
  std::string id;
  if (!keys_->empty()) {
    std::optional<std::string_view> team = request.Header("x-honeycomb-team");
    std::string_view key = team ? Trim(*team) : std::string_view();
    if (key.empty()) key = pipeline::BearerToken(request.Header("authorization"));
    if (key.empty()) {
      return Error(401, "missing 'x-honeycomb-team' header: send your key");
    }
    Result<pipeline::Principal> principal = keys_->Lookup(key);
    if (!principal.ok()) return Error(401, principal.status().message());
    events = principal->role == pipeline::KeyRole::kIngest;
    queries = principal->CanRead();
    environment = principal->environment;
    id = principal->id;
  }
  std::string body;
  JsonWriter w(&body);
  w.BeginObject();
  if (!id.empty()) w.Member("id", id);
  w.Key("api_key_access");
  w.BeginObject();
  for (const char* name : {"events", "create_datasets"}) {
    w.Key(name);
    w.Bool(events);
  }
  w.Key("queries");
  w.Bool(queries);
  for (const char* name : {"markers", "triggers", "boards", "columns", "slos", "recipients"}) {
    w.Key(name);
    w.Bool(false);
  }
  w.EndObject();
  // A key for every environment answers an empty environment, as a Honeycomb Classic key does.
  w.Key("environment");
  w.BeginObject();
  w.Member("name", environment);
  w.Member("slug", environment);
  w.EndObject();
  w.Key("team");
  w.BeginObject();
  w.Member("name", options_.team);
  w.Member("slug", options_.team);
  w.EndObject();
  w.EndObject();
  return net::HttpResponse(200, "application/json", std::move(body));
}

void EventsReceiver::Handle(net::HttpRequest&& request, net::Responder respond) {
  pipeline::IngestMetrics* metrics = &pipeline_->metrics();
  auto send = [metrics, respond = std::move(respond),
               name = options_.receiver_name](net::HttpResponse response) {
    metrics->RecordRequest(name, response.status);
    respond(std::move(response));
  };
  std::string environment;
  if (std::optional<net::HttpResponse> rejected = ScreenHeaders(request, &environment)) {
    send(std::move(*rejected));
    return;
  }
  const Target target = ParseTarget(request.path);
  if (target.route == Route::kAuth) {
    send(Auth(request));
    return;
  }

  RequestBody decoded_body = DecodeRequestBody(request.Header("content-encoding"), request.body,
                                               options_.max_decompressed_bytes);
  if (!decoded_body.bytes) {
    // Honeycomb answers an unknown encoding as a bad request.
    if (decoded_body.error_status == 415) {
      send(Error(400, decoded_body.error + " (use gzip or zstd)"));
    } else {
      send(Error(decoded_body.error_status, std::move(decoded_body.error)));
    }
    return;
  }
  std::shared_ptr<const std::string> body = std::move(decoded_body.bytes);

  EventDefaults defaults;
  defaults.dataset = target.dataset;
  defaults.now_unix_nano = NowNanos();
  std::optional<std::string_view> time_header = request.Header("x-honeycomb-event-time");
  if (!time_header) time_header = request.Header("x-event-time");  // very old libhoney-py
  if (time_header && !Trim(*time_header).empty()) {
    defaults.time_unix_nano = ParseEventTime(*time_header);
    if (!defaults.time_unix_nano) {
      send(Error(400, "X-Honeycomb-Event-Time '" + std::string(*time_header) +
                          "' is not a time: send RFC 3339 (2006-01-02T15:04:05.999Z) or Unix "
                          "seconds"));
      return;
    }
  }
  if (auto rate = request.Header("x-honeycomb-samplerate")) {
    defaults.sample_rate = ParseSampleRate(*rate);
  }

  model::SpanBatch batch;
  uint64_t invalid_utf8 = 0;
  std::vector<EventOutcome> outcomes;
  uint64_t refused = 0;
  std::string refused_message;
  const bool is_batch = target.route == Route::kBatch;
  if (is_batch) {
    Result<std::vector<EventOutcome>> decoded =
        DecodeEventBatch(*body, defaults, &batch, &invalid_utf8);
    if (!decoded.ok()) {
      send(Error(400, decoded.status().message()));
      return;
    }
    outcomes = std::move(decoded).value();
    for (const EventOutcome& outcome : outcomes) {
      if (outcome.status == 202) continue;
      if (refused++ == 0) refused_message = outcome.error;
    }
  } else {
    Status decoded = DecodeSingleEvent(*body, defaults, &batch, &invalid_utf8);
    if (!decoded.ok()) {
      pipeline_->metrics().AddReceived(1);
      pipeline_->metrics().AddRejected(pipeline::RejectReason::kDecode, 1);
      send(Error(400, decoded.message()));
      return;
    }
  }
  metrics->AddInvalidUtf8(invalid_utf8);
  const size_t request_bytes = request.body->size() + (body != request.body ? body->size() : 0);
  const uint64_t decoded_spans = batch.spans.size();
  pipeline_->Submit(
      std::move(environment), std::move(batch), refused, std::move(refused_message),
      [send = std::move(send), is_batch, outcomes = std::move(outcomes), refused, decoded_spans,
       retry_after = options_.retry_after_seconds](pipeline::SubmitResult result) mutable {
        if (!result.status.ok()) {
          if (pipeline::IsRetryable(result.status)) {
            auto response = Error(503,
                                  "the span store cannot take more data right now; retry "
                                  "the whole request later: " +
                                      std::string(result.status.message()));
            response.SetHeader("Retry-After", std::to_string(retry_after));
            send(std::move(response));
            return;
          }
          send(Error(result.status.code() == StatusCode::kInvalidArgument ? 400 : 500,
                     "storing the events failed: " + std::string(result.status.message())));
          return;
        }
        // The decoder applies the pipeline's checks itself, so the pipeline refuses nothing it
        // decoded; should it ever, no event is acknowledged that might not be stored.
        const bool pipeline_refused =
            result.accepted_spans != decoded_spans || result.rejected_spans != refused;
        if (!is_batch) {
          if (pipeline_refused) {
            send(Error(400, result.message));
            return;
          }
          send(net::HttpResponse(200, "", ""));
          return;
        }
        if (pipeline_refused) {
          for (EventOutcome& outcome : outcomes) {
            if (outcome.status != 202) continue;
            outcome = EventOutcome{500, "the server could not tell which events it stored (" +
                                            result.message + "); resend this event"};
          }
        }
        send(net::HttpResponse(200, "application/json", BatchAnswer(outcomes)));
      },
      request_bytes);
}

}  // namespace ariadne::receivers::honeycomb
