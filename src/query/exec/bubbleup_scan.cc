#include "query/exec/bubbleup_scan.h"

#include <string>
#include <unordered_map>
#include <utility>

#include "query/exec/column_view.h"
#include "query/exec/executor.h"

namespace ariadne::query::exec {
namespace {

// One distinct value of a column: its key (type tag + text), the value, and its counts.
struct Entry {
  ResultValue value;
  double all = 0;
  double selection = 0;
};

struct ColumnTable {
  std::unordered_map<std::string, Entry> values;
  bool skipped = false;
};

// The key and the result value of row `row` of a view (the same identity the query's breakdowns
// give a value: type and value).
std::pair<std::string, ResultValue> KeyOf(const ColumnView& view, size_t row) {
  const uint8_t type = view.type[row];
  if (type == kNull) return {"n", std::monostate{}};
  switch (static_cast<model::ValueType>(type)) {
    case model::ValueType::kBool:
      return {view.ints[row] ? "btrue" : "bfalse", view.ints[row] != 0};
    case model::ValueType::kInt:
      return {"i" + std::to_string(view.ints[row]), view.ints[row]};
    case model::ValueType::kDouble:
      return {"d" + std::to_string(view.num[row]), view.num[row]};
    default: {
      std::string_view s = view.dict[view.code[row]];
      return {"s" + std::string(s), std::string(s)};
    }
  }
}

constexpr uint64_t kEntryBytes = 96;  // a table node, its key and value, roughly

}  // namespace

struct BubbleUpScan::State {
  State(const BubbleUpRequest& r, QueryBudget* b)
      : request(r), budget(b), charge(b), tables(r.columns.size()) {}
  const BubbleUpRequest& request;
  QueryBudget* budget;
  BudgetCharge charge;
  std::vector<ColumnTable> tables;  // one per request.columns
  double all = 0;
  double selection = 0;
  uint64_t charged_entries = 0;

  Status Charge(uint64_t entries) {
    if (entries <= charged_entries) return Status::Ok();
    Status status = charge.Add((entries - charged_entries) * kEntryBytes);
    charged_entries = entries;
    return status;
  }
  uint64_t Entries() const {
    uint64_t n = 0;
    for (const ColumnTable& t : tables) n += t.values.size();
    return n;
  }
};

BubbleUpScan::BubbleUpScan(const BubbleUpRequest& request, QueryBudget* budget)
    : state_(std::make_unique<State>(request, budget)) {}
BubbleUpScan::~BubbleUpScan() = default;
BubbleUpScan::BubbleUpScan(BubbleUpScan&&) noexcept = default;
BubbleUpScan& BubbleUpScan::operator=(BubbleUpScan&&) noexcept = default;

Status BubbleUpScan::Consume(const columnar::Block& block) {
  State& s = *state_;
  const BubbleUpRequest& r = s.request;
  if (s.budget) ARIADNE_RETURN_IF_ERROR(s.budget->CheckCancelled());
  std::vector<uint8_t> rows = SelectRows(r.base, block);
  std::vector<uint32_t> base_rows;
  for (size_t row = 0; row < block.num_rows; ++row)
    if (rows[row]) base_rows.push_back(static_cast<uint32_t>(row));
  if (base_rows.empty()) return Status::Ok();
  // The selection: the band of the selection column and the selection's time range.
  ColumnView band;
  BuildView(block, r.column, &band);
  std::vector<uint8_t> selected(base_rows.size(), 0);
  for (size_t i = 0; i < base_rows.size(); ++i) {
    const uint32_t row = base_rows[i];
    const uint64_t start = block.start_unix_nano[row];
    if (start < r.selection_start_unix_nano || start >= r.selection_end_unix_nano) continue;
    if (band.type[row] == kNull || !IsNumeric(band.type[row])) continue;
    const double v = band.num[row];
    if ((r.min && v < *r.min) || (r.max && v > *r.max)) continue;
    selected[i] = 1;
    s.selection += 1;
  }
  s.all += static_cast<double>(base_rows.size());

  ColumnView view;
  std::vector<std::pair<double, double>> by_code;  // per dictionary code: all, selection
  for (size_t c = 0; c < r.columns.size(); ++c) {
    ColumnTable& table = s.tables[c];
    if (table.skipped) continue;
    if (s.budget) ARIADNE_RETURN_IF_ERROR(s.budget->CheckCancelled());
    view = ColumnView();
    BuildView(block, r.columns[c], &view);
    by_code.assign(view.dict.size(), {0, 0});
    auto add = [&](const std::pair<std::string, ResultValue>& key, double all, double sel) {
      auto [it, inserted] = table.values.try_emplace(key.first);
      if (inserted) it->second.value = key.second;
      it->second.all += all;
      it->second.selection += sel;
    };
    for (size_t i = 0; i < base_rows.size(); ++i) {
      const uint32_t row = base_rows[i];
      const uint8_t type = view.type[row];
      if (type != kNull && IsStringLike(type)) {
        auto& counts = by_code[view.code[row]];
        counts.first += 1;
        counts.second += selected[i];
      } else {
        add(KeyOf(view, row), 1, selected[i]);
      }
    }
    for (uint32_t code = 0; code < by_code.size(); ++code) {
      if (by_code[code].first == 0) continue;
      add({"s" + std::string(view.dict[code]), std::string(view.dict[code])}, by_code[code].first,
          by_code[code].second);
    }
    if (table.values.size() > r.max_values_per_column) {
      table.values.clear();
      table.skipped = true;
    }
  }
  return s.Charge(s.Entries());
}

Status BubbleUpScan::Merge(BubbleUpScan&& other) {
  State& s = *state_;
  State& o = *other.state_;
  s.all += o.all;
  s.selection += o.selection;
  for (size_t c = 0; c < s.tables.size(); ++c) {
    ColumnTable& mine = s.tables[c];
    ColumnTable& theirs = o.tables[c];
    if (mine.skipped || theirs.skipped) {
      mine.values.clear();
      mine.skipped = true;
      continue;
    }
    for (auto& [key, entry] : theirs.values) {
      auto [it, inserted] = mine.values.try_emplace(key, std::move(entry));
      if (!inserted) {
        it->second.all += entry.all;
        it->second.selection += entry.selection;
      }
    }
    theirs.values.clear();
    if (mine.values.size() > s.request.max_values_per_column) {
      mine.values.clear();
      mine.skipped = true;
    }
  }
  other.state_.reset();
  return s.Charge(s.Entries());
}

BubbleUpCounts BubbleUpScan::Finish() {
  State& s = *state_;
  BubbleUpCounts out;
  out.all = s.all;
  out.selection = s.selection;
  for (size_t c = 0; c < s.tables.size(); ++c) {
    BubbleUpColumnCounts column;
    column.column = s.request.columns[c];
    if (s.tables[c].skipped) {
      column.skipped = "more than " + std::to_string(s.request.max_values_per_column) +
                       " distinct values to compare";
    } else {
      for (auto& [key, entry] : s.tables[c].values)
        column.values.push_back({std::move(entry.value), entry.all, entry.selection});
    }
    out.columns.push_back(std::move(column));
  }
  return out;
}

}  // namespace ariadne::query::exec
