// ColumnView: one column of one block resolved into dense per-row vectors (type, dictionary code,
// number, exact integer), and ColumnViews, the per-block cache of them that charges their memory
// to the query's budget.
//
// Contract: BuildView gives every row the value docs/query.md defines for the column — intrinsic
// columns from the block's fixed columns, otherwise the span attribute of that key over the
// resource attribute (a span attribute wins). String-like values keep dictionary codes into
// `dict`, so per-value work (a predicate, a group lookup) runs once per distinct string. Filters
// on attribute columns do not use views (row_filter.h evaluates them on the sparse columns);
// breakdowns and calculations do.
//
// Threads: plain values, used by one thread.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "columnar/block.h"
#include "common/status.h"
#include "model/span_batch.h"
#include "query/exec/query_budget.h"

namespace ariadne::query::exec {

constexpr uint8_t kNull = 255;  // ColumnView::type of a row without a value

inline bool IsStringLike(uint8_t t) {
  auto type = static_cast<model::ValueType>(t);
  return type == model::ValueType::kString || type == model::ValueType::kBytes ||
         type == model::ValueType::kArray || type == model::ValueType::kKvList;
}
inline bool IsNumeric(uint8_t t) {
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

  // Every row a double: only `type` and `num` are filled (`code` and `ints` stay empty, which
  // nothing reads for doubles).
  void ResizeDoubles(size_t rows) {
    type.assign(rows, static_cast<uint8_t>(model::ValueType::kDouble));
    num.resize(rows);
  }
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

// The whole of `s` as a number, or nullopt.
std::optional<double> ParseNumber(std::string_view s);

// True for the columns computed from a block's fixed columns (name, duration_ms, span.kind, …);
// every other column is a resource or span attribute.
bool IsIntrinsicColumn(std::string_view column);

// Resolves `column` of `block` into `view` (docs/query.md's column semantics).
void BuildView(const columnar::Block& block, const std::string& column, ColumnView* view);

// A hash of row `row`'s value (type and value), for COUNT_DISTINCT and numeric group ids.
uint64_t HashValue(const ColumnView& view, size_t row);

// The views of one block, built on first use. Each view's memory is charged to `charge` (may be
// null); the first failed charge is kept in status() and the view is still returned.
class ColumnViews {
 public:
  ColumnViews(const columnar::Block& block, BudgetCharge* charge)
      : block_(block), charge_(charge) {}
  const ColumnView& Get(const std::string& column);
  const Status& status() const { return status_; }

 private:
  const columnar::Block& block_;
  BudgetCharge* charge_;
  std::unordered_map<std::string, std::unique_ptr<ColumnView>> views_;
  Status status_;
};

}  // namespace ariadne::query::exec
