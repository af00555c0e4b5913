// SDK hot path and export throughput.
//   BM_SpanStart5AttrsEnd   span start + 5 attributes + end, always-on sampler, dropping processor
//   BM_SpanStartEnd         start + end only (opentelemetry-cpp publishes ~150 ns for this)
//   BM_SpanNotSampled       the same with an always-off sampler (non-recording span)
//   BM_SpanBatchProcessor   start + 5 attributes + end into the real batch processor's queue
//   BM_OtlpEncode           ExportTraceServiceRequest encoding, 512 spans × 10 attributes
//   BM_OtlpEncodeGzip       the same plus gzip
//   BM_XRayDocuments        segment documents for a 10-span trace
// Each benchmark checks its output once before timing.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>

#include "ariadne/sdk/otlp_exporter.h"
#include "ariadne/sdk/processor.h"
#include "ariadne/sdk/tracer.h"
#include "ariadne/sdk/xray_exporter.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace sdk = ariadne::sdk;

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "sdk_bench: check failed: %s\n", what);
    std::abort();
  }
}

class DropProcessor final : public sdk::SpanProcessor {
 public:
  void OnEnd(sdk::SpanDataRef&& span) override {
    if (check_next) {
      check_next = false;
      Check(span->attribute_count() == expected_attributes, "attribute count");
      Check(span->end_ns() >= span->start_ns(), "end after start");
    }
  }
  bool ForceFlush(std::chrono::milliseconds) override { return true; }
  bool Shutdown(std::chrono::milliseconds) override { return true; }
  bool check_next = true;
  size_t expected_attributes = 5;
};

class NullExporter final : public sdk::SpanExporter {
 public:
  sdk::ExportResult Export(std::span<const sdk::SpanDataRef>) override {
    return sdk::ExportResult::kSuccess;
  }
};

std::unique_ptr<sdk::TracerProvider> MakeProvider(std::unique_ptr<sdk::Sampler> sampler,
                                                  size_t expected_attributes) {
  sdk::TracerProviderOptions o;
  o.resource = sdk::Resource({sdk::OwnedAttribute("service.name", "bench")});
  o.sampler = std::move(sampler);
  auto p = std::make_unique<sdk::TracerProvider>(std::move(o));
  auto drop = std::make_unique<DropProcessor>();
  drop->expected_attributes = expected_attributes;
  p->AddSpanProcessor(std::move(drop));
  return p;
}

inline void FiveAttributes(sdk::Span& span, int64_t i) {
  span.SetAttribute("http.method", "GET");
  span.SetAttribute("http.route", "/api/activities/home");
  span.SetAttribute("http.status_code", 200);
  span.SetAttribute("app.result_length", i);
  span.SetAttribute("app.cached", true);
}

