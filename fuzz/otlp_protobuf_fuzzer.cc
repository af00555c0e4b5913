// Fuzzes the hand-written OTLP protobuf walker (DecodeProtobufRequest) with arbitrary bodies.
// Oracle: no crash or sanitizer report, and every decoded string is valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "fuzz/fuzz_util.h"
#include "receivers/otlp/otlp_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto body = std::make_shared<const std::string>(reinterpret_cast<const char*>(data), size);
  auto decoded = ariadne::receivers::otlp::DecodeProtobufRequest(body);
  if (decoded.ok()) ariadne::fuzz::CheckBatch(decoded->batch);
  return 0;
}
