#include "store/embedded/column_cache.h"

namespace ariadne::store::embedded {

using columnar::ApproximateBytes;
using columnar::Block;
using columnar::ColumnSet;
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
  bool reused = false;  // the block was cached: this is at least its second use
  {
    MutexLock lock(&mu_);
    auto it = entries_.find(id);
    if (it != entries_.end() && it->second.columns.Contains(want)) {
      hits_ += want.Count();
      MoveToFront(it, Segment::kProtected);
      EvictToFit(std::nullopt);  // the protected segment may have outgrown its share
      return it->second.block;
    }
    if (it != entries_.end()) {
      const uint64_t missing = MissingColumns(it->second.columns, want);
      misses_ += missing;
      hits_ += want.Count() - missing;
      if (keep) to_read.Add(it->second.columns);
      reused = true;
    } else {
      misses_ += want.Count();
    }
  }
  ARIADNE_ASSIGN_OR_RETURN(std::shared_ptr<const Block> block, load(to_read));
  if (keep) {
    const uint64_t bytes = ApproximateBytes(*block);
    MutexLock lock(&mu_);
    auto it = entries_.find(id);
    if (it == entries_.end() || !it->second.columns.Contains(to_read))
      InsertLocked(id, to_read, block, bytes, reused ? Segment::kProtected : Segment::kProbation);
  }
  return block;
}

void ColumnCache::Insert(uint64_t id, const ColumnSet& columns,
                         std::shared_ptr<const Block> block) {
  const uint64_t bytes = ApproximateBytes(*block);
  MutexLock lock(&mu_);
  auto it = entries_.find(id);
  if (it != entries_.end() && it->second.columns.Contains(columns)) return;
  InsertLocked(id, columns, std::move(block), bytes, Segment::kProbation);
}

void ColumnCache::InsertLocked(uint64_t id, const ColumnSet& columns,
                               std::shared_ptr<const Block> block, uint64_t bytes,
                               Segment segment) {
  auto it = entries_.find(id);
  if (it != entries_.end()) EraseLocked(it);
  if (bytes > capacity_) return;
  std::list<uint64_t>& list = ListOf(segment);
  list.push_front(id);
  entries_[id] = Entry{columns, std::move(block), bytes, segment, list.begin()};
  bytes_ += bytes;
  if (segment == Segment::kProtected) protected_bytes_ += bytes;
  EvictToFit(id);
}

void ColumnCache::Erase(uint64_t id) {
  MutexLock lock(&mu_);
  auto it = entries_.find(id);
  if (it != entries_.end()) EraseLocked(it);
}

void ColumnCache::SetCapacity(uint64_t capacity_bytes) {
  MutexLock lock(&mu_);
  capacity_ = capacity_bytes;
  EvictToFit(std::nullopt);
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
  s.protected_bytes = protected_bytes_;
  return s;
}

void ColumnCache::MoveToFront(EntryMap::iterator it, Segment segment) {
  Entry& e = it->second;
  std::list<uint64_t>& from = ListOf(e.segment);
  std::list<uint64_t>& to = ListOf(segment);
  to.splice(to.begin(), from, e.position);  // iterators stay valid across splice
  if (e.segment != segment) {
    if (segment == Segment::kProtected)
      protected_bytes_ += e.bytes;
    else
      protected_bytes_ -= e.bytes;
    e.segment = segment;
  }
}

void ColumnCache::EvictToFit(std::optional<uint64_t> keep) {
  const uint64_t protected_limit = capacity_ / 100 * kProtectedSharePercent;
  while (protected_bytes_ > protected_limit && !protected_.empty())
    MoveToFront(entries_.find(protected_.back()), Segment::kProbation);
  while (bytes_ > capacity_) {
    // Probation's least recently used entry, skipping the one just added.
    auto victim = probation_.end();
    for (auto p = probation_.rbegin(); p != probation_.rend(); ++p) {
      if (keep && *p == *keep) continue;
      victim = std::prev(p.base());
      break;
    }
    if (victim == probation_.end()) {
      if (!protected_.empty())
        victim = std::prev(protected_.end());
      else if (!probation_.empty())
        victim = probation_.begin();  // only `keep` is left
      else
        break;
    }
    EraseLocked(entries_.find(*victim));
    ++evictions_;
  }
}

void ColumnCache::EraseLocked(EntryMap::iterator it) {
  bytes_ -= it->second.bytes;
  if (it->second.segment == Segment::kProtected) protected_bytes_ -= it->second.bytes;
  ListOf(it->second.segment).erase(it->second.position);
  entries_.erase(it);
}

}  // namespace ariadne::store::embedded
