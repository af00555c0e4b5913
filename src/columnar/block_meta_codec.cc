// The meta section, section directory and footer of block files (docs/formats/block.md): encoding
// the meta, and reading a file's layout from memory (DecodeBlockMeta) or through the Env with
// positional reads (ReadBlockMeta). Shared pieces are declared in block_internal.h.
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>

#include <memory>

#include "columnar/block.h"
#include "columnar/block_internal.h"
#include "columnar/coding.h"

namespace ariadne::columnar {
namespace block_internal {
namespace {

using Section = SectionInfo;

bool DecodeStats(ByteReader* in, BlockMeta* meta) {
  uint8_t names_complete;
  if (!in->GetVarint(&meta->min_duration_nano) || !in->GetVarint(&meta->max_duration_nano) ||
      !in->GetByte(&meta->status_code_mask) || !in->GetByte(&meta->kind_mask) ||
      !in->GetByte(&names_complete))
    return false;
  meta->names_complete = names_complete != 0;
  if (meta->names_complete) {
    uint64_t n;
    if (!in->GetVarint(&n) || n > in->remaining()) return false;
    for (uint64_t i = 0; i < n; ++i) {
      std::string_view v;
      if (!in->GetString(&v)) return false;
      meta->names.emplace_back(v);
    }
  }
  uint64_t keys;
  if (!in->GetVarint(&keys) || keys > in->remaining()) return false;
  for (uint64_t i = 0; i < keys; ++i) {
    std::string_view key;
    ColumnStats st;
    uint8_t flags;
    if (!in->GetString(&key) || !in->GetVarint(&st.present_rows) || !in->GetByte(&flags))
      return false;
    st.has_int = flags & 1;
    st.has_double = flags & 2;
    st.has_nan = flags & 4;
    st.has_bool = flags & 8;
    st.has_strings = flags & 16;
    st.strings_complete = flags & 32;
    if (st.has_int) {
      uint64_t lo, hi;
      if (!in->GetVarint(&lo) || !in->GetVarint(&hi)) return false;
      st.int_min = UnZigZag(lo);
      st.int_max = UnZigZag(hi);
    }
    if (st.has_double && (!in->GetDouble(&st.double_min) || !in->GetDouble(&st.double_max)))
      return false;
    if (st.strings_complete) {
      uint64_t n;
      if (!in->GetVarint(&n) || n > in->remaining()) return false;
      for (uint64_t j = 0; j < n; ++j) {
        std::string_view v;
        if (!in->GetString(&v)) return false;
        st.strings.emplace_back(v);
      }
    }
    meta->stats[std::string(key)] = std::move(st);
  }
  meta->has_stats = true;
  return in->ok();
}

// Larger pre-aggregates are refused as damage (a block's are tens of KiB).
constexpr uint64_t kMaxPreAggregateBytes = 64 << 20;

bool DecodeMeta(std::string_view data, BlockMeta* meta) {
  ByteReader in(data);
  uint64_t services;
  std::string_view env, bloom;
  if (!in.GetVarint(&meta->id) || !in.GetVarint(&meta->checkpoint) || !in.GetString(&env) ||
      !in.GetVarint(&meta->num_rows) || !in.GetFixed64(&meta->min_start_unix_nano) ||
      !in.GetFixed64(&meta->max_end_unix_nano) || !in.GetVarint(&services) ||
      services > in.remaining())
    return false;
  meta->environment.assign(env);
  for (uint64_t i = 0; i < services; ++i) {
    std::string_view name;
    ServiceCounts c;
    if (!in.GetString(&name) || !in.GetVarint(&c.span_count) || !in.GetVarint(&c.root_count) ||
        !in.GetVarint(&c.error_count) || !in.GetFixed64(&c.first_seen) ||
        !in.GetFixed64(&c.last_seen))
      return false;
    meta->services[std::string(name)] = c;
  }
  if (!in.GetString(&bloom)) return false;
  meta->bloom = TraceIdBloom::FromBits(std::string(bloom));
  uint64_t columns;
  if (!in.GetVarint(&columns) || columns > in.remaining()) return false;
  for (uint64_t i = 0; i < columns; ++i) {
    std::string_view name;
    uint64_t types;
    uint8_t sources;
    if (!in.GetString(&name) || !in.GetVarint(&types) || !in.GetByte(&sources)) return false;
    meta->columns[std::string(name)] =
        BlockMeta::ColumnTypes{static_cast<uint16_t>(types), sources};
  }
  if (in.ok() && !in.empty() && !DecodeStats(&in, meta)) return false;
  // Version 4: optional tagged fields; unknown tags are skipped.
  while (in.ok() && !in.empty()) {
    uint64_t tag;
    std::string_view bytes;
    if (!in.GetVarint(&tag) || !in.GetString(&bytes)) return false;
    if (tag != BlockMeta::kPreAggregatesTag) continue;
    ByteReader field(bytes);
    uint64_t raw_size;
    if (!field.GetVarint(&raw_size) || raw_size > kMaxPreAggregateBytes) return false;
    const std::string_view frame = bytes.substr(bytes.size() - field.remaining());
    auto raw = std::make_shared<std::string>(raw_size, '\0');
    const size_t n = ZSTD_decompress(raw->data(), raw->size(), frame.data(), frame.size());
    if (ZSTD_isError(n) || n != raw_size) return false;
    meta->pre_aggregates = std::move(raw);
  }
  return in.ok() && in.empty();
}

}  // namespace

uint32_t Crc(std::string_view data) {
  return static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

void EncodeMeta(const BlockMeta& meta, std::string* out, int pre_aggregates_level) {
  PutVarint(out, meta.id);
  PutVarint(out, meta.checkpoint);
  PutString(out, meta.environment);
  PutVarint(out, meta.num_rows);
  PutFixed64(out, meta.min_start_unix_nano);
  PutFixed64(out, meta.max_end_unix_nano);
  PutVarint(out, meta.services.size());
  for (const auto& [name, c] : meta.services) {
    PutString(out, name);
    PutVarint(out, c.span_count);
    PutVarint(out, c.root_count);
    PutVarint(out, c.error_count);
    PutFixed64(out, c.first_seen);
    PutFixed64(out, c.last_seen);
  }
  PutString(out, meta.bloom.bits());
  PutVarint(out, meta.columns.size());
  for (const auto& [name, c] : meta.columns) {
    PutString(out, name);
    PutVarint(out, c.types);
    out->push_back(static_cast<char>(c.sources));
  }
  if (!meta.has_stats) return;  // a version-1 meta ends here
  PutVarint(out, meta.min_duration_nano);
  PutVarint(out, meta.max_duration_nano);
  out->push_back(static_cast<char>(meta.status_code_mask));
  out->push_back(static_cast<char>(meta.kind_mask));
  out->push_back(static_cast<char>(meta.names_complete ? 1 : 0));
  if (meta.names_complete) {
    PutVarint(out, meta.names.size());
    for (const std::string& n : meta.names) PutString(out, n);
  }
  PutVarint(out, meta.stats.size());
  for (const auto& [key, st] : meta.stats) {
    PutString(out, key);
    PutVarint(out, st.present_rows);
    const uint8_t flags = (st.has_int ? 1 : 0) | (st.has_double ? 2 : 0) | (st.has_nan ? 4 : 0) |
                          (st.has_bool ? 8 : 0) | (st.has_strings ? 16 : 0) |
                          (st.strings_complete ? 32 : 0);
    out->push_back(static_cast<char>(flags));
    if (st.has_int) {
      PutVarint(out, ZigZag(st.int_min));
      PutVarint(out, ZigZag(st.int_max));
    }
    if (st.has_double) {
      PutDouble(out, st.double_min);
      PutDouble(out, st.double_max);
    }
    if (st.strings_complete) {
      PutVarint(out, st.strings.size());
      for (const std::string& v : st.strings) PutString(out, v);
    }
  }
  // Version 4: optional tagged fields (varint tag, string bytes) to the end of the meta.
  // Tag 1, pre-aggregates: varint raw size, then the bytes zstd-compressed (any level).
  if (meta.pre_aggregates) {
    const std::string& raw = *meta.pre_aggregates;
    std::string field;
    PutVarint(&field, raw.size());
    const size_t at = field.size();
    const size_t bound = ZSTD_compressBound(raw.size());
    field.resize(at + bound);
    const size_t n =
        ZSTD_compress(field.data() + at, bound, raw.data(), raw.size(), pre_aggregates_level);
    field.resize(at + n);  // cannot fail into a buffer of ZSTD_compressBound bytes
    PutVarint(out, BlockMeta::kPreAggregatesTag);
    PutString(out, field);
  }
}

Status Corrupt(const std::string& what) {
  return Status::DataLoss("block file is corrupt: " + what +
                          "; move it out of the data directory to start without it");
}

Result<Footer> ParseFooter(std::string_view tail, uint64_t file_size) {
  if (tail.size() != kFooterSize || std::memcmp(tail.data() + kFooterSize - 8, kBlockMagic, 8) != 0)
    return Corrupt("bad magic or too short");
  Footer f;
  f.meta_offset = DecodeFixed64(tail.data());
  f.meta_len = DecodeFixed64(tail.data() + 8);
  f.dir_offset = DecodeFixed64(tail.data() + 16);
  f.dir_len = DecodeFixed64(tail.data() + 24);
  f.crc = DecodeFixed32(tail.data() + 32);
  const uint64_t limit = file_size - kFooterSize;
  if (f.meta_offset > limit || f.meta_len > limit - f.meta_offset || f.dir_offset > limit ||
      f.dir_len > limit - f.dir_offset)
    return Corrupt("footer offsets out of range");
  return f;
}

Status CheckHeader(std::string_view head, uint32_t* version) {
  if (head.size() < 12 || std::memcmp(head.data(), kBlockMagic, 8) != 0)
    return Corrupt("bad magic or too short");
  *version = DecodeFixed32(head.data() + 8);
  if (*version < 1 || *version > kBlockFormatVersion)
    return Corrupt("unsupported format version " + std::to_string(*version));
  return Status::Ok();
}

Status ParseMetaAndDirectory(std::string_view meta_bytes, std::string_view dir,
                             const Footer& footer, uint64_t file_size, BlockMeta* meta) {
  uLong c = crc32(0L, reinterpret_cast<const Bytef*>(meta_bytes.data()),
                  static_cast<uInt>(meta_bytes.size()));
  c = crc32(c, reinterpret_cast<const Bytef*>(dir.data()), static_cast<uInt>(dir.size()));
  if (static_cast<uint32_t>(c) != footer.crc) return Corrupt("footer checksum mismatch");
  const uint64_t limit = file_size - kFooterSize;
  ByteReader in(dir);
  uint64_t n;
  if (!in.GetVarint(&n) || n > dir.size()) return Corrupt("section directory");
  for (uint64_t i = 0; i < n; ++i) {
    Section s;
    std::string_view name;
    if (!in.GetString(&name) || !in.GetVarint(&s.offset) || !in.GetVarint(&s.compressed) ||
        !in.GetVarint(&s.raw) || !in.GetFixed32(&s.crc))
      return Corrupt("section directory");
    if (s.offset > limit || s.compressed > limit - s.offset) return Corrupt("section bounds");
    s.name.assign(name);
    meta->sections.push_back(std::move(s));
  }
  if (!DecodeMeta(meta_bytes, meta)) return Status::DataLoss("block meta section is corrupt");
  meta->file_bytes = file_size;
  return Status::Ok();
}

Result<BlockMeta> ParseLayout(std::string_view file) {
  if (file.size() < sizeof(kBlockMagic) + 4 + kFooterSize) return Corrupt("bad magic or too short");
  BlockMeta meta;
  ARIADNE_RETURN_IF_ERROR(CheckHeader(file.substr(0, 12), &meta.format_version));
  ARIADNE_ASSIGN_OR_RETURN(Footer footer,
                           ParseFooter(file.substr(file.size() - kFooterSize), file.size()));
  ARIADNE_RETURN_IF_ERROR(ParseMetaAndDirectory(file.substr(footer.meta_offset, footer.meta_len),
                                                file.substr(footer.dir_offset, footer.dir_len),
                                                footer, file.size(), &meta));
  return meta;
}

}  // namespace block_internal

using block_internal::CheckHeader;
using block_internal::Corrupt;
using block_internal::Footer;
using block_internal::kBlockMagic;
using block_internal::kFooterSize;
using block_internal::ParseFooter;
using block_internal::ParseLayout;
using block_internal::ParseMetaAndDirectory;

Result<BlockMeta> DecodeBlockMeta(std::string_view file) { return ParseLayout(file); }

Result<BlockMeta> ReadBlockMeta(Env* env, const std::string& path) {
  ARIADNE_ASSIGN_OR_RETURN(uint64_t size, env->FileSize(path));
  if (size < sizeof(kBlockMagic) + 4 + kFooterSize) return Corrupt("bad magic or too short");
  BlockMeta meta;
  ARIADNE_ASSIGN_OR_RETURN(std::string head, env->ReadFileRange(path, 0, 12));
  ARIADNE_RETURN_IF_ERROR(CheckHeader(head, &meta.format_version));
  ARIADNE_ASSIGN_OR_RETURN(std::string tail,
                           env->ReadFileRange(path, size - kFooterSize, kFooterSize));
  ARIADNE_ASSIGN_OR_RETURN(Footer footer, ParseFooter(tail, size));
  // Meta and directory are adjacent in files this code writes; read the span covering both.
  const uint64_t from = std::min(footer.meta_offset, footer.dir_offset);
  const uint64_t to =
      std::max(footer.meta_offset + footer.meta_len, footer.dir_offset + footer.dir_len);
  ARIADNE_ASSIGN_OR_RETURN(std::string bytes,
                           env->ReadFileRange(path, from, static_cast<size_t>(to - from)));
  if (bytes.size() != to - from) return Corrupt("file shorter than its footer says");
  std::string_view view(bytes);
  ARIADNE_RETURN_IF_ERROR(ParseMetaAndDirectory(
      view.substr(footer.meta_offset - from, footer.meta_len),
      view.substr(footer.dir_offset - from, footer.dir_len), footer, size, &meta));
  return meta;
}

}  // namespace ariadne::columnar
