// WAL replay: reads one segment at open and hands every intact span batch to the store's head.
// Damaged records are stepped over (DecodeWalSegment), logged with segment, offset, bytes and
// spans, and counted; a copy of a damaged segment is kept in quarantine/ before the next seal
// retires it. A torn tail (a write a crash cut short, never acknowledged) is logged, not counted.
//
// Threads: call from one thread, during Open.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/env.h"
#include "common/status.h"
#include "model/span_batch.h"
#include "store/embedded/quarantine.h"

namespace ariadne::store::embedded {

struct WalReplayCounts {
  uint64_t records = 0;
  uint64_t corrupt_records = 0;
  uint64_t skipped_bytes = 0;
  uint64_t skipped_spans = 0;
  bool empty = false;  // the segment holds no record at all (nothing skipped either)
};

// Replays segment `path`; `apply` gets each batch with its environment.
Result<WalReplayCounts> ReplayWalSegment(
    Env* env, Quarantine* quarantine, const std::string& path,
    const std::function<void(std::string_view environment, const model::SpanBatch&)>& apply);

}  // namespace ariadne::store::embedded
