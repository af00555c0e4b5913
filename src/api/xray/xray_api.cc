#include "api/xray/xray_api.h"

#include <algorithm>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/xray/account_ops.h"
#include "api/xray/control_ops.h"
#include "api/xray/operations.h"
#include "api/xray/read_ops.h"
#include "api/xray/request_fields.h"
#include "api/xray/shapes.h"
#include "api/xray/views.h"
#include "common/json_depth.h"
#include "common/json_dump.h"
#include "common/utf8.h"
#include "receivers/xray/put_segments.h"

namespace ariadne::api::xray {

namespace {

bool IsSamplerPath(const std::string& path) {
  return path == "/GetSamplingRules" || path == "/SamplingTargets";
}

// PutTraceSegments: answers through `respond` once the store acknowledged the good documents.
void PutTraceSegments(pipeline::Pipeline* pipeline, const XrayApiOptions& options, const json& body,
                      uint64_t invalid_utf8_replaced, net::Responder respond) {
  const json* docs = Member(body, "TraceSegmentDocuments");
  if (!docs) Invalid("TraceSegmentDocuments is required");
  if (!docs->is_array()) Invalid("TraceSegmentDocuments must be a list of strings");
  std::vector<std::string_view> documents;
  for (const json& doc : *docs) {
    if (!doc.is_string()) Invalid("TraceSegmentDocuments must be a list of strings");
    documents.push_back(doc.get_ref<const std::string&>());
  }
  receivers::xray::PutTraceSegments(
      pipeline, options.environment, documents, options.clock(), invalid_utf8_replaced,
      [respond = std::move(respond)](receivers::xray::PutSegmentsResult result) {
        if (!result.status.ok()) {
          if (pipeline::IsRetryable(result.status)) {
            respond(XrayError(429, "ThrottledException",
                              "the span store cannot take more data right now, retry later: " +
                                  std::string(result.status.message())));
          } else {
            respond(XrayError(500, "InternalFailure",
                              "storing segments failed: " + std::string(result.status.message())));
          }
          return;
        }
        json unprocessed = json::array();
        for (const auto& u : result.unprocessed) {
          unprocessed.push_back(
              {{"Id", u.id}, {"ErrorCode", u.error_code}, {"Message", u.message}});
        }
        respond(JsonResponse({{"UnprocessedTraceSegments", unprocessed}}));
      });
}

}  // namespace

XrayApiHandler::XrayApiHandler(pipeline::Pipeline* pipeline, store::SpanStore* store,
                               sampling::XrayConfigStore* config,
                               sampling::SamplingTargets* sampling, XrayApiOptions options)
    : pipeline_(pipeline),
      config_(config),
      sampling_(sampling),
      options_(std::move(options)),
      reader_(store, options_.read_environment),
      reads_(std::make_unique<net::HandlerPool>(std::max<size_t>(1, options_.read_threads),
                                                std::max<size_t>(1, options_.read_queue))) {}

XrayApiHandler::~XrayApiHandler() = default;

net::HttpHandler XrayApiHandler::AsHandler() {
  return [this](net::HttpRequest&& request, net::Responder respond) {
    Handle(std::move(request), std::move(respond));
  };
}

void XrayApiHandler::Handle(net::HttpRequest&& request, net::Responder respond) {
  Dispatch(std::move(request), std::move(respond), /*check_signature=*/true);
}

void XrayApiHandler::HandleTrusted(net::HttpRequest&& request, net::Responder respond) {
  Dispatch(std::move(request), std::move(respond), /*check_signature=*/false);
}

void XrayApiHandler::Dispatch(net::HttpRequest&& request, net::Responder respond,
                              bool check_signature) {
  pipeline::IngestMetrics* metrics = pipeline_ ? &pipeline_->metrics() : nullptr;
  auto send = [metrics, respond](net::HttpResponse response) {
    if (metrics) metrics->RecordRequest("xray_api", response.status);
    respond(std::move(response));
  };
  try {
    const std::string& path = request.path;
    if (request.method != "POST") {
      throw ApiError{404, "UnknownOperationException",
                     "no X-Ray operation at " + request.method + " " + path +
                         " (X-Ray operations are POST requests, e.g. POST /GetSamplingRules)"};
    }
    if (check_signature && options_.credentials && !IsSamplerPath(path)) {
      SigV4Check check = VerifySigV4(request, *options_.credentials, options_.clock());
      if (!check.ok && check.error_type == "UnrecognizedClientException" &&
          options_.read_credentials) {
        check = VerifySigV4(request, *options_.read_credentials, options_.clock());
        const XrayOperation* op = FindXrayOperation(path);
        if (check.ok && op != nullptr && op->access != XrayAccess::kRead) {
          throw ApiError{403, "AccessDeniedException",
                         "access key " + options_.read_credentials->access_key_id +
                             " may only call X-Ray read operations; " + std::string(op->name) +
                             " needs the key of --xray-access-key"};
        }
      }
      if (!check.ok) throw ApiError{403, check.error_type, check.message};
    }
    json body = json::object();
    uint64_t invalid_utf8_replaced = 0;
    if (!request.body->empty()) {
      std::string_view text = *request.body;
      std::string repaired;
      if (path == "/TraceSegments" && !utf8::IsValid(text)) {
        // Segment documents are ingest: invalid UTF-8 is repaired, not refused (otlp_codec.h).
        invalid_utf8_replaced = utf8::AppendRepaired(text, &repaired);
        text = repaired;
      }
      if (JsonNestingDepth(text) > kMaxRequestJsonNesting) {
        Invalid("the request body nests arrays/objects deeper than " +
                std::to_string(kMaxRequestJsonNesting) + " levels");
      }
      body = json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (body.is_discarded() || !body.is_object()) {
        Invalid("the request body must be a JSON object");
      }
    }
    if (path == "/TraceSegments") {
      PutTraceSegments(pipeline_, options_, body, invalid_utf8_replaced, send);
      return;
    }
    if (path == "/TelemetryRecords") {
      send(JsonResponse(json::object()));
      return;
    }
    if (XrayReadOps::Handles(path)) {
      // Reads scan traces: on the read pool, never on the I/O thread.
      reads_->Run(
          request.cancel, send,
          [this, path, body = std::move(body), cancel = request.cancel] {
            try {
              XrayReadOps reads(&reader_, config_,
                                {options_.trace_summaries_page, options_.max_batch_get_ids},
                                options_.clock, cancel);
              return JsonResponse(reads.Run(path, body));
            } catch (const ApiError& e) {
              return XrayError(e.status, e.code, e.message);
            } catch (const std::exception& e) {
              return XrayError(500, "InternalFailure",
                               std::string("unexpected error: ") + e.what());
            }
          },
          [] {
            return XrayError(429, "ThrottledException",
                             "too many X-Ray reads are running; retry with backoff");
          });
      return;
    }
    if (XrayControlOps::Handles(path)) {
      XrayControlOps control(config_, sampling_, &reader_);
      // The Node SDK is the one poller without a User-Agent (see control_ops.cc).
      const bool ttl_as_iso = !request.Header("user-agent").has_value();
      net::HttpResponse response = JsonResponse(control.Run(path, body, ttl_as_iso));
      if (!control.hint().empty()) response.SetHeader("x-ariadne-hint", control.hint());
      send(std::move(response));
      return;
    }
    if (XrayAccountOps::Handles(path)) {
      send(JsonResponse(XrayAccountOps(config_).Run(path, body)));
      return;
    }
    throw ApiError{404, "UnknownOperationException",
                   "no X-Ray operation at POST " + path +
                       " (this server implements the X-Ray groups, sampling, trace segment and "
                       "trace read operations)"};
  } catch (const ApiError& e) {
    send(XrayError(e.status, e.code, e.message));
  } catch (const std::exception& e) {
    send(XrayError(500, "InternalFailure", std::string("unexpected error: ") + e.what()));
  }
}

void XrayApiHandler::HandleQuery(net::HttpRequest&& request, net::Responder respond) {
  if (request.method != "GET") {
    json error = {{"error", "use GET for " + request.path}, {"status", 405}};
    respond(net::HttpResponse(405, "application/json", DumpJson(error)));
    return;
  }
  CancelFlagPtr cancel = request.cancel;
  reads_->Run(
      std::move(cancel), std::move(respond),
      [this, request = std::move(request)] {
        ViewContext context{&reader_,
                            config_,
                            sampling_,
                            {options_.trace_summaries_page, options_.max_batch_get_ids},
                            options_.clock};
        return XrayQueryView(request, context);
      },
      [] {
        json error = {{"error", "too many X-Ray reads are running; retry shortly"},
                      {"status", 503}};
        net::HttpResponse busy(503, "application/json", DumpJson(error));
        busy.SetHeader("Retry-After", "1");
        return busy;
      });
}

}  // namespace ariadne::api::xray
