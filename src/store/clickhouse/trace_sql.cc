#include "store/clickhouse/trace_sql.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <string>

#include "columnar/batch_codec.h"
#include "store/clickhouse/query_sql.h"
#include "store/clickhouse/row_codec.h"
#include "store/column_catalog.h"

namespace ariadne::store::clickhouse {
namespace {

constexpr std::string_view kZeroSpanId = "toFixedString(unhex('0000000000000000'), 8)";

std::string EnvCondition(std::string_view environment) {
  return environment.empty() ? "" : " AND environment = " + SqlString(environment);
}

std::string IdList(const std::vector<model::TraceId>& ids) {
  std::string out;
  for (const model::TraceId& id : ids) out += (out.empty() ? "" : ", ") + SqlId(id.AsStringView());
  return out;
}

// Appends the one span of `raw` (batch encoding) to `trace`.
Status AppendSpan(std::string_view raw, std::string_view environment, TraceResult* trace) {
  ARIADNE_ASSIGN_OR_RETURN(model::SpanBatch one, columnar::DecodeSpanBatch(raw));
  if (one.spans.size() != 1) return Status::DataLoss("a stored span row holds no span");
  model::SpanBatch& out = trace->spans;
  const uint32_t resource = out.CopyResourceFrom(one, one.spans[0].resource_index);
  const uint32_t scope = out.CopyScopeFrom(one, one.spans[0].scope_index);
  out.CopySpanFrom(one, 0, resource, scope);
  trace->environments.emplace_back(environment);
  return Status::Ok();
}

// [min, max] span start of the traces per trace_index; nullopt when none is stored.
Result<std::optional<std::pair<uint64_t, uint64_t>>> TimeRange(ClickHouseClient* client,
                                                               const std::string& id_condition) {
  ARIADNE_ASSIGN_OR_RETURN(
      std::string text,
      client->Query("SELECT min(min_start_ns), max(max_start_ns), count() FROM trace_index "
                    "WHERE " +
                    id_condition + " FORMAT TabSeparated"));
  auto rows = ParseTsv(text);
  if (rows.empty() || rows[0].size() < 3 || std::strtoull(rows[0][2].c_str(), nullptr, 10) == 0)
    return std::optional<std::pair<uint64_t, uint64_t>>();
  return std::optional<std::pair<uint64_t, uint64_t>>(
      std::make_pair(std::strtoull(rows[0][0].c_str(), nullptr, 10),
                     std::strtoull(rows[0][1].c_str(), nullptr, 10)));
}

std::string RangeCondition(const std::pair<uint64_t, uint64_t>& range) {
  return "start_ns >= " + std::to_string(range.first) +
         " AND start_ns <= " + std::to_string(range.second);
}

std::vector<std::string> SplitUnit(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  for (char c : text) {
    if (c == '\x1f') {
      out.push_back(std::move(item));
      item.clear();
    } else {
      item.push_back(c);
    }
  }
  out.push_back(std::move(item));
  return out;
}

}  // namespace

Result<TraceResult> GetTraceSql(ClickHouseClient* client, const model::TraceId& id,
                                std::string_view environment, const TraceTimeHint& hint) {
  const std::string id_condition =
      "trace_id = " + SqlId(id.AsStringView()) + EnvCondition(environment);
  constexpr uint64_t kDay = 86'400'000'000'000ULL;
  const std::string hint_condition =
      hint.empty()
          ? ""
          : " AND min_start_ns >= " +
                std::to_string(hint.start_unix_nano > kDay ? hint.start_unix_nano - kDay : 0) +
                " AND min_start_ns <= " + std::to_string(hint.end_unix_nano);
  ARIADNE_ASSIGN_OR_RETURN(auto range, TimeRange(client, id_condition + hint_condition));
  if (!range) return Status::NotFound("no span of trace " + id.ToHex() + " is stored");
  ARIADNE_ASSIGN_OR_RETURN(
      std::string data,
      client->Query("SELECT environment, raw FROM spans WHERE " + id_condition + " AND " +
                    RangeCondition(*range) + " ORDER BY start_ns FORMAT RowBinary"));
  TraceResult trace;
  RowBinaryReader reader(data);
  while (!reader.done()) {
    std::string_view environment_field, raw;
    if (!reader.ReadString(&environment_field) || !reader.ReadString(&raw))
      return Status::DataLoss("ClickHouse sent a truncated RowBinary answer");
    ARIADNE_RETURN_IF_ERROR(AppendSpan(raw, environment_field, &trace));
  }
  if (trace.spans.spans.empty())
    return Status::NotFound("no span of trace " + id.ToHex() + " is stored");
  return trace;
}

Status ForEachTraceSql(ClickHouseClient* client, uint64_t start_unix_nano, uint64_t end_unix_nano,
                       std::string_view environment,
                       const std::function<bool(const TraceResult&)>& visit, size_t page) {
  ARIADNE_ASSIGN_OR_RETURN(
      std::string data,
      client->Query("SELECT trace_id, min(start_ns) AS first FROM spans WHERE start_ns >= " +
                    std::to_string(start_unix_nano) + " AND start_ns < " +
                    std::to_string(end_unix_nano) + EnvCondition(environment) +
                    " GROUP BY trace_id ORDER BY first, trace_id FORMAT RowBinary"));
  std::vector<model::TraceId> order;
  RowBinaryReader reader(data);
  while (!reader.done()) {
    std::string_view id;
    uint64_t first;
    if (!reader.ReadFixed(16, &id) || !reader.ReadUInt64(&first))
      return Status::DataLoss("ClickHouse sent a truncated RowBinary answer");
    order.push_back(*model::TraceId::FromBytes(id));
  }
  for (size_t begin = 0; begin < order.size(); begin += page) {
    const std::vector<model::TraceId> ids(order.begin() + begin,
                                          order.begin() + std::min(order.size(), begin + page));
    const std::string id_condition =
        "trace_id IN (" + IdList(ids) + ")" + EnvCondition(environment);
    ARIADNE_ASSIGN_OR_RETURN(auto range, TimeRange(client, id_condition));
    if (!range) continue;  // removed by retention meanwhile
    ARIADNE_ASSIGN_OR_RETURN(std::string spans,
                             client->Query("SELECT trace_id, environment, raw FROM spans WHERE " +
                                           id_condition + " AND " + RangeCondition(*range) +
                                           " ORDER BY trace_id, start_ns FORMAT RowBinary"));
    std::map<model::TraceId, TraceResult> traces;
    RowBinaryReader rows(spans);
    while (!rows.done()) {
      std::string_view id, environment_field, raw;
      if (!rows.ReadFixed(16, &id) || !rows.ReadString(&environment_field) ||
          !rows.ReadString(&raw))
        return Status::DataLoss("ClickHouse sent a truncated RowBinary answer");
      ARIADNE_RETURN_IF_ERROR(
          AppendSpan(raw, environment_field, &traces[*model::TraceId::FromBytes(id)]));
    }
    for (const model::TraceId& id : ids) {
      auto it = traces.find(id);
      if (it == traces.end()) continue;
      if (!visit(it->second)) return Status::Ok();
    }
  }
  return Status::Ok();
}

Result<std::map<TraceKey, TraceResult>> GetTracesSql(
    ClickHouseClient* client, const std::vector<TraceKey>& keys,
    std::optional<std::pair<uint64_t, uint64_t>> start_range) {
  std::map<TraceKey, TraceResult> traces;
  if (keys.empty()) return traces;
  std::string pairs;
  for (const TraceKey& key : keys)
    pairs += (pairs.empty() ? "(" : ", (") + SqlString(key.first) + ", " +
             SqlId(key.second.AsStringView()) + ")";
  const std::string condition = "(environment, trace_id) IN (" + pairs + ")";
  std::optional<std::pair<uint64_t, uint64_t>> range = start_range;
  if (!range) {
    ARIADNE_ASSIGN_OR_RETURN(range, TimeRange(client, condition));
    if (!range) return traces;
  }
  ARIADNE_ASSIGN_OR_RETURN(
      std::string spans,
      client->Query("SELECT trace_id, environment, raw FROM spans WHERE " + condition + " AND " +
                    RangeCondition(*range) + " ORDER BY trace_id, start_ns FORMAT RowBinary"));
  RowBinaryReader rows(spans);
  while (!rows.done()) {
    std::string_view id, environment_field, raw;
    if (!rows.ReadFixed(16, &id) || !rows.ReadString(&environment_field) || !rows.ReadString(&raw))
      return Status::DataLoss("ClickHouse sent a truncated RowBinary answer");
    TraceKey key(std::string(environment_field), *model::TraceId::FromBytes(id));
    ARIADNE_RETURN_IF_ERROR(AppendSpan(raw, environment_field, &traces[key]));
  }
  return traces;
}

Result<std::vector<TraceSummary>> SearchTracesSql(ClickHouseClient* client,
                                                  const TraceSearchRequest& request,
                                                  const query::ExecContext& context) {
  query::QuerySpec spec;
  spec.environment = request.environment;
  spec.start_unix_nano = request.start_unix_nano;
  spec.end_unix_nano = request.end_unix_nano;
  spec.filters = request.filters;
  // 1. The newest matching span start per trace, newest first.
  ARIADNE_ASSIGN_OR_RETURN(
      std::string text,
      client->Query("SELECT lower(hex(trace_id)), max(start_ns) AS latest, "
                    "argMax(environment, start_ns) FROM spans WHERE " +
                    WhereClause(spec) + " GROUP BY trace_id ORDER BY latest DESC, trace_id LIMIT " +
                    std::to_string(request.limit) + " FORMAT TabSeparated"));
  const auto found = ParseTsv(text);
  std::vector<TraceSummary> out;
  if (found.empty()) return out;
  if (context.cancel && context.cancel->cancelled())
    return Status(StatusCode::kCancelled, "the search was cancelled");
  std::vector<model::TraceId> ids;
  std::string pairs;
  for (const auto& row : found) {
    ids.push_back(*model::TraceId::FromHex(row[0]));
    pairs += (pairs.empty() ? "(" : ", (") + SqlString(row[2]) + ", " +
             SqlId(ids.back().AsStringView()) + ")";
  }
  // 2. Their summaries, computed by ClickHouse over every span of each trace.
  ARIADNE_ASSIGN_OR_RETURN(auto range, TimeRange(client, "trace_id IN (" + IdList(ids) + ")"));
  if (!range) return out;
  const std::string not_root = "parent_id != " + std::string(kZeroSpanId);
  ARIADNE_ASSIGN_OR_RETURN(
      std::string summaries,
      client->Query(
          "SELECT lower(hex(trace_id)), argMin(environment, start_ns), argMin(service, (" +
          not_root + ", start_ns)), argMin(name, (" + not_root +
          ", start_ns)), min(start_ns), max(greatest(end_ns, start_ns)), count(), "
          "countIf(status_code = 2), arrayStringConcat(arraySort(groupUniqArray(service)), "
          "'\\x1F') FROM spans WHERE (environment, trace_id) IN (" +
          pairs + ") AND " + RangeCondition(*range) + " GROUP BY trace_id FORMAT TabSeparated"));
  std::map<std::string, TraceSummary> by_id;
  for (const auto& row : ParseTsv(summaries)) {
    if (row.size() < 9) continue;
    TraceSummary s;
    s.trace_id = *model::TraceId::FromHex(row[0]);
    s.environment = row[1];
    s.root_service = row[2];
    s.root_name = row[3];
    s.start_unix_nano = std::strtoull(row[4].c_str(), nullptr, 10);
    s.duration_nano = std::strtoull(row[5].c_str(), nullptr, 10) - s.start_unix_nano;
    s.span_count = std::strtoull(row[6].c_str(), nullptr, 10);
    s.error_count = std::strtoull(row[7].c_str(), nullptr, 10);
    s.services = SplitUnit(row[8]);
    by_id[row[0]] = std::move(s);
  }
  for (const auto& row : found) {
    auto it = by_id.find(row[0]);
    if (it != by_id.end()) out.push_back(std::move(it->second));
  }
  return out;
}

Result<std::vector<ServiceSummary>> ListServicesSql(ClickHouseClient* client,
                                                    std::string_view environment) {
  ARIADNE_ASSIGN_OR_RETURN(
      std::string text,
      client->Query(
          "SELECT environment, service, count(), countIf(parent_id = " + std::string(kZeroSpanId) +
          "), countIf(status_code = 2), min(start_ns), max(start_ns) FROM spans" +
          (environment.empty() ? "" : " WHERE environment = " + SqlString(environment)) +
          " GROUP BY environment, service ORDER BY environment, service "
          "FORMAT TabSeparated"));
  std::vector<ServiceSummary> out;
  for (const auto& row : ParseTsv(text)) {
    if (row.size() < 7) continue;
    ServiceSummary s;
    s.environment = row[0];
    s.name = row[1];
    s.span_count = std::strtoull(row[2].c_str(), nullptr, 10);
    s.trace_root_count = std::strtoull(row[3].c_str(), nullptr, 10);
    s.error_count = std::strtoull(row[4].c_str(), nullptr, 10);
    s.first_seen_unix_nano = std::strtoull(row[5].c_str(), nullptr, 10);
    s.last_seen_unix_nano = std::strtoull(row[6].c_str(), nullptr, 10);
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<ColumnInfo>> ListColumnsSql(ClickHouseClient* client,
                                               std::string_view environment,
                                               uint64_t start_unix_nano, uint64_t end_unix_nano) {
  const std::string where = "start_ns >= " + std::to_string(start_unix_nano) + " AND start_ns < " +
                            std::to_string(end_unix_nano) + EnvCondition(environment);
  ARIADNE_ASSIGN_OR_RETURN(
      std::string text,
      client->Query("SELECT k, arrayStringConcat(arrayMap(x -> toString(x), "
                    "arraySort(groupUniqArray(t))), ','), min(r) FROM spans ARRAY JOIN "
                    "attr_keys AS k, attr_types AS t, attr_resource AS r WHERE " +
                    where + " GROUP BY k UNION ALL SELECT 'http.method', '1', 0 FROM spans WHERE " +
                    where +
                    " AND http_method != '' LIMIT 1 UNION ALL SELECT 'http.route', '1', 0 FROM "
                    "spans WHERE " +
                    where +
                    " AND http_route != '' LIMIT 1 UNION ALL SELECT 'db.system', '1', 0 FROM spans "
                    "WHERE " +
                    where + " AND db_system != '' LIMIT 1 FORMAT TabSeparated"));
  ColumnCatalogBuilder catalog;
  for (const auto& row : ParseTsv(text)) {
    if (row.size() < 3) continue;
    uint32_t mask = 0;
    size_t pos = 0;
    while (pos <= row[1].size()) {
      size_t comma = row[1].find(',', pos);
      if (comma == std::string::npos) comma = row[1].size();
      const int t = std::atoi(row[1].substr(pos, comma - pos).c_str());
      pos = comma + 1;
      if (t >= 1 && t <= 7) mask |= 1u << t;
    }
    catalog.AddAttribute(row[0], mask, row[2] == "0");
  }
  return catalog.Finish();
}

}  // namespace ariadne::store::clickhouse
