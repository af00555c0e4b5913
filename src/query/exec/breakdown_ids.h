// BreakdownIds: for one breakdown column of one block, a small local id per selected row — equal
// ids for equal values within the block (different ids may still hold equal values; the executor
// maps them to one group) — and the group-key value of a row, so the executor maps rows to groups
// through a dense id → group array instead of hashing values per row.
//
// Contract: ids are < space(). Dictionary columns (name, status_message, trace.trace_state) use
// their dictionary codes, span.kind its code, and attribute keys that only resources carry in
// this block one id per distinct resource value, all without building a per-row view; every other
// column resolves through the block's ColumnViews (strings by dictionary code, numbers numbered
// in order of appearance, no value as the last id). KeyOf gives what exec::ToResultValue gives
// for the row's value in the column's ColumnView (docs/query.md semantics), so keys agree
// across blocks whichever path a block takes.
//
// Threads: a plain value, used by one thread for one block.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "columnar/block.h"
#include "query/exec/column_view.h"
#include "query/query_spec.h"

namespace ariadne::query::exec {

class BreakdownIds {
 public:
  // Ids of rows sel[0], …, sel[n − 1] of `block`, written to ids[0..n). `views` (may be asked for
  // the column's view) and `block` must outlive this object.
  BreakdownIds(const columnar::Block& block, const std::string& column, const uint32_t* sel,
               size_t n, uint32_t* ids, ColumnViews* views);

  uint64_t space() const { return space_; }
  // The group-key value of row `row` (any row of the block).
  ResultValue KeyOf(uint32_t row) const;

 private:
  enum class Source { kDict, kKind, kResource, kView };
  void FromView(const uint32_t* sel, size_t n, uint32_t* ids);

  const columnar::Block& block_;
  Source source_ = Source::kView;
  const columnar::DictColumn* dict_ = nullptr;
  bool empty_is_null_ = false;
  std::vector<uint32_t> resource_ids_;  // kResource: local id per resource
  std::vector<ResultValue> values_;     // kResource: value per local id
  const ColumnView* view_ = nullptr;    // kView
  uint64_t space_ = 0;
};

}  // namespace ariadne::query::exec
