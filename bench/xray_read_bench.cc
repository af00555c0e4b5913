// X-Ray read latency over the embedded store (docs/PERFORMANCE.md, "X-Ray reads" and "X-Ray reads
// with the trace-summary index"): X-Ray shaped traces (a segment + 9 subsegments = 10 spans, 20
// services, annotation userid from 10,000 values, 1 % faults) decoded from segment documents,
// stored and sealed into blocks; then, through the real X-Ray API handler: GetTraceSummaries with
// filters the trace summaries decide (and one they decide only in part) over the whole window, the
// first and second unfiltered pages (position paging), five traces by id (SpanStore::GetTrace and
// BatchGetTraces), and GetSamplingTargets latency idle and
// while GetServiceGraph scans the whole window on the read pool, then
// GetTimeSeriesServiceStatistics of the entry segments and of one service over the whole window.
// Prints the trace-summary index's size. Checks each answer.
//
// usage: ARIADNE_BENCH_SPANS=1000000 xray_read_bench   (default 1,000,000 spans)
//        ARIADNE_BENCH_OLD=1 also times the store's ForEachTrace walk (the path before the index)
//        ARIADNE_BENCH_ROUNDS=N calls each filter N times (default 2) and the unfiltered
//          first page N − 2 more times, for profiling
//        ARIADNE_BENCH_ONLY="expr" runs only that filter expression
//        ARIADNE_BENCH_SKIP_GRAPH=1 skips the whole-window GetServiceGraph (minutes at 10M spans)
//        ARIADNE_BENCH_SUMMARY_BYTES=N bounds the summaries in memory (the server's
//          trace_summaries share of --memory-limit; 75497472 at 1 GiB); default unbounded
// After loading, the store is closed and reopened (the restart time is printed: open reads the
// blocks' trace-summary side files, not their columns) and the reads run on the reopened store.
// ARIADNE_BENCH_DROP_SIDE_FILES=1 deletes the side files before that reopen, so open summarizes
// every block from its columns (what open did before side files) and writes them again.
// Prints the process's RSS (VmRSS, VmHWM) after the load and at the end.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/xray/xray_api.h"
#include "model/ids.h"
#include "receivers/xray/segment_decoder.h"
#include "sampling/config_store.h"
#include "sampling/sampling_targets.h"
#include "store/embedded/embedded_store.h"
#include "store/embedded/embedded_store_impl.h"

using namespace ariadne;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// "VmRSS 123 MiB, VmHWM 456 MiB" from /proc/self/status.
std::string Rss() {
  std::ifstream in("/proc/self/status");
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) != 0 && line.rfind("VmHWM:", 0) != 0) continue;
    const unsigned long long kib = std::strtoull(line.c_str() + 6, nullptr, 10);
    out +=
        (out.empty() ? "" : ", ") + line.substr(0, 5) + " " + std::to_string(kib / 1024) + " MiB";
  }
  return out;
}

net::HttpResponse Call(api::xray::XrayApiHandler& handler, const std::string& path,
                       const json& body) {
  net::HttpRequest request;
  request.method = "POST";
  request.target = request.path = path;
  request.headers = {{"User-Agent", "bench"}};
  request.body = std::make_shared<const std::string>(body.dump());
  std::promise<net::HttpResponse> promise;
  handler.Handle(std::move(request), [&promise](net::HttpResponse response) {
    promise.set_value(std::move(response));
  });
  return promise.get_future().get();
}

