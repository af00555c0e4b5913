// InsertSpans: one synchronous INSERT of spans into `spans`, retried with backoff (100 ms,
// 400 ms, 1.6 s) when it fails for a reason a retry may fix, and idempotent across those retries.
//
// Why: an INSERT whose answer was lost (ClickHouse killed after writing the part, a connection
// cut, a timeout) may or may not have been stored, and ClickHouse 18.16 deduplicates retried
// blocks only on Replicated tables (with ZooKeeper); plain MergeTree stores them twice. So before
// each retry the failed attempt is stopped for certain (KILL QUERY on its query id, in case it
// still runs), and the spans of the insert that ClickHouse already holds — same trace id, span id
// and start time — are left out of the retry. A retry therefore never duplicates a span, and a
// partly written insert (some day partitions or shards written, others not) is completed.
//
// In cluster mode (ClickHouseConfig::cluster) the INSERT goes to the Distributed `spans` table
// with insert_distributed_sync=1: ClickHouse answers only when every shard has written its rows.
//
// Threads: reentrant; the client is thread-safe.
#pragma once

#include <string_view>
#include <vector>

#include "common/status.h"
#include "model/span_batch.h"
#include "store/clickhouse/clickhouse_client.h"

namespace ariadne::store::clickhouse {

struct InsertBatch {
  std::string_view environment;
  const model::SpanBatch* batch = nullptr;
};

// OK once ClickHouse holds every span of `batches` exactly once (as far as this insert is
// concerned: spans the client sent twice in separate requests stay twice). kUnavailable after
// the last retry failed; other errors at once.
Status InsertSpans(ClickHouseClient* client, const std::vector<InsertBatch>& batches);

}  // namespace ariadne::store::clickhouse
