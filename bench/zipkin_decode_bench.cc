// Zipkin v2 JSON decode throughput (DecodeZipkinJson into a SpanBatch). Workload shaped like
// otlp_decode_bench's: one POST body = 512 spans of one service, each with a local and a remote
// endpoint, 10 tags (string values, as Zipkin sends them) and one annotation; 64-bit parent and
// span ids, 128-bit trace ids; eight different bodies are rotated. Reports spans/s (items) and
// body bytes/s. The answer is checked before timing.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "receivers/zipkin/zipkin_decoder.h"

namespace {

namespace zipkin = ::ariadne::receivers::zipkin;

constexpr int kSpansPerBatch = 512;
constexpr int kBatches = 8;

std::string Hex(std::mt19937_64& rng, int digits) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(static_cast<size_t>(digits), '0');
  for (char& c : out) c = kDigits[rng() % 16];
  out[0] = '1';  // never all zero
  return out;
}

std::string MakeBody(uint64_t seed) {
  std::mt19937_64 rng(seed);
  const std::string trace_id = Hex(rng, 32);
  std::string out = "[";
  for (int i = 0; i < kSpansPerBatch; ++i) {
    if (i) out += ',';
    const uint64_t start = 1700000000000000ull + rng() % 1000000;
    out += "{\"traceId\":\"" + (i % 16 == 0 ? Hex(rng, 32) : trace_id) + "\",\"parentId\":\"" +
           Hex(rng, 16) + "\",\"id\":\"" + Hex(rng, 16) +
           "\",\"kind\":\"SERVER\",\"name\":\"get /api/activities/" + std::to_string(rng() % 1000) +
           "\",\"timestamp\":" + std::to_string(start) +
           ",\"duration\":" + std::to_string(rng() % 100000) +
           ",\"localEndpoint\":{\"serviceName\":\"backend-flask\",\"ipv4\":\"10.0.3.17\"},"
           "\"remoteEndpoint\":{\"ipv4\":\"10.0." +
           std::to_string(rng() % 256) +
           ".7\",\"port\":443},"
           "\"annotations\":[{\"timestamp\":" +
           std::to_string(start + 5) +
           ",\"value\":\"wr\"}],"
           "\"tags\":{\"http.method\":\"GET\",\"http.route\":\"/api/activities/home\","
           "\"http.url\":\"https://api.example.com/api/activities/home?page=" +
           std::to_string(rng() % 100) +
           "\",\"http.user_agent\":\"Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0\","
           "\"user.id\":\"user-" +
           std::to_string(rng() % 100000) + "\",\"http.status_code\":\"" +
           std::to_string(200 + rng() % 300) + "\",\"http.response_content_length\":\"" +
           std::to_string(rng() % 100000) + "\",\"cache.hit\":\"" +
           ((rng() & 1) ? "true" : "false") + "\",\"db.duration_ms\":\"" +
           std::to_string(rng() % 100000) + "\",\"otel.status_code\":\"OK\"}}";
  }
  return out + "]";
}

struct Workload {
  std::vector<std::string> bodies;
  size_t bytes = 0;

  Workload() {
    for (int i = 0; i < kBatches; ++i) {
      bodies.push_back(MakeBody(2000 + i));
      bytes += bodies.back().size();
      // Check the answer before timing anything: every span kept, 9 tags + 3 endpoint attributes
      // each (otel.status_code goes into the status), one resource, one annotation per span.
      auto decoded = zipkin::DecodeZipkinJson(bodies.back());
      if (!decoded.ok() || decoded->rejected_spans != 0 ||
          decoded->batch.spans.size() != kSpansPerBatch || decoded->batch.resources.size() != 1 ||
          decoded->batch.events.size() != kSpansPerBatch ||
          decoded->batch.attributes.size() != kSpansPerBatch * 12 + 1) {
        std::fprintf(stderr, "benchmark workload does not decode as expected\n");
        std::abort();
      }
    }
  }
};

const Workload& GetWorkload() {
  static const Workload* workload = new Workload();
  return *workload;
}

void BM_ZipkinJsonDecodeToSpanBatch(benchmark::State& state) {
  const Workload& w = GetWorkload();
  size_t i = 0;
  for (auto _ : state) {
    auto decoded = zipkin::DecodeZipkinJson(w.bodies[i++ % kBatches]);
    benchmark::DoNotOptimize(decoded->batch.spans.data());
  }
  state.SetItemsProcessed(state.iterations() * kSpansPerBatch);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * (w.bytes / kBatches)));
  state.counters["bytes_per_span"] = static_cast<double>(w.bytes) / (kBatches * kSpansPerBatch);
}
BENCHMARK(BM_ZipkinJsonDecodeToSpanBatch);

}  // namespace
