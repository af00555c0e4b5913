// GetServiceGraphSql: the service graph answered by ClickHouse from the stored spans, so every
// Ariadne node of a cluster sees the same graph (the embedded engine keeps ingest-time buckets
// instead; store/service_graph_rules.h has the rules and the attribute keys, applied here in SQL):
//  - a span whose parent (same trace) belongs to another service, or that enters its parent's
//    own service (SERVER/CONSUMER: a self-edge): parent's service → span's service, with the
//    child's duration and error status;
//  - a span with no service (an X-Ray subsegment sent alone) takes its parent's, else its
//    grandparent's (the embedded engine follows any chain; deeper ones are left out here);
//  - a CLIENT span with db.system: service → peer.service or the db.system (kind "database");
//  - a CLIENT span with peer.service / server.address / net.peer.name that no child from another
//    service answered, nor any child entering a service: service → that peer (kind "remote") — at
//    once, where the embedded engine waits for its pairing window.
// Spans count in the minutes of the window (by start), as the embedded engine's buckets. A trace
// lives on one shard (Distributed tables sharded by trace id), so the parent/child join runs per
// shard (distributed_product_mode = 'local'). Latency percentiles: ClickHouse's `quantile`.
//
// Threads: reentrant; the client is thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"
#include "store/clickhouse/clickhouse_client.h"
#include "store/span_querier.h"

namespace ariadne::store::clickhouse {

Result<ServiceGraph> GetServiceGraphSql(ClickHouseClient* client, std::string_view environment,
                                        uint64_t start_unix_nano, uint64_t end_unix_nano);

}  // namespace ariadne::store::clickhouse
