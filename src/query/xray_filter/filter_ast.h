// The parsed form of an X-Ray filter expression (filter.h), shared by the two evaluators: over a
// whole trace (filter.cc) and over a trace's summary (summary_eval.cc). Internal to
// query/xray_filter; other code uses Filter.
#pragma once

#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ariadne::query::xray_filter {

// ---------------------------------------------------------------------------------------------
// AST

enum class ExprKind { kAnd, kOr, kNot, kKeyword, kService, kEdge, kRootCause, kRootCauseJson };
enum class Op { kNone, kEq, kNe, kLt, kLe, kGt, kGe, kContains, kBegins, kEnds, kIn };
enum class KwType { kBool, kNumber, kString, kAnnotation, kGroup };

struct Literal {
  enum class Type { kString, kNumber, kBool } type = Type::kString;
  std::string s;
  double n = 0;
  bool b = false;
};

struct Selector {
  bool any = true;
  std::optional<std::string> name, type, account;
};

struct Expr {
  ExprKind kind = ExprKind::kKeyword;
  std::shared_ptr<const Expr> left, right;  // And/Or: both; Not and blocks: left
  std::string keyword;                      // lowercase keyword, or the annotation key
  KwType kw_type = KwType::kBool;
  Op op = Op::kNone;
  std::vector<Literal> literals;   // one for ordinary ops, several for IN
  Selector a, b;                   // service(a), edge(a, b)
  std::string rc_kind, rc_entity;  // rootcause.<kind>.<entity>
};

inline bool MatchString(std::string_view value, Op op, const std::string& lit) {
  switch (op) {
    case Op::kEq:
      return value == lit;
    case Op::kNe:
      return value != lit;
    case Op::kContains:
      return value.find(lit) != std::string_view::npos;
    case Op::kBegins:
      return value.substr(0, lit.size()) == lit;
    case Op::kEnds:
      return value.size() >= lit.size() && value.substr(value.size() - lit.size()) == lit;
    default:
      return false;
  }
}

inline bool MatchNumber(double value, Op op, double lit) {
  switch (op) {
    case Op::kEq:
      return std::fabs(value - lit) < 1e-9;
    case Op::kNe:
      return std::fabs(value - lit) >= 1e-9;
    case Op::kLt:
      return value < lit;
    case Op::kLe:
      return value <= lit + 1e-9;
    case Op::kGt:
      return value > lit;
    case Op::kGe:
      return value >= lit - 1e-9;
    default:
      return false;
  }
}

// Narrows [*min, *max] to where a value must lie for MatchNumber(value, op, lit) to hold for some
// literal in [lo, hi] (IN: any of them), widened by its tolerance and a little more for rounding.
// An operator that bounds nothing (!=, the string ones) leaves both as they are.
inline void NarrowToMatchingNumbers(Op op, double lo, double hi, double* min, double* max) {
  constexpr double kSlack = 2e-9;
  switch (op) {
    case Op::kEq:
    case Op::kIn:
      *min = lo - kSlack;
      *max = hi + kSlack;
      break;
    case Op::kLt:
    case Op::kLe:
      *max = hi + kSlack;
      break;
    case Op::kGt:
    case Op::kGe:
      *min = lo - kSlack;
      break;
    default:
      break;
  }
}

// A keyword's values compared with the term's literal(s); IN means "= any of", kNone "is set".
// Shared by the whole-trace (filter.cc) and the summary (summary_eval.cc) evaluators.
inline bool CompareStrings(const std::vector<std::string_view>& values, const Expr& e) {
  if (values.empty()) return false;
  if (e.op == Op::kNone) return true;
  if (e.op == Op::kIn) {
    for (auto v : values)
      for (const Literal& l : e.literals)
        if (v == l.s) return true;
    return false;
  }
  if (e.op == Op::kNe) {
    for (auto v : values)
      if (v == e.literals[0].s) return false;
    return true;
  }
  for (auto v : values)
    if (MatchString(v, e.op, e.literals[0].s)) return true;
  return false;
}

inline bool CompareNumber(std::optional<double> value, const Expr& e) {
  if (!value) return false;
  if (e.op == Op::kIn) {
    for (const Literal& l : e.literals)
      if (MatchNumber(*value, Op::kEq, l.n)) return true;
    return false;
  }
  return MatchNumber(*value, e.op, e.literals[0].n);
}

}  // namespace ariadne::query::xray_filter