std::string TraceDocument(uint64_t t, double start) {
  char trace_id[40], id[20];
  std::snprintf(trace_id, sizeof trace_id, "1-%08x-%024llx", static_cast<unsigned>(start),
                static_cast<unsigned long long>(t + 1));
  std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(t * 16 + 1));
  json doc = {
      {"name", "svc-" + std::to_string(t % 20)},
      {"id", id},
      {"trace_id", trace_id},
      {"start_time", start},
      {"end_time", start + 0.05 + (t % 100) * 0.001},
      {"annotations", {{"userid", "u" + std::to_string(t % 10000)}}},
      {"http",
       {{"request", {{"method", "GET"}, {"url", "http://svc/api/" + std::to_string(t % 7)}}},
        {"response", {{"status", t % 100 == 0 ? 500 : 200}}}}}};
  if (t % 100 == 0) doc["fault"] = true;
  json subsegments = json::array();
  for (int k = 0; k < 9; ++k) {
    std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(t * 16 + 2 + k));
    subsegments.push_back({{"name", k % 3 == 0 ? "postgres" : "work-" + std::to_string(k)},
                           {"id", id},
                           {"namespace", k % 3 == 0 ? "remote" : "local"},
                           {"start_time", start + 0.001 * k},
                           {"end_time", start + 0.001 * k + 0.002}});
  }
  doc["subsegments"] = subsegments;
  return doc.dump();
}

}  // namespace

