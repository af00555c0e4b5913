// Trace-summary side files: the per-trace summaries of one block, persisted next to it. The
// trace-summary index (trace_index.h) keeps nothing per trace in memory for sealed data: its
// searches read these files (through a bounded cache). Format: docs/formats/trace-summaries.md.
//
// One side file per block, `<block file>.tsum` (e.g. blocks/000000000042.blk.tsum). It holds one
// TraceSummary per trace id of the block, computed from that block's rows of the trace only (a
// *part*: span_count is the block's row count of the trace), with a `whole` flag: no other block
// held a span of the trace when the part was written (seal, compaction). Traces with spans in
// several blocks are listed in the split list (trace_split_file.h) and summarized from the whole
// trace; parts are never merged field by field (X-Ray facts such as the root segment depend on
// parent links across parts).
//
// Lifecycle: written and synced through the Env (WriteFileAtomically) BEFORE the manifest edit
// that names its block (seal and compaction), removed with its block (retention, compaction,
// quarantine), and side files whose block no manifest names are removed at open. A block without
// a side file (written before side files existed, or whose side-file write was interrupted by a
// crash) is summarized from its columns at open and its side file written then.
//
// Threads: free functions over values; no shared state.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "columnar/block.h"
#include "common/env.h"
#include "common/status.h"
#include "store/embedded/trace_block_digest.h"
#include "store/trace_reader.h"

namespace ariadne::store::embedded {

inline constexpr std::string_view kTraceSummarySuffix = ".tsum";
// The version EncodeTraceSummaries writes (docs/formats/trace-summaries.md), and the one before
// it (no per-node facts), written for parts read from an older side file (their facts have no
// nodes, so a search that reads them rebuilds the side file from its block).
inline constexpr uint64_t kTraceSummaryVersion = 5;
inline constexpr uint64_t kTraceSummaryVersionWithoutNodes = 4;

// `block_path` + ".tsum".
std::string TraceSummaryPath(const std::string& block_path);

// The parts of every trace of `block`, one per trace id, ordered by (start, trace id).
// `environment` is the block's environment.
std::vector<TraceSummary> SummarizeBlockTraces(const std::string& environment,
                                               const columnar::Block& block);

// A decoded side file: the parts in file order ((start, trace id)), and per part whether it was
// recorded `whole` (version 3; see docs/formats/trace-summaries.md). Versions 1 and 2 carry no
// flag: every part reads as not whole (undecided), and open decides them (trace_index_reads.cc).
struct TraceSummaryParts {
  uint64_t version = 0;
  std::vector<TraceSummary> parts;
  std::vector<uint8_t> whole;  // parallel to parts; 1 = whole
};

// Serializes / parses a side file (version 5: the block's digest then, as version 3, a flags byte
// per part, zstd-compressed, each summary with its per-node facts; version 4, without them (its
// facts read with nodes_complete false), version 3 without the digest, version 2,
// compressed without flags, and version 1, uncompressed, written by earlier releases, still read).
// `whole` is parallel to `parts` (empty: none whole). Decode answers kDataLoss (saying what is
// wrong) for anything that is not a whole, checksummed side file of a known version; it never
// reads out of bounds.
std::string EncodeTraceSummaries(const std::vector<TraceSummary>& parts,
                                 const std::vector<uint8_t>& whole = {});
Result<TraceSummaryParts> DecodeTraceSummaryParts(std::string_view data);
Result<std::vector<TraceSummary>> DecodeTraceSummaries(std::string_view data);
// Version 4, with the digest but without the per-node facts (WriteTraceSummaryFile's older
// version; tests of reading it).
std::string EncodeTraceSummariesVersion4(const std::vector<TraceSummary>& parts,
                                         const std::vector<uint8_t>& whole);
// Version 3, flagged but without the digest (for tests of reading it).
std::string EncodeTraceSummariesVersion3(const std::vector<TraceSummary>& parts,
                                         const std::vector<uint8_t>& whole);
// The compressed version 2 without flags (for tests of reading it).
std::string EncodeTraceSummariesVersion2(const std::vector<TraceSummary>& parts);
// The uncompressed version 1 earlier releases wrote (for tests of reading it).
std::string EncodeTraceSummariesVersion1(const std::vector<TraceSummary>& parts);

// Durable write (temp file, sync, rename, directory sync) and read through `env`. The write
// answers the side file's size: the store counts it with its block's bytes (BlockMeta::file_bytes
// and the manifest's record of the block are block file + side file), so --max-disk, retention by
// size and /metrics' block bytes include the side files. A side file written again later (an older
// version upgraded) is counted at its new size (EmbeddedStore::RewriteSideFile, BlockFileBytes).
// `version`: kTraceSummaryVersion, or kTraceSummaryVersionWithoutNodes for parts whose facts
// were read from an older side file.
Result<uint64_t> WriteTraceSummaryFile(Env* env, const std::string& block_path,
                                       const std::vector<TraceSummary>& parts,
                                       const std::vector<uint8_t>& whole = {},
                                       uint64_t version = kTraceSummaryVersion);
// The side file's size on disk (a stat, not a read); 0 when the block has none.
uint64_t TraceSummaryFileBytes(Env* env, const std::string& block_path);
// kNotFound when the block has no side file; kDataLoss when it does not parse.
Result<std::vector<TraceSummary>> ReadTraceSummaryFile(Env* env, const std::string& block_path);
Result<TraceSummaryParts> ReadTraceSummaryParts(Env* env, const std::string& block_path);

// The block's digest (trace_block_digest.h) from the front of its side file, read by range (one
// read of 32 KiB, a second when the digest is larger), checked by its own CRC. An older side file
// (version 1 to 3) answers an unknown digest (`known` false: never skipped); kNotFound /
// kDataLoss as ReadTraceSummaryParts. `prefix` decoding: `needed` is set (and kOutOfRange
// answered) when the digest ends past the prefix.
Result<TraceBlockDigest> ReadTraceBlockDigest(Env* env, const std::string& block_path);
Result<TraceBlockDigest> DecodeTraceBlockDigest(std::string_view prefix, size_t* needed);

}  // namespace ariadne::store::embedded
