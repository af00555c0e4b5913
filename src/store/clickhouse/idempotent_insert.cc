#include "store/clickhouse/idempotent_insert.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>

#include "store/clickhouse/row_codec.h"
#include "store/clickhouse/schema.h"

namespace ariadne::store::clickhouse {
namespace {

using SpanKey = std::tuple<std::string, std::string, uint64_t>;  // trace id, span id, start

std::string NewQueryId() {
  static thread_local std::mt19937_64 random(std::random_device{}());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "ariadne-insert-";
  uint64_t bits = random();
  for (int i = 0; i < 16; ++i, bits >>= 4) id.push_back(kHex[bits & 15]);
  return id;
}

// The spans of `batches` ClickHouse already holds.
Result<std::set<SpanKey>> StoredSpans(ClickHouseClient* client,
                                      const std::vector<InsertBatch>& batches) {
  std::set<std::string> trace_ids;
  uint64_t min_start = UINT64_MAX, max_start = 0;
  for (const InsertBatch& b : batches)
    for (const model::Span& span : b.batch->spans) {
      trace_ids.insert(std::string(span.trace_id.AsStringView()));
      min_start = std::min(min_start, span.start_time_unix_nano);
      max_start = std::max(max_start, span.start_time_unix_nano);
    }
  std::set<SpanKey> stored;
  if (trace_ids.empty()) return stored;
  std::string list;
  for (const std::string& id : trace_ids) list += (list.empty() ? "" : ", ") + SqlId(id);
  ARIADNE_ASSIGN_OR_RETURN(
      std::string data,
      client->Query("SELECT trace_id, span_id, start_ns FROM spans WHERE start_ns >= " +
                    std::to_string(min_start) + " AND start_ns <= " + std::to_string(max_start) +
                    " AND trace_id IN (" + list + ") FORMAT RowBinary"));
  RowBinaryReader reader(data);
  while (!reader.done()) {
    std::string_view trace, span;
    uint64_t start;
    if (!reader.ReadFixed(16, &trace) || !reader.ReadFixed(8, &span) || !reader.ReadUInt64(&start))
      return Status::DataLoss("ClickHouse sent a truncated RowBinary answer");
    stored.emplace(std::string(trace), std::string(span), start);
  }
  return stored;
}

// RowBinary rows of the spans of `batches` not in `stored`.
std::string EncodeMissing(const std::vector<InsertBatch>& batches,
                          const std::set<SpanKey>& stored) {
  std::string rows;
  for (const InsertBatch& b : batches) {
    model::SpanBatch missing;
    for (size_t i = 0; i < b.batch->spans.size(); ++i) {
      const model::Span& span = b.batch->spans[i];
      if (stored.count({std::string(span.trace_id.AsStringView()),
                        std::string(span.span_id.AsStringView()), span.start_time_unix_nano}))
        continue;
      const uint32_t resource = missing.CopyResourceFrom(*b.batch, span.resource_index);
      const uint32_t scope = missing.CopyScopeFrom(*b.batch, span.scope_index);
      missing.CopySpanFrom(*b.batch, i, resource, scope);
    }
    EncodeSpanRows(b.environment, missing, &rows);
  }
  return rows;
}

}  // namespace

Status InsertSpans(ClickHouseClient* client, const std::vector<InsertBatch>& batches) {
  std::string rows;
  for (const InsertBatch& b : batches) EncodeSpanRows(b.environment, *b.batch, &rows);
  if (rows.empty()) return Status::Ok();
  const std::string insert =
      "INSERT INTO spans (" + std::string(SpanColumnList()) + ") FORMAT RowBinary";
  const std::string distributed =
      client->config().cluster.empty() ? "" : "&insert_distributed_sync=1";
  std::string query_id = NewQueryId();
  Status status = client->Insert(insert, rows, "&query_id=" + query_id + distributed);
  for (int attempt = 1; attempt < 4 && status.IsUnavailable(); ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100 << (2 * (attempt - 1))));
    // The failed attempt may still run (a timeout) or may have been written with its answer
    // lost: stop it for certain, then send only what ClickHouse does not hold.
    Result<std::string> killed =
        client->Query("KILL QUERY WHERE query_id = " + SqlString(query_id) + " SYNC");
    if (!killed.ok()) {
      status = killed.status();
      continue;
    }
    Result<std::set<SpanKey>> stored = StoredSpans(client, batches);
    if (!stored.ok()) {
      status = stored.status();
      continue;
    }
    rows = EncodeMissing(batches, *stored);
    if (rows.empty()) return Status::Ok();
    query_id = NewQueryId();
    status = client->Insert(insert, rows, "&query_id=" + query_id + distributed);
  }
  return status;
}

}  // namespace ariadne::store::clickhouse
