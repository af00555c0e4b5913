// ColumnsCache: keeps the ClickHouse engine's ListColumns answers for a few seconds. The answer is
// a scan of the window's attribute arrays, and the query API asks for the whole-history catalog
// before every query it checks (query/column_check.h), so without the cache every query would
// pay for that scan first.
//
// Freshness: this node's own new columns are visible at once — an insert that carried an
// attribute key this node had not inserted before drops every cached answer (NoteInserted), and an
// answer computed while that happened is not kept. Keys inserted only by other nodes of a cluster
// appear within `ttl`.
//
// Threads: every method may be called concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "common/thread_annotations.h"
#include "model/span_batch.h"
#include "store/span_querier.h"

namespace ariadne::store::clickhouse {

class ColumnsCache {
 public:
  explicit ColumnsCache(std::chrono::steady_clock::duration ttl) : ttl_(ttl) {}

  // The answer for this window when one younger than the ttl is kept.
  std::optional<std::vector<ColumnInfo>> Get(std::string_view environment, uint64_t start,
                                             uint64_t end) ARIADNE_EXCLUDES(mu_);

  // Call before computing an answer; pass the value to Put.
  uint64_t Generation() const ARIADNE_EXCLUDES(mu_);

  // Keeps `columns` unless a new key was inserted since `generation`.
  void Put(std::string_view environment, uint64_t start, uint64_t end, uint64_t generation,
           std::vector<ColumnInfo> columns) ARIADNE_EXCLUDES(mu_);

  // After ClickHouse accepted `batch`: drops every answer when it carried a key not seen before.
  void NoteInserted(const model::SpanBatch& batch) ARIADNE_EXCLUDES(mu_);

 private:
  using Key = std::tuple<std::string, uint64_t, uint64_t>;
  struct Entry {
    std::chrono::steady_clock::time_point at;
    std::vector<ColumnInfo> columns;
  };
  static constexpr size_t kMaxEntries = 64;
  static constexpr size_t kMaxKnownKeys = 100'000;

  const std::chrono::steady_clock::duration ttl_;
  mutable Mutex mu_;
  std::map<Key, Entry> entries_ ARIADNE_GUARDED_BY(mu_);
  std::set<std::string, std::less<>> known_keys_ ARIADNE_GUARDED_BY(mu_);
  uint64_t generation_ ARIADNE_GUARDED_BY(mu_) = 0;
};

}  // namespace ariadne::store::clickhouse
