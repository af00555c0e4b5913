#include "store/embedded/trace_index.h"

#include <algorithm>
#include <iterator>
#include <unordered_set>

namespace ariadne::store::embedded {
namespace {

// The summary with its heap (summaries are held out of line: an entry without one costs nothing).
size_t SummaryHeapBytes(const TraceSummary& s) { return TracePartCache::SummaryBytes(s); }

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
  e.stale = true;
  stale_.insert(node);
}

void TraceIndex::NoteBatch(const std::string& environment, const model::SpanBatch& batch) {
  MutexLock lock(&mu_);
  const uint32_t env = EnvironmentId(environment);
  for (const model::Span& span : batch.spans)
    Note(NodeOf(env, span.trace_id), span.start_time_unix_nano);
}

void TraceIndex::LoadSplits(const std::vector<SplitTrace>& traces) { (void)AddSplits(traces); }

std::vector<SplitTrace> TraceIndex::AddSplits(const std::vector<SplitTrace>& traces) {
  MutexLock lock(&mu_);
  for (const SplitTrace& t : traces) {
    Node* node = NodeOf(EnvironmentId(t.environment), t.id);
    // The range the trace's spans may cover (StaleIn finds it); the span count stays what was
    // noted: the refetch (PutFetched) sets the whole trace's.
    const uint64_t spans = node->second.spans;
    Note(node, t.start_unix_nano);
    if (t.last_start_unix_nano > t.start_unix_nano) Note(node, t.last_start_unix_nano);
    node->second.spans = spans;
    if (!node->second.split) {
      node->second.split = true;
      ++splits_;
    }
  }
  std::vector<SplitTrace> all;
  all.reserve(splits_);
  for (const Node& node : entries_) {
    const Entry& e = node.second;
    if (!e.split || e.dead) continue;
    all.push_back(
        SplitTrace{environments_[node.first.environment], node.first.id, e.start, e.last_start});
  }
  return all;
}

bool TraceIndex::IsSplit(const std::string& environment, const model::TraceId& id) const {
  MutexLock lock(&mu_);
  const int64_t env = FindEnvironment(environment);
  if (env < 0) return false;
  auto it = entries_.find(Key{static_cast<uint32_t>(env), id});
  return it != entries_.end() && !it->second.dead && it->second.split;
}

void TraceIndex::Sealed(const std::string& environment, const std::vector<TraceSummary>& parts,
                        const std::vector<uint8_t>& whole) {
  MutexLock lock(&mu_);
  ++generation_;
  const int64_t env = FindEnvironment(environment);
  if (env < 0) return;
  for (size_t i = 0; i < parts.size() && i < whole.size(); ++i) {
    if (!whole[i]) continue;
    auto it = entries_.find(Key{static_cast<uint32_t>(env), parts[i].trace_id});
    if (it == entries_.end()) continue;
    const Entry& e = it->second;
    if (e.dead || e.split || e.spans != parts[i].span_count) continue;
    Kill(&*it);
  }
  EnsureOrdered();  // forgets the dropped entries when many (ingest alone never searches)
}

bool TraceIndex::Resident(uint32_t environment, const model::TraceId& id) const {
  auto it = entries_.find(Key{environment, id});
  return it != entries_.end() && !it->second.dead;
}

void TraceIndex::Store(Node* node, TraceSummary summary) {
  Entry& e = node->second;
  bytes_ -= e.summary_bytes;
  summary_bytes_ -= e.summary_bytes;
  e.summary = std::make_unique<TraceSummary>(std::move(summary));
  e.summary_bytes = SummaryHeapBytes(*e.summary);
  bytes_ += e.summary_bytes;
  summary_bytes_ += e.summary_bytes;
  e.stale = false;
  stale_.erase(node);
  Post(node);
}

void TraceIndex::SetSummaryBudget(size_t bytes, PartLoader loader) {
  part_cache_.Configure(bytes, std::move(loader));
}

void TraceIndex::ForgetBlock(uint64_t block) {
  part_cache_.Forget(block);
  MutexLock lock(&mu_);
  ++generation_;
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
  e.stale = false;
  e.dead = true;
  if (e.split) {
    e.split = false;
    --splits_;
  }
  e.spans = 0;
  e.start = UINT64_MAX;
  e.last_start = 0;
  ++dead_;
  ++obsolete_items_;
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
  Store(&*it, std::move(summary));
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
                                     const BlockLister& blocks) {
  const bool newest = request.order == TraceOrder::kNewestFirst;
  SearchCursor cursor;
  cursor.replan = true;
  for (;;) {
    if (cursor.replan) {
      // The index is unlocked here: the store's block list is taken under its own lock. A
      // generation read before the list makes a change after it plan again (SearchStep).
      {
        MutexLock lock(&mu_);
        cursor.generation = generation_;
      }
      cursor.blocks.clear();
      if (blocks) {
        for (SearchBlock& b : blocks()) {
          if (!request.environment.empty() && b.environment != request.environment) continue;
          if (b.min_start >= request.end_unix_nano || b.max_end < request.start_unix_nano) continue;
          cursor.blocks.push_back(std::move(b));
        }
      }
      std::sort(cursor.blocks.begin(), cursor.blocks.end(),
                [newest](const SearchBlock& a, const SearchBlock& b) {
                  return newest ? a.max_end > b.max_end : a.min_start < b.min_start;
                });
      // Side files that did not load are tried again with the new list.
      for (auto it = cursor.pinned.begin(); it != cursor.pinned.end();)
        it = it->second->ok ? std::next(it) : cursor.pinned.erase(it);
      cursor.replan = false;
    }
    SearchStep(request, span_matches, cancel, &cursor);
    if (cursor.cancelled) return Status(StatusCode::kCancelled, "trace search: cancelled");
    if (cursor.replan) continue;
    if (cursor.missing == 0) break;
    // Unlocked: the side file is read and decoded while ingest goes on.
    std::shared_ptr<const BlockParts> parts = part_cache_.Get(cursor.missing);
    if (!parts->ok) {
      // Gone with a compaction or retention that changed the block list (plan again), or
      // damaged (skipped: SearchStep passes over a block pinned not ok).
      MutexLock lock(&mu_);
      if (generation_ != cursor.generation) cursor.replan = true;
    }
    cursor.pinned[cursor.missing] = std::move(parts);
    cursor.missing = 0;
  }
  return std::move(cursor.page);
}

namespace {

// (start, trace id) before (start, trace id), in the walk's direction.
bool KeyBefore(bool newest, uint64_t a_start, const model::TraceId& a_id, uint64_t b_start,
               const model::TraceId& b_id) {
  if (a_start != b_start) return newest ? a_start > b_start : a_start < b_start;
  return newest ? b_id < a_id : a_id < b_id;
}

}  // namespace

void TraceIndex::SearchStep(const TracePageRequest& request, const TraceIdSet* span_matches,
                            const CancelFlagPtr& cancel, SearchCursor* cursor) {
  MutexLock lock(&mu_);
  if (cursor->generation != generation_) {
    cursor->replan = true;  // a seal or compaction changed what the blocks and entries hold
    return;
  }
  TracePage& page = cursor->page;
  const int64_t env = request.environment.empty() ? -1 : FindEnvironment(request.environment);
  // No resident entry of an unknown environment; its blocks may still hold parts.
  const bool no_resident = !request.environment.empty() && env < 0;
  EnsureOrdered();
  const uint64_t ws = request.start_unix_nano, we = request.end_unix_nano;
  const uint64_t lo = ws > max_spread_ ? ws - max_spread_ : 0;
  const bool newest = request.order == TraceOrder::kNewestFirst;
  // Resume after the last trace walked past (the first step: after the request's token).
  const std::optional<TracePageToken> after = cursor->position ? cursor->position : request.after;
  auto past = [&](uint64_t start, const model::TraceId& id) {
    return !after || KeyBefore(newest, after->start_unix_nano, after->trace_id, start, id);
  };

  // The resident entries in walk order: all of them, or the annotation candidates.
  std::vector<OrderItem> candidates;
  const std::vector<OrderItem>* items = &order_;
  if (!request.filter.annotations.empty()) {
    candidates = Candidates(request.filter.annotations);
    items = &candidates;
  }
  auto by_start = [](const OrderItem& item, uint64_t start) { return item.start < start; };
  size_t ri = 0;  // oldest first: the next item; newest first: one past it
  if (no_resident) {
    ri = newest ? 0 : items->size();
  } else if (!newest) {
    uint64_t from = lo;
    if (after) from = std::max(from, after->start_unix_nano);
    ri = std::lower_bound(items->begin(), items->end(), from, by_start) - items->begin();
  } else {
    uint64_t to = we;  // first start not to visit
    if (after && after->start_unix_nano < UINT64_MAX) to = std::min(to, after->start_unix_nano + 1);
    ri = std::lower_bound(items->begin(), items->end(), to, by_start) - items->begin();
  }
  auto resident_peek = [&]() -> const OrderItem* {
    if (!newest) return ri < items->size() && (*items)[ri].start < we ? &(*items)[ri] : nullptr;
    return ri > 0 && (*items)[ri - 1].start >= lo ? &(*items)[ri - 1] : nullptr;
  };

  // The blocks' parts: blocks open once the walk reaches their time range.
  struct OpenBlock {
    const BlockParts* parts;
    int64_t env_id;  // in environments_, -1 when no resident entry has it
    size_t next;     // oldest first: the next part; newest first: one past it
  };
  std::vector<OpenBlock> open;
  size_t next_block = 0;
  // Opens the next block of cursor->blocks; false when its side file must be read first.
  auto open_next = [&]() {
    const SearchBlock& b = cursor->blocks[next_block];
    // A block wholly before the position has nothing left to walk.
    const bool passed = after && (newest ? b.min_start > after->start_unix_nano
                                         : b.max_end < after->start_unix_nano);
    if (passed) {
      cursor->pinned.erase(b.id);
      ++next_block;
      return true;
    }
    auto found = cursor->pinned.find(b.id);
    if (found == cursor->pinned.end()) {
      cursor->missing = b.id;
      return false;
    }
    ++next_block;
    const BlockParts* parts = found->second.get();
    if (!parts->ok) return true;  // damaged: nothing to walk
    const std::vector<TraceSummary>& v = parts->parts;
    auto key_less = [](const TraceSummary& s, const TracePageToken& t) {
      return KeyBefore(false, s.start_unix_nano, s.trace_id, t.start_unix_nano, t.trace_id);
    };
    size_t next = newest ? v.size() : 0;
    if (after) {
      // Oldest first: the first part after the position; newest first: the parts before it.
      auto it = std::lower_bound(v.begin(), v.end(), *after, key_less);
      if (!newest) {
        if (it != v.end() && it->start_unix_nano == after->start_unix_nano &&
            it->trace_id == after->trace_id)
          ++it;
      }
      next = it - v.begin();
    }
    if (newest) {  // parts starting at or after the window's end are not walked
      auto end =
          std::lower_bound(v.begin(), v.begin() + next, we,
                           [](const TraceSummary& s, uint64_t t) { return s.start_unix_nano < t; });
      next = end - v.begin();
    }
    open.push_back(OpenBlock{parts, FindEnvironment(b.environment), next});
    return true;
  };
  auto part_peek = [&](const OpenBlock& o) -> const TraceSummary* {
    const std::vector<TraceSummary>& v = o.parts->parts;
    if (!newest) return o.next < v.size() && v[o.next].start_unix_nano < we ? &v[o.next] : nullptr;
    return o.next > 0 ? &v[o.next - 1] : nullptr;
  };

  // Read under mu_ (held for this whole step; the analysis does not follow it into lambdas).
  const Map* entries = &entries_;
  // Evaluates one trace summary; false ends the walk (page full or cancelled).
  auto evaluate = [&](const TraceSummary& summary, uint64_t start, const model::TraceId& id) {
    if (++page.examined % 1024 == 0 && cancel && cancel->cancelled()) {
      cursor->cancelled = true;
      return false;
    }
    if (span_matches && !span_matches->count(id)) return true;
    if (!PassesTraceFilter(request.filter, summary)) return true;
    TraceVerdict verdict = request.refine ? request.refine(summary) : TraceVerdict::kYes;
    if (verdict == TraceVerdict::kNo) return true;
    if (request.limit != 0 && page.traces.size() == request.limit) {
      page.next = cursor->last;
      return false;
    }
    page.traces.push_back(TracePageEntry{summary, verdict == TraceVerdict::kYes});
    cursor->last = TracePageToken{start, id};
    return true;
  };
  auto visit_resident = [&](const OrderItem& item) {
    const Entry& e = item.node->second;
    if (item.seq != e.order_seq || e.dead || !e.summary) return true;
    if (env >= 0 && item.node->first.environment != static_cast<uint32_t>(env)) return true;
    const model::TraceId& id = item.node->first.id;
    if (!past(item.start, id)) return true;
    if (e.start >= we || e.last_start < ws) return true;
    return evaluate(*e.summary, item.start, id);
  };
  auto visit_part = [&](const OpenBlock& o, size_t i) {
    const TraceSummary& s = o.parts->parts[i];
    if (!o.parts->whole[i]) return true;  // a split trace's part: its resident entry answers
    if (!past(s.start_unix_nano, s.trace_id)) return true;
    if (s.last_span_start_unix_nano < ws) return true;
    if (s.start_unix_nano >= we) return true;
    if (o.env_id >= 0) {
      auto it = entries->find(Key{static_cast<uint32_t>(o.env_id), s.trace_id});
      if (it != entries->end() && !it->second.dead) return true;  // resident: heads' or split
    }
    return evaluate(s, s.start_unix_nano, s.trace_id);
  };

  // The merge: the next key of the resident entries and of the open blocks, opening the blocks
  // whose range the walk reaches first.
  for (;;) {
    const OrderItem* r = resident_peek();
    OpenBlock* best = nullptr;
    const TraceSummary* best_part = nullptr;
    for (OpenBlock& o : open) {
      const TraceSummary* p = part_peek(o);
      if (p == nullptr) continue;
      if (best_part == nullptr || KeyBefore(newest, p->start_unix_nano, p->trace_id,
                                            best_part->start_unix_nano, best_part->trace_id)) {
        best = &o;
        best_part = p;
      }
    }
    bool take_resident = r != nullptr;
    if (r != nullptr && best_part != nullptr)
      take_resident = !KeyBefore(newest, best_part->start_unix_nano, best_part->trace_id, r->start,
                                 r->node->first.id);
    uint64_t key_start = 0;
    if (take_resident)
      key_start = r->start;
    else if (best_part != nullptr)
      key_start = best_part->start_unix_nano;
    // A block not open yet whose range reaches the next key (or any, when nothing is left).
    if (next_block < cursor->blocks.size()) {
      const SearchBlock& b = cursor->blocks[next_block];
      const bool nothing_left = r == nullptr && best_part == nullptr;
      const bool reached =
          nothing_left || (newest ? b.max_end >= key_start : b.min_start <= key_start);
      if (reached) {
        if (!open_next()) break;  // cursor->missing: read it unlocked, then come back here
        continue;
      }
    }
    if (r == nullptr && best_part == nullptr) break;  // the window is walked
    bool go_on = true;
    if (take_resident) {
      go_on = visit_resident(*r);
      if (go_on) cursor->position = TracePageToken{r->start, r->node->first.id};
      newest ? --ri : ++ri;
    } else {
      const size_t i = newest ? best->next - 1 : best->next;
      go_on = visit_part(*best, i);
      if (go_on) cursor->position = TracePageToken{best_part->start_unix_nano, best_part->trace_id};
      newest ? --best->next : ++best->next;
    }
    if (!go_on) break;
  }
  // Blocks the walk passed for good stay pinned no longer.
  if (cursor->position) {
    const TracePageToken& at = *cursor->position;
    for (const SearchBlock& b : cursor->blocks) {
      const bool passed =
          newest ? b.min_start > at.start_unix_nano : b.max_end < at.start_unix_nano;
      if (passed) cursor->pinned.erase(b.id);
    }
  }
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

size_t TraceIndex::split_traces() const {
  MutexLock lock(&mu_);
  return splits_;
}

}  // namespace ariadne::store::embedded
