#include "store/service_graph.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "columnar/coding.h"
#include "store/service_graph_rules.h"

namespace ariadne::store {
namespace {

constexpr uint64_t kMinuteNano = kGraphBucketNano;
constexpr uint8_t kSnapshotVersion = 3;
constexpr uint8_t kService = static_cast<uint8_t>(GraphNodeKind::kService);
constexpr uint8_t kDatabase = static_cast<uint8_t>(GraphNodeKind::kDatabase);
constexpr uint8_t kRemote = static_cast<uint8_t>(GraphNodeKind::kRemote);
static_assert(kRemote == static_cast<uint8_t>(kLastGraphNodeKind));

uint64_t IdKey(const model::SpanId& id) {
  uint64_t key;
  std::memcpy(&key, id.bytes.data(), 8);
  return key;
}

}  // namespace

namespace {

// Bucket of a positive latency: sign-less exponent and the top 5 mantissa bits of the double.
int32_t BucketOf(double ms) {
  if (!(ms > 1e-6)) ms = 1e-6;
  uint64_t bits;
  std::memcpy(&bits, &ms, 8);
  return static_cast<int32_t>(bits >> 47);
}

// The middle of a bucket.
double BucketMiddle(int32_t index) {
  uint64_t bits = (static_cast<uint64_t>(index) << 47) | (uint64_t{1} << 46);
  double ms;
  std::memcpy(&ms, &bits, 8);
  return ms;
}

}  // namespace

void ServiceGraphBuilder::Histogram::Add(double ms, double count) {
  const int32_t index = BucketOf(ms);
  auto it = std::lower_bound(buckets.begin(), buckets.end(), index,
                             [](const auto& b, int32_t i) { return b.first < i; });
  if (it != buckets.end() && it->first == index) {
    it->second += count;
  } else {
    buckets.insert(it, {index, count});
  }
}

void ServiceGraphBuilder::Histogram::Merge(const Histogram& other) {
  std::vector<std::pair<int32_t, double>> merged;
  merged.reserve(buckets.size() + other.buckets.size());
  auto a = buckets.cbegin();
  auto b = other.buckets.cbegin();
  while (a != buckets.cend() || b != other.buckets.cend()) {
    if (b == other.buckets.end() || (a != buckets.end() && a->first < b->first)) {
      merged.push_back(*a++);
    } else if (a == buckets.end() || b->first < a->first) {
      merged.push_back(*b++);
    } else {
      merged.emplace_back(a->first, a->second + b->second);
      ++a;
      ++b;
    }
  }
  buckets = std::move(merged);
}

double ServiceGraphBuilder::Histogram::Quantile(double q) const {
  double total = 0;
  for (const auto& [i, c] : buckets) total += c;
  if (total == 0) return 0;
  double cumulative = 0;
  for (const auto& [i, c] : buckets) {
    cumulative += c;
    if (cumulative >= q * total) return BucketMiddle(i);
  }
  return BucketMiddle(buckets.back().first);
}

uint32_t ServiceGraphBuilder::Intern(std::string_view name) {
  auto it = name_ids_.find(name);
  if (it != name_ids_.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(names_.size());
  names_.emplace_back(name);
  name_ids_.emplace(std::string(name), id);
  return id;
}

void ServiceGraphBuilder::AddEdge(uint32_t env, uint64_t minute, uint32_t source, uint32_t target,
                                  bool error, double latency_ms) {
  EdgeStats& e = edges_[EdgeKey{env, source, target, minute}];
  e.requests++;
  e.errors += error;
  e.latency.Add(latency_ms);
}

void ServiceGraphBuilder::AddNode(uint32_t env, uint64_t minute, uint32_t name, uint8_t kind,
                                  bool error) {
  NodeStats& node = nodes_[NodeKey{env, name, minute}];
  node.kind = std::max(node.kind, kind);
  node.requests++;
  node.errors += error;
}

void ServiceGraphBuilder::Pair(const SpanInfo& parent, uint64_t parent_key, const SpanInfo& child) {
  if (parent.environment != child.environment) return;
  // Same service: a call into it again (the child enters the service) is a self-edge; an
  // in-process child is no edge.
  const bool enters =
      child.kind == model::SpanKind::kServer || child.kind == model::SpanKind::kConsumer;
  if (parent.service == child.service && !enters) return;
  AddEdge(child.environment, child.minute, parent.service, child.service, child.error,
          child.duration_ms);
  auto it = recent_.find(parent_key);
  if (it != recent_.end()) it->second.answered = true;
}

void ServiceGraphBuilder::Observe(std::string_view environment, const model::SpanBatch& batch,
                                  uint64_t now_unix_nano) {
  Expire(now_unix_nano);
  const uint32_t env = Intern(environment);
  std::vector<uint32_t> service_of_resource(batch.resources.size(), kNoName);
  for (const model::Span& s : batch.spans) {
    uint32_t& service = service_of_resource[s.resource_index];
    if (service == kNoName) service = Intern(batch.ServiceNameOf(s));
    Unresolved span;
    SpanInfo& info = span.info;
    info.environment = env;
    info.service = service;
    info.peer = kNoName;
    info.kind = s.kind;
    info.error = s.status_code == model::StatusCode::kError;
    info.duration_ms = static_cast<double>(s.duration_nano()) / 1e6;
    info.minute = s.start_time_unix_nano / kMinuteNano;
    info.seen_at = now_unix_nano;
    span.key = IdKey(s.span_id);
    span.database = kNoName;
    span.enters = EntersService(s);
    if (std::optional<ClientCallTarget> call = ClientTargetOf(batch, s)) {
      const uint32_t target = Intern(call->name);
      if (call->kind == GraphNodeKind::kDatabase) {
        span.database = target;
      } else {
        info.peer = target;  // an edge only if no other service answers (Pair / Expire)
      }
    }
    const bool root = s.is_root();
    const uint64_t parent_key = root ? 0 : IdKey(s.parent_span_id);
    if (!root && names_[service].empty()) {
      // No service of its own (an independently sent X-Ray subsegment): its parent's.
      auto parent = recent_.find(parent_key);
      if (parent != recent_.end() && parent->second.environment == env) {
        info.service = parent->second.service;
      } else {
        if (unresolved_count_ < options_.max_unpaired) {
          unresolved_[parent_key].push_back(span);
          unresolved_expiry_.Push(now_unix_nano, parent_key);
          ++unresolved_count_;
        }
        continue;
      }
    }
    Settle(span, parent_key, root);
  }
}

void ServiceGraphBuilder::Settle(Unresolved first, uint64_t first_parent_key, bool first_root) {
  struct Work {
    Unresolved span;
    uint64_t parent_key;
    bool root;
  };
  std::vector<Work> work{{first, first_parent_key, first_root}};
  while (!work.empty()) {
    Work w = work.back();
    work.pop_back();
    const SpanInfo& info = w.span.info;
    const uint32_t env = info.environment;
    const uint64_t key = w.span.key;
    if (w.span.enters) AddNode(env, info.minute, info.service, kService, info.error);
    if (w.span.database != kNoName) {
      AddEdge(env, info.minute, info.service, w.span.database, info.error, info.duration_ms);
      AddNode(env, info.minute, w.span.database, kDatabase, info.error);
    }
    if (!w.root) {
      auto parent = recent_.find(w.parent_key);
      if (parent != recent_.end()) {
        Pair(parent->second, w.parent_key, info);
      } else if (waiting_children_.size() < options_.max_unpaired) {
        waiting_children_[w.parent_key].push_back(info);
        waiting_expiry_.Push(info.seen_at, w.parent_key);
      }
    }
    if (recent_.size() < options_.max_unpaired) {
      recent_[key] = info;
      recent_expiry_.Push(info.seen_at, key);
    }
    auto waiting = waiting_children_.find(key);
    if (waiting != waiting_children_.end()) {
      for (const SpanInfo& child : waiting->second) Pair(info, key, child);
      waiting_children_.erase(waiting);
    }
    auto heirs = unresolved_.find(key);
    if (heirs != unresolved_.end()) {
      for (Unresolved& heir : heirs->second) {
        --unresolved_count_;
        if (heir.info.environment != env) continue;
        heir.info.service = info.service;
        work.push_back(Work{heir, key, false});
      }
      unresolved_.erase(heirs);
    }
  }
}

template <typename Visit>
void ServiceGraphBuilder::ExpiryQueue::PopBefore(uint64_t cutoff, Visit visit) {
  while (head < entries.size() && entries[head].first < cutoff) visit(entries[head++].second);
  if (head > 4096 && head * 2 > entries.size()) {
    entries.erase(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(head));
    head = 0;
  }
}

void ServiceGraphBuilder::Expire(uint64_t now_unix_nano) {
  const uint64_t cutoff = now_unix_nano > options_.pairing_window_nano
                              ? now_unix_nano - options_.pairing_window_nano
                              : 0;
  recent_expiry_.PopBefore(cutoff, [&](uint64_t key) {
    auto it = recent_.find(key);
    if (it == recent_.end() || it->second.seen_at >= cutoff) return;  // seen again since
    const SpanInfo& info = it->second;
    if (info.kind == model::SpanKind::kClient && info.peer != kNoName && !info.answered) {
      AddEdge(info.environment, info.minute, info.service, info.peer, info.error, info.duration_ms);
      AddNode(info.environment, info.minute, info.peer, kRemote, info.error);
    }
    recent_.erase(it);
  });
  // Children whose parent never came are dropped with the same window, and so are spans whose
  // service never came. A key may be queued more than once; a later visit finds nothing left.
  waiting_expiry_.PopBefore(cutoff, [&](uint64_t parent_key) {
    auto it = waiting_children_.find(parent_key);
    if (it == waiting_children_.end()) return;
    auto& children = it->second;
    children.erase(std::remove_if(children.begin(), children.end(),
                                  [&](const SpanInfo& c) { return c.seen_at < cutoff; }),
                   children.end());
    if (children.empty()) waiting_children_.erase(it);
  });
  unresolved_expiry_.PopBefore(cutoff, [&](uint64_t parent_key) {
    auto it = unresolved_.find(parent_key);
    if (it == unresolved_.end()) return;
    auto& spans = it->second;
    const size_t before = spans.size();
    spans.erase(std::remove_if(spans.begin(), spans.end(),
                               [&](const Unresolved& u) { return u.info.seen_at < cutoff; }),
                spans.end());
    unresolved_count_ -= before - spans.size();
    if (spans.empty()) unresolved_.erase(it);
  });
}

ServiceGraph ServiceGraphBuilder::Get(std::string_view environment, uint64_t start_unix_nano,
                                      uint64_t end_unix_nano) const {
  const uint64_t first = start_unix_nano / kMinuteNano;
  const uint64_t last = end_unix_nano / kMinuteNano;
  auto env_it = name_ids_.find(environment);
  if (!environment.empty() && env_it == name_ids_.end()) return {};
  const uint32_t env = environment.empty() ? kNoName : env_it->second;
  std::map<std::pair<std::string, std::string>, EdgeStats> edges;
  GraphAssembly graph;
  for (const auto& [key, stats] : edges_) {
    if ((env != kNoName && key.environment != env) || key.minute < first || key.minute > last)
      continue;
    EdgeStats& e = edges[{names_[key.source], names_[key.target]}];
    e.requests += stats.requests;
    e.errors += stats.errors;
    e.latency.Merge(stats.latency);
  }
  for (const auto& [key, stats] : nodes_) {
    if ((env != kNoName && key.environment != env) || key.minute < first || key.minute > last)
      continue;
    graph.AddNode(names_[key.name], static_cast<GraphNodeKind>(stats.kind), stats.requests,
                  stats.errors);
  }
  for (const auto& [key, e] : edges) {
    graph.AddEdge(key.first, key.second, e.requests, e.errors, e.latency.Quantile(0.5),
                  e.latency.Quantile(0.95), e.latency.Quantile(0.99));
  }
  return std::move(graph).Finish();
}

std::string ServiceGraphBuilder::Snapshot() const {
  using columnar::PutString;
  using columnar::PutVarint;
  std::string out(1, static_cast<char>(kSnapshotVersion));
  PutVarint(&out, names_.size());
  for (const std::string& name : names_) PutString(&out, name);
  PutVarint(&out, edges_.size());
  for (const auto& [key, e] : edges_) {
    PutVarint(&out, key.environment);
    PutVarint(&out, key.minute);
    PutVarint(&out, key.source);
    PutVarint(&out, key.target);
    PutVarint(&out, e.requests);
    PutVarint(&out, e.errors);
    PutVarint(&out, e.latency.buckets.size());
    for (const auto& [i, c] : e.latency.buckets) {
      PutVarint(&out, columnar::ZigZag(i));
      columnar::PutDouble(&out, c);
    }
  }
  PutVarint(&out, nodes_.size());
  for (const auto& [key, n] : nodes_) {
    PutVarint(&out, key.environment);
    PutVarint(&out, key.minute);
    PutVarint(&out, key.name);
    out.push_back(static_cast<char>(n.kind));
    PutVarint(&out, n.requests);
    PutVarint(&out, n.errors);
  }
  return out;
}

Status ServiceGraphBuilder::Restore(std::string_view snapshot) {
  columnar::ByteReader in(snapshot);
  auto bad = [] { return Status::DataLoss("service graph snapshot is corrupt"); };
  uint8_t version;
  uint64_t n;
  if (!in.GetByte(&version) || version != kSnapshotVersion || !in.GetVarint(&n) ||
      n > in.remaining())
    return bad();
  std::vector<std::string> names(n);
  for (std::string& name : names) {
    std::string_view v;
    if (!in.GetString(&v)) return bad();
    name.assign(v);
  }
  auto valid = [&](uint32_t id) { return id < names.size(); };
  std::unordered_map<EdgeKey, EdgeStats, KeyHash> edges;
  if (!in.GetVarint(&n)) return bad();
  for (uint64_t i = 0; i < n; ++i) {
    EdgeKey key{};
    uint64_t buckets;
    EdgeStats e;
    if (!in.GetVarint32(&key.environment) || !in.GetVarint(&key.minute) ||
        !in.GetVarint32(&key.source) || !in.GetVarint32(&key.target) ||
        !in.GetVarint(&e.requests) || !in.GetVarint(&e.errors) || !in.GetVarint(&buckets) ||
        buckets > in.remaining() || !valid(key.environment) || !valid(key.source) ||
        !valid(key.target))
      return bad();
    for (uint64_t b = 0; b < buckets; ++b) {
      uint64_t z;
      double c;
      if (!in.GetVarint(&z) || !in.GetDouble(&c)) return bad();
      e.latency.buckets.emplace_back(static_cast<int32_t>(columnar::UnZigZag(z)), c);
    }
    std::sort(e.latency.buckets.begin(), e.latency.buckets.end());
    edges[key] = std::move(e);
  }
  std::unordered_map<NodeKey, NodeStats, KeyHash> nodes;
  if (!in.GetVarint(&n)) return bad();
  for (uint64_t i = 0; i < n; ++i) {
    NodeKey key{};
    NodeStats s;
    if (!in.GetVarint32(&key.environment) || !in.GetVarint(&key.minute) ||
        !in.GetVarint32(&key.name) || !in.GetByte(&s.kind) || !in.GetVarint(&s.requests) ||
        !in.GetVarint(&s.errors) || s.kind > kRemote || !valid(key.environment) || !valid(key.name))
      return bad();
    nodes[key] = s;
  }
  if (!in.ok() || !in.empty()) return bad();
  names_ = std::move(names);
  name_ids_.clear();
  for (uint32_t i = 0; i < names_.size(); ++i) name_ids_.emplace(names_[i], i);
  edges_ = std::move(edges);
  nodes_ = std::move(nodes);
  return Status::Ok();
}

}  // namespace ariadne::store
