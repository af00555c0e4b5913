// Private to the block*.cc files (not for other users): the pieces of the block file format that
// the encoder, the decoder and the meta reader share. The format is docs/formats/block.md.
//
// block_meta_codec.cc defines these; they are pure functions of their arguments (thread-safe).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "columnar/block.h"
#include "common/status.h"
#include "model/span_batch.h"

namespace ariadne::columnar::block_internal {

constexpr char kBlockMagic[8] = {'A', 'R', 'I', 'A', 'D', 'N', 'E', 'B'};
// 1: no column statistics in the meta; 2: varint-coded columns; 3: integer columns (coding.h);
// 4: optional tagged meta fields after the statistics (pre-aggregates), sections as in 3.
constexpr uint32_t kBlockFormatVersion = 4;
constexpr size_t kFooterSize = 8 * 4 + 4 + 8;

// Value types whose values are stored in a column's dictionary.
inline bool IsStringLike(model::ValueType t) {
  return t == model::ValueType::kString || t == model::ValueType::kBytes ||
         t == model::ValueType::kArray || t == model::ValueType::kKvList;
}

// CRC-32 (zlib) of a section's stored bytes.
uint32_t Crc(std::string_view data);

// kDataLoss naming what is wrong and what to do.
Status Corrupt(const std::string& what);

struct Footer {
  uint64_t meta_offset = 0, meta_len = 0, dir_offset = 0, dir_len = 0;
  uint32_t crc = 0;
};

// Serializes the meta section (version 1 ends before the statistics when !meta.has_stats).
void EncodeMeta(const BlockMeta& meta, std::string* out);
// `tail` is the last kFooterSize bytes of a file of `file_size` bytes.
Result<Footer> ParseFooter(std::string_view tail, uint64_t file_size);
// Checks the magic and version in the first 12 bytes.
Status CheckHeader(std::string_view head, uint32_t* version);
// Checks the footer CRC over meta and directory, then decodes both into `meta`.
Status ParseMetaAndDirectory(std::string_view meta_bytes, std::string_view dir,
                             const Footer& footer, uint64_t file_size, BlockMeta* meta);
// Header, footer, meta and directory of a whole file in memory.
Result<BlockMeta> ParseLayout(std::string_view file);

}  // namespace ariadne::columnar::block_internal
