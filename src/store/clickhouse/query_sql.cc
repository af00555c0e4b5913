#include "store/clickhouse/query_sql.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <unordered_map>

#include "store/clickhouse/result_rows.h"
#include "store/clickhouse/row_codec.h"
#include "store/clickhouse/sql_expr.h"

namespace ariadne::store::clickhouse {
namespace {

using query::CalcOp;
using query::Calculation;
using query::QueryResult;
using query::QuerySpec;
using query::ResultRow;
using query::ResultValue;

// A number as a plain literal (aggregate function parameters must be plain literals).
std::string Plain(double d) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.17g", d);
  return buf;
}

// The SELECT expressions of one calculation.
std::vector<std::string> CalcColumns(const Calculation& calc, bool exact, const HeatRange& heat) {
  if (calc.op == CalcOp::kCount) return {"sum(weight)"};
  const ColumnSql c = ColumnExpr(calc.column);
  const std::string isnum = c.IsNumber();
  const std::string x = c.num;
  const std::string n = "countIf(" + isnum + ")";
  switch (calc.op) {
    case CalcOp::kSum:
    case CalcOp::kRateSum:
      return {"sumIf(weight * " + x + ", " + isnum + ")", n};
    case CalcOp::kAvg:
    case CalcOp::kRateAvg:
      return {"sumIf(weight * " + x + ", " + isnum + ")", "sumIf(weight, " + isnum + ")", n};
    case CalcOp::kMin:
      return {"minIf(" + x + ", " + isnum + ")", n};
    case CalcOp::kMax:
    case CalcOp::kRateMax:
      return {"maxIf(" + x + ", " + isnum + ")", n};
    case CalcOp::kCountDistinct:
      return {"uniqExactIf(" + c.type + ", " + c.str + ", " + x + ", " + c.IsPresent() + ")"};
    case CalcOp::kPercentile: {
      const std::string p = Plain(calc.percentile);
      if (!exact) return {"quantileIf(" + p + ")(" + x + ", " + isnum + ")", n};
      // Nearest rank as the embedded executor (sample_stats.cc); weighted: the first value whose
      // cumulative weight reaches p × total.
      const std::string rank =
          "toUInt64(greatest(1, ceil(" + p + " * " + n + " - 1e-9 * " + n + ")))";
      return {"if(maxIf(weight, " + isnum + ") <= 1, arrayElement(arraySort(groupArrayIf(" + x +
                  ", " + isnum + ")), " + rank + "), quantileExactWeightedIf(" + p + ")(" + x +
                  ", toUInt64(weight), " + isnum + "))",
              n};
    }
    case CalcOp::kHeatmap: {
      const double width = heat.hi > heat.lo ? (heat.hi - heat.lo) / query::kHeatmapBuckets : 1;
      const std::string bucket = heat.hi > heat.lo
                                     ? "least(" + std::to_string(query::kHeatmapBuckets - 1) +
                                           ", toUInt16(floor((" + x + " - " + SqlDouble(heat.lo) +
                                           ") / " + SqlDouble(width) + ")))"
                                     : "toUInt16(0)";
      return {"sumMapIf([" + bucket + "], [weight], " + isnum + ")"};
    }
    default:
      return {};
  }
}

Status CheckCancelled(const query::ExecContext& context) {
  if (context.cancel && context.cancel->cancelled())
    return Status(StatusCode::kCancelled, "the query was cancelled");
  return Status::Ok();
}

// A statement's rows, each a list of unescaped fields.
Result<std::vector<std::vector<std::string>>> Rows(ClickHouseClient* client,
                                                   const std::string& sql) {
  ARIADNE_ASSIGN_OR_RETURN(std::string text, client->Query(sql + " FORMAT TabSeparated"));
  return ParseTsv(text);
}

}  // namespace

