// BubbleUpScan: counts, in one pass over column blocks, how many of the spans a BubbleUpRequest's
// baseline query matches have each value of each candidate column, and how many of those lie in
// its selection (query/bubbleup.h). This replaces two aggregate queries per candidate column.
//
// Per block: the baseline rows (SelectRows: window, dataset, filters), the selection flag per row
// (the selection column's value within [min, max], the span's start within the selection's time
// range), then per candidate column its view (column_view.h): string values are counted per
// dictionary code and folded into the column's table once per distinct value. A column with more
// than max_values_per_column distinct values is dropped and reported as skipped.
//
// Limits: memory of the value tables is charged to the budget (kResourceExhausted past it); the
// cancel flag is checked per block and per column (kCancelled).
//
// Threads: one scan per thread; Merge() scans over disjoint blocks before Finish().
#pragma once

#include <memory>

#include "columnar/block.h"
#include "common/status.h"
#include "query/bubbleup.h"
#include "query/exec/query_budget.h"

namespace ariadne::query::exec {

class BubbleUpScan {
 public:
  // `request` and `budget` (may be null) must outlive the scan.
  BubbleUpScan(const BubbleUpRequest& request, QueryBudget* budget);
  ~BubbleUpScan();
  BubbleUpScan(BubbleUpScan&&) noexcept;
  BubbleUpScan& operator=(BubbleUpScan&&) noexcept;

  [[nodiscard]] Status Consume(const columnar::Block& block);
  [[nodiscard]] Status Merge(BubbleUpScan&& other);
  BubbleUpCounts Finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace ariadne::query::exec
