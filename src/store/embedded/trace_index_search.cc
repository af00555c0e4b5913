// TraceIndex::Search (trace_index.h): the merge of the sealed blocks' parts, read from their side
// files with the index unlocked, with the resident entries, in (start, trace id) order, resumable
// at any trace (keyset paging, and the steps between side-file reads).
#include <algorithm>
#include <iterator>

#include "store/embedded/trace_index.h"

namespace ariadne::store::embedded {

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
    if (cursor.missing_digest != 0) {
      // The missing digest and those of the next blocks of the walk not kept yet, read by range
      // (a few KiB each) with the index unlocked, in one go: each step of the walk goes over the
      // blocks opened so far again, so a step per digest would make a first walk quadratic.
      constexpr size_t kDigestBatch = 64;
      std::vector<uint64_t> wanted;
      DigestLoader loader;
      {
        MutexLock lock(&mu_);
        loader = digest_loader_;
        bool reached = false;
        for (const SearchBlock& b : cursor.blocks) {
          reached = reached || b.id == cursor.missing_digest;
          if (!reached || digests_.count(b.id) || cursor.no_digest.count(b.id)) continue;
          wanted.push_back(b.id);
          if (wanted.size() == kDigestBatch) break;
        }
      }
      if (wanted.empty()) wanted.push_back(cursor.missing_digest);
      cursor.missing_digest = 0;
      std::vector<Result<TraceBlockDigest>> loaded;
      loaded.reserve(wanted.size());
      for (uint64_t block : wanted)
        loaded.push_back(loader ? loader(block)
                                : Result<TraceBlockDigest>(Status::NotFound("no loader")));
      MutexLock lock(&mu_);
      if (generation_ != cursor.generation) continue;  // SearchStep plans again
      for (size_t i = 0; i < wanted.size(); ++i) {
        Result<TraceBlockDigest>& digest = loaded[i];
        if (!digest.ok() || !digest->known) {
          cursor.no_digest.insert(wanted[i]);  // older or unreadable: walked, as before digests
        } else if (!digests_.count(wanted[i])) {
          auto kept = std::make_shared<const TraceBlockDigest>(std::move(*digest));
          digest_bytes_ += kept->bytes();
          digests_.emplace(wanted[i], std::move(kept));
        }
      }
      continue;
    }
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
  std::vector<int64_t> block_env(cursor->blocks.size());
  // Read and counted under mu_ (held for this whole step); a block counts once per search.
  const auto* digests = &digests_;
  uint64_t* skipped = &blocks_skipped_;
  std::unordered_set<uint64_t>* counted = &cursor->skipped;
  const std::vector<query::xray_filter::AnnotationNeed>& needs = request.filter.annotation_needs;
  const std::vector<query::xray_filter::FieldNeed>& field_needs = request.filter.field_needs;
  for (size_t b = 0; b < cursor->blocks.size(); ++b)
    block_env[b] = FindEnvironment(cursor->blocks[b].environment);
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
    if ((!needs.empty() || !field_needs.empty()) && !cursor->no_digest.count(b.id)) {
      // The block's digest first: a block none of whose parts can meet one of the filter's
      // annotation or field needs is passed over without reading its parts.
      auto digest = digests->find(b.id);
      if (digest == digests->end()) {
        cursor->missing_digest = b.id;
        return false;
      }
      if (!digest->second->MayMatch(needs) || !digest->second->MayMatchFields(field_needs)) {
        if (counted->insert(b.id).second) ++*skipped;
        cursor->pinned.erase(b.id);
        ++next_block;
        return true;
      }
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
    open.push_back(OpenBlock{parts, block_env[next_block - 1], next});
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

}  // namespace ariadne::store::embedded
