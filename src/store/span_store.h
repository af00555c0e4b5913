// SpanStore: the single boundary between the pipeline (writes) and the query side (reads).
// Engines: embedded/ (default, our own WAL + columnar blocks); a ClickHouse engine comes later.
//
// Threads: every method may be called concurrently from any thread.
// Durability: an append is reported OK only once the batch would survive a crash (kill -9 or power
// loss after fsync); the pipeline acknowledges clients on that signal and not before.
// Errors: kResourceExhausted (disk budget spent or the write queue is full: shed load and tell the
// client to retry later), kUnavailable (an I/O failure; retry may succeed), kInvalidArgument (the
// batch itself is bad; never retry).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "model/ids.h"
#include "model/span_batch.h"
#include "query/bubbleup.h"
#include "query/exec_context.h"
#include "query/query_spec.h"

namespace ariadne::store {

struct ServiceSummary {
  std::string environment;
  std::string name;
  uint64_t span_count = 0;
  uint64_t trace_root_count = 0;  // spans without a parent
  uint64_t error_count = 0;       // spans with status ERROR
  uint64_t first_seen_unix_nano = 0;
  uint64_t last_seen_unix_nano = 0;
};

// One stored trace. `environments` lists, per span of `spans`, which environment it was stored in
// (a trace normally lives in exactly one).
struct TraceResult {
  model::SpanBatch spans;
  std::vector<std::string> environments;
};

struct StoreStats {
  uint64_t spans_appended = 0;
  uint64_t batches_appended = 0;
  uint64_t append_errors = 0;
  uint64_t wal_bytes = 0;
  uint64_t wal_syncs = 0;
  uint64_t head_spans = 0;  // not yet sealed into a block
  uint64_t blocks = 0;
  uint64_t block_bytes = 0;  // bytes of block files on disk
  uint64_t block_spans = 0;
  uint64_t pending_appends = 0;  // waiting for the group commit
  // Corruption and disk trouble (embedded store; zero elsewhere).
  uint64_t wal_write_failures = 0;   // group commits refused because the WAL could not be written
  uint64_t wal_corrupt_records = 0;  // damaged WAL records stepped over at replay
  uint64_t wal_skipped_bytes = 0;    // bytes of those records
  uint64_t wal_skipped_spans = 0;    // spans of those records, where their header was intact
  uint64_t blocks_quarantined = 0;   // block files moved to quarantine/ after a checksum failure
  // Read path (embedded store): the decoded-column cache and blocks pruned by their statistics.
  uint64_t column_cache_hits = 0;    // needed columns found decoded in memory
  uint64_t column_cache_misses = 0;  // needed columns read and decoded from block files
  uint64_t column_cache_bytes = 0;
  uint64_t column_cache_capacity_bytes = 0;
  uint64_t column_cache_evictions = 0;
  uint64_t blocks_pruned = 0;  // blocks a query or search skipped by meta alone
  uint64_t head_bytes = 0;     // decoded heads in memory (live and being sealed), approximate
  // Block set maintenance (embedded store; zero elsewhere).
  uint64_t orphan_blocks_removed = 0;     // block files no manifest edit named, removed at open
  uint64_t retention_blocks_removed = 0;  // blocks removed by retention / max-disk
  uint64_t retention_spans_removed = 0;
  uint64_t retention_bytes_removed = 0;
  uint64_t compactions = 0;              // merged blocks written
  uint64_t compaction_input_blocks = 0;  // small blocks merged away
};

// Trace search (Jaeger-style): a trace matches when one of its spans lies in the window and passes
// every filter (span columns as in query::QuerySpec: name, service.name, duration_ms, error,
// attributes). Newest first.
struct TraceSearchRequest {
  std::string environment;  // empty: all
  uint64_t start_unix_nano = 0;
  uint64_t end_unix_nano = 0;
  std::vector<query::Filter> filters;
  size_t limit = 20;
};

struct TraceSummary {
  model::TraceId trace_id;
  std::string environment;
  std::string root_service;
  std::string root_name;
  uint64_t start_unix_nano = 0;
  uint64_t duration_nano = 0;
  uint64_t span_count = 0;
  uint64_t error_count = 0;
  std::vector<std::string> services;
};

// Columns seen in a window, for autocomplete: span/resource attribute keys and the intrinsics.
struct ColumnInfo {
  std::string name;
  std::string type;    // string, int, double, bool, mixed
  std::string source;  // intrinsic, resource, span
};

// Caller → callee edges between services (and CLIENT spans to un-instrumented peers such as
// databases), kept per minute as spans arrive.
struct ServiceGraphNode {
  std::string name;
  std::string kind;  // service, database, remote
  uint64_t request_count = 0;
  uint64_t error_count = 0;
};
struct ServiceGraphEdge {
  std::string source;
  std::string target;
  uint64_t request_count = 0;
  uint64_t error_count = 0;
  double p50_ms = 0;
  double p95_ms = 0;
  double p99_ms = 0;
};
struct ServiceGraph {
  std::vector<ServiceGraphNode> nodes;
  std::vector<ServiceGraphEdge> edges;
};

// Summarizes one trace for search results: root span, time range, services, errors.
TraceSummary SummarizeTrace(const TraceResult& trace);

class SpanStore {
 public:
  using AppendCallback = std::function<void(Status)>;

