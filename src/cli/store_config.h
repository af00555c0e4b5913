// The store's retention settings as `ariadne serve` takes them: --retention DURATION,
// --max-disk SIZE and --store-config FILE (per-environment overrides), turned into the embedded
// store's RetentionConfig. docs/operations.md ("Retention and disk use") describes them.
//
//   DURATION: a number and a unit: 90s, 30m, 12h, 7d, 2w; "0" or "off": keep forever.
//   SIZE:     a number and a unit: 500MiB, 50GiB, 2TiB (also KiB, B, MB, GB, TB); "0" or "off":
//             no limit; "auto" (the default): half of the space free on the data directory's
//             filesystem at start, plus what the store's blocks already use.
//   FILE:     JSON {"retention": D, "max_disk": S,
//                   "environments": {"prod": {"retention": D, "max_disk": S}, ...}}
//             (every field optional; the top-level fields apply when the flags are not given).
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "store/embedded/block_maintenance.h"

namespace ariadne::cli {

Result<uint64_t> ParseDurationNanos(const std::string& text);
Result<uint64_t> ParseByteSize(const std::string& text);

struct StoreRetentionFlags {
  std::string retention;  // empty: from the file, else keep forever
  std::string max_disk;   // empty: from the file, else "auto"
  std::string config_file;
};

// Builds the retention settings; `*summary` gets the line printed at start.
Result<store::embedded::RetentionConfig> BuildRetentionConfig(const StoreRetentionFlags& flags,
                                                              const std::string& data_dir,
                                                              std::string* summary);

}  // namespace ariadne::cli
