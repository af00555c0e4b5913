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
// file format of docs/formats/block.md: zstd-compressed column sections, then the BlockMeta
// (time range, per-service counts, trace-id bloom filter) that the store keeps in memory so it can
// skip blocks without reading them.
//
// Threads: Block is immutable once sealed and may be shared (std::shared_ptr<const Block>) across
// threads. BlockBuilder is not synchronized; the store guards it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "model/ids.h"
#include "model/span_batch.h"

namespace ariadne::store::embedded {

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
  model::Value ValueAt(size_t entry) const;
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
  TraceIdBloom() = default;
  explicit TraceIdBloom(size_t expected_items);
  void Add(const model::TraceId& id);
  bool MayContain(const model::TraceId& id) const;
  const std::string& bits() const { return bits_; }
  static TraceIdBloom FromBits(std::string bits);

 private:
  static constexpr int kHashes = 7;
  std::string bits_;
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

// File encoding. `meta` must describe `block` (ComputeMeta plus id and checkpoint).
std::string EncodeBlockFile(const Block& block, const BlockMeta& meta);
// Reads only the meta section (cheap: used at open for every block).
Result<BlockMeta> DecodeBlockMeta(std::string_view file);
Result<std::shared_ptr<const Block>> DecodeBlockFile(std::string_view file);

}  // namespace ariadne::store::embedded
