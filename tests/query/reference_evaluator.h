// A deliberately naive, row-at-a-time evaluator of QuerySpecs over materialized spans: the oracle
// that the vectorized executor is checked against. It shares nothing with src/query/exec but the
// spec and result types.
#pragma once

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "model/span_batch.h"
#include "query/query_spec.h"

namespace ariadne::testing {

// A span as a flat map of column name → value, plus what the calculations need.
struct ReferenceRow {
  std::map<std::string, query::ResultValue> columns;
  uint64_t start = 0;
  double weight = 1;
};

inline query::ResultValue ToRef(const model::Value& v) {
  switch (v.type) {
    case model::ValueType::kBool:
      return v.bool_value;
    case model::ValueType::kInt:
      return v.int_value;
    case model::ValueType::kDouble:
      return v.double_value;
    case model::ValueType::kEmpty:
      return std::monostate{};
    default:
      return std::string(v.str);
  }
}

inline std::vector<ReferenceRow> ReferenceRows(const model::SpanBatch& b) {
  std::vector<ReferenceRow> rows;
  for (const model::Span& s : b.spans) {
    ReferenceRow row;
    row.start = s.start_time_unix_nano;
    auto& c = row.columns;
    for (uint32_t i = b.resources[s.resource_index].attributes.begin;
         i < b.resources[s.resource_index].attributes.end(); ++i)
      c[std::string(b.attributes[i].key)] = ToRef(b.attributes[i].value);
    for (uint32_t i = s.attributes.begin; i < s.attributes.end(); ++i)
      c[std::string(b.attributes[i].key)] = ToRef(b.attributes[i].value);
    c["name"] = std::string(s.name);
    c["duration_ms"] = static_cast<double>(s.duration_nano()) / 1e6;
    c["status_code"] = static_cast<int64_t>(s.status_code);
    c["error"] = s.status_code == model::StatusCode::kError;
    c["span.kind"] = std::string(model::SpanKindName(s.kind));
    c["trace.trace_id"] = s.trace_id.ToHex();
    c["trace.span_id"] = s.span_id.ToHex();
    if (!s.parent_span_id.IsZero()) c["trace.parent_id"] = s.parent_span_id.ToHex();
    if (!s.status_message.empty()) c["status_message"] = std::string(s.status_message);
    auto rate = c.find("SampleRate");
    if (rate != c.end()) {
      if (auto* i = std::get_if<int64_t>(&rate->second))
        row.weight = *i >= 1 ? static_cast<double>(*i) : 1;
    }
    for (auto it = c.begin(); it != c.end();) {
      if (it->second.index() == 0)
        it = c.erase(it);
      else
        ++it;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// Null-safe comparison following docs/query.md.
inline std::optional<int> RefCompare(const query::ResultValue& v, const query::Literal& lit) {
  auto sign = [](double d) { return d < 0 ? -1 : (d > 0 ? 1 : 0); };
  if (auto* b = std::get_if<bool>(&v)) {
    if (auto* lb = std::get_if<bool>(&lit)) return static_cast<int>(*b) - static_cast<int>(*lb);
    if (auto* ls = std::get_if<std::string>(&lit)) {
      if (*ls == "true") return static_cast<int>(*b) - 1;
      if (*ls == "false") return static_cast<int>(*b);
    }
    return std::nullopt;
  }
  std::optional<double> x;
  if (auto* i = std::get_if<int64_t>(&v)) x = static_cast<double>(*i);
  if (auto* d = std::get_if<double>(&v)) x = *d;
  if (x) {
    if (auto* li = std::get_if<int64_t>(&lit)) return sign(*x - static_cast<double>(*li));
    if (auto* ld = std::get_if<double>(&lit)) return sign(*x - *ld);
    if (auto* ls = std::get_if<std::string>(&lit)) {
      char* end = nullptr;
      double parsed = std::strtod(ls->c_str(), &end);
      if (!ls->empty() && end == ls->c_str() + ls->size()) return sign(*x - parsed);
    }
    return std::nullopt;
  }
  if (auto* s = std::get_if<std::string>(&v)) {
    if (auto* ls = std::get_if<std::string>(&lit))
      return s->compare(*ls) < 0 ? -1 : (*s == *ls ? 0 : 1);
    char* end = nullptr;
    double parsed = std::strtod(s->c_str(), &end);
    if (s->empty() || end != s->c_str() + s->size()) return std::nullopt;
    if (auto* li = std::get_if<int64_t>(&lit)) return sign(parsed - static_cast<double>(*li));
    if (auto* ld = std::get_if<double>(&lit)) return sign(parsed - *ld);
  }
  return std::nullopt;
}

inline bool RefMatch(const ReferenceRow& row, const query::Filter& f) {
  auto it = row.columns.find(f.column);
  const bool present = it != row.columns.end();
  using Op = query::FilterOp;
  if (f.op == Op::kExists) return present;
  if (f.op == Op::kDoesNotExist) return !present;
  if (!present) return false;
  const query::ResultValue& v = it->second;
  auto eq = [&](const query::Literal& lit) {
    auto c = RefCompare(v, lit);
    return c && *c == 0;
  };
  switch (f.op) {
    case Op::kEq:
      return eq(f.values[0]);
    case Op::kNe:
      return !eq(f.values[0]);
    case Op::kGt: {
      auto c = RefCompare(v, f.values[0]);
      return c && *c > 0;
    }
    case Op::kGe: {
      auto c = RefCompare(v, f.values[0]);
      return c && *c >= 0;
    }
    case Op::kLt: {
      auto c = RefCompare(v, f.values[0]);
      return c && *c < 0;
    }
    case Op::kLe: {
      auto c = RefCompare(v, f.values[0]);
      return c && *c <= 0;
    }
    case Op::kIn:
      return std::any_of(f.values.begin(), f.values.end(), eq);
    case Op::kNotIn:
      return std::none_of(f.values.begin(), f.values.end(), eq);
    default:
      break;
  }
  const std::string& needle = std::get<std::string>(f.values[0]);
  const std::string* s = std::get_if<std::string>(&v);
  bool starts = s && s->rfind(needle, 0) == 0;
  bool ends = s && s->size() >= needle.size() &&
              s->compare(s->size() - needle.size(), needle.size(), needle) == 0;
  bool contains = s && s->find(needle) != std::string::npos;
  switch (f.op) {
    case Op::kStartsWith:
      return starts;
    case Op::kDoesNotStartWith:
      return !starts;
    case Op::kEndsWith:
      return ends;
    case Op::kDoesNotEndWith:
      return !ends;
    case Op::kContains:
      return contains;
    default:
      return !contains;
  }
}

// Result rows keyed by rendered breakdown values → one value per calculation (as double; null =
// NaN). Supports COUNT, SUM, AVG, MIN, MAX, COUNT_DISTINCT and percentiles.
using ReferenceResult = std::map<std::string, std::vector<double>>;

inline std::string RenderKey(const std::vector<query::ResultValue>& key) {
  std::string out;
  for (const auto& v : key) {
    switch (v.index()) {
      case 0:
        out += "null|";
        break;
      case 1:
        out += "s:" + std::get<std::string>(v) + "|";
        break;
      case 2:
        out += "n:" + std::to_string(static_cast<double>(std::get<int64_t>(v))) + "|";
        break;
      case 3:
        out += "n:" + std::to_string(std::get<double>(v)) + "|";
        break;
      case 4:
        out += std::string("b:") + (std::get<bool>(v) ? "1" : "0") + "|";
        break;
    }
  }
  return out;
}

inline ReferenceResult RunReference(const query::QuerySpec& spec,
                                    const std::vector<ReferenceRow>& rows) {
  std::map<std::string, std::vector<const ReferenceRow*>> groups;
  for (const ReferenceRow& row : rows) {
    if (row.start < spec.start_unix_nano || row.start >= spec.end_unix_nano) continue;
    bool pass = !spec.filter_or;
    for (const query::Filter& f : spec.filters) {
      bool m = RefMatch(row, f);
      pass = spec.filter_or ? (pass || m) : (pass && m);
    }
    if (spec.filters.empty()) pass = true;
    if (!pass) continue;
    std::vector<query::ResultValue> key;
    for (const std::string& b : spec.breakdowns) {
      auto it = row.columns.find(b);
      key.push_back(it == row.columns.end() ? query::ResultValue{} : it->second);
    }
    groups[RenderKey(key)].push_back(&row);
  }
  ReferenceResult out;
  for (const auto& [key, members] : groups) {
    std::vector<double> values;
    for (const query::Calculation& calc : spec.calculations) {
      std::vector<std::pair<double, double>> nums;  // value, weight
      std::set<std::string> distinct;
      double count = 0;
      for (const ReferenceRow* row : members) {
        count += row->weight;
        auto it = row->columns.find(calc.column);
        if (it == row->columns.end()) continue;
        distinct.insert(RenderKey({it->second}));
        if (auto* i = std::get_if<int64_t>(&it->second))
          nums.emplace_back(static_cast<double>(*i), row->weight);
        if (auto* d = std::get_if<double>(&it->second)) nums.emplace_back(*d, row->weight);
      }
      double v = NAN;
      switch (calc.op) {
        case query::CalcOp::kCount:
          v = count;
          break;
        case query::CalcOp::kCountDistinct:
          v = static_cast<double>(distinct.size());
          break;
        case query::CalcOp::kSum:
          if (!nums.empty()) {
            v = 0;
            for (auto& [x, w] : nums) v += x * w;
          }
          break;
        case query::CalcOp::kAvg:
          if (!nums.empty()) {
            double s = 0, ws = 0;
            for (auto& [x, w] : nums) {
              s += x * w;
              ws += w;
            }
            v = s / ws;
          }
          break;
        case query::CalcOp::kMin:
          for (auto& [x, w] : nums) v = std::isnan(v) ? x : std::min(v, x);
          break;
        case query::CalcOp::kMax:
          for (auto& [x, w] : nums) v = std::isnan(v) ? x : std::max(v, x);
          break;
        case query::CalcOp::kPercentile: {
          if (nums.empty()) break;
          std::sort(nums.begin(), nums.end());
          double total = 0;
          for (auto& n : nums) total += n.second;
          double cum = 0;
          for (auto& [x, w] : nums) {
            cum += w;
            if (cum >= calc.percentile * total - 1e-9 * total) {
              v = x;
              break;
            }
          }
          if (std::isnan(v)) v = nums.back().first;
          break;
        }
        default:
          break;
      }
      values.push_back(v);
    }
    out[key] = values;
  }
  return out;
}

inline ReferenceResult FromEngine(const query::QuerySpec& spec, const query::QueryResult& result) {
  ReferenceResult out;
  for (const query::ResultRow& row : result.rows) {
    std::vector<double> values;
    for (const auto& v : row.values) {
      if (auto* i = std::get_if<int64_t>(&v))
        values.push_back(static_cast<double>(*i));
      else if (auto* d = std::get_if<double>(&v))
        values.push_back(*d);
      else
        values.push_back(NAN);
    }
    out[RenderKey(row.breakdowns)] = values;
  }
  return out;
}

}  // namespace ariadne::testing
