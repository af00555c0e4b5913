// TraceIndex: the embedded engine's trace-summary index — one TraceSummary (root service and name,
// bounds, span count, services, and the X-Ray facts: root segment, HTTP, flags, users, annotations,
// segment identities) per trace and environment, so SearchTracePage answers from memory without
// reading spans.
//
// How it stays consistent with the blocks (derived state; each block's per-trace parts are
// persisted beside it, trace_summary_file.h, so open reads those instead of the columns):
//   - Every span the store takes is noted (NoteBatch from ApplyToHead, so ingest and WAL replay
//     alike; NotePart from each block's persisted summaries at open, NoteBlock for a block
//     without them): per trace its span count and span-start range.
//     A noted trace is stale: its summary (if any) no longer covers every span.
//   - A stale trace gets its summary from the rows that hold it: PutIfComplete keeps a summary of
//     one head or block when that head/block holds every noted span of the trace (the seal thread
//     after each seal, Open for each block's persisted parts). Traces spread over several
//     heads/blocks stay stale.
//   - Readers refresh the stale traces of their window first (StaleIn, then the whole trace by
//     GetTrace and PutFetched/DropFetched); a version number makes a refresh that raced with new
//     spans leave the trace stale.
//   - Retention and quarantine call MarkStale for the time range of the blocks they removed, so
//     the next reader refetches those traces (dropping the ones that are gone). Compaction moves
//     spans between blocks without changing any trace: nothing to do.
// A trace noted but never summarized yet (it arrived while a read was running) is not returned.
//
// Memory: bytes() estimates what the entries hold (see docs/PERFORMANCE.md for figures). With a
// summary budget (SetSummaryBudget) at most that many bytes of summaries stay in memory: the
// summaries of traces whole in one sealed block (PutIfComplete with its block id) are evicted,
// oldest stored first, and Search evaluates an evicted summary from its block's side file
// (trace_summary_file.h), decoded through a bounded LRU cache (trace_index_part_cache.h, a quarter
// of the budget). What stays per trace regardless is the entry (id, span count, start range,
// ≈ 150 bytes). A summary that no longer loads (its block was compacted or removed) makes its
// trace stale and Search reports that it needs a refresh.
//
// Threads: every method may be called from any thread; one mutex guards the index. Search holds
// it while it walks the window (summaries are evaluated in place, nothing is copied but the page)
// but never while it reads a side file: when the walk reaches an evicted summary whose side file
// is not at hand it stops, unlocks, reads and decodes the file (the part cache), and resumes from
// the trace it stopped at (keyset, as NextToken), so NoteBatch (ingest) never waits for that I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "columnar/block.h"
#include "common/cancel.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "model/ids.h"
#include "model/span_batch.h"
#include "store/embedded/trace_index_part_cache.h"
#include "store/trace_reader.h"

namespace ariadne::store::embedded {

class TraceIndex {
 public:
  using TraceIdSet = std::unordered_set<model::TraceId, model::TraceIdHash>;

  // A trace whose summary must be refetched; `version` guards the refresh.
  struct Stale {
    std::string environment;
    model::TraceId id;
    uint64_t version = 0;
  };

  void NoteBatch(const std::string& environment, const model::SpanBatch& batch)
      ARIADNE_EXCLUDES(mu_);
  void NoteBlock(const std::string& environment, const columnar::Block& block)
      ARIADNE_EXCLUDES(mu_);
  // Notes the spans a persisted part stands for (trace_summary_file.h): part.span_count spans
  // starting from part.start_unix_nano to part.last_span_start_unix_nano. Same as NoteBlock for
  // that block's rows of the trace, without reading them.
  void NotePart(const std::string& environment, const TraceSummary& part) ARIADNE_EXCLUDES(mu_);

  // Keeps `summary` (of some rows of one head or block) when those rows are every noted span of
  // its trace: summary.span_count equals the noted count. `block`: the sealed block whose side
  // file holds this summary (it may then be evicted), 0 for a head.
  void PutIfComplete(const std::string& environment, TraceSummary summary, uint64_t block = 0)
      ARIADNE_EXCLUDES(mu_);

