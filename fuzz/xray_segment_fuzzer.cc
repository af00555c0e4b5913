// Fuzzes the X-Ray segment decoder the way the UDP daemon listener uses it: SplitDaemonDatagram,
// then DecodeSegmentDocument on the document part (or on the whole input when it has no header).
// Oracle: no crash or sanitizer report, and every decoded string is valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "receivers/xray/segment_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ariadne::receivers::xray;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto split = SplitDaemonDatagram(input);
  std::string_view document = split.ok() ? *split : input;
  ariadne::model::SpanBatch batch;
  DecodeError error;
  uint64_t replaced = 0;
  auto decoded = DecodeSegmentDocument(document, &batch, DecodeLimits{}, &error, &replaced);
  if (decoded.ok()) ariadne::fuzz::CheckBatch(batch);
  return 0;
}
