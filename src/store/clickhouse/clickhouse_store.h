// ClickHouseStore: the SpanStore on a ClickHouse server or cluster (HTTP interface), for users who
// outgrow one machine. docs/clickhouse.md is the user-facing page.
//
// Writes: AppendAsync queues the batch (bounded: past `max_queued_spans` it answers
// kResourceExhausted at once, so receivers answer 503 + Retry-After); `insert_threads` writers
// take whatever is queued (up to `max_spans_per_insert` spans, so ClickHouse gets few large
// parts) and send it as one synchronous RowBinary INSERT; every batch in it is acknowledged only
// when ClickHouse has answered 200, i.e. written the part. An INSERT that fails for a reason a
// retry may fix is retried with backoff (100 ms, 400 ms, 1.6 s) before the batches fail with
// kUnavailable; a retry leaves out the spans ClickHouse already holds, so an insert whose answer
// was lost is never stored twice (idempotent_insert.h). With `?cluster=` in the URL the inserts
// and reads address Distributed tables sharded by trace id (schema.h), and retention drops the
// partitions of the local tables on every server.
//
// Reads: pushed down to SQL (query_sql.h, trace_sql.h, trace_page_sql.h, service_graph_sql.h — the
// service graph too, so every node of a cluster sees the same graph).
//
// Retention: with `retention_nano` set, a background thread drops day partitions of `spans` and
// `trace_index` whose whole day is older than the retention (at start, then every 10 minutes).
//
// Threads: every SpanStore method may be called concurrently from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/clickhouse/clickhouse_client.h"
#include "store/span_store.h"

namespace ariadne::store::clickhouse {

struct ClickHouseStoreOptions {
  ClickHouseConfig config;
  uint64_t retention_nano = 0;  // 0: keep forever
  // false: no background retention thread; the owner calls ApplyRetention (a test that must see
  // the data before the drop it asks for).
  bool retention_thread = true;
  size_t insert_threads = 2;
  size_t max_spans_per_insert = 100'000;
  size_t max_queued_spans = 500'000;
  // When ClickHouse cannot be reached at open: false fails the open; true opens a store that is
  // not Ready() (appends and reads fail with kUnavailable, "not reachable yet") and keeps trying
  // to connect and create the schema in the background (every second, then every 10 s).
  bool wait_for_clickhouse = false;
};

class ClickHouseStore : public SpanStore {
 public:
  // Drops the day partitions older than the retention relative to `now_unix_nano`; returns how
  // many partitions it dropped. Called by the retention thread; public for tests.
  virtual Result<size_t> ApplyRetention(uint64_t now_unix_nano) = 0;

  // This engine has no StoreAdmin (SpanStore::Admin() is nullptr); its own counters and wait:
  struct AppendStats {
    uint64_t spans_appended = 0;
    uint64_t batches_appended = 0;
    uint64_t append_errors = 0;    // batches ClickHouse did not accept after the retries
    uint64_t pending_appends = 0;  // batches queued or being inserted
  };
  virtual AppendStats GetAppendStats() const = 0;

  // Waits until every batch queued before the call has been inserted (or failed).
  virtual Status WaitForInserts() = 0;
};

// Connects, creates the schema when missing (one line per created object in `*created`) and
// starts the writers. kUnavailable when ClickHouse cannot be reached (unless
// `wait_for_clickhouse`: see there; what the background connect creates is printed to stderr).
Result<std::unique_ptr<ClickHouseStore>> OpenClickHouseStore(ClickHouseStoreOptions options,
                                                             std::vector<std::string>* created);

}  // namespace ariadne::store::clickhouse