  // The persisted parts of a block (ReadTraceSummaryFile); called with no index lock held (from
  // the part cache, trace_index_part_cache.h), so it may take a while; it must not call back
  // into the index.
  using PartLoader = TracePartCache::Loader;
  // Bounds the summaries held in memory to `bytes` (see Memory above): a quarter of it for the
  // cache of decoded side files, the rest for the summaries kept in the index. Call before use.
  void SetSummaryBudget(size_t bytes, PartLoader loader) ARIADNE_EXCLUDES(mu_);
  // The block is gone (compaction, retention, quarantine): its cached side file is dropped.
  void ForgetBlock(uint64_t block) { part_cache_.Forget(block); }

  // The noted span count of a trace (0 when unknown), so callers skip summarizing rows that
  // cannot be complete.
  uint64_t NotedSpans(const std::string& environment, const model::TraceId& id) const
      ARIADNE_EXCLUDES(mu_);

  // Stale traces of `environment` ("" all) whose span starts may overlap [start, end).
  std::vector<Stale> StaleIn(std::string_view environment, uint64_t start, uint64_t end) const
      ARIADNE_EXCLUDES(mu_);
  // The refetched whole trace's summary; ignored when spans were noted since StaleIn.
  void PutFetched(const Stale& stale, TraceSummary summary) ARIADNE_EXCLUDES(mu_);
  // The trace is gone (GetTrace found no span); ignored when spans were noted since StaleIn.
  void DropFetched(const Stale& stale) ARIADNE_EXCLUDES(mu_);

  // Blocks of `environment` holding spans in [min_start, max_end] were removed: every trace that
  // may have had spans there becomes stale.
  void MarkStale(std::string_view environment, uint64_t min_start, uint64_t max_end)
      ARIADNE_EXCLUDES(mu_);

  // SearchTracePage over the summaries (see TracePageRequest). `span_matches`, when not null,
  // holds the traces with a span that passes request.filter.span_filters (the caller scans spans
  // for those). kCancelled once `cancel` is set.
  // `needs_refresh`, when not null, is set when an evicted summary could not be loaded back: its
  // trace is stale now and was left out; refresh (StaleIn) and search again.
  Result<TracePage> Search(const TracePageRequest& request, const TraceIdSet* span_matches,
                           const CancelFlagPtr& cancel, bool* needs_refresh = nullptr)
      ARIADNE_EXCLUDES(mu_);

  size_t bytes() const ARIADNE_EXCLUDES(mu_);
  // Bytes of summaries held in memory (the part SetSummaryBudget bounds: the index's summaries and
  // the cached side files), and how many block side files Search read to evaluate evicted
  // summaries.
  size_t summary_bytes() const ARIADNE_EXCLUDES(mu_);
  uint64_t summary_loads() const ARIADNE_EXCLUDES(mu_);
  size_t traces() const ARIADNE_EXCLUDES(mu_);

 private:
  struct Key {
    uint32_t environment = 0;
    model::TraceId id;
    bool operator==(const Key& o) const { return environment == o.environment && id == o.id; }
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return model::TraceIdHash{}(k.id) * 31 + k.environment;
    }
  };
  struct Entry {
    uint64_t start = UINT64_MAX;  // earliest noted span start (the order key)
    uint64_t last_start = 0;      // latest noted span start
    uint64_t spans = 0;           // noted spans
    uint64_t version = 0;         // bumped by every note
    uint32_t order_seq = 0;       // which order item is current
    bool stale = true;
    bool dead = false;  // dropped; removed from the map at the next rebuild
    bool has_summary = false;
    bool evicted = false;  // has_summary, but the summary is in block `block`'s side file only
    uint64_t block = 0;    // the sealed block whose side file holds the summary; 0 none
    size_t summary_bytes = 0;
    std::unique_ptr<TraceSummary> summary;  // set when has_summary and not evicted
  };
  using Map = std::unordered_map<Key, Entry, KeyHash>;
  using Node = Map::value_type;
  struct OrderItem {
    uint64_t start;
    uint32_t seq;
    Node* node;
  };