int main() {
  const uint64_t spans = std::getenv("ARIADNE_BENCH_SPANS")
                             ? std::strtoull(std::getenv("ARIADNE_BENCH_SPANS"), nullptr, 10)
                             : 1'000'000;
  const uint64_t traces = spans / 10;
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("xray-read-bench-" + std::to_string(::getpid())))
          .string();
  std::filesystem::remove_all(dir);
  store::embedded::EmbeddedStoreOptions options;
  options.data_dir = dir + "/data";
  options.sync = false;
  // The index is what this bench measures; ARIADNE_BENCH_TRACE_INDEX=0 times the generic search.
  const char* index_env = std::getenv("ARIADNE_BENCH_TRACE_INDEX");
  options.trace_index = index_env == nullptr || std::string(index_env) != "0";
  // ARIADNE_BENCH_DIGESTS=0: searches do not pass over blocks by their side files' digests (the
  // reads as before the digests, for the comparison in docs/PERFORMANCE.md).
  if (const char* digests = std::getenv("ARIADNE_BENCH_DIGESTS"))
    options.trace_block_digests = std::string(digests) != "0";
  // ARIADNE_BENCH_FIELD_SKIPS=0: blocks are passed over by annotation terms only (as before the
  // digests' fields section).
  if (const char* fields = std::getenv("ARIADNE_BENCH_FIELD_SKIPS"))
    options.trace_block_field_skips = std::string(fields) != "0";
  if (const char* bytes = std::getenv("ARIADNE_BENCH_SUMMARY_BYTES"))
    options.trace_summary_bytes = std::strtoull(bytes, nullptr, 10);
  auto opened = store::embedded::OpenEmbeddedStore(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "open: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<store::embedded::EmbeddedSpanStore> store = std::move(opened).value();
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const double first = now - 3000;  // traces spread over the last 50 minutes
  auto load_start = Clock::now();
  model::SpanBatch batch;
  for (uint64_t t = 0; t < traces; ++t) {
    const double start = first + 2900.0 * static_cast<double>(t) / static_cast<double>(traces);
    if (!receivers::xray::DecodeSegmentDocument(TraceDocument(t, start), &batch).ok()) return 1;
    if (batch.spans.size() >= 20000 || t + 1 == traces) {
      Status appended = store->Append("default", std::move(batch));
      if (!appended.ok()) {
        std::fprintf(stderr, "append: %s\n", appended.ToString().c_str());
        return 1;
      }
      batch = model::SpanBatch();
    }
  }
  if (!store->Flush().ok()) return 1;
  std::printf("loaded %llu spans (%llu traces) in %.1f s\n", static_cast<unsigned long long>(spans),
              static_cast<unsigned long long>(traces), Ms(Clock::now() - load_start) / 1000);
  std::printf("RSS after load: %s\n", Rss().c_str());
  // Restart: what open costs with the blocks' summaries persisted beside them.
  if (!store->Close().ok()) return 1;
  store.reset();
  if (std::getenv("ARIADNE_BENCH_DROP_SIDE_FILES")) {
    size_t dropped = 0;
    for (const auto& e : std::filesystem::directory_iterator(options.data_dir + "/blocks"))
      if (e.path().extension() == ".tsum") dropped += std::filesystem::remove(e.path());
    std::printf("deleted %zu trace-summary side files\n", dropped);
  }
  uintmax_t side_bytes = 0;
  for (const auto& e : std::filesystem::directory_iterator(options.data_dir + "/blocks"))
    if (e.path().extension() == ".tsum") side_bytes += std::filesystem::file_size(e.path());
  std::printf("trace-summary side files: %.1f MiB, %.2f bytes per span\n", side_bytes / 1048576.0,
              static_cast<double>(side_bytes) / static_cast<double>(std::max<uint64_t>(1, spans)));
  auto reopen_start = Clock::now();
  opened = store::embedded::OpenEmbeddedStore(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "reopen: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  store = std::move(opened).value();
  std::printf("restart (close, open): open %.0f ms\n", Ms(Clock::now() - reopen_start));
  std::printf("RSS after restart: %s; resident index entries %llu (split %llu)\n", Rss().c_str(),
              static_cast<unsigned long long>(store->Stats().trace_index_resident),
              static_cast<unsigned long long>(store->Stats().trace_index_split));

  pipeline::IngestMetrics metrics;
  pipeline::Pipeline pipeline(store.get(), &metrics);
  auto config = std::move(sampling::XrayConfigStore::Open(dir + "/xray-config.json")).value();
  sampling::SamplingTargets targets;
  api::xray::XrayApiHandler handler(&pipeline, store.get(), config.get(), &targets, {});
  const json window = {{"StartTime", first - 10}, {"EndTime", now + 10}};

  if (auto* embedded = dynamic_cast<store::embedded::EmbeddedStore*>(store.get())) {
    std::printf(
        "trace-summary index: %zu traces, %.1f MiB (%.0f bytes per trace), summaries in memory "
        "%.1f MiB\n",
        embedded->trace_index_traces(), embedded->trace_index_bytes() / 1048576.0,
        static_cast<double>(embedded->trace_index_bytes()) /
            static_cast<double>(std::max<size_t>(1, embedded->trace_index_traces())),
        store->Stats().trace_summary_bytes / 1048576.0);
  }
  // Filters, with the number of traces each matches: annotation and root-segment terms, and
  // service()/edge()/root-cause terms the summaries decide from their per-node facts (side files
  // of version 5; before them, only for traces that do not touch the service).
  struct Case {
    const char* expression;
    size_t matches;
  };
  const Case cases[] = {
      {"annotation.userid = \"u42\"", traces / 10000 + (traces % 10000 > 42 ? 1 : 0)},
      {"annotation.nonexistent = \"x\"", 0},
      {"annotation.userid = \"nobody\"", 0},
      {"fault AND http.url CONTAINS \"api/3\"", 0},
      {"responsetime > 0.14 AND http.status = 500", 0},
      {"service(\"svc-3\") { fault }", 0},
      {"service(\"svc-0\") { fault }", traces / 100},
      {"edge(\"svc-3\", \"postgres\") { responsetime > 0.01 }", 0},
      {"rootcause.fault.service", traces / 100},
      // No trace has these: blocks passed over by the digests' fields section.
      {"responsetime > 2", 0},
      {"service(\"nope\")", 0},
      {"http.status = 599", 0},
      {"user = \"nobody\"", 0},
      {"service(\"nope\") { fault }", 0},
  };
  // ARIADNE_BENCH_ROUNDS=N calls each filter N times (default 2: first and second call), so a
  // profiler (perf record) sees the reads rather than the load.
  const int rounds =
      std::getenv("ARIADNE_BENCH_ROUNDS") ? std::atoi(std::getenv("ARIADNE_BENCH_ROUNDS")) : 2;
  const char* only = std::getenv("ARIADNE_BENCH_ONLY");
  for (const Case& c : cases) {
    if (only != nullptr && std::string(only) != c.expression) continue;
    json filtered = window;
    filtered["FilterExpression"] = c.expression;
    for (int round = 0; round < rounds; ++round) {
      auto t0 = Clock::now();
      net::HttpResponse r = Call(handler, "/TraceSummaries", filtered);
      const double ms = Ms(Clock::now() - t0);
      json out = json::parse(r.body);
      if (r.status != 200 ||
          (c.matches != 0 && out["TraceSummaries"].size() != std::min<size_t>(c.matches, 100))) {
        std::fprintf(stderr, "filtered summaries: %d %s\n", r.status,
                     r.body.substr(0, 300).c_str());
        return 1;
      }
      std::printf(
          "GetTraceSummaries %s (%zu on the page, %s processed): %.1f ms (side files loaded so "
          "far: %llu)\n",
          c.expression, out["TraceSummaries"].size(), out["TracesProcessedCount"].dump().c_str(),
          ms, static_cast<unsigned long long>(store->Stats().trace_summary_loads));
    }
  }
  // The path before the index: the store's ForEachTrace alone (every trace fetched whole,
  // nothing evaluated).
  if (std::getenv("ARIADNE_BENCH_OLD")) {
    auto s = Clock::now();
    size_t seen = 0;
    Status scanned = store->ForEachTrace(static_cast<uint64_t>((first - 10) * 1e9),
                                         static_cast<uint64_t>((now + 10) * 1e9), "",
                                         [&seen](const store::TraceResult&) {
                                           ++seen;
                                           return true;
                                         });
    if (!scanned.ok() || seen != traces) return 1;
    std::printf("SpanStore::ForEachTrace alone (%zu traces): %.0f ms\n", seen,
                Ms(Clock::now() - s));
  }
  auto t0 = Clock::now();
  net::HttpResponse page1 = Call(handler, "/TraceSummaries", window);
  const double page1_ms = Ms(Clock::now() - t0);
  json next = window;
  next["NextToken"] = json::parse(page1.body)["NextToken"];
  t0 = Clock::now();
  net::HttpResponse page2 = Call(handler, "/TraceSummaries", next);
  const double page2_ms = Ms(Clock::now() - t0);
  if (json::parse(page2.body)["TraceSummaries"].size() != 100) return 1;
  std::printf("GetTraceSummaries unfiltered: page 1 %.0f ms, page 2 %.0f ms\n", page1_ms, page2_ms);
  if (rounds > 2) {  // page 1 again, for a profile of a page's JSON (every trace fetched whole)
    std::vector<double> ms;
    for (int round = 2; round < rounds; ++round) {
      t0 = Clock::now();
      Call(handler, "/TraceSummaries", window);
      ms.push_back(Ms(Clock::now() - t0));
    }
    std::sort(ms.begin(), ms.end());
    std::printf("GetTraceSummaries unfiltered page 1, %zu more calls: median %.2f ms\n", ms.size(),
                ms[ms.size() / 2]);
  }
  // Whole traces by id: five traces spread over the window (so over as many blocks), through the
  // store's GetTrace and through BatchGetTraces, twice each.
  std::vector<std::string> xray_ids;
  std::vector<model::TraceId> ids;
  for (uint64_t k = 0; k < 5; ++k) {
    const uint64_t t = (traces * k / 5 + 17) % traces;
    const double start = first + 2900.0 * static_cast<double>(t) / static_cast<double>(traces);
    char text[40];
    std::snprintf(text, sizeof text, "1-%08x-%024llx", static_cast<unsigned>(start),
                  static_cast<unsigned long long>(t + 1));
    xray_ids.push_back(text);
    ids.push_back(*model::ParseAnyTraceId(text));
  }
  for (int round = 0; round < 2; ++round) {
    t0 = Clock::now();
    for (const model::TraceId& id : ids) {
      Result<store::TraceResult> trace = store->GetTrace(id);
      if (!trace.ok() || trace->spans.spans.size() != 10) {
        std::fprintf(stderr, "GetTrace %s: %s\n", id.ToHex().c_str(),
                     trace.status().ToString().c_str());
        return 1;
      }
    }
    const double by_id_ms = Ms(Clock::now() - t0) / static_cast<double>(ids.size());
    t0 = Clock::now();
    net::HttpResponse batch = Call(handler, "/Traces", json{{"TraceIds", xray_ids}});
    const double batch_ms = Ms(Clock::now() - t0);
    if (batch.status != 200 || json::parse(batch.body)["Traces"].size() != ids.size()) {
      std::fprintf(stderr, "BatchGetTraces: %d %s\n", batch.status,
                   batch.body.substr(0, 300).c_str());
      return 1;
    }
    std::printf(
        "trace by id (SpanStore::GetTrace, mean of 5): %.2f ms; BatchGetTraces of 5 ids: "
        "%.1f ms\n",
        by_id_ms, batch_ms);
  }
  std::printf("RSS after the reads: %s\n", Rss().c_str());

  if (std::getenv("ARIADNE_BENCH_SKIP_GRAPH")) {
    (void)store->Close();
    std::filesystem::remove_all(dir);
    return 0;
  }
  // Sampling targets: idle, then while GetServiceGraph scans the whole window.
  const json stats = {{"SamplingStatisticsDocuments",
                       {{{"RuleName", "Default"},
                         {"ClientID", "0123456789abcdef01234567"},
                         {"Timestamp", now},
                         {"RequestCount", 10},
                         {"SampledCount", 1},
                         {"BorrowCount", 0}}}}};
  auto sample = [&](int n) {
    std::vector<double> ms;
    for (int i = 0; i < n; ++i) {
      auto s = Clock::now();
      if (Call(handler, "/SamplingTargets", stats).status != 200) std::exit(1);
      ms.push_back(Ms(Clock::now() - s));
    }
    std::sort(ms.begin(), ms.end());
    return std::make_pair(ms[ms.size() / 2], ms.back());
  };
  auto idle = sample(200);
  t0 = Clock::now();
  auto graph =
      std::async(std::launch::async, [&] { return Call(handler, "/ServiceGraph", window); });
  auto busy = sample(200);
  net::HttpResponse g = graph.get();
  const double graph_ms = Ms(Clock::now() - t0);
  if (g.status != 200 || json::parse(g.body)["Services"].size() < 20) return 1;
  std::printf("GetServiceGraph whole window: %.0f ms\n", graph_ms);
  std::printf("GetSamplingTargets idle: median %.3f ms, max %.3f ms\n", idle.first, idle.second);
  std::printf("GetSamplingTargets during GetServiceGraph: median %.3f ms, max %.3f ms\n",
              busy.first, busy.second);
  // GetTimeSeriesServiceStatistics over the whole window: the entry segments' statistics, then
  // one service's (EntitySelectorExpression), twice each.
  for (const char* selector : {"", "service(\"svc-3\")"}) {
    json request = window;
    request["Period"] = 60;
    if (*selector) request["EntitySelectorExpression"] = selector;
    for (int round = 0; round < 2; ++round) {
      t0 = Clock::now();
      net::HttpResponse series = Call(handler, "/TimeSeriesServiceStatistics", request);
      const double series_ms = Ms(Clock::now() - t0);
      if (series.status != 200) return 1;
      const json parsed = json::parse(series.body);
      int64_t total = 0;
      for (const json& point : parsed["TimeSeriesServiceStatistics"])
        total += point["ServiceSummaryStatistics"]["TotalCount"].get<int64_t>();
      // Every trace has one entry segment; svc-3 serves one trace in 20.
      const int64_t want = static_cast<int64_t>(*selector ? traces / 20 : traces);
      if (total != want) {
        std::fprintf(stderr, "time series %s: %lld segments, want %lld\n", selector,
                     static_cast<long long>(total), static_cast<long long>(want));
        return 1;
      }
      std::printf("GetTimeSeriesServiceStatistics %s: %.0f ms (%lld segments)\n",
                  *selector ? selector : "(entry segments)", series_ms,
                  static_cast<long long>(total));
    }
  }
  (void)store->Close();
  std::filesystem::remove_all(dir);
  return 0;
}
