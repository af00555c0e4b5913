// Helpers of the benchmarks that grow an embedded store block by block (compaction_bench,
// seal_confirm_bench): a scratch data directory, and realistic spans appended with a seal every
// N spans so the block size is the benchmark's choice, not the head limit's.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>

#include "common/status.h"
#include "tools/gen/realistic_spans.h"

namespace ariadne::bench {

// A fresh, empty directory under the temp directory, named after `name` and this process.
inline std::string ScratchDataDir(const std::string& name) {
  const std::string dir = std::filesystem::temp_directory_path() /
                          ("ariadne-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir;
}

// Appends `spans` realistic spans (tools/gen seed 7, starting long ago so every time window has
// ended) to environment "prod" in batches of 512, sealing (Flush) after every `per_seal` of them;
// `on_seal` gets each Flush's wall time. Returns the spans sent (`spans` rounded up to a whole
// batch); stops at the first failed append or flush.
// `Store` is the embedded store (or any store with Append and Flush).
template <typename Store>
Result<size_t> AppendWithSeals(Store* store, size_t spans, size_t per_seal,
                               const std::function<void(double flush_ms)>& on_seal = nullptr) {
  gen::RealisticOptions gen_options;
  gen_options.start_unix_nano = 1'700'000'000'000'000'000ULL;
  gen::RealisticSpans gen(7, gen_options);
  size_t sent = 0, since_seal = 0;
  while (sent < spans) {
    model::SpanBatch batch = gen.Batch(512);
    sent += batch.spans.size();
    since_seal += batch.spans.size();
    ARIADNE_RETURN_IF_ERROR(store->Append("prod", std::move(batch)));
    if (since_seal < per_seal) continue;
    const auto t0 = std::chrono::steady_clock::now();
    ARIADNE_RETURN_IF_ERROR(store->Flush());
    if (on_seal)
      on_seal(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    since_seal = 0;
  }
  return sent;
}

}  // namespace ariadne::bench