  uint32_t EnvironmentId(std::string_view environment) ARIADNE_REQUIRES(mu_);
  // -1 when unknown.
  int64_t FindEnvironment(std::string_view environment) const ARIADNE_REQUIRES(mu_);
  void Note(Node* node, uint64_t start) ARIADNE_REQUIRES(mu_);
  Node* NodeOf(uint32_t environment, const model::TraceId& id) ARIADNE_REQUIRES(mu_);
  void Store(Node* node, TraceSummary summary, uint64_t block) ARIADNE_REQUIRES(mu_);
  // Evicts the oldest evictable summaries (never `keep`) until the budget holds.
  void EnforceBudget(const Node* keep) ARIADNE_REQUIRES(mu_);
  // A summary evicted from memory whose block's side file no longer has it (its block was
  // compacted or removed): the trace becomes stale (refetched whole).
  void LostEvicted(Node* node) ARIADNE_REQUIRES(mu_);

  // Where a Search stands between two steps: the page so far, the last trace walked past, and
  // the block whose side file the next step needs (0: the search is done). The side files it
  // read stay pinned here (the most recent few) while it walks on.
  struct SearchCursor {
    TracePage page;
    std::optional<TracePageToken> position;
    std::optional<TracePageToken> last;
    uint64_t missing = 0;
    bool cancelled = false;
    bool needs_refresh = false;
    std::vector<std::shared_ptr<const BlockParts>> pinned;  // most recent last
  };
  // Walks on from cursor->position with the index locked, until the page is full, the window
  // ends, or an evicted summary's side file is not pinned (cursor->missing is set; the caller
  // reads it with the index unlocked and calls again).
  void SearchStep(const TracePageRequest& request, const TraceIdSet* span_matches,
                  const CancelFlagPtr& cancel, SearchCursor* cursor) ARIADNE_EXCLUDES(mu_);
  void RebuildEvictable() ARIADNE_REQUIRES(mu_);
  void Kill(Node* node) ARIADNE_REQUIRES(mu_);
  void Post(Node* node) ARIADNE_REQUIRES(mu_);
  // The order items of the traces that may carry every annotation `wanted` names, sorted.
  std::vector<OrderItem> Candidates(const std::vector<std::pair<std::string, std::string>>& wanted)
      ARIADNE_REQUIRES(mu_);
  // Merges pending order items into order_ and drops dead entries when many.
  void EnsureOrdered() ARIADNE_REQUIRES(mu_);
  static bool ItemBefore(const OrderItem& a, const OrderItem& b);

  mutable Mutex mu_;
  std::vector<std::string> environments_ ARIADNE_GUARDED_BY(mu_);
  Map entries_ ARIADNE_GUARDED_BY(mu_);
  std::unordered_set<Node*> stale_ ARIADNE_GUARDED_BY(mu_);
  std::vector<OrderItem> order_ ARIADNE_GUARDED_BY(mu_);    // sorted by (start, id)
  std::vector<OrderItem> pending_ ARIADNE_GUARDED_BY(mu_);  // not merged yet
  size_t obsolete_items_ ARIADNE_GUARDED_BY(mu_) = 0;
  size_t dead_ ARIADNE_GUARDED_BY(mu_) = 0;
  uint64_t max_spread_ ARIADNE_GUARDED_BY(mu_) = 0;  // largest last_start - start
  // Traces per string annotation value ("KEY\x1fvalue"), for TraceFilter::annotations; may hold
  // a trace more than once or one that lost the value (candidates are checked in full).
  std::unordered_map<std::string, std::vector<Node*>> postings_ ARIADNE_GUARDED_BY(mu_);
  std::vector<Node*> incomplete_ ARIADNE_GUARDED_BY(mu_);  // summaries with capped annotations
  size_t bytes_ ARIADNE_GUARDED_BY(mu_) = 0;
  size_t budget_ ARIADNE_GUARDED_BY(mu_) = SIZE_MAX;
  size_t summary_bytes_ ARIADNE_GUARDED_BY(mu_) = 0;
  std::deque<Node*> evictable_ ARIADNE_GUARDED_BY(mu_);  // stored order; may hold stale items
  TracePartCache part_cache_;  // locks itself; never called with mu_ held for a load
};

}  // namespace ariadne::store::embedded
