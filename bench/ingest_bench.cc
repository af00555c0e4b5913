// Ingest benchmarks: OTLP protobuf decode → columnar head append, head sealing + block encoding
// (with bytes per span on disk), and durable appends through the embedded store (WAL + fsync).
// Batches are 512 realistic spans with 10 attributes each (tools/gen/realistic_spans.h).
// Every benchmark checks its result before timing.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "columnar/block.h"
#include "receivers/otlp/otlp_codec.h"
#include "store/embedded/embedded_store.h"
#include "store/service_graph.h"
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

// The service-graph builder as ingest drives it: 400 batches of 512 spans seen 5 ms apart (≈ 100 k
// spans/s; children before parents, as SDKs export them) with a pairing window of 1 s, so after the
// first fifth of the run every batch expires what arrived a window earlier. With a delay of D
// batches, the spans of every other resource (service process) arrive D batches late, as a
// process's own exporter holds them (OTel's batch processor waits up to 5 s): their children and
// parents in the other processes wait in the pairing tables meanwhile.
void BM_ServiceGraphObserve(benchmark::State& state) {
  const size_t delay = static_cast<size_t>(state.range(0));
  static const std::vector<std::pair<model::SpanBatch, model::SpanBatch>> halves = [] {
    gen::RealisticSpans gen(42);
    std::vector<std::pair<model::SpanBatch, model::SpanBatch>> out;
    for (int i = 0; i < 400; ++i) {
      model::SpanBatch batch = gen.Batch(kBatchSpans);
      // SDKs export a span when it ends, so children usually come before their parents.
      std::reverse(batch.spans.begin(), batch.spans.end());
      model::SpanBatch on_time = batch.Clone(), late = std::move(batch);
      std::erase_if(on_time.spans, [](const model::Span& s) { return s.resource_index % 2; });
      std::erase_if(late.spans, [](const model::Span& s) { return s.resource_index % 2 == 0; });
      out.emplace_back(std::move(on_time), std::move(late));
    }
    return out;
  }();
  constexpr uint64_t kStepNano = 5'000'000;
  size_t spans = 0;
  for (auto _ : state) {
    store::ServiceGraphBuilder::Options options;
    options.pairing_window_nano = 1'000'000'000;
    store::ServiceGraphBuilder graph(options);
    uint64_t now = 1'700'000'000'000'000'000ULL;
    for (size_t step = 0; step < halves.size() + delay; ++step) {
      if (step < halves.size()) graph.Observe("prod", halves[step].first, now);
      if (step >= delay) graph.Observe("prod", halves[step - delay].second, now);
      now += kStepNano;
    }
    spans += 400 * kBatchSpans;
    graph.Expire(now + 2 * options.pairing_window_nano);
    if (graph.Get("prod", 0, UINT64_MAX).edges.empty()) state.SkipWithError("no edges");
  }
  state.SetItemsProcessed(static_cast<int64_t>(spans));
}
BENCHMARK(BM_ServiceGraphObserve)->Unit(benchmark::kMillisecond)->Arg(0)->Arg(100);

// A seal's first step of the `whole` check (EmbeddedStore::HaveSealedSpans): every trace of the
// sealing head probed against every sealed block's trace-id Bloom filter (600 blocks of 16,384
// traces, as 100 M spans make; 16,384 head traces, none sealed before). Arg 0 hashes the id for
// each block (as the seal did), arg 1 once per trace (TraceIdBloom::HashOf). Items: probes.
void BM_SealBloomProbe(benchmark::State& state) {
  constexpr size_t kBlocks = 600, kTracesPerBlock = 16'384, kHeadTraces = 16'384;
  const bool hash_once = state.range(0) == 1;
  static const std::pair<std::vector<columnar::TraceIdBloom>, std::vector<model::TraceId>> data =
      [] {
        std::mt19937_64 rng(42);
        auto random_id = [&] {
          model::TraceId id;
          for (size_t b = 0; b < id.bytes.size(); b += 8) {
            const uint64_t word = rng();
            std::memcpy(id.bytes.data() + b, &word, 8);
          }
          return id;
        };
        std::vector<columnar::TraceIdBloom> blooms;
        for (size_t b = 0; b < kBlocks; ++b) {
          columnar::TraceIdBloom bloom(kTracesPerBlock);
          for (size_t t = 0; t < kTracesPerBlock; ++t) bloom.Add(random_id());
          blooms.push_back(std::move(bloom));
        }
        std::vector<model::TraceId> head;
        for (size_t t = 0; t < kHeadTraces; ++t) head.push_back(random_id());
        return std::make_pair(std::move(blooms), std::move(head));
      }();
  const auto& [blooms, head] = data;
  auto probe = [&](bool once) {
    size_t hits = 0;
    std::vector<columnar::TraceIdBloom::Hash> hashes;
    if (once) {
      hashes.resize(head.size());
      for (size_t i = 0; i < head.size(); ++i) hashes[i] = columnar::TraceIdBloom::HashOf(head[i]);
    }
    for (const columnar::TraceIdBloom& bloom : blooms)
      for (size_t i = 0; i < head.size(); ++i)
        hits += once ? bloom.MayContain(hashes[i]) : bloom.MayContain(head[i]);
    return hits;
  };
  // Both ways give the same answer, and about the filters' 1 % of false positives.
  const size_t expected = probe(false);
  if (probe(true) != expected || expected > kBlocks * kHeadTraces / 50)
    state.SkipWithError("probe answers differ or too many false positives");
  for (auto _ : state) benchmark::DoNotOptimize(probe(hash_once));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBlocks * kHeadTraces));
  state.counters["false_positives"] = static_cast<double>(expected);
}
BENCHMARK(BM_SealBloomProbe)->Unit(benchmark::kMillisecond)->Arg(0)->Arg(1);

}  // namespace
}  // namespace ariadne

BENCHMARK_MAIN();
