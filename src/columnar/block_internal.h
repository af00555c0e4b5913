// Private to the block*.cc files (not for other users): the pieces of the block file format that
// the encoder, the decoder and the meta reader share. The format is docs/formats/block.md.
//
// block_meta_codec.cc defines these; they are pure functions of their arguments (thread-safe).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "columnar/block.h"
#include "common/status.h"
#include "model/span_batch.h"

namespace ariadne::columnar::block_internal {

constexpr char kBlockMagic[8] = {'A', 'R', 'I', 'A', 'D', 'N', 'E', 'B'};
// 1: no column statistics in the meta; 2: varint-coded columns; 3: integer columns (coding.h);
// 4: optional tagged meta fields after the statistics (pre-aggregates), sections as in 3;
// 5: span ids in byte planes, string attribute values optionally coded against the span name.
constexpr uint32_t kBlockFormatVersion = 5;
// The zstd level compaction (kCompactionZstdLevel and above) spends on the sections that compress
// and on the pre-aggregates (block_encode.cc); not part of the format.
constexpr int kStrongZstdLevel = 19;
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

// Serializes the meta section (version 1 ends before the statistics when !meta.has_stats). The
// pre-aggregates are compressed at `pre_aggregates_level` (not part of the format).
void EncodeMeta(const BlockMeta& meta, std::string* out, int pre_aggregates_level = 3);

// ---- Format 5: string attribute values coded against the row's span name (block_conditioning.cc)
// Per row, the rank of its span name among the distinct names the rows use, sorted by string
// (`distinct` gets their number): the same on the writer's and the reader's side.
std::vector<uint32_t> NameRanks(const DictColumn& name, size_t* distinct);
// A code per name rank, as code + 1 (0: none of that name's entries has it), given each entry's
// name rank and code: the majority code of the name when it has one. True when coding against them
// pays: at least 3/4 of the entries are their name's prediction.
bool PredictByName(const std::vector<uint32_t>& entry_ranks, size_t distinct,
                   const std::vector<uint32_t>& codes, std::vector<uint32_t>* predictions);
// Each code becomes 0 when it is its name's prediction, else code + 1.
void ConditionCodes(const std::vector<uint32_t>& entry_ranks,
                    const std::vector<uint32_t>& predictions, std::vector<uint32_t>* codes);
// The inverse; false (malformed) on a rank or code out of range, or 0 where nothing is predicted.
bool UnconditionCodes(const std::vector<uint32_t>& entry_ranks,
                      const std::vector<uint32_t>& predictions, size_t entries,
                      std::vector<uint32_t>* codes);
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
