// Ingest benchmarks: OTLP protobuf decode → columnar head append, head sealing + block encoding
// (with bytes per span on disk), and durable appends through the embedded store (WAL + fsync).
// Batches are 512 realistic spans with 10 attributes each (tools/gen/realistic_spans.h).
// Every benchmark checks its result before timing.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "columnar/block.h"
#include "receivers/otlp/otlp_codec.h"
#include "store/embedded/embedded_store.h"
#include "tools/gen/otlp_request.h"
#include "tools/gen/realistic_spans.h"

namespace ariadne {
namespace {

constexpr size_t kBatchSpans = 512;

struct Corpus {
  std::vector<std::shared_ptr<const std::string>> requests;
  size_t spans_per_request = 0;
};

const Corpus& GetCorpus() {
  static const Corpus corpus = [] {
    Corpus c;
    gen::RealisticSpans gen(42);
    for (int i = 0; i < 8; ++i) {
      model::SpanBatch batch = gen.Batch(kBatchSpans);
      // Trim to exactly 512 spans so figures are per 512-span batch.
      batch.spans.resize(kBatchSpans);
      c.requests.push_back(std::make_shared<const std::string>(gen::EncodeOtlpRequest(batch)));
    }
    c.spans_per_request = kBatchSpans;
    return c;
  }();
  return corpus;
}

void BM_OtlpDecodeThenHeadAppend(benchmark::State& state) {
  const Corpus& corpus = GetCorpus();
  auto check = receivers::otlp::DecodeProtobufRequest(corpus.requests[0]);
  if (!check.ok() || check->batch.spans.size() != kBatchSpans) {
    state.SkipWithError("decoder returned the wrong span count");
    return;
  }
  auto builder = std::make_unique<columnar::BlockBuilder>("bench");
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const auto& body = corpus.requests[i++ % corpus.requests.size()];
    auto decoded = receivers::otlp::DecodeProtobufRequest(body);
    builder->Append(decoded->batch);
    bytes += body->size();
    if (builder->num_rows() >= 64 * 1024) {
      state.PauseTiming();
      builder = std::make_unique<columnar::BlockBuilder>("bench");
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatchSpans));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_OtlpDecodeThenHeadAppend)->Unit(benchmark::kMicrosecond);

void BM_OtlpDecodeOnly(benchmark::State& state) {
  const Corpus& corpus = GetCorpus();
  size_t i = 0;
  for (auto _ : state) {
    auto decoded =
        receivers::otlp::DecodeProtobufRequest(corpus.requests[i++ % corpus.requests.size()]);
    benchmark::DoNotOptimize(decoded->batch.spans.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatchSpans));
}
BENCHMARK(BM_OtlpDecodeOnly)->Unit(benchmark::kMicrosecond);

// Seals a 64 Ki-span head and encodes the block file; reports on-disk bytes per span.
void BM_SealAndEncodeBlock(benchmark::State& state) {
  gen::RealisticSpans gen(7);
  columnar::BlockBuilder builder("bench");
  while (builder.num_rows() < 64 * 1024) builder.Append(gen.Batch(kBatchSpans));
  size_t file_bytes = 0;
  for (auto _ : state) {
    auto sealed = builder.Seal();
    columnar::BlockMeta meta = sealed->ComputeMeta();
    std::string file = columnar::EncodeBlockFile(*sealed, meta);
    file_bytes = file.size();
    benchmark::DoNotOptimize(file.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * builder.num_rows()));
  state.counters["bytes_per_span"] =
      static_cast<double>(file_bytes) / static_cast<double>(builder.num_rows());
}
BENCHMARK(BM_SealAndEncodeBlock)->Unit(benchmark::kMillisecond)->Iterations(3);

// Durable appends (WAL write + fdatasync group commit + head append) from several threads.
void BM_StoreAppendDurable(benchmark::State& state) {
  static std::unique_ptr<store::embedded::EmbeddedSpanStore> store;
  static std::string dir;
  if (state.thread_index() == 0) {
    dir = (std::filesystem::temp_directory_path() / "ariadne-bench-store").string();
    std::filesystem::remove_all(dir);
    store::embedded::EmbeddedStoreOptions options;
    options.data_dir = dir;
    store = std::move(*store::embedded::OpenEmbeddedStore(options));
  }
  const Corpus& corpus = GetCorpus();
  size_t i = static_cast<size_t>(state.thread_index());
  for (auto _ : state) {
    auto decoded =
        receivers::otlp::DecodeProtobufRequest(corpus.requests[i++ % corpus.requests.size()]);
    Status s = store->Append("bench", std::move(decoded->batch));
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatchSpans));
  if (state.thread_index() == 0) {
    state.counters["wal_syncs"] = static_cast<double>(store->Stats().wal_syncs);
    (void)store->Close();
    store.reset();
    std::filesystem::remove_all(dir);
  }
}
BENCHMARK(BM_StoreAppendDurable)
    ->Unit(benchmark::kMicrosecond)
    ->Threads(1)
    ->Threads(8)
    ->UseRealTime();

}  // namespace
}  // namespace ariadne

BENCHMARK_MAIN();
