// XrayApiHandler: the AWS X-Ray API (REST-JSON, every operation a POST with a JSON body) on the
// TCP side of the X-Ray port — what the aws CLI (`--endpoint-url`), boto3 and the X-Ray SDKs'
// sampling pollers call. Paths, shapes and error forms follow the botocore model (protocols.md §5):
//
//   groups        /CreateGroup /GetGroup /Groups /UpdateGroup /DeleteGroup
//   sampling      /GetSamplingRules /CreateSamplingRule /UpdateSamplingRule /DeleteSamplingRule
//                 /SamplingTargets /SamplingStatisticSummaries
//   ingest        /TraceSegments (PutTraceSegments) /TelemetryRecords
//   reads         /TraceSummaries /Traces (BatchGetTraces) /ServiceGraph /TraceGraph
//
// Errors: HTTP 4xx + `x-amzn-ErrorType: <Code>` + `{"__type":"<Code>","message":"..."}`;
// unknown paths get 404 UnknownOperationException. Pagination: an opaque `NextToken`.
//
// Authentication: the SDK pollers (/GetSamplingRules, /SamplingTargets) never sign and are always
// accepted. With credentials configured, every other request must carry a valid SigV4 signature
// (403 MissingAuthenticationTokenException / InvalidSignatureException /
// UnrecognizedClientException otherwise); without, signatures are not checked.
//
// Reads use SpanStore::ForEachTrace + TraceView + the filter evaluator (a first, simple version).
// PutTraceSegments answers once the store made the accepted documents durable.
//
// Threads: Handle runs on the HTTP server's I/O threads and may run concurrently. Sampling calls,
// group/rule operations and PutTraceSegments are answered there; the trace reads and the views
// run on a bounded read pool owned by the handler (see XrayApiOptions::read_threads), so a heavy
// read never holds up a sampling call. The pipeline, store, config store and sampling state must
// outlive the handler; its destructor finishes the queued reads.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "net/handler_pool.h"
#include "net/http_server.h"
#include "pipeline/pipeline.h"
#include "sampling/config_store.h"
#include "sampling/sampling_targets.h"
#include "api/xray/sigv4.h"
#include "store/span_store.h"

namespace ariadne::receivers::xray {

struct XrayApiOptions {
  std::string environment = "default";  // where PutTraceSegments stores spans
  std::string read_environment;         // "" = read traces of every environment
  std::optional<SigV4Credentials> credentials;
  size_t trace_summaries_page = 100;
  size_t max_batch_get_ids = 100;
  Clock clock = SystemClockSeconds;
  // The read pool: GetTraceSummaries, BatchGetTraces, GetServiceGraph, GetTraceGraph and the
  // /api/v1/xray/ views run on `read_threads` workers; past `read_queue` waiting reads the answer
  // is 429 ThrottledException (503 on the views).
  size_t read_threads = 2;
  size_t read_queue = 32;
};

class XrayApiHandler {
 public:
  XrayApiHandler(pipeline::Pipeline* pipeline, store::SpanStore* store, XrayConfigStore* config,
                 SamplingTargets* sampling, XrayApiOptions options = {});

  void Handle(net::HttpRequest&& request, net::Responder respond);
  net::HttpHandler AsHandler();

  // Ariadne's own JSON views of X-Ray data, mounted on the query port under /api/v1/xray/:
  //   GET /api/v1/xray/groups           groups with their filters and, per group, the services
  //                                     its filter names that never sent data (the seed's
  //                                     service("$backend-flask") shows up here)
  //   GET /api/v1/xray/sampling         sampling rules with their active clients and the
  //                                     clients' statistics per 10-s window (the last hour)
  //   GET /api/v1/xray/trace-summaries  ?filter=EXPR&start=EPOCH_S&end=EPOCH_S&limit=N (default:
  //                                     the last hour, 100): X-Ray trace summaries
  // Errors: {"error": "...", "status": N} like the rest of /api.
  void HandleQuery(net::HttpRequest&& request, net::Responder respond);

 private:
  struct Impl;
  net::HttpResponse QueryView(const net::HttpRequest& request);

  pipeline::Pipeline* pipeline_;
  store::SpanStore* store_;
  XrayConfigStore* config_;
  SamplingTargets* sampling_;
  XrayApiOptions options_;
  std::unique_ptr<net::HandlerPool> reads_;  // last: joined before the rest goes away
};

// Builds an X-Ray error response (exposed for tests).
net::HttpResponse XrayError(int status, const std::string& code, const std::string& message);

}  // namespace ariadne::receivers::xray
