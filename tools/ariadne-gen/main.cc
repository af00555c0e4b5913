// ariadne-gen: a load generator that sends realistic traces over OTLP/HTTP (protobuf), for
// benchmarks and demos. Batches are generated before the clock starts so the generator's own
// cost stays out of the figure; every request must be acknowledged with a 200.
//
//   ariadne-gen --endpoint http://127.0.0.1:4318 --spans 2000000 --connections 8
#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "net/http_client.h"
#include "tools/gen/otlp_request.h"
#include "tools/gen/realistic_spans.h"

int main(int argc, char** argv) {
  CLI::App app{
      "ariadne-gen: send realistic traces to an OTLP/HTTP endpoint and measure throughput"};
  std::string endpoint = "http://127.0.0.1:4318";
  uint64_t total_spans = 1'000'000;
  size_t batch_spans = 512;
  size_t connections = 4;
  size_t distinct_batches = 512;
  uint64_t seed = 1;
  std::string key;
  app.add_option("--endpoint", endpoint, "OTLP/HTTP base URL (/v1/traces is appended)");
  app.add_option("--spans", total_spans, "spans to send in all");
  app.add_option("--batch", batch_spans, "spans per request");
  app.add_option("--connections", connections, "concurrent keep-alive connections");
  app.add_option("--distinct-batches", distinct_batches,
                 "distinct requests generated up front (then sent round-robin)");
  app.add_option("--seed", seed, "generator seed");
  app.add_option("--key", key, "x-honeycomb-team key");
  CLI11_PARSE(app, argc, argv);

  auto url = ariadne::net::ParseHttpUrl(endpoint);
  if (!url.ok()) {
    std::fprintf(stderr, "ariadne-gen: %s\n", url.status().ToString().c_str());
    return 2;
  }
  const uint64_t requests = (total_spans + batch_spans - 1) / batch_spans;
  distinct_batches = std::max<size_t>(1, std::min<size_t>(distinct_batches, requests));
  std::fprintf(stderr, "ariadne-gen: generating %zu distinct requests of %zu spans...\n",
               distinct_batches, batch_spans);
  std::vector<std::string> bodies;
  ariadne::gen::RealisticSpans gen(seed);
  size_t body_bytes = 0;
  for (size_t i = 0; i < distinct_batches; ++i) {
    auto batch = gen.Batch(batch_spans);
    batch.spans.resize(batch_spans);
    bodies.push_back(ariadne::gen::EncodeOtlpRequest(batch));
    body_bytes += bodies.back().size();
  }
  std::fprintf(
      stderr,
      "ariadne-gen: %.1f bytes/span on the wire; sending %llu requests over %zu connections\n",
      static_cast<double>(body_bytes) / static_cast<double>(distinct_batches * batch_spans),
      static_cast<unsigned long long>(requests), connections);

  std::atomic<uint64_t> next{0}, done{0}, failed{0};
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
        uint64_t i = next.fetch_add(1);
        if (i >= requests) return;
        auto response = client.Request("POST", path, headers, bodies[i % bodies.size()]);
        if (!response.ok() || response->status != 200) {
          if (failed.fetch_add(1) < 5)
            std::fprintf(stderr, "ariadne-gen: request failed: %s\n",
                         response.ok()
                             ? (std::to_string(response->status) + " " + response->body).c_str()
                             : response.status().ToString().c_str());
          continue;
        }
        done.fetch_add(1);
      }
    });
  }
  std::thread progress([&] {
    while (done.load() + failed.load() < requests) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::fprintf(stderr, "ariadne-gen: %llu/%llu requests, %.0f spans/s\n",
                   static_cast<unsigned long long>(done.load()),
                   static_cast<unsigned long long>(requests),
                   static_cast<double>(done.load() * batch_spans) / elapsed);
    }
  });
  for (auto& w : workers) w.join();
  progress.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const uint64_t spans = done.load() * batch_spans;
  std::printf("sent %llu spans in %.2f s: %.0f spans/s acknowledged (%llu failed requests)\n",
              static_cast<unsigned long long>(spans), seconds, static_cast<double>(spans) / seconds,
              static_cast<unsigned long long>(failed.load()));
  return failed.load() == 0 ? 0 : 1;
}
