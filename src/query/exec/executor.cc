#include "query/exec/executor.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

namespace ariadne::query {
namespace {

using store::embedded::Block;
constexpr uint8_t kNull = 255;
constexpr uint32_t kNullLocalId = 0xFFFFFFFEu;

bool IsStringLike(uint8_t t) {
  auto type = static_cast<model::ValueType>(t);
  return type == model::ValueType::kString || type == model::ValueType::kBytes ||
         type == model::ValueType::kArray || type == model::ValueType::kKvList;
}
bool IsNumeric(uint8_t t) {
  auto type = static_cast<model::ValueType>(t);
  return type == model::ValueType::kInt || type == model::ValueType::kDouble ||
         type == model::ValueType::kBool;
}

// One column of one block as dense per-row vectors.
struct ColumnView {
  std::vector<uint8_t> type;   // model::ValueType, or kNull when the row has no value
  std::vector<uint32_t> code;  // string-like rows: index into dict
  std::vector<double> num;     // numeric rows (bool as 0/1)
  std::vector<int64_t> ints;   // int and bool rows, exactly
  std::vector<std::string_view> dict;
  std::deque<std::string> owned;  // storage for strings computed for this view

  void Resize(size_t rows) {
    type.assign(rows, kNull);
    code.assign(rows, 0);
    num.assign(rows, 0);
    ints.assign(rows, 0);
  }
  void Set(size_t row, const model::Value& v, uint32_t string_code) {
    type[row] = static_cast<uint8_t>(v.type);
    switch (v.type) {
      case model::ValueType::kEmpty:
        type[row] = kNull;
        break;
      case model::ValueType::kBool:
        num[row] = v.bool_value ? 1 : 0;
        ints[row] = v.bool_value;
        break;
      case model::ValueType::kInt:
        num[row] = static_cast<double>(v.int_value);
        ints[row] = v.int_value;
        break;
      case model::ValueType::kDouble:
        num[row] = v.double_value;
        break;
      default:
        code[row] = string_code;
        break;
    }
  }
  model::Value ValueAt(size_t row) const {
    model::Value v;
    if (type[row] == kNull) return v;
    v.type = static_cast<model::ValueType>(type[row]);
    switch (v.type) {
      case model::ValueType::kBool:
        v.bool_value = ints[row] != 0;
        break;
      case model::ValueType::kInt:
        v.int_value = ints[row];
        break;
      case model::ValueType::kDouble:
        v.double_value = num[row];
        break;
      default:
        v.str = dict[code[row]];
        break;
    }
    return v;
  }
  uint32_t AddString(std::string s) {
    owned.push_back(std::move(s));
    dict.push_back(owned.back());
    return static_cast<uint32_t>(dict.size() - 1);
  }
  // Roughly the heap this view holds, for the query's memory budget.
  uint64_t Bytes() const {
    uint64_t bytes = type.capacity() + code.capacity() * 4 + num.capacity() * 8 +
                     ints.capacity() * 8 + dict.capacity() * sizeof(std::string_view);
    for (const std::string& s : owned) bytes += sizeof(std::string) + s.capacity() + 1;
    return bytes;
  }
};

// ---- literal comparison (the semantics docs/query.md describes) ----

std::optional<double> ParseNumber(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::string tmp(s);
  char* end = nullptr;
  double d = std::strtod(tmp.c_str(), &end);
  if (end != tmp.c_str() + tmp.size()) return std::nullopt;
  return d;
}

// <0, 0, >0, or nullopt when the value and the literal cannot be compared.
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

// ---- column resolution ----

std::string_view KindName(uint8_t kind) {
  return model::SpanKindName(static_cast<model::SpanKind>(kind));
}

void DictToView(const store::embedded::DictColumn& column, bool empty_is_null, ColumnView* view) {
  const size_t rows = column.codes.size();
  view->Resize(rows);
  view->dict.assign(column.dict.begin(), column.dict.end());
  for (size_t r = 0; r < rows; ++r) {
    uint32_t c = column.codes[r];
    if (empty_is_null && column.dict[c].empty()) continue;
    view->type[r] = static_cast<uint8_t>(model::ValueType::kString);
    view->code[r] = c;
  }
}

// Resource-level value of `key` for every row (through each row's resource).
void ResourceAttributeToView(const Block& block, std::string_view key, ColumnView* view) {
  const model::SpanBatch& t = block.tables;
  std::vector<model::Value> per_resource(t.resources.size());
  std::vector<uint32_t> codes(t.resources.size(), 0);
  for (size_t i = 0; i < t.resources.size(); ++i) {
    const model::Value* v = t.FindAttribute(t.resources[i].attributes, key);
    if (v == nullptr) continue;
    per_resource[i] = *v;
    if (IsStringLike(static_cast<uint8_t>(v->type))) {
      view->dict.push_back(v->str);
      codes[i] = static_cast<uint32_t>(view->dict.size() - 1);
    }
  }
  for (size_t r = 0; r < block.num_rows; ++r) {
    uint32_t res = block.resource[r];
    if (per_resource[res].type != model::ValueType::kEmpty)
      view->Set(r, per_resource[res], codes[res]);
  }
}

std::string HexOf(const uint8_t* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0xF];
  }
  return out;
}

