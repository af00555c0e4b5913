#include "store/clickhouse/columns_cache.h"

#include <utility>

namespace ariadne::store::clickhouse {

std::optional<std::vector<ColumnInfo>> ColumnsCache::Get(std::string_view environment,
                                                         uint64_t start, uint64_t end) {
  MutexLock lock(&mu_);
  auto it = entries_.find(Key{std::string(environment), start, end});
  if (it == entries_.end()) return std::nullopt;
  if (std::chrono::steady_clock::now() - it->second.at >= ttl_) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.columns;
}

uint64_t ColumnsCache::Generation() const {
  MutexLock lock(&mu_);
  return generation_;
}

void ColumnsCache::Put(std::string_view environment, uint64_t start, uint64_t end,
                       uint64_t generation, std::vector<ColumnInfo> columns) {
  MutexLock lock(&mu_);
  if (generation != generation_) return;  // a new key arrived while this answer was computed
  if (entries_.size() >= kMaxEntries) entries_.clear();
  entries_[Key{std::string(environment), start, end}] =
      Entry{std::chrono::steady_clock::now(), std::move(columns)};
}

void ColumnsCache::NoteInserted(const model::SpanBatch& batch) {
  MutexLock lock(&mu_);
  bool fresh = false;
  for (const model::KeyValue& kv : batch.attributes) {
    if (known_keys_.find(kv.key) != known_keys_.end()) continue;
    if (known_keys_.size() >= kMaxKnownKeys) known_keys_.clear();
    known_keys_.emplace(kv.key);
    fresh = true;
  }
  if (!fresh) return;
  generation_++;
  entries_.clear();
}

}  // namespace ariadne::store::clickhouse
