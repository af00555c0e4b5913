#include "query/exec/query_budget.h"

namespace ariadne::query {
namespace {

std::string Mebibytes(uint64_t bytes) {
  const uint64_t mib = bytes >> 20;
  if (mib << 20 == bytes) return std::to_string(mib) + " MiB";
  return std::to_string(bytes) + " bytes";
}

}  // namespace

Status QueryBudget::Charge(uint64_t bytes) {
  const uint64_t used = used_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  all_queries_.fetch_add(bytes, std::memory_order_relaxed);
  uint64_t peak = peak_.load(std::memory_order_relaxed);
  while (used > peak && !peak_.compare_exchange_weak(peak, used, std::memory_order_relaxed)) {
  }
  const uint64_t limit = context_.limits.memory_limit_bytes;
  if (limit == 0 || used <= limit) return Status::Ok();
  return Status::ResourceExhausted(
      "query: needs more than " + Mebibytes(limit) +
      " of memory, this server's per-query limit (--query-memory-limit); raise it (or "
      "--memory-limit, whose query share sets it by default) or narrow the query with a "
      "shorter time range, filters, fewer or lower-cardinality breakdowns, or fewer percentile, "
      "HEATMAP and COUNT_DISTINCT calculations");
}

Status QueryBudget::CheckGroups(size_t groups, const std::vector<std::string>& breakdowns) const {
  const size_t cap = context_.limits.max_groups;
  if (cap == 0 || groups <= cap) return Status::Ok();
  std::string columns;
  for (const std::string& b : breakdowns) columns += (columns.empty() ? "" : ", ") + b;
  return Status::ResourceExhausted(
      "breakdowns: the query makes more than " + std::to_string(cap) + " groups (by " + columns +
      "), this server's limit (--query-max-groups); narrow it with filters, fewer breakdowns, or "
      "breakdowns of lower cardinality (not ids such as trace.span_id)");
}

Status QueryBudget::CheckCancelled() const {
  if (!cancelled()) return Status::Ok();
  return Status(StatusCode::kCancelled, "query: cancelled (its client went away)");
}

}  // namespace ariadne::query
