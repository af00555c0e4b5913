// ColumnCache: decoded block columns kept in memory, bounded in bytes, least recently used evicted.
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
// Counters (for /metrics): column hits and misses (one per needed column per lookup), bytes held,
// capacity, entries, evictions.
//
// Threads: safe for concurrent use. The loader runs without the cache's lock, so two threads that
// miss on the same block may both decode it; the entry with more columns is kept. Blocks handed
// out stay valid while their holders keep the shared_ptr, even after eviction.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <unordered_map>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "store/embedded/block.h"

namespace ariadne::store::embedded {

struct ColumnCacheStats {
  uint64_t hits = 0;    // needed columns found in memory
  uint64_t misses = 0;  // needed columns decoded from a block file
  uint64_t bytes = 0;
  uint64_t capacity_bytes = 0;
  uint64_t entries = 0;
  uint64_t evictions = 0;
};

class ColumnCache {
 public:
  explicit ColumnCache(uint64_t capacity_bytes) : capacity_(capacity_bytes) {}

  // Reads `columns` of block `id` from its file (called with the columns to decode).
  using Loader = std::function<Result<std::shared_ptr<const Block>>(const ColumnSet& columns)>;

  // A block of `id` holding at least `needed`: from memory, or through `load` (which is asked for
  // `needed` plus the columns the cached entry held, and whose answer is cached). With keep false
  // a miss loads just `needed` and leaves the cache as it was (one-off reads of whole blocks).
  Result<std::shared_ptr<const Block>> Get(uint64_t id, const ColumnSet& needed, const Loader& load,
                                           bool keep = true) ARIADNE_EXCLUDES(mu_);
  // Keeps `block` (holding `columns`) for `id` unless an entry with at least those columns exists.
  void Insert(uint64_t id, const ColumnSet& columns, std::shared_ptr<const Block> block)
      ARIADNE_EXCLUDES(mu_);
  // Forgets block `id` (removed or quarantined).
  void Erase(uint64_t id) ARIADNE_EXCLUDES(mu_);
  // Changes the capacity, evicting as needed.
  void SetCapacity(uint64_t capacity_bytes) ARIADNE_EXCLUDES(mu_);

  ColumnCacheStats Stats() const ARIADNE_EXCLUDES(mu_);

 private:
  struct Entry {
    ColumnSet columns;
    std::shared_ptr<const Block> block;
    uint64_t bytes = 0;
    std::list<uint64_t>::iterator lru;  // position in lru_ (front: most recent)
  };
  void EvictToFit() ARIADNE_REQUIRES(mu_);
  void EraseLocked(std::unordered_map<uint64_t, Entry>::iterator it) ARIADNE_REQUIRES(mu_);

  mutable Mutex mu_;
  uint64_t capacity_ ARIADNE_GUARDED_BY(mu_);
  uint64_t bytes_ ARIADNE_GUARDED_BY(mu_) = 0;
  std::list<uint64_t> lru_ ARIADNE_GUARDED_BY(mu_);
  std::unordered_map<uint64_t, Entry> entries_ ARIADNE_GUARDED_BY(mu_);
  uint64_t hits_ ARIADNE_GUARDED_BY(mu_) = 0;
  uint64_t misses_ ARIADNE_GUARDED_BY(mu_) = 0;
  uint64_t evictions_ ARIADNE_GUARDED_BY(mu_) = 0;
};

}  // namespace ariadne::store::embedded
