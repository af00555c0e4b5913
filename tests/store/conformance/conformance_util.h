// Helpers shared by the storage conformance tests: query specs in a line, spans appended in
// chunks (so engines see several batches), and the time base of tests/common/random_spans.h.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "query/query_spec.h"
#include "store/span_store.h"

namespace ariadne::testing::conformance {

using query::CalcOp;
using query::Calculation;
using query::Filter;
using query::FilterOp;
using query::QuerySpec;

constexpr uint64_t kBase = 1'764'000'000'000'000'000ULL;  // RandomSpans' default base time
constexpr uint64_t kSecond = 1'000'000'000ULL;

inline Calculation Calc(CalcOp op, std::string column = "", double percentile = 0) {
  Calculation c;
  c.op = op;
  c.column = std::move(column);
  c.percentile = percentile;
  c.op_name = "calc";
  c.label = "calc";
  return c;
}

inline Filter F(std::string column, FilterOp op, std::vector<query::Literal> values = {}) {
  Filter f;
  f.column = std::move(column);
  f.op = op;
  f.values = std::move(values);
  return f;
}

inline QuerySpec Spec(std::vector<Calculation> calcs, std::vector<Filter> filters = {},
                      std::vector<std::string> breakdowns = {}) {
  QuerySpec spec;
  spec.start_unix_nano = kBase;
  spec.end_unix_nano = kBase + 60 * kSecond;
  spec.calculations = std::move(calcs);
  spec.filters = std::move(filters);
  spec.breakdowns = std::move(breakdowns);
  spec.granularity_seconds = 1;  // as ParseQuerySpec's default for a minute: (60 + 119) / 120
  spec.exact = true;
  return spec;
}

inline Status AppendInChunks(store::SpanStore& store, const std::string& env,
                             const model::SpanBatch& all, size_t chunk) {
  for (size_t begin = 0; begin < all.spans.size(); begin += chunk) {
    model::SpanBatch part;
    std::map<uint32_t, uint32_t> resources;
    for (size_t i = begin; i < std::min(all.spans.size(), begin + chunk); ++i) {
      const model::Span& s = all.spans[i];
      auto it = resources.find(s.resource_index);
      if (it == resources.end())
        it =
            resources.emplace(s.resource_index, part.CopyResourceFrom(all, s.resource_index)).first;
      const uint32_t scope = part.CopyScopeFrom(all, s.scope_index);
      part.CopySpanFrom(all, i, it->second, scope);
    }
    ARIADNE_RETURN_IF_ERROR(store.Append(env, std::move(part)));
  }
  return Status::Ok();
}

inline std::string ServiceOf(const model::SpanBatch& b, const model::Span& s) {
  return std::string(b.ServiceNameOf(s));
}

}  // namespace ariadne::testing::conformance
