#include "store/embedded/trace_index.h"

#include <algorithm>
#include <iterator>
#include <unordered_set>

namespace ariadne::store::embedded {
using columnar::Block;
namespace {

// The summary with its heap (summaries are held out of line, so an evicted one costs nothing).
size_t SummaryHeapBytes(const TraceSummary& s) { return TracePartCache::SummaryBytes(s); }

// Side files a search keeps at hand while it walks (blocks' time ranges overlap, so the walk in
// start order alternates between a few of them).
constexpr size_t kPinnedSideFiles = 16;

}  // namespace

uint32_t TraceIndex::EnvironmentId(std::string_view environment) {
  int64_t found = FindEnvironment(environment);
  if (found >= 0) return static_cast<uint32_t>(found);
  environments_.emplace_back(environment);
  return static_cast<uint32_t>(environments_.size() - 1);
}

int64_t TraceIndex::FindEnvironment(std::string_view environment) const {
  for (size_t i = 0; i < environments_.size(); ++i)
    if (environments_[i] == environment) return static_cast<int64_t>(i);
  return -1;
}

TraceIndex::Node* TraceIndex::NodeOf(uint32_t environment, const model::TraceId& id) {
  auto [it, inserted] = entries_.try_emplace(Key{environment, id});
  if (inserted) bytes_ += sizeof(Node) + 2 * sizeof(void*) + sizeof(OrderItem);
  return &*it;
}

void TraceIndex::Note(Node* node, uint64_t start) {
  Entry& e = node->second;
  if (e.dead) {
    e.dead = false;
    --dead_;
  }
  ++e.spans;
  ++e.version;
  if (start < e.start) {
    if (e.order_seq != 0) ++obsolete_items_;
    e.start = start;
    pending_.push_back(OrderItem{start, ++e.order_seq, node});
  }
  e.last_start = std::max(e.last_start, start);
  max_spread_ = std::max(max_spread_, e.last_start - e.start);
  if (!e.stale) {
    e.stale = true;
    stale_.insert(node);
  } else if (!e.has_summary) {
    stale_.insert(node);
  }
}

void TraceIndex::NoteBatch(const std::string& environment, const model::SpanBatch& batch) {
  MutexLock lock(&mu_);
  const uint32_t env = EnvironmentId(environment);
  for (const model::Span& span : batch.spans)
    Note(NodeOf(env, span.trace_id), span.start_time_unix_nano);
}

void TraceIndex::NoteBlock(const std::string& environment, const Block& block) {
  MutexLock lock(&mu_);
  const uint32_t env = EnvironmentId(environment);
  for (size_t row = 0; row < block.num_rows; ++row)
    Note(NodeOf(env, block.trace_id[row]), block.start_unix_nano[row]);
}

void TraceIndex::NotePart(const std::string& environment, const TraceSummary& part) {
  if (part.span_count == 0) return;
  MutexLock lock(&mu_);
  Node* node = NodeOf(EnvironmentId(environment), part.trace_id);
  Note(node, part.start_unix_nano);
  if (part.span_count > 1) {
    Note(node, part.last_span_start_unix_nano);
    node->second.spans += part.span_count - 2;
  }
}

void TraceIndex::Store(Node* node, TraceSummary summary, uint64_t block) {
  Entry& e = node->second;
  bytes_ -= e.summary_bytes;
  summary_bytes_ -= e.summary_bytes;
  e.summary = std::make_unique<TraceSummary>(std::move(summary));
  e.summary_bytes = SummaryHeapBytes(*e.summary);
  bytes_ += e.summary_bytes;
  summary_bytes_ += e.summary_bytes;
  e.has_summary = true;
  e.evicted = false;
  e.block = block;
  e.stale = false;
  stale_.erase(node);
  Post(node);
  if (block != 0 && budget_ != SIZE_MAX) {
    evictable_.push_back(node);
    EnforceBudget(nullptr);
  }
}

void TraceIndex::SetSummaryBudget(size_t bytes, PartLoader loader) {
  part_cache_.Configure(bytes / 4, std::move(loader));
  MutexLock lock(&mu_);
  budget_ = bytes - bytes / 4;
  RebuildEvictable();
  EnforceBudget(nullptr);
}

void TraceIndex::RebuildEvictable() {
  evictable_.clear();
  if (budget_ == SIZE_MAX) return;
  for (Node& node : entries_) {
    const Entry& e = node.second;
    if (e.has_summary && !e.evicted && e.block != 0 && !e.dead) evictable_.push_back(&node);
  }
}

void TraceIndex::EnforceBudget(const Node* keep) {
  if (evictable_.size() > 2 * entries_.size() + 1024) RebuildEvictable();  // drop stale items
  size_t kept = 0;
  while (summary_bytes_ > budget_ && evictable_.size() > kept) {
    Node* node = evictable_.front();
    evictable_.pop_front();
    Entry& e = node->second;
    if (!e.has_summary || e.evicted || e.block == 0 || e.dead) continue;  // a stale item
    if (node == keep) {
      evictable_.push_back(node);
      ++kept;
      continue;
    }
    bytes_ -= e.summary_bytes;
    summary_bytes_ -= e.summary_bytes;
    e.summary.reset();
    e.summary_bytes = 0;
    e.evicted = true;
  }
}

void TraceIndex::LostEvicted(Node* node) {
  Entry& e = node->second;
  e.evicted = false;
  e.has_summary = false;
  e.block = 0;
  ++e.version;
  e.stale = true;
  stale_.insert(node);
}

void TraceIndex::Post(Node* node) {
  const query::xray_filter::TraceFacts& facts = node->second.summary->xray;
  if (!facts.annotations_complete) incomplete_.push_back(node);
  for (const query::xray_filter::AnnotationFact& a : facts.annotations) {
    if (a.type != query::xray_filter::AnnotationFact::Type::kString) continue;
    std::vector<Node*>& list = postings_[a.key + '\x1f' + a.str];
    if (list.empty() || list.back() != node) {
      list.push_back(node);
      bytes_ += sizeof(Node*);
    }
  }
}

std::vector<TraceIndex::OrderItem> TraceIndex::Candidates(
    const std::vector<std::pair<std::string, std::string>>& wanted) {
  const std::vector<Node*>* smallest = nullptr;
  static const std::vector<Node*> kNone;
  for (const auto& [key, value] : wanted) {
    auto it = postings_.find(key + '\x1f' + value);
    const std::vector<Node*>* list = it == postings_.end() ? &kNone : &it->second;
    if (smallest == nullptr || list->size() < smallest->size()) smallest = list;
  }
  std::vector<Node*> nodes(smallest->begin(), smallest->end());
  nodes.insert(nodes.end(), incomplete_.begin(), incomplete_.end());
  std::sort(nodes.begin(), nodes.end());
  nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  std::vector<OrderItem> items;
  for (Node* node : nodes) {
    if (node->second.dead || node->second.start == UINT64_MAX) continue;
    items.push_back(OrderItem{node->second.start, node->second.order_seq, node});
  }
  std::sort(items.begin(), items.end(), ItemBefore);
  return items;
}

void TraceIndex::Kill(Node* node) {
  Entry& e = node->second;
  stale_.erase(node);
  bytes_ -= e.summary_bytes;
  summary_bytes_ -= e.summary_bytes;
  e.summary.reset();
  e.summary_bytes = 0;
  e.has_summary = false;
  e.evicted = false;
  e.block = 0;
  e.stale = false;
  e.dead = true;
  e.spans = 0;
  e.start = UINT64_MAX;
  e.last_start = 0;
  ++dead_;
  ++obsolete_items_;
}

void TraceIndex::PutIfComplete(const std::string& environment, TraceSummary summary,
                               uint64_t block) {
  MutexLock lock(&mu_);
  int64_t env = FindEnvironment(environment);
  if (env < 0) return;
  auto it = entries_.find(Key{static_cast<uint32_t>(env), summary.trace_id});
  if (it == entries_.end() || it->second.dead || it->second.spans != summary.span_count) return;
  Store(&*it, std::move(summary), block);
}

uint64_t TraceIndex::NotedSpans(const std::string& environment, const model::TraceId& id) const {
  MutexLock lock(&mu_);
  int64_t env = FindEnvironment(environment);
  if (env < 0) return 0;
  auto it = entries_.find(Key{static_cast<uint32_t>(env), id});
  return it == entries_.end() ? 0 : it->second.spans;
}

std::vector<TraceIndex::Stale> TraceIndex::StaleIn(std::string_view environment, uint64_t start,
                                                   uint64_t end) const {
  MutexLock lock(&mu_);
  std::vector<Stale> out;
  const int64_t env = environment.empty() ? -1 : FindEnvironment(environment);
  if (!environment.empty() && env < 0) return out;
  for (Node* node : stale_) {
    const Entry& e = node->second;
    if (env >= 0 && node->first.environment != static_cast<uint32_t>(env)) continue;
    if (e.start >= end || e.last_start < start) continue;
    out.push_back(Stale{environments_[node->first.environment], node->first.id, e.version});
  }
  return out;
}

void TraceIndex::PutFetched(const Stale& stale, TraceSummary summary) {
  MutexLock lock(&mu_);
  int64_t env = FindEnvironment(stale.environment);
  if (env < 0) return;
  auto it = entries_.find(Key{static_cast<uint32_t>(env), stale.id});
  if (it == entries_.end() || it->second.version != stale.version) return;
  Entry& e = it->second;
  // After retention the trace may have lost spans: its bounds and count come from what is stored.
  e.spans = summary.span_count;
  if (summary.start_unix_nano != e.start) {
    if (e.order_seq != 0) ++obsolete_items_;
    e.start = summary.start_unix_nano;
    pending_.push_back(OrderItem{e.start, ++e.order_seq, &*it});
  }
  e.last_start = summary.last_span_start_unix_nano;
  Store(&*it, std::move(summary), 0);
}

void TraceIndex::DropFetched(const Stale& stale) {
  MutexLock lock(&mu_);
  int64_t env = FindEnvironment(stale.environment);
  if (env < 0) return;
  auto it = entries_.find(Key{static_cast<uint32_t>(env), stale.id});
  if (it == entries_.end() || it->second.version != stale.version || it->second.dead) return;
  Kill(&*it);
}

void TraceIndex::MarkStale(std::string_view environment, uint64_t min_start, uint64_t max_end) {
  MutexLock lock(&mu_);
  const int64_t env = FindEnvironment(environment);
  if (env < 0) return;
  for (Node& node : entries_) {
    Entry& e = node.second;
    if (node.first.environment != static_cast<uint32_t>(env) || e.dead) continue;
    if (e.start > max_end || e.last_start < min_start) continue;
    ++e.version;
    e.stale = true;
    stale_.insert(&node);
  }
}

bool TraceIndex::ItemBefore(const OrderItem& a, const OrderItem& b) {
  if (a.start != b.start) return a.start < b.start;
  if (!(a.node->first.id == b.node->first.id)) return a.node->first.id < b.node->first.id;
  return a.node->first.environment < b.node->first.environment;
}

void TraceIndex::EnsureOrdered() {
  if (dead_ > 0 && dead_ * 4 > entries_.size()) {
    // Many traces dropped (retention): forget them and rebuild the order from the live ones. The
    // posting lists are filtered, not rebuilt: evicted summaries are not in memory to post again.
    std::unordered_set<const Node*> gone;
    for (const Node& node : entries_)
      if (node.second.dead) gone.insert(&node);
    auto is_gone = [&gone](const Node* node) { return gone.count(node) > 0; };
    for (auto it = postings_.begin(); it != postings_.end();) {
      std::vector<Node*>& list = it->second;
      const size_t before = list.size();
      list.erase(std::remove_if(list.begin(), list.end(), is_gone), list.end());
      bytes_ -= (before - list.size()) * sizeof(Node*);
      it = list.empty() ? postings_.erase(it) : std::next(it);
    }
    incomplete_.erase(std::remove_if(incomplete_.begin(), incomplete_.end(), is_gone),
                      incomplete_.end());
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (it->second.dead) {
        bytes_ -= sizeof(Node) + 2 * sizeof(void*) + sizeof(OrderItem);
        it = entries_.erase(it);
      } else {
        ++it;
      }
    }
    dead_ = 0;
    order_.clear();
    pending_.clear();
    obsolete_items_ = 0;
    RebuildEvictable();
    for (Node& node : entries_)
      if (node.second.start != UINT64_MAX)
        order_.push_back(OrderItem{node.second.start, ++node.second.order_seq, &node});
    std::sort(order_.begin(), order_.end(), ItemBefore);
    return;
  }
  if (!pending_.empty()) {
    std::sort(pending_.begin(), pending_.end(), ItemBefore);
    const size_t mid = order_.size();
    order_.insert(order_.end(), pending_.begin(), pending_.end());
    pending_.clear();
    if (mid > 0 && ItemBefore(order_[mid], order_[mid - 1]))
      std::inplace_merge(order_.begin(), order_.begin() + mid, order_.end(), ItemBefore);
  }
  if (obsolete_items_ > 1024 && obsolete_items_ > order_.size() / 2) {
    order_.erase(std::remove_if(order_.begin(), order_.end(),
                                [](const OrderItem& item) {
                                  return item.seq != item.node->second.order_seq ||
                                         item.node->second.dead;
                                }),
                 order_.end());
    obsolete_items_ = 0;
  }
}