void BuildView(const Block& block, const std::string& column, ColumnView* view) {
  const size_t rows = block.num_rows;
  if (column == "name") return DictToView(block.name, false, view);
  if (column == "status_message") return DictToView(block.status_message, true, view);
  if (column == "trace.trace_state") return DictToView(block.trace_state, true, view);
  view->Resize(rows);
  if (column == "duration_ms") {
    for (size_t r = 0; r < rows; ++r) {
      view->type[r] = static_cast<uint8_t>(model::ValueType::kDouble);
      const uint64_t s = block.start_unix_nano[r], e = block.end_unix_nano[r];
      view->num[r] = e > s ? static_cast<double>(e - s) / 1e6 : 0.0;
    }
    return;
  }
  if (column == "status_code" || column == "span.num_events" || column == "span.num_links") {
    for (size_t r = 0; r < rows; ++r) {
      int64_t v = column == "status_code"       ? block.status_code[r]
                  : column == "span.num_events" ? block.events[r].count
                                                : block.links[r].count;
      view->Set(r, model::Value::Int(v), 0);
    }
    return;
  }
  if (column == "error") {
    for (size_t r = 0; r < rows; ++r)
      view->Set(r,
                model::Value::Bool(block.status_code[r] ==
                                   static_cast<uint8_t>(model::StatusCode::kError)),
                0);
    return;
  }
  if (column == "span.kind" || column == "type") {
    for (uint8_t k = 0; k <= 5; ++k) view->dict.push_back(KindName(k));
    for (size_t r = 0; r < rows; ++r) {
      view->type[r] = static_cast<uint8_t>(model::ValueType::kString);
      view->code[r] = block.kind[r];
    }
    return;
  }
  if (column == "trace.trace_id" || column == "trace.span_id" || column == "trace.parent_id") {
    for (size_t r = 0; r < rows; ++r) {
      if (column == "trace.trace_id") {
        if (r > 0 && block.trace_id[r] == block.trace_id[r - 1]) {
          view->type[r] = view->type[r - 1];
          view->code[r] = view->code[r - 1];
          continue;
        }
        view->code[r] = view->AddString(HexOf(block.trace_id[r].bytes.data(), 16));
      } else {
        const model::SpanId& id =
            column == "trace.span_id" ? block.span_id[r] : block.parent_span_id[r];
        if (id.IsZero()) continue;
        view->code[r] = view->AddString(HexOf(id.bytes.data(), 8));
      }
      view->type[r] = static_cast<uint8_t>(model::ValueType::kString);
    }
    return;
  }
  if (column == "library.name" || column == "library.version") {
    const model::SpanBatch& t = block.tables;
    for (const model::Scope& s : t.scopes)
      view->dict.push_back(column == "library.name" ? s.name : s.version);
    for (size_t r = 0; r < rows; ++r) {
      if (view->dict[block.scope[r]].empty()) continue;
      view->type[r] = static_cast<uint8_t>(model::ValueType::kString);
      view->code[r] = block.scope[r];
    }
    return;
  }
  // Resource attributes (service.name among them), then span attributes over them: later wins,
  // as in Honeycomb's translation of OTLP.
  ResourceAttributeToView(block, column, view);
  for (const store::embedded::AttributeColumn& attr : block.attributes) {
    if (attr.key != column) continue;
    const uint32_t base = static_cast<uint32_t>(view->dict.size());
    view->dict.insert(view->dict.end(), attr.dict.begin(), attr.dict.end());
    for (size_t e = 0; e < attr.rows.size(); ++e) {
      model::Value v = attr.ValueAt(e);
      view->Set(attr.rows[e], v,
                IsStringLike(static_cast<uint8_t>(v.type))
                    ? base + static_cast<uint32_t>(attr.values[e])
                    : 0);
    }
    break;
  }
}

// ---- aggregation state ----

struct Agg {
  double weight = 0;  // COUNT: sum of sample rates of matching spans
  uint64_t spans = 0;
  double weighted_sum = 0;  // SUM/AVG: sum of rate × value over spans with a numeric value
  double value_weight = 0;  // sum of rates over spans with a numeric value
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  uint64_t values = 0;

  void Merge(const Agg& o) {
    weight += o.weight;
    spans += o.spans;
    weighted_sum += o.weighted_sum;
    value_weight += o.value_weight;
    min = std::min(min, o.min);
    max = std::max(max, o.max);
    values += o.values;
  }
};

struct Sample {
  uint32_t bucket;
  double value;  // the column value; CONCURRENCY: start time (ns)
  double weight;
  uint64_t aux;  // COUNT_DISTINCT: value hash; CONCURRENCY: end time (ns)
};

bool NeedsSamples(CalcOp op) {
  return op == CalcOp::kPercentile || op == CalcOp::kHeatmap || op == CalcOp::kCountDistinct ||
         op == CalcOp::kConcurrency;
}

struct Group {
  std::vector<ResultValue> key;
  std::vector<Agg> aggs;                     // [calc * (buckets) + bucket]
  std::vector<std::vector<Sample>> samples;  // per calc (empty unless NeedsSamples)
};

std::string CanonicalKey(const std::vector<ResultValue>& values) {
  std::string key;
  for (const ResultValue& v : values) {
    key.push_back(static_cast<char>('0' + v.index()));
    switch (v.index()) {
      case 1: {
        const std::string& s = std::get<std::string>(v);
        uint32_t n = static_cast<uint32_t>(s.size());
        key.append(reinterpret_cast<const char*>(&n), 4);
        key += s;
        break;
      }
      case 2: {
        int64_t i = std::get<int64_t>(v);
        key.append(reinterpret_cast<const char*>(&i), 8);
        break;
      }
      case 3: {
        double d = std::get<double>(v);
        key.append(reinterpret_cast<const char*>(&d), 8);
        break;
      }
      case 4:
        key.push_back(std::get<bool>(v) ? 1 : 0);
        break;
      default:
        break;
    }
  }
  return key;
}

ResultValue ToResultValue(const model::Value& v) {
  switch (v.type) {
    case model::ValueType::kEmpty:
      return std::monostate{};
    case model::ValueType::kBool:
      return v.bool_value;
    case model::ValueType::kInt:
      return v.int_value;
    case model::ValueType::kDouble:
      return v.double_value;
    default:
      return std::string(v.str);
  }
}

uint64_t HashValue(const ColumnView& view, size_t row) {
  uint64_t h = 1469598103934665603ULL ^ view.type[row];
  auto mix = [&](const void* p, size_t n) {
    const unsigned char* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ULL;
  };
  if (IsStringLike(view.type[row])) {
    std::string_view s = view.dict[view.code[row]];
    mix(s.data(), s.size());
  } else if (view.type[row] == static_cast<uint8_t>(model::ValueType::kDouble)) {
    mix(&view.num[row], 8);
  } else {
    mix(&view.ints[row], 8);
  }
  return h;
}

