// The server's one memory budget (`ariadne serve --memory-limit`, default 1 GiB) split into shares:
//
//   head          1/8  spans appended but not yet sealed (live + sealing heads: the seal size
//                      follows from it, about 1 KiB per decoded span, at most 64 Ki spans)
//   ingest        1/4  bytes accepted but not yet durable (--max-inflight-bytes); OTLP request
//                      bodies held by connections get half of it (--otlp-max-buffered-bytes)
//   column cache  3/8  decoded block columns kept for later queries
//   queries       1/4  working memory of running queries, split evenly between the queries that
//                      may run at once (--query-memory-limit each, --query-concurrency of them)
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
constexpr uint64_t kHeadBytesPerSpan = 1024;  // decoded head span, with attributes (estimate)

struct MemoryShares {
  uint64_t total = 0;
  uint64_t head = 0;
  size_t head_max_spans = 0;  // seal a head at this many spans
  uint64_t ingest_inflight = 0;
  uint64_t otlp_buffered = 0;
  uint64_t column_cache = 0;
  uint64_t query = 0;            // all queries together
  uint64_t query_per_query = 0;  // the per-query limit
};

MemoryShares SplitMemoryLimit(uint64_t limit, size_t query_concurrency);

// "1 GiB", "384 MiB", "1536 KiB", "100 bytes".
std::string FormatBytes(uint64_t bytes);

// The start-up line that states the budget and its shares.
std::string DescribeShares(const MemoryShares& shares);

// Prometheus lines: ariadne_memory_limit_bytes, and per share (head, ingest, column_cache, query)
// ariadne_memory_share_limit_bytes and ariadne_memory_share_used_bytes.
struct MemoryUse {
  uint64_t head = 0;
  uint64_t ingest = 0;
  uint64_t column_cache = 0;
  uint64_t query = 0;
};
std::string MemoryPrometheus(const MemoryShares& shares, const MemoryUse& use);

}  // namespace ariadne::cli
