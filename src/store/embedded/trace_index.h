// TraceIndex: the embedded engine's trace-summary index. SearchTracePage answers from it without
// reading spans: per trace one TraceSummary (root service and name, bounds, span count, services,
// and the X-Ray facts: root segment, HTTP, flags, users, annotations, segment identities).
//
// Where the summaries live (docs/formats/trace-summaries.md):
//   - Sealed data: nothing per trace is resident. Each block's side file (trace_summary_file.h)
//     holds one summary per trace of the block (a *part*) with a `whole` flag decided when the
//     block was written. Search walks the blocks overlapping its window (SearchBlock: id,
//     environment, time range, given by the store) and merges their parts, read through a bounded
//     LRU cache of decoded side files (trace_index_part_cache.h), with the resident entries below.
//   - Resident entries (this class's map): the traces with spans in a head (NoteBatch, from
//     ApplyToHead: ingest and WAL replay alike) and the *split* traces (parts in several blocks,
//     persisted in trace_split_file.h; LoadSplits at open, AddSplits at seal). A resident entry
//     overrides every block part of its trace: its summary comes from the whole trace (StaleIn,
//     GetTrace, PutFetched/DropFetched; a version number makes a refresh that raced with new spans
//     leave the trace stale). A trace noted but never summarized yet is not returned.
//   - Sealed(...) after a seal is committed drops the entries of the sealed heads' traces whose
//     new part is whole (no other block, no newer head span), so resident entries stay bounded by
//     the heads and the split traces however much sealed data there is.
//   - Retention and quarantine call MarkStale for the time range of the blocks they removed (the
//     resident traces there are refetched); ForgetBlock (compaction, retention, quarantine) makes
//     running searches take the block list again.
//
// Memory: bytes() estimates the resident entries (≈ 150 bytes each plus summaries); the decoded
// side files are bounded by SetSummaryBudget (the `trace_summaries` share of --memory-limit); the
// block digests read by annotation searches (a few KiB per block) count in summary_bytes().
//
// Threads: every method may be called from any thread; one mutex guards the index. Search holds
// it while it walks (summaries are evaluated in place, nothing is copied but the page) but never
// while it reads a side file or asks the store for its blocks: it stops, unlocks, reads, and
// resumes from the trace it stopped at (a keyset position, as NextToken), so NoteBatch (ingest)
// never waits for that I/O.
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
#include "store/embedded/trace_block_digest.h"
#include "store/embedded/trace_index_part_cache.h"
#include "store/embedded/trace_split_file.h"
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

  // The split traces persisted by the last run (trace_split_file.h): resident and stale.
  void LoadSplits(const std::vector<SplitTrace>& traces) ARIADNE_EXCLUDES(mu_);
  // Marks `traces` split (resident until their spans are gone) and answers every split trace, to
  // persist before the manifest names the block that split them.
  std::vector<SplitTrace> AddSplits(const std::vector<SplitTrace>& traces) ARIADNE_EXCLUDES(mu_);
  // Whether the trace is in the split list.
  bool IsSplit(const std::string& environment, const model::TraceId& id) const
      ARIADNE_EXCLUDES(mu_);
  // A seal of `environment`'s head is committed (its block is in the store's block list): the
  // entries of traces whose part there is whole (`whole[i]`) and who have no span noted since
  // (noted count equals the part's) are dropped; the block's side file answers for them now.
  void Sealed(const std::string& environment, const std::vector<TraceSummary>& parts,
              const std::vector<uint8_t>& whole) ARIADNE_EXCLUDES(mu_);

  // Decoded side files: `loader` reads one (ReadTraceSummaryParts); called with no index lock
  // held, it must not call back into the index. `bytes` bounds the cache of decoded side files.
  using PartLoader = TracePartCache::Loader;
  void SetSummaryBudget(size_t bytes, PartLoader loader) ARIADNE_EXCLUDES(mu_);
  // Reads a block's digest (ReadTraceBlockDigest), called with no index lock held. A search whose
  // filter has annotation needs asks each block's digest before its parts and passes over a
  // block whose digest rules them out; digests are kept (small, one per block read so far, known
  // ones only) until ForgetBlock. Without a loader no block is skipped.
  using DigestLoader = std::function<Result<TraceBlockDigest>(uint64_t block)>;
  void SetDigestLoader(DigestLoader loader) ARIADNE_EXCLUDES(mu_);
  // The block's digest, kept or read now (with no index lock held while it reads); null without
  // a loader, or when the side file is older (version 1-3) or does not read.
  std::shared_ptr<const TraceBlockDigest> Digest(uint64_t block) ARIADNE_EXCLUDES(mu_);
  // The block is gone (compaction, retention, quarantine): its cached side file is dropped and
  // running searches take the block list again.
  void ForgetBlock(uint64_t block) ARIADNE_EXCLUDES(mu_);

  // Stale traces of `environment` ("" all) whose span starts may overlap [start, end).
  std::vector<Stale> StaleIn(std::string_view environment, uint64_t start, uint64_t end) const
      ARIADNE_EXCLUDES(mu_);
  // The refetched whole trace's summary; ignored when spans were noted since StaleIn.
  void PutFetched(const Stale& stale, TraceSummary summary) ARIADNE_EXCLUDES(mu_);
  // The trace is gone (GetTrace found no span); ignored when spans were noted since StaleIn.
  void DropFetched(const Stale& stale) ARIADNE_EXCLUDES(mu_);

  // Blocks of `environment` holding spans in [min_start, max_end] were removed: every resident
  // trace that may have had spans there becomes stale.
  void MarkStale(std::string_view environment, uint64_t min_start, uint64_t max_end)
      ARIADNE_EXCLUDES(mu_);

  // A sealed block as the search sees it (from the store's block list).
  struct SearchBlock {
    uint64_t id = 0;
    std::string environment;
    uint64_t min_start = 0;  // earliest span start
    uint64_t max_end = 0;    // latest span end (>= every span start)
  };
  // The store's sealed blocks now; called with no index lock held.
  using BlockLister = std::function<std::vector<SearchBlock>()>;

  // SearchTracePage over the resident entries and the blocks' parts (see TracePageRequest).
  // `span_matches`, when not null, holds the traces with a span that passes
  // request.filter.span_filters (the caller scans spans for those). kCancelled once `cancel` is
  // set. Resident stale traces are left out: refresh them first (StaleIn).
  Result<TracePage> Search(const TracePageRequest& request, const TraceIdSet* span_matches,
                           const CancelFlagPtr& cancel, const BlockLister& blocks)
      ARIADNE_EXCLUDES(mu_);

  size_t bytes() const ARIADNE_EXCLUDES(mu_);
  // Bytes of summaries held in memory (the resident entries' and the cached side files'), and how
  // many block side files were read and decoded so far.
  size_t summary_bytes() const ARIADNE_EXCLUDES(mu_);
  uint64_t summary_loads() const ARIADNE_EXCLUDES(mu_);
  // Blocks searches passed over by their digests without reading their parts.
  uint64_t blocks_skipped() const ARIADNE_EXCLUDES(mu_);
  // Resident entries (heads' and split traces), and of them the split ones.
  size_t traces() const ARIADNE_EXCLUDES(mu_);
  size_t split_traces() const ARIADNE_EXCLUDES(mu_);
  // How many split traces have left the list (a refetch found them gone) since the index began:
  // the seal rewrites the persisted list when this moved, so the file shrinks too.
  uint64_t split_drops() const ARIADNE_EXCLUDES(mu_);

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
    uint64_t spans = 0;           // noted spans (or the fetched whole trace's count)
    uint64_t version = 0;         // bumped by every note
    uint32_t order_seq = 0;       // which order item is current
    bool stale = true;
    bool dead = false;   // dropped; removed from the map at the next rebuild
    bool split = false;  // in the persisted split list
    size_t summary_bytes = 0;
    std::unique_ptr<TraceSummary> summary;  // set once fetched
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
  // Whether a block part of the trace is overridden by a resident entry.
  bool Resident(uint32_t environment, const model::TraceId& id) const ARIADNE_REQUIRES(mu_);
  void Store(Node* node, TraceSummary summary) ARIADNE_REQUIRES(mu_);

  // Where a Search stands between two steps: the page so far, the last trace walked past, the
  // block list it plans with (taken at generation `generation`), and the side file the next step
  // needs (`missing`, 0 none). The side files of the blocks it is walking stay pinned here.
  struct SearchCursor {
    TracePage page;
    std::optional<TracePageToken> position;
    std::optional<TracePageToken> last;
    std::vector<SearchBlock> blocks;  // in env and window; by min_start (oldest first) or
                                      // max_end descending (newest first)
    uint64_t generation = UINT64_MAX;
    uint64_t missing = 0;
    uint64_t missing_digest = 0;             // the next step needs this block's digest first
    std::unordered_set<uint64_t> no_digest;  // digests unknown or unreadable: not skipped
    std::unordered_set<uint64_t> skipped;    // passed over by their digests (counted once)
    bool replan = false;
    bool cancelled = false;
    std::unordered_map<uint64_t, std::shared_ptr<const BlockParts>> pinned;
  };
  // Walks on from cursor->position with the index locked, until the page is full, the window
  // ends, the block list changed (cursor->replan), or a block's side file is not pinned
  // (cursor->missing; the caller reads it with the index unlocked and calls again).
  void SearchStep(const TracePageRequest& request, const TraceIdSet* span_matches,
                  const CancelFlagPtr& cancel, SearchCursor* cursor) ARIADNE_EXCLUDES(mu_);
  void Kill(Node* node) ARIADNE_REQUIRES(mu_);
  void Post(Node* node) ARIADNE_REQUIRES(mu_);
  // The order items of the resident traces that may carry every annotation `wanted` names, sorted.
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
  size_t splits_ ARIADNE_GUARDED_BY(mu_) = 0;
  uint64_t split_drops_ ARIADNE_GUARDED_BY(mu_) = 0;
  uint64_t max_spread_ ARIADNE_GUARDED_BY(mu_) = 0;  // largest last_start - start
  // Bumped whenever the blocks change under the resident entries (Sealed, ForgetBlock): a running
  // search takes the block list again.
  uint64_t generation_ ARIADNE_GUARDED_BY(mu_) = 0;
  // Resident traces per string annotation value ("KEY\x1fvalue"), for TraceFilter::annotations;
  // may hold a trace more than once or one that lost the value (candidates are checked in full).
  std::unordered_map<std::string, std::vector<Node*>> postings_ ARIADNE_GUARDED_BY(mu_);
  std::vector<Node*> incomplete_ ARIADNE_GUARDED_BY(mu_);  // summaries with capped annotations
  size_t bytes_ ARIADNE_GUARDED_BY(mu_) = 0;
  size_t summary_bytes_ ARIADNE_GUARDED_BY(mu_) = 0;
  DigestLoader digest_loader_ ARIADNE_GUARDED_BY(mu_);
  std::unordered_map<uint64_t, std::shared_ptr<const TraceBlockDigest>> digests_
      ARIADNE_GUARDED_BY(mu_);
  size_t digest_bytes_ ARIADNE_GUARDED_BY(mu_) = 0;
  uint64_t blocks_skipped_ ARIADNE_GUARDED_BY(mu_) = 0;
  TracePartCache part_cache_;  // locks itself; never called with mu_ held for a load
};

}  // namespace ariadne::store::embedded
