#include "query/column_check.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <string_view>

namespace ariadne::query {
namespace {

// Columns the executor understands that the catalog lists under another name or not at all.
constexpr std::string_view kAliases[] = {"type", "trace.trace_state"};

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

class Catalog {
 public:
  explicit Catalog(const std::vector<CatalogColumn>& columns) {
    for (const CatalogColumn& c : columns) types_[c.name] = c.type;
    for (std::string_view alias : kAliases) types_.try_emplace(std::string(alias), "string");
  }

  // The column's type, or an error naming `field` with the closest known name.
  Result<std::string> TypeOf(const std::string& column, const std::string& field) const {
    auto it = types_.find(column);
    if (it != types_.end()) return it->second;
    std::string best;
    size_t best_distance = std::max<size_t>(3, column.size() / 3) + 1;
    for (const auto& [name, type] : types_) {
      size_t d = EditDistance(column, name);
      if (d < best_distance) {
        best_distance = d;
        best = name;
      }
    }
    std::string message = field + ": unknown column '" + column + "'";
    if (!best.empty()) message += " (did you mean '" + best + "'?)";
    message += "; no span has sent it (GET /api/v1/columns lists the columns)";
    return Status::InvalidArgument(message);
  }

 private:
  std::map<std::string, std::string> types_;
};

bool IsNumericType(const std::string& type) {
  return type == "int" || type == "double" || type == "mixed";
}

bool SpellsNumber(std::string_view text) {
  if (text.empty()) return false;
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size();
}

std::string LiteralText(const Literal& literal) {
  if (auto* s = std::get_if<std::string>(&literal)) return *s;
  if (auto* i = std::get_if<int64_t>(&literal)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&literal)) return std::to_string(*d);
  return std::get<bool>(literal) ? "true" : "false";
}

// True when a value of this literal can equal or be ordered against a value of `type` (the same
// rules as the executor's Compare: "true"/"false" text matches booleans, text that spells a
// number matches numbers, anything matches strings).
bool Comparable(const std::string& type, const Literal& literal) {
  if (type == "bool") {
    if (std::holds_alternative<bool>(literal)) return true;
    auto* s = std::get_if<std::string>(&literal);
    return s != nullptr && (*s == "true" || *s == "false");
  }
  if (type == "int" || type == "double") {
    if (std::holds_alternative<bool>(literal)) return false;
    auto* s = std::get_if<std::string>(&literal);
    return s == nullptr || SpellsNumber(*s);
  }
  return true;  // string, mixed
}

bool IsComparison(FilterOp op) {
  switch (op) {
    case FilterOp::kEq:
    case FilterOp::kNe:
    case FilterOp::kGt:
    case FilterOp::kGe:
    case FilterOp::kLt:
    case FilterOp::kLe:
    case FilterOp::kIn:
    case FilterOp::kNotIn:
      return true;
    default:
      return false;
  }
}

Status CheckFilters(const std::vector<Filter>& filters, const Catalog& catalog,
                    const std::string& field) {
  for (size_t i = 0; i < filters.size(); ++i) {
    const Filter& f = filters[i];
    const std::string at = field + "[" + std::to_string(i) + "]";
    ARIADNE_ASSIGN_OR_RETURN(std::string type, catalog.TypeOf(f.column, at + ".column"));
    if (!IsComparison(f.op)) continue;
    for (const Literal& literal : f.values) {
      if (Comparable(type, literal)) continue;
      std::string holds = type == "bool" ? "booleans; use true or false" : "numbers; use a number";
      return Status::InvalidArgument(at + ".value: '" + LiteralText(literal) +
                                     "' can never match " + f.column + ", which holds " + holds);
    }
  }
  return Status::Ok();
}

}  // namespace

Status CheckFilterColumns(const std::vector<Filter>& filters,
                          const std::vector<CatalogColumn>& catalog, const std::string& field) {
  return CheckFilters(filters, Catalog(catalog), field);
}

Status CheckColumns(const QuerySpec& spec, const std::vector<CatalogColumn>& catalog) {
  const Catalog known(catalog);
  for (size_t i = 0; i < spec.calculations.size(); ++i) {
    const Calculation& calc = spec.calculations[i];
    if (calc.column.empty()) continue;
    const std::string at = "calculations[" + std::to_string(i) + "].column";
    ARIADNE_ASSIGN_OR_RETURN(std::string type, known.TypeOf(calc.column, at));
    const bool numeric_op = calc.op != CalcOp::kCountDistinct && calc.op != CalcOp::kCount &&
                            calc.op != CalcOp::kConcurrency;
    if (numeric_op && !IsNumericType(type)) {
      return Status::InvalidArgument(at + ": " + calc.op_name + " needs a numeric column; " +
                                     calc.column + " holds " + type +
                                     " values (COUNT_DISTINCT works on any column)");
    }
  }
  ARIADNE_RETURN_IF_ERROR(CheckFilters(spec.filters, known, "filters"));
  for (size_t i = 0; i < spec.breakdowns.size(); ++i) {
    ARIADNE_RETURN_IF_ERROR(
        known.TypeOf(spec.breakdowns[i], "breakdowns[" + std::to_string(i) + "]").status());
  }
  for (size_t i = 0; i < spec.orders.size(); ++i) {
    const Order& order = spec.orders[i];
    if (order.calculation || order.column.empty()) continue;
    ARIADNE_RETURN_IF_ERROR(
        known.TypeOf(order.column, "orders[" + std::to_string(i) + "].column").status());
  }
  return Status::Ok();
}

}  // namespace ariadne::query
