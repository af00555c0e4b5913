#include "store/embedded/column_cache.h"

#include <utility>
#include <vector>

#include "store/embedded/column_parts.h"

namespace ariadne::store::embedded {

using columnar::Block;
using columnar::ColumnSet;

Result<BlockColumnParts> ColumnCache::GetParts(uint64_t id, const ColumnSet& needed,
                                               const Loader& load, bool keep) {
  ARIADNE_ASSIGN_OR_RETURN(BlockColumnParts parts, LookUp(id, needed, load, keep));
  for (auto& part : parts.cached)
    if (part) part = WithEarlierForms(std::move(part));
  return parts;
}

Result<BlockColumnParts> ColumnCache::LookUp(uint64_t id, const ColumnSet& needed,
                                             const Loader& load, bool keep) {
  ColumnSet want = needed;
  want.Close();
  BlockColumnParts out;
  out.units = UnitsOf(want);
  const std::vector<ColumnUnit>& units = out.units;
  if (units.empty()) {  // no columns: just the row count, nothing to keep
    ARIADNE_ASSIGN_OR_RETURN(out.loaded, load(want));
    out.environment = out.loaded->environment;
    out.num_rows = out.loaded->num_rows;
    return out;
  }
  std::vector<std::string> keys(units.size());
  std::vector<std::shared_ptr<const CachedPart>>& parts = out.cached;
  parts.resize(units.size());
  std::vector<std::optional<uint64_t>> wanted_before(units.size());
  ColumnSet missing;
  size_t found = 0;
  {
    MutexLock lock(&mu_);
    for (size_t i = 0; i < units.size(); ++i) {
      keys[i] = units[i].CacheKey();
      ++tick_;
      auto it = entries_.find(Key{id, keys[i]});
      if (it == entries_.end()) {
        missing.Add(units[i].AsSet());
        wanted_before[i] = NoteMissLocked(Key{id, keys[i]});
        continue;
      }
      parts[i] = it->second.part;
      it->second.last_use = tick_;
      MoveToFront(it, Segment::kProtected);
      ++found;
    }
    hits_ += found;
    misses_ += units.size() - found;
    if (found > 0) EvictToFit(std::nullopt);  // the protected segment may have outgrown its share
  }
  if (found < units.size()) {
    ARIADNE_ASSIGN_OR_RETURN(out.loaded, load(missing));
    if (keep) {
      struct Fresh {
        size_t unit;
        std::shared_ptr<const CachedPart> part;
        uint64_t bytes;
      };
      // Parts admission is sure to refuse are not built (a repeated scan refuses most misses):
      // decided with a lower bound of their size (half a byte per row; InsertLocked decides
      // exactly for the others).
      const uint64_t at_least = out.loaded->num_rows / 2;
      std::vector<bool> refused(units.size());
      {
        MutexLock lock(&mu_);
        for (size_t i = 0; i < units.size(); ++i)
          if (!parts[i] && RefusesLocked(id, wanted_before[i], at_least)) {
            refused[i] = true;
            ++rejected_;
          }
      }
      std::vector<Fresh> fresh;
      for (size_t i = 0; i < units.size(); ++i) {
        if (parts[i] || refused[i]) continue;
        std::shared_ptr<const CachedPart> part = MakeCachedPart(*out.loaded, units[i]);
        const uint64_t bytes = part->Bytes();
        fresh.push_back(Fresh{i, std::move(part), bytes});
      }
      MutexLock lock(&mu_);
      for (Fresh& f : fresh) {
        InsertLocked(Key{id, keys[f.unit]}, std::move(f.part), f.bytes, wanted_before[f.unit]);
        EvictToFit(id);
      }
    }
  }
  const Block& any = out.loaded ? *out.loaded : *parts[0]->block;
  out.environment = any.environment;
  out.num_rows = any.num_rows;
  return out;
}

Result<std::shared_ptr<const Block>> ColumnCache::Get(uint64_t id, const ColumnSet& needed,
                                                      const Loader& load, bool keep) {
  ARIADNE_ASSIGN_OR_RETURN(BlockColumnParts parts, LookUp(id, needed, load, keep));
  const std::vector<ColumnUnit>& units = parts.units;
  size_t found = 0;
  for (const auto& part : parts.cached) found += part != nullptr;
  if (found == 0) return parts.loaded;  // it holds exactly the needed columns
  if (found == 1 && units.size() == 1 && parts.cached[0]->narrowed == CachedPart::Narrowed::kNone)
    return parts.cached[0]->block;  // one cached column: no copy needed
  auto block = std::make_shared<Block>();
  block->environment = parts.environment;
  block->num_rows = parts.num_rows;
  // The block read for this lookup, when nothing else holds it (the parts kept are copies): its
  // columns move into the assembled block rather than being copied (a high-cardinality attribute
  // column carries its whole string dictionary).
  std::shared_ptr<Block> own;
  if (parts.loaded && parts.loaded.use_count() == 1)
    own = std::const_pointer_cast<Block>(std::move(parts.loaded));
  for (size_t i = 0; i < units.size(); ++i) {
    if (parts.cached[i])
      AddCachedPart(*parts.cached[i], units[i], block.get());
    else if (own)
      MovePart(own.get(), units[i], block.get());
    else
      AddPart(*parts.loaded, units[i], block.get());
  }
  return std::shared_ptr<const Block>(std::move(block));
}

void ColumnCache::InsertLocked(const Key& key, std::shared_ptr<const CachedPart> part,
                               uint64_t bytes, std::optional<uint64_t> wanted_before) {
  if (entries_.find(key) != entries_.end()) return;  // another reader kept it first
  if (bytes > capacity_) return;
  if (RefusesLocked(key.block, wanted_before, bytes)) {
    ++rejected_;  // a repeating scan: keep what is held rather than what is gone next
    return;
  }
  probation_.push_front(key);
  entries_[key] = Entry{std::move(part), bytes, Segment::kProbation, probation_.begin(), tick_};
  bytes_ += bytes;
}

bool ColumnCache::RefusesLocked(uint64_t block, std::optional<uint64_t> wanted_before,
                                uint64_t bytes) {
  if (!wanted_before || bytes_ + bytes <= capacity_) return false;  // new, or room left
  auto victim = VictimLocked(block);
  return victim != entries_.end() && victim->first.block != block &&
         victim->second.last_use > *wanted_before;
}

std::optional<uint64_t> ColumnCache::NoteMissLocked(const Key& key) {
  const uint64_t hash = std::hash<std::string>{}(key.column) ^ (key.block * 0x9e3779b97f4a7c15ULL);
  std::optional<uint64_t> before;
  auto [it, added] = history_.try_emplace(hash, tick_);
  if (!added) {
    before = it->second;
    it->second = tick_;
  }
  history_order_.emplace_back(hash, tick_);
  while (history_order_.size() > kMaxHistory) {
    const auto [old_hash, old_tick] = history_order_.front();
    history_order_.pop_front();
    auto h = history_.find(old_hash);
    if (h != history_.end() && h->second == old_tick) history_.erase(h);  // not wanted since
  }
  return before;
}

void ColumnCache::Erase(uint64_t id) {
  MutexLock lock(&mu_);
  auto it = entries_.lower_bound(Key{id, std::string()});
  while (it != entries_.end() && it->first.block == id) EraseLocked(it++);
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
  s.rejected = rejected_;
  return s;
}

void ColumnCache::MoveToFront(EntryMap::iterator it, Segment segment) {
  Entry& e = it->second;
  std::list<Key>& from = ListOf(e.segment);
  std::list<Key>& to = ListOf(segment);
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
    auto victim = VictimLocked(keep);
    if (victim == entries_.end()) break;
    EraseLocked(victim);
    ++evictions_;
  }
}

ColumnCache::EntryMap::iterator ColumnCache::VictimLocked(std::optional<uint64_t> keep) {
  // Probation's least recently used entry, skipping those just added.
  for (auto p = probation_.rbegin(); p != probation_.rend(); ++p)
    if (!keep || p->block != *keep) return entries_.find(*p);
  if (!protected_.empty()) return entries_.find(protected_.back());
  if (!probation_.empty()) return entries_.find(probation_.back());  // only `keep`'s are left
  return entries_.end();
}

void ColumnCache::EraseLocked(EntryMap::iterator it) {
  bytes_ -= it->second.bytes;
  if (it->second.segment == Segment::kProtected) protected_bytes_ -= it->second.bytes;
  ListOf(it->second.segment).erase(it->second.position);
  entries_.erase(it);
}

}  // namespace ariadne::store::embedded
