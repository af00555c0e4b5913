#include "query/exec/block_pruning.h"

#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <type_traits>

namespace ariadne::query {
namespace {

using columnar::BlockMeta;
using columnar::ColumnStats;

// ---- single-value semantics, as the executor's (query/exec/executor.cc: Compare, Matches) ----

std::optional<double> ParseNumber(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::string tmp(s);
  char* end = nullptr;
  double d = std::strtod(tmp.c_str(), &end);
  if (end != tmp.c_str() + tmp.size()) return std::nullopt;
  return d;
}

// The literal as a number, when it is one or text spelling one.
std::optional<double> LiteralNumber(const Literal& lit) {
  if (auto* i = std::get_if<int64_t>(&lit)) return static_cast<double>(*i);
  if (auto* d = std::get_if<double>(&lit)) return *d;
  if (auto* s = std::get_if<std::string>(&lit)) return ParseNumber(*s);
  return std::nullopt;
}

std::optional<int> CompareText(std::string_view v, const Literal& lit) {
  auto cmp = [](auto a, auto b) { return a < b ? -1 : (a > b ? 1 : 0); };
  if (auto* s = std::get_if<std::string>(&lit)) return cmp(v, std::string_view(*s));
  if (std::holds_alternative<bool>(lit)) return std::nullopt;
  std::optional<double> x = ParseNumber(v);
  std::optional<double> y = LiteralNumber(lit);
  if (!x || !y) return std::nullopt;
  return cmp(*x, *y);
}

std::optional<int> CompareBool(bool v, const Literal& lit) {
  auto cmp = [](bool a, bool b) { return a == b ? 0 : (a ? 1 : -1); };
  if (auto* b = std::get_if<bool>(&lit)) return cmp(v, *b);
  if (auto* s = std::get_if<std::string>(&lit)) {
    if (*s == "true") return cmp(v, true);
    if (*s == "false") return cmp(v, false);
  }
  return std::nullopt;
}

bool IsNegative(FilterOp op) {
  return op == FilterOp::kNe || op == FilterOp::kNotIn || op == FilterOp::kDoesNotStartWith ||
         op == FilterOp::kDoesNotEndWith || op == FilterOp::kDoesNotContain;
}

// Whether comparison result `c` passes positive operator `op` (eq, gt, ge, lt, le, in).
bool Passes(FilterOp op, std::optional<int> c) {
  if (!c) return false;
  switch (op) {
    case FilterOp::kEq:
    case FilterOp::kIn:
      return *c == 0;
    case FilterOp::kGt:
      return *c > 0;
    case FilterOp::kGe:
      return *c >= 0;
    case FilterOp::kLt:
      return *c < 0;
    case FilterOp::kLe:
      return *c <= 0;
    default:
      return true;
  }
}

bool IsComparison(FilterOp op) {
  return op == FilterOp::kEq || op == FilterOp::kGt || op == FilterOp::kGe || op == FilterOp::kLt ||
         op == FilterOp::kLe || op == FilterOp::kIn;
}

// Literals a positive comparison tests against (one, or each of an `in` list).
const std::vector<Literal>& Literals(const Filter& f) { return f.values; }

// Positive filter `f` on a text value.
bool TextPasses(std::string_view v, const Filter& f) {
  if (IsComparison(f.op)) {
    for (const Literal& lit : Literals(f)) {
      if (Passes(f.op, CompareText(v, lit))) return true;
      if (f.op != FilterOp::kIn) break;
    }
    return false;
  }
  const std::string* needle = std::get_if<std::string>(&f.values[0]);
  if (needle == nullptr) return true;  // not a shape the executor accepts: do not prune
  if (f.op == FilterOp::kStartsWith) return v.substr(0, needle->size()) == *needle;
  if (f.op == FilterOp::kEndsWith)
    return v.size() >= needle->size() && v.substr(v.size() - needle->size()) == *needle;
  if (f.op == FilterOp::kContains) return v.find(*needle) != std::string_view::npos;
  return true;
}

// Whether positive comparison `op` against literal y can hold for some x in [lo, hi]. Integers
// are compared as integers, exactly as the executor does.
template <typename T>
bool RangePasses(FilterOp op, T lo, T hi, T y) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(y)) return true;
  }
  switch (op) {
    case FilterOp::kEq:
    case FilterOp::kIn:
      return lo <= y && y <= hi;
    case FilterOp::kGt:
      return hi > y;
    case FilterOp::kGe:
      return hi >= y;
    case FilterOp::kLt:
      return lo < y;
    case FilterOp::kLe:
      return lo <= y;
    default:
      return true;
  }
}

// What the statistics say about the values of one column over a block.
struct Domain {
  bool known = false;  // false: nothing is known, anything may match
  uint64_t rows = 0;
  uint64_t present_rows = 0;
  bool has_int = false;
  int64_t int_min = 0, int_max = 0;
  bool has_double = false;
  double double_min = 0, double_max = 0;
  bool has_nan = false;
  bool may_be_true = false, may_be_false = false;
  bool has_strings = false;
  bool strings_complete = false;
  std::vector<std::string> strings;
};