std::string WhereClause(const QuerySpec& spec) {
  std::string where = "start_ns >= " + std::to_string(spec.start_unix_nano) + " AND start_ns < " +
                      std::to_string(spec.end_unix_nano);
  if (!spec.environment.empty()) where += " AND environment = " + SqlString(spec.environment);
  if (!spec.dataset.empty() && spec.dataset != "__all__")
    where += " AND service = " + SqlString(spec.dataset);
  if (!spec.filters.empty()) {
    std::string joined;
    for (const query::Filter& f : spec.filters)
      joined += (joined.empty() ? "" : (spec.filter_or ? " OR " : " AND ")) + FilterExpr(f);
    where += " AND (" + joined + ")";
  }
  return where;
}

Result<QueryResult> RunQuerySql(ClickHouseClient* client, const QuerySpec& spec,
                                const query::ExecContext& context,
                                const std::vector<model::TraceId>* trace_ids) {
  for (const Calculation& calc : spec.calculations) {
    if (calc.op == CalcOp::kConcurrency)
      return Status::Unimplemented(calc.op_name +
                                   " is not available on the ClickHouse store yet; use COUNT, "
                                   "SUM, AVG, MIN, MAX, COUNT_DISTINCT, P.., HEATMAP or RATE_*");
  }
  std::string where = WhereClause(spec);
  if (trace_ids != nullptr) {
    std::string ids;
    for (const model::TraceId& id : *trace_ids)
      ids += (ids.empty() ? "" : ", ") + SqlId(id.AsStringView());
    where += ids.empty() ? " AND 0" : " AND trace_id IN (" + ids + ")";
  }
  const size_t ncalc = spec.calculations.size();
  const size_t nb = spec.bucket_count();
  const uint64_t granularity = spec.granularity_seconds
                                   ? spec.granularity_seconds * 1'000'000'000ULL
                                   : spec.end_unix_nano - spec.start_unix_nano;

  // 1. HEATMAP value ranges over every matching span.
  std::vector<HeatRange> heat(ncalc);
  {
    std::string select;
    for (size_t c = 0; c < ncalc; ++c) {
      if (spec.calculations[c].op != CalcOp::kHeatmap) continue;
      const ColumnSql col = ColumnExpr(spec.calculations[c].column);
      select += (select.empty() ? "" : ", ") +
                ("minIf(" + col.num + ", " + col.IsNumber() + "), maxIf(" + col.num + ", " +
                 col.IsNumber() + "), countIf(" + col.IsNumber() + ")");
    }
    if (!select.empty()) {
      ARIADNE_ASSIGN_OR_RETURN(auto rows,
                               Rows(client, "SELECT " + select + " FROM spans WHERE " + where));
      if (rows.empty()) return Status::Internal("ClickHouse returned no row for the value range");
      size_t i = 0;
      for (size_t c = 0; c < ncalc; ++c) {
        if (spec.calculations[c].op != CalcOp::kHeatmap) continue;
        if (ToDouble(rows[0][i + 2]) > 0)
          heat[c] = {ToDouble(rows[0][i]), ToDouble(rows[0][i + 1])};
        i += 3;
      }
    }
  }
  std::string calc_select;
  std::vector<size_t> calc_offset(ncalc);  // of each calculation's first field after the stats
  size_t calc_fields = 0;
  for (size_t c = 0; c < ncalc; ++c) {
    calc_offset[c] = calc_fields;
    for (const std::string& e : CalcColumns(spec.calculations[c], spec.exact, heat[c])) {
      calc_select += ", " + e;
      calc_fields++;
    }
  }
  auto read_row = [&](const std::vector<std::string>& fields, size_t pos) {
    ResultRow row;
    for (size_t c = 0; c < ncalc; ++c) ReadCalc(spec.calculations[c], fields, &pos, heat[c], &row);
    return row;
  };

  // 2. The groups and the time series, with ClickHouse's WITH TOTALS giving the totals row in the
  // same statement: one statement without breakdowns, two with breakdowns and several buckets.
  // Every row: breakdown values as (type, text, number) triples, [bucket], count(), max(weight),
  // then the calculations.
  std::string keys, key_select;
  for (size_t b = 0; b < spec.breakdowns.size(); ++b) {
    const ColumnSql col = ColumnExpr(spec.breakdowns[b]);
    const std::string n = std::to_string(b);
    key_select += col.type + " AS _b" + n + "t, if(_b" + n + "t IN (1, 5, 6, 7), " + col.str +
                  ", '') AS _b" + n + "s, if(_b" + n + "t IN (2, 3, 4), " + col.num +
                  ", 0.) AS _b" + n + "n, ";
    keys += std::string(b ? ", " : "") + "_b" + n + "t, _b" + n + "s, _b" + n + "n";
  }
  const size_t key_fields = 3 * spec.breakdowns.size();
  auto key_of = [&](const std::vector<std::string>& fields) {
    std::string key;
    for (size_t i = 0; i < key_fields; ++i) key.append(fields[i]).push_back('\x01');
    return key;
  };
  auto breakdown_values = [&](const std::vector<std::string>& fields) {
    std::vector<ResultValue> values;
    for (size_t b = 0; b < spec.breakdowns.size(); ++b)
      values.push_back(BreakdownValue(fields[3 * b], fields[3 * b + 1], fields[3 * b + 2]));
    return values;
  };
  // TabSeparated puts the WITH TOTALS row after an empty line.
  auto split_totals = [](std::vector<std::vector<std::string>>* rows) {
    std::vector<std::string> totals;
    for (size_t i = 0; i < rows->size(); ++i) {
      if ((*rows)[i].size() != 1 || !(*rows)[i][0].empty()) continue;
      if (i + 1 < rows->size()) totals = (*rows)[i + 1];
      rows->resize(i);
      break;
    }
    return totals;
  };
  const std::string stats = "count(), max(weight)" + calc_select;
  const std::string bucket = "least(" + std::to_string(nb - 1) + ", intDiv(start_ns - " +
                             std::to_string(spec.start_unix_nano) + ", " +
                             std::to_string(granularity) + ")) AS _bucket";
  const size_t max_groups = context.limits.max_groups;
  std::vector<std::vector<std::string>> groups, points;
  std::vector<std::string> totals;
  size_t totals_at = 0;  // where count() is in `totals`
  if (spec.breakdowns.empty() && nb == 1) {
    ARIADNE_ASSIGN_OR_RETURN(groups,
                             Rows(client, "SELECT " + stats + " FROM spans WHERE " + where));
    if (!groups.empty()) totals = groups[0];
    groups.clear();
  } else if (!spec.breakdowns.empty()) {
    ARIADNE_RETURN_IF_ERROR(CheckCancelled(context));
    std::string sql = "SELECT " + key_select + stats + " FROM spans WHERE " + where + " GROUP BY " +
                      keys + " WITH TOTALS";
    if (max_groups) sql += " LIMIT " + std::to_string(max_groups + 1);
    ARIADNE_ASSIGN_OR_RETURN(groups, Rows(client, sql));
    totals = split_totals(&groups);
    totals_at = key_fields;
    if (max_groups && groups.size() > max_groups)
      return Status::ResourceExhausted(
          "the query makes more than " + std::to_string(max_groups) +
          " groups (--query-max-groups); add a filter or break down by fewer columns");
  }
  if (nb > 1) {
    ARIADNE_RETURN_IF_ERROR(CheckCancelled(context));
    ARIADNE_ASSIGN_OR_RETURN(
        points, Rows(client, "SELECT " + key_select + bucket + ", " + stats + " FROM spans WHERE " +
                                 where + " GROUP BY " + keys + (keys.empty() ? "" : ", ") +
                                 "_bucket" + (keys.empty() ? " WITH TOTALS" : "")));
    if (keys.empty()) {
      totals = split_totals(&points);
      totals_at = 1;
    }
  }
  if (totals.size() < totals_at + 2)
    return Status::Internal("ClickHouse returned no totals row for the query");
  QueryResult result;
  const uint64_t matched = std::strtoull(totals[totals_at].c_str(), nullptr, 10);
  result.spans_matched = result.spans_scanned = matched;
  result.sample_rate_weighted = matched > 0 && ToDouble(totals[totals_at + 1]) > 1;
  result.totals = read_row(totals, totals_at + 2);

  std::vector<ResultRow> rows;
  std::vector<std::string> row_keys;
  if (spec.breakdowns.empty()) {
    if (matched > 0) {
      rows.push_back(result.totals);
      row_keys.emplace_back();
    }
  } else {
    for (const auto& g : groups) {
      ResultRow row = read_row(g, key_fields + 2);
      row.breakdowns = breakdown_values(g);
      rows.push_back(std::move(row));
      row_keys.push_back(key_of(g));
    }
  }

  // RATE_* from the per-bucket rows (every group's, before the limit).
  std::unordered_map<std::string, std::vector<std::vector<BucketValue>>> rate_buckets;
  const double seconds = static_cast<double>(granularity) / 1e9;
  bool any_rate = false;
  for (const Calculation& calc : spec.calculations) any_rate |= IsRate(calc.op);
  if (any_rate && nb > 1) {
    std::vector<std::vector<BucketValue>> all(ncalc, std::vector<BucketValue>(nb));
    for (const auto& p : points) {
      const size_t b = std::min<size_t>(nb - 1, std::strtoull(p[key_fields].c_str(), nullptr, 10));
      auto& mine = rate_buckets[key_of(p)];
      if (mine.empty()) mine.assign(ncalc, std::vector<BucketValue>(nb));
      for (size_t c = 0; c < ncalc; ++c) {
        const CalcOp op = spec.calculations[c].op;
        if (!IsRate(op)) continue;
        mine[c][b] = BucketValue::Read(op, p, key_fields + 3 + calc_offset[c]);
        all[c][b].Merge(mine[c][b]);
      }
    }
    for (size_t c = 0; c < ncalc; ++c) {
      const CalcOp op = spec.calculations[c].op;
      if (!IsRate(op)) continue;
      result.totals.values[c] = RateValue(op, all[c], seconds, std::nullopt);
      for (size_t r = 0; r < rows.size(); ++r) {
        auto it = rate_buckets.find(row_keys[r]);
        if (it != rate_buckets.end())
          rows[r].values[c] = RateValue(op, it->second[c], seconds, std::nullopt);
      }
    }
  }

  // Having, order, limit (as finish.cc).
  const std::vector<size_t> kept = HavingOrderLimit(spec, rows);
  for (size_t r : kept) result.rows.push_back(rows[r]);

  // 4. Series of the groups that made it.
  result.series.resize(nb);
  for (size_t b = 0; b < nb; ++b)
    result.series[b].time_unix_nano = spec.start_unix_nano + b * granularity;
  if (nb == 1) {
    result.series[0].rows = result.rows;
    return result;
  }
  std::unordered_map<std::string, size_t> position;  // group key → index in result.rows
  for (size_t i = 0; i < kept.size(); ++i) position[row_keys[kept[i]]] = i;
  // Per bucket, rows in the order of the result's rows.
  std::vector<std::vector<std::pair<size_t, ResultRow>>> per_bucket(nb);
  for (const auto& p : points) {
    auto it = position.find(key_of(p));
    if (it == position.end()) continue;
    const size_t b = std::min<size_t>(nb - 1, std::strtoull(p[key_fields].c_str(), nullptr, 10));
    ResultRow row = read_row(p, key_fields + 3);
    row.breakdowns = breakdown_values(p);
    for (size_t c = 0; c < ncalc; ++c)
      if (IsRate(spec.calculations[c].op))
        row.values[c] = RateValue(spec.calculations[c].op, rate_buckets[key_of(p)][c], seconds, b);
    per_bucket[b].emplace_back(it->second, std::move(row));
  }
  for (size_t b = 0; b < nb; ++b) {
    std::sort(per_bucket[b].begin(), per_bucket[b].end(),
              [](const auto& x, const auto& y) { return x.first < y.first; });
    for (auto& [index, row] : per_bucket[b]) result.series[b].rows.push_back(std::move(row));
  }
  return result;
}

}  // namespace ariadne::store::clickhouse
