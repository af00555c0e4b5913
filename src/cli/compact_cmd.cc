// `ariadne compact`: merges the small blocks of a stopped server's data directory now, as the
// server's background compaction would later (or never, for spans of a window that is still open:
// --include-recent). For a bulk import or a benchmark, where every span falls in the current hour
// and `serve` would wait for that hour to end.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "cli/commands.h"
#include "store/embedded/embedded_store.h"

namespace ariadne::cli {
namespace {

double PerSpan(uint64_t bytes, uint64_t spans) {
  return spans == 0 ? 0.0 : static_cast<double>(bytes) / static_cast<double>(spans);
}

double MiB(uint64_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

}  // namespace

int RunCompact(const CompactConfig& config) {
  const auto started = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  std::error_code error;
  if (!std::filesystem::is_directory(config.data_dir, error)) {
    std::fprintf(stderr,
                 "ariadne compact: no data directory at %s; pass the --data-dir of the stopped "
                 "server\n",
                 config.data_dir.c_str());
    return 1;
  }
  store::embedded::EmbeddedStoreOptions options;
  options.data_dir = config.data_dir;
  options.trace_index = config.trace_index;
  options.maintenance.background = false;
  options.maintenance.unlink_delay = std::chrono::milliseconds(0);
  options.maintenance.compaction.enabled = true;
  options.maintenance.compaction.merge_open_windows = config.include_recent;
  options.maintenance.on_compaction = [&](const store::embedded::MaintenanceStats& stats) {
    std::fprintf(stderr, "[%7.1f s] %llu merges: %llu blocks (%.1f MiB) merged into %.1f MiB\n",
                 elapsed(), static_cast<unsigned long long>(stats.compactions),
                 static_cast<unsigned long long>(stats.compaction_input_blocks),
                 MiB(stats.compaction_bytes_in), MiB(stats.compaction_bytes_out));
  };
  auto opened = store::embedded::OpenEmbeddedStore(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "ariadne compact: %s\n", std::string(opened.status().message()).c_str());
    return 1;
  }
  store::embedded::EmbeddedSpanStore& store = **opened;
  const store::StoreStats before = store.Stats();
  std::fprintf(stderr, "ariadne compact: %s: %llu blocks, %llu spans, %.1f MiB (%.2f B/span)%s\n",
               config.data_dir.c_str(), static_cast<unsigned long long>(before.blocks),
               static_cast<unsigned long long>(before.block_spans), MiB(before.block_bytes),
               PerSpan(before.block_bytes, before.block_spans),
               config.include_recent ? "; windows still open are merged too" : "");
  // Each pass merges a bounded number of groups; go on until a pass merges nothing.
  uint64_t compactions = before.compactions;
  for (;;) {
    Status status = store::embedded::RunBlockMaintenance(&store);
    if (!status.ok()) {
      std::fprintf(stderr,
                   "ariadne compact: %s\nWhat was merged before this is kept; run it again to "
                   "go on (blocks it cannot read are left as they are).\n",
                   status.ToString().c_str());
      return 1;
    }
    const uint64_t now = store.Stats().compactions;
    if (now == compactions) break;
    compactions = now;
  }
  const store::StoreStats after = store.Stats();
  Status closed = store.Close();
  if (!closed.ok()) {
    std::fprintf(stderr, "ariadne compact: closing the store: %s\n", closed.ToString().c_str());
    return 1;
  }
  std::printf("%llu blocks -> %llu, %.1f MiB -> %.1f MiB (%.2f -> %.2f B/span) in %.1f s\n",
              static_cast<unsigned long long>(before.blocks),
              static_cast<unsigned long long>(after.blocks), MiB(before.block_bytes),
              MiB(after.block_bytes), PerSpan(before.block_bytes, before.block_spans),
              PerSpan(after.block_bytes, after.block_spans), elapsed());
  if (after.compactions == before.compactions && !config.include_recent) {
    std::printf(
        "nothing to merge among settled windows (a window settles 10 minutes after its hour "
        "ends); --include-recent merges the current hour too\n");
  }
  return 0;
}

}  // namespace ariadne::cli