ResultValue CountValue(double weight) {
  if (weight == std::floor(weight) && std::fabs(weight) < 9e15) return static_cast<int64_t>(weight);
  return weight;
}

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

// Orders result values: null first, then bools, numbers, strings.
int CompareResultValues(const ResultValue& a, const ResultValue& b) {
  auto rank = [](const ResultValue& v) {
    switch (v.index()) {
      case 0:
        return 0;
      case 4:
        return 1;
      case 2:
      case 3:
        return 2;
      default:
        return 3;
    }
  };
  int ra = rank(a), rb = rank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  if (ra == 2) {
    double x = *AsDouble(a), y = *AsDouble(b);
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (ra == 1) return std::get<bool>(a) == std::get<bool>(b) ? 0 : (std::get<bool>(a) ? 1 : -1);
  if (ra == 3) return std::get<std::string>(a).compare(std::get<std::string>(b));
  return 0;
}

template <typename ViewOf>
std::vector<uint8_t> SelectRowsWithViews(const QuerySpec& spec, const Block& block,
                                         ViewOf&& view_of) {
  const size_t rows = block.num_rows;
  // 1. Rows in the time window (and dataset).
  std::vector<uint8_t> selected(rows, 0);
  for (size_t r = 0; r < rows; ++r) {
    const uint64_t start = block.start_unix_nano[r];
    selected[r] = start >= spec.start_unix_nano && start < spec.end_unix_nano;
  }
  if (!spec.dataset.empty()) {
    std::vector<uint8_t> resource_ok(block.tables.resources.size());
    for (size_t i = 0; i < resource_ok.size(); ++i)
      resource_ok[i] = block.tables.ServiceName(static_cast<uint32_t>(i)) == spec.dataset;
    for (size_t r = 0; r < rows; ++r) selected[r] &= resource_ok[block.resource[r]];
  }

  // 2. Filters. String rows evaluate each filter once per dictionary entry.
  if (!spec.filters.empty()) {
    std::vector<uint8_t> combined(rows, spec.filter_or ? 0 : 1);
    for (const Filter& f : spec.filters) {
      const ColumnView& view = view_of(f.column);
      std::vector<uint8_t> dict_match(view.dict.size());
      for (size_t c = 0; c < view.dict.size(); ++c)
        dict_match[c] = Matches(model::Value::String(view.dict[c]), f);
      const bool null_match = f.op == FilterOp::kDoesNotExist;
      for (size_t r = 0; r < rows; ++r) {
        if (!selected[r]) continue;
        bool m;
        const uint8_t t = view.type[r];
        if (t == kNull) {
          m = null_match;
        } else if (t == static_cast<uint8_t>(model::ValueType::kString)) {
          m = dict_match[view.code[r]];
        } else {
          m = Matches(view.ValueAt(r), f);
        }
        if (spec.filter_or)
          combined[r] |= m;
        else
          combined[r] &= m;
      }
    }
    for (size_t r = 0; r < rows; ++r) selected[r] &= combined[r];
  }

  return selected;
}

}  // namespace

std::vector<uint8_t> SelectRows(const QuerySpec& spec, const Block& block) {
  std::unordered_map<std::string, std::unique_ptr<ColumnView>> views;
  auto view_of = [&](const std::string& column) -> const ColumnView& {
    auto& slot = views[column];
    if (!slot) {
      slot = std::make_unique<ColumnView>();
      BuildView(block, column, slot.get());
    }
    return *slot;
  };
  return SelectRowsWithViews(spec, block, view_of);
}

