#include "store/embedded/trace_index_part_cache.h"

#include <algorithm>
#include <numeric>
#include <utility>

namespace ariadne::store::embedded {

size_t TracePartCache::SummaryBytes(const TraceSummary& s) {
  size_t bytes = sizeof(TraceSummary) + s.xray.ApproximateBytes() - sizeof(s.xray);
  auto heap = [](const std::string& text) { return text.size() > 15 ? text.capacity() + 1 : 0; };
  bytes += heap(s.environment) + heap(s.root_service) + heap(s.root_name);
  for (const std::string& service : s.services) bytes += sizeof(std::string) + heap(service);
  return bytes;
}

void TracePartCache::Configure(size_t capacity, Loader loader) {
  MutexLock lock(&mu_);
  capacity_ = capacity;
  loader_ = std::move(loader);
  EvictToCapacity();
}

std::shared_ptr<const BlockParts> TracePartCache::Get(uint64_t block) {
  Loader loader;
  {
    MutexLock lock(&mu_);
    auto it = slots_.find(block);
    if (it != slots_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      return it->second.parts;
    }
    loader = loader_;
  }
  // The read and the decoding happen with no lock held.
  auto parts = std::make_shared<BlockParts>();
  parts->block = block;
  Result<TraceSummaryParts> loaded =
      loader ? loader(block) : Result<TraceSummaryParts>(Status::NotFound("no loader"));
  if (!loaded.ok()) {
    parts->ok = false;
    return parts;
  }
  // Side files are written in (start, trace id) order; one that is not (hand-made) is sorted here
  // so the search's merge and binary searches hold.
  auto before = [&](size_t a, size_t b) {
    const TraceSummary &x = loaded->parts[a], &y = loaded->parts[b];
    if (x.start_unix_nano != y.start_unix_nano) return x.start_unix_nano < y.start_unix_nano;
    return x.trace_id < y.trace_id;
  };
  std::vector<size_t> order(loaded->parts.size());
  std::iota(order.begin(), order.end(), 0);
  if (std::is_sorted(order.begin(), order.end(), before)) {
    // The usual case: the decoded vectors are taken as they are (no summary moved one by one
    // into a second vector of the same size).
    parts->parts = std::move(loaded->parts);
    parts->whole = std::move(loaded->whole);
  } else {
    std::stable_sort(order.begin(), order.end(), before);
    parts->parts.reserve(order.size());
    parts->whole.reserve(order.size());
    for (size_t i : order) {
      parts->parts.push_back(std::move(loaded->parts[i]));
      parts->whole.push_back(loaded->whole[i]);
    }
  }
  for (const TraceSummary& s : parts->parts) parts->bytes += SummaryBytes(s) + 1;
  MutexLock lock(&mu_);
  ++loads_;
  auto it = slots_.find(block);
  if (it != slots_.end()) {  // another thread loaded it meanwhile
    bytes_ -= it->second.parts->bytes;
    lru_.erase(it->second.lru);
    slots_.erase(it);
  }
  if (parts->bytes <= capacity_) {
    lru_.push_front(block);
    slots_.emplace(block, Slot{parts, lru_.begin()});
    bytes_ += parts->bytes;
    EvictToCapacity();
  }
  return parts;
}

void TracePartCache::Forget(uint64_t block) {
  MutexLock lock(&mu_);
  auto it = slots_.find(block);
  if (it == slots_.end()) return;
  bytes_ -= it->second.parts->bytes;
  lru_.erase(it->second.lru);
  slots_.erase(it);
}

void TracePartCache::EvictToCapacity() {
  while (bytes_ > capacity_ && !lru_.empty()) {
    auto it = slots_.find(lru_.back());
    bytes_ -= it->second.parts->bytes;
    slots_.erase(it);
    lru_.pop_back();
  }
}

size_t TracePartCache::bytes() const {
  MutexLock lock(&mu_);
  return bytes_;
}

size_t TracePartCache::capacity() const {
  MutexLock lock(&mu_);
  return capacity_;
}

uint64_t TracePartCache::loads() const {
  MutexLock lock(&mu_);
  return loads_;
}

}  // namespace ariadne::store::embedded
