// The split-trace list: the traces whose spans are in more than one sealed block (or whose
// persisted parts cannot be trusted), persisted beside the manifest as `<data-dir>/trace-splits`
// so the trace-summary index (trace_index.h) is rebuilt at open without reading any side file.
// Format and crash reasoning: docs/formats/trace-summaries.md ("Split list").
//
// Contract: the list is a superset of the traces the blocks named by the manifest hold in parts
// (a part not flagged whole, or flagged whole but with spans in another block): the seal writes it
// BEFORE the manifest edit that names a block with a new split trace, and nothing ever removes a
// trace from it while its spans may still be in several blocks. An entry too many only keeps that
// trace resident (it is summarized from the whole trace, as the heads' traces are). Its presence
// also says that every block the manifest names has a version 3 side file whose `whole` flags were
// decided (open converts older stores first, then writes it).
//
// Threads: free functions over values; no shared state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/env.h"
#include "common/status.h"
#include "model/ids.h"

namespace ariadne::store::embedded {

struct SplitTrace {
  std::string environment;
  model::TraceId id;
  uint64_t start_unix_nano = 0;       // earliest span start known for the trace
  uint64_t last_start_unix_nano = 0;  // latest span start known
};

// `data_dir` + "/trace-splits".
std::string TraceSplitPath(const std::string& data_dir);

std::string EncodeTraceSplits(const std::vector<SplitTrace>& traces);
// kDataLoss for anything that is not a whole, checksummed list of a known version.
Result<std::vector<SplitTrace>> DecodeTraceSplits(std::string_view data);

// Durable write (temp file, sync, rename, directory sync) and read through `env`; the read answers
// kNotFound when there is no list.
Status WriteTraceSplitFile(Env* env, const std::string& data_dir,
                           const std::vector<SplitTrace>& traces);
Result<std::vector<SplitTrace>> ReadTraceSplitFile(Env* env, const std::string& data_dir);

}  // namespace ariadne::store::embedded
