// StoreAdmin: the operator role of the embedded engine — sealing the head into block files and
// the WAL/head/block/cache counters /metrics shows. It is not part of the engine-neutral seam:
// callers ask the store for it (SpanStore::Admin(), nullptr when the engine has none) and skip
// what it would show otherwise. The ClickHouse engine offers none (its storage is ClickHouse's;
// its append counters are ClickHouseStore::AppendStats()).
//
// Threads: every method may be called concurrently from any thread.
#pragma once

#include <cstdint>

#include "common/status.h"

namespace ariadne::store {

struct StoreStats {
  uint64_t spans_appended = 0;
  uint64_t batches_appended = 0;
  uint64_t append_errors = 0;
  // Appends refused for backpressure (answered 503 + Retry-After), by reason; also append errors.
  uint64_t appends_refused_behind = 0;      // too many spans waiting for the group commit
  uint64_t appends_refused_sealing = 0;     // a head is sealing and the next one is full
  uint64_t appends_refused_wal_buffer = 0;  // WAL records waiting past their memory share
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
  uint64_t column_cache_rejected = 0;  // missed columns not kept (admission: column_cache.h)
  // The trace-summary index (embedded store): summaries held in memory (resident entries' and
  // decoded side files'), block side files read and decoded, and the resident entries (the heads'
  // traces and the split ones; sealed whole traces have none) and of them the split traces.
  uint64_t trace_summary_bytes = 0;
  uint64_t trace_summary_loads = 0;
  uint64_t trace_summary_blocks_skipped = 0;  // blocks searches passed over by their digests
  uint64_t trace_index_resident = 0;
  uint64_t trace_index_split = 0;
  uint64_t blocks_pruned = 0;  // blocks a query or search skipped by meta alone
  // Decoded heads in memory (live and being sealed) and a running seal's sorted copies and encoded
  // file, approximate.
  uint64_t head_bytes = 0;
  uint64_t wal_buffer_bytes = 0;  // WAL records waiting for the group commit, and its buffer
  // Block set maintenance (embedded store; zero elsewhere).
  uint64_t orphan_blocks_removed = 0;     // block files no manifest edit named, removed at open
  uint64_t retention_blocks_removed = 0;  // blocks removed by retention / max-disk
  uint64_t retention_spans_removed = 0;
  uint64_t retention_bytes_removed = 0;
  uint64_t compactions = 0;              // merged blocks written
  uint64_t compaction_input_blocks = 0;  // small blocks merged away
};

class StoreAdmin {
 public:
  virtual ~StoreAdmin() = default;

  // Seals the in-memory head into block files (used on shutdown and by tests).
  virtual Status Flush() = 0;

  virtual StoreStats Stats() const = 0;
};

}  // namespace ariadne::store
