// Fuzzes the OTLP/JSON decoder (DecodeJsonRequest) with arbitrary bodies.
// Oracle: no crash or sanitizer report, and every decoded string is valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "receivers/otlp/otlp_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto decoded = ariadne::receivers::otlp::DecodeJsonRequest(body);
  if (decoded.ok()) ariadne::fuzz::CheckBatch(decoded->batch);
  return 0;
}
