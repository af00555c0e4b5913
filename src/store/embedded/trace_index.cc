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

void TraceIndex::SetDigestLoader(DigestLoader loader) {
  MutexLock lock(&mu_);
  digest_loader_ = std::move(loader);
}

std::shared_ptr<const TraceBlockDigest> TraceIndex::Digest(uint64_t block) {
  DigestLoader loader;
  uint64_t generation = 0;
  {
    MutexLock lock(&mu_);
    auto it = digests_.find(block);
    if (it != digests_.end()) return it->second;
    loader = digest_loader_;
    generation = generation_;
  }
  if (!loader) return nullptr;
  Result<TraceBlockDigest> digest = loader(block);
  if (!digest.ok() || !digest->known) return nullptr;
  auto kept = std::make_shared<const TraceBlockDigest>(std::move(*digest));
  MutexLock lock(&mu_);
  // Kept only when no block left the store meanwhile (it may have been this one).
  if (generation_ == generation && digests_.emplace(block, kept).second)
    digest_bytes_ += kept->bytes();
  return kept;
}

void TraceIndex::ForgetBlock(uint64_t block) {
  part_cache_.Forget(block);
  MutexLock lock(&mu_);
  auto it = digests_.find(block);
  if (it != digests_.end()) {
    digest_bytes_ -= it->second->bytes();
    digests_.erase(it);
  }
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
    ++split_drops_;
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
    // Many traces dropped (sealed whole, or gone after retention): forget them and rebuild the
    // order from the live ones. The posting lists are filtered (cheaper than posting every live
    // summary again).
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

size_t TraceIndex::bytes() const {
  MutexLock lock(&mu_);
  return bytes_ + entries_.bucket_count() * sizeof(void*) + stale_.size() * 3 * sizeof(void*);
}

size_t TraceIndex::summary_bytes() const {
  const size_t cached = part_cache_.bytes();
  MutexLock lock(&mu_);
  return summary_bytes_ + digest_bytes_ + cached;
}

uint64_t TraceIndex::blocks_skipped() const {
  MutexLock lock(&mu_);
  return blocks_skipped_;
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

uint64_t TraceIndex::split_drops() const {
  MutexLock lock(&mu_);
  return split_drops_;
}

}  // namespace ariadne::store::embedded
