// Writing block files (docs/formats/block.md): each column of a sealed Block as its own
// zstd-compressed, CRC-checked section, then the meta, the section directory and the footer.
#include <zlib.h>
#include <zstd.h>

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

void PutDict(std::string* out, const DictColumn& column) {
  PutVarint(out, column.dict.size());
  for (const std::string& s : column.dict) PutString(out, s);
  for (uint32_t code : column.codes) PutVarint(out, code);
}

template <typename T>
void PutVarints(std::string* out, const std::vector<T>& values) {
  for (T v : values) PutVarint(out, v);
}

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

  // Trace ids: run-length encoded (a sealed block keeps each trace's spans together).
  for (size_t row = 0; row < rows;) {
    size_t end = row + 1;
    while (end < rows && block.trace_id[end] == block.trace_id[row]) ++end;
    raw.append(block.trace_id[row].AsStringView());
    PutVarint(&raw, end - row);
    row = end;
  }
  writer.Add("trace_id", raw);

  raw.clear();
  for (const model::SpanId& id : block.span_id) raw.append(id.AsStringView());
  writer.Add("span_id", raw);

  // Parent ids: mostly another span of the same trace in this block, written as a row distance.
  raw.clear();
  std::unordered_map<uint64_t, uint32_t> row_of_span;
  row_of_span.reserve(rows);
  for (uint32_t row = 0; row < rows; ++row) {
    uint64_t key;
    std::memcpy(&key, block.span_id[row].bytes.data(), 8);
    row_of_span.emplace(key, row);
  }
  for (uint32_t row = 0; row < rows; ++row) {
    const model::SpanId& parent = block.parent_span_id[row];
    if (parent.IsZero()) {
      PutVarint(&raw, 0);
      continue;
    }
    uint64_t key;
    std::memcpy(&key, parent.bytes.data(), 8);
    auto it = row_of_span.find(key);
    if (it != row_of_span.end() && block.trace_id[it->second] == block.trace_id[row]) {
      PutVarint(&raw, ZigZag(static_cast<int64_t>(row) - it->second) + 2);
    } else {
      PutVarint(&raw, 1);
      raw.append(parent.AsStringView());
    }
  }
  writer.Add("parent_span_id", raw);

  raw.clear();
  uint64_t previous = 0;
  for (uint64_t start : block.start_unix_nano) {
    PutVarint(&raw, ZigZag(static_cast<int64_t>(start - previous)));
    previous = start;
  }
  writer.Add("start", raw);

  raw.clear();
  for (size_t row = 0; row < rows; ++row)
    PutVarint(&raw,
              ZigZag(static_cast<int64_t>(block.end_unix_nano[row] - block.start_unix_nano[row])));
  writer.Add("duration", raw);

  raw.clear();
  PutDict(&raw, block.name);
  writer.Add("name", raw);
  raw.assign(block.kind.begin(), block.kind.end());
  writer.Add("kind", raw);
  raw.assign(block.status_code.begin(), block.status_code.end());
  writer.Add("status_code", raw);
  raw.clear();
  PutDict(&raw, block.status_message);
  writer.Add("status_message", raw);
  raw.clear();
  PutDict(&raw, block.trace_state);
  writer.Add("trace_state", raw);
  raw.clear();
  PutVarints(&raw, block.flags);
  PutVarints(&raw, block.dropped_attributes);
  PutVarints(&raw, block.dropped_events);
  PutVarints(&raw, block.dropped_links);
  writer.Add("flags_dropped", raw);
  raw.clear();
  PutVarints(&raw, block.resource);
  PutVarints(&raw, block.scope);
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

  for (const AttributeColumn& column : block.attributes) {
    raw.clear();
    PutVarint(&raw, column.rows.size());
    uint32_t prev_row = 0;
    for (uint32_t row : column.rows) {
      PutVarint(&raw, row - prev_row);
      prev_row = row;
    }
    for (model::ValueType t : column.types) raw.push_back(static_cast<char>(t));
    for (size_t i = 0; i < column.values.size(); ++i) {
      switch (column.types[i]) {
        case model::ValueType::kEmpty:
          break;
        case model::ValueType::kBool:
          raw.push_back(static_cast<char>(column.values[i]));
          break;
        case model::ValueType::kInt:
          PutVarint(&raw, ZigZag(static_cast<int64_t>(column.values[i])));
          break;
        case model::ValueType::kDouble:
          PutFixed64(&raw, column.values[i]);
          break;
        default:
          PutVarint(&raw, column.values[i]);
          break;
      }
    }
    PutVarint(&raw, column.dict.size());
    for (const std::string& s : column.dict) PutString(&raw, s);
    writer.Add("attr:" + column.key, raw);
  }

  std::string meta_bytes;
  EncodeMeta(meta, &meta_bytes);
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
