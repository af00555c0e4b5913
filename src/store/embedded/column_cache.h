// ColumnCache: decoded block columns kept in memory, bounded in bytes, scan-resistant.
//
// Queries read only the columns they need from block files (ReadBlockColumns); this cache keeps
// what they decoded so the next query over the same block skips the file read, the CRC, zstd and
// decoding. The query executor consumes a whole `Block` (a struct of column vectors), so the unit
// the cache hands out is a block holding a set of columns; the key is (block id, column): an entry
// covers the columns it holds, a lookup hits when every needed column is there, and a lookup that
// needs more decodes the missing columns together with those the entry held and replaces it, so
// an entry converges on the columns queries over that block use. Bytes are accounted per entry
// (ApproximateBytes of its block) against the capacity; a block larger than the whole capacity is
// returned but not kept.
//
// Eviction is a segmented LRU, so that one query over more blocks than fit does not flush the
// blocks every query uses: a new entry enters the probation segment; a later lookup of it (a
// second use) promotes it to the protected segment. The protected segment holds at most
// kProtectedShare of the capacity; beyond that its least recently used entries move back to the
// front of probation. To make room the least recently used probation entry goes first, and a
// protected entry only when probation holds nothing but the entry being added. A one-off scan
// therefore only cycles entries through probation, while entries used twice stay.
//
// Counters (for /metrics): column hits and misses (one per needed column per lookup), bytes held,
// capacity, entries, evictions; protected_bytes for tests and operators.
//
// Threads: safe for concurrent use. The loader runs without the cache's lock, so two threads that
// miss on the same block may both decode it; the entry with more columns is kept. Blocks handed
// out stay valid while their holders keep the shared_ptr, even after eviction.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <unordered_map>

#include "columnar/block.h"
#include "common/status.h"
#include "common/thread_annotations.h"

namespace ariadne::store::embedded {

struct ColumnCacheStats {
  uint64_t hits = 0;    // needed columns found in memory
  uint64_t misses = 0;  // needed columns decoded from a block file
  uint64_t bytes = 0;
  uint64_t capacity_bytes = 0;
  uint64_t entries = 0;
  uint64_t evictions = 0;
  uint64_t protected_bytes = 0;  // bytes of entries used at least twice (part of `bytes`)
};

class ColumnCache {
 public:
  explicit ColumnCache(uint64_t capacity_bytes) : capacity_(capacity_bytes) {}

  // Share of the capacity the protected segment may hold, in percent.
  static constexpr uint64_t kProtectedSharePercent = 80;

  // Reads `columns` of block `id` from its file (called with the columns to decode).
  using Loader = std::function<Result<std::shared_ptr<const columnar::Block>>(
      const columnar::ColumnSet& columns)>;

  // A block of `id` holding at least `needed`: from memory, or through `load` (which is asked for
  // `needed` plus the columns the cached entry held, and whose answer is cached). With keep false
  // a miss loads just `needed` and leaves the cache as it was (one-off reads of whole blocks).
  Result<std::shared_ptr<const columnar::Block>> Get(uint64_t id, const columnar::ColumnSet& needed,
                                                     const Loader& load, bool keep = true)
      ARIADNE_EXCLUDES(mu_);
  // Keeps `block` (holding `columns`) for `id` unless an entry with at least those columns exists.
  void Insert(uint64_t id, const columnar::ColumnSet& columns,
              std::shared_ptr<const columnar::Block> block) ARIADNE_EXCLUDES(mu_);
  // Forgets block `id` (removed or quarantined).
  void Erase(uint64_t id) ARIADNE_EXCLUDES(mu_);
  // Changes the capacity, evicting as needed.
  void SetCapacity(uint64_t capacity_bytes) ARIADNE_EXCLUDES(mu_);

  ColumnCacheStats Stats() const ARIADNE_EXCLUDES(mu_);

 private:
  enum class Segment : uint8_t { kProbation, kProtected };
  struct Entry {
    columnar::ColumnSet columns;
    std::shared_ptr<const columnar::Block> block;
    uint64_t bytes = 0;
    Segment segment = Segment::kProbation;
    std::list<uint64_t>::iterator position;  // in the list of its segment (front: most recent)
  };
  using EntryMap = std::unordered_map<uint64_t, Entry>;

  std::list<uint64_t>& ListOf(Segment segment) ARIADNE_REQUIRES(mu_) {
    return segment == Segment::kProtected ? protected_ : probation_;
  }
  // Moves `it` to the front of `segment` (a use), keeping the byte counts right.
  void MoveToFront(EntryMap::iterator it, Segment segment) ARIADNE_REQUIRES(mu_);
  // Adds an entry for `id` (replacing one there) into `segment`, then makes room.
  void InsertLocked(uint64_t id, const columnar::ColumnSet& columns,
                    std::shared_ptr<const columnar::Block> block, uint64_t bytes, Segment segment)
      ARIADNE_REQUIRES(mu_);
  // Demotes protected entries beyond their share, then evicts until the bytes fit; `keep` (an
  // entry just added) is evicted only when nothing else is left.
  void EvictToFit(std::optional<uint64_t> keep) ARIADNE_REQUIRES(mu_);
  void EraseLocked(EntryMap::iterator it) ARIADNE_REQUIRES(mu_);

  mutable Mutex mu_;
  uint64_t capacity_ ARIADNE_GUARDED_BY(mu_);
  uint64_t bytes_ ARIADNE_GUARDED_BY(mu_) = 0;
  uint64_t protected_bytes_ ARIADNE_GUARDED_BY(mu_) = 0;
  std::list<uint64_t> probation_ ARIADNE_GUARDED_BY(mu_);
  std::list<uint64_t> protected_ ARIADNE_GUARDED_BY(mu_);
  EntryMap entries_ ARIADNE_GUARDED_BY(mu_);
  uint64_t hits_ ARIADNE_GUARDED_BY(mu_) = 0;
  uint64_t misses_ ARIADNE_GUARDED_BY(mu_) = 0;
  uint64_t evictions_ ARIADNE_GUARDED_BY(mu_) = 0;
};

}  // namespace ariadne::store::embedded
