// ColumnCache: decoded block columns kept in memory, bounded in bytes, scan-resistant.
//
// Queries read only the columns they need from block files (ReadBlockColumns); this cache keeps
// what they decoded so the next query over the same block skips the file read, the CRC, zstd and
// decoding. Entries are per column: the key is (block id, column unit) (column_parts.h: a fixed
// column bit, an attribute key, or every attribute column), and each entry holds that unit's
// columns of that block as a small Block (a part; column_parts.h: CachedPart, with its widest
// per-row columns narrowed where the values allow, so more blocks fit). A lookup for a set of
// columns takes the parts it finds, asks the loader for just the missing units (one
// ReadBlockColumns of those sections), keeps each of them as its own entry, and hands out one Block
// holding exactly the needed columns (the parts copied together; a lookup that found nothing gets
// the loaded block itself). So two queries over the same blocks with different columns share what
// they have in common and never make an entry grow to the union of their columns; bytes, recency
// and eviction are per column. Bytes are accounted per entry (ApproximateBytes of its part) against
// the capacity; a part larger than the whole capacity is handed out but not kept.
//
// Eviction is a segmented LRU, so that one query over more blocks than fit does not flush the
// columns every query uses: a new entry enters the probation segment; a later lookup of it (a
// second use) promotes it to the protected segment. The protected segment holds at most
// kProtectedShare of the capacity; beyond that its least recently used entries move back to the
// front of probation. To make room the least recently used probation entry goes first, and a
// protected entry only when probation holds nothing but the entries just added for the block
// being looked up. A one-off scan therefore only cycles entries through probation, while
// entries used twice stay.
//
// Admission: a scan that repeats over more columns than the cache holds (the same filtered COUNT
// over 100 M spans, every block in the same order) would still evict each entry before its next
// use, so that no lookup ever hits. The cache therefore remembers, for columns it does not hold,
// when they were last wanted (a bounded history of key hashes, kMaxHistory of them, about 1 MiB,
// outside the byte budget), and when room must be made it keeps a column wanted before only if
// that was more recent than the last use of the entry it would evict. In a repeating scan the
// column missed was last wanted one whole scan ago, longer than the entries held were last used,
// so it is handed out but not kept, and the entries held stay: about capacity / working set of
// the lookups hit instead of none. A column never wanted before (new blocks, a new question) is
// always kept, as are columns that fit without evicting.
//
// GetParts is the same lookup without the assembly: it hands out the parts as kept (narrowed ones
// narrowed) and the block read for the missing units, for readers of a few rows (trace_rows.h: one
// trace's rows) that would otherwise pay for copying and widening every row of every column.
//
// Counters (for /metrics): column hits and misses (one per needed unit per lookup), bytes held,
// capacity, entries (column parts), evictions, rejected (admission); protected_bytes for tests and
// operators.
//
// Threads: safe for concurrent use. The loader runs without the cache's lock, so two threads that
// miss on the same column may both decode it; the first part kept wins. Blocks handed out stay
// valid while their holders keep the shared_ptr, even after eviction.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "columnar/block.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "store/embedded/column_parts.h"

namespace ariadne::store::embedded {

// A block's columns as the column cache holds them, one source per unit, not assembled: unit i is
// in cached[i] when the cache had it, else in `loaded` (read from the file for this lookup).
struct BlockColumnParts {
  std::string environment;
  size_t num_rows = 0;
  std::vector<ColumnUnit> units;                          // UnitsOf(needed, closed)
  std::vector<std::shared_ptr<const CachedPart>> cached;  // per unit; null where `loaded` has it
  std::shared_ptr<const columnar::Block> loaded;          // null when every unit was cached
};

struct ColumnCacheStats {
  uint64_t hits = 0;    // needed columns found in memory
  uint64_t misses = 0;  // needed columns decoded from a block file
  uint64_t bytes = 0;
  uint64_t capacity_bytes = 0;
  uint64_t entries = 0;
  uint64_t evictions = 0;
  uint64_t protected_bytes = 0;  // bytes of entries used at least twice (part of `bytes`)
  uint64_t rejected = 0;         // missed columns handed out but not kept (admission)
};

class ColumnCache {
 public:
  explicit ColumnCache(uint64_t capacity_bytes) : capacity_(capacity_bytes) {}

  // Share of the capacity the protected segment may hold, in percent.
  static constexpr uint64_t kProtectedSharePercent = 80;
  // Missed columns whose last wanted time is remembered (admission; the oldest are forgotten).
  static constexpr size_t kMaxHistory = 16384;

  // Reads `columns` of the block from its file (called with the missing columns to decode).
  using Loader = std::function<Result<std::shared_ptr<const columnar::Block>>(
      const columnar::ColumnSet& columns)>;

