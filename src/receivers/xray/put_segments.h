// PutTraceSegments, the ingest half: decodes a request's segment documents, checks them as every
// receiver does (pipeline::ValidateBatch) and hands the good ones to the pipeline in one batch.
// Bad documents do not take the good ones down: each comes back as an UnprocessedSegment naming
// its id, X-Ray's error code and the reason. `done` is called exactly once — after the pipeline
// made the good documents durable (or failed to), or at once when there is nothing to store.
// The X-Ray API (src/api/xray) parses the request and renders the answer.
//
// Threads: reentrant; the pipeline must outlive the call (`done` may run on a store thread).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "pipeline/pipeline.h"

namespace ariadne::receivers::xray {

struct UnprocessedSegment {
  std::string id;
  std::string error_code;
  std::string message;
};

struct PutSegmentsResult {
  Status status;  // of storing the good documents (OK when there were none)
  std::vector<UnprocessedSegment> unprocessed;
};

// `now` (epoch seconds) is the validation's reference time; `invalid_utf8_replaced` is added to
// the ingest metrics.
void PutTraceSegments(pipeline::Pipeline* pipeline, const std::string& environment,
                      const std::vector<std::string_view>& documents, double now,
                      uint64_t invalid_utf8_replaced, std::function<void(PutSegmentsResult)> done);

}  // namespace ariadne::receivers::xray
