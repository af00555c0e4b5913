// ClickHouse RowBinary rows of the benchmark's `spans` table (bench/clickhouse/schema.sql): the
// same spans that ariadne-gen sends over OTLP, so `bench/compare_clickhouse` loads identical data
// into both engines.
//
// Row layout (the table's columns in order, the MATERIALIZED `date` left out): trace_id
// FixedString(16), span_id FixedString(8), parent_id FixedString(8) (zeros on a root), service,
// name, kind UInt8, start_time_ns UInt64, duration_ns UInt64, status_code UInt8, status_message,
// then the promoted attributes http_method, http_route, http_status_code UInt16, net_peer_name,
// db_system, user_id ('' / 0 when absent), then every other span attribute as parallel arrays
// attrs.key / attrs.value (values as text: ints in decimal, doubles shortest round-trip,
// bools true/false), then the resource attributes other than service.name as resource.key /
// resource.value. Strings are varint-length prefixed, numbers little-endian.
//
// Threads: reentrant.
#pragma once

#include <string>

#include "model/span_batch.h"

namespace ariadne::gen {

// Appends one RowBinary row per span of `batch` to `out`.
void AppendClickHouseRows(const model::SpanBatch& batch, std::string* out);

}  // namespace ariadne::gen
