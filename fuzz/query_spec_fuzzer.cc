// Fuzzes the query API's JSON spec parser (ParseQuerySpec) and, for specs it accepts, the result
// renderer on an empty result.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "query/query_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ariadne::query;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  constexpr uint64_t kNow = 1'767'225'600ULL * 1'000'000'000ULL;  // 2026-01-01
  auto spec = ParseQuerySpec(text, kNow);
  if (spec.ok()) (void)ResultToJson(*spec, QueryResult{});
  return 0;
}
