// Columnar span blocks: the in-memory head that appends go to, and the immutable blocks it is
// sealed into (in memory and as files).
//
// A Block holds one environment's spans column by column: fixed-width ids and times as plain
// vectors, low-cardinality strings (name, status message, trace state) as dictionary codes, and
// every span attribute key as its own sparse column (rows that have it, their types and values),
// so a filter on an attribute reads one column instead of key/value arrays. Resources, scopes,
// events and links live in `tables` (a SpanBatch used as a side table) and are referenced by index
// or range from per-row columns.
//
// BlockBuilder appends batches to a Block (the head) and keeps a trace-id index for lookups.
// Seal() returns a copy sorted by (trace id, start time), which makes trace lookup a binary search
// and keeps a trace's spans together on disk. EncodeBlockFile/DecodeBlockFile write and read the
// file format of docs/formats/block.md: zstd-compressed column sections, each with its own CRC,
// then the BlockMeta (time range, per-service counts, trace-id bloom filter, per-column statistics
// and the section directory) that the store keeps in memory so it can skip blocks without reading
// them. ReadBlockMeta reads only the footer and meta of a file (positional reads through the Env);
// ReadBlockColumns reads and decodes only the sections of the columns a reader asks for (a
// ColumnSet), leaving the other columns of the returned Block empty.
//
// Files: block.cc (Block, statistics, bloom filter), block_builder.cc (BlockBuilder),
// block_encode.cc (EncodeBlockFile), block_decode.cc (DecodeBlockFile, ReadBlockColumns),
// block_meta_codec.cc (meta, directory and footer; DecodeBlockMeta, ReadBlockMeta), and the private
// block_internal.h they share.
//
// Threads: Block is immutable once sealed and may be shared (std::shared_ptr<const Block>) across
// threads. BlockBuilder is not synchronized; the store guards it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/env.h"
#include "common/status.h"
#include "model/ids.h"
#include "model/span_batch.h"

namespace ariadne::columnar {

// Strings stored once; rows hold 32-bit codes.
struct DictColumn {
  std::vector<uint32_t> codes;
  std::vector<std::string> dict;
  std::string_view at(size_t row) const { return dict[codes[row]]; }
};

// One attribute key across a block. Entries are sorted by row; a row appears at most once.
struct AttributeColumn {
  std::string key;
  std::vector<uint32_t> rows;
  std::vector<model::ValueType> types;
  std::vector<uint64_t> values;   // int64 bits, double bits, bool, or a code into dict
  std::vector<std::string> dict;  // string, bytes, array and kvlist values

  // Index into rows/types/values of `row`, or -1 when the row lacks this attribute.
  int64_t Find(uint32_t row) const;
  // Decoded value of entry `entry` with string_views into this column.
  model::Value ValueAt(size_t entry) const { return Decode(types[entry], values[entry], dict); }
  // A value from its type and stored bits (string kinds: a code into `dict`), for columns kept in
  // other forms (the column cache's narrowed parts).
  static model::Value Decode(model::ValueType type, uint64_t bits,
                             const std::vector<std::string>& dict);
};

struct ServiceCounts {
  uint64_t span_count = 0;
  uint64_t root_count = 0;
  uint64_t error_count = 0;
  uint64_t first_seen = 0;
  uint64_t last_seen = 0;
  void Add(const ServiceCounts& other);
};

// Bloom filter over trace ids (k hashes by double hashing XXH3-128 halves).
class TraceIdBloom {
 public:
  // A trace id's XXH3-128, computed once when one id is probed against many blocks' filters (a
  // seal checks each trace of its head against every sealed block; hashing per block was a quarter
  // of that probe's CPU: bench/ingest_bench.cc, BM_SealBloomProbe).
  struct Hash {
    uint64_t low = 0;
    uint64_t high = 0;
  };
  static Hash HashOf(const model::TraceId& id);

  TraceIdBloom() = default;
  explicit TraceIdBloom(size_t expected_items);
  void Add(const model::TraceId& id);
  bool MayContain(const model::TraceId& id) const { return MayContain(HashOf(id)); }
  bool MayContain(const Hash& hash) const;
  const std::string& bits() const { return bits_; }
  static TraceIdBloom FromBits(std::string bits);

 private:
  static constexpr int kHashes = 7;
  std::string bits_;
};

// Statistics of one column over a block, for pruning blocks before any section is read. For an
// attribute key they cover the values a reader sees through the row's resource and its span
// attributes together (span values override resource ones, as the query executor resolves them).
struct ColumnStats {
  uint64_t present_rows = 0;  // rows that have a value (rows − present_rows have none)
  bool has_int = false;
  int64_t int_min = 0, int_max = 0;
  bool has_double = false;  // double values other than NaN
  double double_min = 0, double_max = 0;
  bool has_nan = false;
  bool has_bool = false;
  bool has_strings = false;       // string, bytes, array or kvlist values
  bool strings_complete = false;  // `strings` lists every distinct string-like value
  std::vector<std::string> strings;

