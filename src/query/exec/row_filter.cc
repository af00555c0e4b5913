#include "query/exec/row_filter.h"

#include <algorithm>
#include <cstring>

namespace ariadne::query::exec {
namespace {

using columnar::AttributeColumn;
using columnar::Block;

// Per-row match of filter `f` on an intrinsic column, through its dense view; rows not selected
// are left alone. String rows evaluate the predicate once per dictionary entry.
void MatchIntrinsic(const Filter& f, const ColumnView& view, const std::vector<uint8_t>& selected,
                    std::vector<uint8_t>* match) {
  std::vector<uint8_t> dict_match(view.dict.size());
  for (size_t c = 0; c < view.dict.size(); ++c)
    dict_match[c] = Matches(model::Value::String(view.dict[c]), f);
  const bool null_match = f.op == FilterOp::kDoesNotExist;
  for (size_t r = 0; r < selected.size(); ++r) {
    if (!selected[r]) continue;
    const uint8_t t = view.type[r];
    if (t == kNull) {
      (*match)[r] = null_match;
    } else if (t == static_cast<uint8_t>(model::ValueType::kString)) {
      (*match)[r] = dict_match[view.code[r]];
    } else {
      (*match)[r] = Matches(view.ValueAt(r), f);
    }
  }
}

// A comparison (=, !=, <, <=, >, >=) against a numeric literal, evaluated on an attribute entry's
// raw bits without building a Value: the same answers as Matches for int and double entries.
class NumericComparison {
 public:
  // nullopt when `f` is not such a comparison.
  static std::optional<NumericComparison> Of(const Filter& f) {
    if (f.op != FilterOp::kEq && f.op != FilterOp::kNe && f.op != FilterOp::kGt &&
        f.op != FilterOp::kGe && f.op != FilterOp::kLt && f.op != FilterOp::kLe)
      return std::nullopt;
    NumericComparison n;
    n.op_ = f.op;
    if (const auto* i = std::get_if<int64_t>(&f.values[0])) {
      n.is_int_ = true;
      n.int_ = *i;
      n.double_ = static_cast<double>(*i);
    } else if (const auto* d = std::get_if<double>(&f.values[0])) {
      n.double_ = *d;
    } else {
      return std::nullopt;
    }
    return n;
  }

  // REQUIRES: type is kInt or kDouble.
  bool Test(model::ValueType type, uint64_t bits) const {
    int c;
    if (type == model::ValueType::kInt) {
      const int64_t v = static_cast<int64_t>(bits);
      c = is_int_ ? Cmp(v, int_) : Cmp(static_cast<double>(v), double_);
    } else {
      double x;
      std::memcpy(&x, &bits, 8);
      c = Cmp(x, double_);
    }
    switch (op_) {
      case FilterOp::kEq:
        return c == 0;
      case FilterOp::kNe:
        return c != 0;
      case FilterOp::kGt:
        return c > 0;
      case FilterOp::kGe:
        return c >= 0;
      case FilterOp::kLt:
        return c < 0;
      default:
        return c <= 0;
    }
  }