double SampleRateFromTraceState(std::string_view trace_state) {
  // ot=th:HEX (possibly among other ot sub-keys separated by ';'); threshold T over 56 bits:
  // the probability of keeping a span is 1 − T / 2^56, its adjusted count the inverse.
  size_t pos = 0;
  while (pos < trace_state.size()) {
    size_t comma = trace_state.find(',', pos);
    std::string_view member = trace_state.substr(
        pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    pos = comma == std::string_view::npos ? trace_state.size() : comma + 1;
    while (!member.empty() && member.front() == ' ') member.remove_prefix(1);
    if (member.substr(0, 3) != "ot=") continue;
    std::string_view ot = member.substr(3);
    size_t p = 0;
    while (p < ot.size()) {
      size_t semi = ot.find(';', p);
      std::string_view sub =
          ot.substr(p, semi == std::string_view::npos ? std::string_view::npos : semi - p);
      p = semi == std::string_view::npos ? ot.size() : semi + 1;
      if (sub.substr(0, 3) != "th:") continue;
      std::string_view hex = sub.substr(3);
      if (hex.empty() || hex.size() > 14) return 1;
      uint64_t t = 0;
      for (char c : hex) {
        int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
        if (d < 0) return 1;
        t = (t << 4) | static_cast<uint64_t>(d);
      }
      t <<= 4 * (14 - hex.size());
      const double keep = 1.0 - static_cast<double>(t) / 72057594037927936.0;  // 2^56
      return keep > 0 ? 1.0 / keep : 1;
    }
  }
  return 1;
}

constexpr uint32_t kNoGroup = UINT32_MAX;
// Inside a big block, the cancel flag is also checked every so many rows of each calculation.
constexpr size_t kRowsBetweenCancelChecks = 65536;

struct QueryExecutor::State {
  QuerySpec spec;
  size_t buckets = 1;
  uint64_t granularity_nano = 1;
  std::vector<Group> groups;
  std::unordered_map<std::string, uint32_t> group_index;
  QueryResult counters;                                     // scan statistics only
  std::shared_ptr<const QueryExecutor::TraceIdSet> traces;  // restriction, when set
  QueryBudget* budget;                                      // null: unlimited
  BudgetCharge charge;  // groups and samples held by this executor
  Status failed;        // the first limit this executor ran into

  State(const QuerySpec& s, QueryBudget* b) : spec(s), budget(b), charge(b) {
    granularity_nano = spec.granularity_seconds * 1'000'000'000ULL;
    buckets = std::max<size_t>(1, spec.bucket_count());
  }

  Status CheckCancelled() const { return budget ? budget->CheckCancelled() : Status::Ok(); }

  // The group of `key`, created when new; kNoGroup (and `failed` set) past the group cap or the
  // memory budget.
  uint32_t GroupFor(std::vector<ResultValue>&& key) {
    std::string canonical = CanonicalKey(key);
    auto it = group_index.find(canonical);
    if (it != group_index.end()) return it->second;
    if (budget != nullptr) {
      failed = budget->CheckGroups(groups.size() + 1, spec.breakdowns);
      // The group, its per-bucket aggregates, its key (twice: values and canonical form) and the
      // index node.
      if (failed.ok())
        failed = charge.Add(
            sizeof(Group) + 2 * canonical.size() + 64 + key.size() * sizeof(ResultValue) +
            spec.calculations.size() * (buckets * sizeof(Agg) + sizeof(std::vector<Sample>)));
      if (!failed.ok()) return kNoGroup;
    }
    const uint32_t id = static_cast<uint32_t>(groups.size());
    group_index.emplace(std::move(canonical), id);
    Group g;
    g.key = std::move(key);
    g.aggs.resize(spec.calculations.size() * buckets);
    g.samples.resize(spec.calculations.size());
    groups.push_back(std::move(g));
    return id;
  }

  // Grows `samples` to hold `extra` more, charging the new capacity first.
  Status ReserveSamples(std::vector<Sample>* samples, size_t extra) {
    if (samples->capacity() >= samples->size() + extra) return Status::Ok();
    const size_t capacity = std::max(samples->size() + extra, samples->capacity() * 2);
    ARIADNE_RETURN_IF_ERROR(charge.Add((capacity - samples->capacity()) * sizeof(Sample)));
    samples->reserve(capacity);
    return Status::Ok();
  }
};

QueryExecutor::QueryExecutor(const QuerySpec& spec, QueryBudget* budget)
    : state_(std::make_unique<State>(spec, budget)) {}
QueryExecutor::~QueryExecutor() = default;
QueryExecutor::QueryExecutor(QueryExecutor&&) noexcept = default;
QueryExecutor& QueryExecutor::operator=(QueryExecutor&&) noexcept = default;

void QueryExecutor::CountSkippedBlock() { state_->counters.blocks_skipped++; }

void QueryExecutor::RestrictToTraces(std::shared_ptr<const TraceIdSet> traces) {
  state_->traces = std::move(traces);
}

Status QueryExecutor::Consume(const Block& block) {
  State& st = *state_;
  ARIADNE_RETURN_IF_ERROR(st.failed);
  ARIADNE_RETURN_IF_ERROR(st.CheckCancelled());
  const QuerySpec& spec = st.spec;
  const size_t rows = block.num_rows;
  st.counters.blocks_scanned++;
  st.counters.spans_scanned += rows;
  if (rows == 0) return Status::Ok();

  // This block's column views and per-row scratch vectors, given back when the block is done.
  BudgetCharge scratch(st.budget);
  Status scratch_status = scratch.Add(rows * (1 + 8 + 4 + 4 + 4 * spec.breakdowns.size()));
  std::unordered_map<std::string, std::unique_ptr<ColumnView>> views;
  auto view_of = [&](const std::string& column) -> const ColumnView& {
    auto& slot = views[column];
    if (!slot) {
      slot = std::make_unique<ColumnView>();
      BuildView(block, column, slot.get());
      Status charged = scratch.Add(slot->Bytes());
      if (scratch_status.ok()) scratch_status = std::move(charged);
    }
    return *slot;
  };
  ARIADNE_RETURN_IF_ERROR(scratch_status);
  std::vector<uint8_t> selected = SelectRowsWithViews(spec, block, view_of);
  ARIADNE_RETURN_IF_ERROR(scratch_status);
  ARIADNE_RETURN_IF_ERROR(st.CheckCancelled());
  if (st.traces) {
    for (size_t r = 0; r < rows; ++r)
      if (selected[r] && !st.traces->count(block.trace_id[r])) selected[r] = 0;
  }

  // 3. Sample rates.
  std::vector<double> weight(rows, 1.0);
  {
    std::vector<double> state_rate(block.trace_state.dict.size());
    for (size_t c = 0; c < state_rate.size(); ++c)
      state_rate[c] = SampleRateFromTraceState(block.trace_state.dict[c]);
    for (size_t r = 0; r < rows; ++r) weight[r] = state_rate[block.trace_state.codes[r]];
    for (const char* key : {"SampleRate", "sampleRate"}) {
      for (const auto& attr : block.attributes) {
        if (attr.key != key) continue;
        for (size_t e = 0; e < attr.rows.size(); ++e) {
          model::Value v = attr.ValueAt(e);
          double rate = 0;
          if (v.type == model::ValueType::kInt)
            rate = static_cast<double>(v.int_value);
          else if (v.type == model::ValueType::kDouble)
            rate = std::round(v.double_value);
          else if (v.type == model::ValueType::kString)
            rate = ParseNumber(v.str).value_or(0);
          weight[attr.rows[e]] = rate >= 1 ? rate : 1;
        }
      }
    }
  }

  // 4. Group per row: local ids per breakdown, cached to global groups.
  const size_t nb = spec.breakdowns.size();
  std::vector<const ColumnView*> bviews;
  for (const std::string& b : spec.breakdowns) bviews.push_back(&view_of(b));
  ARIADNE_RETURN_IF_ERROR(scratch_status);
  std::vector<std::unordered_map<uint64_t, uint32_t>> numeric_ids(nb);
  auto local_id = [&](size_t b, size_t row) -> uint32_t {
    const ColumnView& v = *bviews[b];
    const uint8_t t = v.type[row];
    if (t == kNull) return kNullLocalId;
    if (t == static_cast<uint8_t>(model::ValueType::kString)) return v.code[row];
    uint64_t bits = HashValue(v, row);
    auto [it, inserted] = numeric_ids[b].try_emplace(bits, 0);
    if (inserted) it->second = static_cast<uint32_t>(v.dict.size() + numeric_ids[b].size());
    return it->second;
  };
  std::vector<uint32_t> group_of(rows, 0);
  auto group_of_row = [&](size_t r) {
    std::vector<ResultValue> key;
    key.reserve(nb);
    for (size_t b = 0; b < nb; ++b) key.push_back(ToResultValue(bviews[b]->ValueAt(r)));
    return st.GroupFor(std::move(key));
  };
  if (nb == 0) {
    uint32_t only_group = kNoGroup;
    for (size_t r = 0; r < rows; ++r) {
      if (!selected[r]) continue;
      if (only_group == kNoGroup) only_group = st.GroupFor({});
      if (only_group == kNoGroup) return st.failed;
      group_of[r] = only_group;
    }
  } else {
    // Local ids are unique per value within this block: string dictionary codes, then numeric
    // values numbered after the dictionary, then null as the last id.
    std::vector<std::vector<uint32_t>> ids(nb, std::vector<uint32_t>(rows, 0));
    std::vector<uint64_t> space(nb);
    for (size_t b = 0; b < nb; ++b) {
      for (size_t r = 0; r < rows; ++r)
        if (selected[r]) ids[b][r] = local_id(b, r);
      space[b] = bviews[b]->dict.size() + numeric_ids[b].size() + 2;
      for (size_t r = 0; r < rows; ++r)
        if (selected[r] && ids[b][r] == kNullLocalId)
          ids[b][r] = static_cast<uint32_t>(space[b] - 1);
    }
    if (nb <= 2 && (nb == 1 ? space[0] : space[0] * space[1]) <= (1u << 22)) {
      // Small key space: a dense table from combined local id to group.
      const uint64_t width = nb == 1 ? 1 : space[1];
      const size_t table_size = nb == 1 ? space[0] : space[0] * space[1];
      ARIADNE_RETURN_IF_ERROR(scratch.Add(table_size * 4));
      std::vector<uint32_t> table(table_size, kNoGroup);
      for (size_t r = 0; r < rows; ++r) {
        if (!selected[r]) continue;
        const uint64_t key = ids[0][r] * width + (nb == 2 ? ids[1][r] : 0);
        uint32_t& slot = table[key];
        if (slot == kNoGroup) slot = group_of_row(r);
        if (slot == kNoGroup) return st.failed;
        group_of[r] = slot;
      }
    } else {
      std::unordered_map<std::string, uint32_t> local_to_group;
      std::string local_key;
      for (size_t r = 0; r < rows; ++r) {
        if (!selected[r]) continue;
        local_key.clear();
        for (size_t b = 0; b < nb; ++b)
          local_key.append(reinterpret_cast<const char*>(&ids[b][r]), 4);
        auto it = local_to_group.find(local_key);
        if (it == local_to_group.end()) {
          const uint32_t group = group_of_row(r);
          if (group == kNoGroup) return st.failed;
          ARIADNE_RETURN_IF_ERROR(scratch.Add(local_key.size() + 64));
          it = local_to_group.emplace(local_key, group).first;
        }
        group_of[r] = it->second;
      }
    }
  }

  // 5. Aggregate.
  ARIADNE_RETURN_IF_ERROR(st.CheckCancelled());
  std::vector<uint32_t> bucket_of(rows, 0);
  for (size_t r = 0; r < rows; ++r) {
    if (!selected[r]) continue;
    bucket_of[r] = static_cast<uint32_t>(std::min<uint64_t>(
        st.buckets - 1, (block.start_unix_nano[r] - spec.start_unix_nano) / st.granularity_nano));
    st.counters.spans_matched++;
    if (weight[r] != 1.0) st.counters.sample_rate_weighted = true;
  }
  // Grow each group's sample vectors once per block rather than by repeated doubling.
  bool any_samples = false;
  for (const Calculation& calc : spec.calculations) any_samples |= NeedsSamples(calc.op);
  if (any_samples) {
    std::vector<uint32_t> rows_per_group(st.groups.size(), 0);
    for (size_t r = 0; r < rows; ++r)
      if (selected[r]) rows_per_group[group_of[r]]++;
    for (size_t group = 0; group < rows_per_group.size(); ++group) {
      const size_t count = rows_per_group[group];
      if (count == 0) continue;
      for (size_t c = 0; c < spec.calculations.size(); ++c) {
        if (!NeedsSamples(spec.calculations[c].op)) continue;
        // Geometric growth keeps the copying linear overall.
        ARIADNE_RETURN_IF_ERROR(st.ReserveSamples(&st.groups[group].samples[c], count));
      }
    }
  }
  for (size_t c = 0; c < spec.calculations.size(); ++c) {
    const Calculation& calc = spec.calculations[c];
    const ColumnView* view = calc.column.empty() ? nullptr : &view_of(calc.column);
    ARIADNE_RETURN_IF_ERROR(scratch_status);
    ARIADNE_RETURN_IF_ERROR(st.CheckCancelled());
    for (size_t r = 0; r < rows; ++r) {
      if (r % kRowsBetweenCancelChecks == kRowsBetweenCancelChecks - 1)
        ARIADNE_RETURN_IF_ERROR(st.CheckCancelled());
      if (!selected[r]) continue;
      Group& g = st.groups[group_of[r]];
      Agg& agg = g.aggs[c * st.buckets + bucket_of[r]];
      const double w = weight[r];
      agg.weight += w;
      agg.spans++;
      if (calc.op == CalcOp::kConcurrency) {
        g.samples[c].push_back(Sample{bucket_of[r], static_cast<double>(block.start_unix_nano[r]),
                                      w,
                                      std::max(block.end_unix_nano[r], block.start_unix_nano[r])});
        continue;
      }
      if (view == nullptr) continue;
      const uint8_t t = view->type[r];
      if (calc.op == CalcOp::kCountDistinct) {
        if (t != kNull) g.samples[c].push_back(Sample{bucket_of[r], 0, 1, HashValue(*view, r)});
        continue;
      }
      if (!IsNumeric(t) || t == static_cast<uint8_t>(model::ValueType::kBool)) continue;
      const double x = view->num[r];
      agg.weighted_sum += w * x;
      agg.value_weight += w;
      agg.min = std::min(agg.min, x);
      agg.max = std::max(agg.max, x);
      agg.values++;
      if (NeedsSamples(calc.op)) g.samples[c].push_back(Sample{bucket_of[r], x, w, 0});
    }
  }
  return Status::Ok();
}

Status QueryExecutor::Merge(QueryExecutor&& other) {
  State& st = *state_;
  State& o = *other.state_;
  ARIADNE_RETURN_IF_ERROR(st.failed);
  ARIADNE_RETURN_IF_ERROR(o.failed);
  ARIADNE_RETURN_IF_ERROR(st.CheckCancelled());
  st.counters.blocks_scanned += o.counters.blocks_scanned;
  st.counters.blocks_skipped += o.counters.blocks_skipped;
  st.counters.spans_scanned += o.counters.spans_scanned;
  st.counters.spans_matched += o.counters.spans_matched;
  st.counters.sample_rate_weighted |= o.counters.sample_rate_weighted;
  if (!st.traces) st.traces = o.traces;
  for (Group& g : o.groups) {
    const uint32_t id = st.GroupFor(std::vector<ResultValue>(g.key));
    if (id == kNoGroup) return st.failed;
    Group& mine = st.groups[id];
    for (size_t i = 0; i < g.aggs.size(); ++i) mine.aggs[i].Merge(g.aggs[i]);
    for (size_t c = 0; c < g.samples.size(); ++c) {
      ARIADNE_RETURN_IF_ERROR(st.ReserveSamples(&mine.samples[c], g.samples[c].size()));
      mine.samples[c].insert(mine.samples[c].end(), g.samples[c].begin(), g.samples[c].end());
      std::vector<Sample>().swap(g.samples[c]);  // the copy is charged to this executor now
    }
  }
  // `other` is spent: free its groups and give its charge back.
  o.groups = {};
  o.group_index = {};
  o.charge.ReleaseAll();
  return Status::Ok();
}

namespace {

// Samples of one group and calculation, grouped by time bucket so that each bucket's values are
// a contiguous slice.
struct PreparedSamples {
  std::vector<Sample> samples;
  std::vector<uint32_t> begin;  // bucket b is samples[begin[b], begin[b + 1]) (when bucketed)
  std::optional<double> total_percentile;  // PNN over every sample
  std::vector<double> concurrency;         // CONCURRENCY per bucket
  double concurrency_total = 0;
};

double WeightedPercentile(Sample* first, Sample* last, double p);

// `by_bucket` is false for the totals row, which needs no time series: its samples are then left
// in any order.
PreparedSamples Prepare(const CalcOp op, double percentile, std::vector<Sample> samples,
                        size_t buckets, uint64_t granularity_nano, uint64_t window_start,
                        bool by_bucket) {
  PreparedSamples p;
  // The whole-scope percentile first, selecting in place: bucketing reorders the samples anyway.
  if (op == CalcOp::kPercentile && !samples.empty())
    p.total_percentile =
        WeightedPercentile(samples.data(), samples.data() + samples.size(), percentile);
  if (!by_bucket && op != CalcOp::kConcurrency) {
    p.samples = std::move(samples);
    return p;
  }
  // Counting sort by time bucket: O(n), and each bucket's samples end up contiguous.
  p.begin.assign(buckets + 1, 0);
  for (const Sample& s : samples) p.begin[s.bucket + 1]++;
  for (size_t b = 0; b < buckets; ++b) p.begin[b + 1] += p.begin[b];
  {
    // In place (American flag sort): no second buffer for tens of millions of samples.
    std::vector<uint32_t> next(p.begin.begin(), p.begin.end() - 1);
    for (size_t b = 0; b < buckets; ++b) {
      while (next[b] < p.begin[b + 1]) {
        Sample& s = samples[next[b]];
        if (s.bucket == b) {
          ++next[b];
        } else {
          std::swap(s, samples[next[s.bucket]++]);
        }
      }
    }
  }
  if (op == CalcOp::kConcurrency) {
    // One sweep over span starts and ends (ends first at equal times); each bucket's value is the
    // most spans in flight inside it, counting those carried in from earlier buckets.
    std::vector<std::pair<double, double>> events;
    events.reserve(samples.size() * 2);
    for (const Sample& s : samples) {
      events.emplace_back(s.value, s.weight);
      events.emplace_back(static_cast<double>(s.aux), -s.weight);
    }
    std::sort(events.begin(), events.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first < b.first : a.second < b.second;
    });
    p.concurrency.assign(buckets, 0);
    double current = 0;
    size_t e = 0;
    for (size_t b = 0; b < buckets; ++b) {
      const double hi = static_cast<double>(window_start + (b + 1) * granularity_nano);
      double best = current;  // carried in
      while (e < events.size() && events[e].first < hi) {
        current += events[e].second;
        best = std::max(best, current);
        ++e;
      }
      p.concurrency[b] = std::max(0.0, best);
      p.concurrency_total = std::max(p.concurrency_total, p.concurrency[b]);
    }
  }
  p.samples = std::move(samples);
  return p;
}

// Weighted nearest rank: the smallest value whose cumulative weight (in ascending value order)
// reaches p × total weight. Quickselect with weights: expected O(n); reorders [first, last).
double WeightedPercentile(Sample* first, Sample* last, double p) {
  double total = 0;
  bool unit_weights = true;
  for (const Sample* s = first; s != last; ++s) {
    total += s->weight;
    unit_weights &= s->weight == 1.0;
  }
  auto by_value = [](const Sample& a, const Sample& b) { return a.value < b.value; };
  if (unit_weights) {
    // Plain nearest rank: the ⌈p·n⌉-th smallest value, one selection.
    const double n = static_cast<double>(last - first);
    size_t rank = static_cast<size_t>(std::ceil(p * n - 1e-9 * n));
    if (rank < 1) rank = 1;
    Sample* kth = first + (std::min<size_t>(rank, static_cast<size_t>(last - first)) - 1);
    std::nth_element(first, kth, last, by_value);
    return kth->value;
  }
  double target = p * total - 1e-9 * total;
  while (last - first > 16) {
    Sample* mid = first + (last - first) / 2;
    std::nth_element(first, mid, last, by_value);
    double left = 0;
    for (const Sample* s = first; s != mid; ++s) left += s->weight;
    if (left >= target) {
      last = mid;  // the answer is among the values at or below the pivot
    } else if (left + mid->weight >= target) {
      return mid->value;
    } else {
      target -= left + mid->weight;
      first = mid + 1;
    }
  }
  std::sort(first, last, by_value);
  double cumulative = 0;
  for (Sample* s = first; s != last; ++s) {
    cumulative += s->weight;
    if (cumulative >= target) return s->value;
  }
  return (last - 1)->value;
}

ResultValue Compute(const Calculation& calc, const Agg& agg, PreparedSamples* prepared,
                    std::optional<uint32_t> bucket, size_t buckets, uint64_t granularity_nano,
                    const Agg* bucket_aggs) {
  switch (calc.op) {
    case CalcOp::kCount:
      return CountValue(agg.weight);
    case CalcOp::kSum:
      return agg.values ? ResultValue(agg.weighted_sum) : ResultValue();
    case CalcOp::kAvg:
      return agg.values && agg.value_weight > 0 ? ResultValue(agg.weighted_sum / agg.value_weight)
                                                : ResultValue();
    case CalcOp::kMin:
      return agg.values ? ResultValue(agg.min) : ResultValue();
    case CalcOp::kMax:
      return agg.values ? ResultValue(agg.max) : ResultValue();
    case CalcOp::kCountDistinct: {
      const Sample* first = prepared->samples.data() + (bucket ? prepared->begin[*bucket] : 0);
      const Sample* last = prepared->samples.data() +
                           (bucket ? prepared->begin[*bucket + 1] : prepared->samples.size());
      std::unordered_set<uint64_t> seen;
      for (const Sample* s = first; s != last; ++s) seen.insert(s->aux);
      return static_cast<int64_t>(seen.size());
    }
    case CalcOp::kPercentile: {
      if (bucket) {
        Sample* first = prepared->samples.data() + prepared->begin[*bucket];
        Sample* last = prepared->samples.data() + prepared->begin[*bucket + 1];
        if (first == last) return std::monostate{};
        return WeightedPercentile(first, last, calc.percentile);
      }
      if (!prepared->total_percentile) return std::monostate{};
      return *prepared->total_percentile;
    }
    case CalcOp::kConcurrency:
      return CountValue(bucket ? prepared->concurrency[*bucket] : prepared->concurrency_total);
    case CalcOp::kRateAvg:
    case CalcOp::kRateSum:
    case CalcOp::kRateMax: {
      // Per bucket: AVG/SUM/MAX of the column; rate = change from the previous bucket per second.
      auto bucket_value = [&](size_t b) -> std::optional<double> {
        const Agg& a = bucket_aggs[b];
        if (a.values == 0) return std::nullopt;
        if (calc.op == CalcOp::kRateAvg) return a.weighted_sum / a.value_weight;
        if (calc.op == CalcOp::kRateSum) return a.weighted_sum;
        return a.max;
      };
      const double seconds = static_cast<double>(granularity_nano) / 1e9;
      auto rate_at = [&](size_t b) -> std::optional<double> {
        if (b == 0) return std::nullopt;
        auto cur = bucket_value(b), prev = bucket_value(b - 1);
        if (!cur || !prev) return std::nullopt;
        return (*cur - *prev) / seconds;
      };
      if (bucket) {
        auto r = rate_at(*bucket);
        return r ? ResultValue(*r) : ResultValue();
      }
      double sum = 0;
      int n = 0;
      for (size_t b = 1; b < buckets; ++b) {
        if (auto r = rate_at(b)) {
          sum += *r;
          ++n;
        }
      }
      return n ? ResultValue(sum / n) : ResultValue();
    }
    case CalcOp::kHeatmap:
      return std::monostate{};
  }
  return std::monostate{};
}

std::vector<HeatmapBucket> Heatmap(const PreparedSamples& prepared, std::optional<uint32_t> bucket,
                                   double lo, double hi) {
  std::vector<HeatmapBucket> out(kHeatmapBuckets);
  const double width = hi > lo ? (hi - lo) / kHeatmapBuckets : 1;
  for (size_t i = 0; i < kHeatmapBuckets; ++i) {
    out[i].lower = lo + width * static_cast<double>(i);
    out[i].upper = lo + width * static_cast<double>(i + 1);
  }
  const size_t first = bucket ? prepared.begin[*bucket] : 0;
  const size_t last = bucket ? prepared.begin[*bucket + 1] : prepared.samples.size();
  for (size_t k = first; k < last; ++k) {
    const Sample& s = prepared.samples[k];
    size_t i = hi > lo ? static_cast<size_t>((s.value - lo) / width) : 0;
    out[std::min(i, kHeatmapBuckets - 1)].count += s.weight;
  }
  return out;
}

}  // namespace

