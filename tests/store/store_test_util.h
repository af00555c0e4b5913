// Temp directories and helpers shared by the store tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "store/span_store.h"
#include "tests/common/span_equality.h"

namespace ariadne::testing {

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("ariadne-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// Checks that every trace of `batch` reads back with every span, field for field.
inline void ExpectAllTracesReadable(store::SpanStore& store, const model::SpanBatch& batch,
                                    const std::string& environment) {
  std::map<model::TraceId, std::vector<size_t>> by_trace;
  for (size_t i = 0; i < batch.spans.size(); ++i) by_trace[batch.spans[i].trace_id].push_back(i);
  for (const auto& [trace, indexes] : by_trace) {
    Result<store::TraceResult> got = store.GetTrace(trace);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_EQ(got->spans.spans.size(), indexes.size()) << trace.ToHex();
    for (const std::string& env : got->environments) EXPECT_EQ(env, environment);
    for (size_t i : indexes) {
      const model::Span& want = batch.spans[i];
      bool found = false;
      for (const model::Span& s : got->spans.spans) {
        if (s.span_id == want.span_id) {
          ExpectSameSpan(batch, want, got->spans, s);
          found = true;
        }
      }
      EXPECT_TRUE(found);
    }
  }
}

// Spans in the store across every service and environment (each stored span counts once).
inline uint64_t TotalSpans(store::SpanStore& store) {
  auto services = store.ListServices();
  EXPECT_TRUE(services.ok()) << services.status().ToString();
  uint64_t total = 0;
  if (services.ok())
    for (const auto& s : *services) total += s.span_count;
  return total;
}

}  // namespace ariadne::testing
