// ariadne-gen: a load generator that sends realistic traces over OTLP/HTTP (protobuf), for
// benchmarks and demos. Batches are generated before the clock starts so the generator's own
// cost stays out of the figure; every request must be acknowledged with a 200.
//
//   ariadne-gen --endpoint http://127.0.0.1:4318 --spans 2000000 --connections 8
//
// The generator makes --distinct-batches requests and sends them round-robin
// (the same spans again and again). For benchmarks that compare engines on the same data:
//
//   ariadne-gen --prepare DIR --spans 10000000 --seed 42   # OTLP requests + ClickHouse rows
//   ariadne-gen --replay DIR/otlp.bin --connections 16     # send every recorded request once
//
// Resumable replay (bench/compare_clickhouse --chunks): with --acked-file F the index of every
// acknowledged request is appended to F (4 bytes, little-endian, flushed per request), and the
// requests already listed in F are skipped, so a replay that was interrupted or had failed
// requests is completed by running the same command again. SIGTERM/SIGINT stop taking new
// requests; those in flight finish (and are recorded) before the exit (status 3). Only a request
// in flight at a SIGKILL can be stored without being recorded, and would be sent again.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/thread_annotations.h"
#include "net/http_client.h"
#include "tools/ariadne-gen/prepare.h"
#include "tools/gen/otlp_request.h"
#include "tools/gen/realistic_spans.h"

namespace {

struct Request {
  uint32_t spans = 0;
  std::string_view body;
};

// Maps an otlp.bin file of `ariadne-gen --prepare` and lists its requests; false on a bad file.
bool MapRecordedRequests(const std::string& path, std::vector<Request>* out) {
  int fd = ::open(path.c_str(), O_RDONLY);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    std::fprintf(stderr, "ariadne-gen: cannot open %s: %s\n", path.c_str(), std::strerror(errno));
    return false;
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size == 0) {
    ::close(fd);
    return true;
  }
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) {
    std::fprintf(stderr, "ariadne-gen: cannot map %s: %s\n", path.c_str(), std::strerror(errno));
    return false;
  }
  ::madvise(map, size, MADV_SEQUENTIAL);
  const char* p = static_cast<const char*>(map);
  size_t at = 0;
  while (at < size) {
    uint32_t spans, bytes;
    if (size - at < 8) break;
    std::memcpy(&spans, p + at, 4);
    std::memcpy(&bytes, p + at + 4, 4);
    at += 8;
    if (size - at < bytes) break;
    out->push_back({spans, std::string_view(p + at, bytes)});
    at += bytes;
  }
  if (at != size) {
    std::fprintf(stderr,
                 "ariadne-gen: %s is truncated at byte %zu (write it again with --prepare)\n",
                 path.c_str(), at);
    return false;
  }
  return true;
}

// Reads the request indexes an earlier run appended to an --acked-file (a missing file: none).
std::vector<bool> ReadAcked(const std::string& path, size_t requests) {
  std::vector<bool> acked(requests, false);
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return acked;
  uint32_t i;
  while (std::fread(&i, 4, 1, f) == 1)
    if (i < requests) acked[i] = true;
  std::fclose(f);
  return acked;
}

std::atomic<bool> g_stop{false};

