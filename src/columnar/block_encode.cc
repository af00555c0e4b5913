// Writing block files (docs/formats/block.md, version 5): each column of a sealed Block as its own
// zstd-compressed, CRC-checked section, then the meta, the section directory and the footer.
// Integers go in as integer columns (coding.h: frame of reference, byte planes), strings as
// dictionaries with their codes, so what zstd sees is bytes of like entropy side by side.
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "columnar/batch_codec.h"
#include "columnar/block.h"
#include "columnar/block_internal.h"
#include "columnar/coding.h"

namespace ariadne::columnar {
namespace {

using block_internal::Crc;
using block_internal::EncodeMeta;
using block_internal::kBlockFormatVersion;
using block_internal::kBlockMagic;
using Section = SectionInfo;

constexpr uint8_t kFirstUse = 1;  // PutStrings mode bits
constexpr uint8_t kHexPacked = 2;

// Strings of a dictionary column (format version 3). `codes` index `dict`; only the entries they
// use are written. Mostly-unique columns (request ids) keep first-use order and write each code as
// 0 "the next new entry" or 1 + an earlier entry, so a column of unique values has no codes to
// speak of; other columns sort their distinct strings (which compresses the dictionary) and write
// the index into them:
// Entries that are all lowercase hex of even length are packed two digits to a byte:
//   u8 mode (bit 0 first use, else sorted; bit 1 hex-packed), varint entries, int column of
//   lengths (in bytes as stored), the bytes of every entry back to back, then the int column of
//   codes.
struct PreparedStrings {
  bool first_use = false;
  std::vector<const std::string*> entries;
  std::vector<uint32_t> codes;  // as written (first-use or sorted-entry codes)
};

PreparedStrings PrepareStrings(const std::vector<std::string>& dict,
                               const std::vector<uint32_t>& codes) {
  PreparedStrings p;
  constexpr uint32_t kUnset = UINT32_MAX;
  std::vector<uint32_t> local(dict.size(), kUnset);
  std::vector<uint32_t> used;  // dict entries in order of first use
  for (uint32_t code : codes) {
    if (local[code] != kUnset) continue;
    local[code] = static_cast<uint32_t>(used.size());
    used.push_back(code);
  }
  p.codes.resize(codes.size());
  p.first_use = used.size() * 2 > codes.size();
  if (p.first_use) {
    uint32_t next = 0;
    for (size_t i = 0; i < codes.size(); ++i) {
      const uint32_t l = local[codes[i]];
      p.codes[i] = l == next ? 0 : l + 1;
      if (l == next) ++next;
    }
    for (uint32_t code : used) p.entries.push_back(&dict[code]);
  } else {
    std::vector<uint32_t> order = used;
    std::sort(order.begin(), order.end(),
              [&](uint32_t a, uint32_t b) { return dict[a] < dict[b]; });
    // Equal strings (a dictionary that stopped deduplicating) share one entry.
    for (uint32_t code : order) {
      if (p.entries.empty() || *p.entries.back() != dict[code]) p.entries.push_back(&dict[code]);
      local[code] = static_cast<uint32_t>(p.entries.size() - 1);
    }
    for (size_t i = 0; i < codes.size(); ++i) p.codes[i] = local[codes[i]];
  }
  return p;
}

void WriteStrings(std::string* out, const PreparedStrings& p) {
  const std::vector<const std::string*>& entries = p.entries;
  // Lowercase hex of even length (request ids, hashes) is packed two digits to a byte.
  bool hex = !entries.empty();
  for (size_t i = 0; i < entries.size() && hex; ++i) {
    const std::string& e = *entries[i];
    hex = e.size() % 2 == 0 && std::all_of(e.begin(), e.end(), [](char c) {
            return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
          });
  }
  out->push_back(static_cast<char>((p.first_use ? kFirstUse : 0) | (hex ? kHexPacked : 0)));
  PutVarint(out, entries.size());
  std::vector<uint64_t> lengths;
  lengths.reserve(entries.size());
  for (const std::string* e : entries) lengths.push_back(hex ? e->size() / 2 : e->size());
  PutIntColumn(out, lengths);
  for (const std::string* e : entries) {
    if (!hex) {
      out->append(*e);
      continue;
    }
    auto digit = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    for (size_t i = 0; i < e->size(); i += 2)
      out->push_back(static_cast<char>(digit((*e)[i]) << 4 | digit((*e)[i + 1])));
  }
  PutIntColumn(out, p.codes);
}

void PutStrings(std::string* out, const std::vector<std::string>& dict,
                const std::vector<uint32_t>& codes) {
  WriteStrings(out, PrepareStrings(dict, codes));
}

// The span names of a block as NameRanks gives them (format 5), computed once per block.
struct NameContext {
  std::vector<uint32_t> ranks;  // per row
  size_t distinct = 0;
};

// The string-like values of an attribute column (format 5): u8 0 then the strings (PutStrings),
// or u8 1 (coded against the span name) then varint distinct names k, int column of the k
// predictions (0 none, else 1 + entry: the most frequent entry among rows of that name), then the
// strings in sorted mode whose codes are 0 (the row's name's prediction) or 1 + entry. Only sorted
// columns where at least 3/4 of the values are their name's prediction are coded so (e.g. an HTTP
// route given the span name).
void PutStringValues(std::string* out, const std::vector<std::string>& dict,
                     const std::vector<uint32_t>& codes, const std::vector<uint32_t>& rows,
                     const NameContext& names) {
  PreparedStrings p = PrepareStrings(dict, codes);
  std::vector<uint32_t> entry_ranks, predictions;
  if (!p.first_use && !codes.empty() && names.ranks.size() > 0) {
    entry_ranks.resize(codes.size());
    for (size_t i = 0; i < codes.size(); ++i) entry_ranks[i] = names.ranks[rows[i]];
    if (block_internal::PredictByName(entry_ranks, names.distinct, p.codes, &predictions)) {
      block_internal::ConditionCodes(entry_ranks, predictions, &p.codes);
      out->push_back(1);
      PutVarint(out, names.distinct);
      PutIntColumn(out, predictions);
      WriteStrings(out, p);
      return;
    }
  }
  out->push_back(0);
  WriteStrings(out, p);
}

// Doubles that are all integers scaled by one power of ten (prices, percentages, rounded
// measurements) are written as those integers: the smallest e in [0, kMaxDecimals] such that
// every value is k / 10^e exactly (bit for bit, as the reader computes it), or kRawDoubles.
constexpr uint8_t kRawDoubles = 255;
constexpr int kMaxDecimals = 15;
constexpr double kPow10[kMaxDecimals + 1] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                             1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

bool ScaledInteger(uint64_t bits, int decimals, int64_t* k) {
  double v;
  std::memcpy(&v, &bits, 8);
  const double scaled = v * kPow10[decimals];
  if (!(std::fabs(scaled) < 9007199254740992.0)) return false;  // 2^53; also NaN, inf
  *k = static_cast<int64_t>(std::nearbyint(scaled));
  const double back = static_cast<double>(*k) / kPow10[decimals];
  uint64_t back_bits;
  std::memcpy(&back_bits, &back, 8);
  return back_bits == bits;
}

void PutDoubles(std::string* out, const std::vector<uint64_t>& bits) {
  std::vector<int64_t> ints(bits.size());
  for (int decimals = 0; decimals <= kMaxDecimals; ++decimals) {
    bool all = true;
    for (size_t i = 0; i < bits.size() && all; ++i)
      all = ScaledInteger(bits[i], decimals, &ints[i]);
    if (all) {
      out->push_back(static_cast<char>(decimals));
      PutIntColumn(out, ints);
      return;
    }
  }
  out->push_back(static_cast<char>(kRawDoubles));
  PutIntColumn(out, bits);
}

// One attribute column (format version 3): varint entries, int column of row deltas (the first
// entry's row, then each row minus the previous), int column of types, then the values grouped by
// type in entry order: bools (int column), ints (int column), doubles (u8 decimals or 255, int
// column), string-like values (PutStringValues, format 5).
void PutAttributeColumn(std::string* raw, const AttributeColumn& column, const NameContext& names) {
  const size_t n = column.rows.size();
  PutVarint(raw, n);
  std::vector<uint32_t> deltas(n);
  for (size_t i = 0; i < n; ++i) deltas[i] = column.rows[i] - (i ? column.rows[i - 1] : 0);
  PutIntColumn(raw, deltas);
  std::vector<uint8_t> types(n);
  for (size_t i = 0; i < n; ++i) types[i] = static_cast<uint8_t>(column.types[i]);
  PutIntColumn(raw, types);
  std::vector<uint64_t> bools, ints, doubles;
  std::vector<uint32_t> codes, code_rows;
  for (size_t i = 0; i < n; ++i) {
    switch (column.types[i]) {
      case model::ValueType::kEmpty:
        break;
      case model::ValueType::kBool:
        bools.push_back(column.values[i] != 0);
        break;
      case model::ValueType::kInt:
        ints.push_back(column.values[i]);
        break;
      case model::ValueType::kDouble:
        doubles.push_back(column.values[i]);
        break;
      default:
        codes.push_back(static_cast<uint32_t>(column.values[i]));
        code_rows.push_back(column.rows[i]);
        break;
    }
  }
  PutIntColumn(raw, bools);
  PutIntColumn(raw, ints);
  PutDoubles(raw, doubles);
  PutStringValues(raw, column.dict, codes, code_rows, names);
}

// At compaction's level and above, a section that its level compressed below 95 % of its raw
// size (start offsets, parent distances, dictionary codes, durations) is compressed again at
// kStrongZstdLevel and the smaller result kept; random ids and other incompressible sections are
// not tried (docs/PERFORMANCE.md, "Block format 5").
using block_internal::kStrongZstdLevel;

class SectionWriter {
 public:
  SectionWriter(std::string* file, int zstd_level) : file_(file), zstd_level_(zstd_level) {}
  void Add(std::string name, const std::string& raw) {
    Section s;
    s.name = std::move(name);
    s.offset = file_->size();
    s.raw = raw.size();
    size_t bound = ZSTD_compressBound(raw.size());
    file_->resize(file_->size() + bound);
    size_t n = ZSTD_compress(file_->data() + s.offset, bound, raw.data(), raw.size(), zstd_level_);
    // Compression into a buffer of ZSTD_compressBound bytes cannot fail.
    if (zstd_level_ >= kCompactionZstdLevel && zstd_level_ < kStrongZstdLevel &&
        n * 20 < raw.size() * 19) {
      std::string strong(bound, '\0');
      const size_t m =
          ZSTD_compress(strong.data(), bound, raw.data(), raw.size(), kStrongZstdLevel);
      if (m < n) {
        std::memcpy(file_->data() + s.offset, strong.data(), m);
        n = m;
      }
    }
    file_->resize(s.offset + n);
    s.compressed = n;
    s.crc = Crc(std::string_view(file_->data() + s.offset, n));
    sections_.push_back(std::move(s));
  }
  const std::vector<Section>& sections() const { return sections_; }

