#include "query/exec/result_order.h"

#include <algorithm>
#include <optional>
#include <string>

namespace ariadne::query::exec {
namespace {

bool CompareHaving(double v, CompareOp op, double x) {
  switch (op) {
    case CompareOp::kEq:
      return v == x;
    case CompareOp::kNe:
      return v != x;
    case CompareOp::kGt:
      return v > x;
    case CompareOp::kGe:
      return v >= x;
    case CompareOp::kLt:
      return v < x;
    case CompareOp::kLe:
      return v <= x;
  }
  return false;
}

std::optional<double> AsDouble(const ResultValue& v) {
  if (auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  if (auto* d = std::get_if<double>(&v)) return *d;
  return std::nullopt;
}

int CompareResultValues(const ResultValue& a, const ResultValue& b) {
  auto rank = [](const ResultValue& v) {
    switch (v.index()) {
      case 0:  // null
        return 0;
      case 4:  // bool
        return 1;
      case 2:  // int64
      case 3:  // double
        return 2;
      default:  // string
        return 3;
    }
  };
  const int ra = rank(a), rb = rank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  if (ra == 2) {
    const double x = *AsDouble(a), y = *AsDouble(b);
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (ra == 1) return std::get<bool>(a) == std::get<bool>(b) ? 0 : (std::get<bool>(a) ? 1 : -1);
  if (ra == 3) return std::get<std::string>(a).compare(std::get<std::string>(b));
  return 0;
}

}  // namespace

bool PassesHavings(const QuerySpec& spec, const ResultRow& row) {
  for (const Having& h : spec.havings) {
    std::optional<double> v = AsDouble(row.values[h.calculation]);
    if (!v || !CompareHaving(*v, h.op, h.value)) return false;
  }
  return true;
}

std::vector<size_t> OrderAndLimit(const QuerySpec& spec, const std::vector<ResultRow>& rows,
                                  std::vector<size_t> candidates) {
  std::vector<Order> orders = spec.orders;
  if (orders.empty()) {
    for (size_t c = 0; c < spec.calculations.size(); ++c) {
      if (spec.calculations[c].op == CalcOp::kHeatmap) continue;
      Order o;
      o.calculation = c;
      o.descending = true;
      orders.push_back(o);
      break;
    }
  }
  for (const std::string& b : spec.breakdowns) {
    Order o;
    o.column = b;
    orders.push_back(o);
  }
  std::stable_sort(candidates.begin(), candidates.end(), [&](size_t a, size_t b) {
    for (const Order& o : orders) {
      int c;
      if (o.calculation) {
        c = CompareResultValues(rows[a].values[*o.calculation], rows[b].values[*o.calculation]);
      } else {
        const size_t i = static_cast<size_t>(
            std::find(spec.breakdowns.begin(), spec.breakdowns.end(), o.column) -
            spec.breakdowns.begin());
        c = CompareResultValues(rows[a].breakdowns[i], rows[b].breakdowns[i]);
      }
      if (c != 0) return o.descending ? c > 0 : c < 0;
    }
    return false;
  });
  if (candidates.size() > spec.limit) candidates.resize(spec.limit);
  return candidates;
}

}  // namespace ariadne::query::exec