 private:
  template <typename T>
  static int Cmp(T a, T b) {
    return a < b ? -1 : (a > b ? 1 : 0);  // as Compare: NaN compares equal
  }
  FilterOp op_ = FilterOp::kEq;
  bool is_int_ = false;
  int64_t int_ = 0;
  double double_ = 0;
};

// For =, !=, in and not in with only string literals: whether each dictionary string matches, in
// one pass over the dictionary per literal (a string value against a string literal compares as
// text, so equality is byte equality); nullopt for other filters.
std::optional<std::vector<uint8_t>> StringSetMatch(const Filter& f,
                                                   const std::vector<std::string>& dict) {
  if (f.op != FilterOp::kEq && f.op != FilterOp::kNe && f.op != FilterOp::kIn &&
      f.op != FilterOp::kNotIn)
    return std::nullopt;
  for (const Literal& lit : f.values)
    if (!std::holds_alternative<std::string>(lit)) return std::nullopt;
  const bool negate = f.op == FilterOp::kNe || f.op == FilterOp::kNotIn;
  std::vector<uint8_t> match(dict.size(), negate);
  for (const Literal& lit : f.values) {
    const std::string& want = std::get<std::string>(lit);
    for (size_t c = 0; c < dict.size(); ++c) {
      const std::string& s = dict[c];
      if (s.size() == want.size() && std::memcmp(s.data(), want.data(), s.size()) == 0)
        match[c] = !negate;
    }
  }
  return match;
}

// Calls fn(test) with test(v) = v op lit for a numeric comparison op, as CompareInts tests it
// (NaN compares equal).
template <typename T, typename Fn>
void WithComparison(FilterOp op, T lit, Fn&& fn) {
  switch (op) {
    case FilterOp::kEq:
      return fn([lit](T v) { return !(v < lit) && !(v > lit); });
    case FilterOp::kNe:
      return fn([lit](T v) { return v < lit || v > lit; });
    case FilterOp::kGt:
      return fn([lit](T v) { return v > lit; });
    case FilterOp::kGe:
      return fn([lit](T v) { return !(v < lit); });
    case FilterOp::kLt:
      return fn([lit](T v) { return v < lit; });
    default:
      return fn([lit](T v) { return !(v > lit); });
  }
}

// match[rows[e]] = (value of entry e) op literal, for entries that are all ints, as Compare does
// it: an int literal compares as int64, a double literal as double (NaN compares equal).
template <typename T>
void CompareInts(FilterOp op, T lit, const AttributeColumn& attr, std::vector<uint8_t>* match) {
  const uint32_t* rows = attr.rows.data();
  const uint64_t* values = attr.values.data();
  uint8_t* out = match->data();
  const size_t n = attr.rows.size();
  auto loop = [rows, values, out, n](auto test) {
    for (size_t e = 0; e < n; ++e)
      out[rows[e]] = test(static_cast<T>(static_cast<int64_t>(values[e])));
  };
  switch (op) {
    case FilterOp::kEq:
      return loop([lit](T v) { return !(v < lit) && !(v > lit); });
    case FilterOp::kNe:
      return loop([lit](T v) { return v < lit || v > lit; });
    case FilterOp::kGt:
      return loop([lit](T v) { return v > lit; });
    case FilterOp::kGe:
      return loop([lit](T v) { return !(v < lit); });
    case FilterOp::kLt:
      return loop([lit](T v) { return v < lit; });
    default:
      return loop([lit](T v) { return !(v > lit); });
  }
}

// Per-row match of filter `f` on an attribute column: each resource's value once, then the span
// attribute's entries (sparse: only rows that have the key) over them. String entries evaluate
// the predicate once per dictionary code (for string equality and membership, all codes in one
// pass over the dictionary; otherwise on first use); a numeric comparison over a column of ints
// is one tight loop.
void MatchAttribute(const Filter& f, const Block& block, const std::vector<uint8_t>& selected,
                    std::vector<uint8_t>* match) {
  const model::SpanBatch& t = block.tables;
  const bool null_match = f.op == FilterOp::kDoesNotExist;
  std::vector<uint8_t> resource_match(t.resources.size(), null_match);
  for (size_t i = 0; i < t.resources.size(); ++i) {
    const model::Value* v = t.FindAttribute(t.resources[i].attributes, f.column);
    if (v != nullptr) resource_match[i] = Matches(*v, f);
  }
  {
    const size_t rows = selected.size();
    const uint8_t* const by_resource = resource_match.data();
    const uint32_t* const resource = block.resource.data();
    uint8_t* const out = match->data();
    if (std::all_of(resource_match.begin(), resource_match.end(),
                    [&](uint8_t m) { return m == null_match; })) {
      std::fill(out, out + rows, static_cast<uint8_t>(null_match));  // no resource has the key
    } else {
      for (size_t r = 0; r < rows; ++r) out[r] = by_resource[resource[r]];
    }
  }
  for (const AttributeColumn& attr : block.attributes) {
    if (attr.key != f.column) continue;
    const std::optional<NumericComparison> numeric = NumericComparison::Of(f);
    if (numeric && std::all_of(attr.types.begin(), attr.types.end(),
                               [](model::ValueType t) { return t == model::ValueType::kInt; })) {
      if (const auto* i = std::get_if<int64_t>(&f.values[0])) {
        CompareInts<int64_t>(f.op, *i, attr, match);
      } else {
        CompareInts<double>(f.op, std::get<double>(f.values[0]), attr, match);
      }
      break;
    }
    if (std::optional<std::vector<uint8_t>> dict_match = StringSetMatch(f, attr.dict)) {
      for (size_t e = 0; e < attr.rows.size(); ++e) {
        const uint32_t r = attr.rows[e];
        if (attr.types[e] == model::ValueType::kString) {
          (*match)[r] = (*dict_match)[attr.values[e]];
        } else if (selected[r]) {
          (*match)[r] = Matches(attr.ValueAt(e), f);
        }
      }
      break;
    }
    constexpr uint8_t kUnknown = 2;
    std::vector<uint8_t> dict_match(attr.dict.size(), kUnknown);
    for (size_t e = 0; e < attr.rows.size(); ++e) {
      const uint32_t r = attr.rows[e];
      if (!selected[r]) continue;
      const model::ValueType type = attr.types[e];
      if (numeric && (type == model::ValueType::kInt || type == model::ValueType::kDouble)) {
        (*match)[r] = numeric->Test(type, attr.values[e]);
      } else if (type == model::ValueType::kString) {
        uint8_t& m = dict_match[attr.values[e]];
        if (m == kUnknown) m = Matches(attr.ValueAt(e), f);
        (*match)[r] = m;
      } else {
        (*match)[r] = Matches(attr.ValueAt(e), f);
      }
    }
    break;
  }
}

}  // namespace

std::optional<int> Compare(const model::Value& v, const Literal& lit) {
  auto cmp = [](auto a, auto b) { return a < b ? -1 : (a > b ? 1 : 0); };
  switch (v.type) {
    case model::ValueType::kBool:
      if (auto* b = std::get_if<bool>(&lit)) return cmp(v.bool_value, *b);
      if (auto* s = std::get_if<std::string>(&lit)) {
        if (*s == "true") return cmp(v.bool_value, true);
        if (*s == "false") return cmp(v.bool_value, false);
      }
      return std::nullopt;
    case model::ValueType::kInt:
    case model::ValueType::kDouble: {
      double x =
          v.type == model::ValueType::kInt ? static_cast<double>(v.int_value) : v.double_value;
      if (v.type == model::ValueType::kInt) {
        if (auto* i = std::get_if<int64_t>(&lit)) return cmp(v.int_value, *i);
      }
      if (auto* i = std::get_if<int64_t>(&lit)) return cmp(x, static_cast<double>(*i));
      if (auto* d = std::get_if<double>(&lit)) return cmp(x, *d);
      if (auto* s = std::get_if<std::string>(&lit)) {
        if (auto parsed = ParseNumber(*s)) return cmp(x, *parsed);
      }
      return std::nullopt;
    }
    case model::ValueType::kEmpty:
      return std::nullopt;
    default: {
      if (auto* s = std::get_if<std::string>(&lit)) return cmp(v.str, std::string_view(*s));
      // A numeric literal against text that spells a number ("503") compares as numbers.
      std::optional<double> x = ParseNumber(v.str);
      if (!x) return std::nullopt;
      if (auto* i = std::get_if<int64_t>(&lit)) return cmp(*x, static_cast<double>(*i));
      if (auto* d = std::get_if<double>(&lit)) return cmp(*x, *d);
      return std::nullopt;
    }
  }
}

bool Matches(const model::Value& v, const Filter& f) {
  const bool present = v.type != model::ValueType::kEmpty;
  if (f.op == FilterOp::kExists) return present;
  if (f.op == FilterOp::kDoesNotExist) return !present;
  if (!present) return false;
  switch (f.op) {
    case FilterOp::kEq:
    case FilterOp::kNe: {
      auto c = Compare(v, f.values[0]);
      bool equal = c && *c == 0;
      return f.op == FilterOp::kEq ? equal : !equal;
    }
    case FilterOp::kGt:
    case FilterOp::kGe:
    case FilterOp::kLt:
    case FilterOp::kLe: {
      auto c = Compare(v, f.values[0]);
      if (!c) return false;
      if (f.op == FilterOp::kGt) return *c > 0;
      if (f.op == FilterOp::kGe) return *c >= 0;
      if (f.op == FilterOp::kLt) return *c < 0;
      return *c <= 0;
    }
    case FilterOp::kIn:
    case FilterOp::kNotIn: {
      bool any = false;
      for (const Literal& lit : f.values) {
        auto c = Compare(v, lit);
        if (c && *c == 0) {
          any = true;
          break;
        }
      }
      return f.op == FilterOp::kIn ? any : !any;
    }
    default: {
      const std::string& needle = std::get<std::string>(f.values[0]);
      const bool is_text = IsStringLike(static_cast<uint8_t>(v.type));
      bool hit = false;
      if (is_text) {
        std::string_view s = v.str;
        if (f.op == FilterOp::kStartsWith || f.op == FilterOp::kDoesNotStartWith)
          hit = s.substr(0, needle.size()) == needle;
        else if (f.op == FilterOp::kEndsWith || f.op == FilterOp::kDoesNotEndWith)
          hit = s.size() >= needle.size() && s.substr(s.size() - needle.size()) == needle;
        else
          hit = s.find(needle) != std::string_view::npos;
      }
      const bool negative = f.op == FilterOp::kDoesNotStartWith ||
                            f.op == FilterOp::kDoesNotEndWith || f.op == FilterOp::kDoesNotContain;
      return negative ? !hit : hit;
    }
  }
}

std::optional<std::vector<uint32_t>> SelectSparseRows(const QuerySpec& spec, const Block& block) {
  if (spec.filters.size() != 1) return std::nullopt;
  const Filter& f = spec.filters[0];
  // Rows without the key match only does-not-exist; every other filter selects a subset of the
  // rows that carry the key — when no resource carries it (else MatchAttribute's resource pass).
  if (f.op == FilterOp::kDoesNotExist || IsIntrinsicColumn(f.column)) return std::nullopt;
  const model::SpanBatch& t = block.tables;
  for (const auto& resource : t.resources)
    if (t.FindAttribute(resource.attributes, f.column) != nullptr) return std::nullopt;
  std::vector<uint32_t> out;
  const AttributeColumn* attr = nullptr;
  for (const AttributeColumn& a : block.attributes) {
    if (a.key == f.column) {
      attr = &a;  // the first, as MatchAttribute
      break;
    }
  }
  if (attr == nullptr) return out;
  std::vector<uint8_t> resource_ok;
  if (!spec.dataset.empty()) {
    resource_ok.resize(t.resources.size());
    for (size_t i = 0; i < resource_ok.size(); ++i)
      resource_ok[i] = t.ServiceName(static_cast<uint32_t>(i)) == spec.dataset;
  }
  const uint32_t* const rows = attr->rows.data();
  const model::ValueType* const types = attr->types.data();
  const uint64_t* const values = attr->values.data();
  const uint64_t* const start = block.start_unix_nano.data();
  const uint32_t* const resource = block.resource.data();
  const uint8_t* const ok = resource_ok.data();
  const uint64_t lo = spec.start_unix_nano, hi = spec.end_unix_nano;
  const size_t n = attr->rows.size();
  for (size_t e = 1; e < n; ++e)
    if (rows[e] <= rows[e - 1]) return std::nullopt;  // not ascending: the dense path
  const bool by_dataset = !resource_ok.empty();
  out.resize(n + 1);
  uint32_t* const sel = out.data();
  size_t k = 0;
  // Branch-free: write every row, advance past the ones that match. Locals only: a store through
  // `sel` may alias anything, so captured references would be reloaded per entry.
  auto compact = [&](auto entry_matches) {
    uint32_t* const out_rows = sel;
    const uint32_t* const in_rows = rows;
    const uint64_t* const starts = start;
    const uint64_t lo_ = lo, hi_ = hi;
    size_t count = 0;
    if (by_dataset) {
      const uint8_t* const ok_ = ok;
      const uint32_t* const res = resource;
      for (size_t e = 0; e < n; ++e) {
        const uint32_t r = in_rows[e];
        out_rows[count] = r;
        count += static_cast<size_t>(entry_matches(e) & (starts[r] >= lo_) & (starts[r] < hi_) &
                                     (ok_[res[r]] != 0));
      }
    } else {
      for (size_t e = 0; e < n; ++e) {
        const uint32_t r = in_rows[e];
        out_rows[count] = r;
        count += static_cast<size_t>(entry_matches(e) & (starts[r] >= lo_) & (starts[r] < hi_));
      }
    }
    k = count;
  };
  auto all_of_type = [&](model::ValueType type) {
    return std::all_of(types, types + n, [type](model::ValueType t) { return t == type; });
  };
  const std::optional<NumericComparison> numeric = NumericComparison::Of(f);
  const std::optional<std::vector<uint8_t>> string_match = StringSetMatch(f, attr->dict);
  if (numeric && all_of_type(model::ValueType::kInt)) {
    // As CompareInts: an int literal compares as int64, a double literal as double.
    auto run = [&](auto lit) {
      using T = decltype(lit);
      WithComparison<T>(f.op, lit, [&](auto test) {
        const uint64_t* const v = values;
        compact([v, test](size_t e) { return test(static_cast<T>(static_cast<int64_t>(v[e]))); });
      });
    };
    if (const auto* i = std::get_if<int64_t>(&f.values[0])) {
      run(*i);
    } else {
      run(std::get<double>(f.values[0]));
    }
  } else if (all_of_type(model::ValueType::kBool)) {
    // A bool entry's match depends on its value only: decided once for false and for true.
    const uint8_t by_value[2] = {static_cast<uint8_t>(Matches(model::Value::Bool(false), f)),
                                 static_cast<uint8_t>(Matches(model::Value::Bool(true), f))};
    const uint64_t* const v = values;
    compact([v, by_value](size_t e) { return by_value[v[e] != 0] != 0; });
  } else if (string_match && all_of_type(model::ValueType::kString)) {
    const uint8_t* const by_code = string_match->data();
    const uint64_t* const v = values;
    compact([v, by_code](size_t e) { return by_code[v[e]] != 0; });
  } else {
    // Each entry's match, as MatchAttribute decides it: numbers by NumericComparison, strings by
    // StringSetMatch or once per dictionary code, anything else by Matches.
    constexpr uint8_t kUnknown = 2;
    std::vector<uint8_t> memo;
    if (!string_match) memo.assign(attr->dict.size(), kUnknown);
    compact([&](size_t e) {
      const model::ValueType type = types[e];
      if (numeric && (type == model::ValueType::kInt || type == model::ValueType::kDouble))
        return numeric->Test(type, values[e]);
      if (type == model::ValueType::kString) {
        if (string_match) return (*string_match)[values[e]] != 0;
        uint8_t& known = memo[values[e]];
        if (known == kUnknown) known = Matches(attr->ValueAt(e), f);
        return known != 0;
      }
      return Matches(attr->ValueAt(e), f);
    });
  }
  out.resize(k);
  return out;
}

std::vector<uint8_t> SelectBlockRows(const QuerySpec& spec, const Block& block,
                                     ColumnViews* views) {
  // The loops below use local pointers and bounds: a byte store may alias anything, so through
  // vector members the compiler would reload them per row instead of vectorizing.
  const size_t rows = block.num_rows;
  // 1. Rows in the time window (and dataset).
  std::vector<uint8_t> selected(rows);
  uint8_t* const sel = selected.data();
  {
    const uint64_t* const start = block.start_unix_nano.data();
    const uint64_t lo = spec.start_unix_nano, hi = spec.end_unix_nano;
    for (size_t r = 0; r < rows; ++r) sel[r] = (start[r] >= lo) & (start[r] < hi);
  }
  if (!spec.dataset.empty()) {
    std::vector<uint8_t> resource_ok(block.tables.resources.size());
    for (size_t i = 0; i < resource_ok.size(); ++i)
      resource_ok[i] = block.tables.ServiceName(static_cast<uint32_t>(i)) == spec.dataset;
    const uint8_t* const ok = resource_ok.data();
    const uint32_t* const resource = block.resource.data();
    for (size_t r = 0; r < rows; ++r) sel[r] &= ok[resource[r]];
  }
  if (spec.filters.empty()) return selected;

  // 2. Filters, combined with AND or OR.
  std::vector<uint8_t> match(rows, 0);
  if (spec.filters.size() == 1) {
    const Filter& f = spec.filters[0];
    if (IsIntrinsicColumn(f.column)) {
      MatchIntrinsic(f, views->Get(f.column), selected, &match);
    } else {
      MatchAttribute(f, block, selected, &match);
    }
    const uint8_t* const m = match.data();
    for (size_t r = 0; r < rows; ++r) sel[r] &= m[r];
    return selected;
  }
  std::vector<uint8_t> combined(rows, spec.filter_or ? 0 : 1);
  uint8_t* const all = combined.data();
  const uint8_t* const m = match.data();
  for (const Filter& f : spec.filters) {
    if (IsIntrinsicColumn(f.column)) {
      MatchIntrinsic(f, views->Get(f.column), selected, &match);
    } else {
      MatchAttribute(f, block, selected, &match);
    }
    if (spec.filter_or) {
      for (size_t r = 0; r < rows; ++r) all[r] |= m[r];
    } else {
      for (size_t r = 0; r < rows; ++r) all[r] &= m[r];
    }
  }
  for (size_t r = 0; r < rows; ++r) sel[r] &= all[r];
  return selected;
}

}  // namespace ariadne::query::exec
