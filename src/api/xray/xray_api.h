// XrayApiHandler: the AWS X-Ray API (REST-JSON, every operation a POST with a JSON body) on the
// TCP side of the X-Ray port — what the aws CLI (`--endpoint-url`), boto3 and the X-Ray SDKs'
// sampling pollers call. Paths, shapes and error forms follow the botocore model (protocols.md §5).
// This class routes, by the operation table (operations.h: every path, read or write); the work
// is elsewhere:
//
//   groups, sampling   /CreateGroup /GetGroup /Groups /UpdateGroup /DeleteGroup
//                      /GetSamplingRules /CreateSamplingRule /UpdateSamplingRule
//                      /DeleteSamplingRule /SamplingTargets /SamplingStatisticSummaries
//                      → control_ops.h over src/sampling
//   ingest             /TraceSegments (PutTraceSegments) → receivers/xray/put_segments.h
//                      /TelemetryRecords (accepted, ignored)
//   reads              /TraceSummaries /Traces /ServiceGraph /TraceGraph
//                      → read_ops.h over src/query/xray
//
// Errors: HTTP 4xx + `x-amzn-ErrorType: <Code>` + `{"__type":"<Code>","message":"..."}`;
// unknown paths get 404 UnknownOperationException.
//
// Authentication: the SDK pollers (/GetSamplingRules, /SamplingTargets) never sign and are always
// accepted. With credentials configured, every other request on the X-Ray port must carry a valid
// SigV4 signature (403 MissingAuthenticationTokenException / InvalidSignatureException /
// UnrecognizedClientException otherwise); without, signatures are not checked. A request signed by
// XrayApiOptions::read_credentials may call the read operations only (403 AccessDeniedException).
// HandleTrusted is for in-process callers that authenticated the caller themselves (the web UI
// behind the query port's key checks): no signature is asked for.
//
// Threads: Handle runs on the HTTP server's I/O threads and may run concurrently. Sampling calls,
// group/rule operations and PutTraceSegments are answered there; the trace reads and the views
// run on a bounded read pool owned by the handler (XrayApiOptions::read_threads), so a heavy read
// never holds up a sampling call or an ingest. The pipeline, store, config store and sampling state
// must outlive the handler; its destructor finishes the queued reads.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "api/xray/sigv4.h"
#include "net/handler_pool.h"
#include "net/http_server.h"
#include "pipeline/pipeline.h"
#include "query/xray/trace_reads.h"
#include "sampling/config_store.h"
#include "sampling/sampling_targets.h"
#include "store/span_store.h"

namespace ariadne::api::xray {

struct XrayApiOptions {
  std::string environment = "default";  // where PutTraceSegments stores spans
  std::string read_environment;         // "" = read traces of every environment
  std::optional<SigV4Credentials> credentials;
  // A second key (only with `credentials`) whose signed requests may call the read operations
  // (operations.h, XrayAccess::kRead); a write is 403 AccessDeniedException.
  std::optional<SigV4Credentials> read_credentials;
  size_t trace_summaries_page = 100;
  size_t max_batch_get_ids = 100;
  sampling::Clock clock = sampling::SystemClockSeconds;
  // The read pool: GetTraceSummaries, BatchGetTraces, GetServiceGraph, GetTraceGraph and the
  // /api/v1/xray/ views run on `read_threads` workers; past `read_queue` waiting reads the answer
  // is 429 ThrottledException (503 on the views).
  size_t read_threads = 2;
  size_t read_queue = 32;
};

class XrayApiHandler {
 public:
  XrayApiHandler(pipeline::Pipeline* pipeline, store::SpanStore* store,
                 sampling::XrayConfigStore* config, sampling::SamplingTargets* sampling,
                 XrayApiOptions options = {});
  ~XrayApiHandler();

  // A request on the X-Ray port (signatures checked when credentials are configured).
  void Handle(net::HttpRequest&& request, net::Responder respond);
  // A request from an in-process caller that already authenticated its user (no SigV4).
  void HandleTrusted(net::HttpRequest&& request, net::Responder respond);
  net::HttpHandler AsHandler();

  // Ariadne's own JSON views of X-Ray data, for the query port (views.h).
  void HandleQuery(net::HttpRequest&& request, net::Responder respond);

 private:
  void Dispatch(net::HttpRequest&& request, net::Responder respond, bool check_signature);

  pipeline::Pipeline* pipeline_;
  sampling::XrayConfigStore* config_;
  sampling::SamplingTargets* sampling_;
  XrayApiOptions options_;
  query::xray::XrayTraceReader reader_;
  std::unique_ptr<net::HandlerPool> reads_;  // last: joined before the rest goes away
};

// Builds an X-Ray error response (exposed for tests).
net::HttpResponse XrayError(int status, const std::string& code, const std::string& message);

}  // namespace ariadne::api::xray
