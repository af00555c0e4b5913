// SpanQuerier: the analysis role of the store seam (span_store.h) — aggregate queries, BubbleUp's
// scan, the columns catalog, the service graph and the services list, each answered by the engine
// (embedded: its executor and ingest-time buckets; ClickHouse: SQL).
//
// Threads: every method may be called concurrently from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
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

// Columns seen in a window, for autocomplete and the query checks: the intrinsics, then the
// span/resource attribute keys (built with store/column_catalog.h so every engine agrees).
struct ColumnInfo {
  std::string name;
  std::string type;         // string, int, double, bool, mixed
  std::string source;       // intrinsic, resource, span
  std::string description;  // intrinsics only
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

class SpanQuerier {
 public:
  virtual ~SpanQuerier() = default;

  // Runs an aggregate query (validated by query::ParseQuerySpec) over every span in the spec's
  // window, environment and dataset, within `context`'s limits: kResourceExhausted when it would
  // make more groups or hold more memory than they allow, kCancelled once its cancel flag is set.
  virtual Result<query::QueryResult> RunQuery(const query::QuerySpec& spec,
                                              const query::ExecContext& context = {}) = 0;

  // BubbleUp's counts in one pass over the baseline's spans (query/bubbleup.h); `context` as for
  // RunQuery. kUnimplemented when the engine has no such scan: the caller then runs aggregate
  // queries instead.
  virtual Result<query::BubbleUpCounts> ScanBubbleUp(const query::BubbleUpRequest& request,
                                                     const query::ExecContext& context = {}) {
    (void)request;
    (void)context;
    return Status::Unimplemented("this store engine has no BubbleUp scan");
  }

  // The column catalog (store/column_catalog.h) of the spans in the window, for one environment or
  // (empty) all: embedded from block metas and heads, ClickHouse from its promoted columns and the
  // keys of its attribute arrays (cached for a few seconds).
  virtual Result<std::vector<ColumnInfo>> ListColumns(std::string_view environment,
                                                      uint64_t start_unix_nano,
                                                      uint64_t end_unix_nano) = 0;

  virtual Result<ServiceGraph> GetServiceGraph(std::string_view environment,
                                               uint64_t start_unix_nano,
                                               uint64_t end_unix_nano) = 0;

  // Services that sent spans, with counts, for one environment or (empty) all.
  virtual Result<std::vector<ServiceSummary>> ListServices(std::string_view environment = {}) = 0;
};

}  // namespace ariadne::store
