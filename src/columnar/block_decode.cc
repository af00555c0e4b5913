// Reading block files (docs/formats/block.md): checking and decompressing column sections and
// decoding them into a Block, either every section of a file in memory (DecodeBlockFile) or only
// the sections of the columns a reader needs, through the Env (ReadBlockColumns).
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "columnar/batch_codec.h"
#include "columnar/block.h"
#include "columnar/block_internal.h"
#include "columnar/coding.h"

namespace ariadne::columnar {
namespace {

using block_internal::Crc;
using block_internal::IsStringLike;
using block_internal::ParseLayout;
using Section = SectionInfo;

bool GetDict(ByteReader* in, size_t rows, DictColumn* column) {
  uint64_t n;
  if (!in->GetVarint(&n) || n > in->remaining()) return in->Fail();
  column->dict.resize(n);
  for (std::string& s : column->dict) {
    std::string_view v;
    if (!in->GetString(&v)) return false;
    s.assign(v);
  }
  column->codes.resize(rows);
  for (uint32_t& code : column->codes)
    if (!in->GetVarint32(&code) || code >= n) return in->Fail();
  return true;
}

template <typename T>
bool GetVarints(ByteReader* in, size_t rows, std::vector<T>* values) {
  values->resize(rows);
  for (T& v : *values) {
    uint64_t wide;
    if (!in->GetVarint(&wide)) return false;
    v = static_cast<T>(wide);
  }
  return true;
}

// Checks and decompresses one section from `compressed`, its stored bytes.
Result<std::string> ReadSection(std::string_view compressed, const Section& s) {
  if (compressed.size() != s.compressed || Crc(compressed) != s.crc)
    return Status::DataLoss("block section '" + s.name + "' failed its checksum");
  std::string raw(s.raw, '\0');
  size_t n = ZSTD_decompress(raw.data(), raw.size(), compressed.data(), compressed.size());
  if (ZSTD_isError(n) || n != s.raw)
    return Status::DataLoss("block section '" + s.name + "' does not decompress");
  return raw;
}

// The ColumnSet bit a section belongs to (0 for attribute sections and unknown names).
uint32_t SectionBit(const std::string& name) {
  static const std::map<std::string, uint32_t, std::less<>> kBits = {
      {"trace_id", ColumnSet::kTraceId},
      {"span_id", ColumnSet::kSpanId},
      {"parent_span_id", ColumnSet::kParentSpanId},
      {"start", ColumnSet::kStart},
      {"duration", ColumnSet::kEnd},
      {"name", ColumnSet::kName},
      {"kind", ColumnSet::kKind},
      {"status_code", ColumnSet::kStatusCode},
      {"status_message", ColumnSet::kStatusMessage},
      {"trace_state", ColumnSet::kTraceState},
      {"flags_dropped", ColumnSet::kFlagsDropped},
      {"resource_scope", ColumnSet::kResourceScope},
      {"tables", ColumnSet::kResourceScope},
      {"events_links", ColumnSet::kEventsLinks},
  };
  auto it = kBits.find(name);
  return it == kBits.end() ? 0 : it->second;
}

bool SectionNeeded(const Section& s, const ColumnSet& needed, uint32_t version) {
  if (s.name.rfind("attr:", 0) == 0) return needed.HasAttribute(std::string_view(s.name).substr(5));
  // From version 5 string attribute values may be coded against the span name.
  if (version >= 5 && s.name == "name" && (needed.all_attributes || !needed.attributes.empty()))
    return true;
  // From version 3 the "name" section holds each row's resource too.
  if (version >= 3 && s.name == "name")
    return needed.fixed & (ColumnSet::kName | ColumnSet::kResourceScope);
  const uint32_t bit = SectionBit(s.name);
  return bit != 0 && (needed.fixed & bit) != 0;
}

// ---- Format version 3 (block_encode.cc writes it; docs/formats/block.md) ----

// PutStrings: u8 mode (bit 0 first use, bit 1 hex-packed), varint entries, int column of
// lengths, bytes, int column of codes. `extra` more codes than entries are let through (sorted
// mode only; format 5's name-conditioned codes, checked by the caller).
bool GetStrings(ByteReader* in, size_t n, std::vector<std::string>* dict,
                std::vector<uint32_t>* codes, uint32_t extra = 0) {
  uint8_t mode;
  uint64_t entries;
  if (!in->GetByte(&mode) || mode > 3 || !in->GetVarint(&entries) || entries > in->remaining())
    return in->Fail();
  std::vector<uint64_t> lengths;
  if (!GetIntColumn(in, entries, &lengths)) return false;
  dict->resize(entries);
  for (size_t i = 0; i < entries; ++i) {
    std::string_view v;
    if (!in->GetBytes(lengths[i], &v)) return false;
    if ((mode & 2) == 0) {
      (*dict)[i].assign(v);
      continue;
    }
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string& hex = (*dict)[i];
    hex.resize(v.size() * 2);
    for (size_t j = 0; j < v.size(); ++j) {
      hex[2 * j] = kDigits[static_cast<uint8_t>(v[j]) >> 4];
      hex[2 * j + 1] = kDigits[static_cast<uint8_t>(v[j]) & 15];
    }
  }
  if (!GetIntColumn(in, n, codes)) return false;
  if ((mode & 1) == 0) {
    for (uint32_t code : *codes)
      if (code >= entries + extra) return in->Fail();
    return true;
  }
  if (extra != 0) return in->Fail();
  uint64_t next = 0;  // first-use order: 0 is the next new entry, k ≥ 1 entry k − 1
  for (uint32_t& code : *codes) {
    if (code == 0) {
      code = static_cast<uint32_t>(next++);
    } else {
      code -= 1;
      if (code >= next) return in->Fail();
    }
    if (code >= entries) return in->Fail();
  }
  return true;
}

// Format 5 string-like values of an attribute column (block_encode.cc, PutStringValues): u8 0 and
// the strings, or u8 1 and codes against the span name of each value's row (`value_rows`), which
// `block` must hold already (its "name" section comes first).
bool GetStringValues(ByteReader* in, size_t n, const std::vector<uint32_t>& value_rows,
                     const Block& block, std::vector<std::string>* dict,
                     std::vector<uint32_t>* codes) {
  uint8_t conditioned;
  if (!in->GetByte(&conditioned) || conditioned > 1) return in->Fail();
  if (conditioned == 0) return GetStrings(in, n, dict, codes);
  uint64_t distinct;
  std::vector<uint32_t> predictions;
  if (block.name.codes.size() != block.num_rows || !in->GetVarint(&distinct) ||
      distinct > block.num_rows || !GetIntColumn(in, distinct, &predictions) ||
      !GetStrings(in, n, dict, codes, 1))
    return in->Fail();
  size_t names = 0;
  const std::vector<uint32_t> ranks = block_internal::NameRanks(block.name, &names);
  if (names != distinct) return in->Fail();
  std::vector<uint32_t> entry_ranks(n);
  for (size_t i = 0; i < n; ++i) entry_ranks[i] = ranks[value_rows[i]];
  if (!block_internal::UnconditionCodes(entry_ranks, predictions, dict->size(), codes))
    return in->Fail();
  return true;
}

bool GetDictV3(ByteReader* in, size_t rows, DictColumn* column) {
  return GetStrings(in, rows, &column->dict, &column->codes);
}

constexpr int kMaxDecimals = 15;
constexpr double kPow10[kMaxDecimals + 1] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                             1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

bool GetDoubles(ByteReader* in, size_t n, std::vector<uint64_t>* bits) {
  uint8_t decimals;
  if (!in->GetByte(&decimals)) return false;
  if (decimals == 255) return GetIntColumn(in, n, bits);
  if (decimals > kMaxDecimals) return in->Fail();
  std::vector<int64_t> ints;
  if (!GetIntColumn(in, n, &ints)) return false;
  bits->resize(n);
  for (size_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(ints[i]) / kPow10[decimals];
    std::memcpy(&(*bits)[i], &v, 8);
  }
  return true;
}

// `names_of` (format 5, else null): the block whose span names string values may be coded against.
bool GetAttributeColumnV3(ByteReader* in, size_t rows, AttributeColumn* column,
                          const Block* names_of) {
  uint64_t n;
  if (!in->GetVarint(&n) || n > rows) return in->Fail();
  std::vector<uint32_t> deltas;
  std::vector<uint8_t> types;
  if (!GetIntColumn(in, n, &deltas) || !GetIntColumn(in, n, &types)) return false;
  column->rows.resize(n);
  column->types.resize(n);
  uint64_t row = 0;
  size_t counts[4] = {0, 0, 0, 0};  // bools, ints, doubles, strings
  std::vector<uint32_t> string_rows;
  for (size_t i = 0; i < n; ++i) {
    row += deltas[i];
    if (row >= rows || (i > 0 && deltas[i] == 0)) return in->Fail();
    column->rows[i] = static_cast<uint32_t>(row);
    if (types[i] > static_cast<uint8_t>(model::ValueType::kKvList)) return in->Fail();
    column->types[i] = static_cast<model::ValueType>(types[i]);
    switch (column->types[i]) {
      case model::ValueType::kEmpty:
        break;
      case model::ValueType::kBool:
        counts[0]++;
        break;
      case model::ValueType::kInt:
        counts[1]++;
        break;
      case model::ValueType::kDouble:
        counts[2]++;
        break;
      default:
        counts[3]++;
        if (names_of != nullptr) string_rows.push_back(static_cast<uint32_t>(row));
        break;
    }
  }
  std::vector<uint64_t> bools, ints, doubles;
  std::vector<uint32_t> codes;
  if (!GetIntColumn(in, counts[0], &bools) || !GetIntColumn(in, counts[1], &ints) ||
      !GetDoubles(in, counts[2], &doubles) ||
      !(names_of ? GetStringValues(in, counts[3], string_rows, *names_of, &column->dict, &codes)
                 : GetStrings(in, counts[3], &column->dict, &codes)))
    return false;
  column->values.resize(n);
  size_t next[4] = {0, 0, 0, 0};
  for (size_t i = 0; i < n; ++i) {
    switch (column->types[i]) {
      case model::ValueType::kEmpty:
        break;
      case model::ValueType::kBool:
        if (bools[next[0]] > 1) return in->Fail();
        column->values[i] = bools[next[0]++];
        break;
      case model::ValueType::kInt:
        column->values[i] = ints[next[1]++];
        break;
      case model::ValueType::kDouble:
        column->values[i] = doubles[next[2]++];
        break;
      default:
        column->values[i] = codes[next[3]++];
        break;
    }
  }
  return true;
}

// Decodes section `name` of a version-3 file; false when `name` is not one whose encoding changed
// in version 3 (the caller then decodes it as before).
bool DecodeSectionV3(const std::string& name, uint32_t version, ByteReader* in, Block* block,
                     Status* status) {
  const size_t rows = block->num_rows;
  auto bad = [&](const std::string& what) {
    *status = Status::DataLoss("block section '" + what + "' is malformed");
    return true;
  };
  // Runs of a trace's rows: varint count, then an int column of lengths adding up to `rows`.
  auto get_runs = [&](std::vector<uint32_t>* runs) {
    uint64_t count;
    if (!in->GetVarint(&count) || count > rows || !GetIntColumn(in, count, runs)) return false;
    uint64_t total = 0;
    for (uint32_t run : *runs) {
      if (run == 0) return false;
      total += run;
    }
    return total == rows;
  };
  if (name == "trace_id") {
    std::vector<uint32_t> runs;
    std::vector<uint64_t> high_deltas, lows;
    uint64_t high;
    if (!get_runs(&runs) || !in->GetFixed64(&high) ||
        !GetIntColumn(in, runs.empty() ? 0 : runs.size() - 1, &high_deltas) ||
        !GetIntColumn(in, runs.size(), &lows))
      return bad(name);
    block->trace_id.reserve(rows);
    for (size_t t = 0; t < runs.size(); ++t) {
      if (t > 0) high += high_deltas[t - 1];
      model::TraceId id;
      const uint64_t big_endian = __builtin_bswap64(high);
      std::memcpy(id.bytes.data(), &big_endian, 8);
      std::memcpy(id.bytes.data() + 8, &lows[t], 8);
      block->trace_id.insert(block->trace_id.end(), runs[t], id);
    }
  } else if (name == "span_id" && version >= 5) {
    std::string_view planes;  // byte b of row r at b * rows + r
    if (in->remaining() != rows * 8 || !in->GetBytes(rows * 8, &planes)) return bad(name);
    block->span_id.resize(rows);
    for (size_t b = 0; b < 8; ++b)
      for (size_t r = 0; r < rows; ++r)
        block->span_id[r].bytes[b] = static_cast<uint8_t>(planes[b * rows + r]);
  } else if (name == "parent_span_id") {
    if (block->span_id.size() != rows) return bad("span_id before parent_span_id");
    std::vector<uint32_t> codes;
    if (!GetIntColumn(in, rows, &codes)) return bad(name);
    block->parent_span_id.resize(rows);
    for (size_t r = 0; r < rows; ++r) {
      if (codes[r] == 1) {
        std::string_view id;
        if (!in->GetBytes(8, &id)) return bad(name);
        block->parent_span_id[r] = *model::SpanId::FromBytes(id);
      } else if (codes[r] >= 2) {
        if (codes[r] - 1 > r) return bad(name);
        block->parent_span_id[r] = block->span_id[r - (codes[r] - 1)];
      }
    }
  } else if (name == "start") {
    std::vector<uint32_t> runs;
    std::vector<uint64_t> trace_starts, deltas;
    if (!get_runs(&runs) || !GetIntColumn(in, runs.size(), &trace_starts) ||
        !GetIntColumn(in, rows - runs.size(), &deltas))
      return bad(name);
    block->start_unix_nano.resize(rows);
    for (size_t t = 0, row = 0, d = 0; t < runs.size(); ++t) {
      block->start_unix_nano[row] = trace_starts[t];
      for (size_t i = 1; i < runs[t]; ++i, ++row)
        block->start_unix_nano[row + 1] = block->start_unix_nano[row] + deltas[d++];
      ++row;
    }
  } else if (name == "duration") {
    if (block->start_unix_nano.size() != rows) return bad("start before duration");
    std::vector<uint64_t> durations;
    if (!GetIntColumn(in, rows, &durations)) return bad(name);
    block->end_unix_nano.resize(rows);
    for (size_t r = 0; r < rows; ++r)
      block->end_unix_nano[r] = block->start_unix_nano[r] + durations[r];
  } else if (name == "name") {
    uint64_t pairs;
    std::vector<uint32_t> pair_resources, pair_names, row_pairs;
    if (!in->GetVarint(&pairs) || pairs > rows || !GetIntColumn(in, pairs, &pair_resources) ||
        !GetStrings(in, pairs, &block->name.dict, &pair_names) ||
        !GetIntColumn(in, rows, &row_pairs))
      return bad(name);
    block->name.codes.resize(rows);
    block->resource.resize(rows);
    for (size_t r = 0; r < rows; ++r) {
      if (row_pairs[r] >= pairs) return bad(name);
      block->name.codes[r] = pair_names[row_pairs[r]];
      block->resource[r] = pair_resources[row_pairs[r]];
    }
  } else if (name == "status_message" || name == "trace_state") {
    DictColumn* column = name == "status_message" ? &block->status_message : &block->trace_state;
    if (!GetDictV3(in, rows, column)) return bad(name);
  } else if (name == "kind" || name == "status_code") {
    if (!GetIntColumn(in, rows, name == "kind" ? &block->kind : &block->status_code))
      return bad(name);
  } else if (name == "flags_dropped") {
    if (!GetIntColumn(in, rows, &block->flags) ||
        !GetIntColumn(in, rows, &block->dropped_attributes) ||
        !GetIntColumn(in, rows, &block->dropped_events) ||
        !GetIntColumn(in, rows, &block->dropped_links))
      return bad(name);
  } else if (name == "resource_scope") {
    if (!GetIntColumn(in, rows, &block->scope)) return bad(name);
  } else if (name.rfind("attr:", 0) == 0) {
    AttributeColumn column;
    column.key = name.substr(5);
    if (!GetAttributeColumnV3(in, rows, &column, version >= 5 ? block : nullptr)) return bad(name);
    block->attributes.push_back(std::move(column));
  } else {
    return false;
  }
  if (status->ok() && (!in->ok() || !in->empty())) return bad(name);
  return true;
}

// Decodes section `name` (raw bytes) into `block`, whose num_rows is set. Sections come in file
// order, so span_id precedes parent_span_id and start precedes duration. `version` is the file's
// format version.
Status DecodeSection(const std::string& name, const std::string& raw, uint32_t version,
                     Block* block) {
  const size_t rows = block->num_rows;
  auto bad = [](const std::string& section) {
    return Status::DataLoss("block section '" + section + "' is malformed");
  };
  ByteReader in(raw);
  Status v3 = Status::Ok();
  if (version >= 3 && DecodeSectionV3(name, version, &in, block, &v3)) return v3;
  if (name == "trace_id") {
    block->trace_id.reserve(rows);
    while (!in.empty() && in.ok()) {
      std::string_view id;
      uint64_t run;
      if (!in.GetBytes(16, &id) || !in.GetVarint(&run) || run > rows - block->trace_id.size())
        return bad(name);
      block->trace_id.insert(block->trace_id.end(), run, *model::TraceId::FromBytes(id));
    }
    if (block->trace_id.size() != rows) return bad(name);
  } else if (name == "span_id") {
    if (raw.size() != rows * 8) return bad(name);
    block->span_id.resize(rows);
    for (size_t r = 0; r < rows; ++r) std::memcpy(block->span_id[r].bytes.data(), &raw[r * 8], 8);
  } else if (name == "parent_span_id") {
    block->parent_span_id.resize(rows);
    for (size_t r = 0; r < rows; ++r) {
      uint64_t code;
      if (!in.GetVarint(&code)) return bad(name);
      if (code == 1) {
        std::string_view id;
        if (!in.GetBytes(8, &id)) return bad(name);
        block->parent_span_id[r] = *model::SpanId::FromBytes(id);
      } else if (code >= 2) {
        int64_t parent_row = static_cast<int64_t>(r) - UnZigZag(code - 2);
        if (parent_row < 0 || static_cast<uint64_t>(parent_row) >= rows) return bad(name);
        if (block->span_id.size() != rows) return bad("span_id before parent_span_id");
        block->parent_span_id[r] = block->span_id[parent_row];
      }
    }
  } else if (name == "start") {
    block->start_unix_nano.resize(rows);
    uint64_t previous = 0;
    for (uint64_t& start : block->start_unix_nano) {
      uint64_t z;
      if (!in.GetVarint(&z)) return bad(name);
      start = previous + static_cast<uint64_t>(UnZigZag(z));
      previous = start;
    }
  } else if (name == "duration") {
    if (block->start_unix_nano.size() != rows) return bad("start before duration");
    block->end_unix_nano.resize(rows);
    for (size_t r = 0; r < rows; ++r) {
      uint64_t z;
      if (!in.GetVarint(&z)) return bad(name);
      block->end_unix_nano[r] = block->start_unix_nano[r] + static_cast<uint64_t>(UnZigZag(z));
    }
  } else if (name == "name") {
    if (!GetDict(&in, rows, &block->name)) return bad(name);
  } else if (name == "kind" || name == "status_code") {
    if (raw.size() != rows) return bad(name);
    auto& target = name == "kind" ? block->kind : block->status_code;
    target.assign(raw.begin(), raw.end());
  } else if (name == "status_message") {
    if (!GetDict(&in, rows, &block->status_message)) return bad(name);
  } else if (name == "trace_state") {
    if (!GetDict(&in, rows, &block->trace_state)) return bad(name);
  } else if (name == "flags_dropped") {
    if (!GetVarints(&in, rows, &block->flags) ||
        !GetVarints(&in, rows, &block->dropped_attributes) ||
        !GetVarints(&in, rows, &block->dropped_events) ||
        !GetVarints(&in, rows, &block->dropped_links))
      return bad(name);
  } else if (name == "resource_scope") {
    if (!GetVarints(&in, rows, &block->resource) || !GetVarints(&in, rows, &block->scope))
      return bad(name);
  } else if (name == "tables") {
    ARIADNE_ASSIGN_OR_RETURN(model::SpanBatch tables, DecodeSpanBatch(raw));
    for (uint32_t i = 0; i < tables.resources.size(); ++i)
      block->tables.CopyResourceFrom(tables, i);
    for (uint32_t i = 0; i < tables.scopes.size(); ++i) block->tables.CopyScopeFrom(tables, i);
  } else if (name == "events_links") {
    model::SpanBatch& t = block->tables;
    block->events.resize(rows);
    block->links.resize(rows);
    // Decode into a scratch batch whose views point into `raw`, then copy into the block.
    model::SpanBatch scratch;
    for (size_t r = 0; r < rows; ++r) {
      model::Range events, links;
      if (!DecodeEventsAndLinks(&in, &scratch, &events, &links)) return bad(name);
      block->events[r] = {static_cast<uint32_t>(t.events.size()), events.count};
      for (uint32_t i = events.begin; i < events.end(); ++i) {
        model::Event e = scratch.events[i];
        e.name = t.arena.Copy(e.name);
        e.attributes = t.CopyAttributes(scratch, e.attributes);
        t.events.push_back(e);
      }
      block->links[r] = {static_cast<uint32_t>(t.links.size()), links.count};
      for (uint32_t i = links.begin; i < links.end(); ++i) {
        model::Link l = scratch.links[i];
        l.trace_state = t.arena.Copy(l.trace_state);
        l.attributes = t.CopyAttributes(scratch, l.attributes);
        t.links.push_back(l);
      }
    }
  } else if (name.rfind("attr:", 0) == 0) {
    AttributeColumn column;
    column.key = name.substr(5);
    uint64_t n;
    if (!in.GetVarint(&n) || n > rows) return bad(name);
    column.rows.resize(n);
    uint32_t row = 0;
    for (size_t i = 0; i < n; ++i) {
      uint32_t delta;
      if (!in.GetVarint32(&delta)) return bad(name);
      row += delta;
      if (row >= rows || (i > 0 && delta == 0)) return bad(name);
      column.rows[i] = row;
    }
    column.types.resize(n);
    for (auto& t : column.types) {
      uint8_t b;
      if (!in.GetByte(&b) || b > static_cast<uint8_t>(model::ValueType::kKvList)) return bad(name);
      t = static_cast<model::ValueType>(b);
    }
    column.values.resize(n);
    for (size_t i = 0; i < n; ++i) {
      switch (column.types[i]) {
        case model::ValueType::kEmpty:
          break;
        case model::ValueType::kBool: {
          uint8_t b;
          if (!in.GetByte(&b)) return bad(name);
          column.values[i] = b;
          break;
        }
        case model::ValueType::kInt: {
          uint64_t z;
          if (!in.GetVarint(&z)) return bad(name);
          column.values[i] = static_cast<uint64_t>(UnZigZag(z));
          break;
        }
        case model::ValueType::kDouble:
          if (!in.GetFixed64(&column.values[i])) return bad(name);
          break;
        default:
          if (!in.GetVarint(&column.values[i])) return bad(name);
          break;
      }
    }
    uint64_t dict_size;
    if (!in.GetVarint(&dict_size) || dict_size > in.remaining()) return bad(name);
    column.dict.resize(dict_size);
    for (std::string& s : column.dict) {
      std::string_view v;
      if (!in.GetString(&v)) return bad(name);
      s.assign(v);
    }
    for (size_t i = 0; i < n; ++i)
      if (IsStringLike(column.types[i]) && column.values[i] >= dict_size) return bad(name);
    block->attributes.push_back(std::move(column));
  }
  if (!in.ok()) return bad(name);
  return Status::Ok();
}

// Checks that the columns of `want` are all there with one entry per row, and that row
// references stay in range.
Status CheckColumns(const Block& b, const ColumnSet& want) {
  const size_t rows = b.num_rows;
  auto lacks = [&](uint32_t bit, size_t size) { return want.Has(bit) && size != rows; };
  if (lacks(ColumnSet::kTraceId, b.trace_id.size()) ||
      lacks(ColumnSet::kSpanId, b.span_id.size()) ||
      lacks(ColumnSet::kParentSpanId, b.parent_span_id.size()) ||
      lacks(ColumnSet::kStart, b.start_unix_nano.size()) ||
      lacks(ColumnSet::kEnd, b.end_unix_nano.size()) ||
      lacks(ColumnSet::kName, b.name.codes.size()) || lacks(ColumnSet::kKind, b.kind.size()) ||
      lacks(ColumnSet::kStatusCode, b.status_code.size()) ||
      lacks(ColumnSet::kStatusMessage, b.status_message.codes.size()) ||
      lacks(ColumnSet::kTraceState, b.trace_state.codes.size()) ||
      lacks(ColumnSet::kFlagsDropped, b.flags.size()) ||
      lacks(ColumnSet::kResourceScope, b.resource.size()) ||
      lacks(ColumnSet::kEventsLinks, b.events.size()))
    return Status::DataLoss("block file lacks a required column");
  for (size_t r = 0; r < rows; ++r) {
    if ((want.Has(ColumnSet::kResourceScope) &&
         (b.resource[r] >= b.tables.resources.size() || b.scope[r] >= b.tables.scopes.size())) ||
        (want.Has(ColumnSet::kKind) && b.kind[r] > 5) ||
        (want.Has(ColumnSet::kStatusCode) && b.status_code[r] > 2))
      return Status::DataLoss("block file has an out-of-range resource, scope, kind or status");
  }
  return Status::Ok();
}

}  // namespace

Result<std::shared_ptr<const Block>> DecodeBlockFile(std::string_view file) {
  ARIADNE_ASSIGN_OR_RETURN(BlockMeta meta, ParseLayout(file));
  auto block = std::make_shared<Block>();
  block->environment = meta.environment;
  block->num_rows = meta.num_rows;
  for (const Section& section : meta.sections) {
    ARIADNE_ASSIGN_OR_RETURN(std::string raw,
                             ReadSection(file.substr(section.offset, section.compressed), section));
    ARIADNE_RETURN_IF_ERROR(DecodeSection(section.name, raw, meta.format_version, block.get()));
  }
  ColumnSet all = ColumnSet::All();
  ARIADNE_RETURN_IF_ERROR(CheckColumns(*block, all));
  return std::shared_ptr<const Block>(std::move(block));
}

Result<std::shared_ptr<const Block>> ReadBlockColumns(Env* env, const std::string& path,
                                                      const BlockMeta& meta, ColumnSet needed) {
  needed.Close();
  std::vector<const Section*> wanted;
  for (const Section& s : meta.sections)
    if (SectionNeeded(s, needed, meta.format_version)) wanted.push_back(&s);
  std::sort(wanted.begin(), wanted.end(),
            [](const Section* a, const Section* b) { return a->offset < b->offset; });
  auto block = std::make_shared<Block>();
  block->environment = meta.environment;
  block->num_rows = meta.num_rows;
  // Sections close together are read with one pread; a gap of unneeded bytes up to this size is
  // cheaper to read than to seek over.
  constexpr uint64_t kMaxGap = 64 * 1024;
  for (size_t i = 0; i < wanted.size();) {
    size_t j = i + 1;
    uint64_t end = wanted[i]->offset + wanted[i]->compressed;
    while (j < wanted.size() && wanted[j]->offset <= end + kMaxGap) {
      end = std::max(end, wanted[j]->offset + wanted[j]->compressed);
      ++j;
    }
    const uint64_t from = wanted[i]->offset;
    ARIADNE_ASSIGN_OR_RETURN(std::string bytes,
                             env->ReadFileRange(path, from, static_cast<size_t>(end - from)));
    std::string_view view(bytes);
    for (size_t k = i; k < j; ++k) {
      const Section& s = *wanted[k];
      std::string_view compressed =
          s.offset - from < view.size() ? view.substr(s.offset - from, s.compressed) : "";
      ARIADNE_ASSIGN_OR_RETURN(std::string raw, ReadSection(compressed, s));
      ARIADNE_RETURN_IF_ERROR(DecodeSection(s.name, raw, meta.format_version, block.get()));
    }
    i = j;
  }
  ARIADNE_RETURN_IF_ERROR(CheckColumns(*block, needed));
  return std::shared_ptr<const Block>(std::move(block));
}

}  // namespace ariadne::columnar
