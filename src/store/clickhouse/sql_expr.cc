#include "store/clickhouse/sql_expr.h"

#include <cmath>
#include <cstdio>

#include "query/exec/column_view.h"
#include "store/clickhouse/row_codec.h"
#include "store/clickhouse/schema.h"

namespace ariadne::store::clickhouse {
namespace {

constexpr std::string_view kStringLike = "IN (1, 5, 6, 7)";
constexpr std::string_view kZeroSpanId = "toFixedString(unhex('0000000000000000'), 8)";

ColumnSql Fixed(std::string type, std::string str, std::string num) {
  return ColumnSql{std::move(type), std::move(str), std::move(num)};
}
// A text column whose empty value means "no value".
ColumnSql OptionalText(std::string_view column) {
  const std::string c(column);
  return Fixed("if(" + c + " = '', 0, 1)", c, "0");
}

// -1, 0 or 1 comparing `a` with `b`.
std::string Cmp(const std::string& a, const std::string& b) {
  return "toInt8((" + a + " > " + b + ") - (" + a + " < " + b + "))";
}

// The comparison of the column's value with `lit`: -1, 0, 1, or 2 when they do not compare.
std::string CompareExpr(const ColumnSql& c, const query::Literal& lit) {
  std::string text_case = "2", number_case = "2", bool_case = "2";
  if (const auto* s = std::get_if<std::string>(&lit)) {
    text_case = Cmp(c.str, SqlString(*s));
    if (std::optional<double> x = query::exec::ParseNumber(*s))
      number_case = Cmp(c.num, SqlDouble(*x));
    if (*s == "true") bool_case = Cmp(c.num, "1");
    if (*s == "false") bool_case = Cmp(c.num, "0");
  } else if (const auto* b = std::get_if<bool>(&lit)) {
    bool_case = Cmp(c.num, *b ? "1" : "0");
  } else {
    const double x = std::holds_alternative<int64_t>(lit)
                         ? static_cast<double>(std::get<int64_t>(lit))
                         : std::get<double>(lit);
    number_case = Cmp(c.num, SqlDouble(x));
    const std::string parsed = "toFloat64OrZero(" + c.str + ")";
    text_case =
        "if(isNull(toFloat64OrNull(" + c.str + ")), toInt8(2), " + Cmp(parsed, SqlDouble(x)) + ")";
  }
  return "multiIf(" + c.type + " " + std::string(kStringLike) + ", " + text_case + ", " + c.type +
         " IN (3, 4), " + number_case + ", " + c.type + " = 2, " + bool_case + ", toInt8(2))";
}

}  // namespace

std::string SqlDouble(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.17g", d);
  std::string out = buf;
  if (out.find_first_of(".en") == std::string::npos) out += ".0";
  return "toFloat64(" + out + ")";
}

ColumnSql ColumnExpr(std::string_view column) {
  if (column == "name") return Fixed("1", "name", "0");
  if (column == "status_message") return OptionalText("status_message");
  if (column == "trace.trace_state") return OptionalText("trace_state");
  if (column == "library.name") return OptionalText("scope_name");
  if (column == "library.version") return OptionalText("scope_version");
  if (column == "duration_ms")
    return Fixed("4", "''", "if(end_ns > start_ns, toFloat64(end_ns - start_ns) / 1000000., 0.)");
  if (column == "status_code") return Fixed("3", "''", "toFloat64(status_code)");
  if (column == "span.num_events") return Fixed("3", "''", "toFloat64(num_events)");
  if (column == "span.num_links") return Fixed("3", "''", "toFloat64(num_links)");
  if (column == "error") return Fixed("2", "''", "toFloat64(status_code = 2)");
  if (column == "span.kind" || column == "type")
    return Fixed("1",
                 "arrayElement(['unspecified', 'internal', 'server', 'client', 'producer', "
                 "'consumer'], kind + 1)",
                 "0");
  if (column == "trace.trace_id") return Fixed("1", "lower(hex(trace_id))", "0");
  if (column == "trace.span_id") return Fixed("1", "lower(hex(span_id))", "0");
  if (column == "trace.parent_id")
    return Fixed("if(parent_id = " + std::string(kZeroSpanId) + ", 0, 1)", "lower(hex(parent_id))",
                 "0");
  const std::string key = SqlString(column);
  const std::string idx = "indexOf(attr_keys, " + key + ")";
  ColumnSql c{"attr_types[" + idx + "]", "attr_str[" + idx + "]", "attr_num[" + idx + "]"};
  for (const PromotedAttribute& p : kPromoted) {
    if (p.key != column) continue;
    const std::string col(p.column);
    c.type = "if(" + col + " != '', 1, " + c.type + ")";
    c.str = "if(" + col + " != '', " + col + ", " + c.str + ")";
    c.num = "if(" + col + " != '', 0., " + c.num + ")";
  }
  return c;
}

std::string FilterExpr(const query::Filter& f) {
  using query::FilterOp;
  const ColumnSql c = ColumnExpr(f.column);
  switch (f.op) {
    case FilterOp::kExists:
      return c.IsPresent();
    case FilterOp::kDoesNotExist:
      return "(" + c.type + " = 0)";
    case FilterOp::kEq:
      return "(" + CompareExpr(c, f.values[0]) + " = 0)";
    case FilterOp::kNe:
      return "(" + c.IsPresent() + " AND " + CompareExpr(c, f.values[0]) + " != 0)";
    case FilterOp::kGt:
      return "(" + CompareExpr(c, f.values[0]) + " = 1)";
    case FilterOp::kGe:
      return "(" + CompareExpr(c, f.values[0]) + " IN (0, 1))";
    case FilterOp::kLt:
      return "(" + CompareExpr(c, f.values[0]) + " = -1)";
    case FilterOp::kLe:
      return "(" + CompareExpr(c, f.values[0]) + " IN (-1, 0))";
    case FilterOp::kIn:
    case FilterOp::kNotIn: {
      std::string any;
      for (const query::Literal& lit : f.values)
        any += (any.empty() ? "" : " OR ") + ("(" + CompareExpr(c, lit) + " = 0)");
      if (any.empty()) any = "0";
      if (f.op == FilterOp::kIn) return "(" + any + ")";
      return "(" + c.IsPresent() + " AND NOT (" + any + "))";
    }
    default: {
      const std::string needle = SqlString(std::get<std::string>(f.values[0]));
      std::string hit;
      if (f.op == FilterOp::kStartsWith || f.op == FilterOp::kDoesNotStartWith)
        hit = "startsWith(" + c.str + ", " + needle + ")";
      else if (f.op == FilterOp::kEndsWith || f.op == FilterOp::kDoesNotEndWith)
        hit = "endsWith(" + c.str + ", " + needle + ")";
      else
        hit = "(position(" + c.str + ", " + needle + ") > 0)";
      hit = "(" + c.type + " " + std::string(kStringLike) + " AND " + hit + ")";
      const bool negative = f.op == FilterOp::kDoesNotStartWith ||
                            f.op == FilterOp::kDoesNotEndWith || f.op == FilterOp::kDoesNotContain;
      return negative ? "(" + c.IsPresent() + " AND NOT " + hit + ")" : hit;
    }
  }
}

}  // namespace ariadne::store::clickhouse