 private:
  std::string* file_;
  const int zstd_level_;
  std::vector<Section> sections_;
};

}  // namespace

std::string EncodeBlockFile(const Block& block, const BlockMeta& meta, int zstd_level) {
  std::string file(kBlockMagic, 8);
  PutFixed32(&file, kBlockFormatVersion);
  SectionWriter writer(&file, zstd_level);
  const size_t rows = block.num_rows;
  std::string raw;

  // Trace ids: the distinct ids (rows are sorted, so a trace's spans are adjacent) and their run
  // lengths. Sorted ids share their leading bytes: the first 8 bytes (big-endian) are written as
  // the difference to the previous id's, the last 8 as they are.
  std::vector<uint32_t> runs;
  std::vector<uint64_t> high_deltas, lows;
  uint64_t first_high = 0, previous_high = 0;
  for (size_t row = 0; row < rows;) {
    size_t end = row + 1;
    while (end < rows && block.trace_id[end] == block.trace_id[row]) ++end;
    uint64_t high, low;
    std::memcpy(&high, block.trace_id[row].bytes.data(), 8);
    std::memcpy(&low, block.trace_id[row].bytes.data() + 8, 8);
    high = __builtin_bswap64(high);
    if (runs.empty())
      first_high = high;
    else
      high_deltas.push_back(high - previous_high);
    previous_high = high;
    lows.push_back(low);
    runs.push_back(static_cast<uint32_t>(end - row));
    row = end;
  }
  PutVarint(&raw, runs.size());
  PutIntColumn(&raw, runs);
  PutFixed64(&raw, first_high);
  PutIntColumn(&raw, high_deltas);
  PutIntColumn(&raw, lows);
  writer.Add("trace_id", raw);

  // Span ids in byte planes (format 5): byte 0 of every id, then byte 1, …; random ids cost the
  // same as before, ids with structure (a fixed bit, a counter) compress.
  raw.assign(rows * 8, '\0');
  for (size_t row = 0; row < rows; ++row)
    for (size_t b = 0; b < 8; ++b)
      raw[b * rows + row] = static_cast<char>(block.span_id[row].bytes[b]);
  writer.Add("span_id", raw);

  // Parent ids: mostly an earlier span of the same trace in this block, written as a row
  // distance. Codes: 0 root, 1 the id follows in the list after the codes, k >= 2 the parent is
  // row − (k − 1).
  raw.clear();
  std::unordered_map<uint64_t, uint32_t> row_of_span;
  row_of_span.reserve(rows);
  for (uint32_t row = 0; row < rows; ++row) {
    uint64_t key;
    std::memcpy(&key, block.span_id[row].bytes.data(), 8);
    row_of_span.emplace(key, row);
  }
  std::vector<uint32_t> parent_codes(rows);
  std::string explicit_parents;
  for (uint32_t row = 0; row < rows; ++row) {
    const model::SpanId& parent = block.parent_span_id[row];
    if (parent.IsZero()) continue;
    uint64_t key;
    std::memcpy(&key, parent.bytes.data(), 8);
    auto it = row_of_span.find(key);
    if (it != row_of_span.end() && it->second < row &&
        block.trace_id[it->second] == block.trace_id[row]) {
      parent_codes[row] = row - it->second + 1;
    } else {
      parent_codes[row] = 1;
      explicit_parents.append(parent.AsStringView());
    }
  }
  PutIntColumn(&raw, parent_codes);
  raw += explicit_parents;
  writer.Add("parent_span_id", raw);

  // Start times: per trace (runs of equal trace ids, repeated here so the section decodes on its
  // own) the first row's start, then within the trace each row's start minus the previous row's.
  raw.clear();
  std::vector<uint64_t> trace_starts, start_deltas;
  trace_starts.reserve(runs.size());
  start_deltas.reserve(rows);
  for (size_t t = 0, row = 0; t < runs.size(); ++t) {
    trace_starts.push_back(block.start_unix_nano[row]);
    for (size_t i = 1; i < runs[t]; ++i)
      start_deltas.push_back(block.start_unix_nano[row + i] - block.start_unix_nano[row + i - 1]);
    row += runs[t];
  }
  PutVarint(&raw, runs.size());
  PutIntColumn(&raw, runs);
  PutIntColumn(&raw, trace_starts);
  PutIntColumn(&raw, start_deltas);
  writer.Add("start", raw);

  raw.clear();
  std::vector<uint64_t> durations(rows);
  for (size_t row = 0; row < rows; ++row)
    durations[row] = block.end_unix_nano[row] - block.start_unix_nano[row];
  PutIntColumn(&raw, durations);
  writer.Add("duration", raw);

  // Span names with the row's resource: a name nearly always belongs to one service, so the pair
  // costs hardly more than the name alone. Varint pairs, int column of each pair's resource, the
  // pairs' names (PutStrings), then the int column of each row's pair; pairs are sorted by
  // resource, then name.
  raw.clear();
  {
    std::unordered_map<uint64_t, uint32_t> pair_of;
    std::vector<std::pair<uint32_t, uint32_t>> pairs;  // resource, name code
    for (size_t row = 0; row < rows; ++row) {
      const uint64_t key = static_cast<uint64_t>(block.resource[row]) << 32 | block.name.codes[row];
      if (pair_of.emplace(key, 0).second)
        pairs.emplace_back(block.resource[row], block.name.codes[row]);
    }
    std::sort(pairs.begin(), pairs.end(), [&](const auto& a, const auto& b) {
      if (a.first != b.first) return a.first < b.first;
      return block.name.dict[a.second] < block.name.dict[b.second];
    });
    std::vector<uint32_t> pair_resources, pair_names;
    for (uint32_t i = 0; i < pairs.size(); ++i) {
      pair_of[static_cast<uint64_t>(pairs[i].first) << 32 | pairs[i].second] = i;
      pair_resources.push_back(pairs[i].first);
      pair_names.push_back(pairs[i].second);
    }
    std::vector<uint32_t> row_pairs(rows);
    for (size_t row = 0; row < rows; ++row)
      row_pairs[row] =
          pair_of[static_cast<uint64_t>(block.resource[row]) << 32 | block.name.codes[row]];
    PutVarint(&raw, pairs.size());
    PutIntColumn(&raw, pair_resources);
    PutStrings(&raw, block.name.dict, pair_names);
    PutIntColumn(&raw, row_pairs);
  }
  writer.Add("name", raw);
  raw.clear();
  PutIntColumn(&raw, block.kind);
  writer.Add("kind", raw);
  raw.clear();
  PutIntColumn(&raw, block.status_code);
  writer.Add("status_code", raw);
  raw.clear();
  PutStrings(&raw, block.status_message.dict, block.status_message.codes);
  writer.Add("status_message", raw);
  raw.clear();
  PutStrings(&raw, block.trace_state.dict, block.trace_state.codes);
  writer.Add("trace_state", raw);
  raw.clear();
  PutIntColumn(&raw, block.flags);
  PutIntColumn(&raw, block.dropped_attributes);
  PutIntColumn(&raw, block.dropped_events);
  PutIntColumn(&raw, block.dropped_links);
  writer.Add("flags_dropped", raw);
  raw.clear();
  PutIntColumn(&raw, block.scope);  // the resources are in the "name" section
  writer.Add("resource_scope", raw);

  // Resources and scopes as a span-less batch; events and links per row.
  raw.clear();
  model::SpanBatch tables_only;
  for (uint32_t i = 0; i < block.tables.resources.size(); ++i)
    tables_only.CopyResourceFrom(block.tables, i);
  for (uint32_t i = 0; i < block.tables.scopes.size(); ++i)
    tables_only.CopyScopeFrom(block.tables, i);
  EncodeSpanBatch(tables_only, &raw);
  writer.Add("tables", raw);
  raw.clear();
  for (size_t row = 0; row < rows; ++row)
    EncodeEventsAndLinks(block.tables, block.events[row], block.links[row], &raw);
  writer.Add("events_links", raw);

  NameContext names;
  if (!block.attributes.empty())
    names.ranks = block_internal::NameRanks(block.name, &names.distinct);
  for (const AttributeColumn& column : block.attributes) {
    raw.clear();
    PutAttributeColumn(&raw, column, names);
    writer.Add("attr:" + column.key, raw);
  }

  std::string meta_bytes;
  EncodeMeta(meta, &meta_bytes,
             zstd_level >= kCompactionZstdLevel ? kStrongZstdLevel : kSealZstdLevel);
  uint64_t meta_offset = file.size();
  file += meta_bytes;
  std::string dir;
  PutVarint(&dir, writer.sections().size());
  for (const Section& s : writer.sections()) {
    PutString(&dir, s.name);
    PutVarint(&dir, s.offset);
    PutVarint(&dir, s.compressed);
    PutVarint(&dir, s.raw);
    PutFixed32(&dir, s.crc);
  }
  uint64_t dir_offset = file.size();
  file += dir;
  PutFixed64(&file, meta_offset);
  PutFixed64(&file, meta_bytes.size());
  PutFixed64(&file, dir_offset);
  PutFixed64(&file, dir.size());
  uLong c = crc32(0L, reinterpret_cast<const Bytef*>(meta_bytes.data()),
                  static_cast<uInt>(meta_bytes.size()));
  c = crc32(c, reinterpret_cast<const Bytef*>(dir.data()), static_cast<uInt>(dir.size()));
  PutFixed32(&file, static_cast<uint32_t>(c));
  file.append(kBlockMagic, 8);
  return file;
}

}  // namespace ariadne::columnar
