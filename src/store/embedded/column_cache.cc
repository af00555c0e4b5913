#include "store/embedded/column_cache.h"

namespace ariadne::store::embedded {
namespace {

// Columns of `needed` that `held` lacks, counted as ColumnSet::Count does.
uint64_t MissingColumns(const ColumnSet& held, const ColumnSet& needed) {
  uint64_t missing = static_cast<uint64_t>(__builtin_popcount(needed.fixed & ~held.fixed));
  if (held.all_attributes) return missing;
  if (needed.all_attributes) return missing + 1;
  for (const std::string& key : needed.attributes)
    if (held.attributes.find(key) == held.attributes.end()) ++missing;
  return missing;
}

}  // namespace

Result<std::shared_ptr<const Block>> ColumnCache::Get(uint64_t id, const ColumnSet& needed,
                                                      const Loader& load, bool keep) {
  ColumnSet want = needed;
  want.Close();
  ColumnSet to_read = want;
  {
    MutexLock lock(&mu_);
    auto it = entries_.find(id);
    if (it != entries_.end() && it->second.columns.Contains(want)) {
      hits_ += want.Count();
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      return it->second.block;
    }
    if (it != entries_.end()) {
      const uint64_t missing = MissingColumns(it->second.columns, want);
      misses_ += missing;
      hits_ += want.Count() - missing;
      if (keep) to_read.Add(it->second.columns);
    } else {
      misses_ += want.Count();
    }
  }
  ARIADNE_ASSIGN_OR_RETURN(std::shared_ptr<const Block> block, load(to_read));
  if (keep) Insert(id, to_read, block);
  return block;
}

void ColumnCache::Insert(uint64_t id, const ColumnSet& columns,
                         std::shared_ptr<const Block> block) {
  const uint64_t bytes = ApproximateBytes(*block);
  MutexLock lock(&mu_);
  auto it = entries_.find(id);
  if (it != entries_.end()) {
    if (it->second.columns.Contains(columns)) return;
    EraseLocked(it);
  }
  if (bytes > capacity_) return;
  lru_.push_front(id);
  entries_[id] = Entry{columns, std::move(block), bytes, lru_.begin()};
  bytes_ += bytes;
  EvictToFit();
}

void ColumnCache::Erase(uint64_t id) {
  MutexLock lock(&mu_);
  auto it = entries_.find(id);
  if (it != entries_.end()) EraseLocked(it);
}

void ColumnCache::SetCapacity(uint64_t capacity_bytes) {
  MutexLock lock(&mu_);
  capacity_ = capacity_bytes;
  EvictToFit();
}

ColumnCacheStats ColumnCache::Stats() const {
  MutexLock lock(&mu_);
  ColumnCacheStats s;
  s.hits = hits_;
  s.misses = misses_;
  s.bytes = bytes_;
  s.capacity_bytes = capacity_;
  s.entries = entries_.size();
  s.evictions = evictions_;
  return s;
}

void ColumnCache::EvictToFit() {
  while (bytes_ > capacity_ && !lru_.empty()) {
    EraseLocked(entries_.find(lru_.back()));
    ++evictions_;
  }
}

void ColumnCache::EraseLocked(std::unordered_map<uint64_t, Entry>::iterator it) {
  bytes_ -= it->second.bytes;
  lru_.erase(it->second.lru);
  entries_.erase(it);
}

}  // namespace ariadne::store::embedded
