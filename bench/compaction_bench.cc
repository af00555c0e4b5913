// Bytes per span on disk before and after compaction, on realistic spans (tools/gen).
//
//   compaction_bench [SPANS] [SPANS_PER_SEAL]
//
// Appends SPANS spans (default 1,000,000) through the embedded store, sealing a block every
// SPANS_PER_SEAL spans (default 16,384: a low-volume server's blocks), runs compaction, checks the
// span count, and prints block count and bytes per span before and after, then the bytes per span
// of each column section after compaction (compressed and raw, summed over the blocks; the
// `attr:*` sections one by one) so the costly columns stand out. Not a timed benchmark.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "columnar/block.h"
#include "common/env.h"
#include "sealed_spans.h"
#include "store/embedded/embedded_store.h"

using namespace ariadne;

namespace {

// Per section name: compressed and raw bytes over every block file in `dir`/blocks, plus the
// meta, directory and footer of each file as "(meta+directory)".
void PrintSections(const std::string& dir, uint64_t spans) {
  Env* env = Env::Default();
  auto names = env->ListDir(dir + "/blocks");
  if (!names.ok()) return;
  std::map<std::string, std::pair<uint64_t, uint64_t>> sizes;
  for (const std::string& name : *names) {
    if (name.size() < 4 || name.substr(name.size() - 4) != ".blk") continue;
    auto meta = columnar::ReadBlockMeta(env, dir + "/blocks/" + name);
    if (!meta.ok()) continue;
    uint64_t in_sections = 0;
    for (const auto& s : meta->sections) {
      sizes[s.name].first += s.compressed;
      sizes[s.name].second += s.raw;
      in_sections += s.compressed;
    }
    sizes["(meta+directory+header)"].first += meta->file_bytes - in_sections;
  }
  std::vector<std::pair<std::string, std::pair<uint64_t, uint64_t>>> rows(sizes.begin(),
                                                                          sizes.end());
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.second.first > b.second.first; });
  std::printf("%-28s %12s %12s\n", "section", "bytes/span", "raw/span");
  for (const auto& [name, size] : rows)
    std::printf("%-28s %12.3f %12.3f\n", name.c_str(),
                static_cast<double>(size.first) / static_cast<double>(spans),
                static_cast<double>(size.second) / static_cast<double>(spans));
}

}  // namespace

int main(int argc, char** argv) {
  const size_t spans = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  const size_t per_seal = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 16'384;
  const std::string dir = bench::ScratchDataDir("compaction-bench");
  store::embedded::EmbeddedStoreOptions options;
  options.data_dir = dir;
  options.sync = false;
  options.head_max_spans = per_seal * 4;  // seals are driven by Flush below
  options.maintenance.background = false;
  options.maintenance.compaction.enabled = true;
  options.maintenance.unlink_delay = std::chrono::milliseconds(0);
  auto opened = store::embedded::OpenEmbeddedStore(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
    return 1;
  }
  auto& store = **opened;
  Result<size_t> sent = bench::AppendWithSeals(&store, spans, per_seal);
  if (!sent.ok()) {
    std::fprintf(stderr, "%s\n", sent.status().ToString().c_str());
    return 1;
  }
  if (!store.Flush().ok()) return 1;
  store::StoreStats before = store.Stats();
  Status compacted = store::embedded::RunBlockMaintenance(&store);
  for (int i = 0; compacted.ok() && i < 16; ++i)
    compacted = store::embedded::RunBlockMaintenance(&store);
  store::StoreStats after = store.Stats();
  std::printf(
      "spans=%zu seal_every=%zu before: blocks=%llu bytes/span=%.2f after: blocks=%llu "
      "bytes/span=%.2f spans_after=%llu %s\n",
      *sent, per_seal, static_cast<unsigned long long>(before.blocks),
      static_cast<double>(before.block_bytes) / static_cast<double>(before.block_spans),
      static_cast<unsigned long long>(after.blocks),
      static_cast<double>(after.block_bytes) / static_cast<double>(after.block_spans),
      static_cast<unsigned long long>(after.block_spans),
      after.block_spans == before.block_spans ? "ok" : "SPAN COUNT CHANGED");
  PrintSections(dir, after.block_spans);
  (void)store.Close();
  std::filesystem::remove_all(dir);
  return after.block_spans == before.block_spans ? 0 : 1;
}
