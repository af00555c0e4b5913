// Manifest: the durable record of which block files make up the store (in the manner of LevelDB's
// MANIFEST). Format: docs/formats/manifest.md.
//
// The manifest is an append-only log of VersionEdits (blocks added, blocks removed, the WAL
// segment the blocks cover, the next block id, the seal number), each record CRC-checked. Every
// change to the block set is one edit, appended and synced before anyone acts on it: a seal
// writes its block files, then one edit adding them all with the WAL position they cover;
// compaction writes the merged block, then one edit adding it and removing its inputs; retention
// appends an edit removing blocks, then unlinks them. A block file that no manifest edit names is
// an orphan of an interrupted step and is removed at open.
//
// Now and then (and at every open) the log is rewritten compactly into a new MANIFEST-<n> holding
// one snapshot edit, and the CURRENT file, which names the live manifest, is swapped atomically
// (write CURRENT.tmp, fsync, rename, fsync the directory).
//
// Apply contract: OK means the edit is durable and in state(). On error the edit is not in
// state(); it may or may not be durable (a failed fsync cannot tell), so the caller must leave the
// files the edit names exactly as they are (neither unlink the blocks it removes nor the blocks it
// adds): both readings of the disk are then consistent, and open sorts out the orphans. After a
// failure the manifest is rewritten from state() before the next edit is appended, so a torn
// record never sits in front of later ones.
//
// Threads: safe for concurrent use (the seal, compaction and retention threads all apply edits).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/env.h"
#include "common/status.h"
#include "common/thread_annotations.h"

namespace ariadne::store::embedded {

// What the manifest knows of one block file (the rest of its meta is in the file itself).
struct BlockRecord {
  uint64_t id = 0;
  std::string environment;
  uint64_t min_start_unix_nano = 0;
  uint64_t max_end_unix_nano = 0;
  uint64_t num_rows = 0;
  uint64_t file_bytes = 0;
  // 0: written by a seal; n > 0: written by compaction, merging level n-1 blocks.
  uint32_t level = 0;

  bool operator==(const BlockRecord&) const = default;
};

struct VersionEdit {
  std::vector<BlockRecord> added;
  std::vector<uint64_t> removed;
  std::optional<uint64_t> covered_segment;  // WAL segments <= this are in block files
  std::optional<uint64_t> next_block_id;
  std::optional<uint64_t> seal;  // number of the last completed seal

  std::string Encode() const;
  static Result<VersionEdit> Decode(std::string_view data);
};

struct ManifestState {
  std::map<uint64_t, BlockRecord> blocks;
  uint64_t covered_segment = 0;
  uint64_t next_block_id = 1;
  uint64_t seal = 0;

  void Apply(const VersionEdit& edit);
  // One edit that rebuilds this state from nothing.
  VersionEdit Snapshot() const;
  uint64_t bytes() const;
};

// Names and paths.
std::string ManifestFileName(uint64_t number);
// The number of a MANIFEST-<n> name, or 0 when `name` is not one.
uint64_t ParseManifestFileName(std::string_view name);
std::string BlockFileName(uint64_t id);
// The id of a <id>.blk name, or 0 when `name` is not one.
uint64_t ParseBlockFileName(std::string_view name);

// Decodes a manifest file's bytes. A record cut short or failing its CRC at the very end is a write
// a crash interrupted (never acknowledged): it is dropped and `*torn_tail` set. Damage followed by
// more records, a bad header or an undecodable edit is kDataLoss.
Result<ManifestState> DecodeManifestFile(std::string_view data, bool* torn_tail);

class Manifest {
 public:
  // Reads CURRENT and the manifest it names, then rewrites it compactly into a new file. kNotFound
  // when there is no CURRENT; kDataLoss (naming the file and what to do) when CURRENT or the
  // manifest is damaged or missing.
  static Result<std::unique_ptr<Manifest>> Load(Env* env, const std::string& data_dir);
  // Writes a new manifest holding `state` and points CURRENT at it (used for a new store and to
  // upgrade a store of the checkpoint era).
  static Result<std::unique_ptr<Manifest>> Create(Env* env, const std::string& data_dir,
                                                  ManifestState state);

  ~Manifest();
  Manifest(const Manifest&) = delete;
  Manifest& operator=(const Manifest&) = delete;

  // See the contract at the top of this file.
  Status Apply(const VersionEdit& edit);
  ManifestState state() const;
  // A block id never used before (persisted by the next edit naming next_block_id).
  uint64_t NewBlockId();
  // The live manifest file's name, e.g. "MANIFEST-000004".
  std::string current_file() const;

  // A rewrite happens once the log exceeds this many bytes beyond its snapshot.
  static constexpr uint64_t kRewriteBytes = 4 << 20;

 private:
  Manifest(Env* env, std::string data_dir, ManifestState state, uint64_t next_file_number);
  // Writes MANIFEST-<next> holding state_, swaps CURRENT, removes the old file.
  Status Rewrite() ARIADNE_REQUIRES(mu_);

  Env* const env_;
  const std::string data_dir_;
  mutable Mutex mu_;
  ManifestState state_ ARIADNE_GUARDED_BY(mu_);
  std::unique_ptr<WritableFile> file_ ARIADNE_GUARDED_BY(mu_);
  uint64_t file_number_ ARIADNE_GUARDED_BY(mu_) = 0;
  uint64_t next_file_number_ ARIADNE_GUARDED_BY(mu_) = 1;
  uint64_t log_bytes_ ARIADNE_GUARDED_BY(mu_) = 0;
  bool broken_ ARIADNE_GUARDED_BY(mu_) = false;  // the last append failed: rewrite first
  uint64_t next_block_id_ ARIADNE_GUARDED_BY(mu_) = 1;
};

}  // namespace ariadne::store::embedded
