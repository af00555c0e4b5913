// The embedded span store: one directory on local disk, no other process needed.
//
//   append → write-ahead log (CRC per record, group-commit fdatasync) → in-memory columnar head
//          → sealed into immutable block files (per environment; zstd-compressed columns,
//            dictionary-encoded strings, per-block time range and trace-id bloom filter)
//
// Which block files make up the store is recorded in a manifest (manifest.h): a seal, a compaction
// and a retention step are each one manifest edit, so a crash at any point loses and duplicates
// nothing. Opening a directory reads the manifest (upgrading a CHECKPOINT-era directory, removing
// orphan block files; block_set_recovery.h) and replays the WAL the blocks do not cover into the
// head, so every append that was acknowledged before a crash is readable again, exactly once.
// Retention and compaction run on a background thread (block_maintenance.h). Formats are specified
// in docs/formats/wal.md, docs/formats/block.md and docs/formats/manifest.md.
//
// Threads: the returned store is safe for concurrent use; it runs a group-commit thread, a seal
// thread and a maintenance thread.
//
// Implementation: embedded_store_impl.h (the class) with embedded_store.cc (open, close, stats),
// embedded_store_write.cc, embedded_store_read.cc and embedded_store_maintenance.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/env.h"
#include "common/status.h"
#include "store/embedded/block_maintenance.h"
#include "store/span_store.h"

namespace ariadne::store::embedded {

struct EmbeddedStoreOptions {
  std::string data_dir;
  // Seal the head of an environment into a block once it holds this many spans.
  size_t head_max_spans = 64 * 1024;
  // Appends waiting for the group commit beyond this many spans are refused with
  // kResourceExhausted (clients get 503 + Retry-After) instead of growing memory without bound.
  size_t max_pending_spans = 1 << 20;
  // While a head is being sealed, appends that would take the live head (with what waits for the
  // commit) past this many spans are refused with kResourceExhausted (clients get 503 +
  // Retry-After), so a seal that falls behind ingest cannot grow the head without bound. 0: no
  // bound (the library default); the server sets what its --memory-limit head share leaves beside
  // the head being sealed and its sorted copy (twice head_max_spans at the smallest limits).
  size_t max_head_spans_while_sealing = 0;
  // WAL records framed and waiting for the group commit are bounded by this many bytes: an append
  // whose record would take them past it is refused with kResourceExhausted (clients get 503 +
  // Retry-After), unless nothing else waits (a record larger than the bound still gets through
  // alone). The commit thread's concatenation buffer holds at most one group of them, so the WAL's
  // buffers stay within twice this. 0: no bound (the library default); the server sets it from its
  // --memory-limit ingest share.
  size_t max_wal_buffer_bytes = 0;
  // Spans the service-graph builder keeps while they wait for their parent or child (each of its
  // two pairing tables holds at most this many; see service_graph.h). The server sets it from its
  // --memory-limit share.
  size_t graph_max_unpaired = 1 << 20;
  // How long (ingest time) a CLIENT span waits for an answer from another service before its
  // remote peer becomes an edge (service_graph.h). Tests with whole traces per batch set 0.
  uint64_t graph_pairing_window_nano = 30ULL * 1'000'000'000ULL;
  // false only in tests that measure the cost of fsync itself.
  bool sync = true;
  // Bytes of decoded block columns kept in memory (least recently used are dropped); the server
  // sets it from its --memory-limit share.
  uint64_t column_cache_bytes = 256ULL << 20;
  // The trace-summary index (trace_index.h): X-Ray filters and paged trace search answered from
  // per-trace summaries, persisted beside each block (.tsum). Off (the library default),
  // SearchTracePage walks whole traces (TraceReader's generic search) and no side files are
  // written. The server turns it on unless --no-trace-index: open reads every side file and each
  // trace keeps ≈ 150 B in memory outside the --memory-limit budget (docs/operations.md).
  bool trace_index = false;
  // Bytes of trace summaries the trace-summary index keeps in memory; the rest are read back from
  // the blocks' side files when a search needs them (trace_index.h). UINT64_MAX: no bound (the
  // library default); the server sets it from its --memory-limit share.
  uint64_t trace_summary_bytes = UINT64_MAX;
  // Searches pass over blocks by their side files' digests (docs/formats/trace-summaries.md,
  // "Digest"). Off only to measure what the digests save (bench/xray_read_bench.cc).
  bool trace_block_digests = true;
  // Searches pass over blocks by the digests' fields section too (flags, number ranges, services,
  // users: Filter::FieldNeeds), not only by annotations. Off only to measure what that saves.
  bool trace_block_field_skips = true;
  // Every file operation goes through this Env; null means Env::Default() (POSIX). Tests pass a
  // fault-injecting one. Must outlive the store.
  Env* env = nullptr;
  // Rebuild the manifest from the block files when it is missing or damaged (--recover-manifest;
  // docs/operations.md). Otherwise Open refuses such a directory with kDataLoss.
  bool recover_manifest = false;
  // Retention and compaction (block_maintenance.h). The library default keeps everything and does
  // not compact; `ariadne serve` turns compaction on and sets retention from its flags.
  MaintenanceOptions maintenance = [] {
    MaintenanceOptions m;
    m.compaction.enabled = false;
    return m;
  }();
};

// The embedded engine as its owners see it: the seam plus its operator role (StoreAdmin: Flush,
// Stats), which Admin() also hands to callers that only hold the SpanStore.
class EmbeddedSpanStore : public SpanStore, public StoreAdmin {
 public:
  StoreAdmin* Admin() override { return this; }
};

Result<std::unique_ptr<EmbeddedSpanStore>> OpenEmbeddedStore(const EmbeddedStoreOptions& options);

// Runs one retention and compaction pass now (tests, and `ariadne` tools); kInvalidArgument when
// `store` is not an embedded store.
Status RunBlockMaintenance(SpanStore* store);

}  // namespace ariadne::store::embedded
