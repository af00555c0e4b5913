// TracePartCache: a bounded, LRU cache of decoded trace-summary side files (trace_summary_file.h),
// from which the trace-summary index (trace_index.h) evaluates the sealed blocks' parts (it keeps
// none of them in memory itself).
//
// Contract:
//   - Get(block) answers that block's parts in (start, trace id) order. A miss reads and decodes
//   the side
//     file through the loader WITHOUT holding any lock (the index's mutex is never held here
//     either: TraceIndex::Search releases it before it asks), so ingest (TraceIndex::NoteBatch)
//     and other searches never wait for side-file I/O. Two threads missing the same block at once
//     may both read it; the second insert replaces the first (same content: side files are
//     immutable once their block is in the manifest).
//   - A side file that cannot be read (gone after compaction/retention, damaged) yields an empty,
//     uncached BlockParts with `ok == false`: the index's search then plans again from the current
//     block list (the block was compacted or removed) or skips it (damaged).
//   - At most `capacity` bytes (an estimate of the decoded summaries) stay cached, least recently
//     used evicted first; what a caller holds (shared_ptr) stays alive until it lets go. The
//     capacity is part of the index's `trace_summaries` share (TraceIndex::SetSummaryBudget).
//
// Threads: every method may be called from any thread; one mutex guards the map and LRU list.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "model/ids.h"
#include "store/embedded/trace_summary_file.h"
#include "store/trace_reader.h"

namespace ariadne::store::embedded {

// One block's side file, decoded.
struct BlockParts {
  uint64_t block = 0;
  bool ok = true;                   // false: the side file could not be read
  size_t bytes = 0;                 // estimated memory of the decoded summaries
  std::vector<TraceSummary> parts;  // ordered by (start, trace id)
  std::vector<uint8_t> whole;       // parallel to parts (trace_summary_file.h)
};

class TracePartCache {
 public:
  // Reads a block's side file (ReadTraceSummaryFile through the Env).
  using Loader = std::function<Result<TraceSummaryParts>(uint64_t block)>;

  void Configure(size_t capacity, Loader loader) ARIADNE_EXCLUDES(mu_);
  std::shared_ptr<const BlockParts> Get(uint64_t block) ARIADNE_EXCLUDES(mu_);
  // The block is gone (compaction, retention, quarantine): forget its parts.
  void Forget(uint64_t block) ARIADNE_EXCLUDES(mu_);

  size_t bytes() const ARIADNE_EXCLUDES(mu_);
  size_t capacity() const ARIADNE_EXCLUDES(mu_);
  // Side files read and decoded so far.
  uint64_t loads() const ARIADNE_EXCLUDES(mu_);

  // The estimated memory of a decoded summary (also what the index charges for one in memory).
  static size_t SummaryBytes(const TraceSummary& summary);

 private:
  struct Slot {
    std::shared_ptr<const BlockParts> parts;
    std::list<uint64_t>::iterator lru;
  };
  void EvictToCapacity() ARIADNE_REQUIRES(mu_);

  mutable Mutex mu_;
  size_t capacity_ ARIADNE_GUARDED_BY(mu_) = 0;
  Loader loader_ ARIADNE_GUARDED_BY(mu_);
  std::unordered_map<uint64_t, Slot> slots_ ARIADNE_GUARDED_BY(mu_);
  std::list<uint64_t> lru_ ARIADNE_GUARDED_BY(mu_);  // most recent first
  size_t bytes_ ARIADNE_GUARDED_BY(mu_) = 0;
  uint64_t loads_ ARIADNE_GUARDED_BY(mu_) = 0;
};

}  // namespace ariadne::store::embedded