  virtual ~SpanStore() = default;

  // Stores `batch` under `environment` and calls `done` exactly once, from an internal thread, when
  // the batch is durable (OK) or has failed (error). Never blocks for the durability wait.
  virtual void AppendAsync(std::string environment, model::SpanBatch batch,
                           AppendCallback done) = 0;

  // Blocking form of AppendAsync.
  Status Append(std::string environment, model::SpanBatch batch);

  // Every span of trace `id` in any environment (or only `environment` when non-empty).
  // kNotFound when there is none.
  virtual Result<TraceResult> GetTrace(const model::TraceId& id,
                                       std::string_view environment = {}) = 0;

  // Calls `visit` once per trace that has at least one span starting in
  // [start_unix_nano, end_unix_nano), with every stored span of that trace, in order of the
  // traces' earliest start time within the window, until `visit` returns false. Limited to
  // `environment` when non-empty. Used by X-Ray's trace summaries and by tests as the simple,
  // obviously right way to see every trace; the query engine has faster paths.
  virtual Status ForEachTrace(uint64_t start_unix_nano, uint64_t end_unix_nano,
                              std::string_view environment,
                              const std::function<bool(const TraceResult&)>& visit) = 0;

  // Runs an aggregate query (validated by query::ParseQuerySpec) over every span in the spec's
  // window, environment and dataset, within `context`'s limits: kResourceExhausted when it would
  // make more groups or hold more memory than they allow, kCancelled once its cancel flag is set.
  virtual Result<query::QueryResult> RunQuery(const query::QuerySpec& spec,
                                              const query::ExecContext& context = {}) = 0;

  // Trace search; `context` as for RunQuery.
  virtual Result<std::vector<TraceSummary>> SearchTraces(
      const TraceSearchRequest& request, const query::ExecContext& context = {}) = 0;

  // BubbleUp's counts in one pass over the baseline's spans (query/bubbleup.h); `context` as for
  // RunQuery. kUnimplemented when the engine has no such scan: the caller then runs aggregate
  // queries instead.
  virtual Result<query::BubbleUpCounts> ScanBubbleUp(const query::BubbleUpRequest& request,
                                                     const query::ExecContext& context = {}) {
    (void)request;
    (void)context;
    return Status::Unimplemented("this store engine has no BubbleUp scan");
  }

  virtual Result<std::vector<ColumnInfo>> ListColumns(std::string_view environment,
                                                      uint64_t start_unix_nano,
                                                      uint64_t end_unix_nano) = 0;

  virtual Result<ServiceGraph> GetServiceGraph(std::string_view environment,
                                               uint64_t start_unix_nano,
                                               uint64_t end_unix_nano) = 0;

  // Services that sent spans, with counts, for one environment or (empty) all.
  virtual Result<std::vector<ServiceSummary>> ListServices(std::string_view environment = {}) = 0;

  // Seals the in-memory head into block files (used on shutdown and by tests).
  virtual Status Flush() = 0;

  // Flushes and stops background work; later calls fail. Idempotent.
  virtual Status Close() = 0;

  virtual StoreStats Stats() const = 0;

  // OK when the store takes appends and answers reads. An engine on a server (ClickHouse) that
  // could not reach it yet answers kUnavailable with the reason while it keeps trying; GET
  // /readyz reports it.
  virtual Status Ready() const { return Status::Ok(); }
};

}  // namespace ariadne::store
