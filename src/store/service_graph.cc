#include "store/service_graph.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "store/embedded/coding.h"

namespace ariadne::store {
namespace {

constexpr double kGrowth = 1.02;
constexpr uint64_t kMinuteNano = 60ULL * 1'000'000'000ULL;
constexpr uint8_t kSnapshotVersion = 1;

uint64_t IdKey(const model::SpanId& id) {
  uint64_t key;
  std::memcpy(&key, id.bytes.data(), 8);
  return key;
}

std::string StringAttr(const model::SpanBatch& b, const model::Span& s, std::string_view key) {
  const model::Value* v = b.FindAttribute(s.attributes, key);
  if (v == nullptr || v->type != model::ValueType::kString) return {};
  return std::string(v->str);
}

}  // namespace

void ServiceGraphBuilder::Histogram::Add(double ms) {
  int32_t index =
      ms <= 1e-3 ? -400 : static_cast<int32_t>(std::floor(std::log(ms) / std::log(kGrowth)));
  buckets[index] += 1;
}

void ServiceGraphBuilder::Histogram::Merge(const Histogram& other) {
  for (const auto& [i, c] : other.buckets) buckets[i] += c;
}

double ServiceGraphBuilder::Histogram::Quantile(double q) const {
  double total = 0;
  for (const auto& [i, c] : buckets) total += c;
  if (total == 0) return 0;
  double cumulative = 0;
  for (const auto& [i, c] : buckets) {
    cumulative += c;
    if (cumulative >= q * total) return std::pow(kGrowth, i + 0.5);
  }
  return std::pow(kGrowth, buckets.rbegin()->first + 0.5);
}

void ServiceGraphBuilder::AddEdge(const std::string& env, uint64_t minute,
                                  const std::string& source, const std::string& target, bool error,
                                  double latency_ms) {
  EdgeStats& e = edges_[{env, minute, source, target}];
  e.requests++;
  e.errors += error;
  e.latency.Add(latency_ms);
}

void ServiceGraphBuilder::Pair(const SpanInfo& parent, uint64_t parent_key, const SpanInfo& child) {
  if (parent.environment != child.environment || parent.service == child.service) return;
  AddEdge(child.environment, child.minute, parent.service, child.service, child.error,
          child.duration_ms);
  auto it = recent_.find(parent_key);
  if (it != recent_.end()) it->second.answered = true;
}

void ServiceGraphBuilder::Observe(std::string_view environment, const model::SpanBatch& batch,
                                  uint64_t now_unix_nano) {
  Expire(now_unix_nano);
  for (const model::Span& s : batch.spans) {
    SpanInfo info;
    info.environment = std::string(environment);
    info.service = std::string(batch.ServiceNameOf(s));
    info.kind = s.kind;
    info.error = s.status_code == model::StatusCode::kError;
    info.duration_ms = static_cast<double>(s.duration_nano()) / 1e6;
    info.minute = s.start_time_unix_nano / kMinuteNano;
    info.seen_at = now_unix_nano;

    if (s.kind == model::SpanKind::kServer || s.kind == model::SpanKind::kConsumer || s.is_root()) {
      NodeStats& node = nodes_[{info.environment, info.minute, info.service}];
      node.requests++;
      node.errors += info.error;
    }
    if (s.kind == model::SpanKind::kClient) {
      std::string db = StringAttr(batch, s, "db.system");
      if (!db.empty()) {
        std::string name = StringAttr(batch, s, "peer.service");
        if (name.empty()) name = db;
        AddEdge(info.environment, info.minute, info.service, name, info.error, info.duration_ms);
        NodeStats& node = nodes_[{info.environment, info.minute, name}];
        node.kind = "database";
        node.requests++;
        node.errors += info.error;
      } else {
        for (const char* key : {"peer.service", "server.address", "net.peer.name"}) {
          info.peer = StringAttr(batch, s, key);
          if (!info.peer.empty()) break;
        }
      }
    }

    const uint64_t key = IdKey(s.span_id);
    if (!s.is_root()) {
      const uint64_t parent_key = IdKey(s.parent_span_id);
      auto parent = recent_.find(parent_key);
      if (parent != recent_.end()) {
        Pair(parent->second, parent_key, info);
      } else if (waiting_children_.size() < options_.max_unpaired) {
        waiting_children_[parent_key].push_back(info);
      }
    }
    auto waiting = waiting_children_.find(key);
    if (recent_.size() < options_.max_unpaired) {
      recent_[key] = info;
      expiry_queue_.emplace_back(now_unix_nano, key);
    }
    if (waiting != waiting_children_.end()) {
      for (const SpanInfo& child : waiting->second) Pair(info, key, child);
      waiting_children_.erase(waiting);
    }
  }
}

void ServiceGraphBuilder::Expire(uint64_t now_unix_nano) {
  const uint64_t cutoff = now_unix_nano > options_.pairing_window_nano
                              ? now_unix_nano - options_.pairing_window_nano
                              : 0;
  bool advanced = false;
  while (expiry_head_ < expiry_queue_.size() && expiry_queue_[expiry_head_].first < cutoff) {
    const uint64_t key = expiry_queue_[expiry_head_].second;
    ++expiry_head_;
    advanced = true;
    auto it = recent_.find(key);
    if (it == recent_.end() || it->second.seen_at >= cutoff) continue;
    const SpanInfo& info = it->second;
    if (info.kind == model::SpanKind::kClient && !info.peer.empty() && !info.answered) {
      AddEdge(info.environment, info.minute, info.service, info.peer, info.error, info.duration_ms);
      NodeStats& node = nodes_[{info.environment, info.minute, info.peer}];
      if (node.kind == "service" && node.requests == 0) node.kind = "remote";
      node.requests++;
      node.errors += info.error;
    }
    recent_.erase(it);
  }
  if (!advanced) return;
  // Children whose parent never came are dropped with the same window.
  for (auto it = waiting_children_.begin(); it != waiting_children_.end();) {
    auto& children = it->second;
    children.erase(std::remove_if(children.begin(), children.end(),
                                  [&](const SpanInfo& c) { return c.seen_at < cutoff; }),
                   children.end());
    it = children.empty() ? waiting_children_.erase(it) : std::next(it);
  }
  if (expiry_head_ > 4096 && expiry_head_ * 2 > expiry_queue_.size()) {
    expiry_queue_.erase(expiry_queue_.begin(),
                        expiry_queue_.begin() + static_cast<std::ptrdiff_t>(expiry_head_));
    expiry_head_ = 0;
  }
}

ServiceGraph ServiceGraphBuilder::Get(std::string_view environment, uint64_t start_unix_nano,
                                      uint64_t end_unix_nano) const {
  const uint64_t first = start_unix_nano / kMinuteNano;
  const uint64_t last = end_unix_nano / kMinuteNano;
  std::map<std::pair<std::string, std::string>, EdgeStats> edges;
  std::map<std::string, NodeStats> nodes;
  for (const auto& [key, stats] : edges_) {
    const auto& [env, minute, source, target] = key;
    if ((!environment.empty() && env != environment) || minute < first || minute > last) continue;
    EdgeStats& e = edges[{source, target}];
    e.requests += stats.requests;
    e.errors += stats.errors;
    e.latency.Merge(stats.latency);
  }
  for (const auto& [key, stats] : nodes_) {
    const auto& [env, minute, name] = key;
    if ((!environment.empty() && env != environment) || minute < first || minute > last) continue;
    NodeStats& n = nodes[name];
    if (stats.kind != "service") n.kind = stats.kind;
    n.requests += stats.requests;
    n.errors += stats.errors;
  }
  ServiceGraph graph;
  for (const auto& [key, e] : edges) {
    nodes.try_emplace(key.first);
    nodes.try_emplace(key.second);
    ServiceGraphEdge edge;
    edge.source = key.first;
    edge.target = key.second;
    edge.request_count = e.requests;
    edge.error_count = e.errors;
    edge.p50_ms = e.latency.Quantile(0.5);
    edge.p95_ms = e.latency.Quantile(0.95);
    edge.p99_ms = e.latency.Quantile(0.99);
    graph.edges.push_back(std::move(edge));
  }
  for (const auto& [name, n] : nodes) {
    graph.nodes.push_back(ServiceGraphNode{name, n.kind, n.requests, n.errors});
  }
  return graph;
}

std::string ServiceGraphBuilder::Snapshot() const {
  using embedded::PutFixed64;
  using embedded::PutString;
  using embedded::PutVarint;
  std::string out(1, static_cast<char>(kSnapshotVersion));
  PutVarint(&out, edges_.size());
  for (const auto& [key, e] : edges_) {
    PutString(&out, std::get<0>(key));
    PutVarint(&out, std::get<1>(key));
    PutString(&out, std::get<2>(key));
    PutString(&out, std::get<3>(key));
    PutVarint(&out, e.requests);
    PutVarint(&out, e.errors);
    PutVarint(&out, e.latency.buckets.size());
    for (const auto& [i, c] : e.latency.buckets) {
      PutVarint(&out, embedded::ZigZag(i));
      embedded::PutDouble(&out, c);
    }
  }
  PutVarint(&out, nodes_.size());
  for (const auto& [key, n] : nodes_) {
    PutString(&out, std::get<0>(key));
    PutVarint(&out, std::get<1>(key));
    PutString(&out, std::get<2>(key));
    PutString(&out, n.kind);
    PutVarint(&out, n.requests);
    PutVarint(&out, n.errors);
  }
  return out;
}

Status ServiceGraphBuilder::Restore(std::string_view snapshot) {
  embedded::ByteReader in(snapshot);
  auto bad = [] { return Status::DataLoss("service graph snapshot is corrupt"); };
  uint8_t version;
  uint64_t n;
  if (!in.GetByte(&version) || version != kSnapshotVersion || !in.GetVarint(&n)) return bad();
  std::map<EdgeKey, EdgeStats> edges;
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view env, src, dst;
    uint64_t minute, buckets;
    EdgeStats e;
    if (!in.GetString(&env) || !in.GetVarint(&minute) || !in.GetString(&src) ||
        !in.GetString(&dst) || !in.GetVarint(&e.requests) || !in.GetVarint(&e.errors) ||
        !in.GetVarint(&buckets) || buckets > in.remaining())
      return bad();
    for (uint64_t b = 0; b < buckets; ++b) {
      uint64_t z;
      double c;
      if (!in.GetVarint(&z) || !in.GetDouble(&c)) return bad();
      e.latency.buckets[static_cast<int32_t>(embedded::UnZigZag(z))] = c;
    }
    edges[{std::string(env), minute, std::string(src), std::string(dst)}] = std::move(e);
  }
  std::map<NodeKey, NodeStats> nodes;
  if (!in.GetVarint(&n)) return bad();
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view env, name, kind;
    uint64_t minute;
    NodeStats s;
    if (!in.GetString(&env) || !in.GetVarint(&minute) || !in.GetString(&name) ||
        !in.GetString(&kind) || !in.GetVarint(&s.requests) || !in.GetVarint(&s.errors))
      return bad();
    s.kind = std::string(kind);
    nodes[{std::string(env), minute, std::string(name)}] = s;
  }
  if (!in.ok() || !in.empty()) return bad();
  edges_ = std::move(edges);
  nodes_ = std::move(nodes);
  return Status::Ok();
}

}  // namespace ariadne::store
