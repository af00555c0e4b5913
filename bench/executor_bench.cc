// The query executor alone, one thread, over sealed in-memory blocks of realistic spans
// (tools/gen/realistic_spans.h): what Consume + Merge + Finish cost per span, without block
// loading or the store's scan threads — so a change to the executor shows up even on a busy
// machine (the figures are CPU time). ARIADNE_BENCH_SPANS sets the row count (default 1,000,000),
// in blocks of 65,536 spans. Each benchmark checks its answer before timing.
//
//   ARIADNE_BENCH_SPANS=2000000 build/bin/executor_bench
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "columnar/block.h"
#include "query/exec/executor.h"
#include "query/query_spec.h"
#include "tools/gen/realistic_spans.h"

namespace ariadne {
namespace {

constexpr uint64_t kStart = 1'764'000'000ULL * 1'000'000'000ULL;

struct Blocks {
  std::vector<std::shared_ptr<const columnar::Block>> blocks;
  uint64_t spans = 0;
  uint64_t end_unix_nano = 0;
};

const Blocks& GetBlocks() {
  static const Blocks* data = [] {
    auto* d = new Blocks;
    const char* env = std::getenv("ARIADNE_BENCH_SPANS");
    const uint64_t target = env ? std::strtoull(env, nullptr, 10) : 1'000'000;
    gen::RealisticOptions options;
    options.start_unix_nano = kStart;
    options.trace_interval_nano = 100'000;
    gen::RealisticSpans gen(42, options);
    auto head = std::make_unique<columnar::BlockBuilder>("bench");
    while (d->spans < target) {
      model::SpanBatch batch = gen.Batch(4096);
      for (const auto& s : batch.spans)
        d->end_unix_nano = std::max(d->end_unix_nano, s.start_time_unix_nano + 1);
      d->spans += batch.spans.size();
      head->Append(batch);
      if (head->num_rows() >= 65536 || d->spans >= target) {
        d->blocks.push_back(head->Seal());
        head = std::make_unique<columnar::BlockBuilder>("bench");
      }
    }
    std::fprintf(stderr, "executor_bench: %llu spans in %zu blocks\n",
                 static_cast<unsigned long long>(d->spans), d->blocks.size());
    return d;
  }();
  return *data;
}

query::QuerySpec Spec(const std::string& body) {
  const Blocks& d = GetBlocks();
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

Result<query::QueryResult> Run(const query::QuerySpec& spec) {
  query::QueryBudget budget(query::ExecContext{{0, 0}, nullptr});  // no limits
  query::QueryExecutor executor(spec, &budget);
  for (const auto& block : GetBlocks().blocks) ARIADNE_RETURN_IF_ERROR(executor.Consume(*block));
  return executor.Finish();
}

void RunSpec(benchmark::State& state, const std::string& body, size_t expected_rows_min) {
  const query::QuerySpec spec = Spec(body);
  auto warm = Run(spec);
  if (!warm.ok() || warm->rows.size() < expected_rows_min) {
    state.SkipWithError("query failed or returned too few rows");
    return;
  }
  for (auto _ : state) {
    auto r = Run(spec);
    benchmark::DoNotOptimize(r->rows.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * GetBlocks().spans));
}

constexpr const char* kP99ByService =
    R"("breakdowns":["service.name"],"calculations":[{"op":"COUNT"},{"op":"P99","column":"duration_ms"}])";

void BM_P99AndCountByService(benchmark::State& state) { RunSpec(state, kP99ByService, 20); }
BENCHMARK(BM_P99AndCountByService)->Unit(benchmark::kMillisecond);

void BM_P99AndCountByServiceExact(benchmark::State& state) {
  RunSpec(state, std::string("\"exact\":true,") + kP99ByService, 20);
}
BENCHMARK(BM_P99AndCountByServiceExact)->Unit(benchmark::kMillisecond);

void BM_HeatmapOneService(benchmark::State& state) {
  RunSpec(state,
          R"("dataset":"service-3","calculations":[{"op":"HEATMAP","column":"duration_ms"}])", 1);
}
BENCHMARK(BM_HeatmapOneService)->Unit(benchmark::kMillisecond);

// As bench/compare_clickhouse asks it: the service as a filter rather than the dataset.
void BM_HeatmapServiceFilter(benchmark::State& state) {
  RunSpec(
      state,
      R"("filters":[{"column":"service.name","op":"=","value":"service-3"}],"calculations":[{"op":"HEATMAP","column":"duration_ms"}])",
      1);
}
BENCHMARK(BM_HeatmapServiceFilter)->Unit(benchmark::kMillisecond);

void BM_CountByNameWhereUserId(benchmark::State& state) {
  RunSpec(state,
          R"("breakdowns":["name"],"filters":[{"column":"user.id","op":"=","value":"user-42"}])",
          1);
}
BENCHMARK(BM_CountByNameWhereUserId)->Unit(benchmark::kMillisecond);

void BM_CountByNameWhereStatus500(benchmark::State& state) {
  RunSpec(
      state,
      R"("breakdowns":["name"],"filters":[{"column":"http.status_code","op":">=","value":500}])",
      100);
}
BENCHMARK(BM_CountByNameWhereStatus500)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ariadne

BENCHMARK_MAIN();
