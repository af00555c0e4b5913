// Writes a benchmark data set to a directory, so the same spans can be loaded into Ariadne and into
// ClickHouse (bench/compare_clickhouse):
//
//   DIR/otlp.bin                 OTLP/HTTP protobuf requests, each as a record
//                                [u32 spans][u32 bytes][bytes] (little-endian), for --replay
//   DIR/clickhouse-NNNN.rowbinary the same spans as ClickHouse RowBinary rows
//                                (tools/gen/clickhouse_rows.h), at most `clickhouse_rows` per file
//   DIR/meta.json                span and request counts, the time range, a few trace ids
//
// Spans come from one RealisticSpans generator (seed, start time) cut into requests of
// `batch_spans`; the last request holds the remainder, so exactly `total_spans` are written.
#pragma once

#include <cstdint>
#include <string>

namespace ariadne::gen {

struct PrepareOptions {
  std::string dir;
  uint64_t total_spans = 0;
  size_t batch_spans = 512;
  uint64_t seed = 1;
  uint64_t start_unix_nano = 0;  // 0 = now
  uint64_t clickhouse_rows = 1'000'000;
};

// Returns 0 on success, 1 (after printing why) on an I/O failure.
int PrepareDataSet(const PrepareOptions& options);

}  // namespace ariadne::gen
