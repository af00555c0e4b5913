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
// CachedPart is a part as the column cache keeps it: its widest per-row columns narrowed where the
// values allow, so more blocks fit in the cache's bytes (at 10M spans the columns of three common
// queries did not fit in a 288 MiB cache and every query decoded blocks again). kStart keeps
// start − the block's first start as 32 bits per row (a block covers a few seconds; rows 2^32 ns
// or more after it are exceptions with their start time) — start times were a third of what
// the three attribute COUNTs of the 10 M-span benchmark kept, which then no longer fitted the
// 226 MiB cache of --memory-limit 1GiB. kEnd keeps
// end − start as 32 bits per row (the few rows whose duration does not fit, or that end before
// they start, are listed as exceptions with their end time); kResourceScope keeps its resource
// and scope indices, and the dictionary-coded units (kName, kStatusMessage, kTraceState) their
// codes, as one byte per row when there are at most 256 of them; an attribute key's column keeps
// one type and 16- or 32-bit values when all its entries allow, and no row numbers at all when
// every row has the key (at 10 M spans the three filtered keys were on every span: 40 MB of row
// numbers each). AddCachedPart widens them again, so
// readers see the same Block as from AddPart.
//
// Two compact forms on top (for the 100 M-span benchmark, where the filtered COUNTs' columns were
// 3.5x the cache): a dictionary-coded unit with a single string (trace states nobody sets) keeps
// no codes at all, and an attribute column of 16-bit values with at most 256 distinct ones (HTTP
// status codes, booleans, small string dictionaries) keeps one byte per entry and the distinct
// values. Readers of parts as kept that know only the earlier forms (trace_rows.h) get them through
// WithEarlierForms.
//
// Threads: plain functions over values; no shared state.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
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

// AddPart, moving `unit`'s row vectors and attribute columns out of `from` instead of copying
// them (tables are copied); `from` keeps them empty.
void MovePart(columnar::Block* from, const ColumnUnit& unit, columnar::Block* to);

// A part as the column cache keeps it (see the header comment). Immutable once made.
struct CachedPart {
  enum class Narrowed : uint8_t { kNone, kStart, kEnd, kResourceScope, kDictCodes, kAttribute };
  std::shared_ptr<const columnar::Block> block;  // the unit's columns; narrowed ones left empty
  Narrowed narrowed = Narrowed::kNone;
  // kStart: start − start_base per row (0 for the exceptions: rows 2^32 ns or more past the base),
  // and the exceptions' (row, start) in row order.
  uint64_t start_base = 0;
  std::vector<uint32_t> start_offset;
  std::vector<std::pair<uint32_t, uint64_t>> start_exceptions;
  // kEnd: end − start per row (0 for the exceptions), and the exceptions' (row, end) in row order.
  std::vector<uint32_t> duration;
  std::vector<std::pair<uint32_t, uint64_t>> end_exceptions;
  // kResourceScope: resource and scope indices (at most 256 of each). kDictCodes: the dictionary
  // codes of the unit's DictColumn (at most 256 strings) in `bytes_a`.
  std::vector<uint8_t> bytes_a;
  std::vector<uint8_t> bytes_b;
  // kDictCodes with `dict_constant`: the dictionary holds one string, every row's code is 0 and
  // bytes_a is empty.
  bool dict_constant = false;
  // kAttribute: the column's entries all have type `attribute_type` and values below 2^16
  // (`attribute_values`) or else below 2^32 (`attribute_values32`, the other one empty); with
  // `attribute_every_row`, entry e is row e for every row (the part's rows vector left empty).
  model::ValueType attribute_type = model::ValueType::kEmpty;
  std::vector<uint16_t> attribute_values;
  std::vector<uint32_t> attribute_values32;
  bool attribute_every_row = false;
  // kAttribute, compact: entry e's value is attribute_table[attribute_codes[e]] (both vectors of
  // values above then empty).
  std::vector<uint16_t> attribute_table;
  std::vector<uint8_t> attribute_codes;

  // Whether it uses a compact form (dict_constant or attribute codes).
  bool Compact() const { return dict_constant || !attribute_codes.empty(); }

  // Roughly the heap bytes it holds (for the cache's budget).
  uint64_t Bytes() const;
};

// `unit`'s columns of `from` (a block read with at least that unit and, for kEnd, kStart), narrowed
// where their values allow.
std::shared_ptr<const CachedPart> MakeCachedPart(const columnar::Block& from,
                                                 const ColumnUnit& unit);

// `part` in the earlier forms only (kDictCodes with bytes_a per row, kAttribute with
// attribute_values or attribute_values32): `part` itself when it uses no compact form.
std::shared_ptr<const CachedPart> WithEarlierForms(std::shared_ptr<const CachedPart> part);

// Adds `part` (of `unit`) to `to`, widened again. For kEnd, `to` must already hold the block's
// start times (units are added in bit order, and kStart comes before kEnd).
void AddCachedPart(const CachedPart& part, const ColumnUnit& unit, columnar::Block* to);

}  // namespace ariadne::store::embedded
