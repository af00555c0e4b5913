// Block set recovery: what Open does before it replays the WAL — find the manifest, upgrade a data
// directory of the checkpoint era, remove orphan block files, and say which block files make up
// the store.
//
//   CURRENT present            → load the manifest it names (damaged or missing: kDataLoss
//                                naming the file and what to do; never a silent delete)
//   no CURRENT, CHECKPOINT     → upgrade: blocks whose meta carries a checkpoint <= CHECKPOINT's
//                                number become the manifest; CHECKPOINT is removed afterwards
//   no CURRENT, no block files → a new store: an empty manifest
//   no CURRENT, block files    → kDataLoss, unless `recover` (--recover-manifest): every block
//                                file with an intact meta goes into a new manifest
//
// Then every <id>.blk not named by the manifest is an orphan of an interrupted seal or compaction
// (or of a retention step whose unlink did not happen) and is removed, with a log line; *.tmp files
// are removed likewise. Blocks the manifest names but the directory lacks are reported, not
// invented.
//
// Threads: call from one thread, during Open.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "columnar/block.h"
#include "common/env.h"
#include "common/status.h"
#include "store/embedded/manifest.h"

namespace ariadne::store::embedded {

struct RecoveredBlockSet {
  std::unique_ptr<Manifest> manifest;
  // Block files named by the manifest and present, ascending id.
  std::vector<BlockRecord> present;
  // Named by the manifest but not on disk (already removed from the manifest by an edit).
  std::vector<BlockRecord> missing;
  // Block files whose meta could not be read while upgrading or recovering (kDataLoss): the caller
  // quarantines them.
  std::vector<std::pair<std::string, Status>> damaged;
  bool upgraded = false;   // built from a CHECKPOINT file
  bool recovered = false;  // rebuilt by --recover-manifest
  uint64_t orphans_removed = 0;
};

struct BlockSetRecoveryOptions {
  Env* env = nullptr;
  std::string data_dir;
  std::string blocks_dir;
  bool recover = false;
  // Reads a block file's meta (the store's one way of doing so).
  std::function<Result<columnar::BlockMeta>(const std::string& path)> read_meta;
};

Result<RecoveredBlockSet> RecoverBlockSet(const BlockSetRecoveryOptions& options);

}  // namespace ariadne::store::embedded
