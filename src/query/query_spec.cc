#include "query/query_spec.h"

#include "common/json_depth.h"
#include "common/json_dump.h"
#include "common/time_units.h"
#include "query/xray_filter/filter.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <map>

namespace ariadne::query {
namespace {

using nlohmann::json;

struct PercentileName {
  const char* name;
  double fraction;
};
constexpr PercentileName kPercentiles[] = {
    {"P001", 0.001}, {"P01", 0.01}, {"P05", 0.05},   {"P10", 0.10}, {"P20", 0.20},
    {"P25", 0.25},   {"P50", 0.50}, {"P75", 0.75},   {"P80", 0.80}, {"P90", 0.90},
    {"P95", 0.95},   {"P99", 0.99}, {"P999", 0.999},
};

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

Status Invalid(const std::string& field, const std::string& problem) {
  return Status::InvalidArgument(field + ": " + problem);
}

// Parses an op name into a calculation (without its column).
Result<Calculation> ParseCalcOp(const std::string& raw, const std::string& field) {
  Calculation calc;
  calc.op_name = Upper(raw);
  static const std::map<std::string, CalcOp> kOps = {
      {"COUNT", CalcOp::kCount},
      {"CONCURRENCY", CalcOp::kConcurrency},
      {"SUM", CalcOp::kSum},
      {"AVG", CalcOp::kAvg},
      {"MIN", CalcOp::kMin},
      {"MAX", CalcOp::kMax},
      {"COUNT_DISTINCT", CalcOp::kCountDistinct},
      {"HEATMAP", CalcOp::kHeatmap},
      {"RATE_AVG", CalcOp::kRateAvg},
      {"RATE_SUM", CalcOp::kRateSum},
      {"RATE_MAX", CalcOp::kRateMax},
  };
  auto it = kOps.find(calc.op_name);
  if (it != kOps.end()) {
    calc.op = it->second;
    return calc;
  }
  for (const PercentileName& p : kPercentiles) {
    if (calc.op_name == p.name) {
      calc.op = CalcOp::kPercentile;
      calc.percentile = p.fraction;
      return calc;
    }
  }
  return Invalid(field, "unknown calculation '" + raw +
                            "'; use COUNT, CONCURRENCY, SUM, AVG, MIN, MAX, COUNT_DISTINCT, "
                            "P001…P999, HEATMAP, RATE_AVG, RATE_SUM or RATE_MAX");
}

bool NeedsColumn(CalcOp op) { return op != CalcOp::kCount && op != CalcOp::kConcurrency; }

Result<Literal> ParseLiteral(const json& v, const std::string& field) {
  if (v.is_string()) return Literal(v.get<std::string>());
  if (v.is_boolean()) return Literal(v.get<bool>());
  if (v.is_number_integer()) return Literal(v.get<int64_t>());
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return Literal(static_cast<double>(u));
    return Literal(static_cast<int64_t>(u));
  }
  if (v.is_number_float()) return Literal(v.get<double>());
  return Invalid(field, "must be a string, number or boolean");
}

Result<FilterOp> ParseFilterOp(const std::string& op, const std::string& field) {
  static const std::map<std::string, FilterOp> kOps = {
      {"=", FilterOp::kEq},
      {"!=", FilterOp::kNe},
      {">", FilterOp::kGt},
      {">=", FilterOp::kGe},
      {"<", FilterOp::kLt},
      {"<=", FilterOp::kLe},
      {"starts-with", FilterOp::kStartsWith},
      {"does-not-start-with", FilterOp::kDoesNotStartWith},
      {"ends-with", FilterOp::kEndsWith},
      {"does-not-end-with", FilterOp::kDoesNotEndWith},
      {"contains", FilterOp::kContains},
      {"does-not-contain", FilterOp::kDoesNotContain},
      {"exists", FilterOp::kExists},
      {"does-not-exist", FilterOp::kDoesNotExist},
      {"in", FilterOp::kIn},
      {"not-in", FilterOp::kNotIn},
  };
  auto it = kOps.find(op);
  if (it == kOps.end())
    return Invalid(field, "unknown filter op '" + op +
                              "'; use =, !=, >, >=, <, <=, starts-with, does-not-start-with, "
                              "ends-with, does-not-end-with, contains, does-not-contain, exists, "
                              "does-not-exist, in or not-in");
  return it->second;
}

Result<CompareOp> ParseCompareOp(const std::string& op, const std::string& field) {
  static const std::map<std::string, CompareOp> kOps = {
      {"=", CompareOp::kEq},  {"!=", CompareOp::kNe}, {">", CompareOp::kGt},
      {">=", CompareOp::kGe}, {"<", CompareOp::kLt},  {"<=", CompareOp::kLe},
  };
  auto it = kOps.find(op);
  if (it == kOps.end())
    return Invalid(field, "unknown comparison '" + op + "'; use = != > >= < <=");
  return it->second;
}

// Seconds (a time or a duration) from 0 to kMaxUnixSeconds, the most whose nanoseconds fit in the
// store's 64-bit times.
Result<uint64_t> ParseSeconds(const json& v, const std::string& field) {
  std::optional<uint64_t> seconds;
  if (v.is_number_unsigned()) {
    seconds = v.get<uint64_t>();
  } else if (v.is_number_integer()) {
    if (v.get<int64_t>() >= 0) seconds = static_cast<uint64_t>(v.get<int64_t>());
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    if (d >= 0 && d <= static_cast<double>(kMaxUnixSeconds)) seconds = static_cast<uint64_t>(d);
  } else {
    return Invalid(field, "must be a number of seconds " + TimeRangeHint());
  }
  if (!seconds || *seconds > kMaxUnixSeconds) return Invalid(field, "must be " + TimeRangeHint());
  return *seconds;
}

std::string Rfc3339(uint64_t unix_nano) {
  std::time_t seconds = static_cast<std::time_t>(unix_nano / kNanosPerSecond);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json ValueToJson(const ResultValue& v) {
  switch (v.index()) {
    case 1:
      return std::get<std::string>(v);
    case 2:
      return std::get<int64_t>(v);
    case 3: {
      double d = std::get<double>(v);
      if (!std::isfinite(d)) return nullptr;
      return d;
    }
    case 4:
      return std::get<bool>(v);
    default:
      return nullptr;
  }
}

json RowToJson(const QuerySpec& spec, const ResultRow& row) {
  json data = json::object();
  for (size_t i = 0; i < spec.breakdowns.size() && i < row.breakdowns.size(); ++i)
    data[spec.breakdowns[i]] = ValueToJson(row.breakdowns[i]);
  size_t heatmap = 0;
  for (size_t i = 0; i < spec.calculations.size() && i < row.values.size(); ++i) {
    const Calculation& calc = spec.calculations[i];
    if (calc.op == CalcOp::kHeatmap) {
      json buckets = json::array();
      if (heatmap < row.heatmaps.size()) {
        for (const HeatmapBucket& b : row.heatmaps[heatmap])
          buckets.push_back({{"lower", b.lower}, {"upper", b.upper}, {"count", b.count}});
      }
      ++heatmap;
      data[calc.label] = {{"buckets", buckets}};
    } else {
      data[calc.label] = ValueToJson(row.values[i]);
    }
  }
  return data;
}

}  // namespace

std::string CalculationLabel(const Calculation& calc) {
  if (!NeedsColumn(calc.op)) return calc.op_name;
  return calc.op_name + "(" + calc.column + ")";
}

Result<QuerySpec> ParseQuerySpec(std::string_view text, uint64_t now_unix_nano) {
  if (JsonNestingDepth(text) > kMaxRequestJsonNesting) {
    return Status::InvalidArgument("query: the body nests arrays/objects deeper than " +
                                   std::to_string(kMaxRequestJsonNesting) +
                                   " levels; a query spec needs only a few");
  }
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Status::InvalidArgument("query: the body is not valid JSON");
  if (!doc.is_object()) return Status::InvalidArgument("query: the body must be a JSON object");

  static const char* kKnown[] = {"time_range",
                                 "start_time",
                                 "end_time",
                                 "granularity",
                                 "calculations",
                                 "filters",
                                 "filter_combination",
                                 "breakdowns",
                                 "orders",
                                 "havings",
                                 "limit",
                                 "environment",
                                 "dataset",
                                 "xray_filter",
                                 "calculated_fields",
                                 "formulas",
                                 "exact"};
  for (const auto& item : doc.items()) {
    const std::string& key = item.key();  // (clang 14 cannot capture a structured binding)
    if (std::find_if(std::begin(kKnown), std::end(kKnown),
                     [&key = key](const char* k) { return key == k; }) == std::end(kKnown))
      return Invalid(key, "unknown field");
  }
  QuerySpec spec;
  if (doc.contains("calculated_fields") || doc.contains("formulas"))
    return Status::Unimplemented("calculated_fields and formulas are not supported yet");

  // Time window (Honeycomb rules: time_range alone counts back from now; with start_time it runs
  // forward; with end_time backward; all three together are contradictory).
  const bool has_range = doc.contains("time_range"), has_start = doc.contains("start_time"),
             has_end = doc.contains("end_time");
  if (has_range && has_start && has_end)
    return Invalid("time_range", "give at most two of time_range, start_time and end_time");
  uint64_t range = kDefaultTimeRangeSeconds;
  if (has_range) {
    ARIADNE_ASSIGN_OR_RETURN(range, ParseSeconds(doc["time_range"], "time_range"));
    if (range == 0) return Invalid("time_range", "must be at least 1 second");
  }
  uint64_t start = 0, end = 0;
  if (has_start) {
    ARIADNE_ASSIGN_OR_RETURN(start, ParseSeconds(doc["start_time"], "start_time"));
  }
  if (has_end) {
    ARIADNE_ASSIGN_OR_RETURN(end, ParseSeconds(doc["end_time"], "end_time"));
  }
  if (has_start && has_end) {
    if (end <= start) return Invalid("end_time", "must be after start_time");
  } else if (has_start) {
    if (range > kMaxUnixSeconds - start)
      return Invalid("time_range", "start_time + time_range must end " + TimeRangeHint());
    end = start + range;
  } else if (has_end) {
    if (range > end) return Invalid("time_range", "reaches before 1970");
    start = end - range;
  } else {
    end = (now_unix_nano + kNanosPerSecond - 1) / kNanosPerSecond;
    start = end - std::min(range, end);
  }
  spec.start_unix_nano = start * kNanosPerSecond;
  spec.end_unix_nano = end * kNanosPerSecond;
  const uint64_t span_seconds = end - start;
  if (doc.contains("granularity")) {
    ARIADNE_ASSIGN_OR_RETURN(spec.granularity_seconds,
                             ParseSeconds(doc["granularity"], "granularity"));
    if (spec.granularity_seconds == 0) return Invalid("granularity", "must be at least 1 second");
    if (spec.granularity_seconds > span_seconds)
      return Invalid("granularity",
                     "is longer than the time range (" + std::to_string(span_seconds) + " s)");
    const uint64_t buckets =
        span_seconds / spec.granularity_seconds + (span_seconds % spec.granularity_seconds != 0);
    if (buckets > kMaxBuckets)
      return Invalid("granularity",
                     "makes " + std::to_string(buckets) + " time buckets, more than " +
                         std::to_string(kMaxBuckets) + "; use at least " +
                         std::to_string((span_seconds + kMaxBuckets - 1) / kMaxBuckets) +
                         " s or a shorter time range");
  } else {
    spec.granularity_seconds = std::max<uint64_t>(1, (span_seconds + 119) / 120);
  }

  if (doc.contains("environment")) {
    if (!doc["environment"].is_string()) return Invalid("environment", "must be a string");
    spec.environment = doc["environment"].get<std::string>();
  }
  if (doc.contains("dataset")) {
    if (!doc["dataset"].is_string()) return Invalid("dataset", "must be a string");
    spec.dataset = doc["dataset"].get<std::string>();
    if (spec.dataset == "__all__") spec.dataset.clear();
  }
  if (doc.contains("xray_filter")) {
    if (!doc["xray_filter"].is_string()) return Invalid("xray_filter", "must be a string");
    spec.xray_filter = doc["xray_filter"].get<std::string>();
    Result<xray_filter::Filter> parsed = xray_filter::Filter::Parse(spec.xray_filter);
    if (!parsed.ok()) return Invalid("xray_filter", std::string(parsed.status().message()));
  }

  if (doc.contains("exact")) {
    if (!doc["exact"].is_boolean()) return Invalid("exact", "must be true or false");
    spec.exact = doc["exact"].get<bool>();
  }

  if (doc.contains("calculations")) {
    const json& calcs = doc["calculations"];
    if (!calcs.is_array()) return Invalid("calculations", "must be an array");
    if (calcs.size() > 100) return Invalid("calculations", "at most 100 items");
    for (size_t i = 0; i < calcs.size(); ++i) {
      const std::string field = "calculations[" + std::to_string(i) + "]";
      const json& c = calcs[i];
      if (!c.is_object() || !c.contains("op") || !c["op"].is_string())
        return Invalid(field, "must be an object with an \"op\"");
      ARIADNE_ASSIGN_OR_RETURN(Calculation calc,
                               ParseCalcOp(c["op"].get<std::string>(), field + ".op"));
      if (c.contains("column") && !c["column"].is_null()) {
        if (!c["column"].is_string()) return Invalid(field + ".column", "must be a string");
        calc.column = c["column"].get<std::string>();
      }
      if (NeedsColumn(calc.op) && calc.column.empty())
        return Invalid(field + ".column", calc.op_name + " needs a column");
      if (!NeedsColumn(calc.op) && !calc.column.empty())
        return Invalid(field + ".column", calc.op_name + " takes no column");
      calc.label = CalculationLabel(calc);
      spec.calculations.push_back(std::move(calc));
    }
  }
  if (spec.calculations.empty()) {
    Calculation count;
    count.op = CalcOp::kCount;
    count.op_name = "COUNT";
    count.label = "COUNT";
    spec.calculations.push_back(count);
  }

  if (doc.contains("filters")) {
    const json& filters = doc["filters"];
    if (!filters.is_array()) return Invalid("filters", "must be an array");
    for (size_t i = 0; i < filters.size(); ++i) {
      const std::string field = "filters[" + std::to_string(i) + "]";
      const json& f = filters[i];
      if (!f.is_object() || !f.contains("column") || !f["column"].is_string() ||
          f["column"].get<std::string>().empty())
        return Invalid(field, "must be an object with a \"column\"");
      if (!f.contains("op") || !f["op"].is_string()) return Invalid(field + ".op", "is required");
      Filter filter;
      filter.column = f["column"].get<std::string>();
      ARIADNE_ASSIGN_OR_RETURN(filter.op, ParseFilterOp(f["op"].get<std::string>(), field + ".op"));
      const bool has_value = f.contains("value") && !f["value"].is_null();
      if (filter.op == FilterOp::kExists || filter.op == FilterOp::kDoesNotExist) {
        if (has_value) return Invalid(field + ".value", "exists and does-not-exist take no value");
      } else if (filter.op == FilterOp::kIn || filter.op == FilterOp::kNotIn) {
        if (!has_value || !f["value"].is_array() || f["value"].empty())
          return Invalid(field + ".value", "in and not-in need a non-empty array");
        for (size_t j = 0; j < f["value"].size(); ++j) {
          ARIADNE_ASSIGN_OR_RETURN(
              Literal lit,
              ParseLiteral(f["value"][j], field + ".value[" + std::to_string(j) + "]"));
          filter.values.push_back(std::move(lit));
        }
      } else {
        if (!has_value) return Invalid(field + ".value", "is required for this op");
        ARIADNE_ASSIGN_OR_RETURN(Literal lit, ParseLiteral(f["value"], field + ".value"));
        const bool is_text_op =
            filter.op >= FilterOp::kStartsWith && filter.op <= FilterOp::kDoesNotContain;
        if (is_text_op && !std::holds_alternative<std::string>(lit))
          return Invalid(field + ".value", "must be a string for " + f["op"].get<std::string>());
        filter.values.push_back(std::move(lit));
      }
      spec.filters.push_back(std::move(filter));
    }
  }
  if (doc.contains("filter_combination")) {
    if (!doc["filter_combination"].is_string())
      return Invalid("filter_combination", "must be \"AND\" or \"OR\"");
    std::string combination = Upper(doc["filter_combination"].get<std::string>());
    if (combination != "AND" && combination != "OR")
      return Invalid("filter_combination", "must be \"AND\" or \"OR\"");
    spec.filter_or = combination == "OR";
  }

  if (doc.contains("breakdowns")) {
    const json& b = doc["breakdowns"];
    if (!b.is_array()) return Invalid("breakdowns", "must be an array of column names");
    if (b.size() > 100) return Invalid("breakdowns", "at most 100 items");
    for (size_t i = 0; i < b.size(); ++i) {
      if (!b[i].is_string() || b[i].get<std::string>().empty())
        return Invalid("breakdowns[" + std::to_string(i) + "]", "must be a column name");
      spec.breakdowns.push_back(b[i].get<std::string>());
    }
  }

  auto find_calc = [&](const std::string& op_name,
                       const std::string& column) -> std::optional<size_t> {
    for (size_t i = 0; i < spec.calculations.size(); ++i)
      if (spec.calculations[i].op_name == op_name && spec.calculations[i].column == column)
        return i;
    return std::nullopt;
  };

  if (doc.contains("orders")) {
    const json& orders = doc["orders"];
    if (!orders.is_array()) return Invalid("orders", "must be an array");
    for (size_t i = 0; i < orders.size(); ++i) {
      const std::string field = "orders[" + std::to_string(i) + "]";
      const json& o = orders[i];
      if (!o.is_object()) return Invalid(field, "must be an object");
      Order order;
      std::string column;
      if (o.contains("column") && !o["column"].is_null()) {
        if (!o["column"].is_string()) return Invalid(field + ".column", "must be a string");
        column = o["column"].get<std::string>();
      }
      if (o.contains("op") && !o["op"].is_null()) {
        if (!o["op"].is_string()) return Invalid(field + ".op", "must be a string");
        std::string op = Upper(o["op"].get<std::string>());
        order.calculation = find_calc(op, column);
        if (!order.calculation)
          return Invalid(field, "orders must name a calculation of the query; " + op +
                                    (column.empty() ? "" : "(" + column + ")") + " is not one");
      } else {
        if (std::find(spec.breakdowns.begin(), spec.breakdowns.end(), column) ==
            spec.breakdowns.end())
          return Invalid(field + ".column", "'" + column + "' is not a breakdown of the query");
        order.column = column;
      }
      if (o.contains("order")) {
        if (!o["order"].is_string()) return Invalid(field + ".order", "must be a string");
        std::string dir = o["order"].get<std::string>();
        if (dir != "ascending" && dir != "descending")
          return Invalid(field + ".order", "must be \"ascending\" or \"descending\"");
        order.descending = dir == "descending";
      }
      if (order.calculation && spec.calculations[*order.calculation].op == CalcOp::kHeatmap)
        return Invalid(field, "cannot order by HEATMAP");
      spec.orders.push_back(std::move(order));
    }
  }

  if (doc.contains("havings")) {
    const json& havings = doc["havings"];
    if (!havings.is_array()) return Invalid("havings", "must be an array");
    for (size_t i = 0; i < havings.size(); ++i) {
      const std::string field = "havings[" + std::to_string(i) + "]";
      const json& h = havings[i];
      if (!h.is_object() || !h.contains("calculate_op") || !h["calculate_op"].is_string())
        return Invalid(field + ".calculate_op", "is required");
      std::string op = Upper(h["calculate_op"].get<std::string>());
      if (op == "HEATMAP")
        return Invalid(field + ".calculate_op", "HEATMAP cannot be used in havings");
      std::string column;
      if (h.contains("column") && h["column"].is_string()) column = h["column"].get<std::string>();
      Having having;
      auto calc = find_calc(op, column);
      if (!calc)
        return Invalid(field, "havings must name a calculation of the query; " + op +
                                  (column.empty() ? "" : "(" + column + ")") + " is not one");
      having.calculation = *calc;
      if (!h.contains("op") || !h["op"].is_string()) return Invalid(field + ".op", "is required");
      ARIADNE_ASSIGN_OR_RETURN(having.op,
                               ParseCompareOp(h["op"].get<std::string>(), field + ".op"));
      if (!h.contains("value") || !h["value"].is_number())
        return Invalid(field + ".value", "must be a number");
      having.value = h["value"].get<double>();
      spec.havings.push_back(having);
    }
  }

  if (doc.contains("limit")) {
    const json& l = doc["limit"];
    if (!l.is_number_integer() || l.get<int64_t>() < 1 ||
        l.get<int64_t>() > static_cast<int64_t>(kMaxLimit))
      return Invalid("limit", "must be an integer from 1 to " + std::to_string(kMaxLimit));
    spec.limit = static_cast<size_t>(l.get<int64_t>());
  }
  return spec;
}

std::string ResultToJson(const QuerySpec& spec, const QueryResult& result) {
  json results = json::array();
  for (const ResultRow& row : result.rows) results.push_back({{"data", RowToJson(spec, row)}});
  json series = json::array();
  for (const SeriesPoint& point : result.series)
    for (const ResultRow& row : point.rows)
      series.push_back({{"time", Rfc3339(point.time_unix_nano)}, {"data", RowToJson(spec, row)}});
  json doc = {
      {"data",
       {{"results", results}, {"series", series}, {"totals", RowToJson(spec, result.totals)}}},
      {"meta",
       {{"start_time", spec.start_unix_nano / kNanosPerSecond},
        {"end_time", spec.end_unix_nano / kNanosPerSecond},
        {"granularity", spec.granularity_seconds},
        {"blocks_scanned", result.blocks_scanned},
        {"blocks_skipped", result.blocks_skipped},
        {"spans_scanned", result.spans_scanned},
        {"spans_matched", result.spans_matched},
        {"sample_rate_weighted", result.sample_rate_weighted}}},
  };
  return DumpJson(doc);
}

}  // namespace ariadne::query
