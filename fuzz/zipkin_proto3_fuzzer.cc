// Fuzzes the Zipkin v2 protobuf decoder (zipkin.proto3 ListOfSpans) the way the receiver uses it (a
// whole request body). Oracle: no crash or sanitizer report, every range of the batch in bounds,
// every decoded string valid UTF-8, and every stored span with non-zero ids (rejections are
// counted, not stored).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "receivers/zipkin/zipkin_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto decoded = ariadne::receivers::zipkin::DecodeZipkinProto3(input);
  if (!decoded.ok()) return 0;
  ariadne::fuzz::CheckBatch(decoded->batch);
  for (const ariadne::model::Span& span : decoded->batch.spans) {
    if (span.trace_id.IsZero() || span.span_id.IsZero()) {
      std::fprintf(stderr, "a span with a zero id was kept\n");
      std::abort();
    }
  }
  return 0;
}
