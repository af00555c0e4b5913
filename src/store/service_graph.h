// ServiceGraphBuilder: derives caller → callee edges from spans as they arrive and keeps them per
// minute, so the service map is always current without a batch job (Jaeger needs Spark/Flink
// jobs for this).
//
// Edges:
//  - a span whose parent belongs to another service: parent's service → span's service, with the
//    child's duration as the latency and the child's error status;
//  - a CLIENT span with db.system: service → the database (kind "database");
//  - a CLIENT span with peer.service / server.address / net.peer.name that no instrumented child
//    answered within `pairing_window`: service → that peer (kind "remote").
// Parents and children may arrive in either order and in different batches (they usually come
// from different processes): unpaired spans wait in a bounded table until their partner arrives
// or the pairing window passes.
//
// Latency percentiles come from log-spaced histograms (2 % relative error).
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
#include <tuple>
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
  struct Histogram {
    std::map<int32_t, double> buckets;  // log-spaced bucket index → count
    void Add(double ms);
    void Merge(const Histogram& other);
    double Quantile(double q) const;
  };
  struct EdgeStats {
    uint64_t requests = 0;
    uint64_t errors = 0;
    Histogram latency;
  };
  struct NodeStats {
    std::string kind = "service";
    uint64_t requests = 0;
    uint64_t errors = 0;
  };
  struct SpanInfo {
    std::string environment;
    std::string service;
    model::SpanKind kind;
    bool error;
    double duration_ms;
    uint64_t minute;
    uint64_t seen_at;
    std::string peer;       // CLIENT spans: the peer a timeout would draw an edge to
    bool answered = false;  // a child of this span came from another service
  };
  using EdgeKey =
      std::tuple<std::string, uint64_t, std::string, std::string>;  // env, minute, src, dst
  using NodeKey = std::tuple<std::string, uint64_t, std::string>;   // env, minute, name

  void AddEdge(const std::string& env, uint64_t minute, const std::string& source,
               const std::string& target, bool error, double latency_ms);
  void Pair(const SpanInfo& parent, uint64_t parent_key, const SpanInfo& child);

  Options options_;
  std::map<EdgeKey, EdgeStats> edges_;
  std::map<NodeKey, NodeStats> nodes_;
  std::unordered_map<uint64_t, SpanInfo> recent_;  // span id → info, within the pairing window
  std::unordered_map<uint64_t, std::vector<SpanInfo>> waiting_children_;  // parent id → children
  std::vector<std::pair<uint64_t, uint64_t>> expiry_queue_;  // (seen_at, span id), FIFO
  size_t expiry_head_ = 0;
};

}  // namespace ariadne::store
