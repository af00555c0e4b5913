// ServiceGraphBuilder: derives caller → callee edges from spans as they arrive and keeps them per
// minute, so the service map is always current without a batch job (Jaeger needs Spark/Flink
// jobs for this).
//
// Edges and nodes follow service_graph_rules.h (shared with ClickHouse's SQL); here a CLIENT
// span's remote peer becomes an edge when no child of another service answered it within
// `pairing_window`.
// Parents and children may arrive in either order and in different batches (they usually come
// from different processes): unpaired spans wait in a bounded table until their partner arrives
// or the pairing window passes.
//
// A span with no service of its own (an X-Ray subsegment sent alone: the decoder gives it an
// empty resource) takes its parent's service, through any chain of such spans, whichever arrives
// first; until then it waits, within the pairing window, and counts nowhere (a subsegment whose
// parent never came within the window is dropped from the graph, never drawn as a "" node).
// A call into the same service (a span entering a service whose parent is in that service) is a
// self-edge; an in-process child of the same service is none (service_graph_rules.h).
//
// Latency percentiles come from log-spaced histograms (≈ 2 % relative error).
//
// Persistence: Snapshot()/Restore() carry the per-minute edge and node statistics; the pairing
// tables are not persisted (a pair split by a restart is lost).
//
// Threads: not synchronized; the owner serializes Observe and guards reads.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "model/span_batch.h"
#include "store/span_store.h"

namespace ariadne::store {

class ServiceGraphBuilder {
 public:
  struct Options {
    uint64_t pairing_window_nano = 30ULL * 1'000'000'000ULL;
    size_t max_unpaired = 1 << 20;
  };

  ServiceGraphBuilder() : ServiceGraphBuilder(Options{}) {}
  explicit ServiceGraphBuilder(Options options) : options_(options) {}

  // `now_unix_nano` drives expiry of unpaired spans (ingest time, not span time).
  void Observe(std::string_view environment, const model::SpanBatch& batch, uint64_t now_unix_nano);

  // Expires unpaired spans older than the pairing window (turning waiting CLIENT spans into edges
  // to remote peers).
  void Expire(uint64_t now_unix_nano);

  ServiceGraph Get(std::string_view environment, uint64_t start_unix_nano,
                   uint64_t end_unix_nano) const;

  std::string Snapshot() const;
  Status Restore(std::string_view snapshot);

 private:
  // Log-spaced latency buckets (32 per power of two, ≈ 2.2 % wide, indexed straight from the
  // double's exponent and top mantissa bits) as a small sorted vector: most edge-minutes see few
  // distinct buckets, so this beats a map or a fixed array for memory and speed.
  struct Histogram {
    std::vector<std::pair<int32_t, double>> buckets;  // bucket index → count, sorted by index
    void Add(double ms, double count = 1);
    void Merge(const Histogram& other);
    double Quantile(double q) const;
  };
  struct EdgeStats {
    uint64_t requests = 0;
    uint64_t errors = 0;
    Histogram latency;
  };
  struct NodeStats {
    uint8_t kind = 0;  // kService, kDatabase, kRemote
    uint64_t requests = 0;
    uint64_t errors = 0;
  };
  // Environment and service names are interned; everything keyed by small integers.
  struct SpanInfo {
    uint32_t environment;
    uint32_t service;
    uint32_t peer;  // CLIENT spans: the peer a timeout draws an edge to (kNoName when none)
    model::SpanKind kind;
    bool error;
    bool answered = false;  // a child of this span came from another service
    double duration_ms;
    uint64_t minute;
    uint64_t seen_at;
  };
  struct EdgeKey {
    uint32_t environment, source, target;
    uint64_t minute;
    bool operator==(const EdgeKey&) const = default;
  };
  struct NodeKey {
    uint32_t environment, name;
    uint64_t minute;
    bool operator==(const NodeKey&) const = default;
  };
  struct KeyHash {
    size_t operator()(const EdgeKey& k) const {
      return (static_cast<size_t>(k.environment) * 0x9E3779B97F4A7C15ULL) ^
             (static_cast<size_t>(k.source) << 20) ^ (static_cast<size_t>(k.target) << 40) ^
             k.minute;
    }
    size_t operator()(const NodeKey& k) const {
      return (static_cast<size_t>(k.environment) * 0x9E3779B97F4A7C15ULL) ^
             (static_cast<size_t>(k.name) << 24) ^ k.minute;
    }
  };
  // A span still waiting for its service from its parent (see the header comment).
  struct Unresolved {
    SpanInfo info;
    uint64_t key;
    uint32_t database;  // the database a CLIENT span calls (kNoName when none)
    bool enters;        // EntersService
  };
  static constexpr uint32_t kNoName = UINT32_MAX;

  uint32_t Intern(std::string_view name);
  void AddEdge(uint32_t env, uint64_t minute, uint32_t source, uint32_t target, bool error,
               double latency_ms);
  void AddNode(uint32_t env, uint64_t minute, uint32_t name, uint8_t kind, bool error);
  void Pair(const SpanInfo& parent, uint64_t parent_key, const SpanInfo& child);
  // Counts a span whose service is known, pairs it with its parent and waiting children, and
  // settles the spans that waited for its service (and theirs, down the chain).
  void Settle(Unresolved span, uint64_t parent_key, bool root);

  Options options_;
  std::vector<std::string> names_;
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, uint32_t, NameHash, std::equal_to<>> name_ids_;
  std::unordered_map<EdgeKey, EdgeStats, KeyHash> edges_;
  std::unordered_map<NodeKey, NodeStats, KeyHash> nodes_;
  std::unordered_map<uint64_t, SpanInfo> recent_;  // span id → info, within the pairing window
  std::unordered_map<uint64_t, std::vector<SpanInfo>> waiting_children_;  // parent id → children
  // parent id → spans waiting for their service from that parent
  std::unordered_map<uint64_t, std::vector<Unresolved>> unresolved_;
  size_t unresolved_count_ = 0;
  // (seen_at, span id) of recent_, and (seen_at, parent id) of each span put into
  // waiting_children_ / unresolved_, in arrival order: Expire visits only what the window left.
  struct ExpiryQueue {
    std::vector<std::pair<uint64_t, uint64_t>> entries;
    size_t head = 0;
    void Push(uint64_t seen_at, uint64_t key) { entries.emplace_back(seen_at, key); }
    // Calls visit(key) for each entry seen before `cutoff`, oldest first, and drops them.
    template <typename Visit>
    void PopBefore(uint64_t cutoff, Visit visit);
  };
  ExpiryQueue recent_expiry_, waiting_expiry_, unresolved_expiry_;
};

}  // namespace ariadne::store
