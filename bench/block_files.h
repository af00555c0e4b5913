// BlockFilesOf: the block files of an embedded store's data directory, in id order, for the
// benchmarks that measure sealed blocks offline (block_sizes, cache_part_sizes).
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "common/env.h"
#include "common/status.h"

namespace ariadne::bench {

// Paths of at most `limit` `.blk` files of DATA_DIR/blocks, sorted (block ids are zero-padded).
inline Result<std::vector<std::string>> BlockFilesOf(const std::string& data_dir, size_t limit) {
  const std::string dir = data_dir + "/blocks";
  Result<std::vector<std::string>> names = Env::Default()->ListDir(dir);
  if (!names.ok()) return names.status().WithContext("listing the blocks of " + data_dir);
  std::sort(names->begin(), names->end());
  std::vector<std::string> paths;
  for (const std::string& name : *names) {
    if (paths.size() >= limit) break;
    if (name.size() >= 4 && name.compare(name.size() - 4, 4, ".blk") == 0)
      paths.push_back(dir + "/" + name);
  }
  return paths;
}

}  // namespace ariadne::bench