Result<QueryResult> QueryExecutor::Finish() {
  State& st = *state_;
  ARIADNE_RETURN_IF_ERROR(st.failed);
  ARIADNE_RETURN_IF_ERROR(st.CheckCancelled());
  const QuerySpec& spec = st.spec;
  const size_t ncalc = spec.calculations.size();
  const size_t nb = st.buckets;
  QueryResult result = std::move(st.counters);

  // What Finish holds besides the groups: the totals' copy of every sample, CONCURRENCY's
  // start/end events and COUNT_DISTINCT's set for the largest group, and a result row per group.
  BudgetCharge finish_charge(st.budget);
  {
    uint64_t bytes = st.groups.size() *
                     (sizeof(ResultRow) + (spec.breakdowns.size() + ncalc) * sizeof(ResultValue) +
                      ncalc * sizeof(PreparedSamples));
    for (size_t c = 0; c < ncalc; ++c) {
      if (!NeedsSamples(spec.calculations[c].op)) continue;
      size_t all = 0, largest = 0;
      for (const Group& g : st.groups) {
        all += g.samples[c].size();
        largest = std::max(largest, g.samples[c].size());
      }
      const bool totals_copy = !(spec.breakdowns.empty() && st.groups.size() == 1);
      if (totals_copy) bytes += all * sizeof(Sample);
      if (spec.calculations[c].op == CalcOp::kConcurrency) bytes += 2 * all * 16;
      if (spec.calculations[c].op == CalcOp::kCountDistinct) bytes += largest * 48;
    }
    ARIADNE_RETURN_IF_ERROR(finish_charge.Add(bytes));
  }

  // Heatmap ranges are shared by every row so rows can be compared.
  std::vector<double> heat_lo(ncalc, 0), heat_hi(ncalc, 0);
  for (size_t c = 0; c < ncalc; ++c) {
    if (spec.calculations[c].op != CalcOp::kHeatmap) continue;
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const Group& g : st.groups)
      for (const Sample& s : g.samples[c]) {
        lo = std::min(lo, s.value);
        hi = std::max(hi, s.value);
      }
    if (lo <= hi) {
      heat_lo[c] = lo;
      heat_hi[c] = hi;
    }
  }

  // Per group (and for the totals), the calculations' samples prepared once.
  auto prepare_all = [&](std::vector<std::vector<Sample>>&& samples, bool by_bucket) {
    std::vector<PreparedSamples> prepared(ncalc);
    for (size_t c = 0; c < ncalc; ++c)
      if (NeedsSamples(spec.calculations[c].op))
        prepared[c] =
            Prepare(spec.calculations[c].op, spec.calculations[c].percentile, std::move(samples[c]),
                    nb, st.granularity_nano, spec.start_unix_nano, by_bucket);
    return prepared;
  };
  auto row_for = [&](const std::vector<ResultValue>& key, const std::vector<Agg>& aggs,
                     std::vector<PreparedSamples>& prepared, std::optional<uint32_t> bucket) {
    ResultRow row;
    row.breakdowns = key;
    for (size_t c = 0; c < ncalc; ++c) {
      const Calculation& calc = spec.calculations[c];
      const Agg* per_bucket = aggs.data() + c * nb;
      Agg merged;
      if (bucket) {
        merged = per_bucket[*bucket];
      } else {
        for (size_t b = 0; b < nb; ++b) merged.Merge(per_bucket[b]);
      }
      row.values.push_back(
          Compute(calc, merged, &prepared[c], bucket, nb, st.granularity_nano, per_bucket));
      if (calc.op == CalcOp::kHeatmap)
        row.heatmaps.push_back(Heatmap(prepared[c], bucket, heat_lo[c], heat_hi[c]));
    }
    return row;
  };

  // Totals first: they need every group's samples before the groups' own are moved. Without
  // breakdowns the single group is the totals row, so nothing is copied.
  const bool totals_are_the_group = spec.breakdowns.empty() && st.groups.size() == 1;
  if (!totals_are_the_group) {
    std::vector<Agg> all_aggs(ncalc * nb);
    std::vector<std::vector<Sample>> all_samples(ncalc);
    for (const Group& g : st.groups) {
      for (size_t i = 0; i < all_aggs.size(); ++i) all_aggs[i].Merge(g.aggs[i]);
      for (size_t c = 0; c < ncalc; ++c)
        if (NeedsSamples(spec.calculations[c].op))
          all_samples[c].insert(all_samples[c].end(), g.samples[c].begin(), g.samples[c].end());
    }
    std::vector<PreparedSamples> all_prepared = prepare_all(std::move(all_samples), false);
    result.totals = row_for({}, all_aggs, all_prepared, std::nullopt);
  }

  // Rows per group, then having, order, limit.
  std::vector<std::vector<PreparedSamples>> group_prepared(st.groups.size());
  std::vector<ResultRow> rows;
  std::vector<size_t> row_group;
  for (size_t gi = 0; gi < st.groups.size(); ++gi) {
    if (gi % 4096 == 4095) ARIADNE_RETURN_IF_ERROR(st.CheckCancelled());
    Group& g = st.groups[gi];
    group_prepared[gi] = prepare_all(std::move(g.samples), true);
    ResultRow row = row_for(g.key, g.aggs, group_prepared[gi], std::nullopt);
    if (totals_are_the_group) result.totals = row;
    bool keep = true;
    for (const Having& h : spec.havings) {
      auto v = AsDouble(row.values[h.calculation]);
      if (!v || !CompareHaving(*v, h.op, h.value)) keep = false;
    }
    if (!keep) continue;
    rows.push_back(std::move(row));
    row_group.push_back(gi);
  }
  std::vector<Order> orders = spec.orders;
  if (orders.empty()) {
    for (size_t c = 0; c < ncalc; ++c) {
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
  std::vector<size_t> order_idx(rows.size());
  std::iota(order_idx.begin(), order_idx.end(), 0);
  std::stable_sort(order_idx.begin(), order_idx.end(), [&](size_t a, size_t b) {
    for (const Order& o : orders) {
      int c;
      if (o.calculation) {
        c = CompareResultValues(rows[a].values[*o.calculation], rows[b].values[*o.calculation]);
      } else {
        size_t i = static_cast<size_t>(
            std::find(spec.breakdowns.begin(), spec.breakdowns.end(), o.column) -
            spec.breakdowns.begin());
        c = CompareResultValues(rows[a].breakdowns[i], rows[b].breakdowns[i]);
      }
      if (c != 0) return o.descending ? c > 0 : c < 0;
    }
    return false;
  });
  if (order_idx.size() > spec.limit) order_idx.resize(spec.limit);
  for (size_t i : order_idx) result.rows.push_back(rows[i]);

  // Series for the groups that made it into the result.
  for (size_t b = 0; b < nb; ++b) {
    SeriesPoint point;
    point.time_unix_nano = spec.start_unix_nano + b * st.granularity_nano;
    for (size_t i : order_idx) {
      const size_t gi = row_group[i];
      const Group& g = st.groups[gi];
      bool present = false;
      for (size_t c = 0; c < ncalc && !present; ++c) present = g.aggs[c * nb + b].spans > 0;
      if (!present) continue;
      point.rows.push_back(row_for(g.key, g.aggs, group_prepared[gi], static_cast<uint32_t>(b)));
    }
    result.series.push_back(std::move(point));
  }
  return result;
}

}  // namespace ariadne::query
