#include "cli/memory_budget.h"

#include <algorithm>

namespace ariadne::cli {

MemoryShares SplitMemoryLimit(uint64_t limit, size_t query_concurrency, bool trace_index) {
  MemoryShares s;
  s.total = limit;
  s.head = limit / 8;
  // Live head, sealing head and the sorted copy that sealing makes: three heads' worth.
  s.head_max_spans =
      static_cast<size_t>(std::clamp<uint64_t>(s.head / 3 / kHeadBytesPerSpan, 4096, 64 * 1024));
  // While a head seals (it and its sorted copy take two heads' worth), the next one may fill the
  // rest of the share. Below 3 × 4,096 spans' worth (the seal size's floor) the share cannot hold
  // three heads anyway: two heads then, as before the share was measured.
  const uint64_t share_spans = s.head / kHeadBytesPerSpan;
  s.head_spans_while_sealing =
      static_cast<size_t>(share_spans >= 3 * s.head_max_spans ? share_spans - 2 * s.head_max_spans
                                                              : 2 * s.head_max_spans);
  s.ingest = limit / 16 * 3;
  // The WAL's framed records waiting for the group commit get 1/16 of the ingest share, and the
  // commit thread's buffer holds at most as much again; decoded batches in flight get the rest.
  s.wal_buffered = s.ingest / 16;
  s.ingest_inflight = s.ingest - 2 * s.wal_buffered;
  s.otlp_buffered = s.ingest / 2;
  s.graph = limit / 32;
  s.graph_max_unpaired =
      static_cast<size_t>(std::max<uint64_t>(1024, s.graph / 2 / kGraphBytesPerSpan));
  s.query = limit / 4;
  s.query_per_query = s.query / std::max<size_t>(1, query_concurrency);
  s.reserve = std::max<uint64_t>(limit / 8, std::min<uint64_t>(32ULL << 20, limit / 4));
  const uint64_t shared = s.head + s.ingest + s.graph + s.query + s.reserve;
  const uint64_t rest = limit > shared ? limit - shared : 0;
  s.trace_summaries = trace_index ? rest / 4 : 0;
  s.column_cache = rest - s.trace_summaries;
  return s;
}

std::string FormatBytes(uint64_t bytes) {
  if (bytes >= (1ULL << 30) && bytes % (1ULL << 30) == 0)
    return std::to_string(bytes >> 30) + " GiB";
  if (bytes >= (1ULL << 20) && bytes % (1ULL << 20) == 0)
    return std::to_string(bytes >> 20) + " MiB";
  if (bytes >= (1ULL << 10) && bytes % (1ULL << 10) == 0)
    return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

std::string DescribeShares(const MemoryShares& s) {
  return "memory limit " + FormatBytes(s.total) + " (--memory-limit): head " + FormatBytes(s.head) +
         " (blocks of " + std::to_string(s.head_max_spans) + " spans, up to " +
         std::to_string(s.head_spans_while_sealing) + " more while one seals), ingest " +
         FormatBytes(s.ingest) + " (" + FormatBytes(s.ingest_inflight) +
         " in flight, WAL buffers " + FormatBytes(s.wal_buffered) + " waiting, OTLP bodies " +
         FormatBytes(s.otlp_buffered) + "), service graph " + FormatBytes(s.graph) + ", reserve " +
         FormatBytes(s.reserve) + ", column cache " + FormatBytes(s.column_cache) +
         ", trace summaries " + FormatBytes(s.trace_summaries) + ", queries " +
         FormatBytes(s.query) + " (" + FormatBytes(s.query_per_query) + " per query)";
}

std::string MemoryPrometheus(const MemoryShares& s, const MemoryUse& use) {
  std::string out;
  out += "# HELP ariadne_memory_limit_bytes The server's memory budget (--memory-limit).\n";
  out += "# TYPE ariadne_memory_limit_bytes gauge\n";
  out += "ariadne_memory_limit_bytes " + std::to_string(s.total) + "\n";
  const struct {
    const char* name;
    uint64_t limit;
    uint64_t used;
  } shares[] = {{"head", s.head, use.head},
                {"ingest", s.ingest, use.ingest},
                {"column_cache", s.column_cache, use.column_cache},
                {"trace_summaries", s.trace_summaries, use.trace_summaries},
                {"query", s.query, use.query}};
  out += "# HELP ariadne_memory_share_limit_bytes Each share of the memory budget.\n";
  out += "# TYPE ariadne_memory_share_limit_bytes gauge\n";
  for (const auto& share : shares)
    out += std::string("ariadne_memory_share_limit_bytes{share=\"") + share.name + "\"} " +
           std::to_string(share.limit) + "\n";
  out += "# HELP ariadne_memory_share_used_bytes Bytes each share holds now.\n";
  out += "# TYPE ariadne_memory_share_used_bytes gauge\n";
  for (const auto& share : shares)
    out += std::string("ariadne_memory_share_used_bytes{share=\"") + share.name + "\"} " +
           std::to_string(share.used) + "\n";
  return out;
}

}  // namespace ariadne::cli
