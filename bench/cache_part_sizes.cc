// What the column cache holds per span for the columns of the filtered COUNTs (issue 11): for
// every block file (or the first N), each unit read from the file and kept as the cache keeps it
// (column_parts.h: MakeCachedPart), and in the earlier forms (WithEarlierForms: the forms before
// the compact ones), summed and printed as bytes per span and as the total over the blocks read.
//
//   cache_part_sizes DATA_DIR [--limit N]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "columnar/block.h"
#include "common/env.h"
#include "store/embedded/column_parts.h"

using namespace ariadne;
using store::embedded::ColumnUnit;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: cache_part_sizes DATA_DIR [--limit N]\n");
    return 2;
  }
  size_t limit = SIZE_MAX;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
      limit = std::strtoull(argv[++i], nullptr, 10);
    } else {
      std::fprintf(stderr, "unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  using columnar::ColumnSet;
  const std::vector<ColumnUnit> units = {
      {ColumnSet::kStart, false, {}},
      {ColumnSet::kName, false, {}},
      {ColumnSet::kTraceState, false, {}},
      {0, false, "http.status_code"},
      {0, false, "user.id"},
      {0, false, "app.feature_flag"},
  };
  const std::string dir = std::string(argv[1]) + "/blocks";
  auto names = Env::Default()->ListDir(dir);
  if (!names.ok()) {
    std::fprintf(stderr, "%s\n", names.status().ToString().c_str());
    return 1;
  }
  std::sort(names->begin(), names->end());
  std::map<std::string, std::pair<uint64_t, uint64_t>> bytes;  // unit: (now, earlier forms)
  uint64_t spans = 0;
  size_t blocks = 0;
  for (const std::string& name : *names) {
    if (blocks >= limit) break;
    if (name.size() < 4 || name.substr(name.size() - 4) != ".blk") continue;
    const std::string path = dir + "/" + name;
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