void BM_SpanStart5AttrsEnd(benchmark::State& state) {
  auto provider = MakeProvider(sdk::MakeAlwaysOnSampler(), 5);
  sdk::Tracer& tracer = provider->GetTracer("bench");
  int64_t i = 0;
  for (auto _ : state) {
    sdk::Span span = tracer.StartSpan("home-activities-mock-data");
    FiveAttributes(span, ++i);
    span.End();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SpanStart5AttrsEnd);

void BM_SpanStartEnd(benchmark::State& state) {
  auto provider = MakeProvider(sdk::MakeAlwaysOnSampler(), 0);
  sdk::Tracer& tracer = provider->GetTracer("bench");
  for (auto _ : state) {
    sdk::Span span = tracer.StartSpan("home-activities-mock-data");
    span.End();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SpanStartEnd);

void BM_SpanNotSampled(benchmark::State& state) {
  auto provider = MakeProvider(sdk::MakeAlwaysOffSampler(), 0);
  sdk::Tracer& tracer = provider->GetTracer("bench");
  int64_t i = 0;
  for (auto _ : state) {
    sdk::Span span = tracer.StartSpan("home-activities-mock-data");
    FiveAttributes(span, ++i);
    Check(!span.IsRecording(), "non-recording");
    span.End();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SpanNotSampled);

void BM_SpanBatchProcessor(benchmark::State& state) {
  sdk::TracerProviderOptions o;
  o.sampler = sdk::MakeAlwaysOnSampler();
  sdk::TracerProvider provider(std::move(o));
  sdk::BatchSpanProcessorOptions bo;
  bo.max_queue_size = 1 << 16;
  auto bsp = std::make_unique<sdk::BatchSpanProcessor>(std::make_unique<NullExporter>(), bo);
  sdk::BatchSpanProcessor* raw = bsp.get();
  provider.AddSpanProcessor(std::move(bsp));
  sdk::Tracer& tracer = provider.GetTracer("bench");
  int64_t i = 0;
  for (auto _ : state) {
    sdk::Span span = tracer.StartSpan("home-activities-mock-data");
    FiveAttributes(span, ++i);
    span.End();
  }
  provider.ForceFlush();
  state.counters["dropped"] = static_cast<double>(raw->dropped_spans());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SpanBatchProcessor);

// 512 spans with 10 attributes (6 string, 2 int, 1 bool, 1 double), as in dependencies.md §3.
std::vector<sdk::SpanDataRef> MakeBatch(sdk::TracerProvider& provider) {
  auto mem = std::make_unique<sdk::InMemorySpanExporter>();
  sdk::InMemorySpanExporter* exporter = mem.get();
  provider.AddSpanProcessor(std::make_unique<sdk::SimpleSpanProcessor>(std::move(mem)));
  sdk::Tracer& tracer = provider.GetTracer("bench", "1.0");
  for (int i = 0; i < 512; ++i) {
    sdk::Span span = tracer.StartSpan("GET /api/activities/home", {.kind = sdk::SpanKind::kServer});
    span.SetAttribute("http.method", "GET");
    span.SetAttribute("http.route", "/api/activities/home");
    span.SetAttribute("http.target", "/api/activities/home?page=" + std::to_string(i));
    span.SetAttribute("net.host.name", "backend-flask");
    span.SetAttribute("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64)");
    span.SetAttribute("app.request_id", std::to_string(1000000 + i * 7919));
    span.SetAttribute("http.status_code", 200);
    span.SetAttribute("app.result_length", i % 10);
    span.SetAttribute("app.cached", i % 2 == 0);
    span.SetAttribute("app.ratio", i / 512.0);
  }
  return exporter->Take();
}

void BM_OtlpEncode(benchmark::State& state) {
  sdk::TracerProvider provider(
      {.resource = sdk::Resource({sdk::OwnedAttribute("service.name", "backend-flask")})});
  auto batch = MakeBatch(provider);
  std::string out;
  sdk::EncodeExportTraceServiceRequest(batch, out);
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest req;
  Check(req.ParseFromString(out), "protobuf parses");
  Check(req.resource_spans(0).scope_spans(0).spans_size() == 512, "512 spans");
  Check(req.resource_spans(0).scope_spans(0).spans(7).attributes_size() == 10, "10 attributes");
  for (auto _ : state) {
    out.clear();
    sdk::EncodeExportTraceServiceRequest(batch, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * 512);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(out.size()));
  state.counters["bytes_per_span"] = static_cast<double>(out.size()) / 512;
}
BENCHMARK(BM_OtlpEncode);

void BM_OtlpEncodeGzip(benchmark::State& state) {
  sdk::TracerProvider provider({});
  auto batch = MakeBatch(provider);
  std::string out, gz;
  for (auto _ : state) {
    out.clear();
    sdk::EncodeExportTraceServiceRequest(batch, out);
    gz = sdk::GzipCompress(out);
    benchmark::DoNotOptimize(gz.data());
  }
  Check(!gz.empty() && gz.size() < out.size(), "gzip shrinks");
  state.SetItemsProcessed(state.iterations() * 512);
  state.counters["gzip_ratio"] = static_cast<double>(out.size()) / gz.size();
}
BENCHMARK(BM_OtlpEncodeGzip);

void BM_XRayDocuments(benchmark::State& state) {
  sdk::TracerProvider provider({});
  auto mem = std::make_unique<sdk::InMemorySpanExporter>();
  sdk::InMemorySpanExporter* exporter = mem.get();
  provider.AddSpanProcessor(std::make_unique<sdk::SimpleSpanProcessor>(std::move(mem)));
  sdk::Tracer& tracer = provider.GetTracer("bench");
  {
    sdk::Span root = tracer.StartSpan("/api/activities/home", {.kind = sdk::SpanKind::kServer});
    root.SetAttribute("http.method", "GET");
    root.SetAttribute("http.status_code", 200);
    sdk::Scope scope = root.Activate();
    for (int i = 0; i < 9; ++i) {
      sdk::Span child = tracer.StartSpan("child");
      child.SetAttribute("app.index", i);
    }
  }
  auto spans = exporter->Take();
  const sdk::SpanData& root = *spans.back();
  std::vector<const sdk::SpanData*> children;
  for (size_t i = 0; i + 1 < spans.size(); ++i) children.push_back(spans[i].get());
  Check(sdk::BuildXRayDatagrams(root, children, 65507).size() == 1, "one datagram");
  for (auto _ : state) {
    auto d = sdk::BuildXRayDatagrams(root, children, 65507);
    benchmark::DoNotOptimize(d.data());
  }
  state.SetItemsProcessed(state.iterations() * 10);
}
BENCHMARK(BM_XRayDocuments);

}  // namespace
