// The server's one memory budget (`ariadne serve --memory-limit`, default 1 GiB) split into shares:
//
//   head          1/8  spans appended but not yet sealed: the live head, the head being sealed and
//                      the sorted copy sealing makes (the seal size follows from it, about 460
//                      bytes per span and state, at most 64 Ki spans); while one head seals the
//                      next may fill what the share leaves, then appends get 503 + Retry-After
//   ingest        3/16 bytes accepted but not yet durable: decoded batches in flight get 7/8 of
//                      it (--max-inflight-bytes), the WAL's framed records waiting for the group
//                      commit 1/16 (refused past it: 503 + Retry-After) and the commit thread's
//                      buffer, at most as large, the last 1/16; OTLP request bodies held by
//                      connections are bounded by half the share (--otlp-max-buffered-bytes)
//   service graph 1/32 spans waiting in the service-graph builder for their parent or child
//                      (about 256 bytes each across its two pairing tables)
//   queries       1/4  working memory of running queries, split evenly between the queries that
//                      may run at once (--query-memory-limit each, --query-concurrency of them)
//   reserve       1/8  not handed out: the process itself (code, thread stacks, listeners: about
//                      25 MiB), decoded OTLP requests and the allocator's slack; at least 32 MiB or
//                      a quarter of the limit if less
//   column cache  3/4 of the rest (27/128 from 256 MiB up; all of it with --no-trace-index):
//                 decoded block columns kept for queries
//   trace summaries 1/4 of the rest (9/128; 0 with --no-trace-index): the trace-summary index's
//                 summaries in memory (the others are read back from the blocks' side files;
//                 store/embedded/trace_index.h)
//
// Peak RSS under sustained ingest with the cache full stays within the limit
// (tests/store/memory_limit_server_test.cc, IngestMemoryTest).
//
// A flag set explicitly wins over its derived value. docs/operations.md has the table.
//
// Threads: plain values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ariadne::cli {

constexpr uint64_t kDefaultMemoryLimit = 1ULL << 30;
// Heap per realistic span (ariadne-gen's shape, 10 attributes) of a head, averaged over its three
// states: live (≈ 506 B), being sealed (the same) and the sorted copy sealing makes (≈ 361 B).
// Measured with mallinfo2 and pinned within ±25 % by tests/pipeline/memory_estimate_test.cc (it
// was 1024, 2.2× too high: heads sealed at 43,690 spans instead of 65,536 at 1 GiB).
constexpr uint64_t kHeadBytesPerSpan = 460;
constexpr uint64_t kGraphBytesPerSpan = 256;  // a span waiting in the service-graph builder

struct MemoryShares {
  uint64_t total = 0;
  uint64_t head = 0;
  size_t head_max_spans = 0;            // seal a head at this many spans
  size_t head_spans_while_sealing = 0;  // the next head's bound while one seals (then 503)
  uint64_t ingest = 0;                  // the whole ingest share
  uint64_t ingest_inflight = 0;         // decoded batches not yet durable (the pipeline's bound)
  uint64_t wal_buffered = 0;  // WAL records waiting for the group commit (the store's bound)
  uint64_t otlp_buffered = 0;
  uint64_t graph = 0;
  size_t graph_max_unpaired = 0;  // per pairing table of the service-graph builder
  uint64_t reserve = 0;
  uint64_t column_cache = 0;
  uint64_t trace_summaries = 0;
  uint64_t query = 0;            // all queries together
  uint64_t query_per_query = 0;  // the per-query limit
};

MemoryShares SplitMemoryLimit(uint64_t limit, size_t query_concurrency, bool trace_index = false);

// "1 GiB", "384 MiB", "1536 KiB", "100 bytes".
std::string FormatBytes(uint64_t bytes);

// The start-up line that states the budget and its shares.
std::string DescribeShares(const MemoryShares& shares);

// Prometheus lines: ariadne_memory_limit_bytes, and per share (head, ingest, column_cache,
// trace_summaries, query) ariadne_memory_share_limit_bytes and ariadne_memory_share_used_bytes.
struct MemoryUse {
  uint64_t head = 0;
  uint64_t ingest = 0;
  uint64_t column_cache = 0;
  uint64_t trace_summaries = 0;
  uint64_t query = 0;
};
std::string MemoryPrometheus(const MemoryShares& shares, const MemoryUse& use);

}  // namespace ariadne::cli
