// Seal writing: turns the heads handed to the seal thread into block files and records them in the
// manifest with ONE edit (the blocks added, the WAL segment they cover, the seal number), after
// writing the service-map snapshot of the same moment. docs/formats/manifest.md.
//
// A SealJob survives a failed attempt: the blocks it already wrote stay in `written` and on disk,
// and the retry only writes the rest before appending the edit, so a failed seal never leaves a
// second copy of a block (what the manifest does not name is an orphan, removed at open).
//
// Threads: used by the store's seal thread only.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "columnar/block.h"
#include "common/env.h"
#include "common/status.h"
#include "store/embedded/manifest.h"
#include "store/embedded/trace_split_file.h"
#include "store/trace_reader.h"

namespace ariadne::store::embedded {

struct SealedBlock {
  columnar::BlockMeta meta;
  std::string path;
  std::shared_ptr<const columnar::Block> block;
  std::vector<TraceSummary> parts;  // per-trace summaries persisted beside it (.tsum)
  std::vector<uint8_t> whole;       // parallel to parts: no other block holds the trace
};

// What the seal asks the store about traces when it writes side files (trace_summary_file.h) and
// the split list (trace_split_file.h).
struct SealTraceHooks {
  // Per trace id: 1 when a sealed block of `environment` already holds a span of it.
  std::function<std::vector<uint8_t>(const std::string& environment,
                                     const std::vector<model::TraceId>& ids)>
      have_sealed_spans;
  // Persists the split list with `split` added (called before the manifest edit).
  std::function<Status(const std::vector<SplitTrace>& split)> persist_splits;
};

struct SealJob {
  uint64_t seal = 0;
  uint64_t covered_segment = 0;
  std::string graph_snapshot;
  size_t heads_done = 0;  // heads already written (or empty)
  std::vector<SealedBlock> written;
};

std::string ServiceGraphPath(const std::string& data_dir, uint64_t seal);

BlockRecord RecordOfBlock(const columnar::BlockMeta& meta);

// Writes what `job` still lacks for `heads` (in the same order every attempt): per head its
// trace-summary side file when `traces` is not null (trace_summary_file.h; a part is flagged whole
// unless a sealed block already holds a span of its trace), then its block file; then the split
// list with the traces found in earlier blocks (trace_split_file.h), the graph snapshot, and the
// manifest edit. OK: the blocks are durable and named by the manifest. A crash anywhere before the
// edit leaves orphans (removed at open) and at worst a split list naming traces too many.
// `copy_bytes`, when given, follows the memory the seal holds besides the heads — each sealed
// (sorted) copy, kept in `job->written` until the job is dropped, and the encoded file while it
// is written — so /metrics can count it with the heads; the caller zeroes it when it drops the job.
Status WriteSeal(Env* env, Manifest* manifest, const std::string& data_dir,
                 const std::string& blocks_dir,
                 const std::vector<const columnar::BlockBuilder*>& heads, SealJob* job,
                 const SealTraceHooks* traces, std::atomic<uint64_t>* copy_bytes = nullptr);

// After a successful seal: removes the previous graph snapshot and the WAL segments it covers. An
// error here does not undo the seal (open removes covered segments too).
Status RetireAfterSeal(Env* env, const std::string& data_dir, const std::string& wal_dir,
                       const SealJob& job);

}  // namespace ariadne::store::embedded
