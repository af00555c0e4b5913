// TraceRows: one trace's spans read straight from a sealed block's column parts (column_cache.h:
// BlockColumnParts), at a cost in proportion to the trace, not the block.
//
// A sealed block is sorted by trace id, so a trace's rows are one contiguous range, found by a
// binary search of the trace-id column. ColumnCache::Get would first assemble a whole Block from
// the parts (copying every row of every column and widening the narrowed ones: tens of thousands
// of rows) only for Block::Materialize to read the few rows of one trace; TraceRows reads those
// rows from each part where it is, widening narrowed values (end times kept as durations, byte
// indices and dictionary codes, 16-bit attribute values) one row at a time. It appends the same
// spans, with the same resources, scopes, attributes, events and links in the same order, as
// Block::Materialize over the assembled block would (tests/store/trace_rows_test.cc checks that
// against the assembled block, the oracle).
//
// The parts must hold every fixed column (ColumnSet::kAllFixed) and either every attribute column
// or some attribute keys (then only those attributes are read, as from a block read with them).
//
// Threads: immutable after construction; Materialize may run on several threads at once. It keeps
// pointers into `parts`, which must outlive it.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "columnar/block.h"
#include "model/ids.h"
#include "model/span_batch.h"
#include "store/embedded/column_cache.h"

namespace ariadne::store::embedded {

class TraceRows {
 public:
  // REQUIRES: `parts` holds every fixed column (see the header comment).
  explicit TraceRows(const BlockColumnParts& parts);

  TraceRows(const TraceRows&) = delete;
  TraceRows& operator=(const TraceRows&) = delete;

  // Rows [first, second) of trace `id`; empty when the block has none. REQUIRES: the block is
  // sealed (sorted by trace id).
  std::pair<uint32_t, uint32_t> RowsOfTrace(const model::TraceId& id) const;

  // Appends rows [begin, end) to `out` as spans, copying strings into out's arena (resources and
  // scopes copied once per call, as Block::Materialize does). REQUIRES: end <= num_rows.
  void Materialize(uint32_t begin, uint32_t end, model::SpanBatch* out) const;

 private:
  // Where one fixed unit's values are: a part the cache kept (maybe narrowed), or a plain block
  // (an unnarrowed part's block, or the block read from the file).
  struct Source {
    const CachedPart* part = nullptr;  // non-null when narrowed
    const columnar::Block* block = nullptr;
  };
  // One attribute column in the order the assembled block would list it.
  struct AttributeSource {
    const columnar::AttributeColumn* column = nullptr;
    const CachedPart* narrowed = nullptr;  // kAttribute: types and values in the part
  };

  const Source& Of(uint32_t bit) const { return sources_[__builtin_ctz(bit)]; }
  // The value of dictionary-coded unit `bit` (kName, kStatusMessage, kTraceState) at `row`.
  std::string_view StringAt(uint32_t bit, uint32_t row) const;

  static constexpr int kFixedUnits = 13;  // the bits of ColumnSet::kAllFixed
  Source sources_[kFixedUnits];
  std::vector<AttributeSource> attributes_;
};

}  // namespace ariadne::store::embedded
