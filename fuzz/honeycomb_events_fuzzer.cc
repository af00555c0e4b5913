// Fuzzes the Honeycomb event decoder the way the /1/events and /1/batch routes use it: the first
// byte picks the route (even: one event, odd: a batch), the rest is the body.
// Oracle: no crash or sanitizer report; every decoded string is valid UTF-8; a batch answers one
// outcome per element and appends exactly one span per 202.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "receivers/honeycomb/event_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ariadne::receivers::honeycomb;
  if (size == 0) return 0;
  const bool batch_route = data[0] & 1;
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  EventDefaults defaults;
  defaults.dataset = "fuzz";
  defaults.now_unix_nano = 1'796'284'227'000'000'000ULL;
  defaults.sample_rate = (data[0] >> 1) + 1;
  ariadne::model::SpanBatch batch;
  uint64_t replaced = 0;
  if (batch_route) {
    auto outcomes = DecodeEventBatch(body, defaults, &batch, &replaced);
    if (!outcomes.ok()) return 0;
    size_t accepted = 0;
    for (const EventOutcome& outcome : *outcomes) accepted += outcome.status == 202;
    if (accepted != batch.spans.size()) std::abort();
  } else if (!DecodeSingleEvent(body, defaults, &batch, &replaced).ok()) {
    return 0;
  }
  ariadne::fuzz::CheckBatch(batch);
  return 0;
}
