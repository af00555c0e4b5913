// Fuzzes the X-Ray API's request handling (XrayApiHandler::Handle): JSON body parsing and every
// operation's field validation — groups, sampling rules and targets, statistics, trace reads with
// filter expressions — against a real embedded store (a temp dir, holding one trace) and config
// store. The first input byte picks the operation, the rest is the body. PutTraceSegments is left
// out: its documents are covered by xray_segment_fuzzer and it answers asynchronously after a
// store commit.
// Oracle: no crash or sanitizer report; every request gets exactly one answer (trace reads answer
// from the handler's read pool, so the fuzzer waits up to 5 s for it), and a 5xx answer (an
// unexpected exception) aborts.
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>

#include "api/xray/xray_api.h"
#include "pipeline/metrics.h"
#include "pipeline/pipeline.h"
#include "receivers/xray/segment_decoder.h"
#include "sampling/config_store.h"
#include "sampling/sampling_targets.h"
#include "store/embedded/embedded_store.h"

namespace {

using namespace ariadne;
using namespace ariadne::api::xray;
using namespace ariadne::sampling;
using ariadne::receivers::xray::DecodeSegmentDocument;

const char* const kPaths[] = {
    "/CreateGroup",
    "/GetGroup",
    "/Groups",
    "/UpdateGroup",
    "/DeleteGroup",
    "/GetSamplingRules",
    "/SamplingTargets",
    "/CreateSamplingRule",
    "/UpdateSamplingRule",
    "/DeleteSamplingRule",
    "/SamplingStatisticSummaries",
    "/TraceSummaries",
    "/Traces",
    "/ServiceGraph",
    "/TraceGraph",
    "/TelemetryRecords",
};

struct World {
  std::string dir;
  std::unique_ptr<store::SpanStore> store;
  pipeline::IngestMetrics metrics;
  std::unique_ptr<pipeline::Pipeline> pipeline;
  std::unique_ptr<XrayConfigStore> config;
  std::unique_ptr<SamplingTargets> sampling;
  std::unique_ptr<XrayApiHandler> handler;

  World() {
    char pattern[] = "/tmp/ariadne-xray-api-fuzz-XXXXXX";
    dir = mkdtemp(pattern);
    store::embedded::EmbeddedStoreOptions options;
    options.data_dir = dir + "/data";
    options.sync = false;
    store = std::move(store::embedded::OpenEmbeddedStore(options)).value();
    pipeline = std::make_unique<pipeline::Pipeline>(store.get(), &metrics);
    config = std::move(XrayConfigStore::Open(dir + "/xray.json")).value();
    sampling = std::make_unique<SamplingTargets>();
    handler =
        std::make_unique<XrayApiHandler>(pipeline.get(), store.get(), config.get(), sampling.get());
    // One trace to read back, filter and graph.
    const unsigned now = static_cast<unsigned>(std::time(nullptr));
    char document[512];
    std::snprintf(
        document, sizeof(document),
        R"({"name":"web","id":"70de5b6f19ff9a0a","trace_id":"1-%08x-5f84c7a6b4b3c3e2d1f0a9b8",)"
        R"("start_time":%u.0,"end_time":%u.5,"http":{"response":{"status":500}},)"
        R"("fault":true,"annotations":{"k":"v"},"subsegments":[{"name":"db","id":)"
        R"("70de5b6f19ff9a0b","start_time":%u.1,"end_time":%u.2,"namespace":"remote"}]})",
        now, now - 10, now - 10, now - 10, now - 10);
    model::SpanBatch batch;
    if (DecodeSegmentDocument(document, &batch).ok()) {
      (void)store->Append("default", std::move(batch));
    }
  }
};

World& TheWorld() {
  static World* world = new World();  // lives for the process; its temp dir is left to /tmp
  return *world;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  World& world = TheWorld();
  net::HttpRequest request;
  request.method = "POST";
  request.path = kPaths[data[0] % (sizeof(kPaths) / sizeof(kPaths[0]))];
  request.target = request.path;
  request.headers.emplace_back("Content-Type", "application/json");
  request.body =
      std::make_shared<const std::string>(reinterpret_cast<const char*>(data) + 1, size - 1);
  // Trace reads answer from the handler's read pool, so wait for the answer (or its absence).
  struct Answer {
    std::mutex mu;
    std::condition_variable done;
    int answers = 0;
    int status = 0;
  };
  auto answer = std::make_shared<Answer>();
  world.handler->Handle(std::move(request), [answer](net::HttpResponse response) {
    std::lock_guard<std::mutex> lock(answer->mu);
    ++answer->answers;
    answer->status = response.status;
    answer->done.notify_all();
  });
  std::unique_lock<std::mutex> lock(answer->mu);
  answer->done.wait_for(lock, std::chrono::seconds(5), [&] { return answer->answers > 0; });
  const int answers = answer->answers;
  const int status = answer->status;
  if (answers != 1 || status >= 500) {
    std::fprintf(stderr, "X-Ray API: %d answers, status %d\n", answers, status);
    std::abort();
  }
  return 0;
}