  static constexpr size_t kMaxStrings = 64;
  static constexpr size_t kMaxStringBytes = 4096;
  // Adds a value (string views are copied while the set is small).
  void Add(const model::Value& v);
  // Drops duplicates and sorts `strings` (called once all values are in).
  void Finish();
};

// Where a column's compressed section lies in the block file.
struct SectionInfo {
  std::string name;
  uint64_t offset = 0;
  uint64_t compressed = 0;
  uint64_t raw = 0;
  uint32_t crc = 0;
};

struct BlockMeta {
  uint64_t id = 0;
  uint64_t checkpoint = 0;  // the checkpoint that wrote it (see embedded_store.cc)
  std::string environment;
  uint64_t num_rows = 0;
  uint64_t min_start_unix_nano = 0;
  uint64_t max_end_unix_nano = 0;
  uint64_t file_bytes = 0;
  std::map<std::string, ServiceCounts> services;
  TraceIdBloom bloom;
  // Attribute keys present in the block: bit (1 << ValueType) per type seen, and where
  // (kColumnFromSpan / kColumnFromResource).
  struct ColumnTypes {
    uint16_t types = 0;
    uint8_t sources = 0;
  };
  std::map<std::string, ColumnTypes> columns;

  // Format version 2 and later (absent from version-1 files: has_stats false, nothing pruned by
  // them). Duration is end − start clamped at 0, in ns; masks have bit (1 << code).
  bool has_stats = false;
  uint64_t min_duration_nano = 0;
  uint64_t max_duration_nano = 0;
  uint8_t status_code_mask = 0;
  uint8_t kind_mask = 0;
  bool names_complete = false;               // `names` lists every span name of the block
  std::vector<std::string> names;            // sorted, when at most kMaxNames (and 16 KiB)
  std::map<std::string, ColumnStats> stats;  // per attribute key
  static constexpr size_t kMaxNames = 256;

  // Format version 4 and later: optional fields after the statistics, each a tag and a byte
  // string; a reader skips tags it does not know. Tag 1: the block's pre-aggregates (per service
  // and span name: counts, duration sums and sketches; written and read by
  // src/query/exec/pre_aggregates.h, opaque here). Null when absent.
  std::shared_ptr<const std::string> pre_aggregates;
  static constexpr uint64_t kPreAggregatesTag = 1;

  // Not serialized: filled by DecodeBlockMeta / ReadBlockMeta from the file.
  uint32_t format_version = 0;
  std::vector<SectionInfo> sections;
};

// Columns of a Block, as a reader asks for them. Fixed columns are bits; attribute columns are
// named by key (or all of them).
struct ColumnSet {
  enum Bit : uint32_t {
    kTraceId = 1u << 0,
    kSpanId = 1u << 1,
    kParentSpanId = 1u << 2,  // implies kSpanId (parents are stored as row distances)
    kStart = 1u << 3,
    kEnd = 1u << 4,  // implies kStart (stored as durations)
    kName = 1u << 5,
    kKind = 1u << 6,
    kStatusCode = 1u << 7,
    kStatusMessage = 1u << 8,
    kTraceState = 1u << 9,
    kFlagsDropped = 1u << 10,   // flags and the three dropped counts
    kResourceScope = 1u << 11,  // resource and scope per row, and the resource/scope tables
    kEventsLinks = 1u << 12,    // events and links per row, and their tables
    kAllFixed = (1u << 13) - 1,
  };
  uint32_t fixed = 0;
  bool all_attributes = false;
  std::set<std::string, std::less<>> attributes;  // keys (when !all_attributes)

  static ColumnSet All() { return ColumnSet{kAllFixed, true, {}}; }
  // Adds the columns that decoding `fixed` needs as well (see the Bit comments).
  void Close() {
    if (fixed & kParentSpanId) fixed |= kSpanId;
    if (fixed & kEnd) fixed |= kStart;
  }
  bool Has(uint32_t bit) const { return (fixed & bit) == bit; }
  bool HasAttribute(std::string_view key) const {
    return all_attributes || attributes.find(key) != attributes.end();
  }
  bool Contains(const ColumnSet& other) const;
  void Add(const ColumnSet& other);
  // Columns named: fixed bits plus attribute keys (all_attributes counts as one).
  size_t Count() const;
};

constexpr uint8_t kColumnFromSpan = 1;
constexpr uint8_t kColumnFromResource = 2;

struct Block {
  std::string environment;
  size_t num_rows = 0;

  std::vector<model::TraceId> trace_id;
  std::vector<model::SpanId> span_id;
  std::vector<model::SpanId> parent_span_id;
  std::vector<uint64_t> start_unix_nano;
  std::vector<uint64_t> end_unix_nano;
  DictColumn name;
  std::vector<uint8_t> kind;         // model::SpanKind
  std::vector<uint8_t> status_code;  // model::StatusCode
  DictColumn status_message;
  DictColumn trace_state;
  std::vector<uint32_t> flags;
  std::vector<uint32_t> dropped_attributes;
  std::vector<uint32_t> dropped_events;
  std::vector<uint32_t> dropped_links;
  std::vector<uint32_t> resource;    // index into tables.resources
  std::vector<uint32_t> scope;       // index into tables.scopes
  std::vector<model::Range> events;  // into tables.events
  std::vector<model::Range> links;   // into tables.links
  std::vector<AttributeColumn> attributes;
  model::SpanBatch tables;  // resources, scopes, events, links (no spans)