Domain DomainOf(const std::string& column, const BlockMeta& meta) {
  Domain d;
  if (!meta.has_stats) return d;
  d.rows = meta.num_rows;
  d.present_rows = meta.num_rows;
  if (column == "duration_ms") {
    d.known = true;
    d.has_double = true;
    d.double_min = static_cast<double>(meta.min_duration_nano) / 1e6;
    d.double_max = static_cast<double>(meta.max_duration_nano) / 1e6;
    return d;
  }
  if (column == "status_code" || column == "error") {
    if (meta.status_code_mask == 0) return d;
    d.known = true;
    if (column == "error") {
      d.may_be_true = meta.status_code_mask & (1u << static_cast<int>(model::StatusCode::kError));
      d.may_be_false = meta.status_code_mask & ~(1u << static_cast<int>(model::StatusCode::kError));
      return d;
    }
    d.has_int = true;
    d.int_min = __builtin_ctz(meta.status_code_mask);
    d.int_max = 31 - __builtin_clz(meta.status_code_mask);
    return d;
  }
  if (column == "span.kind" || column == "type") {
    d.known = true;
    d.has_strings = true;
    d.strings_complete = true;
    for (int k = 0; k < 8; ++k)
      if (meta.kind_mask & (1u << k))
        d.strings.emplace_back(model::SpanKindName(static_cast<model::SpanKind>(k)));
    return d;
  }
  if (column == "name") {
    if (!meta.names_complete) return d;
    d.known = true;
    d.has_strings = true;
    d.strings_complete = true;
    d.strings = meta.names;
    return d;
  }
  if (column == "status_message" || column == "trace.trace_state" || column == "span.num_events" ||
      column == "span.num_links" || column == "trace.trace_id" || column == "trace.span_id" ||
      column == "trace.parent_id" || column == "library.name" || column == "library.version")
    return d;  // no statistics
  // An attribute key (resource and span values).
  d.known = true;
  auto it = meta.stats.find(column);
  if (it == meta.stats.end()) {
    d.present_rows = 0;
    return d;
  }
  const ColumnStats& s = it->second;
  d.present_rows = s.present_rows;
  d.has_int = s.has_int;
  d.int_min = s.int_min;
  d.int_max = s.int_max;
  d.has_double = s.has_double;
  d.double_min = s.double_min;
  d.double_max = s.double_max;
  d.has_nan = s.has_nan;
  d.may_be_true = d.may_be_false = s.has_bool;
  d.has_strings = s.has_strings;
  d.strings_complete = s.strings_complete;
  d.strings = s.strings;
  return d;
}

}  // namespace

bool FilterMayMatch(const Filter& f, const BlockMeta& meta) {
  const Domain d = DomainOf(f.column, meta);
  if (!d.known) return true;
  if (f.op == FilterOp::kExists) return d.present_rows > 0;
  if (f.op == FilterOp::kDoesNotExist) return d.present_rows < d.rows;
  if (d.present_rows == 0) return false;  // absent values pass nothing else
  if (IsNegative(f.op) || f.values.empty()) return true;
  // Text values.
  if (d.has_strings) {
    if (!d.strings_complete) return true;
    for (const std::string& s : d.strings)
      if (TextPasses(s, f)) return true;
  }
  if (!IsComparison(f.op)) return false;  // starts-with and the like pass only text
  // Booleans.
  for (const bool b : {true, false}) {
    if (!(b ? d.may_be_true : d.may_be_false)) continue;
    for (const Literal& lit : Literals(f)) {
      if (Passes(f.op, CompareBool(b, lit))) return true;
      if (f.op != FilterOp::kIn) break;
    }
  }
  // Numbers.
  if (d.has_nan) return true;  // NaN compares equal to everything in the executor's Compare
  for (const Literal& lit : Literals(f)) {
    if (!std::holds_alternative<bool>(lit)) {
      const int64_t* int_lit = std::get_if<int64_t>(&lit);
      const std::optional<double> y = LiteralNumber(lit);
      if (d.has_int) {
        if (int_lit != nullptr) {
          if (RangePasses<int64_t>(f.op, d.int_min, d.int_max, *int_lit)) return true;
        } else if (y && RangePasses(f.op, static_cast<double>(d.int_min),
                                    static_cast<double>(d.int_max), *y)) {
          return true;
        }
      }
      if (d.has_double && y && RangePasses(f.op, d.double_min, d.double_max, *y)) return true;
    }
    if (f.op != FilterOp::kIn) break;
  }
  return false;
}

bool BlockMayMatch(const QuerySpec& spec, const BlockMeta& meta) {
  if (!spec.environment.empty() && meta.environment != spec.environment) return false;
  if (meta.min_start_unix_nano >= spec.end_unix_nano ||
      meta.max_end_unix_nano < spec.start_unix_nano)
    return false;
  if (!spec.dataset.empty() && meta.services.count(spec.dataset) == 0) return false;
  if (spec.filters.empty()) return true;
  if (spec.filter_or) {
    for (const Filter& f : spec.filters)
      if (FilterMayMatch(f, meta)) return true;
    return false;
  }
  for (const Filter& f : spec.filters)
    if (!FilterMayMatch(f, meta)) return false;
  return true;
}

}  // namespace ariadne::query