extern "C" void OnStopSignal(int) { g_stop.store(true); }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "ariadne-gen: send realistic traces to an OTLP/HTTP endpoint and measure throughput"};
  std::string endpoint = "http://127.0.0.1:4318";
  uint64_t total_spans = 1'000'000;
  size_t batch_spans = 512;
  size_t connections = 4;
  size_t distinct_batches = 512;
  uint64_t seed = 1;
  uint64_t start_unix_nano = 0;
  uint64_t clickhouse_rows = 1'000'000;
  std::string key, prepare_dir, replay_file;
  app.add_option("--endpoint", endpoint, "OTLP/HTTP base URL (/v1/traces is appended)");
  app.add_option("--spans", total_spans, "spans to send in all");
  app.add_option("--batch", batch_spans, "spans per request");
  app.add_option("--connections", connections, "concurrent keep-alive connections");
  app.add_option("--distinct-batches", distinct_batches,
                 "distinct requests generated up front (then sent round-robin)");
  app.add_option("--seed", seed, "generator seed");
  app.add_option("--key", key, "x-honeycomb-team key");
  app.add_option("--prepare", prepare_dir,
                 "write --spans spans to DIR (otlp.bin, clickhouse-*.rowbinary, meta.json) and "
                 "exit, sending nothing");
  app.add_option("--start-unix-nano", start_unix_nano,
                 "start time of the first generated trace (default: now)");
  app.add_option("--clickhouse-rows", clickhouse_rows,
                 "with --prepare: spans per ClickHouse RowBinary file");
  app.add_option("--replay", replay_file,
                 "send every request of an otlp.bin file written by --prepare, once each");
  std::string acked_path;
  int retries = 0;
  app.add_option("--retries", retries,
                 "send a request answered 503 or 429 (backpressure) again, up to N times, after "
                 "a pause of 100 ms doubling up to 2 s (default 0: count it as failed)");
  app.add_option("--acked-file", acked_path,
                 "with --replay: skip the requests listed in FILE and append the index of each "
                 "newly acknowledged request (resumable replay)");
  CLI11_PARSE(app, argc, argv);

  if (!prepare_dir.empty()) {
    ariadne::gen::PrepareOptions options;
    options.dir = prepare_dir;
    options.total_spans = total_spans;
    options.batch_spans = batch_spans;
    options.seed = seed;
    options.start_unix_nano = start_unix_nano;
    options.clickhouse_rows = clickhouse_rows;
    return ariadne::gen::PrepareDataSet(options);
  }

  auto url = ariadne::net::ParseHttpUrl(endpoint);
  if (!url.ok()) {
    std::fprintf(stderr, "ariadne-gen: %s\n", url.status().ToString().c_str());
    return 2;
  }
  std::vector<std::string> generated;
  std::vector<Request> bodies;
  uint64_t requests = 0;
  if (!replay_file.empty()) {
    if (!MapRecordedRequests(replay_file, &bodies)) return 2;
    requests = bodies.size();
    total_spans = 0;
    size_t bytes = 0;
    for (const Request& r : bodies) total_spans += r.spans, bytes += r.body.size();
    std::fprintf(stderr, "ariadne-gen: replaying %zu requests (%llu spans, %.1f bytes/span)\n",
                 bodies.size(), static_cast<unsigned long long>(total_spans),
                 total_spans ? static_cast<double>(bytes) / static_cast<double>(total_spans) : 0.0);
  } else {
    requests = (total_spans + batch_spans - 1) / batch_spans;
    distinct_batches = std::max<size_t>(1, std::min<size_t>(distinct_batches, requests));
    std::fprintf(stderr, "ariadne-gen: generating %zu distinct requests of %zu spans...\n",
                 distinct_batches, batch_spans);
    ariadne::gen::RealisticOptions gen_options;
    gen_options.start_unix_nano = start_unix_nano;
    ariadne::gen::RealisticSpans gen(seed, gen_options);
    size_t body_bytes = 0;
    for (size_t i = 0; i < distinct_batches; ++i) {
      auto batch = gen.Batch(batch_spans);
      batch.spans.resize(batch_spans);
      generated.push_back(ariadne::gen::EncodeOtlpRequest(batch));
      body_bytes += generated.back().size();
    }
    for (const std::string& g : generated)
      bodies.push_back({static_cast<uint32_t>(batch_spans), g});
    std::fprintf(
        stderr,
        "ariadne-gen: %.1f bytes/span on the wire; sending %llu requests over %zu connections\n",
        static_cast<double>(body_bytes) / static_cast<double>(distinct_batches * batch_spans),
        static_cast<unsigned long long>(requests), connections);
  }

  std::vector<bool> skip;
  FILE* acked_file = nullptr;
  ariadne::Mutex acked_mu;
  uint64_t skipped = 0;
  if (!acked_path.empty()) {
    skip = ReadAcked(acked_path, requests);
    for (bool b : skip) skipped += b;
    acked_file = std::fopen(acked_path.c_str(), "ab");
    if (!acked_file) {
      std::fprintf(stderr, "ariadne-gen: cannot append to %s: %s\n", acked_path.c_str(),
                   std::strerror(errno));
      return 2;
    }
    if (skipped)
      std::fprintf(stderr, "ariadne-gen: %llu requests already acknowledged (%s); skipping them\n",
                   static_cast<unsigned long long>(skipped), acked_path.c_str());
  }
  std::signal(SIGTERM, OnStopSignal);
  std::signal(SIGINT, OnStopSignal);

  std::atomic<uint64_t> next{0}, done{skipped}, failed{0}, spans_done{0}, retried{0};
  std::string path = url->path == "/" ? "/v1/traces" : url->path + "/v1/traces";
  if (path.rfind("//", 0) == 0) path = path.substr(1);
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (size_t c = 0; c < connections; ++c) {
    workers.emplace_back([&] {
      ariadne::net::HttpClient client(url->host, url->port, std::chrono::seconds(60));
      ariadne::net::HeaderList headers = {{"Content-Type", "application/x-protobuf"}};
      if (!key.empty()) headers.emplace_back("x-honeycomb-team", key);
      for (;;) {
        if (g_stop.load()) return;
        uint64_t i = next.fetch_add(1);
        if (i >= requests) return;
        if (!skip.empty() && skip[i]) continue;
        const Request& request = bodies[i % bodies.size()];
        auto response = client.Request("POST", path, headers, request.body);
        // 429/503 mean "retry later" (backpressure); with --retries the request is sent again
        // after a pause (100 ms, doubling up to 2 s), as an OTLP exporter does.
        auto pause = std::chrono::milliseconds(100);
        for (int attempt = 0;
             attempt < retries && response.ok() &&
             (response->status == 503 || response->status == 429) && !g_stop.load();
             ++attempt) {
          retried.fetch_add(1);
          std::this_thread::sleep_for(pause);
          pause = std::min<std::chrono::milliseconds>(pause * 2, std::chrono::seconds(2));
          response = client.Request("POST", path, headers, request.body);
        }
        if (!response.ok() || response->status != 200) {
          if (failed.fetch_add(1) < 5)
            std::fprintf(stderr, "ariadne-gen: request failed: %s\n",
                         response.ok()
                             ? (std::to_string(response->status) + " " + response->body).c_str()
                             : response.status().ToString().c_str());
          continue;
        }
        if (acked_file) {
          ariadne::MutexLock lock(&acked_mu);
          const uint32_t index = static_cast<uint32_t>(i);
          std::fwrite(&index, 4, 1, acked_file);
          std::fflush(acked_file);
        }
        done.fetch_add(1);
        spans_done.fetch_add(request.spans);
      }
    });
  }
  std::thread progress([&] {
    while (done.load() + failed.load() < requests && !g_stop.load()) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::fprintf(stderr, "ariadne-gen: %llu/%llu requests, %.0f spans/s\n",
                   static_cast<unsigned long long>(done.load()),
                   static_cast<unsigned long long>(requests),
                   static_cast<double>(spans_done.load()) / elapsed);
    }
  });
  for (auto& w : workers) w.join();
  progress.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const uint64_t spans = spans_done.load();
  std::printf(
      "sent %llu spans in %.2f s: %.0f spans/s acknowledged (%llu failed requests, %llu retries "
      "after 503/429)\n",
      static_cast<unsigned long long>(spans), seconds, static_cast<double>(spans) / seconds,
      static_cast<unsigned long long>(failed.load()),
      static_cast<unsigned long long>(retried.load()));
  if (acked_file) std::fclose(acked_file);
  if (g_stop.load() && done.load() + failed.load() < requests) {
    std::fprintf(stderr, "ariadne-gen: stopped by a signal after %llu/%llu requests\n",
                 static_cast<unsigned long long>(done.load()),
                 static_cast<unsigned long long>(requests));
    return 3;
  }
  return failed.load() == 0 ? 0 : 1;
}
