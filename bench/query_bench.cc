// Query benchmarks over realistic spans (tools/gen/realistic_spans.h: 20 services × 10 names,
// 10 attributes incl. user.id from 10,000 values) loaded into the embedded store, sealed into
// blocks and cached in memory — the workload of ../shared/docs/dependencies.md §2, so figures
// compare with ClickHouse 18.16 measured on this machine. ARIADNE_BENCH_SPANS sets the row count
// (default 1,000,000; the PERFORMANCE.md figures use 10,000,000). Every benchmark checks its
// answer before timing.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "query/query_spec.h"
#include "store/embedded/embedded_store.h"
#include "tools/gen/realistic_spans.h"

namespace ariadne {
namespace {

constexpr uint64_t kStart = 1'764'000'000ULL * 1'000'000'000ULL;

uint64_t RssBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * 4096;
}

struct Dataset {
  std::unique_ptr<store::embedded::EmbeddedSpanStore> store;
  std::string dir;
  uint64_t spans = 0;
  model::TraceId some_trace;
  uint64_t end_unix_nano = 0;
};

Dataset& GetDataset() {
  static Dataset* data = [] {
    auto* d = new Dataset;
    const char* env = std::getenv("ARIADNE_BENCH_SPANS");
    const uint64_t target = env ? std::strtoull(env, nullptr, 10) : 1'000'000;
    d->dir = (std::filesystem::temp_directory_path() / "ariadne-query-bench").string();
    std::filesystem::remove_all(d->dir);
    store::embedded::EmbeddedStoreOptions options;
    options.data_dir = d->dir;
    options.sync = false;  // loading speed is not what this benchmark measures
    // The column cache as the server sizes it (ARIADNE_BENCH_CACHE_BYTES, default 256 MiB): the
    // benchmark measures queries as users run them, not with every block decoded in memory.
    const char* cache = std::getenv("ARIADNE_BENCH_CACHE_BYTES");
    options.column_cache_bytes = cache ? std::strtoull(cache, nullptr, 10) : 256ULL << 20;
    d->store = std::move(*store::embedded::OpenEmbeddedStore(options));
    gen::RealisticOptions gen_options;
    gen_options.start_unix_nano = kStart;
    gen_options.trace_interval_nano = 100'000;  // 10 M spans ≈ 2 hours of traffic
    gen::RealisticSpans gen(42, gen_options);
    std::fprintf(stderr, "query_bench: loading %llu spans...\n",
                 static_cast<unsigned long long>(target));
    while (d->spans < target) {
      model::SpanBatch batch = gen.Batch(4096);
      if (d->spans == 0) d->some_trace = batch.spans[0].trace_id;
      for (const auto& s : batch.spans)
        d->end_unix_nano = std::max(d->end_unix_nano, s.start_time_unix_nano + 1);
      d->spans += batch.spans.size();
      if (!d->store->Append("bench", std::move(batch)).ok()) std::abort();
      if (d->spans % 1'000'000 < 4096)
        std::fprintf(stderr, "query_bench: %llu spans\n",
                     static_cast<unsigned long long>(d->spans));
    }
    if (!d->store->Flush().ok()) std::abort();
    std::fprintf(
        stderr, "query_bench: %llu spans in %llu blocks, %.1f bytes/span on disk\n",
        static_cast<unsigned long long>(d->spans),
        static_cast<unsigned long long>(d->store->Stats().blocks),
        static_cast<double>(d->store->Stats().block_bytes) / static_cast<double>(d->spans));
    return d;
  }();
  return *data;
}

query::QuerySpec Spec(const std::string& body) {
  Dataset& d = GetDataset();
  std::string json = "{\"start_time\": " + std::to_string(kStart / 1'000'000'000ULL) +
                     ", \"end_time\": " + std::to_string(d.end_unix_nano / 1'000'000'000ULL + 1) +
                     ", " + body + "}";
  auto spec = query::ParseQuerySpec(json, kStart);
  if (!spec.ok()) {
    std::fprintf(stderr, "bad spec: %s\n", spec.status().ToString().c_str());
    std::abort();
  }
  return *spec;
}

void RunSpec(benchmark::State& state, const std::string& body, uint64_t expected_rows_min) {
  Dataset& d = GetDataset();
  query::QuerySpec spec = Spec(body);
  auto warm = d.store->RunQuery(spec);  // also loads every block into the cache
  if (!warm.ok() || warm->rows.size() < expected_rows_min) {
    state.SkipWithError("query returned too few rows");
    return;
  }
  for (auto _ : state) {
    auto r = d.store->RunQuery(spec);
    benchmark::DoNotOptimize(r->rows.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * d.spans));
  state.counters["rss_mb"] = static_cast<double>(RssBytes()) / 1e6;
  state.counters["spans"] = static_cast<double>(d.spans);
}

void BM_P99AndCountByService(benchmark::State& state) {
  RunSpec(
      state,
      R"("breakdowns":["service.name"],"calculations":[{"op":"COUNT"},{"op":"P99","column":"duration_ms"}])",
      20);
}
BENCHMARK(BM_P99AndCountByService)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_CountByNameWhereStatus500(benchmark::State& state) {
  RunSpec(
      state,
      R"("breakdowns":["name"],"filters":[{"column":"http.status_code","op":">=","value":500}])",
      100);
}
BENCHMARK(BM_CountByNameWhereStatus500)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_CountByNameWhereUserId(benchmark::State& state) {
  RunSpec(state,
          R"("breakdowns":["name"],"filters":[{"column":"user.id","op":"=","value":"user-42"}])",
          1);
}
BENCHMARK(BM_CountByNameWhereUserId)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_HeatmapOneService(benchmark::State& state) {
  RunSpec(state,
          R"("dataset":"service-3","calculations":[{"op":"HEATMAP","column":"duration_ms"}])", 1);
}
BENCHMARK(BM_HeatmapOneService)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_TraceById(benchmark::State& state) {
  Dataset& d = GetDataset();
  auto warm = d.store->GetTrace(d.some_trace);
  if (!warm.ok() || warm->spans.spans.empty()) {
    state.SkipWithError("trace not found");
    return;
  }
  for (auto _ : state) {
    auto t = d.store->GetTrace(d.some_trace);
    benchmark::DoNotOptimize(t->spans.spans.data());
  }
  state.counters["rss_mb"] = static_cast<double>(RssBytes()) / 1e6;
}
BENCHMARK(BM_TraceById)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace ariadne

BENCHMARK_MAIN();