Result<TracePage> TraceIndex::Search(const TracePageRequest& request,
                                     const TraceIdSet* span_matches, const CancelFlagPtr& cancel,
                                     bool* needs_refresh) {
  SearchCursor cursor;
  for (;;) {
    SearchStep(request, span_matches, cancel, &cursor);
    if (cursor.cancelled) return Status(StatusCode::kCancelled, "trace search: cancelled");
    if (cursor.missing == 0) break;
    // The index is unlocked here: the side file is read and decoded while ingest goes on.
    cursor.pinned.push_back(part_cache_.Get(cursor.missing));
    cursor.missing = 0;
    // At most a few, and within the cache's share unless it is the one just read.
    size_t pinned_bytes = 0;
    for (const std::shared_ptr<const BlockParts>& p : cursor.pinned) pinned_bytes += p->bytes;
    while (cursor.pinned.size() > 1 &&
           (cursor.pinned.size() > kPinnedSideFiles || pinned_bytes > part_cache_.capacity())) {
      pinned_bytes -= cursor.pinned.front()->bytes;
      cursor.pinned.erase(cursor.pinned.begin());
    }
  }
  if (needs_refresh) *needs_refresh = cursor.needs_refresh;
  return std::move(cursor.page);
}

void TraceIndex::SearchStep(const TracePageRequest& request, const TraceIdSet* span_matches,
                            const CancelFlagPtr& cancel, SearchCursor* cursor) {
  MutexLock lock(&mu_);
  TracePage& page = cursor->page;
  const int64_t env = request.environment.empty() ? -1 : FindEnvironment(request.environment);
  if (!request.environment.empty() && env < 0) return;
  EnsureOrdered();
  const uint64_t ws = request.start_unix_nano, we = request.end_unix_nano;
  const uint64_t lo = ws > max_spread_ ? ws - max_spread_ : 0;
  const bool newest = request.order == TraceOrder::kNewestFirst;
  // Resume after the last trace walked past (the first step: after the request's token).
  const std::optional<TracePageToken> after = cursor->position ? cursor->position : request.after;
  // Read under mu_ (held for this whole step; the analysis does not follow it into lambdas).
  const std::vector<std::string>* names = &environments_;
  std::vector<Node*> lost;  // evicted summaries their side file no longer has
  // Handles one order item; false ends the walk (page full, cancelled, or a side file missing).
  auto visit_item = [&](const OrderItem& item) {
    const Entry& e = item.node->second;
    if (item.seq != e.order_seq || e.dead || !e.has_summary) return true;
    if (env >= 0 && item.node->first.environment != static_cast<uint32_t>(env)) return true;
    const model::TraceId& id = item.node->first.id;
    if (after) {
      const TracePageToken& a = *after;
      const bool past = newest ? (item.start < a.start_unix_nano ||
                                  (item.start == a.start_unix_nano && id < a.trace_id))
                               : (item.start > a.start_unix_nano ||
                                  (item.start == a.start_unix_nano && a.trace_id < id));
      if (!past) return true;
    }
    if (e.start >= we || e.last_start < ws) return true;
    if (++page.examined % 1024 == 0 && cancel && cancel->cancelled()) {
      cursor->cancelled = true;
      return false;
    }
    if (span_matches && !span_matches->count(id)) return true;
    const TraceSummary* summary = e.summary.get();
    if (e.evicted) {
      const BlockParts* parts = nullptr;
      for (const std::shared_ptr<const BlockParts>& p : cursor->pinned)
        if (p->block == e.block) parts = p.get();
      if (parts == nullptr) {
        cursor->missing = e.block;  // read it unlocked, then come back to this trace
        --page.examined;
        return false;
      }
      auto found = parts->by_id.find(id);
      if (found == parts->by_id.end() || found->second.span_count != e.spans ||
          found->second.environment != (*names)[item.node->first.environment]) {
        lost.push_back(item.node);  // made stale after the walk
        cursor->needs_refresh = true;
        return true;
      }
      summary = &found->second;
    }
    if (!PassesTraceFilter(request.filter, *summary)) return true;
    TraceVerdict verdict = request.refine ? request.refine(*summary) : TraceVerdict::kYes;
    if (verdict == TraceVerdict::kNo) return true;
    if (request.limit != 0 && page.traces.size() == request.limit) {
      page.next = cursor->last;
      return false;
    }
    page.traces.push_back(TracePageEntry{*summary, verdict == TraceVerdict::kYes});
    cursor->last = TracePageToken{item.start, id};
    return true;
  };
  auto visit = [&](const OrderItem& item) {
    if (!visit_item(item)) return false;
    cursor->position = TracePageToken{item.start, item.node->first.id};
    return true;
  };
  auto by_start = [](const OrderItem& item, uint64_t start) { return item.start < start; };
  if (!request.filter.annotations.empty()) {
    // Only the traces that carry the annotation values: walk those in order.
    std::vector<OrderItem> items = Candidates(request.filter.annotations);
    if (newest) std::reverse(items.begin(), items.end());
    for (const OrderItem& item : items)
      if (!visit(item)) break;
  } else if (!newest) {
    uint64_t from = lo;
    if (after) from = std::max(from, after->start_unix_nano);
    auto it = std::lower_bound(order_.begin(), order_.end(), from, by_start);
    for (; it != order_.end() && it->start < we; ++it)
      if (!visit(*it)) break;
  } else {
    uint64_t to = we;  // first start not to visit
    if (after && after->start_unix_nano < UINT64_MAX) to = std::min(to, after->start_unix_nano + 1);
    auto it = std::lower_bound(order_.begin(), order_.end(), to, by_start);
    while (it != order_.begin()) {
      --it;
      if (it->start < lo) break;
      if (!visit(*it)) break;
    }
  }
  for (Node* node : lost) LostEvicted(node);
}

size_t TraceIndex::bytes() const {
  MutexLock lock(&mu_);
  return bytes_ + entries_.bucket_count() * sizeof(void*) + stale_.size() * 3 * sizeof(void*);
}

size_t TraceIndex::summary_bytes() const {
  const size_t cached = part_cache_.bytes();
  MutexLock lock(&mu_);
  return summary_bytes_ + cached;
}

uint64_t TraceIndex::summary_loads() const { return part_cache_.loads(); }

size_t TraceIndex::traces() const {
  MutexLock lock(&mu_);
  return entries_.size() - dead_;
}

}  // namespace ariadne::store::embedded
