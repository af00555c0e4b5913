// EmbeddedStore's whole-trace reads (embedded_store_impl.h): the heads under the shared state lock,
// then each sealed block whose bloom filter may hold the trace, outside the lock. A sealed block is
// sorted by trace id, so its trace-id column (usually cached) gives the trace's rows as one range,
// and only those rows are read from the block's column parts (trace_rows.h) — never a whole
// assembled block, which cost tens of milliseconds per trace at 64 k-span blocks.
#include <algorithm>

#include "store/embedded/embedded_store_impl.h"
#include "store/embedded/trace_rows.h"

namespace ariadne::store::embedded {

using columnar::Block;
using columnar::ColumnSet;

Result<TraceResult> EmbeddedStore::GetTrace(const model::TraceId& id,
                                            std::string_view environment) {
  TraceResult result;
  for (const BlockEntry& entry : TraceCandidates(id, environment, &result))
    ARIADNE_RETURN_IF_ERROR(ReadTraceOfBlock(entry, id, &result));
  if (result.spans.spans.empty())
    return Status::NotFound("no span of trace " + id.ToHex() + " is stored");
  SortByStartTime(&result);
  return result;
}

std::vector<BlockEntry> EmbeddedStore::TraceCandidates(const model::TraceId& id,
                                                       std::string_view environment,
                                                       TraceResult* result) {
  std::vector<BlockEntry> candidates;
  ReaderMutexLock lock(&state_mu_);
  for (const auto& [env, head] : AllHeads()) {
    if (!environment.empty() && env != environment) continue;
    std::vector<uint32_t> rows = head->RowsOfTrace(id);
    if (rows.empty()) continue;
    head->block().Materialize(rows, &result->spans);
    result->environments.resize(result->spans.spans.size(), std::string(env));
  }
  const columnar::TraceIdBloom::Hash hash = columnar::TraceIdBloom::HashOf(id);
  for (const BlockEntry& entry : blocks_) {
    if (!environment.empty() && entry.meta.environment != environment) continue;
    if (!entry.meta.bloom.MayContain(hash)) continue;
    candidates.push_back(ReadRef(entry));
  }
  return candidates;
}

Status EmbeddedStore::ReadTraceOfBlock(const BlockEntry& entry, const model::TraceId& id,
                                       TraceResult* result) {
  // The trace-id column alone first: a bloom filter's false positive then costs no other column.
  // It is cached like any column (bounded in bytes), since trace search and X-Ray filters read
  // many traces of the same blocks in a row.
  ColumnSet ids;
  ids.fixed = ColumnSet::kTraceId;
  ARIADNE_ASSIGN_OR_RETURN(std::shared_ptr<const Block> id_block, LoadBlock(entry, ids));
  if (!std::binary_search(id_block->trace_id.begin(), id_block->trace_id.end(), id))
    return Status::Ok();
  ARIADNE_ASSIGN_OR_RETURN(BlockColumnParts parts, LoadParts(entry, ColumnSet::All()));
  if (parts.num_rows == 0) return Status::Ok();  // quarantined meanwhile
  TraceRows rows(parts);
  const auto [begin, end] = rows.RowsOfTrace(id);
  rows.Materialize(begin, end, &result->spans);
  result->environments.resize(result->spans.spans.size(), entry.meta.environment);
  return Status::Ok();
}

Result<BlockColumnParts> EmbeddedStore::LoadParts(const BlockEntry& entry,
                                                  const ColumnSet& needed) {
  Result<BlockColumnParts> parts = column_cache_.GetParts(entry.meta.id, needed, ColumnsOf(entry));
  if (!parts.ok()) {
    ARIADNE_RETURN_IF_ERROR(LoadFailed(entry, parts.status()));
    return BlockColumnParts();
  }
  return parts;
}

}  // namespace ariadne::store::embedded
