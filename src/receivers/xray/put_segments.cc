#include "receivers/xray/put_segments.h"

#include <utility>

#include "pipeline/validate.h"
#include "receivers/xray/segment_decoder.h"

namespace ariadne::receivers::xray {

void PutTraceSegments(pipeline::Pipeline* pipeline, const std::string& environment,
                      const std::vector<std::string_view>& documents, double now,
                      uint64_t invalid_utf8_replaced, std::function<void(PutSegmentsResult)> done) {
  model::SpanBatch merged;
  PutSegmentsResult result;
  for (std::string_view text : documents) {
    model::SpanBatch batch;
    DecodeError error;
    auto decoded =
        DecodeSegmentDocument(text, &batch, DecodeLimits{}, &error, &invalid_utf8_replaced);
    if (!decoded.ok()) {
      result.unprocessed.push_back({error.id, error.error_code, error.message});
      continue;
    }
    const std::string first_id = batch.spans.empty() ? "" : batch.spans.front().span_id.ToHex();
    pipeline::ValidationReport report = pipeline::ValidateBatch(
        batch, pipeline::ValidationOptions{}, static_cast<uint64_t>(now * 1e9));
    if (report.rejected > 0) {
      result.unprocessed.push_back({first_id, "InvalidSegment", report.message});
      continue;
    }
    AppendBatch(batch, &merged);
  }
  pipeline->metrics().AddInvalidUtf8(invalid_utf8_replaced);
  if (merged.spans.empty()) {
    done(std::move(result));
    return;
  }
  pipeline->Submit(environment, std::move(merged), 0, "",
                   [done = std::move(done),
                    result = std::move(result)](pipeline::SubmitResult submitted) mutable {
                     result.status = submitted.status;
                     done(std::move(result));
                   });
}

}  // namespace ariadne::receivers::xray
