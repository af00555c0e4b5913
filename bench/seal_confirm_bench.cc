// Seal time against the number of sealed blocks with the trace-summary index on
// (docs/PERFORMANCE.md, "Seals as blocks accumulate"): every seal checks each trace of the sealing
// head against every sealed block's trace-id Bloom filter and confirms the hits
// (trace_summaries.md, "The whole flag"), so its cost grows with the block count. Realistic spans
// (tools/gen) are appended through the embedded store, a block sealed (Flush) every SPANS_PER_SEAL
// spans; the Flush times are printed per group of blocks, with the side-file and block-file bytes
// read per seal. Not a timed assertion: the figures go to docs/PERFORMANCE.md.
//
//   seal_confirm_bench [SPANS] [SPANS_PER_SEAL] [GROUP]
//   (defaults 3,000,000 spans, 16,384 spans per seal, groups of 25 blocks)
//   ARIADNE_BENCH_DIGESTS=0 turns the side files' digests off (the seal as before them).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "common/env_wrapper.h"
#include "sealed_spans.h"
#include "store/embedded/embedded_store.h"

using namespace ariadne;
using Clock = std::chrono::steady_clock;

namespace {

// Counts the bytes read from block files by range (the seal's trace-id column reads).
class ReadCountingEnv final : public EnvWrapper {
 public:
  Result<std::string> ReadFileRange(const std::string& path, uint64_t offset,
                                    size_t length) override {
    Result<std::string> data = target()->ReadFileRange(path, offset, length);
    if (data.ok()) bytes += data->size();
    ++reads;
    if (path.size() > 4 && path.compare(path.size() - 4, 4, ".blk") == 0) ++block_reads;
    return data;
  }
  std::atomic<uint64_t> bytes{0}, reads{0}, block_reads{0};
};

}  // namespace

int main(int argc, char** argv) {
  const size_t spans = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 3'000'000;
  const size_t per_seal = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 16'384;
  const size_t group = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 25;
  const std::string dir = bench::ScratchDataDir("seal-bench");
  ReadCountingEnv env;
  store::embedded::EmbeddedStoreOptions options;
  options.data_dir = dir;
  options.env = &env;
  options.sync = false;
  options.trace_index = true;
  options.head_max_spans = per_seal * 4;  // seals are driven by Flush below
  options.maintenance.background = false;
  options.maintenance.compaction.enabled = false;
  // ARIADNE_BENCH_DIGESTS=0: no block digests (the seal confirms every meta-filter hit by the
  // block's trace-id column, as before them).
  if (const char* digests = std::getenv("ARIADNE_BENCH_DIGESTS"))
    options.trace_block_digests = std::string(digests) != "0";
  auto opened = store::embedded::OpenEmbeddedStore(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
    return 1;
  }
  auto& store = **opened;
  size_t blocks = 0;
  double group_ms = 0, max_ms = 0;
  uint64_t group_bytes = 0, group_reads = 0, group_block_reads = 0;
  uint64_t bytes0 = 0, reads0 = 0, block_reads0 = 0;  // the counters at the last seal's end
  std::printf("%-14s %14s %14s %18s %14s %20s\n", "blocks", "seal ms (avg)", "seal ms (max)",
              "bytes read/seal", "reads/seal", "block reads/seal");
  // Appends read nothing, so what the env read since the last seal is this seal's.
  Result<size_t> appended = bench::AppendWithSeals(&store, spans, per_seal, [&](double ms) {
    group_bytes += env.bytes.load() - bytes0;
    group_reads += env.reads.load() - reads0;
    group_block_reads += env.block_reads.load() - block_reads0;
    bytes0 = env.bytes.load(), reads0 = env.reads.load(), block_reads0 = env.block_reads.load();
    ++blocks;
    group_ms += ms;
    max_ms = std::max(max_ms, ms);
    if (blocks % group == 0) {
      std::printf("%5zu..%-7zu %14.1f %14.1f %18.0f %14.1f %20.1f\n", blocks - group, blocks - 1,
                  group_ms / group, max_ms, static_cast<double>(group_bytes) / group,
                  static_cast<double>(group_reads) / group,
                  static_cast<double>(group_block_reads) / group);
      std::fflush(stdout);
      group_ms = max_ms = 0;
      group_bytes = group_reads = group_block_reads = 0;
    }
  });
  if (!appended.ok()) {
    std::fprintf(stderr, "%s\n", appended.status().ToString().c_str());
    return 1;
  }
  store::StoreStats stats = store.Stats();
  std::printf("spans=%zu blocks=%llu split_traces=%llu\n", *appended,
              static_cast<unsigned long long>(stats.blocks),
              static_cast<unsigned long long>(stats.trace_index_split));
  (void)store.Close();
  std::filesystem::remove_all(dir);
  return 0;
}
