#include "store/clickhouse/trace_page_sql.h"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "store/clickhouse/row_codec.h"
#include "store/clickhouse/sql_expr.h"
#include "store/clickhouse/trace_sql.h"

namespace ariadne::store::clickhouse {
namespace {

constexpr uint64_t kDay = 86'400'000'000'000ULL;
constexpr size_t kMaxBatch = 4096;
constexpr size_t kFetchChunk = 200;  // candidates whose spans one statement reads
constexpr std::string_view kNotRoot = "parent_id != toFixedString(unhex('0000000000000000'), 8)";

struct Candidate {
  TraceKey key;
  uint64_t first = 0;  // earliest span start
  uint64_t last = 0;   // latest span start
};

// `key` strictly after the token in the order (keyset condition on the aliases t_first/trace_id).
std::string AfterCondition(const TracePageToken& after, bool newest, std::string_view first) {
  const std::string start = std::to_string(after.start_unix_nano);
  const std::string id = SqlId(after.trace_id.AsStringView());
  const char* cmp = newest ? " < " : " > ";
  return "(" + std::string(first) + cmp + start + " OR (" + std::string(first) + " = " + start +
         " AND trace_id" + cmp + id + "))";
}

// True when `filter` has a part the candidate statement decides over spans.
bool HasSqlFilter(const TraceFilter& f) {
  return !f.root_service.empty() || !f.root_name.empty() || f.min_duration_nano > 0 ||
         f.max_duration_nano > 0 || f.has_error.has_value() || !f.span_filters.empty();
}

// The candidate statement of one round: up to `limit` traces after `after`, in order.
std::string CandidateSql(const TracePageRequest& request,
                         const std::optional<TracePageToken>& after, size_t limit, bool cluster) {
  const uint64_t ws = request.start_unix_nano, we = request.end_unix_nano;
  const uint64_t lo = ws > kDay ? ws - kDay : 0;
  const uint64_t hi = we > UINT64_MAX - kDay ? UINT64_MAX : we + kDay;
  const bool newest = request.order == TraceOrder::kNewestFirst;
  const std::string env =
      request.environment.empty() ? "" : " AND environment = " + SqlString(request.environment);
  const std::string range = " >= " + std::to_string(lo) + " AND %s < " + std::to_string(hi) + env;
  auto ranged = [&](std::string_view column) {
    std::string r = range;
    r.replace(r.find("%s"), 2, column);
    return std::string(column) + r;
  };
  const TraceFilter& f = request.filter;
  // The traces of the window per trace_index (narrows what the GROUP BY over spans holds).
  std::string index_having = "min(min_start_ns) < " + std::to_string(we) +
                             " AND max(max_start_ns) >= " + std::to_string(ws);
  if (after)
    index_having += std::string(" AND min(min_start_ns) ") + (newest ? "<= " : ">= ") +
                    std::to_string(after->start_unix_nano);
  const char* dir = newest ? " DESC" : "";
  if (!HasSqlFilter(f)) {
    // Nothing to decide over spans: trace_index alone gives the order keys (a few rows per
    // trace, four columns), so the spans are read only for the traces of the page.
    std::string sql =
        "SELECT environment, lower(hex(trace_id)), min(min_start_ns) AS t_first, "
        "max(max_start_ns) AS t_last FROM trace_index WHERE " +
        ranged("min_start_ns") + " GROUP BY environment, trace_id HAVING t_first < " +
        std::to_string(we) + " AND t_last >= " + std::to_string(ws);
    if (after) sql += " AND " + AfterCondition(*after, newest, "t_first");
    return sql + " ORDER BY t_first" + dir + ", trace_id" + dir + " LIMIT " +
           std::to_string(limit) + " FORMAT TabSeparated";
  }
  std::string sql =
      "SELECT environment, lower(hex(trace_id)), min(start_ns) AS t_first, "
      "max(start_ns) AS t_last, max(greatest(end_ns, start_ns)) AS t_end, "
      "countIf(status_code = 2) AS t_errors, argMin(service, (" +
      std::string(kNotRoot) + ", start_ns)) AS t_root_service, argMin(name, (" +
      std::string(kNotRoot) + ", start_ns)) AS t_root_name";
  if (!f.span_filters.empty()) {
    std::string joined;
    for (const query::Filter& filter : f.span_filters)
      joined += (joined.empty() ? "" : " AND ") + FilterExpr(filter);
    sql += ", countIf(start_ns >= " + std::to_string(ws) + " AND start_ns < " + std::to_string(we) +
           " AND (" + joined + ")) AS t_matching";
  }
  sql += " FROM spans WHERE " + ranged("start_ns") + " AND trace_id " +
         (cluster ? "GLOBAL IN" : "IN") + " (SELECT trace_id FROM trace_index WHERE " +
         ranged("min_start_ns") + " GROUP BY environment, trace_id HAVING " + index_having +
         ") GROUP BY environment, trace_id HAVING t_first < " + std::to_string(we) +
         " AND t_last >= " + std::to_string(ws);
  if (after) sql += " AND " + AfterCondition(*after, newest, "t_first");
  if (!f.root_service.empty()) sql += " AND t_root_service = " + SqlString(f.root_service);
  if (!f.root_name.empty()) sql += " AND t_root_name = " + SqlString(f.root_name);
  if (f.min_duration_nano > 0)
    sql += " AND t_end - t_first >= " + std::to_string(f.min_duration_nano);
  if (f.max_duration_nano > 0)
    sql += " AND t_end - t_first <= " + std::to_string(f.max_duration_nano);
  if (f.has_error) sql += *f.has_error ? " AND t_errors > 0" : " AND t_errors = 0";
  if (!f.span_filters.empty()) sql += " AND t_matching > 0";
  sql += std::string(" ORDER BY t_first") + dir + ", trace_id" + dir + " LIMIT " +
         std::to_string(limit) + " FORMAT TabSeparated";
  return sql;
}

}  // namespace

Result<TracePage> SearchTracePageSql(ClickHouseClient* client, const TracePageRequest& request,
                                     const query::ExecContext& context, size_t max_rounds) {
  TracePage page;
  if (request.start_unix_nano >= request.end_unix_nano) return page;
  const bool cluster = !client->config().cluster.empty();
  std::optional<TracePageToken> cursor = request.after;  // the last trace examined
  TracePageToken last;                                   // the last trace returned
  // Candidates per round: a page and one more; when the summaries decide (root fault,
  // annotations, the refinement) at least kFetchChunk, since many may be rejected.
  const bool decided_here = request.refine || request.filter.root_fault ||
                            !request.filter.annotations.empty() ||
                            !request.filter.annotation_needs.empty();
  size_t batch = request.limit == 0
                     ? kMaxBatch
                     : std::min(kMaxBatch, std::max(request.limit + 1,
                                                    decided_here ? kFetchChunk : size_t{0}));
  for (size_t round = 0;; ++round) {
    if (context.cancel && context.cancel->cancelled())
      return Status(StatusCode::kCancelled, "trace search: cancelled (its client went away)");
    if (request.limit != 0 && round == max_rounds) {
      // Bounded: the caller resumes after the last trace examined.
      page.next = cursor;
      return page;
    }
    ARIADNE_ASSIGN_OR_RETURN(std::string text,
                             client->Query(CandidateSql(request, cursor, batch, cluster)));
    std::vector<Candidate> candidates;
    for (const auto& row : ParseTsv(text)) {
      if (row.size() < 4) continue;
      auto id = model::TraceId::FromHex(row[1]);
      if (!id) return Status::DataLoss("ClickHouse sent a trace id that is not hex: " + row[1]);
      candidates.push_back(Candidate{TraceKey(row[0], *id),
                                     std::strtoull(row[2].c_str(), nullptr, 10),
                                     std::strtoull(row[3].c_str(), nullptr, 10)});
    }
    // The candidates' spans, a chunk at a time (the page may fill long before the last).
    for (size_t begin = 0; begin < candidates.size(); begin += kFetchChunk) {
      const size_t end = std::min(candidates.size(), begin + kFetchChunk);
      std::vector<TraceKey> keys;
      std::pair<uint64_t, uint64_t> range(UINT64_MAX, 0);
      for (size_t i = begin; i < end; ++i) {
        keys.push_back(candidates[i].key);
        range.first = std::min(range.first, candidates[i].first);
        range.second = std::max(range.second, candidates[i].last);
      }
      ARIADNE_ASSIGN_OR_RETURN(auto traces, GetTracesSql(client, keys, range));
      for (size_t i = begin; i < end; ++i) {
        const Candidate& c = candidates[i];
        cursor = TracePageToken{c.first, c.key.second};
        ++page.examined;
        auto it = traces.find(c.key);
        if (it == traces.end()) continue;  // dropped by retention meanwhile
        TraceSummary summary = SummarizeTrace(it->second);
        if (!PassesTraceFilter(request.filter, summary)) continue;
        const TraceVerdict verdict = request.refine ? request.refine(summary) : TraceVerdict::kYes;
        if (verdict == TraceVerdict::kNo) continue;
        if (request.limit != 0 && page.traces.size() == request.limit) {
          page.next = last;
          return page;
        }
        // The spans go with the entry: the caller would otherwise read them again.
        page.traces.push_back(
            TracePageEntry{std::move(summary), verdict == TraceVerdict::kYes,
                           std::make_shared<const TraceResult>(std::move(it->second))});
        last = *cursor;
      }
      if (context.cancel && context.cancel->cancelled())
        return Status(StatusCode::kCancelled, "trace search: cancelled (its client went away)");
    }
    if (candidates.size() < batch) return page;  // the window ends
    batch = std::min(kMaxBatch, batch * 2);
  }
}

}  // namespace ariadne::store::clickhouse