  // The service.name of row `row` ("" when unset).
  std::string_view ServiceName(size_t row) const;

  // Appends rows `rows` (in that order) to `out` as spans, copying strings into out's arena.
  void Materialize(const std::vector<uint32_t>& rows, model::SpanBatch* out) const;

  // Rows whose trace id is `id`. REQUIRES: the block is sealed (sorted by trace id).
  std::vector<uint32_t> SortedRowsOfTrace(const model::TraceId& id) const;

  // Time range, per-service counts, attribute columns and bloom filter over this block.
  BlockMeta ComputeMeta() const;
  // Just the attribute columns part of ComputeMeta (cheap: no per-row work).
  std::map<std::string, BlockMeta::ColumnTypes> ComputeColumns() const;
};

// Hash and equality that let string-keyed maps be searched with a string_view, so lookups on
// the ingest path allocate nothing.
struct StringViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringViewHash, std::equal_to<>>;

// The mutable head of one environment.
class BlockBuilder {
 public:
  explicit BlockBuilder(std::string environment);

  void Append(const model::SpanBatch& batch);
  size_t num_rows() const { return block_.num_rows; }
  const Block& block() const { return block_; }

  // Rows of trace `id` in append order.
  std::vector<uint32_t> RowsOfTrace(const model::TraceId& id) const;

  // A copy sorted by (trace id, start time), with attribute columns ordered by key.
  std::shared_ptr<const Block> Seal() const;

  const std::map<std::string, ServiceCounts>& services() const { return services_; }

 private:
  uint32_t Intern(DictColumn* column, StringMap<uint32_t>* index, std::string_view value);
  void AppendAttribute(std::string_view key, const model::Value& value, uint32_t row);

  Block block_;
  StringMap<uint32_t> name_index_;
  StringMap<uint32_t> status_message_index_;
  StringMap<uint32_t> trace_state_index_;
  StringMap<size_t> attribute_column_index_;
  std::vector<StringMap<uint32_t>> attribute_dict_index_;
  std::vector<bool> raw_strings_;  // per attribute column: stopped deduplicating values
  static constexpr size_t kRawStringThreshold = 16384;
  StringMap<uint32_t> resource_index_;  // encoded resource -> table index
  StringMap<uint32_t> scope_index_;
  // Rows of a trace as a chain: last_row_of_trace_ → previous_row_in_trace_ → … → UINT32_MAX.
  std::unordered_map<model::TraceId, uint32_t, model::TraceIdHash> last_row_of_trace_;
  std::vector<uint32_t> previous_row_in_trace_;
  std::map<std::string, ServiceCounts> services_;
};

// zstd levels of the column sections. Seals run while ingest goes on and favour speed; compaction
// rewrites settled blocks once, in the background, and may spend more for size. The level is not
// part of the format (any level decodes the same way).
//
// Measured with bench/block_level_bench on one 262,144-span block of realistic spans (2 cores
// shared with other builds; bytes/span, encode, decode): level 3: 38.73 B, 1.1 s, 0.44 s; level 9:
// 38.61 B, 2.7 s, 0.40 s; level 19: 38.38 B, 32.6 s, 0.26 s. Levels barely matter here because
// most bytes are random ids (trace, span, request ids) that no level compresses. Compaction uses
// 9: it is smaller than 3 on every block we tried and its encode cost (≈ 10 µs per span under
// load) keeps compaction a small share of a core at the ingest rates this machine sustains;
// 19 would save another 0.6 % but at ≈ 125 µs per span compaction could not keep up with ingest.
constexpr int kSealZstdLevel = 3;
constexpr int kCompactionZstdLevel = 9;

// File encoding (current version: 5). `meta` must describe `block` (ComputeMeta plus id and
// checkpoint).
std::string EncodeBlockFile(const Block& block, const BlockMeta& meta,
                            int zstd_level = kSealZstdLevel);
// Reads only the meta section of a whole file in memory.
Result<BlockMeta> DecodeBlockMeta(std::string_view file);
Result<std::shared_ptr<const Block>> DecodeBlockFile(std::string_view file);

// Reads the footer, meta and section directory of the block file at `path` (three positional
// reads, none of the column sections). Version 1 to 5 files. Damage is kDataLoss; I/O errors
// keep their code.
Result<BlockMeta> ReadBlockMeta(Env* env, const std::string& path);
// Reads, checks (CRC) and decodes only the sections of `needed` (closed over its dependencies)
// from the block file at `path`, whose meta (with its sections) is `meta`. The other columns of
// the returned block are empty vectors; attributes holds the needed keys the block has, in key
// order. Damage is kDataLoss.
Result<std::shared_ptr<const Block>> ReadBlockColumns(Env* env, const std::string& path,
                                                      const BlockMeta& meta, ColumnSet needed);

// Roughly the heap bytes a decoded block holds (for the column cache's budget).
uint64_t ApproximateBytes(const Block& block);

}  // namespace ariadne::columnar
