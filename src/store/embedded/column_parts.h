// Column parts: a block's columns one unit at a time, for the column cache (column_cache.h).
//
// A unit is what a ColumnSet names: one fixed column bit (kStart, kName, kResourceScope, ...), one
// attribute key, or "every attribute column" (ColumnSet::all_attributes). A part is a Block that
// holds just one unit's columns of a block (plus its environment and row count), copied out of a
// block read from the file; AddPart copies a part's columns into a Block being assembled, so a
// reader gets one Block holding exactly the units it asked for, as ReadBlockColumns would return
// it (attribute columns in key order, absent keys left out).
//
// What each fixed unit carries: the row vector(s) of its bit; kResourceScope also the resource and
// scope tables, kEventsLinks the event and link tables (each with the attributes and strings they
// reference). Assembling both therefore gives the same `tables` a full decode gives.
//
// Threads: plain functions over values; no shared state.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "columnar/block.h"

namespace ariadne::store::embedded {

struct ColumnUnit {
  uint32_t bit = 0;             // one ColumnSet::Bit, or 0 for an attribute unit
  bool all_attributes = false;  // with bit 0: every attribute column
  std::string key;              // with bit 0 and !all_attributes: the attribute key

  // A name unique among the units of a block ("#<bit>", "*", or "a<key>").
  std::string CacheKey() const;
  // The ColumnSet naming just this unit.
  columnar::ColumnSet AsSet() const;
};

// The units `columns` names, fixed bits first (in bit order), then attribute keys in key order.
std::vector<ColumnUnit> UnitsOf(const columnar::ColumnSet& columns);

// A new block holding `unit`'s columns of `from` (a block read with at least that unit), with
// from's environment and num_rows.
std::shared_ptr<const columnar::Block> CopyPart(const columnar::Block& from,
                                                const ColumnUnit& unit);

// Copies `unit`'s columns of `from` (a part, or any block read with that unit) into `to`.
// Attribute units must be added in key order; the resource/scope and events/links units may come
// in either order, each at most once.
void AddPart(const columnar::Block& from, const ColumnUnit& unit, columnar::Block* to);

}  // namespace ariadne::store::embedded
