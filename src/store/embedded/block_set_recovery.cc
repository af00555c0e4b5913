#include "store/embedded/block_set_recovery.h"

#include <cstdio>
#include <set>
#include <sstream>

namespace ariadne::store::embedded {

using columnar::BlockMeta;
namespace {

BlockRecord RecordOf(const BlockMeta& meta) {
  BlockRecord r;
  r.id = meta.id;
  r.environment = meta.environment;
  r.min_start_unix_nano = meta.min_start_unix_nano;
  r.max_end_unix_nano = meta.max_end_unix_nano;
  r.num_rows = meta.num_rows;
  r.file_bytes = meta.file_bytes;
  return r;
}

// Builds a manifest state from the block files themselves: all of them (`max_checkpoint` 0), or
// those a checkpoint <= max_checkpoint wrote.
Status StateFromBlockFiles(const BlockSetRecoveryOptions& o, const std::vector<uint64_t>& ids,
                           uint64_t max_checkpoint, ManifestState* state, RecoveredBlockSet* out) {
  for (uint64_t id : ids) {
    const std::string path = o.blocks_dir + "/" + BlockFileName(id);
    Result<BlockMeta> meta = o.read_meta(path);
    if (!meta.ok()) {
      if (meta.status().code() != StatusCode::kDataLoss) return meta.status().WithContext(path);
      out->damaged.emplace_back(path, meta.status());
      continue;
    }
    state->next_block_id = std::max(state->next_block_id, id + 1);
    if (max_checkpoint != 0 && meta->checkpoint > max_checkpoint) continue;  // an orphan
    BlockRecord record = RecordOf(*meta);
    record.id = id;
    state->blocks[id] = std::move(record);
  }
  return Status::Ok();
}

}  // namespace

Result<RecoveredBlockSet> RecoverBlockSet(const BlockSetRecoveryOptions& o) {
  Env* env = o.env;
  RecoveredBlockSet out;
  ARIADNE_ASSIGN_OR_RETURN(std::vector<std::string> names, env->ListDir(o.blocks_dir));
  std::vector<uint64_t> ids;
  for (const std::string& name : names) {
    if (name.size() > 4 && name.substr(name.size() - 4) == ".tmp") {
      (void)env->RemoveFile(o.blocks_dir + "/" + name);  // a block write a crash interrupted
      continue;
    }
    if (uint64_t id = ParseBlockFileName(name); id != 0) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());

  const std::string checkpoint_path = o.data_dir + "/CHECKPOINT";
  Result<std::unique_ptr<Manifest>> loaded = Manifest::Load(env, o.data_dir);
  if (loaded.ok()) {
    out.manifest = std::move(*loaded);
  } else if (loaded.status().code() == StatusCode::kDataLoss && !o.recover) {
    return loaded.status();
  } else if (loaded.status().code() != StatusCode::kNotFound &&
             loaded.status().code() != StatusCode::kDataLoss) {
    return loaded.status();
  } else if (o.recover) {
    std::fprintf(stderr,
                 "ariadne: --recover-manifest: rebuilding the manifest from the %zu block files "
                 "in %s (%s)\n",
                 ids.size(), o.blocks_dir.c_str(), loaded.status().ToString().c_str());
    ManifestState state;
    ARIADNE_RETURN_IF_ERROR(StateFromBlockFiles(o, ids, 0, &state, &out));
    ARIADNE_ASSIGN_OR_RETURN(out.manifest, Manifest::Create(env, o.data_dir, std::move(state)));
    out.recovered = true;
  } else if (env->FileExists(checkpoint_path)) {
    // A data directory of the checkpoint era: its CHECKPOINT says which blocks are complete.
    ARIADNE_ASSIGN_OR_RETURN(std::string text, env->ReadFile(checkpoint_path));
    std::istringstream in(text);
    ManifestState state;
    if (!(in >> state.seal >> state.covered_segment) || state.seal == 0)
      return Status::DataLoss(checkpoint_path + " cannot be read (it holds \"" +
                              text.substr(0, 64) +
                              "\"); no block was touched. Restart with `ariadne serve "
                              "--recover-manifest` to rebuild the block set from the block files "
                              "(docs/operations.md, \"Recovering the manifest\")");
    ARIADNE_RETURN_IF_ERROR(StateFromBlockFiles(o, ids, state.seal, &state, &out));
    ARIADNE_ASSIGN_OR_RETURN(out.manifest, Manifest::Create(env, o.data_dir, std::move(state)));
    (void)env->RemoveFile(checkpoint_path);  // the manifest is durable: the checkpoint is history
    out.upgraded = true;
    std::fprintf(stderr, "ariadne: upgraded data directory %s from CHECKPOINT to a manifest (%s)\n",
                 o.data_dir.c_str(), out.manifest->current_file().c_str());
  } else if (!ids.empty()) {
    return Status::DataLoss(
        o.data_dir + " holds " + std::to_string(ids.size()) +
        " block files but no manifest (CURRENT is missing); no block was touched. Restart with "
        "`ariadne serve --recover-manifest` to rebuild the manifest from the block files "
        "(docs/operations.md, \"Recovering the manifest\")");
  } else {
    ARIADNE_ASSIGN_OR_RETURN(out.manifest, Manifest::Create(env, o.data_dir, ManifestState{}));
  }

  ManifestState state = out.manifest->state();
  std::set<uint64_t> on_disk(ids.begin(), ids.end());
  std::set<std::string> damaged;
  for (const auto& [path, why] : out.damaged) damaged.insert(path);
  for (uint64_t id : ids) {
    const std::string path = o.blocks_dir + "/" + BlockFileName(id);
    if (state.blocks.count(id) || damaged.count(path)) continue;
    Status removed = env->RemoveFile(path);
    if (removed.ok()) ++out.orphans_removed;
    std::fprintf(stderr,
                 "ariadne: block file %s is named by no manifest edit: an orphan of an interrupted "
                 "seal, compaction or retention step (its spans are in the WAL or in other "
                 "blocks); %s\n",
                 path.c_str(), removed.ok() ? "removed" : removed.ToString().c_str());
  }
  VersionEdit drop_missing;
  for (const auto& [id, record] : state.blocks) {
    if (on_disk.count(id)) {
      out.present.push_back(record);
    } else {
      out.missing.push_back(record);
      drop_missing.removed.push_back(id);
    }
  }
  if (!drop_missing.removed.empty()) ARIADNE_RETURN_IF_ERROR(out.manifest->Apply(drop_missing));
  return out;
}

}  // namespace ariadne::store::embedded
