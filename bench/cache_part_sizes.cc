// What the column cache holds per span for the columns of the filtered COUNTs (issue 11): for
// every block file (or the first N), each unit read from the file and kept as the cache keeps it
// (column_parts.h: MakeCachedPart), and in the earlier forms (WithEarlierForms: the forms before
// the compact ones), summed and printed as bytes per span and as the total over the blocks read.
//
//   cache_part_sizes DATA_DIR [--limit N]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "block_files.h"
#include "columnar/block.h"
#include "common/env.h"
#include "store/embedded/column_parts.h"

using namespace ariadne;
using store::embedded::ColumnUnit;

int main(int argc, char** argv) {
  CLI::App app{"What the column cache holds per span for the filtered COUNTs' columns"};
  std::string data_dir;
  size_t limit = SIZE_MAX;
  app.add_option("data_dir", data_dir, "the store's data directory")->required();
  app.add_option("--limit", limit, "read only the first N block files");
  CLI11_PARSE(app, argc, argv);
  using columnar::ColumnSet;
  const std::vector<ColumnUnit> units = {
      {ColumnSet::kStart, false, {}},
      {ColumnSet::kName, false, {}},
      {ColumnSet::kTraceState, false, {}},
      {0, false, "http.status_code"},
      {0, false, "user.id"},
      {0, false, "app.feature_flag"},
  };
  auto paths = bench::BlockFilesOf(data_dir, limit);
  if (!paths.ok()) {
    std::fprintf(stderr, "%s\n", paths.status().ToString().c_str());
    return 1;
  }
  std::map<std::string, std::pair<uint64_t, uint64_t>> bytes;  // unit: (now, earlier forms)
  uint64_t spans = 0;
  size_t blocks = 0;
  for (const std::string& path : *paths) {
    auto meta = columnar::ReadBlockMeta(Env::Default(), path);
    if (!meta.ok()) continue;
    for (const ColumnUnit& unit : units) {
      auto block = columnar::ReadBlockColumns(Env::Default(), path, *meta, unit.AsSet());
      if (!block.ok()) {
        std::fprintf(stderr, "%s: %s\n", path.c_str(), block.status().ToString().c_str());
        return 1;
      }
      auto part = store::embedded::MakeCachedPart(**block, unit);
      bytes[unit.CacheKey()].first += part->Bytes();
      bytes[unit.CacheKey()].second += store::embedded::WithEarlierForms(part)->Bytes();
    }
    spans += meta->num_rows;
    ++blocks;
  }
  std::printf("%zu blocks, %llu spans (%.0f per block)\n", blocks,
              static_cast<unsigned long long>(spans), blocks ? double(spans) / blocks : 0.0);
  std::printf("%-20s %14s %14s %12s %12s\n", "unit", "B/span now", "B/span before", "MiB now",
              "MiB before");
  for (const auto& [key, b] : bytes)
    std::printf("%-20s %14.3f %14.3f %12.1f %12.1f\n", key.c_str(), double(b.first) / spans,
                double(b.second) / spans, b.first / 1048576.0, b.second / 1048576.0);
  return 0;
}