  // A block of `id` holding exactly `needed` (closed over its dependencies): assembled from the
  // cached columns, with the missing ones read through `load` and kept. With keep false nothing
  // is added to the cache (background readers: compaction, index builds), though cached columns
  // are still used.
  Result<std::shared_ptr<const columnar::Block>> Get(uint64_t id, const columnar::ColumnSet& needed,
                                                     const Loader& load, bool keep = true)
      ARIADNE_EXCLUDES(mu_);
  // The parts of block `id` holding `needed` (closed), as Get finds and keeps them, unassembled,
  // in the earlier forms only (column_parts.h: WithEarlierForms). With no unit needed, `loaded`
  // is the loader's block (just the row count).
  Result<BlockColumnParts> GetParts(uint64_t id, const columnar::ColumnSet& needed,
                                    const Loader& load, bool keep = true) ARIADNE_EXCLUDES(mu_);
  // Forgets every column of block `id` (removed or quarantined).
  void Erase(uint64_t id) ARIADNE_EXCLUDES(mu_);
  // Changes the capacity, evicting as needed.
  void SetCapacity(uint64_t capacity_bytes) ARIADNE_EXCLUDES(mu_);

  ColumnCacheStats Stats() const ARIADNE_EXCLUDES(mu_);

 private:
  enum class Segment : uint8_t { kProbation, kProtected };
  // GetParts with the parts as kept (compact forms included).
  Result<BlockColumnParts> LookUp(uint64_t id, const columnar::ColumnSet& needed,
                                  const Loader& load, bool keep) ARIADNE_EXCLUDES(mu_);
  struct Key {
    uint64_t block = 0;
    std::string column;  // ColumnUnit::CacheKey
    bool operator<(const Key& o) const {
      return block != o.block ? block < o.block : column < o.column;
    }
  };
  struct Entry {
    std::shared_ptr<const CachedPart> part;
    uint64_t bytes = 0;
    Segment segment = Segment::kProbation;
    std::list<Key>::iterator position;  // in the list of its segment (front: most recent)
    uint64_t last_use = 0;              // lookup tick of its last use (insert or hit)
  };
  using EntryMap = std::map<Key, Entry>;

  std::list<Key>& ListOf(Segment segment) ARIADNE_REQUIRES(mu_) {
    return segment == Segment::kProtected ? protected_ : probation_;
  }
  // Moves `it` to the front of `segment` (a use), keeping the byte counts right.
  void MoveToFront(EntryMap::iterator it, Segment segment) ARIADNE_REQUIRES(mu_);
  // Adds `part` (`bytes` large) as the entry for `key` into probation unless one is there or
  // admission refuses it: making room would evict an entry used more recently than `wanted_before`
  // (the tick the key was last wanted before this lookup; none: never wanted, always kept).
  void InsertLocked(const Key& key, std::shared_ptr<const CachedPart> part, uint64_t bytes,
                    std::optional<uint64_t> wanted_before) ARIADNE_REQUIRES(mu_);
  // Whether admission refuses a part of `block`, `bytes` large, wanted before at `wanted_before`:
  // it does not fit beside what is held and the entry to evict first was used more recently.
  bool RefusesLocked(uint64_t block, std::optional<uint64_t> wanted_before, uint64_t bytes)
      ARIADNE_REQUIRES(mu_);
  // The entry to evict first (EvictToFit's order), or entries_.end() when there is none.
  EntryMap::iterator VictimLocked(std::optional<uint64_t> keep) ARIADNE_REQUIRES(mu_);
  // Records that `key`, not held, is wanted now; returns when it was wanted before, if known.
  std::optional<uint64_t> NoteMissLocked(const Key& key) ARIADNE_REQUIRES(mu_);
  // Demotes protected entries beyond their share, then evicts until the bytes fit; entries of
  // block `keep` (just added) are evicted only when nothing else is left.
  void EvictToFit(std::optional<uint64_t> keep) ARIADNE_REQUIRES(mu_);
  void EraseLocked(EntryMap::iterator it) ARIADNE_REQUIRES(mu_);

  mutable Mutex mu_;
  uint64_t capacity_ ARIADNE_GUARDED_BY(mu_);
  uint64_t bytes_ ARIADNE_GUARDED_BY(mu_) = 0;
  uint64_t protected_bytes_ ARIADNE_GUARDED_BY(mu_) = 0;
  std::list<Key> probation_ ARIADNE_GUARDED_BY(mu_);
  std::list<Key> protected_ ARIADNE_GUARDED_BY(mu_);
  EntryMap entries_ ARIADNE_GUARDED_BY(mu_);
  uint64_t hits_ ARIADNE_GUARDED_BY(mu_) = 0;
  uint64_t misses_ ARIADNE_GUARDED_BY(mu_) = 0;
  uint64_t evictions_ ARIADNE_GUARDED_BY(mu_) = 0;
  uint64_t rejected_ ARIADNE_GUARDED_BY(mu_) = 0;
  uint64_t tick_ ARIADNE_GUARDED_BY(mu_) = 0;  // one per unit looked up
  // Missed keys (by hash) and the tick they were last wanted; `history_order_` lists (hash, tick)
  // as recorded, oldest first, to forget the oldest past kMaxHistory (stale pairs skipped).
  std::unordered_map<uint64_t, uint64_t> history_ ARIADNE_GUARDED_BY(mu_);
  std::deque<std::pair<uint64_t, uint64_t>> history_order_ ARIADNE_GUARDED_BY(mu_);
};

}  // namespace ariadne::store::embedded
